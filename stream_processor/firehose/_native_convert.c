/* Convert stage, native (the local twin's, built for the tooling's Python): a batch's rows straight
 * into Arrow buffers.
 *
 * Input: the decoded data of a batch's Ok records (one JSON object a line, as the transform writes
 * them), the table's columns as (name, kind) pairs, and import_batch (pyarrow's importer of a record
 * batch through Arrow's C data interface, with the table's schema). Output: (rows, ends, unknown,
 * batch). ``ends[r]`` is where record r's rows end, ``unknown[r]`` how many of its keys are outside the
 * schema (dropped, as Firehose drops them), and ``batch`` the rows as one record batch whose buffers
 * are the ones read into, handed over without a copy: per column a validity bitmap (none without
 * nulls), then
 *   STRING: int32 offsets, UTF-8 data
 *   INT32, INT64, DOUBLE, TIMESTAMP (epoch milliseconds): the values
 *   STRING_MAP: int32 offsets, and a child of entries whose keys and values are strings.
 * Or None, on anything this reader does not know to be usual; then convert_columns' Python path
 * decides, so what a record converts to, and why one fails, never depends on this module:
 *   - invalid UTF-8, a line that is not one JSON object, a key twice, a nested value outside the map
 *     column, a string with a lone surrogate (everything json.loads would refuse or read otherwise);
 *   - a string column's value that is not a string; an int or bigint column's value that is not an
 *     integer of its range; a double column's that is not a finite number (an integer past 2**53,
 *     which Arrow refuses as a double, included); a timestamp not spelled as the transform spells it
 *     (yyyy-MM-ddTHH:mm:ss.SSSZ, a valid date of year 1 or later); a map that is not an object of
 *     strings, or that has a key twice;
 *   - no rows at all, or more than 2**31 - 1 bytes of one column's strings.
 * null is a null of any column. tests/twin/test_convert_columns.py and test_native_twin.py hold it
 * to the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The columns' buffers go to Arrow, which frees them when it is done, with or without the GIL. */
#define OUT_REALLOC PyMem_RawRealloc
#define OUT_FREE PyMem_RawFree
#include "../../transform_lambda/_json_text.h"
#include "_utf8.h"

enum { STRING, INT32, INT64, DOUBLE, TIMESTAMP, STRING_MAP, KINDS };

#define MAX_COLUMNS 256
#define MAX_NAME 64
#define MAX_MAP_KEYS 256
#define MAX_UNKNOWN 16 /* keys outside the schema in one row */
#define MAX_NUMBER_TEXT 64
#define EXACT_DOUBLE_INT 9007199254740992LL /* 2**53 */

/* One column being filled: ``count`` rows so far (a row's value, or a null for a row without it). */
typedef struct {
    const char *name;
    Py_ssize_t name_len;
    int kind;
    Py_ssize_t count, nulls;
    Out present; /* one byte per row: 1 a value, 0 a null */
    Out values;  /* fixed-width values, or int32 offsets (strings: into data; maps: entries) */
    Out data;    /* string bytes; a map's key offsets */
    Out key_data, item_offsets, item_data;
} Column;

#define SLOTS 1024 /* the columns' hash table: a power of two, at least twice MAX_COLUMNS */

typedef struct {
    Column column[MAX_COLUMNS];
    int count;
    int16_t slot[SLOTS]; /* column index + 1 by hash_of(name), linear probing; 0 empty */
    Out key;           /* the key being read */
    Out unknown_keys;  /* the row's keys outside the schema, back to back */
    Py_ssize_t unknown_end[MAX_UNKNOWN];
    int unknowns;
} Table;

static int put_int32(Out *o, int32_t v) { return put(o, (const char *)&v, 4); }
static int put_int64(Out *o, int64_t v) { return put(o, (const char *)&v, 8); }

/* A JSON number at p[*i], by the grammar: its span, and whether it is an integer (no fraction or
 * exponent). 0 and *i past it, 1 not a number. */
