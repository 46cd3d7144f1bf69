/* Census stage, native (the local twin's, built for the tooling's Python): a subscription message's
 * log events counted without building them.
 *
 * Input: the inflated text of a record (census._plain_census's). Output: (events, control events),
 * or None on anything this counter does not know to be usual; then census.py's Python path counts,
 * so a record's census never depends on this module. Counted is only what that path's orjson and
 * plain_envelope surely accept, and decode_data then decodes into one payload with these events:
 *   - valid UTF-8 holding one JSON object, with JSON whitespace around and between its tokens;
 *   - its keys among the envelope's, each once and spelled without escapes: messageType, exactly
 *     DATA_MESSAGE or CONTROL_MESSAGE; owner, logGroup and logStream, strings; subscriptionFilters,
 *     an array of strings; policyLevel and streamProcessorSource, a string or null; logEvents, an
 *     array of events; messageType and logEvents present, and a data message's logGroup and
 *     logStream present and not empty;
 *   - each event an object of exactly id (a string), timestamp (an integer of at most 18 digits)
 *     and message (a string), each once;
 *   - strings without raw control characters, with valid escapes and no lone surrogate.
 * tests/twin/test_census.py holds it to the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../../transform_lambda/_json_text.h"
#include "_utf8.h"

#define MAX_TIMESTAMP_DIGITS 18 /* an int to orjson whatever its sign */

/* The JSON string at p[*i] (its opening quote), checked and not decoded: 0 and *i past its closing
 * quote, 1 not usual. The text is valid UTF-8 already. Keys and messageType are compared as spelled:
 * an escape in one makes it match nothing, and the Python count decides. */
static int string_span(const char *p, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t at = *i;
    if (at == n || p[at] != '"') return 1;
    at++;
    for (;;) {
        at = plain_run(p, at, n);
        if (at == n || (unsigned char)p[at] < 0x20) return 1; /* unterminated, or a raw control character */
        if (p[at++] == '"') break;
        if (at == n) return 1;
        char c = p[at++];
        if (c == 'u') {
            unsigned code, low;
            if (!read_hex4(p, n, at, &code)) return 1;
            at += 4;
            if (code >= 0xDC00 && code <= 0xDFFF) return 1;
            if (code >= 0xD800 && code <= 0xDBFF) {
                if (n - at < 6 || p[at] != '\\' || p[at + 1] != 'u' || !read_hex4(p, n, at + 2, &low) || low < 0xDC00 ||
                    low > 0xDFFF)
                    return 1;
                at += 6;
            }
        } else if (c != '"' && c != '\\' && c != '/' && c != 'b' && c != 'f' && c != 'n' && c != 'r' && c != 't') {
            return 1;
        }
    }
    *i = at;
    return 0;
}

/* Whether p[*i] starts the literal ``word``; if so *i is moved past it. */
static int literal(const char *p, Py_ssize_t n, Py_ssize_t *i, const char *word, Py_ssize_t len) {
    if (n - *i < len || memcmp(p + *i, word, (size_t)len) != 0) return 0;
    *i += len;
    return 1;
}

/* An array of strings at p[*i]: 0 and *i past it, 1 not usual. */
static int string_array(const char *p, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t at = *i;
    if (at == n || p[at] != '[') return 1;
    at = skip_space(p, n, at + 1);
    if (at < n && p[at] == ']') {
        *i = at + 1;
        return 0;
    }
    for (;;) {
        if (string_span(p, n, &at) != 0) return 1;
        at = skip_space(p, n, at);
        if (at < n && p[at] == ']') break;
        if (at == n || p[at] != ',') return 1;
        at = skip_space(p, n, at + 1);
    }
    *i = at + 1;
    return 0;
}

/* An integer of at most MAX_TIMESTAMP_DIGITS digits at p[*i], by JSON's grammar: 0 and *i past it,
 * 1 anything else (a fraction or an exponent makes a float). */
static int small_integer(const char *p, Py_ssize_t n, Py_ssize_t *i) {
    Py_ssize_t at = *i;
    if (at < n && p[at] == '-') at++;
    Py_ssize_t digits = digit_run(p + at, n - at);
    if (digits == 0 || digits > MAX_TIMESTAMP_DIGITS || (digits > 1 && p[at] == '0')) return 1;
    at += digits;
    if (at < n && (p[at] == '.' || p[at] == 'e' || p[at] == 'E')) return 1;
    *i = at;
    return 0;
}

enum { ID = 1, TIMESTAMP = 2, MESSAGE = 4, ALL_EVENT_KEYS = 7 };

/* One log event at p[*i]: {id, timestamp, message}, each once and of its type. */
static int event_span(const char *p, Py_ssize_t n, Py_ssize_t *i) {
    int seen = 0;
    Py_ssize_t at = *i;
    if (at == n || p[at] != '{') return 1;
    at = skip_space(p, n, at + 1);
    for (;;) {
        Py_ssize_t key = at;
        if (string_span(p, n, &at) != 0) return 1;
        Py_ssize_t len = at - key - 2;
        const char *name = p + key + 1;
        int which = len == 2 && memcmp(name, "id", 2) == 0                ? ID
                    : len == 9 && memcmp(name, "timestamp", 9) == 0     ? TIMESTAMP
                    : len == 7 && memcmp(name, "message", 7) == 0       ? MESSAGE
                                                                        : 0;
        if (which == 0 || (seen & which)) return 1;
        seen |= which;
        at = skip_space(p, n, at);
        if (at == n || p[at] != ':') return 1;
        at = skip_space(p, n, at + 1);
        if ((which == TIMESTAMP ? small_integer(p, n, &at) : string_span(p, n, &at)) != 0) return 1;
        at = skip_space(p, n, at);
        if (at < n && p[at] == '}') break;
        if (at == n || p[at] != ',') return 1;
        at = skip_space(p, n, at + 1);
    }
    if (seen != ALL_EVENT_KEYS) return 1;
    *i = at + 1;
    return 0;
}

