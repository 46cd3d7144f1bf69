/* Shape + encode stages, native (the compiled build only): a payload's rows as NDJSON in C.
 *
 * Input: a payload's log events and envelope, for a source this module knows. Output: the bytes the
 * Python path (transform.shape_events, then encode.encode_shaped_rows) writes for each event whose
 * row is the usual case the C knows to be usual; every other event is handed back, and the Python
 * path writes its row as it would without this module (transform_lambda/native_rows.py puts the rows
 * together in event order). So this module can only make a payload faster, never different:
 * tests/unit/test_native_rows.py holds it to the Python path, line shapes generated at random
 * included, and `make compiled` runs the transform's tests on it (x86_64 and arm64).
 * scripts/build-native.sh compiles it.
 *
 * The writers take (log_events, owner, log_group, log_stream, source, arrival_time) and return
 * (chunks, missing), see payload_rows. Usual, for every source: an event with a non-empty id, a
 * timestamp in 0..MAX_EPOCH_MS, no extracted fields, a message without lone surrogates, and:
 *   vpc_flow_rows: the default VPC Flow Logs format (parse/vpc_flow.py, DEFAULT_FIELDS), an ASCII
 *     message of 14 fields (Python's str.split()) that parses cleanly; "-" is an absent value.
 *   lambda_rows: Lambda function logs (parse/lambda_log.py): the START, END and REPORT lines in the
 *     spellings every runtime writes (lambda_platform's patterns), an XRAY line after them, and the
 *     Python runtime's "[LEVEL]\t<time>\t<request id>\t<message>" lines, and JSON application lines
 *     (Powertools) as json_rows reads them.
 *   apigateway_rows: API Gateway's JSON access log lines (parse/apigateway.py), as flat objects.
 *   json_rows: JSON log lines (parse/json_log.py) that are flat objects: members that are strings,
 *     integers of at most 18 digits, true, false or null, no key twice (read_flat_object); nested
 *     values, floats and anything json.loads would refuse are left to the Python path.
 *   text_rows: plain text (parse/plain.py) whose level a glog or syslog prefix gives, or an upper-case
 *     level word after a timestamp, or that holds no level word's stem at all; other lines need the
 *     level pattern and are left to the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_json_text.h"

#define VPC_FIELDS 14
#define MAX_EPOCH_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z: timefmt.MAX_EPOCH_MS */
#define MAX_EPOCH_S 253402300799ULL
#define BIGINT_MAX 9223372036854775807ULL
#define MAX_DIGITS 19 /* parse/numbers.py */
#define PORT_DIGITS 5

static const char HEX[] = "0123456789abcdef";

/* UTF-8 text as a JSON string, escaped as json.dumps(ensure_ascii=False) and orjson escape it:
 * '"', '\\', and the control characters below 0x20 (short forms where JSON has them). */
static int put_json_text(Out *o, const char *p, Py_ssize_t n) {
    if (n > (PY_SSIZE_T_MAX - 2) / 6 || reserve(o, n * 6 + 2) < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    char *w = o->buf + o->len;
    *w++ = '"';
    for (Py_ssize_t i = 0;;) {
        Py_ssize_t run = plain_run(p, i, n);
        memcpy(w, p + i, (size_t)(run - i));
        w += run - i;
        if (run == n) break;
        unsigned char c = (unsigned char)p[run];
        i = run + 1;
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        default:
            *w++ = 'u';
            *w++ = '0';
            *w++ = '0';
            *w++ = HEX[c >> 4];
            *w++ = HEX[c & 15];
        }
    }
    *w++ = '"';
    o->len = w - o->buf;
    return 0;
}

/* A str as a JSON string: 0 written, -1 error set, 1 not writable (a lone surrogate: the Python path
 * replaces it, so the payload goes there). */
static int put_json_str(Out *o, PyObject *s) {
    Py_ssize_t n;
    const char *p;
    if (PyUnicode_IS_ASCII(s)) {
        p = (const char *)PyUnicode_DATA(s);
        n = PyUnicode_GET_LENGTH(s);
    } else {
        p = PyUnicode_AsUTF8AndSize(s, &n);
        if (p == NULL) {
            if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
            PyErr_Clear();
            return 1;
        }
    }
    return put_json_text(o, p, n);
}

static int put_u64(Out *o, uint64_t v) {
    char digits[20];
    int k = (int)sizeof digits;
    do {
        digits[--k] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return put(o, digits + k, (Py_ssize_t)sizeof digits - k);
}

/* A decimal of at most 31 characters as Python's float(text) reads it and json
 * writes it (repr): 0 or -1. */
static int put_float_text(Out *o, const char *p, Py_ssize_t n) {
    char digits[32];
    if (n >= (Py_ssize_t)sizeof digits) {
        PyErr_SetString(PyExc_SystemError, "put_float_text: a decimal too long");
        return -1;
    }
    memcpy(digits, p, (size_t)n);
    digits[n] = '\0';
    double value = PyOS_string_to_double(digits, NULL, NULL);
    if (value == -1.0 && PyErr_Occurred()) return -1;
    char *spelled = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (spelled == NULL) return -1;
    int status = put(o, spelled, (Py_ssize_t)strlen(spelled));
    PyMem_Free(spelled);
    return status;
}

static void two_digits(char *w, int v) {
    w[0] = (char)('0' + v / 10);
    w[1] = (char)('0' + v % 10);
}

/* Epoch seconds (0..MAX_EPOCH_S) as yyyy-MM-ddTHH:mm:ss, as timefmt.second_prefix spells them (the
 * civil-from-days algorithm of H. Hinnant's "chrono-Compatible Low-Level Date Algorithms"). */
static void second_prefix(int64_t seconds, char out[19]) {
    int64_t days = seconds / 86400, of_day = seconds % 86400;
    int64_t z = days + 719468;
    int64_t era = z / 146097;
    int64_t day_of_era = z - era * 146097;
    int64_t year_of_era = (day_of_era - day_of_era / 1460 + day_of_era / 36524 - day_of_era / 146096) / 365;
    int64_t day_of_year = day_of_era - (365 * year_of_era + year_of_era / 4 - year_of_era / 100);
    int64_t mp = (5 * day_of_year + 2) / 153;
    int day = (int)(day_of_year - (153 * mp + 2) / 5 + 1);
    int month = (int)(mp < 10 ? mp + 3 : mp - 9);
    int year = (int)(year_of_era + era * 400 + (month <= 2));
    two_digits(out, year / 100);
    two_digits(out + 2, year % 100);
    out[4] = '-';
    two_digits(out + 5, month);
    out[7] = '-';
    two_digits(out + 8, day);
    out[10] = 'T';
    two_digits(out + 11, (int)(of_day / 3600));
    out[13] = ':';
    two_digits(out + 14, (int)(of_day / 60 % 60));
    out[16] = ':';
    two_digits(out + 17, (int)(of_day % 60));
}

/* What str.split() splits on, within ASCII. */
static int is_space(unsigned char c) { return c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f); }