static int number_span(const char *p, Py_ssize_t n, Py_ssize_t *i, Py_ssize_t *start, int *integer) {
    Py_ssize_t at = *i;
    *start = at;
    if (at < n && p[at] == '-') at++;
    Py_ssize_t digits = digit_run(p + at, n - at);
    if (digits == 0) return 1;
    at += p[at] == '0' ? 1 : digits; /* no leading zero: a digit after it ends the number */
    *integer = 1;
    if (at < n && p[at] == '.') {
        *integer = 0;
        if ((digits = digit_run(p + at + 1, n - at - 1)) == 0) return 1;
        at += 1 + digits;
    }
    if (at < n && (p[at] == 'e' || p[at] == 'E')) {
        *integer = 0;
        at++;
        if (at < n && (p[at] == '+' || p[at] == '-')) at++;
        if ((digits = digit_run(p + at, n - at)) == 0) return 1;
        at += digits;
    }
    *i = at;
    return 0;
}

/* An integer's text (number_span's, integer) as int64: 1 and *value, 0 out of range. */
static int integer_value(const char *p, Py_ssize_t n, int64_t *value) {
    int negative = p[0] == '-';
    Py_ssize_t k = negative;
    if (n - k > 19) return 0;
    uint64_t v = 0;
    for (; k < n; k++) v = v * 10 + (uint64_t)(p[k] - '0'); /* 19 digits fit in 64 bits */
    if (negative ? v > (uint64_t)INT64_MAX + 1 : v > (uint64_t)INT64_MAX) return 0;
    *value = negative ? (int64_t)(0 - v) : (int64_t)v;
    return 1;
}

