/* py/optim.c — bindings of the optimizer steps (kernels/optim.c): sgd_step, adam_step,
 * rmsprop_step. Each updates a weight and its slot buffers in place; pycnn/optimizers.py
 * allocates the slots once per weight and calls these once per weight per step.
 *
 * A weight or slot is a Tensor or a C-contiguous, aligned, writeable float32/float64
 * ndarray; its own memory is updated. The gradient may be anything pc_as_array takes
 * and is converted to the weight's dtype. All must have the weight's shape.
 */
#include "py/bindings.h"

#include "autograd/ops_elementwise.h"
#include "kernels/optim.h"

static int
shape_mismatch(const char *op, const char *what, PyArrayObject *a, PyArrayObject *w)
{
    PyObject *sa = pc_shape_tuple(PyArray_NDIM(a), PyArray_SHAPE(a));
    PyObject *sw = pc_shape_tuple(PyArray_NDIM(w), PyArray_SHAPE(w));
    if (sa != NULL && sw != NULL)
        PyErr_Format(PyExc_ValueError, "%s: %s has shape %R but the weight has shape %R", op,
                     what, sa, sw);
    Py_XDECREF(sa);
    Py_XDECREF(sw);
    return -1;
}

/* The buffer updated in place (borrowed), or NULL with an exception. w == NULL: o is
 * the weight itself; else o is a slot and must match w's shape and dtype. */
static PyArrayObject *
inplace_buffer(PyObject *o, PyArrayObject *w, const char *op, const char *what)
{
    PyArrayObject *a;

    if (pc_tensor_check(o))
        a = PC_DATA(o);
    else if (PyArray_Check(o))
        a = (PyArrayObject *)o;
    else {
        PyErr_Format(PyExc_TypeError, "%s: %s must be a Tensor or a NumPy array, got %.100s",
                     op, what, Py_TYPE(o)->tp_name);
        return NULL;
    }
    if (PyArray_TYPE(a) != NPY_FLOAT32 && PyArray_TYPE(a) != NPY_FLOAT64) {
        PyErr_Format(PyExc_TypeError, "%s: %s must be float32 or float64, got %R", op, what,
                     (PyObject *)PyArray_DESCR(a));
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a) || !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be a C-contiguous, aligned, writeable "
                     "array (it is updated in place)", op, what);
        return NULL;
    }
    if (w == NULL)
        return a;
    if (PyArray_TYPE(a) != PyArray_TYPE(w)) {
        PyErr_Format(PyExc_TypeError, "%s: %s is %R but the weight is %R", op, what,
                     (PyObject *)PyArray_DESCR(a), (PyObject *)PyArray_DESCR(w));
        return NULL;
    }
    if (!PyArray_SAMESHAPE(a, w)) {
        shape_mismatch(op, what, a, w);
        return NULL;
    }
    return a;
}

/* Optional slot: None → *out = NULL. 0, or -1 with an exception. */
static int
optional_slot(PyObject *o, PyArrayObject *w, const char *op, const char *what,
              PyArrayObject **out)
{
    *out = NULL;
    if (o == Py_None)
        return 0;
    *out = inplace_buffer(o, w, op, what);
    return *out == NULL ? -1 : 0;
}

/* The gradient in w's dtype and shape (new ref), or NULL with an exception. */
static PyArrayObject *
gradient_array(PyObject *o, PyArrayObject *w, const char *op)
{
    PyArrayObject *g = pc_as_array(o, PyArray_TYPE(w), op);
    if (g != NULL && !PyArray_SAMESHAPE(g, w)) {
        shape_mismatch(op, "the gradient", g, w);
        Py_CLEAR(g);
    }
    return g;
}

/* sgd_step(w, g, m, learning_rate, momentum, nesterov) */
static PyObject *
py_sgd_step(PyObject *Py_UNUSED(mod), PyObject *args)
{
    PyObject *w_obj, *g_obj, *m_obj, *result = NULL;
    PyArrayObject *w, *m, *g = NULL;
    double lr, momentum;
    int nesterov;

    if (!PyArg_ParseTuple(args, "OOOddp:sgd_step", &w_obj, &g_obj, &m_obj, &lr, &momentum,
                          &nesterov))
        return NULL;
    if ((w = inplace_buffer(w_obj, NULL, "sgd_step", "the weight")) == NULL)
        goto done;
    if (optional_slot(m_obj, w, "sgd_step", "the momentum slot", &m) < 0)
        goto done;
    if (m == NULL && momentum != 0.0) {
        PyObject *mu = PyFloat_FromDouble(momentum);
        if (mu != NULL)
            PyErr_Format(PyExc_ValueError, "sgd_step: momentum %R needs a momentum slot", mu);
        Py_XDECREF(mu);
        goto done;
    }
    if ((g = gradient_array(g_obj, w, "sgd_step")) == NULL)
        goto done;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(w) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(w), pc_sgd_step, PyArray_DATA(w), PyArray_DATA(g),
                m ? PyArray_DATA(m) : NULL, PyArray_SIZE(w), lr, momentum, nesterov);
    NPY_END_THREADS;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(g);
    return result;
}

