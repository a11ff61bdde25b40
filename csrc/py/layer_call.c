/* py/layer_call.c — layer(inputs, training=None, **kwargs): the one __call__ of every layer.
 *
 * The fast path (real data) stays in C: convert the inputs, build once (build(shape),
 * then built = True), resolve `training`, call self.call. What is Python's is reached
 * through the hooks pycnn/__init__.py hands in once (py/hooks.c), so C never imports
 * a module while it runs:
 *
 *   keras_tensor                         the type of symbolic tensors (pycnn.Input)
 *   symbolic_call((layer, args, kwargs)) when an input is one: builds the layer, infers
 *                                        the output and records a graph Node
 *                                        (pycnn/models/graph.py)
 *   call_accepts_training(call)          whether a Python call() takes training=
 *   activity_loss((layer, outputs))      after a call, when the layer has an
 *                                        activity_regularizer
 *
 * The call context (Keras' CallContext) lives here because C layers are the hot path:
 *   training    the flag of the outermost call that gave one; a layer called inside
 *               another without training= inherits it (Dropout inside a subclassed model)
 *   depth       how many layer calls are running
 *   generation  counts outermost calls; add_loss keeps the losses of the current one
 *               (Keras clears layer.losses when a new outermost call starts)
 * Models (Python) enter and leave the same context with Layer._enter_call/_exit_call.
 */
#include "py/bindings.h"
#include "py/layer.h"

static PyObject *ctx_training;          /* owned; NULL: no enclosing call gave training */
static Py_ssize_t ctx_depth;
static unsigned long long ctx_generation;
static PyObject *str_activity_regularizer;  /* interned "activity_regularizer"; made once */

/* ---- the context --------------------------------------------------------------------- */

/* Enters one call with flag `training` (borrowed; NULL/None: inherit). Returns the
 * previous flag (new ref or NULL) for exit_call. */
static PyObject *
enter_call(PyObject *training)
{
    PyObject *previous = ctx_training;
    if (ctx_depth++ == 0)
        ctx_generation++;
    if (training != NULL && training != Py_None)
        ctx_training = Py_NewRef(training);
    else
        ctx_training = Py_XNewRef(previous);
    return previous;
}

/* Leaves it: the flag goes back to `previous` (stolen) */
static void
exit_call(PyObject *previous)
{
    Py_XSETREF(ctx_training, previous);
    ctx_depth--;
}

/* The flag a call runs with (borrowed): its own, else the enclosing call's, else False */
static PyObject *
resolve_training(PyObject *training)
{
    if (training != NULL && training != Py_None)
        return training;
    return ctx_training != NULL ? ctx_training : Py_False;
}

/* ---- the context as static methods of Layer (models enter it from Python) ----------- */

/* _enter_call(training) -> token; _exit_call(token). A capsule-free token: the
 * previous flag itself, wrapped in a 1-tuple so None/NULL stay distinct. */
PyObject *
pc_layer_enter_call(PyObject *Py_UNUSED(cls), PyObject *training)
{
    PyObject *previous = enter_call(training);
    PyObject *token = PyTuple_Pack(1, previous != NULL ? previous : Py_Ellipsis);
    Py_XDECREF(previous);
    if (token == NULL)
        exit_call(NULL);
    return token;
}

PyObject *
pc_layer_exit_call(PyObject *Py_UNUSED(cls), PyObject *token)
{
    PyObject *previous;
    if (!PyTuple_Check(token) || PyTuple_GET_SIZE(token) != 1 || ctx_depth <= 0) {
        PyErr_SetString(PyExc_RuntimeError, "Layer._exit_call: not inside _enter_call");
        return NULL;
    }
    previous = PyTuple_GET_ITEM(token, 0);
    exit_call(previous == Py_Ellipsis ? NULL : Py_NewRef(previous));
    Py_RETURN_NONE;
}

/* _call_state() -> (generation, depth, training or None) */
PyObject *
pc_layer_call_state(PyObject *Py_UNUSED(cls), PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("KnO", ctx_generation, ctx_depth,
                         ctx_training != NULL ? ctx_training : Py_None);
}

/* ---- the inputs ---------------------------------------------------------------------- */

static int
is_keras_tensor(PyTypeObject *type, PyObject *o)
{
    return PyObject_TypeCheck(o, type);
}

/* Whether a KerasTensor is among the inputs (or one level inside a list, tuple, dict) */
static int
has_keras_tensor(PyObject *inputs)
{
    PyObject *kt = pc_hook_object(PC_HOOK_KERAS_TENSOR);         /* borrowed */
    PyTypeObject *type = kt != NULL && PyType_Check(kt) ? (PyTypeObject *)kt : NULL;
    if (type == NULL || pc_tensor_check(inputs))
        return 0;
    if (is_keras_tensor(type, inputs))
        return 1;
    if (PyList_Check(inputs) || PyTuple_Check(inputs)) {
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(inputs); i++)
            if (is_keras_tensor(type, PySequence_Fast_GET_ITEM(inputs, i)))
                return 1;
    }
    else if (PyDict_Check(inputs)) {
        PyObject *key, *value;
        Py_ssize_t pos = 0;
        while (PyDict_Next(inputs, &pos, &key, &value))
            if (is_keras_tensor(type, value))
                return 1;
    }
    return 0;
}

