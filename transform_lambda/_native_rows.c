/* Shape + encode stages, native (the compiled build only): a whole payload's rows as NDJSON in C.
 *
 * Input: a payload's log events and envelope, for a source this module knows. Output: the bytes the
 * Python path (transform.shape_events, then encode.encode_shaped_rows) writes for the payload, or
 * None when any event is not the usual case the C knows to be usual; the Python path then decides
 * the whole payload, as it would without this module. So this module can only make a payload
 * faster, never different: tests/unit/test_native_rows.py holds it to the Python path, line shapes
 * generated at random included, and `make compiled` runs the transform's tests on it (x86_64 and
 * arm64). transform_lambda/native_rows.py calls it; scripts/build-native.sh compiles it.
 *
 * vpc_flow_rows(log_events, owner, log_group, log_stream, source, arrival_time) -> bytes | None
 *   For the default VPC Flow Logs format (parse/vpc_flow.py, DEFAULT_FIELDS). Usual here: an event
 *   with a non-empty id, a timestamp in 0..MAX_EPOCH_MS, no extracted fields, and an ASCII message
 *   of 14 fields (Python's str.split()) that parses cleanly; "-" is an absent value as in Python.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#define VPC_FIELDS 14
#define MAX_EPOCH_MS 253402300799999LL /* 9999-12-31T23:59:59.999Z: timefmt.MAX_EPOCH_MS */
#define MAX_EPOCH_S 253402300799ULL
#define BIGINT_MAX 9223372036854775807ULL
#define MAX_DIGITS 19 /* parse/numbers.py */
#define PORT_DIGITS 5

/* A growing output buffer. */
typedef struct {
    char *buf;
    Py_ssize_t len, cap;
} Out;