static const int DAYS_IN_MONTH[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

static int two(const char *p) { return (p[0] - '0') * 10 + (p[1] - '0'); }

/* Days from 1970-01-01 to the date (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d) {
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* yyyy-MM-ddTHH:mm:ss.SSSZ (24 bytes) as epoch milliseconds: 1 and *ms, 0 spelled otherwise or not
 * a valid date of year 1 or later. */
static int transform_timestamp(const char *p, int64_t *ms) {
    static const char SHAPE[] = "dddd-dd-ddTdd:dd:dd.dddZ";
    for (int k = 0; k < 24; k++) {
        if (SHAPE[k] == 'd' ? p[k] < '0' || p[k] > '9' : p[k] != SHAPE[k]) return 0;
    }
    int year = two(p) * 100 + two(p + 2), month = two(p + 5), day = two(p + 8);
    int hour = two(p + 11), minute = two(p + 14), second = two(p + 17);
    int milli = (p[20] - '0') * 100 + two(p + 21);
    if (year < 1 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return 0;
    int leap = year % 4 == 0 && (year % 100 != 0 || year % 400 == 0);
    if (day > DAYS_IN_MONTH[month] + (month == 2 && leap)) return 0;
    *ms = ((days_from_civil(year, month, day) * 24 + hour) * 60 + minute) * 60000LL + second * 1000LL + milli;
    return 1;
}

/* Nulls for the column's rows up to ``row`` (not including it): an offset again (strings, maps) or
 * a zero (numbers) in place of each value. */
static int fill_nulls(Column *c, Py_ssize_t row) {
    Py_ssize_t missing = row - c->count;
    if (missing <= 0) return 0;
    Py_ssize_t width = c->kind == INT32 || c->kind == STRING || c->kind == STRING_MAP ? 4 : 8;
    if (reserve(&c->present, missing) < 0 || reserve(&c->values, missing * width) < 0) return -1;
    memset(c->present.buf + c->present.len, 0, (size_t)missing);
    c->present.len += missing;
    char *w = c->values.buf + c->values.len;
    if (c->kind == STRING || c->kind == STRING_MAP) {
        int32_t offset = (int32_t)(c->kind == STRING ? c->data.len : c->data.len / 4 - 1);
        for (Py_ssize_t k = 0; k < missing; k++) memcpy(w + 4 * k, &offset, 4);
    } else {
        memset(w, 0, (size_t)(missing * width));
    }
    c->values.len += missing * width;
    c->nulls += missing;
    c->count = row;
    return 0;
}

/* A string at p[*i] appended to ``data`` and its end offset to ``offsets``: 0, -1 error set, 1 not
 * usual. */
static int string_into(const char *p, Py_ssize_t n, Py_ssize_t *i, Out *offsets, Out *data) {
    Py_ssize_t start, len;
    if (*i == n || p[*i] != '"') return 1;
    int status = read_json_string(p, n, i, data, &start, &len);
    if (status != 0) return status;
    if (data->len > INT32_MAX) return 1;
    return put_int32(offsets, (int32_t)data->len) < 0 ? -1 : 0;
}

/* A map column's value at p[*i]: an object of strings, no key twice. */
static int map_into(Column *c, const char *p, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t at = skip_space(p, n, *i + 1), first = c->data.len / 4 - 1, entries = 0;
    if (at < n && p[at] == '}') {
        at++;
    } else {
        for (;;) {
            if (entries == MAX_MAP_KEYS) return 1;
            int status = string_into(p, n, &at, &c->data, &c->key_data);
            if (status != 0) return status;
            const int32_t *offsets = (const int32_t *)c->data.buf + first;
            int32_t key = offsets[entries], end = offsets[entries + 1];
            for (Py_ssize_t k = 0; k < entries; k++) /* a key twice: json.loads keeps the last value */
                if (offsets[k + 1] - offsets[k] == end - key &&
                    (end == key || /* two empty keys; an empty buffer's pointer is NULL */
                     memcmp(c->key_data.buf + offsets[k], c->key_data.buf + key, (size_t)(end - key)) == 0))
                    return 1;
            entries++;
            at = skip_space(p, n, at);
            if (at == n || p[at] != ':') return 1;
            at = skip_space(p, n, at + 1);
            if ((status = string_into(p, n, &at, &c->item_offsets, &c->item_data)) != 0) return status;
            at = skip_space(p, n, at);
            if (at < n && p[at] == '}') {
                at++;
                break;
            }
            if (at == n || p[at] != ',') return 1;
            at = skip_space(p, n, at + 1);
        }
    }
    *i = at;
    if (c->data.len / 4 - 1 > INT32_MAX) return 1;
    return put_int32(&c->values, (int32_t)(c->data.len / 4 - 1)) < 0 ? -1 : 0;
}

/* A column's value at p[*i] (not null): 0 and *i past it, -1 error set, 1 not usual. */
static int value_into(Column *c, const char *p, Py_ssize_t n, Py_ssize_t *i) {
    if (c->kind == STRING) return string_into(p, n, i, &c->values, &c->data);
    if (c->kind == STRING_MAP) return *i < n && p[*i] == '{' ? map_into(c, p, n, i) : 1;
    if (c->kind == TIMESTAMP) {
        int64_t ms;
        if (n - *i < 26 || p[*i] != '"' || p[*i + 25] != '"' || !transform_timestamp(p + *i + 1, &ms)) return 1;
        *i += 26;
        return put_int64(&c->values, ms) < 0 ? -1 : 0;
    }
    Py_ssize_t start;
    int integer;
    if (number_span(p, n, i, &start, &integer) != 0) return 1;
    int64_t v;
    if (c->kind == DOUBLE) {
        double d;
        if (integer) {
            if (!integer_value(p + start, *i - start, &v) || v > EXACT_DOUBLE_INT || v < -EXACT_DOUBLE_INT) return 1;
            d = (double)v;
        } else {
            char text[MAX_NUMBER_TEXT + 1];
            if (*i - start > MAX_NUMBER_TEXT) return 1;
            memcpy(text, p + start, (size_t)(*i - start));
            text[*i - start] = '\0';
            d = PyOS_string_to_double(text, NULL, NULL); /* correctly rounded, as orjson reads it */
            if (d == -1.0 && PyErr_Occurred()) return -1;
            if (!isfinite(d)) return 1;
        }
        return put(&c->values, (const char *)&d, 8) < 0 ? -1 : 0;
    }
    if (!integer || !integer_value(p + start, *i - start, &v)) return 1;
    if (c->kind == INT32) {
        if (v < INT32_MIN || v > INT32_MAX) return 1;
        return put_int32(&c->values, (int32_t)v) < 0 ? -1 : 0;
    }
    return put_int64(&c->values, v) < 0 ? -1 : 0;
}

/* The value of a key outside the schema, skipped: a string, number, true, false or null. Not an
 * integer of more than 19 digits: json.loads refuses one past sys.get_int_max_str_digits() (as few
 * as 640), and the row path with it. */
static int skip_value(Table *t, const char *p, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t start, len;
    int integer;
    if (*i == n) return 1;
    if (p[*i] == '"') {
        t->key.len = 0;
        return read_json_string(p, n, i, &t->key, &start, &len);
    }
    const char *const literals[] = {"true", "false", "null"};
    for (int k = 0; k < 3; k++) {
        Py_ssize_t len_k = (Py_ssize_t)strlen(literals[k]);
        if (n - *i >= len_k && memcmp(p + *i, literals[k], (size_t)len_k) == 0) {
            *i += len_k;
            return 0;
        }
    }
    if (number_span(p, n, i, &start, &integer) != 0) return 1;
    return integer && *i - start - (p[start] == '-') > 19 ? 1 : 0;
}

static unsigned hash_of(const char *key, Py_ssize_t len) {
    return ((unsigned)len * 31u + (unsigned char)key[0] * 7u + (unsigned char)key[len - 1] * 131u +
            (unsigned char)key[len / 2]) &
           (SLOTS - 1);
}

/* Whether a[0..len) and b[0..len) are the same bytes: short names, compared in line. */
static int same_name(const char *a, const char *b, Py_ssize_t len) {
    for (; len >= 8; a += 8, b += 8, len -= 8) {
        uint64_t x, y;
        memcpy(&x, a, 8);
        memcpy(&y, b, 8);
        if (x != y) return 0;
    }
    for (; len > 0; len--)
        if (*a++ != *b++) return 0;
    return 1;
}

/* The column of that name, or NULL. */
static Column *column_named(Table *t, const char *key, Py_ssize_t len) {
    if (len == 0 || len > MAX_NAME) return NULL;
    for (unsigned h = hash_of(key, len); t->slot[h] != 0; h = (h + 1) & (SLOTS - 1)) {
        Column *c = &t->column[t->slot[h] - 1];
        if (c->name_len == len && same_name(c->name, key, len)) return c;
    }
    return NULL;
}

/* A key outside the schema, noted for the row: 0, -1 error set, 1 not usual (the row has it twice,
 * or too many such keys to look). */
static int unknown_key(Table *t, const char *key, Py_ssize_t len) {
    if (t->unknowns == MAX_UNKNOWN) return 1;
    Py_ssize_t start = 0;
    for (int k = 0; k < t->unknowns; k++) {
        if (t->unknown_end[k] - start == len && /* two empty keys: no buffer yet, and nothing to compare */
            (len == 0 || same_name(t->unknown_keys.buf + start, key, len)))
            return 1;
        start = t->unknown_end[k];
    }
    if (put(&t->unknown_keys, key, len) < 0) return -1;
    t->unknown_end[t->unknowns++] = t->unknown_keys.len;
    return 0;
}

/* One line's object as row ``row``: 0, -1 error set, 1 not usual. */
static int read_row(Table *t, const char *p, Py_ssize_t n, Py_ssize_t row, Py_ssize_t *unknown) {
    t->unknowns = 0;
    t->unknown_keys.len = 0;
    Py_ssize_t i = skip_space(p, n, 0);
    if (i == n || p[i] != '{') return 1;
    i = skip_space(p, n, i + 1);
    if (i < n && p[i] == '}') {
        i++;
    } else {
        for (;;) {
            Py_ssize_t len;
            const char *key; /* a key without escapes is read where it is */
            if (i == n || p[i] != '"') return 1;
            int status = read_json_view(p, n, &i, &t->key, &key, &len);
            if (status != 0) return status;
            i = skip_space(p, n, i);
            if (i == n || p[i] != ':') return 1;
            i = skip_space(p, n, i + 1);
            Column *c = column_named(t, key, len);
            if (c == NULL) { /* a key outside the schema: counted once, as json.loads keeps one */
                if ((status = unknown_key(t, key, len)) != 0) return status;
                (*unknown)++;
                if ((status = skip_value(t, p, n, &i)) != 0) return status;
            } else {
                if (c->count > row) return 1; /* the key twice */
                if (fill_nulls(c, row) < 0) return -1;
                if (n - i >= 4 && memcmp(p + i, "null", 4) == 0) {
                    i += 4;
                    if (fill_nulls(c, row + 1) < 0) return -1;
                } else {
                    if ((status = value_into(c, p, n, &i)) != 0) return status;
                    if (put(&c->present, "\1", 1) < 0) return -1;
                    c->count++;
                }
            }
            i = skip_space(p, n, i);
            if (i < n && p[i] == '}') {
                i++;
                break;
            }
            if (i == n || p[i] != ',') return 1;
            i = skip_space(p, n, i + 1);
        }
    }
    return skip_space(p, n, i) == n ? 0 : 1;
}

/* ---- The batch handed to Arrow through its C data interface, without a copy
 * (https://arrow.apache.org/docs/format/CDataInterface.html). */
#ifndef ARROW_C_DATA_INTERFACE
#define ARROW_C_DATA_INTERFACE
struct ArrowArray {
    int64_t length;
    int64_t null_count;
    int64_t offset;
    int64_t n_buffers;
    int64_t n_children;
    const void **buffers;
    struct ArrowArray **children;
    struct ArrowArray *dictionary;
    void (*release)(struct ArrowArray *);
    void *private_data;
};
#endif

#define OWNED 6 /* a column's buffers: validity, values (or offsets), data, a map's keys and items */

/* One column as Arrow arrays (a map's as the map, its entries, their keys and their items), and the
 * buffers it took from the reader. */
typedef struct {
    struct ArrowArray array, entries, keys, items;
    struct ArrowArray *array_children[1], *entries_children[2];
    const void *buffers[3], *entries_buffers[1], *key_buffers[3], *item_buffers[3];
    void *owned[OWNED];
} ExportedColumn;

/* What the batch's release frees: every column's arrays and buffers. */
typedef struct {
    ExportedColumn *column;
    struct ArrowArray **columns;
    const void *batch_buffers[1];
    int count;
} Exported;

static void release_exported(Exported *e) {
    for (int k = 0; k < e->count; k++)
        for (int j = 0; j < OWNED; j++) PyMem_RawFree(e->column[k].owned[j]);
    PyMem_RawFree(e->column);
    PyMem_RawFree(e->columns);
    PyMem_RawFree(e);
}

/* Arrow calls this once it no longer needs the batch (any thread, GIL or not). */
static void release_batch(struct ArrowArray *array) {
    release_exported(array->private_data);
    array->release = NULL;
}

/* The children's memory is the batch's: releasing one frees nothing. */
static void release_child(struct ArrowArray *array) { array->release = NULL; }

static void set_array(struct ArrowArray *a, int64_t length, int64_t nulls, int64_t n_buffers, const void **buffers,
                      int64_t n_children, struct ArrowArray **children) {
    a->length = length, a->null_count = nulls, a->offset = 0;
    a->n_buffers = n_buffers, a->buffers = buffers, a->n_children = n_children, a->children = children;
    a->dictionary = NULL, a->release = release_child, a->private_data = NULL;
}

/* Takes an Out's buffer: the column no longer frees it. */
static void *take(Out *o) {
    void *buf = o->buf;
    o->buf = NULL, o->len = o->cap = 0;
    return buf;
}

/* A column (its rows all filled) as Arrow arrays in x, its buffers moved there: 0, or -1 with
 * MemoryError set. */
static int export_column(Column *c, ExportedColumn *x) {
    int64_t entries = c->kind == STRING_MAP ? (int64_t)(c->data.len / 4 - 1) : 0; /* a map's: key offsets less one */
    unsigned char *bits = NULL;
    if (c->nulls > 0) { /* the validity bitmap, Arrow's bit order: row 0 the lowest */
        Py_ssize_t size = (c->count + 7) / 8;
        if ((bits = PyMem_RawCalloc((size_t)size, 1)) == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        const unsigned char *present = (const unsigned char *)c->present.buf; /* 0 or 1 a row */
        Py_ssize_t whole = c->count / 8;
        for (Py_ssize_t b = 0; b < whole; b++, present += 8)
            bits[b] = (unsigned char)(present[0] | present[1] << 1 | present[2] << 2 | present[3] << 3 |
                                      present[4] << 4 | present[5] << 5 | present[6] << 6 | present[7] << 7);
        for (Py_ssize_t r = whole * 8; r < c->count; r++, present++) bits[r >> 3] |= (unsigned char)(*present << (r & 7));
    }
    x->owned[0] = bits;
    x->owned[1] = take(&c->values);
    x->owned[2] = take(&c->data);
    x->owned[3] = take(&c->key_data);
    x->owned[4] = take(&c->item_offsets);
    x->owned[5] = take(&c->item_data);
    x->buffers[0] = bits;
    x->buffers[1] = x->owned[1];
    if (c->kind == STRING) {
        x->buffers[2] = x->owned[2];
        set_array(&x->array, c->count, c->nulls, 3, x->buffers, 0, NULL);
    } else if (c->kind == STRING_MAP) {
        x->key_buffers[0] = x->item_buffers[0] = x->entries_buffers[0] = NULL;
        x->key_buffers[1] = x->owned[2], x->key_buffers[2] = x->owned[3];
        x->item_buffers[1] = x->owned[4], x->item_buffers[2] = x->owned[5];
        set_array(&x->keys, entries, 0, 3, x->key_buffers, 0, NULL);
        set_array(&x->items, entries, 0, 3, x->item_buffers, 0, NULL);
        x->entries_children[0] = &x->keys, x->entries_children[1] = &x->items;
        set_array(&x->entries, entries, 0, 1, x->entries_buffers, 2, x->entries_children);
        x->array_children[0] = &x->entries;
        set_array(&x->array, c->count, c->nulls, 2, x->buffers, 1, x->array_children);
    } else {
        set_array(&x->array, c->count, c->nulls, 2, x->buffers, 0, NULL);
    }
    return 0;
}

/* The table's columns (every row filled) as one struct array, a record batch, handed to
 * ``import_batch(address)``: its result, or NULL with the error set (the buffers freed). */
static PyObject *export_batch(Table *t, Py_ssize_t rows, PyObject *import_batch) {
    Exported *e = PyMem_RawCalloc(1, sizeof(Exported));
    if (e == NULL) return PyErr_NoMemory();
    e->column = PyMem_RawCalloc((size_t)(t->count ? t->count : 1), sizeof(ExportedColumn));
    e->columns = PyMem_RawCalloc((size_t)(t->count ? t->count : 1), sizeof(struct ArrowArray *));
    if (e->column == NULL || e->columns == NULL) {
        release_exported(e);
        return PyErr_NoMemory();
    }
    for (int k = 0; k < t->count; k++) {
        e->count = k + 1;
        if (export_column(&t->column[k], &e->column[k]) < 0) {
            release_exported(e);
            return NULL;
        }
        e->columns[k] = &e->column[k].array;
    }
    struct ArrowArray batch; /* Arrow moves it out: it needs to live only through the call */
    e->batch_buffers[0] = NULL;
    set_array(&batch, rows, 0, 1, e->batch_buffers, t->count, e->columns);
    batch.release = release_batch, batch.private_data = e;
    PyObject *imported = PyObject_CallFunction(import_batch, "K", (unsigned long long)(uintptr_t)&batch);
    if (batch.release != NULL) batch.release(&batch); /* not taken (an error): ours to free */
    return imported;
}

static void free_table(Table *t) {
    for (int k = 0; k < t->count; k++) {
        Column *c = &t->column[k];
        OUT_FREE(c->present.buf);
        OUT_FREE(c->values.buf);
        OUT_FREE(c->data.buf);
        OUT_FREE(c->key_data.buf);
        OUT_FREE(c->item_offsets.buf);
        OUT_FREE(c->item_data.buf);
    }
    OUT_FREE(t->key.buf);
    OUT_FREE(t->unknown_keys.buf);
}

/* The columns' (name, kind) pairs into t: 0, -1 error set. */
static int read_columns(Table *t, PyObject *columns) {
    if (!PyTuple_Check(columns) || PyTuple_GET_SIZE(columns) > MAX_COLUMNS) {
        PyErr_SetString(PyExc_TypeError, "columns must be a tuple of at most 256 (name, kind) pairs");
        return -1;
    }
    for (Py_ssize_t k = 0; k < PyTuple_GET_SIZE(columns); k++) {
        PyObject *pair = PyTuple_GET_ITEM(columns, k);
        Column *c = &t->column[t->count];
        int kind;
        if (!PyTuple_Check(pair)) {
            PyErr_SetString(PyExc_TypeError, "each column must be a (name, kind) tuple");
            return -1;
        }
        if (!PyArg_ParseTuple(pair, "s#i", &c->name, &c->name_len, &kind)) return -1;
        if (kind < 0 || kind >= KINDS || c->name_len == 0 || c->name_len > MAX_NAME) {
            PyErr_SetString(PyExc_ValueError, "a column's kind or name is out of range");
            return -1;
        }
        if (column_named(t, c->name, c->name_len) != NULL) {
            PyErr_SetString(PyExc_ValueError, "a column's name is given twice");
            return -1;
        }
        c->kind = kind;
        unsigned h = hash_of(c->name, c->name_len);
        while (t->slot[h] != 0) h = (h + 1) & (SLOTS - 1);
        t->slot[h] = (int16_t)(t->count + 1);
        t->count++;
        /* Offsets start at 0; a map's entries start at 0 (its key offsets too). */
        if ((kind == STRING || kind == STRING_MAP) && put_int32(&c->values, 0) < 0) return -1;
        if (kind == STRING_MAP && (put_int32(&c->data, 0) < 0 || put_int32(&c->item_offsets, 0) < 0)) return -1;
    }
    return 0;
}

static PyObject *read_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 3 || !PyList_Check(args[0]) || !PyCallable_Check(args[2])) {
        PyErr_SetString(PyExc_TypeError, "read_rows(datas: list[bytes], columns, import_batch)");
        return NULL;
    }
    PyObject *datas = args[0], *result = NULL, *ends = NULL, *unknowns = NULL, *batch = NULL;
    Table *t = PyMem_Calloc(1, sizeof(Table));
    if (t == NULL) return PyErr_NoMemory();
    if (read_columns(t, args[1]) < 0 || (ends = PyList_New(0)) == NULL || (unknowns = PyList_New(0)) == NULL) goto done;
    Py_ssize_t rows = 0;
    int status = 0;
    for (Py_ssize_t r = 0; r < PyList_GET_SIZE(datas) && status == 0; r++) {
        PyObject *data = PyList_GET_ITEM(datas, r);
        if (!PyBytes_Check(data)) { /* a bytearray, say: the Python path reads it */
            status = 1;
            break;
        }
        const char *p = PyBytes_AS_STRING(data);
        Py_ssize_t n = PyBytes_GET_SIZE(data), unknown = 0;
        if (!valid_utf8((const unsigned char *)p, n)) {
            status = 1;
            break;
        }
        for (Py_ssize_t at = 0; at < n && status == 0;) {
            const char *newline = memchr(p + at, '\n', (size_t)(n - at));
            Py_ssize_t end = newline ? newline - p : n;
            if (end > at) status = read_row(t, p + at, end - at, rows++, &unknown);
            at = end + 1;
        }
        if (status < 0) goto done;
        PyObject *end = PyLong_FromSsize_t(rows), *count = PyLong_FromSsize_t(unknown);
        int failed = end == NULL || count == NULL || PyList_Append(ends, end) < 0 || PyList_Append(unknowns, count) < 0;
        Py_XDECREF(end);
        Py_XDECREF(count);
        if (failed) goto done;
    }
    if (status != 0 || rows == 0) {
        result = status < 0 ? NULL : Py_NewRef(Py_None);
        goto done;
    }
    for (int k = 0; k < t->count; k++)
        if (fill_nulls(&t->column[k], rows) < 0) goto done;
    if ((batch = export_batch(t, rows, args[2])) == NULL) goto done;
    result = Py_BuildValue("nOOO", rows, ends, unknowns, batch);
done:
    Py_XDECREF(ends);
    Py_XDECREF(unknowns);
    Py_XDECREF(batch);
    free_table(t);
    PyMem_Free(t);
    return result;
}

static PyMethodDef METHODS[] = {
    {"read_rows", (PyCFunction)(void (*)(void))read_rows, METH_FASTCALL,
     "read_rows(datas, columns, import_batch) -> (rows, ends, unknown, batch) | None\n"
     "The records' rows as one Arrow record batch (import_batch(address) imports it through Arrow's C\n"
     "data interface), or None to leave them to the Python path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "stream_processor.firehose._native_convert", NULL, 0,
                                    METHODS, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_convert(void) { return PyModuleDef_Init(&MODULE); }