/* Tensors pass as they are; a list/tuple of arrays or Tensors becomes a list of Tensors
 * (a layer with several inputs), a dict passes as it is; anything else array-like
 * becomes one Tensor. New ref. */
static PyObject *
call_inputs(LayerObject *self, PyObject *inputs)
{
    const char *who = PyUnicode_AsUTF8(pc_layer_name(self));
    if (pc_tensor_check(inputs) || PyDict_Check(inputs))
        return Py_NewRef(inputs);
    if ((PyList_Check(inputs) || PyTuple_Check(inputs)) && PySequence_Fast_GET_SIZE(inputs) > 0) {
        PyObject *first = PySequence_Fast_GET_ITEM(inputs, 0), *list;
        if (!pc_tensor_check(first) && !PyArray_Check(first))
            return pc_as_tensor(inputs, -1, who);
        if ((list = PyList_New(PySequence_Fast_GET_SIZE(inputs))) == NULL)
            return NULL;
        for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
            PyObject *item = PySequence_Fast_GET_ITEM(inputs, i);
            item = pc_tensor_check(item) ? Py_NewRef(item) : pc_as_tensor(item, -1, who);
            if (item == NULL) {
                Py_DECREF(list);
                return NULL;
            }
            PyList_SET_ITEM(list, i, item);
        }
        return list;
    }
    return pc_as_tensor(inputs, -1, who);
}

/* x.shape; for a list of tensors the list of shapes, for a dict the dict of shapes
 * (what Keras' build gets) */
static PyObject *
input_shapes(PyObject *x)
{
    PyObject *shapes, *key, *value;
    Py_ssize_t pos = 0;
    if (pc_tensor_check(x))
        return PyObject_GetAttrString(x, "shape");
    if (PyDict_Check(x)) {
        if ((shapes = PyDict_New()) == NULL)
            return NULL;
        while (PyDict_Next(x, &pos, &key, &value)) {
            PyObject *s = PyObject_GetAttrString(value, "shape");
            if (s == NULL)
                PyErr_Clear();
            if (PyDict_SetItem(shapes, key, s != NULL ? s : Py_None) < 0) {
                Py_XDECREF(s);
                Py_DECREF(shapes);
                return NULL;
            }
            Py_XDECREF(s);
        }
        return shapes;
    }
    if ((shapes = PySequence_List(x)) == NULL)
        return NULL;
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(shapes); i++) {
        PyObject *item = PyList_GET_ITEM(shapes, i);
        PyObject *shape = pc_tensor_check(item) ? PyObject_GetAttrString(item, "shape")
                                                : Py_NewRef(Py_None);
        if (shape == NULL) {
            Py_DECREF(shapes);
            return NULL;
        }
        PyList_SET_ITEM(shapes, i, shape);          /* steals; drops the item */
        Py_DECREF(item);
    }
    return shapes;
}

/* ---- build once, then call ----------------------------------------------------------- */

/* build(shape of x) unless built; then built = True, and the shape is kept as
 * _build_input_shape (Keras' build config; summary() of a subclassed model). 0 or -1. */
static int
build_once(LayerObject *self, PyObject *x)
{
    PyObject *shape, *r;
    int status = -1;
    if (self->built)
        return 0;
    if (self->dtype < 0 && pc_tensor_check(x))
        self->dtype = PyArray_TYPE(PC_DATA(x));
    if ((shape = input_shapes(x)) == NULL)
        return -1;
    if ((r = pc_call_method((PyObject *)self, "build", shape)) != NULL) {
        Py_DECREF(r);
        self->built = 1;
        if (self->dict == NULL)
            self->dict = PyDict_New();              /* the instance __dict__, owned */
        if (self->dict != NULL)
            status = PyDict_SetItemString(self->dict, "_build_input_shape", shape);
    }
    Py_DECREF(shape);
    return status;
}

/* Whether self.call accepts training= : C layers do; a Python call() is asked once */
static int
call_takes_training(LayerObject *self, PyObject *meth)
{
    if (self->call_training < 0) {
        PyObject *attr = PyObject_GetAttrString((PyObject *)Py_TYPE(self), "call"), *r;
        if (attr == NULL)
            return -1;
        if (Py_IS_TYPE(attr, &PyMethodDescr_Type)) {
            self->call_training = 1;
        }
        else {
            r = pc_call_hook(PC_HOOK_CALL_ACCEPTS_TRAINING, meth);
            self->call_training = r != NULL ? PyObject_IsTrue(r) : -1;
            Py_XDECREF(r);
        }
        Py_DECREF(attr);
    }
    return self->call_training;
}

