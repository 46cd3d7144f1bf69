/* JSON text in C, shared by the hand-written C modules (transform_lambda/_native_rows.c,
 * stream_processor/firehose/_native_convert.c and _native_census.c): a growing output buffer, finding the bytes a JSON
 * string escapes eight at a time, and reading a JSON string's value as UTF-8 (or only its escapes).
 * Static functions, so each module gets its own copy (the readers inline, so a module without one
 * builds without a warning); include it after Python.h. */
#ifndef STREAM_PROCESSOR_JSON_TEXT_H
#define STREAM_PROCESSOR_JSON_TEXT_H

#include <stdint.h>
#include <string.h>

/* How Out buffers are allocated: Python's allocator, unless the module says otherwise before including
 * this (the twin's reader hands its buffers to Arrow, which may free them without the GIL). */
#ifndef OUT_REALLOC
#define OUT_REALLOC PyMem_Realloc
#define OUT_FREE PyMem_Free
#endif

/* A growing output buffer. */
typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Out;

/* Room for ``more`` bytes past o->len: 0, or -1 with MemoryError set. */
static int grow(Out *o, Py_ssize_t more) {
    if (more > PY_SSIZE_T_MAX - o->len) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t cap = o->cap < 256 ? 256 : o->cap;
    while (cap < o->len + more) cap = cap > PY_SSIZE_T_MAX / 2 ? o->len + more : cap * 2;
    char *buf = OUT_REALLOC(o->buf, (size_t)cap);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

static inline int reserve(Out *o, Py_ssize_t more) { return more <= o->cap - o->len ? 0 : grow(o, more); }

static inline int put(Out *o, const char *s, Py_ssize_t n) {
    if (n == 0) return 0; /* memcpy takes no null pointer (an empty buffer's), even for nothing */
    if (reserve(o, n) < 0) return -1;
    memcpy(o->buf + o->len, s, (size_t)n);
    o->len += n;
    return 0;
}

#define PUT_LITERAL(o, s) put((o), (s), (Py_ssize_t)(sizeof(s) - 1))

/* Whether a byte must be escaped in a JSON string (and ends a run of plain bytes when reading one):
 * '"', '\\' and the control characters below 0x20. */
static int needs_escape(unsigned char c) { return c < 0x20 || c == '"' || c == '\\'; }

#define ONES 0x0101010101010101ULL
#define HIGHS 0x8080808080808080ULL

/* A block of eight bytes' mask of those that needs_escape: a byte's high bit is set when it matches,
 * and the lowest set bit is always a match (only a matching byte below can carry a false one above
 * it), so on a little-endian machine it gives the first one's index. Bytes of 0x80 and up never
 * match. */
static inline uint64_t escape_mask(uint64_t x) {
    uint64_t quote = x ^ (ONES * '"'), backslash = x ^ (ONES * '\\');
    return (((x - ONES * 0x20) & ~x) | ((quote - ONES) & ~quote) | ((backslash - ONES) & ~backslash)) & HIGHS;
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FIRST_MATCH(mask) ((Py_ssize_t)(__builtin_ctzll(mask) >> 3))
#endif

/* The index of the first byte of p[i..n) that needs_escape, or n; eight bytes at a time. With
 * ``out``, the run is copied there as it goes: up to seven bytes past it may be written, but never
 * more than n - i bytes in all. Inlined, a null ``out`` leaves no trace of the copy. */
static inline Py_ssize_t scan_plain_run(const char *p, Py_ssize_t i, Py_ssize_t n, char *out) {
    const Py_ssize_t from = i;
    while (n - i >= 8) {
        uint64_t x;
        memcpy(&x, p + i, 8);
        if (out != NULL) memcpy(out + (i - from), &x, 8);
        uint64_t mask = escape_mask(x);
        if (mask != 0) {
#ifdef FIRST_MATCH
            return i + FIRST_MATCH(mask);
#else
            break;
#endif
        }
        i += 8;
    }
    for (; i < n && !needs_escape((unsigned char)p[i]); i++)
        if (out != NULL) out[i - from] = p[i];
    return i;
}

static inline Py_ssize_t plain_run(const char *p, Py_ssize_t i, Py_ssize_t n) { return scan_plain_run(p, i, n, NULL); }

static int is_json_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* The index of the first byte of p[i..n) that is not JSON whitespace, or n. */
static Py_ssize_t skip_space(const char *p, Py_ssize_t n, Py_ssize_t i) {
    while (i < n && is_json_space(p[i])) i++;
    return i;
}

/* The length of the run of ASCII digits at p. */
static Py_ssize_t digit_run(const char *p, Py_ssize_t n) {
    Py_ssize_t i = 0;
    while (i < n && p[i] >= '0' && p[i] <= '9') i++;
    return i;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static int read_hex4(const char *p, Py_ssize_t n, Py_ssize_t i, unsigned *value) {
    if (n - i < 4) return 0;
    unsigned v = 0;
    for (int k = 0; k < 4; k++) {
        int h = hex_value(p[i + k]);
        if (h < 0) return 0;
        v = v * 16 + (unsigned)h;
    }
    *value = v;
    return 1;
}

/* The escape at p[*at], just past its backslash: 1, *at past it and the code point it stands for (a
 * surrogate pair joined); 0 when json.loads and orjson do not read it alike (an unknown letter, a
 * short \u, a lone surrogate, which json.loads keeps and the row's encoding then replaces). */
static inline int read_escape(const char *p, Py_ssize_t n, Py_ssize_t *at, unsigned *code) {
    if (*at == n) return 0;
    switch (p[(*at)++]) {
    case '"': *code = '"'; return 1;
    case '\\': *code = '\\'; return 1;
    case '/': *code = '/'; return 1;
    case 'b': *code = '\b'; return 1;
    case 'f': *code = '\f'; return 1;
    case 'n': *code = '\n'; return 1;
    case 'r': *code = '\r'; return 1;
    case 't': *code = '\t'; return 1;
    case 'u': break;
    default: return 0;
    }
    unsigned low;
    if (!read_hex4(p, n, *at, code)) return 0;
    *at += 4;
    if (*code >= 0xDC00 && *code <= 0xDFFF) return 0;
    if (*code >= 0xD800 && *code <= 0xDBFF) {
        if (n - *at < 6 || p[*at] != '\\' || p[*at + 1] != 'u' || !read_hex4(p, n, *at + 2, &low) || low < 0xDC00 ||
            low > 0xDFFF)
            return 0;
        *at += 6;
        *code = 0x10000 + ((*code - 0xD800) << 10) + (low - 0xDC00);
    }
    return 1;
}

/* A JSON string at p[*i] (its opening quote) decoded as UTF-8 into the scratch buffer: 0 and *i
 * past the closing quote, -1 error set, 1 not usual (invalid for json.loads, or an escape read_escape
 * does not take). A value is never longer than its JSON text, so one reservation of the rest of the
 * text holds it, and plain runs are copied as they are scanned. */
static inline int read_json_string(const char *p, Py_ssize_t n, Py_ssize_t *i, Out *scratch, Py_ssize_t *start,
                                   Py_ssize_t *len) {
    Py_ssize_t at = *i + 1;
    if (at >= n) return 1; /* unterminated; and a reservation of nothing may leave no buffer */
    if (reserve(scratch, n - at) < 0) return -1;
    *start = scratch->len;
    char *w = scratch->buf + scratch->len; /* written: never more bytes than read past the quote */
    int status = 1;
    for (;;) {
        Py_ssize_t run = scan_plain_run(p, at, n, w);
        w += run - at;
        if (run == n || (unsigned char)p[run] < 0x20) break; /* unterminated, or a raw control character */
        at = run + 1;
        if (p[run] == '"') {
            status = 0;
            break;
        }
        unsigned code;
        if (!read_escape(p, n, &at, &code)) break;
        if (code < 0x80) { /* two to twelve bytes of text for at most four of UTF-8 */
            *w++ = (char)code;
        } else if (code < 0x800) {
            *w++ = (char)(0xC0 | code >> 6), *w++ = (char)(0x80 | (code & 0x3F));
        } else if (code < 0x10000) {
            *w++ = (char)(0xE0 | code >> 12), *w++ = (char)(0x80 | (code >> 6 & 0x3F)), *w++ = (char)(0x80 | (code & 0x3F));
        } else {
            *w++ = (char)(0xF0 | code >> 18), *w++ = (char)(0x80 | (code >> 12 & 0x3F));
            *w++ = (char)(0x80 | (code >> 6 & 0x3F)), *w++ = (char)(0x80 | (code & 0x3F));
        }
    }
    scratch->len = w - scratch->buf;
    if (status == 0) {
        *len = scratch->len - *start;
        *i = at;
    }
    return status;
}

/* A JSON string at p[*i] (its opening quote) as UTF-8 at *value, *len bytes: where it stands in the
 * text when it has no escape, else decoded into the scratch buffer, emptied first. Returns as
 * read_json_string. */
static inline int read_json_view(const char *p, Py_ssize_t n, Py_ssize_t *i, Out *scratch, const char **value,
                                 Py_ssize_t *len) {
    Py_ssize_t end = plain_run(p, *i + 1, n), start;
    if (end < n && p[end] == '"') {
        *value = p + *i + 1;
        *len = end - *i - 1;
        *i = end + 1;
        return 0;
    }
    scratch->len = 0;
    int status = read_json_string(p, n, i, scratch, &start, len);
    if (status == 0) *value = scratch->buf + start;
    return status;
}

#endif
