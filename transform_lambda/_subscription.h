/* A CloudWatch Logs subscription message's JSON, walked in C: shared by the transform's payload
 * reader (transform_lambda/_native_payload.c, which builds the payload's objects as it walks) and
 * the twin's census (stream_processor/firehose/_native_census.c, which only counts). Include it
 * after _json_text.h.
 *
 * Walked is only the usual message, the one every reader of it takes the same way (json.loads,
 * orjson, msgspec's payload_structs, decode's plain_envelope):
 *   - one JSON object, with JSON whitespace around and between its tokens;
 *   - its keys among the envelope's, each once and spelled without escapes (a key is compared as
 *     spelled, so an escape makes it match nothing): messageType, exactly DATA_MESSAGE or
 *     CONTROL_MESSAGE, spelled so; owner, logGroup and logStream, strings; subscriptionFilters, an
 *     array of strings; policyLevel and streamProcessorSource, a string or null; logEvents, an array
 *     of events; messageType and logEvents present, and a data message's logGroup and logStream
 *     present and not empty;
 *   - each event an object of exactly id (a string), timestamp (an integer of at most 18 digits)
 *     and message (a string), each once;
 *   - strings without raw control characters, with valid escapes and no lone surrogate.
 * Anything else is "not usual" (1): the caller's Python path decides. UTF-8 is checked by the caller
 * (the census, of the whole text) or as each string is made (the payload reader).
 */
#ifndef STREAM_PROCESSOR_SUBSCRIPTION_H
#define STREAM_PROCESSOR_SUBSCRIPTION_H

#define MAX_TIMESTAMP_DIGITS 18 /* an int, of 64 bits, to every reader whatever its sign */

/* What the walk builds, when it builds (the payload reader); a census passes NULL. */
typedef struct {
    PyTypeObject *event_type; /* LogEvent: a tuple of (id, timestamp, message, extracted fields) */
    Out scratch;              /* a string's value, when it has escapes */
    PyObject *owner, *group, *stream, *filters, *policy, *hint; /* new references, or NULL */
    PyObject **events;                                          /* new references */
    Py_ssize_t count, cap;
} Built;

/* The JSON string at p[*i] (its opening quote): 0 and *i past its closing quote, 1 not usual, -1
 * error set. With ``made``, its value as a new str there (invalid UTF-8 is not usual); without, it
 * is only checked. */
static int walk_string(const char *p, Py_ssize_t n, Py_ssize_t *i, Out *scratch, PyObject **made) {
    if (*i == n || p[*i] != '"') return 1;
    if (made == NULL) { /* checked only: escapes, surrogate pairs and the closing quote */
        unsigned code;
        for (Py_ssize_t at = plain_run(p, *i + 1, n);; at = plain_run(p, at, n)) {
            if (at == n || (unsigned char)p[at] < 0x20) return 1; /* unterminated, or a raw control character */
            if (p[at++] == '"') {
                *i = at;
                return 0;
            }
            if (!read_escape(p, n, &at, &code)) return 1;
        }
    }
    const char *value;
    Py_ssize_t len;
    int status = read_json_view(p, n, i, scratch, &value, &len);
    if (status != 0) return status;
    *made = PyUnicode_DecodeUTF8(value, len, NULL);
    if (*made != NULL) return 0;
    if (!PyErr_ExceptionMatches(PyExc_UnicodeDecodeError)) return -1;
    PyErr_Clear();
    return 1;
}

/* Whether p[*i] starts the literal ``word``; if so *i is moved past it. */
static int walk_literal(const char *p, Py_ssize_t n, Py_ssize_t *i, const char *word, Py_ssize_t len) {
    if (n - *i < len || memcmp(p + *i, word, (size_t)len) != 0) return 0;
    *i += len;
    return 1;
}

/* An integer of at most MAX_TIMESTAMP_DIGITS digits at p[*i], by JSON's grammar: 0, *i past it and
 * its value; 1 anything else (a fraction or an exponent makes a float). */
static int walk_integer(const char *p, Py_ssize_t n, Py_ssize_t *i, int64_t *value) {
    Py_ssize_t at = *i;
    int negative = at < n && p[at] == '-';
    at += negative;
    Py_ssize_t digits = digit_run(p + at, n - at);
    if (digits == 0 || digits > MAX_TIMESTAMP_DIGITS || (digits > 1 && p[at] == '0')) return 1;
    int64_t v = 0;
    for (Py_ssize_t k = 0; k < digits; k++) v = v * 10 + (p[at + k] - '0');
    at += digits;
    if (at < n && (p[at] == '.' || p[at] == 'e' || p[at] == 'E')) return 1;
    *value = negative ? -v : v;
    *i = at;
    return 0;
}