/* An unsigned decimal of 1..max_len ASCII digits, at most high: 1 and *value, or 0. */
static int read_number(const char *p, Py_ssize_t n, Py_ssize_t max_len, uint64_t high, uint64_t *value) {
    if (n == 0 || n > max_len) return 0;
    uint64_t v = 0; /* 19 digits fit in 64 bits */
    for (Py_ssize_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9') return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    if (v > high) return 0;
    *value = v;
    return 1;
}

static int token_is(const char *p, Py_ssize_t n, const char *word) {
    if (n > 0 && p[0] != word[0]) return 0; /* most words differ in their first byte */
    size_t len = strlen(word);
    return (size_t)n == len && memcmp(p, word, len) == 0;
}

/* Whether a[0..n) starts with the NUL-terminated word. */
static int starts_with(const char *p, Py_ssize_t n, const char *word) {
    if (n > 0 && word[0] != '\0' && p[0] != word[0]) return 0;
    size_t len = strlen(word);
    return (size_t)n >= len && memcmp(p, word, len) == 0;
}

/* Where the NUL-terminated word first occurs in p[0..n), or -1 (str.find). */
static Py_ssize_t find(const char *p, Py_ssize_t n, const char *word) {
    Py_ssize_t len = (Py_ssize_t)strlen(word);
    for (Py_ssize_t i = 0; i + len <= n; i++) {
        const char *hit = memchr(p + i, word[0], (size_t)(n - len - i + 1));
        if (hit == NULL) return -1;
        i = hit - p;
        if (memcmp(hit, word, (size_t)len) == 0) return i;
    }
    return -1;
}

/* The length of the run of [0-9A-Za-z] (and '-' when dash) at p. */
static Py_ssize_t word_run(const char *p, Py_ssize_t n, int dash) {
    Py_ssize_t i = 0;
    for (; i < n; i++) {
        char c = p[i];
        if (!((c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (dash && c == '-'))) break;
    }
    return i;
}

static int all_ascii(const char *p, Py_ssize_t n) {
    for (Py_ssize_t i = 0; i < n; i++)
        if ((unsigned char)p[i] >= 0x80) return 0;
    return 1;
}

/* An event's message: UTF-8, without its trailing "\r" and "\n" (Python's rstrip("\r\n")). */
typedef struct {
    const char *text;
    Py_ssize_t len;
    int ascii;
} Message;

/* A source's parsed columns for one message, each written as `,"key":value` in the order its Python
 * parser puts them in its dict: 0 written, -1 error set, 1 not usual (the Python path writes the row). */
typedef struct Document Document;
typedef int (*ColumnWriter)(Out *o, const Message *m, Document *doc);

/* ---- VPC Flow Logs, default format (parse/vpc_flow.py) ---- */

/* The default format's fields after version and account-id, in order: the key each fills. Numbers
 * are fields 5-9, timestamps 10-11, ACCEPT/REJECT 12, the log status 13. */
static const char *const VPC_KEYS[VPC_FIELDS] = {
    NULL, NULL, ",\"interface_id\":", ",\"src_addr\":", ",\"dst_addr\":", ",\"src_port\":", ",\"dst_port\":",
    ",\"protocol\":", ",\"packets\":", ",\"bytes\":", ",\"flow_start\":", ",\"flow_end\":", ",\"action\":",
    ",\"log_status\":",
};
static const Py_ssize_t VPC_MAX_LEN[VPC_FIELDS] = {0, 0, 0, 0, 0, PORT_DIGITS, PORT_DIGITS, MAX_DIGITS, MAX_DIGITS,
                                                   MAX_DIGITS, MAX_DIGITS, MAX_DIGITS, 0, 0};
static const uint64_t VPC_HIGH[VPC_FIELDS] = {0, 0, 0, 0, 0, 65535, 65535, 255, BIGINT_MAX, BIGINT_MAX,
                                              MAX_EPOCH_S, MAX_EPOCH_S, 0, 0};

/* Usual: an ASCII message of 14 fields (Python's str.split(), which splits on more than ASCII
 * whitespace outside ASCII) that parses cleanly; "-" is an absent value as in Python. */
static int vpc_columns(Out *o, const Message *m, Document *doc) {
    (void)doc;
    if (!m->ascii) return 1;
    const char *text = m->text;
    Py_ssize_t len = m->len;
    const char *field[VPC_FIELDS];
    Py_ssize_t field_len[VPC_FIELDS];
    int count = 0;
    for (Py_ssize_t i = 0;;) {
        while (i < len && is_space((unsigned char)text[i])) i++;
        if (i == len) break;
        if (count == VPC_FIELDS) return 1;
        Py_ssize_t start = i;
        while (i < len && !is_space((unsigned char)text[i])) i++;
        field[count] = text + start;
        field_len[count++] = i - start;
    }
    if (count != VPC_FIELDS) return 1;
    /* The header line: its first field, without the "${}" around it, is "version". */
    const char *first = field[0];
    Py_ssize_t first_len = field_len[0];
    while (first_len > 0 && (first[0] == '$' || first[0] == '{' || first[0] == '}')) first++, first_len--;
    while (first_len > 0 && (first[first_len - 1] == '$' || first[first_len - 1] == '{' || first[first_len - 1] == '}'))
        first_len--;
    if (token_is(first, first_len, "version")) return 1;

    int absent[VPC_FIELDS];
    uint64_t number[VPC_FIELDS] = {0};
    for (int f = 0; f < VPC_FIELDS; f++) absent[f] = token_is(field[f], field_len[f], "-");
    for (int f = 5; f <= 11; f++)
        if (!absent[f] && !read_number(field[f], field_len[f], VPC_MAX_LEN[f], VPC_HIGH[f], &number[f])) return 1;
    if (!absent[12] && !token_is(field[12], field_len[12], "ACCEPT") && !token_is(field[12], field_len[12], "REJECT"))
        return 1;
    if (!absent[13] && !token_is(field[13], field_len[13], "OK") && !token_is(field[13], field_len[13], "NODATA") &&
        !token_is(field[13], field_len[13], "SKIPDATA"))
        return 1;

    char when[24];
    for (int f = 2; f < VPC_FIELDS; f++) {
        if (absent[f]) continue;
        int status;
        if (put(o, VPC_KEYS[f], (Py_ssize_t)strlen(VPC_KEYS[f])) < 0) return -1;
        if (f >= 5 && f <= 9) {
            status = put_u64(o, number[f]);
        } else if (f == 10 || f == 11) {
            second_prefix((int64_t)number[f], when);
            memcpy(when + 19, ".000Z", 5);
            status = put_json_text(o, when, 24);
        } else {
            status = put_json_text(o, field[f], field_len[f]);
        }
        if (status < 0) return -1;
    }
    if (!absent[0] || !absent[1]) { /* version and account-id go to fields */
        if (PUT_LITERAL(o, ",\"fields\":{") < 0) return -1;
        if (!absent[0] && (PUT_LITERAL(o, "\"version\":") < 0 || put_json_text(o, field[0], field_len[0]) < 0)) return -1;
        if (!absent[1] && ((!absent[0] && PUT_LITERAL(o, ",") < 0) || PUT_LITERAL(o, "\"account_id\":") < 0 ||
                           put_json_text(o, field[1], field_len[1]) < 0))
            return -1;
        if (PUT_LITERAL(o, "}") < 0) return -1;
    }
    return 0;
}

/* ---- Levels (parse/levels.py) ---- */

/* levels._ALIASES: a level's spellings, upper case, and the level each means. */
static const char *const LEVEL_ALIASES[][2] = {
    {"TRACE", "TRACE"},  {"FINEST", "TRACE"}, {"FINER", "TRACE"},      {"DEBUG", "DEBUG"},
    {"DBG", "DEBUG"},    {"FINE", "DEBUG"},   {"INFO", "INFO"},        {"INF", "INFO"},
    {"INFORMATION", "INFO"}, {"INFORMATIONAL", "INFO"}, {"NOTICE", "INFO"}, {"WARN", "WARN"},
    {"WARNING", "WARN"}, {"WRN", "WARN"},     {"ERROR", "ERROR"},      {"ERR", "ERROR"},
    {"SEVERE", "ERROR"}, {"FATAL", "FATAL"},  {"CRITICAL", "FATAL"},   {"CRIT", "FATAL"},
    {"PANIC", "FATAL"},  {"DPANIC", "FATAL"}, {"EMERG", "FATAL"},      {"EMERGENCY", "FATAL"},
    {"ALERT", "FATAL"},
};

/* levels.normalize_level on ASCII text (strip, upper, look up), or NULL. */
static const char *level_of(const char *p, Py_ssize_t n) {
    while (n > 0 && is_space((unsigned char)p[0])) p++, n--;
    while (n > 0 && is_space((unsigned char)p[n - 1])) n--;
    char upper[16];
    if (n == 0 || n >= (Py_ssize_t)sizeof upper) return NULL;
    for (Py_ssize_t i = 0; i < n; i++) upper[i] = (char)(p[i] >= 'a' && p[i] <= 'z' ? p[i] - 32 : p[i]);
    for (size_t a = 0; a < sizeof LEVEL_ALIASES / sizeof LEVEL_ALIASES[0]; a++)
        if (token_is(upper, n, LEVEL_ALIASES[a][0])) return LEVEL_ALIASES[a][1];
    return NULL;
}

/* ---- JSON lines: a strict reader of flat objects (json.loads' reading of them, or not usual) ---- */

#define JSON_MEMBERS 48
#define JSON_INT_DIGITS 18

enum { JSON_STR, JSON_INT, JSON_TRUE, JSON_FALSE, JSON_NULL };

/* One member of an object; strings are decoded into the document's scratch buffer. */
typedef struct {
    Py_ssize_t key, key_len; /* in scratch */
    int kind;
    Py_ssize_t value, value_len; /* a string: in scratch; an int: its text in the message */
    int64_t number;
} Member;

/* A JSON line's members; one per payload, its scratch buffer reused from line to line. */
struct Document {
    Member member[JSON_MEMBERS];
    int count;
    Out scratch;
};

/* A message that is one JSON object of at most JSON_MEMBERS members, each a string, an integer of
 * at most JSON_INT_DIGITS digits, true, false or null, no key twice: 0 and doc filled, -1 error
 * set, 1 not usual (anything else, valid JSON or not: the Python path decides). */
static int read_flat_object(const Message *m, Document *doc) {
    const char *p = m->text;
    Py_ssize_t n = m->len, i = 1;
    doc->count = 0;
    doc->scratch.len = 0;
    if (n == 0 || p[0] != '{') return 1;
    i = skip_space(p, n, i);
    if (i < n && p[i] == '}') {
        i++;
    } else {
        for (;;) {
            if (doc->count == JSON_MEMBERS || i == n || p[i] != '"') return 1;
            Member *member = &doc->member[doc->count];
            int status = read_json_string(p, n, &i, &doc->scratch, &member->key, &member->key_len);
            if (status != 0) return status;
            for (int k = 0; k < doc->count; k++) /* a key twice: json.loads keeps the last value */
                if (doc->member[k].key_len == member->key_len &&
                    memcmp(doc->scratch.buf + doc->member[k].key, doc->scratch.buf + member->key, (size_t)member->key_len) == 0)
                    return 1;
            i = skip_space(p, n, i);
            if (i == n || p[i] != ':') return 1;
            i = skip_space(p, n, i + 1);
            if (i == n) return 1;
            if (p[i] == '"') {
                member->kind = JSON_STR;
                if ((status = read_json_string(p, n, &i, &doc->scratch, &member->value, &member->value_len)) != 0)
                    return status;
            } else if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9')) {
                Py_ssize_t start = i, digits;
                if (p[i] == '-') i++;
                digits = digit_run(p + i, n - i);
                if (digits < 1 || digits > JSON_INT_DIGITS || (digits > 1 && p[i] == '0')) return 1;
                int64_t value = 0;
                for (Py_ssize_t k = 0; k < digits; k++) value = value * 10 + (p[i + k] - '0');
                i += digits; /* a float's '.' or exponent then stops the object below: not usual */
                member->kind = JSON_INT;
                member->number = p[start] == '-' ? -value : value;
                member->value = start;
                member->value_len = i - start;
            } else if (starts_with(p + i, n - i, "true")) {
                member->kind = JSON_TRUE, i += 4;
            } else if (starts_with(p + i, n - i, "false")) {
                member->kind = JSON_FALSE, i += 5;
            } else if (starts_with(p + i, n - i, "null")) {
                member->kind = JSON_NULL, i += 4;
            } else {
                return 1; /* an object, an array, NaN, Infinity or not JSON */
            }
            doc->count++;
            i = skip_space(p, n, i);
            if (i == n) return 1;
            if (p[i] == '}') {
                i++;
                break;
            }
            if (p[i] != ',') return 1;
            i = skip_space(p, n, i + 1);
        }
    }
    return skip_space(p, n, i) == n ? 0 : 1;
}

static const char *key_of(const Document *doc, const Member *member) { return doc->scratch.buf + member->key; }
static const char *text_of(const Document *doc, const Member *member) { return doc->scratch.buf + member->value; }

static int key_is(const Document *doc, const Member *member, const char *word) {
    return token_is(key_of(doc, member), member->key_len, word);
}

/* Which of the words the key is: its index, or -1. */
static int key_index(const Document *doc, const Member *member, const char *const *words, int count) {
    for (int w = 0; w < count; w++)
        if (key_is(doc, member, words[w])) return w;
    return -1;
}

/* The member's value as json_log.to_field_string renders it (strings as they are): 0 or -1. */
static int put_field_value(Out *o, const Document *doc, const Member *member, const Message *m) {
    switch (member->kind) {
    case JSON_STR: return put_json_text(o, text_of(doc, member), member->value_len);
    case JSON_TRUE: return PUT_LITERAL(o, "\"true\"");
    case JSON_FALSE: return PUT_LITERAL(o, "\"false\"");
    default: { /* an int: str(int), which spells -0 as 0 */
        const char *text = m->text + member->value;
        Py_ssize_t len = member->value_len;
        if (member->number == 0) text = "0", len = 1;
        return PUT_LITERAL(o, "\"") < 0 || put(o, text, len) < 0 || PUT_LITERAL(o, "\"") < 0 ? -1 : 0;
    }
    }
}

/* `,"fields":{...}` of the listed members (none: nothing), keys as they are. */
static int put_fields(Out *o, const Document *doc, const int *listed, int count, const Message *m) {
    if (count == 0) return 0;
    if (PUT_LITERAL(o, ",\"fields\":{") < 0) return -1;
    for (int f = 0; f < count; f++) {
        const Member *member = &doc->member[listed[f]];
        if ((f > 0 && PUT_LITERAL(o, ",") < 0) || put_json_text(o, key_of(doc, member), member->key_len) < 0 ||
            PUT_LITERAL(o, ":") < 0 || put_field_value(o, doc, member, m) < 0)
            return -1;
    }
    return PUT_LITERAL(o, "}");
}

/* json_log._KEY_COLUMNS: the keys of level, request_id and trace_id. */
static const char *const LEVEL_KEYS[] = {"level", "severity", "lvl", "loglevel", "log_level", "levelname", "log.level"};
static const char *const REQUEST_KEYS[] = {"request_id", "requestId", "requestID", "reqId", "req_id",
                                           "aws_request_id", "awsRequestId", "function_request_id"};
static const char *const TRACE_KEYS[] = {"trace_id", "traceId", "traceID", "xray_trace_id", "xrayTraceId", "trace.id",
                                         "dd.trace_id"};
#define COUNT(words) ((int)(sizeof(words) / sizeof((words)[0])))

/* levels._NUMERIC: pino and bunyan level numbers. */
static const char *numeric_level(int64_t value) {
    switch (value) {
    case 10: return "TRACE";
    case 20: return "DEBUG";
    case 30: return "INFO";
    case 40: return "WARN";
    case 50: return "ERROR";
    case 60: return "FATAL";
    default: return NULL;
    }
}

/* json_log.columns_from_json on a flat document: level, request_id and trace_id from the first of
 * their keys with a usable value, everything else but nulls into fields. 0, -1, or 1 for a level
 * string outside ASCII (Python's strip() and upper() reach past ASCII). */
static int json_log_columns(Out *o, const Document *doc, const Message *m) {
    int listed[JSON_MEMBERS], count = 0, have_level = 0, have_request = 0, have_trace = 0;
    for (int k = 0; k < doc->count; k++) {
        const Member *member = &doc->member[k];
        if (!have_level && key_index(doc, member, LEVEL_KEYS, COUNT(LEVEL_KEYS)) >= 0) {
            const char *level = NULL;
            if (member->kind == JSON_STR) {
                if (!all_ascii(text_of(doc, member), member->value_len)) return 1;
                level = level_of(text_of(doc, member), member->value_len);
            } else if (member->kind == JSON_INT) {
                level = numeric_level(member->number);
            }
            if (level != NULL) {
                have_level = 1;
                if (PUT_LITERAL(o, ",\"level\":") < 0 || put_json_text(o, level, (Py_ssize_t)strlen(level)) < 0) return -1;
                continue;
            }
        } else {
            int request = !have_request && key_index(doc, member, REQUEST_KEYS, COUNT(REQUEST_KEYS)) >= 0;
            int trace = !request && !have_trace && key_index(doc, member, TRACE_KEYS, COUNT(TRACE_KEYS)) >= 0;
            if ((request || trace) && member->kind == JSON_STR && member->value_len > 0) {
                have_request |= request;
                have_trace |= trace;
                if ((request ? PUT_LITERAL(o, ",\"request_id\":") : PUT_LITERAL(o, ",\"trace_id\":")) < 0 ||
                    put_json_text(o, text_of(doc, member), member->value_len) < 0)
                    return -1;
                continue;
            }
        }
        if (member->kind != JSON_NULL) listed[count++] = k;
    }
    return put_fields(o, doc, listed, count, m);
}

/* parse_json_log: one JSON object per line. */
static int json_columns(Out *o, const Message *m, Document *doc) {
    int status = read_flat_object(m, doc);
    return status != 0 ? status : json_log_columns(o, doc, m);
}

/* ---- API Gateway access logs, JSON (parse/apigateway.py) ---- */

enum { API_STRING, API_INT, API_BIGINT, API_DOUBLE };

/* apigateway._JSON_COLUMNS: key -> column, in two arrays, and the column's kind. */
static const char *const API_KEYS[] = {"requestId", "ip", "sourceIp", "sourceIP", "httpMethod", "resourcePath", "path",
                                       "status", "responseLength", "responseLatency", "latency", "integrationLatency",
                                       "xrayTraceId"};
static const char *const API_COLUMNS[] = {"request_id", "source_ip", "source_ip", "source_ip", "http_method", "route",
                                          "path", "status_code", "response_length", "latency_ms", "latency_ms",
                                          "integration_latency_ms", "trace_id"};
static const int API_KINDS[] = {API_STRING, API_STRING, API_STRING, API_STRING, API_STRING, API_STRING, API_STRING,
                                API_INT, API_BIGINT, API_DOUBLE, API_DOUBLE, API_DOUBLE, API_STRING};
#define API_COLUMN_COUNT COUNT(API_KEYS)
#define INT_MAX_VALUE 2147483647LL
#define MAX_SAFE_INT 9007199254740992LL /* 2**53: numbers.json_to_float */

/* `,"column":` */
static int put_key(Out *o, const char *column) {
    return PUT_LITERAL(o, ",\"") < 0 || put(o, column, (Py_ssize_t)strlen(column)) < 0 || PUT_LITERAL(o, "\":") < 0 ? -1
                                                                                                                   : 0;
}

/* numbers.text_to_float on ASCII text: digits, at most one point with digits after it. 1 usual and
 * the span, 0 not a number (Python leaves it to fields), -1 too long for this reader: not usual. */
static int float_text(const char *p, Py_ssize_t n) {
    Py_ssize_t whole = digit_run(p, n);
    if (whole == 0) return 0;
    if (whole < n) {
        if (p[whole] != '.') return 0;
        Py_ssize_t fraction = digit_run(p + whole + 1, n - whole - 1);
        if (fraction == 0 || whole + 1 + fraction != n) return 0;
    }
    return n <= 31 ? 1 : -1;
}

/* The typed value of a column of API_INT, API_BIGINT or API_DOUBLE: 0 written, 2 not a value of the
 * column (to fields), 1 not usual, -1 error set. */
static int put_api_number(Out *o, const char *column, int kind, const Document *doc, const Member *member) {
    if (member->kind == JSON_INT) {
        int64_t v = member->number;
        if (kind == API_DOUBLE) {
            if (v < 0 || v > MAX_SAFE_INT) return 2;
            /* repr(float(v)): the digits and ".0" below 1e16, which MAX_SAFE_INT is */
            return put_key(o, column) < 0 || put_u64(o, (uint64_t)v) < 0 || PUT_LITERAL(o, ".0") < 0 ? -1 : 0;
        }
        if (v < 0 || (kind == API_INT && v > INT_MAX_VALUE)) return 2;
        return put_key(o, column) < 0 || put_u64(o, (uint64_t)v) < 0 ? -1 : 0;
    }
    if (member->kind != JSON_STR) return 2; /* true, false */
    const char *text = text_of(doc, member);
    Py_ssize_t len = member->value_len;
    if (kind == API_DOUBLE) {
        int usual = float_text(text, len);
        if (usual <= 0) return usual == 0 ? 2 : 1;
        return put_key(o, column) < 0 || put_float_text(o, text, len) < 0 ? -1 : 0;
    }
    uint64_t value; /* numbers.text_to_int */
    if (!read_number(text, len, MAX_DIGITS, kind == API_INT ? (uint64_t)INT_MAX_VALUE : BIGINT_MAX, &value)) return 2;
    return put_key(o, column) < 0 || put_u64(o, value) < 0 ? -1 : 0;
}

/* Whether a key filling the column has filled it (several keys fill source_ip and latency_ms). */
static int column_filled(const int *have, const char *column) {
    for (int c = 0; c < API_COLUMN_COUNT; c++)
        if (have[c] && strcmp(API_COLUMNS[c], column) == 0) return 1;
    return 0;
}

/* apigateway._parse_json on a flat document: 0, -1 or 1. */
static int apigateway_columns(Out *o, const Message *m, Document *doc) {
    int status = read_flat_object(m, doc);
    if (status != 0) return status;
    int listed[JSON_MEMBERS], count = 0, have[API_COLUMN_COUNT] = {0}, route_key = -1;
    for (int k = 0; k < doc->count; k++) {
        const Member *member = &doc->member[k];
        if (member->kind == JSON_NULL) continue;
        if (member->kind == JSON_STR &&
            (member->value_len == 0 || token_is(text_of(doc, member), member->value_len, "-")))
            continue; /* absent */
        if (key_is(doc, member, "routeKey") && member->kind == JSON_STR) route_key = k;
        int c = key_index(doc, member, API_KEYS, API_COLUMN_COUNT);
        if (c >= 0 && !column_filled(have, API_COLUMNS[c])) {
            const char *column = API_COLUMNS[c];
            if (API_KINDS[c] == API_STRING) {
                if (member->kind == JSON_STR) {
                    if (put_key(o, column) < 0 || put_json_text(o, text_of(doc, member), member->value_len) < 0)
                        return -1;
                    have[c] = 1;
                    continue;
                }
            } else {
                status = put_api_number(o, column, API_KINDS[c], doc, member);
                if (status == 0) {
                    have[c] = 1;
                    continue;
                }
                if (status != 2) return status;
            }
        }
        listed[count++] = k;
    }
    if (route_key >= 0) { /* "GET /pets/{id}" -> route "/pets/{id}", method GET (not ANY); "$default" as is */
        const Member *member = &doc->member[route_key];
        const char *text = text_of(doc, member);
        Py_ssize_t len = member->value_len, space = find(text, len, " ");
        if (!column_filled(have, "route")) {
            const char *route = space >= 0 ? text + space + 1 : text;
            Py_ssize_t route_len = space >= 0 ? len - space - 1 : len;
            if (put_key(o, "route") < 0 || put_json_text(o, route, route_len) < 0) return -1;
        }
        if (space >= 0 && !column_filled(have, "http_method") && !token_is(text, space, "ANY") &&
            (put_key(o, "http_method") < 0 || put_json_text(o, text, space) < 0))
            return -1;
    }
    return put_fields(o, doc, listed, count, m);
}

static int apigateway_json_columns(Out *o, const Message *m, Document *doc) {
    return m->len > 0 && m->text[0] == '{' ? apigateway_columns(o, m, doc) : 1; /* CLF lines: Python */
}

/* ---- Lambda function logs (parse/lambda_log.py, parse/lambda_platform.py) ---- */

/* A traced function's "XRAY TraceId: <id>\tSegmentId: <id>\tSampled: <true|false>\t" line. */
typedef struct {
    const char *trace, *segment, *sampled;
    Py_ssize_t trace_len, segment_len, sampled_len;
} Xray;

/* lambda_platform._XRAY_LINE.fullmatch(line): 1 and x filled, or 0. */
static int xray_line(const char *p, Py_ssize_t n, Xray *x) {
    Py_ssize_t i = 14, k; /* "XRAY TraceId: " */
    if (!starts_with(p, n, "XRAY TraceId: ")) return 0;
    if ((k = word_run(p + i, n - i, 1)) < 1 || k > 64) return 0;
    x->trace = p + i, x->trace_len = k, i += k;
    if (!starts_with(p + i, n - i, "\tSegmentId: ")) return 0;
    i += 12;
    if ((k = word_run(p + i, n - i, 0)) < 1 || k > 64) return 0;
    x->segment = p + i, x->segment_len = k, i += k;
    if (!starts_with(p + i, n - i, "\tSampled: ")) return 0;
    i += 10;
    k = starts_with(p + i, n - i, "true") ? 4 : starts_with(p + i, n - i, "false") ? 5 : 0;
    if (k == 0) return 0;
    x->sampled = p + i, x->sampled_len = k, i += k;
    if (i < n && p[i] == '\t') i++;
    return i == n;
}

/* The lines after a platform line's first, as parse_platform_text reads them: lines not starting
 * with "XRAY " are ignored; one usual XRAY line fills x; any other XRAY line is not usual (Python
 * reads it pair by pair): 0 or 1. */
static int xray_lines(const char *p, Py_ssize_t n, Xray *x) {
    for (Py_ssize_t i = 0;;) {
        const char *newline = memchr(p + i, '\n', (size_t)(n - i));
        Py_ssize_t end = newline != NULL ? newline - p : n;
        if (starts_with(p + i, end - i, "XRAY ") && (x->trace != NULL || !xray_line(p + i, end - i, x))) return 1;
        if (newline == NULL) return 0;
        i = end + 1;
    }
}

/* `,"trace_id":...` when there is an XRAY line, then `,"fields":{"type":<word>` and the pairs
 * before the XRAY line's, then the XRAY line's and `}`: what every platform line ends with. */
static int put_platform_fields(Out *o, const Xray *x, const char *word, const char *version, Py_ssize_t version_len) {
    if (x->trace != NULL && (PUT_LITERAL(o, ",\"trace_id\":") < 0 || put_json_text(o, x->trace, x->trace_len) < 0))
        return -1;
    if (PUT_LITERAL(o, ",\"fields\":{\"type\":") < 0 || put_json_text(o, word, (Py_ssize_t)strlen(word)) < 0) return -1;
    if (version_len > 0 && (PUT_LITERAL(o, ",\"version\":") < 0 || put_json_text(o, version, version_len) < 0))
        return -1;
    if (x->trace != NULL &&
        (PUT_LITERAL(o, ",\"segment_id\":") < 0 || put_json_text(o, x->segment, x->segment_len) < 0 ||
         PUT_LITERAL(o, ",\"sampled\":") < 0 || put_json_text(o, x->sampled, x->sampled_len) < 0))
        return -1;
    return PUT_LITERAL(o, "}");
}

/* `\d{1,15}(?:\.\d{1,15})?` at p: its length, or 0. */
static Py_ssize_t decimal_run(const char *p, Py_ssize_t n) {
    Py_ssize_t whole = digit_run(p, n);
    if (whole < 1 || whole > 15) return 0;
    if (whole == n || p[whole] != '.') return whole;
    Py_ssize_t fraction = digit_run(p + whole + 1, n - whole - 1);
    return fraction >= 1 && fraction <= 15 ? whole + 1 + fraction : 0;
}

/* Reads `<label><run><unit>` at p[*i], advancing *i; the run's start and length, or 0. */
static Py_ssize_t labelled(const char *p, Py_ssize_t n, Py_ssize_t *i, const char *label, int decimal, Py_ssize_t max,
                           const char *unit, const char **start) {
    if (!starts_with(p + *i, n - *i, label)) return 0;
    *i += (Py_ssize_t)strlen(label);
    Py_ssize_t k = decimal ? decimal_run(p + *i, n - *i) : digit_run(p + *i, n - *i);
    if (k < 1 || k > max || !starts_with(p + *i + k, n - *i - k, unit)) return 0;
    *start = p + *i;
    *i += k + (Py_ssize_t)strlen(unit);
    return k;
}

static int put_int_text(Out *o, const char *p, Py_ssize_t n) { /* up to 18 digits: int(text) */
    uint64_t value = 0;
    for (Py_ssize_t i = 0; i < n; i++) value = value * 10 + (uint64_t)(p[i] - '0');
    return put_u64(o, value);
}

/* The usual REPORT line (lambda_platform._REPORT_LINE.fullmatch): its typed columns. */
static int report_columns(Out *o, const char *p, Py_ssize_t n) {
    Py_ssize_t i = 18, id = word_run(p + i, n - i, 1); /* "REPORT RequestId: " */
    const char *request = p + i, *duration, *billed, *memory, *used, *init = NULL;
    Py_ssize_t duration_len, billed_len, memory_len, used_len, init_len = 0;
    if (id < 1 || id > 64) return 1;
    i += id;
    if (!(duration_len = labelled(p, n, &i, "\tDuration: ", 1, 31, " ms", &duration)) ||
        !(billed_len = labelled(p, n, &i, "\tBilled Duration: ", 0, 18, " ms", &billed)) ||
        !(memory_len = labelled(p, n, &i, "\tMemory Size: ", 0, 9, " MB", &memory)) ||
        !(used_len = labelled(p, n, &i, "\tMax Memory Used: ", 0, 9, " MB", &used)))
        return 1;
    if (!(i == n || (i + 1 == n && p[i] == '\t'))) {
        if (!(init_len = labelled(p, n, &i, "\tInit Duration: ", 1, 31, " ms", &init))) return 1;
        if (!(i == n || (i + 1 == n && p[i] == '\t'))) return 1;
    }
    if (PUT_LITERAL(o, ",\"request_id\":") < 0 || put_json_text(o, request, id) < 0 ||
        PUT_LITERAL(o, ",\"duration_ms\":") < 0 || put_float_text(o, duration, duration_len) < 0 ||
        PUT_LITERAL(o, ",\"billed_duration_ms\":") < 0 || put_int_text(o, billed, billed_len) < 0 ||
        PUT_LITERAL(o, ",\"memory_size_mb\":") < 0 || put_int_text(o, memory, memory_len) < 0 ||
        PUT_LITERAL(o, ",\"max_memory_used_mb\":") < 0 || put_int_text(o, used, used_len) < 0)
        return -1;
    if (init != NULL && (PUT_LITERAL(o, ",\"init_duration_ms\":") < 0 || put_float_text(o, init, init_len) < 0))
        return -1;
    return 0;
}

/* The START, END and REPORT lines every invocation writes (parse_platform_text): 0, -1 or 1. */
static int platform_columns(Out *o, const Message *m, const char *word) {
    const char *p = m->text;
    const char *newline = memchr(p, '\n', (size_t)m->len);
    Py_ssize_t n = newline != NULL ? newline - p : m->len; /* the first line */
    Xray x = {NULL, NULL, NULL, 0, 0, 0};
    if (newline != NULL && xray_lines(newline + 1, m->len - n - 1, &x)) return 1;
    const char *version = NULL;
    Py_ssize_t version_len = 0;
    int status;
    if (word[0] == 'S') { /* "START RequestId: <id> Version: <version>", anything in either */
        const char *request = p + 17;
        Py_ssize_t request_len = n - 17, at = find(request, request_len, " Version: ");
        if (at >= 0) {
            version = request + at + 10;
            version_len = request_len - at - 10;
            request_len = at;
        }
        if (request_len > 0 && (PUT_LITERAL(o, ",\"request_id\":") < 0 || put_json_text(o, request, request_len) < 0))
            return -1;
    } else if (word[0] == 'E') { /* lambda_platform._END_LINE.fullmatch */
        Py_ssize_t id = word_run(p + 15, n - 15, 1);
        if (id < 1 || id > 64 || 15 + id != n) return 1;
        if (PUT_LITERAL(o, ",\"request_id\":") < 0 || put_json_text(o, p + 15, id) < 0) return -1;
    } else if ((status = report_columns(o, p, n)) != 0) {
        return status;
    }
    return put_platform_fields(o, &x, word, version, version_len);
}

/* lambda_log._is_iso_time on ASCII text. */
static int is_iso_time(const char *p, Py_ssize_t n) {
    return n >= 20 && p[4] == '-' && p[10] == 'T' && p[n - 1] == 'Z' && digit_run(p, 4) == 4;
}

/* lambda_log._is_request_id on ASCII text. */
static int is_request_id(const char *p, Py_ssize_t n) {
    return n == 36 && p[8] == '-' && p[13] == '-' && p[18] == '-' && p[23] == '-';
}

/* The Python runtime's "[LEVEL]\t<time>\t<request id>\t<message>" (lambda_log._python_line), when
 * its first three parts are ASCII. */
static int python_line_columns(Out *o, const Message *m) {
    const char *p = m->text;
    Py_ssize_t tab[3], at = 0;
    for (int t = 0; t < 3; t++) {
        const char *hit = memchr(p + at, '\t', (size_t)(m->len - at));
        if (hit == NULL) return 1;
        tab[t] = hit - p;
        at = tab[t] + 1;
    }
    if (!m->ascii && !all_ascii(p, tab[2])) return 1;
    if (tab[0] < 2 || p[tab[0] - 1] != ']' || !is_iso_time(p + tab[0] + 1, tab[1] - tab[0] - 1)) return 1;
    const char *level = level_of(p + 1, tab[0] - 2);
    if (level != NULL && (PUT_LITERAL(o, ",\"level\":") < 0 || put_json_text(o, level, (Py_ssize_t)strlen(level)) < 0))
        return -1;
    const char *request = p + tab[1] + 1;
    Py_ssize_t request_len = tab[2] - tab[1] - 1;
    if (is_request_id(request, request_len) &&
        (PUT_LITERAL(o, ",\"request_id\":") < 0 || put_json_text(o, request, request_len) < 0))
        return -1;
    return 0;
}

/* Usual: the START, END and REPORT lines of every invocation (an XRAY line after them included), the
 * Python runtime's application lines and flat JSON application lines (Powertools). Other platform
 * lines, the Node runtime's lines and print output are left to the Python path. */
static int lambda_columns(Out *o, const Message *m, Document *doc) {
    const char *p = m->text;
    Py_ssize_t n = m->len;
    if (n == 0) return 1;
    if (p[0] == '{') { /* the JSON log format's application lines, Powertools' */
        int status = read_flat_object(m, doc);
        if (status != 0) return status;
        for (int k = 0; k < doc->count; k++) /* a platform.* line of the JSON log format */
            if (key_is(doc, &doc->member[k], "type") && doc->member[k].kind == JSON_STR &&
                starts_with(text_of(doc, &doc->member[k]), doc->member[k].value_len, "platform."))
                return 1;
        return json_log_columns(o, doc, m);
    }
    if (p[0] == '[') return python_line_columns(o, m);
    if (starts_with(p, n, "START RequestId: ")) return platform_columns(o, m, "START");
    if (starts_with(p, n, "END RequestId: ")) return platform_columns(o, m, "END");
    if (starts_with(p, n, "REPORT RequestId: ")) return platform_columns(o, m, "REPORT");
    return 1;
}

/* ---- Plain text (parse/plain.py): the level of a line, where no pattern is needed ---- */

#define SCAN_PREFIX 160 /* plain._SCAN_PREFIX */

/* plain._UPPER_WORDS */
static const char *const UPPER_WORDS[] = {"TRACE", "DEBUG",    "INFO",   "NOTICE", "WARN", "WARNING",
                                          "ERROR", "CRITICAL", "SEVERE", "PANIC",  "FATAL"};
/* plain._STEMS: every level word holds one. */
static const char *const STEMS[] = {"trac", "debu", "dbg",   "inf",   "notice", "warn", "err",
                                    "fatal", "crit", "sever", "panic", "emerg",  "alert"};
/* levels.SYSLOG_SEVERITIES */
static const char *const SYSLOG_LEVELS[8] = {"FATAL", "FATAL", "FATAL", "ERROR", "WARN", "INFO", "INFO", "DEBUG"};

/* Whether c is one of the characters of set (strchr alone would also find the NUL ending it). */
static int is_one_of(char c, const char *set) { return c != '\0' && strchr(set, c) != NULL; }

static int is_timestamp_char(char c) { return (c >= '0' && c <= '9') || is_one_of(c, "-:.,TZ+"); }

/* plain._prefix_level: glog's "Lmmdd hh:mm:ss" or a syslog <PRI>. NULL for none; *unusual when the
 * first characters are not ASCII (Python's isdigit() and indexing reach past ASCII). */
static const char *prefix_level(const char *p, Py_ssize_t n, int *unusual) {
    Py_ssize_t head = n < 9 ? n : 9;
    if (n > 0 && is_one_of(p[0], "IWEF<") && !all_ascii(p, head)) {
        *unusual = 1;
        return NULL;
    }
    if (n >= 9 && is_one_of(p[0], "IWEF") && p[5] == ' ' && p[8] == ':' && digit_run(p + 1, 4) == 4)
        return p[0] == 'I' ? "INFO" : p[0] == 'W' ? "WARN" : p[0] == 'E' ? "ERROR" : "FATAL";
    if (n > 0 && p[0] == '<') {
        Py_ssize_t end = 1;
        while (end < head && end < 5 && p[end] != '>') end++;
        if (end < 5 && end < n && p[end] == '>' && end > 1 && digit_run(p + 1, end - 1) == end - 1) {
            int pri = 0;
            for (Py_ssize_t k = 1; k < end; k++) pri = pri * 10 + (p[k] - '0');
            if (pri <= 191) return SYSLOG_LEVELS[pri % 8];
        }
    }
    return NULL;
}

/* plain._level_after_timestamp: an upper-case level word as the second or third whitespace-separated
 * token of the first SCAN_PREFIX characters, after tokens of timestamp characters only. NULL for
 * none; *unusual when a token it looks at is not ASCII. */
static const char *level_after_timestamp(const char *p, Py_ssize_t n, int *unusual) {
    Py_ssize_t end = n < SCAN_PREFIX ? n : SCAN_PREFIX, i = 0;
    for (int index = 0; index < 3; index++) {
        while (i < end && is_space((unsigned char)p[i])) i++;
        Py_ssize_t start = i;
        while (i < end && !is_space((unsigned char)p[i])) {
            if ((unsigned char)p[i] >= 0x80) {
                *unusual = 1;
                return NULL;
            }
            i++;
        }
        if (i == start) return NULL; /* fewer tokens */
        if (index > 0) {
            for (int w = 0; w < COUNT(UPPER_WORDS); w++)
                if (token_is(p + start, i - start, UPPER_WORDS[w])) return level_of(p + start, i - start);
        }
        if (index == 2) return NULL;
        for (Py_ssize_t k = start; k < i; k++)
            if (!is_timestamp_char(p[k])) return NULL;
    }
    return NULL;
}

/* Whether the first SCAN_PREFIX characters, lower-cased, hold a level word's stem: 1, 0, or -1 when
 * they are not ASCII (lower() reaches past ASCII: "K", the Kelvin sign, lower-cases to "k"). */
static int has_stem(const char *p, Py_ssize_t n) {
    Py_ssize_t end = n < SCAN_PREFIX ? n : SCAN_PREFIX;
    char lower[SCAN_PREFIX];
    for (Py_ssize_t i = 0; i < end; i++) {
        if ((unsigned char)p[i] >= 0x80) return -1;
        lower[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + 32 : p[i]);
    }
    for (int s = 0; s < COUNT(STEMS); s++)
        if (find(lower, end, STEMS[s]) >= 0) return 1;
    return 0;
}

/* parse_plain: a level from a prefix, after a timestamp, or none at all; a line the level pattern
 * has to read is not usual. */
static int plain_columns(Out *o, const Message *m, Document *doc) {
    (void)doc;
    const char *p = m->text;
    Py_ssize_t n = m->len;
    int unusual = 0;
    const char *level = prefix_level(p, n, &unusual);
    if (level == NULL && !unusual && n > 0 && (p[0] >= '0' && p[0] <= '9'))
        level = level_after_timestamp(p, n, &unusual);
    if (unusual) return 1;
    if (level == NULL) /* a first character outside ASCII (a digit to Python?) is not usual here too */
        return has_stem(p, n) != 0;
    return PUT_LITERAL(o, ",\"level\":") < 0 || put_json_text(o, level, (Py_ssize_t)strlen(level)) < 0 ? -1 : 0;
}

/* ---- Every source: the row around the parsed columns, and the payload's rows ---- */

/* The last event's second, and its spelling. */
typedef struct {
    int64_t second;
    char prefix[19];
} Clock;

/* One event's row and its newline: 0 written, -1 error set, 1 not usual (some of the row may be
 * written: the caller takes it back). ``arrival`` and ``envelope`` are the payload's pieces every
 * row repeats: `,"arrival_time":"..."` and `,"account_id":...,"log_group":...,"log_stream":...,"source":...`. */
static int event_row(Out *o, PyObject *event, const Out *arrival, const Out *envelope, Clock *clock,
                     ColumnWriter columns, Document *doc) {
    if (!PyTuple_Check(event) || PyTuple_GET_SIZE(event) != 4) return 1;
    PyObject *id = PyTuple_GET_ITEM(event, 0), *timestamp = PyTuple_GET_ITEM(event, 1);
    PyObject *message = PyTuple_GET_ITEM(event, 2), *extracted = PyTuple_GET_ITEM(event, 3);
    if (extracted != Py_None || !PyUnicode_CheckExact(id) || PyUnicode_GET_LENGTH(id) == 0) return 1;
    if (!PyLong_CheckExact(timestamp) || !PyUnicode_CheckExact(message)) return 1;
    int overflow;
    long long ms = PyLong_AsLongLongAndOverflow(timestamp, &overflow);
    if (ms == -1 && PyErr_Occurred()) return -1;
    if (overflow || ms < 0 || ms > MAX_EPOCH_MS) return 1;
    Message m;
    m.ascii = PyUnicode_IS_ASCII(message);
    if (m.ascii) {
        m.text = (const char *)PyUnicode_DATA(message);
        m.len = PyUnicode_GET_LENGTH(message);
    } else if ((m.text = PyUnicode_AsUTF8AndSize(message, &m.len)) == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) return -1;
        PyErr_Clear(); /* a lone surrogate: the Python path replaces it */
        return 1;
    }
    while (m.len > 0 && (m.text[m.len - 1] == '\n' || m.text[m.len - 1] == '\r')) m.len--; /* rstrip("\r\n") */

    int64_t second = ms / 1000;
    if (second != clock->second) {
        second_prefix(second, clock->prefix);
        clock->second = second;
    }
    char when[24];
    memcpy(when, clock->prefix, 19);
    memcpy(when + 19, ".000Z", 5);
    when[20] = (char)('0' + ms % 1000 / 100);
    when[21] = (char)('0' + ms % 100 / 10);
    when[22] = (char)('0' + ms % 10);
    int status;
    if (PUT_LITERAL(o, "{\"event_time\":") < 0 || put_json_text(o, when, 24) < 0 || put(o, arrival->buf, arrival->len) < 0 ||
        PUT_LITERAL(o, ",\"event_id\":") < 0)
        return -1;
    if ((status = put_json_str(o, id)) != 0) return status;
    if (put(o, envelope->buf, envelope->len) < 0 || PUT_LITERAL(o, ",\"message\":") < 0 ||
        put_json_text(o, m.text, m.len) < 0)
        return -1;
    if ((status = columns(o, &m, doc)) != 0) return status;
    return PUT_LITERAL(o, "}\n") < 0 ? -1 : 0;
}