/* The logEvents array at p[*i]: 0, *i past it and *count; 1 not usual. */
static int events_span(const char *p, Py_ssize_t n, Py_ssize_t *i, Py_ssize_t *count) {
    Py_ssize_t at = *i;
    *count = 0;
    if (at == n || p[at] != '[') return 1;
    at = skip_space(p, n, at + 1);
    if (at < n && p[at] == ']') {
        *i = at + 1;
        return 0;
    }
    for (;;) {
        if (event_span(p, n, &at) != 0) return 1;
        ++*count;
        at = skip_space(p, n, at);
        if (at < n && p[at] == ']') break;
        if (at == n || p[at] != ',') return 1;
        at = skip_space(p, n, at + 1);
    }
    *i = at + 1;
    return 0;
}

enum {
    MESSAGE_TYPE = 1,
    OWNER = 2,
    LOG_GROUP = 4,
    LOG_STREAM = 8,
    FILTERS = 16,
    POLICY_LEVEL = 32,
    SOURCE_HINT = 64,
    LOG_EVENTS = 128,
};

static const struct {
    const char *name;
    int key;
} ENVELOPE[] = {
    {"messageType", MESSAGE_TYPE}, {"owner", OWNER},        {"logGroup", LOG_GROUP},
    {"logStream", LOG_STREAM},     {"subscriptionFilters", FILTERS}, {"policyLevel", POLICY_LEVEL},
    {"streamProcessorSource", SOURCE_HINT}, {"logEvents", LOG_EVENTS},
};

static int envelope_key(const char *name, Py_ssize_t len) {
    for (size_t k = 0; k < sizeof ENVELOPE / sizeof ENVELOPE[0]; k++)
        if ((Py_ssize_t)strlen(ENVELOPE[k].name) == len && memcmp(ENVELOPE[k].name, name, (size_t)len) == 0)
            return ENVELOPE[k].key;
    return 0;
}

/* The subscription message p[0..n): 0, *events and *control (whether it is a control message); 1 not
 * usual. */
static int count_message(const char *p, Py_ssize_t n, Py_ssize_t *events, int *control) {
    int seen = 0, group_empty = 1, stream_empty = 1;
    *control = -1;
    Py_ssize_t at = skip_space(p, n, 0);
    if (at == n || p[at] != '{') return 1;
    at = skip_space(p, n, at + 1);
    if (at < n && p[at] == '}') return 1; /* no messageType */
    for (;;) {
        Py_ssize_t start = at;
        if (string_span(p, n, &at) != 0) return 1;
        int key = envelope_key(p + start + 1, at - start - 2);
        if (key == 0 || (seen & key)) return 1;
        seen |= key;
        at = skip_space(p, n, at);
        if (at == n || p[at] != ':') return 1;
        at = skip_space(p, n, at + 1);
        start = at;
        switch (key) {
        case MESSAGE_TYPE:
            if (string_span(p, n, &at) != 0) return 1;
            if (at - start == 14 && memcmp(p + start, "\"DATA_MESSAGE\"", 14) == 0) {
                *control = 0;
            } else if (at - start == 17 && memcmp(p + start, "\"CONTROL_MESSAGE\"", 17) == 0) {
                *control = 1;
            } else {
                return 1;
            }
            break;
        case LOG_GROUP:
        case LOG_STREAM:
        case OWNER:
            if (string_span(p, n, &at) != 0) return 1;
            if (key == LOG_GROUP) group_empty = at - start == 2;
            if (key == LOG_STREAM) stream_empty = at - start == 2;
            break;
        case POLICY_LEVEL:
        case SOURCE_HINT:
            if (!literal(p, n, &at, "null", 4) && string_span(p, n, &at) != 0) return 1;
            break;
        case FILTERS:
            if (string_array(p, n, &at) != 0) return 1;
            break;
        default: /* LOG_EVENTS */
            if (events_span(p, n, &at, events) != 0) return 1;
        }
        at = skip_space(p, n, at);
        if (at < n && p[at] == '}') break;
        if (at == n || p[at] != ',') return 1;
        at = skip_space(p, n, at + 1);
    }
    if (skip_space(p, n, at + 1) != n) return 1; /* anything after the object */
    if (!(seen & MESSAGE_TYPE) || !(seen & LOG_EVENTS)) return 1;
    if (*control == 0 && (group_empty || stream_empty)) return 1;
    return 0;
}

static PyObject *count_events(PyObject *module, PyObject *text) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(text, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *p = view.buf;
    Py_ssize_t n = view.len, events = 0;
    int control = 0;
    int status = !valid_utf8((const unsigned char *)p, n) || count_message(p, n, &events, &control) != 0;
    PyBuffer_Release(&view);
    if (status != 0) Py_RETURN_NONE;
    return Py_BuildValue("nn", events, control ? events : 0);
}

static PyMethodDef METHODS[] = {
    {"count_events", count_events, METH_O,
     "count_events(text) -> (events, control_events) | None\n"
     "A subscription message's log events, counted; None to leave it to the Python path."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "stream_processor.firehose._native_census", NULL, 0,
                                    METHODS, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_census(void) { return PyModuleDef_Init(&MODULE); }
