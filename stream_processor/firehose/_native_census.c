/* Census stage, native (the local twin's, built for the tooling's Python): a subscription message's
 * log events counted without building them.
 *
 * Input: the inflated text of a record (census._plain_census's). Output: (events, control events),
 * or None on anything this counter does not know to be usual; then census.py's Python path counts,
 * so a record's census never depends on this module. Counted is only valid UTF-8 holding the usual
 * subscription message transform_lambda/_subscription.h walks (the one the transform's C payload
 * reader builds), which orjson and plain_envelope surely accept and decode_data then decodes into
 * one payload with these events. tests/twin/test_census_counter.py holds it to the Python path.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>

#include "../../transform_lambda/_json_text.h"
#include "../../transform_lambda/_subscription.h"
#include "_utf8.h"

static PyObject *count_events(PyObject *module, PyObject *text) {
    (void)module;
    Py_buffer view;
    if (PyObject_GetBuffer(text, &view, PyBUF_SIMPLE) < 0) return NULL;
    const char *p = view.buf;
    Py_ssize_t n = view.len, events = 0;
    int control = 0;
    int status = !valid_utf8((const unsigned char *)p, n) || walk_message(p, n, NULL, &events, &control) != 0;
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
