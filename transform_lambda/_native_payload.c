/* Decode stage, native (the compiled build, and the local twin's build): a subscription message's
 * JSON read straight into its Payload.
 *
 * Input: the inflated JSON of one record, and the Payload and LogEvent types. Output: its Payload, as
 * payload_structs.read_payload (msgspec) and decode's standard path build it; or None when the
 * message is not the usual one _subscription.h walks, or a string in it is not valid UTF-8: then
 * decode's other paths read it, so every error and every odd case is theirs. The usual message's log
 * events become LogEvents (id, timestamp, message, None) as they are read, without a struct or dict
 * per event first. tests/unit/test_native_payload.py holds it to payload_structs and decode.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "_json_text.h"
#include "_subscription.h"

/* Every reference and buffer the walk left in b. */
static void built_clear(Built *b) {
    Py_CLEAR(b->owner);
    Py_CLEAR(b->group);
    Py_CLEAR(b->stream);
    Py_CLEAR(b->filters);
    Py_CLEAR(b->policy);
    Py_CLEAR(b->hint);
    for (Py_ssize_t k = 0; k < b->count; k++) Py_DECREF(b->events[k]);
    PyMem_Free(b->events);
    PyMem_Free(b->scratch.buf);
}

/* A built part, or the value it has when the message leaves it out: a new reference. */
static PyObject *or_default(PyObject *built, PyObject *absent) { return Py_NewRef(built != NULL ? built : absent); }

static PyObject *payload_of(Built *b, PyObject *payload_type, int control) {
    PyObject *result = NULL, *parts[8] = {NULL};
    PyObject *empty = PyUnicode_FromStringAndSize("", 0);
    if (empty == NULL) return NULL;
    parts[0] = PyUnicode_FromString(control ? "CONTROL_MESSAGE" : "DATA_MESSAGE");
    parts[1] = or_default(b->owner, empty);
    parts[2] = or_default(b->group, empty);
    parts[3] = or_default(b->stream, empty);
    parts[4] = b->filters != NULL ? PyList_AsTuple(b->filters) : PyTuple_New(0);
    parts[5] = PyTuple_New(b->count);
    parts[6] = or_default(b->policy, Py_None);
    parts[7] = or_default(b->hint, Py_None);
    Py_DECREF(empty);
    for (int k = 0; k < 8; k++)
        if (parts[k] == NULL) goto done;
    for (Py_ssize_t k = 0; k < b->count; k++) PyTuple_SET_ITEM(parts[5], k, b->events[k]); /* the references move */
    b->count = 0;
    result = PyObject_Vectorcall(payload_type, parts, 8, NULL);
done:
    for (int k = 0; k < 8; k++) Py_XDECREF(parts[k]);
    return result;
}

static PyObject *read_payload(PyObject *module, PyObject *const *args, Py_ssize_t nargs) {
    (void)module;
    PyTypeObject *event_type = nargs == 3 && PyType_Check(args[2]) ? (PyTypeObject *)args[2] : NULL;
    /* LogEvent: a tuple subclass without instance fields of its own, whose items are set here */
    if (event_type == NULL || !PyType_IsSubtype(event_type, &PyTuple_Type) ||
        event_type->tp_basicsize != PyTuple_Type.tp_basicsize || !PyCallable_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "read_payload(body, payload_type, event_type)");
        return NULL;
    }
    Py_buffer view;
    if (PyObject_GetBuffer(args[0], &view, PyBUF_SIMPLE) < 0) return NULL;
    Built b;
    memset(&b, 0, sizeof b);
    b.event_type = event_type;
    Py_ssize_t events;
    int control;
    PyObject *result = NULL;
    int status = walk_message(view.buf, view.len, &b, &events, &control);
    if (status == 0) {
        result = payload_of(&b, args[1], control);
    } else if (status == 1) {
        result = Py_NewRef(Py_None);
    }
    built_clear(&b);
    PyBuffer_Release(&view);
    return result;
}

static PyMethodDef METHODS[] = {
    {"read_payload", (PyCFunction)(void (*)(void))read_payload, METH_FASTCALL,
     "read_payload(body, payload_type, event_type) -> Payload | None\n"
     "The usual subscription message's Payload, or None to leave the message to decode's other paths."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef MODULE = {PyModuleDef_HEAD_INIT, "transform_lambda._native_payload", NULL, 0, METHODS,
                                    NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit__native_payload(void) { return PyModuleDef_Init(&MODULE); }
