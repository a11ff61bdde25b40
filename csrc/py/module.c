/* py/module.c — pycnn._core: the function tables and types of every binding file,
 * multi-phase init, NumPy imported once in the exec slot.
 *
 * The binding floor (csrc/py) is what Python sees: one Python type or function family
 * per file. Each function parses its arguments, checks shapes and raises clear
 * exceptions naming the op and the numbers, then calls the op's recorder pc_<op>() in
 * csrc/autograd; it records nothing itself. It calls only the floors below it
 * (autograd, core, kernels); the few Python functions it needs back are handed in by
 * pycnn/__init__.py (py/hooks.c), and the op registry (_core.op_registry()) is read
 * from ops.def. */
#define PC_NUMPY_IMPORT_HERE
#include "py/bindings.h"
#include "core/blas.h"
#include "py/layer.h"
#include "py/tensor.h"

#include <string.h>

/* set(truth of flag) for a per-thread switch; returns its previous state as a bool */
static PyObject *
set_switch(int (*set)(int), PyObject *flag)
{
    int on = PyObject_IsTrue(flag);
    if (on < 0)
        return NULL;
    return PyBool_FromLong(set(on));
}

static PyObject *
py_set_grad_enabled(PyObject *Py_UNUSED(m), PyObject *flag)
{
    return set_switch(pc_set_grad_enabled, flag);
}

static PyObject *
py_is_grad_enabled(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return PyBool_FromLong(pc_grad_enabled());
}

static PyObject *
py_set_keep_grads(PyObject *Py_UNUSED(m), PyObject *flag)
{
    return set_switch(pc_set_keep_grads, flag);
}

static PyObject *
py_last_kept_root(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return pc_last_kept_root();
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

/* What op_registry() adds to pc_op_table: the backward's C name, and for the rows of a
 * kernel family the kernel stem (pc_<kernel>_forward_f32...) and the pycnn function */
static const char *const backward_names[PC_OP_COUNT] = {
#define OP(op, name, n_in, bwd, family, inputs) [PC_OP_##op] = #bwd,
#include "autograd/ops.def"
};

static const struct {
    const char *kernel, *function;
    int activation;
} op_kernels[PC_OP_COUNT] = {
#define OP(...)
#define UNARY(op, name, kernel, pyname, doc, act) [PC_OP_##op] = {#kernel, pyname, act},
#define BINARY(op, name, kernel, pyname, doc) [PC_OP_##op] = {#kernel, pyname, 0},
#define SCALED(op, name, kernel, alpha, doc) [PC_OP_##op] = {#kernel, name, 0},
#define AXIS(op, name, kernel, reads_output, doc) [PC_OP_##op] = {#kernel, name, 0},
#define ROW_LOSS(op, name, kernel, samples) [PC_OP_##op] = {#kernel, NULL, 0},
#define SPARSE_LOSS(op, name, kernel) [PC_OP_##op] = {#kernel, NULL, 0},
#include "autograd/ops.def"
};

/* {name, family, arity, differentiable_inputs, backward, kernel, function, activation}
 * for op i */
static PyObject *
registry_entry(int i)
{
    const pc_op_info *info = &pc_op_table[i];
    PyObject *inputs = PyUnicode_FromString(info->inputs), *names = NULL, *entry = NULL;

    if (inputs != NULL && (names = PyUnicode_Split(inputs, NULL, -1)) != NULL)
        entry = Py_BuildValue("{s:s,s:s,s:i,s:O,s:s,s:z,s:z,s:O}", "name", info->name,
                              "family", info->family, "arity", info->n_inputs,
                              "differentiable_inputs", names, "backward", backward_names[i],
                              "kernel", op_kernels[i].kernel, "function",
                              op_kernels[i].function, "activation",
                              op_kernels[i].activation ? Py_True : Py_False);
    Py_XDECREF(inputs);
    Py_XDECREF(names);
    return entry;
}

static PyObject *
py_op_registry(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    PyObject *list = PyList_New(PC_OP_COUNT);
    for (int i = 0; list != NULL && i < PC_OP_COUNT; i++) {
        PyObject *entry = registry_entry(i);
        if (entry == NULL)
            Py_CLEAR(list);
        else
            PyList_SET_ITEM(list, i, entry);
    }
    return list;
}

static PyMethodDef module_functions[] = {
    {"_set_grad_enabled", py_set_grad_enabled, METH_O,
     "_set_grad_enabled(flag) -> previous flag (for pycnn.no_grad)"},
    {"is_grad_enabled", py_is_grad_enabled, METH_NOARGS,
     "is_grad_enabled()\n--\n\nFalse inside `with pycnn.no_grad()`"},
    {"_set_keep_grads", py_set_keep_grads, METH_O,
     "_set_keep_grads(flag)\n--\n\nReturns the previous flag (for pycnn.keep_grads)"},
    {"_last_kept_root", py_last_kept_root, METH_NOARGS,
     "_last_kept_root()\n--\n\nthe root of the last backward that kept every gradient, or None"},
    {"op_names", py_op_names, METH_NOARGS, "op_names()\n--\n\nevery op of ops.def, in order"},
    {"op_registry", py_op_registry, METH_NOARGS,
     "op_registry()\n--\n\none dict per op of ops.def, in order: name, family, arity (-1: any\n"
     "number), differentiable_inputs, backward (its C function), kernel (the kernel stem,\n"
     "or None), function (the pycnn function recording it, or None) and activation (a\n"
     "name pycnn.activations.get resolves through the registry)"},
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
#define LAYER_FILE(stem)                                                                    \
    if (pc_##stem##_exec(m) < 0)                                                            \
        return -1;
#include "py/layer_files.def"
#undef LAYER_FILE
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