/* After an array's or object's member at p[*i]: 0 and *i past a ',' (and the space after it), 2 and
 * *i past the closing ``close``, 1 anything else. */
static int walk_next(const char *p, Py_ssize_t n, Py_ssize_t *i, char close) {
    Py_ssize_t at = skip_space(p, n, *i);
    if (at == n) return 1;
    if (p[at] == close) {
        *i = at + 1;
        return 2;
    }
    if (p[at] != ',') return 1;
    *i = skip_space(p, n, at + 1);
    return 0;
}

/* The opening ``open`` of an array or object at p[*i]: 0 and *i at its first member, 2 and *i past
 * it when it is empty, 1 not there. */
static int walk_open(const char *p, Py_ssize_t n, Py_ssize_t *i, char open, char close) {
    if (*i == n || p[*i] != open) return 1;
    Py_ssize_t at = skip_space(p, n, *i + 1);
    if (at < n && p[at] == close) {
        *i = at + 1;
        return 2;
    }
    *i = at;
    return 0;
}

/* A key at p[*i] and the ':' after it: 0, *i at the value and the key as spelled; 1 not usual. */
static int walk_key(const char *p, Py_ssize_t n, Py_ssize_t *i, const char **key, Py_ssize_t *len) {
    Py_ssize_t at = *i;
    if (walk_string(p, n, &at, NULL, NULL) != 0) return 1;
    *key = p + *i + 1;
    *len = at - *i - 2;
    at = skip_space(p, n, at);
    if (at == n || p[at] != ':') return 1;
    *i = skip_space(p, n, at + 1);
    return 0;
}

#define KEY_IS(key, len, name) ((len) == (Py_ssize_t)sizeof(name) - 1 && memcmp((key), (name), sizeof(name) - 1) == 0)

