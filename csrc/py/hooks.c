/* py/hooks.c — the Python functions the binding floor calls back, handed in once.
 *
 * A few C paths need Python code of the package: resolving an activation by name
 * (pycnn.activations.get / serialize), inspecting a Python call() for training=
 * (pycnn.layers._call_accepts_training), the graph of layers (a layer called on a
 * pycnn.Input's KerasTensor goes to pycnn.models.graph.symbolic_call; activity
 * regularizers to pycnn.layers.base._activity_loss), and the teaching hooks t._repr_latex_() and
 * t.explain(), t.explain_grad() (pycnn.display.tensor_latex, pycnn.explain.explain,
 * pycnn.explain.backward.explain_grad). Instead of
 * importing those modules at run time (an upward import into the package, and an
 * import cycle during pycnn's own import), pycnn/__init__.py hands the callables in
 * through _core._register_hooks(...) once its submodules are imported. C's own
 * functions used as layer callables (Activation layers) come from the module's
 * method tables (pc_core_function), not through an import of pycnn._core.
 */
#include "py/bindings.h"

static const char *const hook_names[PC_HOOK_COUNT] = {
    [PC_HOOK_ACTIVATIONS_GET] = "activations_get",
    [PC_HOOK_ACTIVATIONS_SERIALIZE] = "activations_serialize",
    [PC_HOOK_CALL_ACCEPTS_TRAINING] = "call_accepts_training",
    [PC_HOOK_TENSOR_LATEX] = "tensor_latex",
    [PC_HOOK_EXPLAIN] = "explain",
    [PC_HOOK_KERAS_TENSOR] = "keras_tensor",
    [PC_HOOK_SYMBOLIC_CALL] = "symbolic_call",
    [PC_HOOK_ACTIVITY_LOSS] = "activity_loss",
    [PC_HOOK_EXPLAIN_GRAD] = "explain_grad",
};

static PyObject *hooks[PC_HOOK_COUNT];          /* owned; live as long as the process */

PyObject *
pc_call_hook(pc_hook which, PyObject *arg)
{
    if (hooks[which] == NULL) {
        PyErr_Format(PyExc_RuntimeError, "pycnn._core: the Python hook %s is not registered "
                     "(import pycnn, which registers it, before using pycnn._core)",
                     hook_names[which]);
        return NULL;
    }
    return PyObject_CallOneArg(hooks[which], arg);
}

PyObject *
pc_hook_object(pc_hook which)
{
    return hooks[which];
}

/* _register_hooks(**callables): each keyword one of hook_names */
static PyObject *
py_register_hooks(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;

    if (PyTuple_GET_SIZE(args) != 0) {
        PyErr_SetString(PyExc_TypeError, "_register_hooks() takes keyword arguments only");
        return NULL;
    }
    while (kwargs != NULL && PyDict_Next(kwargs, &pos, &key, &value)) {
        int which = -1;
        for (int i = 0; i < PC_HOOK_COUNT; i++)
            if (PyUnicode_CompareWithASCIIString(key, hook_names[i]) == 0)
                which = i;
        if (which < 0) {
            PyErr_Format(PyExc_TypeError, "_register_hooks: unknown hook %R", key);
            return NULL;
        }
        if (!PyCallable_Check(value)) {
            PyErr_Format(PyExc_TypeError, "_register_hooks: %R must be callable, got %.100s",
                         key, Py_TYPE(value)->tp_name);
            return NULL;
        }
        Py_XSETREF(hooks[which], Py_NewRef(value));
    }
    Py_RETURN_NONE;
}

PyMethodDef pc_hooks_functions[] = {
    {"_register_hooks", PC_KW(py_register_hooks),
     "_register_hooks(**callables)\n--\n\nthe Python functions C calls back (pycnn/__init__.py)"},
    {NULL, NULL, 0, NULL},
};
