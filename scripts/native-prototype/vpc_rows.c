/* Prototype, not shipped: the whole per-event path of default-format VPC Flow Log payloads in C,
 * to measure what a native transform core could reach (docs/performance.md, "What is left").
 *
 * vpc_payload(log_events, head, arrival_time) -> bytes | None
 *   log_events: a Payload's tuple of LogEvent; head: the record's envelope columns as JSON pairs,
 *   `,"account_id":...,"log_group":...,"log_stream":...,"source":"vpc_flow"`; arrival_time: the rows'
 *   arrival time. Returns the NDJSON the Python path (transform.shape_events + encode) writes for the
 *   payload, or None for the whole payload as soon as one event is not the usual case (non-ASCII, a
 *   line of another shape, the header line, a value out of range, an extracted field, a timestamp
 *   out of range): the Python path then decides, as it always would. scripts/native-prototype/
 *   measure.py checks the bytes against the Python path and times both against the blueprint.
 * A production version needs what this lacks: differential fuzzing against the Python path, every
 * other source, and a place in the compiled build (scripts/build-native.sh, transform_lambda/native.py).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <string.h>
#include <stdint.h>

typedef struct { char *buf; Py_ssize_t len, cap; } Out;
static int grow(Out *o, Py_ssize_t need) {
    if (o->len + need <= o->cap) return 0;
    Py_ssize_t cap = o->cap * 2;
    while (cap < o->len + need) cap *= 2;
    char *b = PyMem_Realloc(o->buf, cap);
    if (!b) { PyErr_NoMemory(); return -1; }
    o->buf = b; o->cap = cap; return 0;
}
#define PUTLIT(o, s) put(o, s, sizeof(s) - 1)
static inline int put(Out *o, const char *s, Py_ssize_t n) {
    if (grow(o, n) < 0) return -1;
    memcpy(o->buf + o->len, s, n); o->len += n; return 0;
}
static const char HEX[] = "0123456789abcdef";
static int put_json(Out *o, const char *p, Py_ssize_t n) {
    if (grow(o, n * 6 + 2) < 0) return -1;
    char *w = o->buf + o->len;
    *w++ = '"';
    Py_ssize_t start = 0;
    for (Py_ssize_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        if (c >= 0x20 && c != '"' && c != '\\') continue;
        memcpy(w, p + start, i - start); w += i - start; start = i + 1;
        *w++ = '\\';
        switch (c) {
        case '"': *w++ = '"'; break;
        case '\\': *w++ = '\\'; break;
        case '\n': *w++ = 'n'; break;
        case '\r': *w++ = 'r'; break;
        case '\t': *w++ = 't'; break;
        case '\b': *w++ = 'b'; break;
        case '\f': *w++ = 'f'; break;
        default: *w++ = 'u'; *w++ = '0'; *w++ = '0'; *w++ = HEX[c >> 4]; *w++ = HEX[c & 15];
        }
    }
    memcpy(w, p + start, n - start); w += n - start;
    *w++ = '"';
    o->len = w - o->buf;
    return 0;
}
static inline void two(char *w, int v) { w[0] = '0' + v / 10; w[1] = '0' + v % 10; }
static void iso_seconds(int64_t s, char out[20]) {
    int64_t z = s / 86400, sod = s % 86400;
    z += 719468;
    int64_t era = z / 146097;
    int64_t doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t y = yoe + era * 400;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    int64_t mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1;
    int64_t m = mp < 10 ? mp + 3 : mp - 9;
    y += m <= 2;
    int yy = (int)y;
    two(out, yy / 100); two(out + 2, yy % 100); out[4] = '-'; two(out + 5, (int)m); out[7] = '-'; two(out + 8, (int)d);
    out[10] = 'T'; two(out + 11, (int)(sod / 3600)); out[13] = ':'; two(out + 14, (int)(sod / 60 % 60)); out[16] = ':';
    two(out + 17, (int)(sod % 60)); out[19] = 0;
}
static inline int is_space(unsigned char c) { return c == ' ' || (c >= 9 && c <= 13) || (c >= 0x1c && c <= 0x1f); }
static int digits(const char *p, Py_ssize_t n, int maxlen, uint64_t high, uint64_t *v) {
    if (n == 0 || n > maxlen) return 0;
    uint64_t x = 0;
    for (Py_ssize_t i = 0; i < n; i++) { if (p[i] < '0' || p[i] > '9') return 0; x = x * 10 + (uint64_t)(p[i] - '0'); }
    if (x > high) return 0;
    *v = x; return 1;
}
static int put_u64(Out *o, uint64_t v) {
    char t[24]; int k = 24;
    do { t[--k] = '0' + (char)(v % 10); v /= 10; } while (v);
    return put(o, t + k, 24 - k);
}

/* vpc_payload(events, head, arrival) -> bytes | None */
static PyObject *vpc_payload(PyObject *self, PyObject *const *args, Py_ssize_t nargs) {
    PyObject *events = args[0], *head = args[1], *arrival = args[2];
    if (!PyTuple_Check(events) || !PyBytes_Check(head) || !PyUnicode_IS_ASCII(arrival)) Py_RETURN_NONE;
    Out o; o.cap = 4096; o.len = 0; o.buf = PyMem_Malloc(o.cap);
    if (!o.buf) return PyErr_NoMemory();
    Py_ssize_t n = PyTuple_GET_SIZE(events);
    int64_t last_sec = -1; char prefix[20];
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *ev = PyTuple_GET_ITEM(events, i);
        if (!PyTuple_Check(ev) || PyTuple_GET_SIZE(ev) != 4) goto fallback;
        PyObject *id = PyTuple_GET_ITEM(ev, 0), *ts = PyTuple_GET_ITEM(ev, 1), *msg = PyTuple_GET_ITEM(ev, 2), *ex = PyTuple_GET_ITEM(ev, 3);
        if (ex != Py_None || !PyUnicode_CheckExact(id) || !PyUnicode_IS_ASCII(id) || PyUnicode_GET_LENGTH(id) == 0) goto fallback;
        if (!PyLong_CheckExact(ts) || !PyUnicode_CheckExact(msg) || !PyUnicode_IS_ASCII(msg)) goto fallback;
        int of; long long t = PyLong_AsLongLongAndOverflow(ts, &of);
        if (of || t < 0 || t > 253402300799999LL) goto fallback;
        const char *m = PyUnicode_DATA(msg); Py_ssize_t mlen = PyUnicode_GET_LENGTH(msg);
        while (mlen > 0 && (m[mlen - 1] == '\n' || m[mlen - 1] == '\r')) mlen--;
        const char *tok[14]; Py_ssize_t tlen[14]; int k = 0; Py_ssize_t j = 0;
        while (1) {
            while (j < mlen && is_space((unsigned char)m[j])) j++;
            if (j >= mlen) break;
            if (k == 14) goto fallback;
            tok[k] = m + j; Py_ssize_t s = j;
            while (j < mlen && !is_space((unsigned char)m[j])) j++;
            tlen[k++] = j - s;
        }
        if (k != 14) goto fallback;
        int absent[14];
        for (int q = 0; q < 14; q++) absent[q] = (tlen[q] == 1 && tok[q][0] == '-');
        uint64_t num[14];
        static const int maxlen[14] = {0,0,0,0,0,5,5,19,19,19,19,19,0,0};
        static const uint64_t high[14] = {0,0,0,0,0,65535,65535,255,9223372036854775807ULL,9223372036854775807ULL,253402300799ULL,253402300799ULL,0,0};
        for (int q = 5; q <= 11; q++) if (!absent[q] && !digits(tok[q], tlen[q], maxlen[q], high[q], &num[q])) goto fallback;
        if (!absent[12] && !(tlen[12] == 6 && (!memcmp(tok[12], "ACCEPT", 6) || !memcmp(tok[12], "REJECT", 6)))) goto fallback;
        if (!absent[13] && !((tlen[13] == 2 && !memcmp(tok[13], "OK", 2)) || (tlen[13] == 6 && !memcmp(tok[13], "NODATA", 6)) || (tlen[13] == 8 && !memcmp(tok[13], "SKIPDATA", 8)))) goto fallback;
        /* the header line: its first token, stripped of "${}", is "version" */
        { const char *h = tok[0]; Py_ssize_t hl = tlen[0];
          while (hl && (*h == '$' || *h == '{' || *h == '}')) { h++; hl--; }
          while (hl && (h[hl-1] == '$' || h[hl-1] == '{' || h[hl-1] == '}')) hl--;
          if (hl == 7 && !memcmp(h, "version", 7)) goto fallback; }
        int64_t sec = t / 1000; int ms = (int)(t % 1000);
        if (sec != last_sec) { iso_seconds(sec, prefix); last_sec = sec; }
        char et[24]; memcpy(et, prefix, 19); et[19] = '.'; et[20] = '0' + ms / 100; et[21] = '0' + ms / 10 % 10; et[22] = '0' + ms % 10; et[23] = 'Z';
        if (PUTLIT(&o, "{\"event_time\":") < 0 || put_json(&o, et, 24) < 0 || PUTLIT(&o, ",\"arrival_time\":") < 0 ||
            put_json(&o, PyUnicode_DATA(arrival), PyUnicode_GET_LENGTH(arrival)) < 0 || PUTLIT(&o, ",\"event_id\":") < 0 ||
            put_json(&o, PyUnicode_DATA(id), PyUnicode_GET_LENGTH(id)) < 0 ||
            put(&o, PyBytes_AS_STRING(head), PyBytes_GET_SIZE(head)) < 0 || PUTLIT(&o, ",\"message\":") < 0 ||
            put_json(&o, m, mlen) < 0) goto error;
        static const char *keys[14] = {NULL, NULL, ",\"interface_id\":", ",\"src_addr\":", ",\"dst_addr\":", ",\"src_port\":", ",\"dst_port\":",
            ",\"protocol\":", ",\"packets\":", ",\"bytes\":", ",\"flow_start\":", ",\"flow_end\":", ",\"action\":", ",\"log_status\":"};
        for (int q = 2; q < 14; q++) {
            if (absent[q]) continue;
            if (put(&o, keys[q], strlen(keys[q])) < 0) goto error;
            if (q >= 5 && q <= 9) { if (put_u64(&o, num[q]) < 0) goto error; }
            else if (q == 10 || q == 11) {
                char buf[24]; iso_seconds((int64_t)num[q], buf); memcpy(buf + 19, ".000Z", 5);
                if (put_json(&o, buf, 24) < 0) goto error;
            } else if (put_json(&o, tok[q], tlen[q]) < 0) goto error;
        }
        if (!absent[0] || !absent[1]) {
            if (PUTLIT(&o, ",\"fields\":{") < 0) goto error;
            if (!absent[0] && (PUTLIT(&o, "\"version\":") < 0 || put_json(&o, tok[0], tlen[0]) < 0)) goto error;
            if (!absent[1] && ((!absent[0] && PUTLIT(&o, ",") < 0) || PUTLIT(&o, "\"account_id\":") < 0 || put_json(&o, tok[1], tlen[1]) < 0)) goto error;
            if (PUTLIT(&o, "}") < 0) goto error;
        }
        if (PUTLIT(&o, "}\n") < 0) goto error;
    }
    PyObject *res = PyBytes_FromStringAndSize(o.buf, o.len);
    PyMem_Free(o.buf);
    return res;
fallback:
    PyErr_Clear();
    PyMem_Free(o.buf);
    Py_RETURN_NONE;
error:
    PyMem_Free(o.buf);
    return NULL;
}
static PyMethodDef methods[] = {{"vpc_payload", (PyCFunction)(void (*)(void))vpc_payload, METH_FASTCALL, ""}, {NULL, NULL, 0, NULL}};
static struct PyModuleDef mod = {PyModuleDef_HEAD_INIT, "vpc_rows", NULL, -1, methods};
PyMODINIT_FUNC PyInit_vpc_rows(void) { return PyModule_Create(&mod); }