/* Room for one more event in b->events: 0, or -1 with MemoryError set. */
static int events_room(Built *b) {
    if (b->count < b->cap) return 0;
    Py_ssize_t cap = b->cap < 64 ? 64 : b->cap * 2;
    PyObject **events = PyMem_Realloc(b->events, (size_t)cap * sizeof(PyObject *));
    if (events == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    b->events = events, b->cap = cap;
    return 0;
}

enum { EVENT_ID = 1, EVENT_TIMESTAMP = 2, EVENT_MESSAGE = 4, EVENT_KEYS = 7 };

/* One log event at p[*i]; with b, built into a LogEvent appended to b->events. */
static int walk_event(const char *p, Py_ssize_t n, Py_ssize_t *i, Built *b) {
    PyObject *value[3] = {NULL, NULL, NULL}; /* id, timestamp, message */
    int seen = 0, status = walk_open(p, n, i, '{', '}');
    if (status != 0) return 1; /* an empty object is not an event */
    while (status == 0) {
        const char *key;
        Py_ssize_t len;
        if (walk_key(p, n, i, &key, &len) != 0) goto unusual;
        int which = KEY_IS(key, len, "id")          ? EVENT_ID
                    : KEY_IS(key, len, "timestamp") ? EVENT_TIMESTAMP
                    : KEY_IS(key, len, "message")   ? EVENT_MESSAGE
                                                    : 0;
        if (which == 0 || (seen & which)) goto unusual;
        seen |= which;
        if (which == EVENT_TIMESTAMP) {
            int64_t timestamp;
            if (walk_integer(p, n, i, &timestamp) != 0) goto unusual;
            if (b != NULL && (value[1] = PyLong_FromLongLong(timestamp)) == NULL) goto failed;
        } else {
            PyObject **made = b == NULL ? NULL : &value[which == EVENT_ID ? 0 : 2];
            if ((status = walk_string(p, n, i, b == NULL ? NULL : &b->scratch, made)) != 0) {
                if (status < 0) goto failed;
                goto unusual;
            }
        }
        status = walk_next(p, n, i, '}');
    }
    if (status != 2 || seen != EVENT_KEYS) goto unusual;
    if (b != NULL) {
        if (events_room(b) < 0) goto failed;
        PyObject *event = b->event_type->tp_alloc(b->event_type, 4);
        if (event == NULL) goto failed;
        for (int k = 0; k < 3; k++) PyTuple_SET_ITEM(event, k, value[k]);
        PyTuple_SET_ITEM(event, 3, Py_NewRef(Py_None));
        b->events[b->count++] = event;
    }
    return 0;
unusual:
    status = 1;
    goto done;
failed:
    status = -1;
done:
    for (int k = 0; k < 3; k++) Py_XDECREF(value[k]);
    return status;
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

static int envelope_key(const char *key, Py_ssize_t len) {
    return KEY_IS(key, len, "messageType")             ? MESSAGE_TYPE
           : KEY_IS(key, len, "owner")                 ? OWNER
           : KEY_IS(key, len, "logGroup")              ? LOG_GROUP
           : KEY_IS(key, len, "logStream")             ? LOG_STREAM
           : KEY_IS(key, len, "subscriptionFilters")   ? FILTERS
           : KEY_IS(key, len, "policyLevel")           ? POLICY_LEVEL
           : KEY_IS(key, len, "streamProcessorSource") ? SOURCE_HINT
           : KEY_IS(key, len, "logEvents")             ? LOG_EVENTS
                                                       : 0;
}

/* A string member of the envelope into *slot (with b), or only checked. */
static int walk_member_string(const char *p, Py_ssize_t n, Py_ssize_t *i, Built *b, PyObject **slot) {
    return walk_string(p, n, i, b == NULL ? NULL : &b->scratch, b == NULL ? NULL : slot);
}

/* The subscription message p[0..n): 0, *events and *control (whether it is a control message),
 * with b its parts built; 1 not usual; -1 error set. With b, the caller clears it whatever the
 * outcome. */
static int walk_message(const char *p, Py_ssize_t n, Built *b, Py_ssize_t *events, int *control) {
    int seen = 0, group_empty = 1, stream_empty = 1, status;
    Py_ssize_t i = skip_space(p, n, 0);
    *events = 0;
    *control = -1;
    if ((status = walk_open(p, n, &i, '{', '}')) != 0) return 1; /* no messageType */
    while (status == 0) {
        const char *key;
        Py_ssize_t len, start;
        if (walk_key(p, n, &i, &key, &len) != 0) return 1;
        int which = envelope_key(key, len);
        if (which == 0 || (seen & which)) return 1;
        seen |= which;
        start = i;
        switch (which) {
        case MESSAGE_TYPE:
            if (walk_literal(p, n, &i, "\"DATA_MESSAGE\"", 14)) {
                *control = 0;
            } else if (walk_literal(p, n, &i, "\"CONTROL_MESSAGE\"", 17)) {
                *control = 1;
            } else {
                return 1;
            }
            break;
        case OWNER:
            status = walk_member_string(p, n, &i, b, b == NULL ? NULL : &b->owner);
            break;
        case LOG_GROUP:
            status = walk_member_string(p, n, &i, b, b == NULL ? NULL : &b->group);
            group_empty = i - start == 2;
            break;
        case LOG_STREAM:
            status = walk_member_string(p, n, &i, b, b == NULL ? NULL : &b->stream);
            stream_empty = i - start == 2;
            break;
        case POLICY_LEVEL:
        case SOURCE_HINT:
            if (!walk_literal(p, n, &i, "null", 4))
                status = walk_member_string(p, n, &i, b, b == NULL ? NULL : which == POLICY_LEVEL ? &b->policy : &b->hint);
            break;
        case FILTERS:
            if (b != NULL && (b->filters = PyList_New(0)) == NULL) return -1;
            status = walk_open(p, n, &i, '[', ']');
            while (status == 0) {
                PyObject *filter = NULL;
                if ((status = walk_member_string(p, n, &i, b, &filter)) != 0) break;
                if (filter != NULL) {
                    int appended = PyList_Append(b->filters, filter);
                    Py_DECREF(filter);
                    if (appended < 0) return -1;
                }
                status = walk_next(p, n, &i, ']');
            }
            if (status == 2) status = 0;
            break;
        default: /* LOG_EVENTS */
            status = walk_open(p, n, &i, '[', ']');
            while (status == 0) {
                if ((status = walk_event(p, n, &i, b)) != 0) break;
                ++*events;
                status = walk_next(p, n, &i, ']');
            }
            if (status == 2) status = 0;
        }
        if (status != 0) return status;
        status = walk_next(p, n, &i, '}');
    }
    if (status != 2 || skip_space(p, n, i) != n) return 1; /* anything after the object */
    if (!(seen & MESSAGE_TYPE) || !(seen & LOG_EVENTS)) return 1;
    if (*control == 0 && (group_empty || stream_empty)) return 1;
    return 0;
}

#endif