/* `,"key":"value"` for each pair, into o: 0, -1 error set, 1 not writable. */
static int put_pairs(Out *o, const char *const *keys, PyObject *const *values, int count) {
    for (int i = 0; i < count; i++) {
        if (!PyUnicode_CheckExact(values[i])) return 1;
        int status;
        if (put(o, keys[i], (Py_ssize_t)strlen(keys[i])) < 0) return -1;
        if ((status = put_json_str(o, values[i])) != 0) return status;
    }
    return 0;
}

static const char *const ARRIVAL_KEY[] = {",\"arrival_time\":"};
static const char *const ENVELOPE_KEYS[] = {",\"account_id\":", ",\"log_group\":", ",\"log_stream\":", ",\"source\":"};

/* A payload's rows: (chunks, missing). The rows of the events in ``missing`` (in order) go between
 * the chunks: chunk 0, the row of missing[0], chunk 1, ... Every chunk after the first starts with
 * the newline that ends the row before it, so the Python path's rows go in without theirs. None when
 * the envelope cannot be written (not a str, or a lone surrogate): the Python path writes it all. */
static PyObject *payload_rows(PyObject *const *args, Py_ssize_t nargs, const char *name, ColumnWriter columns) {
    if (nargs != 6) {
        PyErr_Format(PyExc_TypeError, "%s(log_events, owner, log_group, log_stream, source, arrival_time)", name);
        return NULL;
    }
    PyObject *events = args[0];
    if (!PyTuple_Check(events)) {
        PyErr_SetString(PyExc_TypeError, "log_events must be a tuple");
        return NULL;
    }
    Out out = {NULL, 0, 0}, arrival = {NULL, 0, 0}, envelope = {NULL, 0, 0};
    Document doc;
    doc.scratch = (Out){NULL, 0, 0};
    PyObject *result = NULL, *chunks = NULL, *missing = NULL, *chunk = NULL;
    int status = put_pairs(&arrival, ARRIVAL_KEY, args + 5, 1);
    if (status == 0) status = put_pairs(&envelope, ENVELOPE_KEYS, args + 1, 4);
    if (status == 1) result = Py_NewRef(Py_None);
    if (status != 0) goto done;
    Py_ssize_t count = PyTuple_GET_SIZE(events);
    if (reserve(&out, 1024 * (count < 64 ? count + 1 : 64)) < 0 || (chunks = PyList_New(0)) == NULL ||
        (missing = PyList_New(0)) == NULL)
        goto done;
    Clock clock = {-1, {0}};
    for (Py_ssize_t i = 0; i < count; i++) {
        Py_ssize_t start = out.len;
        PyObject *event = PyTuple_GET_ITEM(events, i);
        status = event_row(&out, event, &arrival, &envelope, &clock, columns, &doc);
        if (status < 0) goto done;
        if (status == 0) continue;
        if ((chunk = PyBytes_FromStringAndSize(out.buf, start)) == NULL || PyList_Append(chunks, chunk) < 0 ||
            PyList_Append(missing, event) < 0)
            goto done;
        Py_CLEAR(chunk);
        out.len = 0;
        if (PUT_LITERAL(&out, "\n") < 0) goto done;
    }
    if ((chunk = PyBytes_FromStringAndSize(out.buf ? out.buf : "", out.len)) == NULL || PyList_Append(chunks, chunk) < 0)
        goto done;
    result = PyTuple_Pack(2, chunks, missing);
done:
    Py_XDECREF(chunk);
    Py_XDECREF(chunks);
    Py_XDECREF(missing);
    PyMem_Free(out.buf);
    PyMem_Free(arrival.buf);
    PyMem_Free(envelope.buf);
    PyMem_Free(doc.scratch.buf);
    return result;
}

