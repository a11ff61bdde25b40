/* py/module.c — pycnn._core: the function tables and types of every binding file,
 * multi-phase init, NumPy imported once in the exec slot. */
#define PC_NUMPY_IMPORT_HERE
#include "py/bindings.h"
#include "core/blas.h"
#include "py/layer.h"
#include "py/tensor.h"

#include <string.h>

static PyObject *
py_set_grad_enabled(PyObject *Py_UNUSED(m), PyObject *flag)
{
    int on = PyObject_IsTrue(flag);
    if (on < 0)
        return NULL;
    return PyBool_FromLong(pc_set_grad_enabled(on));
}

static PyObject *
py_is_grad_enabled(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(pc_grad_enabled());
}

static PyObject *
py_op_names(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    PyObject *t = PyTuple_New(PC_OP_COUNT);
    if (t == NULL)
        return NULL;
    for (int i = 0; i < PC_OP_COUNT; i++) {
        PyObject *s = PyUnicode_FromString(pc_op_table[i].name);
        if (s == NULL) {
            Py_DECREF(t);
            return NULL;
        }
        PyTuple_SET_ITEM(t, i, s);
    }
    return t;
}

static PyMethodDef module_functions[] = {
    {"_set_grad_enabled", py_set_grad_enabled, METH_O,
     "_set_grad_enabled(flag) -> previous flag (for pycnn.no_grad)"},
    {"is_grad_enabled", py_is_grad_enabled, METH_NOARGS,
     "is_grad_enabled(): False inside `with pycnn.no_grad()`"},
    {"op_names", py_op_names, METH_NOARGS, "op_names(): every op of ops.def, in order"},
    {NULL, NULL, 0, NULL},
};

/* Every binding file's function table, in one list */
static PyMethodDef *const function_tables[] = {
    module_functions,
    pc_tensor_functions,
    pc_elementwise_functions,
    pc_reduce_functions,
    pc_shape_functions,
    pc_matmul_functions,
    pc_activation_functions,
    pc_loss_functions,
    pc_optim_functions,
    pc_hooks_functions,
    pc_bufpool_functions,
    pc_threads_functions,
    pc_interop_functions,
    pc_blas_functions,
    pc_boxes_functions,
    pc_shapes_functions,
};

PyObject *
pc_core_function(const char *name)
{
    static PyObject *module_name = NULL;        /* "pycnn._core", as m_module */
    if (module_name == NULL && (module_name = PyUnicode_FromString("pycnn._core")) == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(function_tables) / sizeof(function_tables[0]); i++)
        for (PyMethodDef *def = function_tables[i]; def->ml_name != NULL; def++)
            if (strcmp(def->ml_name, name) == 0)
                return PyCFunction_NewEx(def, NULL, module_name);
    PyErr_Format(PyExc_AttributeError, "pycnn._core has no function %s", name);
    return NULL;
}

static int
pycnn_exec(PyObject *m)
{
    if (PyArray_ImportNumPyAPI() < 0)
        return -1;
    pc_blas_init();
    if (pc_tensor_type_ready() < 0)
        return -1;
    if (PyModule_AddObjectRef(m, "Tensor", (PyObject *)&Tensor_Type) < 0)
        return -1;
    if (pc_layer_exec(m) < 0 || pc_dense_exec(m) < 0 || pc_layers_misc_exec(m) < 0 ||
        pc_conv2d_exec(m) < 0 || pc_pool_exec(m) < 0 || pc_activation_layers_exec(m) < 0 ||
        pc_norm_exec(m) < 0 || pc_spatial_exec(m) < 0 ||
        pc_layer_norm_exec(m) < 0 || pc_preprocessing_exec(m) < 0 || pc_augment_exec(m) < 0 ||
        pc_augment_crop_exec(m) < 0)
        return -1;
    for (size_t i = 0; i < sizeof(function_tables) / sizeof(function_tables[0]); i++)
        if (PyModule_AddFunctions(m, function_tables[i]) < 0)
            return -1;
    return 0;
}

static PyModuleDef_Slot module_slots[] = {
    {Py_mod_exec, pycnn_exec},
    {0, NULL},
};

static struct PyModuleDef module_def = {
    PyModuleDef_HEAD_INIT,
    .m_name = "pycnn._core",
    .m_doc = "pycnn's C core: the Tensor, the graph of tensors and every kernel.",
    .m_size = 0,
    .m_slots = module_slots,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    return PyModuleDef_Init(&module_def);
}