/* self.call(x, *rest, training=training, **kwargs) — training only when call takes it */
static PyObject *
run_call(LayerObject *self, PyObject *x, PyObject *rest, PyObject *kwargs,
         PyObject *training)
{
    PyObject *meth = PyObject_GetAttrString((PyObject *)self, "call"), *r = NULL;
    PyObject *args = NULL, *kw = NULL;
    int takes;

    if (meth == NULL || (takes = call_takes_training(self, meth)) < 0)
        goto done;
    if (rest == NULL && kwargs == NULL) {               /* the fast path */
        if (takes) {
            PyObject *argv[3] = {NULL, x, training}, *names = Py_BuildValue("(s)", "training");
            if (names != NULL)
                r = PyObject_Vectorcall(meth, argv + 1, 1 | PY_VECTORCALL_ARGUMENTS_OFFSET,
                                        names);
            Py_XDECREF(names);
        }
        else
            r = PyObject_CallOneArg(meth, x);
        goto done;
    }
    if ((args = PyTuple_New(1 + (rest != NULL ? PyTuple_GET_SIZE(rest) : 0))) == NULL ||
        (kw = kwargs != NULL ? PyDict_Copy(kwargs) : PyDict_New()) == NULL)
        goto done;
    PyTuple_SET_ITEM(args, 0, Py_NewRef(x));
    for (Py_ssize_t i = 0; rest != NULL && i < PyTuple_GET_SIZE(rest); i++)
        PyTuple_SET_ITEM(args, i + 1, Py_NewRef(PyTuple_GET_ITEM(rest, i)));
    if (takes && PyDict_SetItemString(kw, "training", training) < 0)
        goto done;
    r = PyObject_Call(meth, args, kw);
done:
    Py_XDECREF(meth);
    Py_XDECREF(args);
    Py_XDECREF(kw);
    return r;
}

/* After a real call: the activity regularizer's penalty, when the layer has one */
static int
activity_loss(LayerObject *self, PyObject *outputs)
{
    PyObject *reg, *pair, *r;
    if (self->dict == NULL)
        return 0;
    if (str_activity_regularizer == NULL &&
        (str_activity_regularizer = PyUnicode_InternFromString("activity_regularizer")) == NULL)
        return -1;
    reg = PyDict_GetItemWithError(self->dict, str_activity_regularizer);    /* borrowed */
    if (reg == NULL || reg == Py_None)
        return PyErr_Occurred() ? -1 : 0;
    if ((pair = PyTuple_Pack(2, (PyObject *)self, outputs)) == NULL)
        return -1;
    r = pc_call_hook(PC_HOOK_ACTIVITY_LOSS, pair);
    Py_DECREF(pair);
    Py_XDECREF(r);
    return r != NULL ? 0 : -1;
}

/* Splits (inputs, *rest) and {training, **kw}: *rest and *kw are NULL when empty (new
 * refs otherwise); *inputs and *training are borrowed from args/kwargs (*training NULL
 * when not given). 0 or -1. */
static int
split_args(PyObject *args, PyObject *kwargs, PyObject **inputs, PyObject **rest,
           PyObject **kw, PyObject **training)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args), named = 0;
    *inputs = *rest = *kw = *training = NULL;
    if (kwargs != NULL && PyDict_GET_SIZE(kwargs) > 0) {
        if ((*training = PyDict_GetItemString(kwargs, "training")) != NULL)
            named++;
        if (n == 0 && (*inputs = PyDict_GetItemString(kwargs, "inputs")) != NULL)
            named++;
        if (PyDict_GET_SIZE(kwargs) > named) {
            if ((*kw = PyDict_Copy(kwargs)) == NULL ||
                (*training != NULL && PyDict_DelItemString(*kw, "training") < 0) ||
                (n == 0 && *inputs != NULL && PyDict_DelItemString(*kw, "inputs") < 0))
                return -1;
        }
    }
    if (n > 0) {
        *inputs = PyTuple_GET_ITEM(args, 0);
        if (n > 1 && (*rest = PyTuple_GetSlice(args, 1, n)) == NULL)
            return -1;
    }
    if (*inputs == NULL) {
        PyErr_SetString(PyExc_TypeError, "__call__() missing required argument 'inputs'");
        return -1;
    }
    return 0;
}

PyObject *
pc_layer_tp_call(LayerObject *self, PyObject *args, PyObject *kwargs)
{
    PyObject *inputs, *rest = NULL, *kw = NULL, *training, *x = NULL, *previous, *r = NULL;

    if (split_args(args, kwargs, &inputs, &rest, &kw, &training) < 0 ||
        pc_layer_name(self) == NULL)
        goto done;
    if (has_keras_tensor(inputs) || (rest != NULL && has_keras_tensor(rest))) {
        PyObject *call = PyTuple_Pack(3, (PyObject *)self, args,
                                      kwargs != NULL ? kwargs : Py_None);
        r = call != NULL ? pc_call_hook(PC_HOOK_SYMBOLIC_CALL, call) : NULL;
        Py_XDECREF(call);
        goto done;
    }
    if ((x = call_inputs(self, inputs)) == NULL)
        goto done;
    training = resolve_training(training);
    previous = enter_call(training);
    if (build_once(self, x) == 0 && (r = run_call(self, x, rest, kw, training)) != NULL &&
        activity_loss(self, r) < 0)
        Py_CLEAR(r);
    exit_call(previous);
done:
    Py_XDECREF(rest);
    Py_XDECREF(kw);
    Py_XDECREF(x);
    return r;
}