/* One module function per source: NAME(log_events, owner, log_group, log_stream, source, arrival_time)
 * -> (chunks, missing) | None, its rows written by COLUMNS; and its method table entry. */
#define ROW_WRITER(NAME, COLUMNS)                                                       \
    static PyObject *NAME(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {  \
        (void)module;                                                                   \
        return payload_rows(args, nargs, #NAME, COLUMNS);                               \
    }
#define ROW_METHOD(NAME, WHAT)                                                                     \
    {#NAME, (PyCFunction)(void (*)(void))NAME, METH_FASTCALL,                                      \
     #NAME "(log_events, owner, log_group, log_stream, source, arrival_time)"                      \
           " -> (chunks, missing) | None\n" WHAT "'s rows as NDJSON chunks, and the events left"  \
           " to the Python path."}

ROW_WRITER(vpc_flow_rows, vpc_columns)
ROW_WRITER(lambda_rows, lambda_columns)
ROW_WRITER(apigateway_rows, apigateway_json_columns)
ROW_WRITER(json_rows, json_columns)
ROW_WRITER(text_rows, plain_columns)

static PyMethodDef METHODS[] = {
    ROW_METHOD(vpc_flow_rows, "A default-format VPC Flow Logs payload"),
    ROW_METHOD(lambda_rows, "A Lambda function log payload"),
    ROW_METHOD(apigateway_rows, "An API Gateway access log payload"),
    ROW_METHOD(json_rows, "A JSON log payload"),
    ROW_METHOD(text_rows, "A plain-text log payload"),
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "transform_lambda._native_rows", NULL, 0, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_rows(void) { return PyModuleDef_Init(&MODULE); }