/* adam_step(w, g, m, v, vhat, learning_rate, beta_1, beta_2, epsilon, t) */
static PyObject *
py_adam_step(PyObject *Py_UNUSED(mod), PyObject *args)
{
    PyObject *w_obj, *g_obj, *m_obj, *v_obj, *vhat_obj, *result = NULL;
    PyArrayObject *w, *m, *v, *vhat, *g = NULL;
    double lr, beta_1, beta_2, epsilon;
    Py_ssize_t t;

    if (!PyArg_ParseTuple(args, "OOOOOddddn:adam_step", &w_obj, &g_obj, &m_obj, &v_obj,
                          &vhat_obj, &lr, &beta_1, &beta_2, &epsilon, &t))
        return NULL;
    if (t < 1) {
        PyErr_Format(PyExc_ValueError, "adam_step: step t must be >= 1, got %zd", t);
        return NULL;
    }
    if ((w = inplace_buffer(w_obj, NULL, "adam_step", "the weight")) == NULL ||
        (m = inplace_buffer(m_obj, w, "adam_step", "the first-moment slot m")) == NULL ||
        (v = inplace_buffer(v_obj, w, "adam_step", "the second-moment slot v")) == NULL ||
        optional_slot(vhat_obj, w, "adam_step", "the AMSGrad slot vhat", &vhat) < 0)
        goto done;
    if ((g = gradient_array(g_obj, w, "adam_step")) == NULL)
        goto done;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(w) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(w), pc_adam_step, PyArray_DATA(w), PyArray_DATA(g),
                PyArray_DATA(m), PyArray_DATA(v), vhat ? PyArray_DATA(vhat) : NULL,
                PyArray_SIZE(w), lr, beta_1, beta_2, epsilon, t);
    NPY_END_THREADS;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(g);
    return result;
}

/* rmsprop_step(w, g, v, m, mg, learning_rate, rho, momentum, epsilon) */
static PyObject *
py_rmsprop_step(PyObject *Py_UNUSED(mod), PyObject *args)
{
    PyObject *w_obj, *g_obj, *v_obj, *m_obj, *mg_obj, *result = NULL;
    PyArrayObject *w, *v, *m, *mg, *g = NULL;
    double lr, rho, momentum, epsilon;

    if (!PyArg_ParseTuple(args, "OOOOOdddd:rmsprop_step", &w_obj, &g_obj, &v_obj, &m_obj,
                          &mg_obj, &lr, &rho, &momentum, &epsilon))
        return NULL;
    if ((w = inplace_buffer(w_obj, NULL, "rmsprop_step", "the weight")) == NULL ||
        (v = inplace_buffer(v_obj, w, "rmsprop_step", "the velocity slot v")) == NULL ||
        optional_slot(m_obj, w, "rmsprop_step", "the momentum slot m", &m) < 0 ||
        optional_slot(mg_obj, w, "rmsprop_step", "the average-gradient slot mg", &mg) < 0)
        goto done;
    if ((g = gradient_array(g_obj, w, "rmsprop_step")) == NULL)
        goto done;
    NPY_BEGIN_THREADS_DEF;
    if (PyArray_SIZE(w) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(w), pc_rmsprop_step, PyArray_DATA(w), PyArray_DATA(g),
                PyArray_DATA(v), m ? PyArray_DATA(m) : NULL, mg ? PyArray_DATA(mg) : NULL,
                PyArray_SIZE(w), lr, rho, momentum, epsilon);
    NPY_END_THREADS;
    result = Py_NewRef(Py_None);
done:
    Py_XDECREF(g);
    return result;
}

PyMethodDef pc_optim_functions[] = {
    {"sgd_step", py_sgd_step, METH_VARARGS,
     "sgd_step(w, g, m, learning_rate, momentum, nesterov): Keras' SGD update of w (and the "
     "momentum slot m, None when momentum is 0), in place"},
    {"adam_step", py_adam_step, METH_VARARGS,
     "adam_step(w, g, m, v, vhat, learning_rate, beta_1, beta_2, epsilon, t): Keras' Adam "
     "update at step t >= 1 (vhat: AMSGrad slot or None), in place"},
    {"rmsprop_step", py_rmsprop_step, METH_VARARGS,
     "rmsprop_step(w, g, v, m, mg, learning_rate, rho, momentum, epsilon): Keras' RMSprop "
     "update (m: momentum slot or None, mg: centered slot or None), in place"},
    {NULL, NULL, 0, NULL},
};