static int reserve(Out *o, Py_ssize_t more) {
    if (more > PY_SSIZE_T_MAX - o->len) {
        PyErr_NoMemory();
        return -1;
    }
    if (o->len + more <= o->cap) return 0;
    Py_ssize_t cap = o->cap < 256 ? 256 : o->cap;
    while (cap < o->len + more) cap = cap > PY_SSIZE_T_MAX / 2 ? o->len + more : cap * 2;
    char *buf = PyMem_Realloc(o->buf, (size_t)cap);
    if (buf == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    o->buf = buf;
    o->cap = cap;
    return 0;
}

static int put(Out *o, const char *s, Py_ssize_t n) {
    if (reserve(o, n) < 0) return -1;
    memcpy(o->buf + o->len, s, (size_t)n);
    o->len += n;
    return 0;
}

#define PUT_LITERAL(o, s) put((o), (s), (Py_ssize_t)(sizeof(s) - 1))

static const char HEX[] = "0123456789abcdef";

/* UTF-8 text as a JSON string, escaped as json.dumps(ensure_ascii=False) and orjson escape it:
 * '"', '\\', and the control characters below 0x20 (short forms where JSON has them). */
static int put_json_text(Out *o, const char *p, Py_ssize_t n) {
    if (n > (PY_SSIZE_T_MAX - 2) / 6 || reserve(o, n * 6 + 2) < 0) {
        if (!PyErr_Occurred()) PyErr_NoMemory();
        return -1;
    }
    char *w = o->buf + o->len;
    Py_ssize_t start = 0;
    *w++ = '"';
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        memcpy(w, p + start, (size_t)(i - start));
        w += i - start;
        start = i + 1;
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
    memcpy(w, p + start, (size_t)(n - start));
    w += n - start;
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
    size_t len = strlen(word);
    return (size_t)n == len && memcmp(p, word, len) == 0;
}

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

/* One event's row and its newline: 0 written, -1 error set, 1 not usual. ``arrival`` and ``envelope``
 * are the payload's pieces every row repeats: `,"arrival_time":"..."` and
 * `,"account_id":...,"log_group":...,"log_stream":...,"source":...`. */
static int vpc_row(Out *o, PyObject *event, const Out *arrival, const Out *envelope, int64_t *last_second,
                   char prefix[19]) {
    if (!PyTuple_Check(event) || PyTuple_GET_SIZE(event) != 4) return 1;
    PyObject *id = PyTuple_GET_ITEM(event, 0), *timestamp = PyTuple_GET_ITEM(event, 1);
    PyObject *message = PyTuple_GET_ITEM(event, 2), *extracted = PyTuple_GET_ITEM(event, 3);
    if (extracted != Py_None || !PyUnicode_CheckExact(id) || PyUnicode_GET_LENGTH(id) == 0) return 1;
    if (!PyLong_CheckExact(timestamp) || !PyUnicode_CheckExact(message) || !PyUnicode_IS_ASCII(message)) return 1;
    int overflow;
    long long ms = PyLong_AsLongLongAndOverflow(timestamp, &overflow);
    if (ms == -1 && PyErr_Occurred()) return -1;
    if (overflow || ms < 0 || ms > MAX_EPOCH_MS) return 1;

    const char *text = (const char *)PyUnicode_DATA(message);
    Py_ssize_t len = PyUnicode_GET_LENGTH(message);
    while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r')) len--; /* rstrip("\r\n") */
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

    int64_t second = ms / 1000;
    if (second != *last_second) {
        second_prefix(second, prefix);
        *last_second = second;
    }
    char when[24];
    memcpy(when, prefix, 19);
    memcpy(when + 19, ".000Z", 5);
    when[20] = (char)('0' + ms % 1000 / 100);
    when[21] = (char)('0' + ms % 100 / 10);
    when[22] = (char)('0' + ms % 10);
    int status;
    if (PUT_LITERAL(o, "{\"event_time\":") < 0 || put_json_text(o, when, 24) < 0 || put(o, arrival->buf, arrival->len) < 0 ||
        PUT_LITERAL(o, ",\"event_id\":") < 0)
        return -1;
    if ((status = put_json_str(o, id)) != 0) return status;
    if (put(o, envelope->buf, envelope->len) < 0 || PUT_LITERAL(o, ",\"message\":") < 0 || put_json_text(o, text, len) < 0)
        return -1;
    for (int f = 2; f < VPC_FIELDS; f++) {
        if (absent[f]) continue;
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

static PyObject *vpc_flow_rows(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError, "vpc_flow_rows(log_events, owner, log_group, log_stream, source, arrival_time)");
        return NULL;
    }
    PyObject *events = args[0];
    if (!PyTuple_Check(events)) {
        PyErr_SetString(PyExc_TypeError, "log_events must be a tuple");
        return NULL;
    }
    Out out = {NULL, 0, 0}, arrival = {NULL, 0, 0}, envelope = {NULL, 0, 0};
    PyObject *result = NULL;
    int status = put_pairs(&arrival, ARRIVAL_KEY, args + 5, 1);
    if (status == 0) status = put_pairs(&envelope, ENVELOPE_KEYS, args + 1, 4);
    Py_ssize_t count = PyTuple_GET_SIZE(events);
    if (status == 0) status = reserve(&out, 1024 * (count < 64 ? count + 1 : 64));
    int64_t last_second = -1;
    char prefix[19];
    for (Py_ssize_t i = 0; status == 0 && i < count; i++)
        status = vpc_row(&out, PyTuple_GET_ITEM(events, i), &arrival, &envelope, &last_second, prefix);
    if (status == 0)
        result = PyBytes_FromStringAndSize(out.buf ? out.buf : "", out.len);
    else if (status == 1)
        result = Py_NewRef(Py_None);
    PyMem_Free(out.buf);
    PyMem_Free(arrival.buf);
    PyMem_Free(envelope.buf);
    return result;
}

static PyMethodDef METHODS[] = {
    {"vpc_flow_rows", (PyCFunction)(void (*)(void))vpc_flow_rows, METH_FASTCALL,
     "vpc_flow_rows(log_events, owner, log_group, log_stream, source, arrival_time) -> bytes | None\n"
     "A default-format VPC Flow Logs payload's rows as NDJSON, or None to leave it to the Python path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "transform_lambda._native_rows", NULL, 0, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_rows(void) { return PyModuleDef_Init(&MODULE); }
