/* py/optim.c — bindings of the optimizer steps (kernels/optim.c): sgd_step, adam_step,
 * rmsprop_step, nadam_step, adagrad_step, adadelta_step, lion_step, ema_step. Each
 * updates a weight and its slot buffers in place; pycnn/optimizers.py allocates the
 * slots once per weight and calls these once per weight per step.
 *
 * A weight or slot is a Tensor or a C-contiguous, aligned, writeable float32/float64
 * ndarray; its own memory is updated. The gradient may be anything pc_as_array takes
 * and is converted to the weight's dtype. All must have the weight's shape.
 *
 * Every step also takes the keyword-only arguments of what all optimizers do around
 * their own formula (kernels/optim.h): grad_scale=1.0 (clipnorm / global_clipnorm),
 * clipvalue=0.0 (none), decay=0.0 (weight_decay·learning_rate), ema=None (the moving
 * average slot) and ema_momentum=0.0.
 */
#include "py/bindings.h"

#include "kernels/optim.h"

#include <math.h>

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

/* The keyword-only arguments every step takes, after its own */
#define COMMON_KEYWORDS "grad_scale", "clipvalue", "decay", "ema", "ema_momentum"
#define COMMON_FORMAT "$dddOd"
#define COMMON_TARGETS(s) &(s).c.grad_scale, &(s).c.clipvalue, &(s).c.decay, &(s).ema_obj, \
    &(s).c.ema_momentum
#define MAX_SLOTS 3

/* One step's buffers, checked: the weight, its slots, the gradient, the common part */
typedef struct {
    const char *op;
    pc_optim_common c;
    PyObject *ema_obj;                  /* borrowed: None or the moving-average slot */
    PyArrayObject *w;                   /* borrowed */
    PyArrayObject *slot[MAX_SLOTS];     /* borrowed; NULL for an optional slot given None */
    PyArrayObject *ema;                 /* borrowed, or NULL */
    PyArrayObject *g;                   /* new ref: the gradient in w's dtype */
} step_buffers;

static step_buffers
step_defaults(const char *op)
{
    step_buffers s = {op, pc_optim_plain, Py_None, NULL, {NULL}, NULL, NULL};
    return s;
}

static int
bad_number(const char *op, const char *what, double value, const char *expected)
{
    PyObject *v = PyFloat_FromDouble(value);
    if (v != NULL)
        PyErr_Format(PyExc_ValueError, "%s: %s must be %s, got %R", op, what, expected, v);
    Py_XDECREF(v);
    return -1;
}

static int
check_common(step_buffers *s)
{
    const pc_optim_common *c = &s->c;
    if (!(c->grad_scale >= 0.0) && !isnan(c->grad_scale))        /* NaN propagates */
        return bad_number(s->op, "grad_scale", c->grad_scale, ">= 0");
    if (!(c->clipvalue >= 0.0))
        return bad_number(s->op, "clipvalue", c->clipvalue, ">= 0 (0: no clipping)");
    if (!isfinite(c->decay))
        return bad_number(s->op, "decay", c->decay, "finite");
    if (!(c->ema_momentum >= 0.0 && c->ema_momentum <= 1.0))
        return bad_number(s->op, "ema_momentum", c->ema_momentum, "in [0, 1]");
    return optional_slot(s->ema_obj, s->w, s->op, "the moving-average slot ema", &s->ema);
}

/* Checks the weight, the n slots (slot i may be None when bit i of `optional` is set),
 * the common arguments and the gradient, in that order: 0, or -1 with an exception
 * (s->g is then NULL or released by the caller's Py_XDECREF). */
static int
step_buffers_check(step_buffers *s, PyObject *w_obj, PyObject *g_obj, int n,
                   PyObject *const slot_objs[], const char *const names[], unsigned optional)
{
    if ((s->w = inplace_buffer(w_obj, NULL, s->op, "the weight")) == NULL)
        return -1;
    for (int i = 0; i < n; i++) {
        if (optional & (1u << i)) {
            if (optional_slot(slot_objs[i], s->w, s->op, names[i], &s->slot[i]) < 0)
                return -1;
        }
        else if ((s->slot[i] = inplace_buffer(slot_objs[i], s->w, s->op, names[i])) == NULL)
            return -1;
    }
    if (check_common(s) < 0)
        return -1;
    s->g = gradient_array(g_obj, s->w, s->op);
    return s->g == NULL ? -1 : 0;
}

static int
check_step(const char *op, Py_ssize_t t)
{
    if (t < 1) {
        PyErr_Format(PyExc_ValueError, "%s: step t must be >= 1, got %zd", op, t);
        return -1;
    }
    return 0;
}

/* The kernels' arguments from checked step_buffers */
#define SLOT_DATA(s, i) ((s).slot[i] != NULL ? PyArray_DATA((s).slot[i]) : NULL)
#define EMA_DATA(s) ((s).ema != NULL ? PyArray_DATA((s).ema) : NULL)
#define SIZE(s) PyArray_SIZE((s).w)

/* fn##_f32 / fn##_f64 (w, g, ...) on checked buffers, GIL released over large weights.
 * The hyper-parameters are passed as doubles: a float32 kernel's prototype rounds them
 * to float, as a cast would. */
#define RUN_STEP(s, fn, ...)                                                             \
    PC_DISPATCH_NOGIL(SIZE(s), PyArray_TYPE((s).w), fn, PyArray_DATA((s).w),             \
                      PyArray_DATA((s).g), __VA_ARGS__)

/* The end of every step: releases the gradient; None when the step ran (s->g was
 * set by a successful check), NULL with the check's exception otherwise. */
static PyObject *
step_done(step_buffers *s)
{
    if (s->g == NULL)
        return NULL;
    Py_CLEAR(s->g);
    Py_RETURN_NONE;
}

/* momentum != 0 needs the momentum slot: 0, or -1 with an exception and s->g released */
static int
sgd_momentum_check(step_buffers *s, double momentum)
{
    PyObject *mu;

    if (s->slot[0] != NULL || momentum == 0.0)
        return 0;
    if ((mu = PyFloat_FromDouble(momentum)) != NULL)
        PyErr_Format(PyExc_ValueError, "sgd_step: momentum %R needs a momentum slot", mu);
    Py_XDECREF(mu);
    Py_CLEAR(s->g);
    return -1;
}

/* sgd_step(w, g, m, learning_rate, momentum, nesterov, *common) */
static PyObject *
py_sgd_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "m", "learning_rate", "momentum", "nesterov",
                               COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the momentum slot"};
    PyObject *w_obj, *g_obj, *slots[1];
    double lr, momentum;
    int nesterov;
    step_buffers s = step_defaults("sgd_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOddp|" COMMON_FORMAT ":sgd_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &lr, &momentum,
                                     &nesterov, COMMON_TARGETS(s)))
        return NULL;
    if (step_buffers_check(&s, w_obj, g_obj, 1, slots, names, 1u) == 0 &&
        sgd_momentum_check(&s, momentum) == 0)
        RUN_STEP(s, pc_sgd_step, SLOT_DATA(s, 0), EMA_DATA(s), SIZE(s), &s.c, lr, momentum,
                 nesterov);
    return step_done(&s);
}

/* adam_step(w, g, m, v, vhat, learning_rate, beta_1, beta_2, epsilon, t, *common) */
static PyObject *
py_adam_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "m", "v", "vhat", "learning_rate", "beta_1",
                               "beta_2", "epsilon", "t", COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the first-moment slot m", "the second-moment slot v",
                                        "the AMSGrad slot vhat"};
    PyObject *w_obj, *g_obj, *slots[3];
    double lr, beta_1, beta_2, epsilon;
    Py_ssize_t t;
    step_buffers s = step_defaults("adam_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOddddn|" COMMON_FORMAT ":adam_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &slots[1], &slots[2],
                                     &lr, &beta_1, &beta_2, &epsilon, &t, COMMON_TARGETS(s)))
        return NULL;
    if (check_step("adam_step", t) == 0 &&
        step_buffers_check(&s, w_obj, g_obj, 3, slots, names, 1u << 2) == 0)
        RUN_STEP(s, pc_adam_step, SLOT_DATA(s, 0), SLOT_DATA(s, 1), SLOT_DATA(s, 2), EMA_DATA(s),
                 SIZE(s), &s.c, lr, beta_1, beta_2, epsilon, t);
    return step_done(&s);
}

/* rmsprop_step(w, g, v, m, mg, learning_rate, rho, momentum, epsilon, *common) */
static PyObject *
py_rmsprop_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "v", "m", "mg", "learning_rate", "rho", "momentum",
                               "epsilon", COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the velocity slot v", "the momentum slot m",
                                        "the average-gradient slot mg"};
    PyObject *w_obj, *g_obj, *slots[3];
    double lr, rho, momentum, epsilon;
    step_buffers s = step_defaults("rmsprop_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOOdddd|" COMMON_FORMAT ":rmsprop_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &slots[1], &slots[2],
                                     &lr, &rho, &momentum, &epsilon, COMMON_TARGETS(s)))
        return NULL;
    if (step_buffers_check(&s, w_obj, g_obj, 3, slots, names, (1u << 1) | (1u << 2)) == 0)
        RUN_STEP(s, pc_rmsprop_step, SLOT_DATA(s, 0), SLOT_DATA(s, 1), SLOT_DATA(s, 2),
                 EMA_DATA(s), SIZE(s), &s.c, lr, rho, momentum, epsilon);
    return step_done(&s);
}

/* nadam_step(w, g, m, v, learning_rate, beta_1, beta_2, epsilon, t, u_product, *common) */
static PyObject *
py_nadam_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "m", "v", "learning_rate", "beta_1", "beta_2",
                               "epsilon", "t", "u_product", COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the first-moment slot m", "the second-moment slot v"};
    PyObject *w_obj, *g_obj, *slots[2];
    double lr, beta_1, beta_2, epsilon, u_product;
    Py_ssize_t t;
    step_buffers s = step_defaults("nadam_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOddddnd|" COMMON_FORMAT ":nadam_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &slots[1], &lr,
                                     &beta_1, &beta_2, &epsilon, &t, &u_product,
                                     COMMON_TARGETS(s)))
        return NULL;
    if (check_step("nadam_step", t) == 0 &&
        step_buffers_check(&s, w_obj, g_obj, 2, slots, names, 0u) == 0)
        RUN_STEP(s, pc_nadam_step, SLOT_DATA(s, 0), SLOT_DATA(s, 1), EMA_DATA(s), SIZE(s), &s.c,
                 lr, beta_1, beta_2, epsilon, t, u_product);
    return step_done(&s);
}

/* adagrad_step(w, g, accumulator, learning_rate, epsilon, *common) */
static PyObject *
py_adagrad_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "accumulator", "learning_rate", "epsilon",
                               COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the accumulator slot"};
    PyObject *w_obj, *g_obj, *slots[1];
    double lr, epsilon;
    step_buffers s = step_defaults("adagrad_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOdd|" COMMON_FORMAT ":adagrad_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &lr, &epsilon,
                                     COMMON_TARGETS(s)))
        return NULL;
    if (step_buffers_check(&s, w_obj, g_obj, 1, slots, names, 0u) == 0)
        RUN_STEP(s, pc_adagrad_step, SLOT_DATA(s, 0), EMA_DATA(s), SIZE(s), &s.c, lr, epsilon);
    return step_done(&s);
}

/* adadelta_step(w, g, accumulated_grad, accumulated_delta_var, learning_rate, rho,
 *               epsilon, *common) */
static PyObject *
py_adadelta_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "accumulated_grad", "accumulated_delta_var",
                               "learning_rate", "rho", "epsilon", COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the accumulated_grad slot",
                                        "the accumulated_delta_var slot"};
    PyObject *w_obj, *g_obj, *slots[2];
    double lr, rho, epsilon;
    step_buffers s = step_defaults("adadelta_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOOddd|" COMMON_FORMAT ":adadelta_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &slots[1], &lr, &rho,
                                     &epsilon, COMMON_TARGETS(s)))
        return NULL;
    if (step_buffers_check(&s, w_obj, g_obj, 2, slots, names, 0u) == 0)
        RUN_STEP(s, pc_adadelta_step, SLOT_DATA(s, 0), SLOT_DATA(s, 1), EMA_DATA(s), SIZE(s), &s.c,
                 lr, rho, epsilon);
    return step_done(&s);
}

/* lion_step(w, g, m, learning_rate, beta_1, beta_2, *common) */
static PyObject *
py_lion_step(PyObject *Py_UNUSED(mod), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"w", "g", "m", "learning_rate", "beta_1", "beta_2",
                               COMMON_KEYWORDS, NULL};
    static const char *const names[] = {"the momentum slot m"};
    PyObject *w_obj, *g_obj, *slots[1];
    double lr, beta_1, beta_2;
    step_buffers s = step_defaults("lion_step");

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OOOddd|" COMMON_FORMAT ":lion_step",
                                     keywords, &w_obj, &g_obj, &slots[0], &lr, &beta_1,
                                     &beta_2, COMMON_TARGETS(s)))
        return NULL;
    if (step_buffers_check(&s, w_obj, g_obj, 1, slots, names, 0u) == 0)
        RUN_STEP(s, pc_lion_step, SLOT_DATA(s, 0), EMA_DATA(s), SIZE(s), &s.c, lr, beta_1, beta_2);
    return step_done(&s);
}

/* ema_step(w, ema, ema_momentum): the moving average alone (w is read, not written) */
static PyObject *
py_ema_step(PyObject *Py_UNUSED(mod), PyObject *args)
{
    PyObject *w_obj, *ema_obj;
    PyArrayObject *w, *ema;
    double momentum;

    if (!PyArg_ParseTuple(args, "OOd:ema_step", &w_obj, &ema_obj, &momentum))
        return NULL;
    if ((w = inplace_buffer(w_obj, NULL, "ema_step", "the weight")) == NULL ||
        (ema = inplace_buffer(ema_obj, w, "ema_step", "the moving-average slot ema")) == NULL)
        return NULL;
    if (!(momentum >= 0.0 && momentum <= 1.0)) {
        bad_number("ema_step", "ema_momentum", momentum, "in [0, 1]");
        return NULL;
    }
    PC_DISPATCH_NOGIL(PyArray_SIZE(w), PyArray_TYPE(w), pc_ema_step, PyArray_DATA(w),
                      PyArray_DATA(ema), PyArray_SIZE(w), momentum);
    Py_RETURN_NONE;
}

#define COMMON_DOC "; keyword-only grad_scale=1.0, clipvalue=0.0, decay=0.0 (weight_decay·lr), " \
    "ema=None (moving-average slot), ema_momentum=0.0"

PyMethodDef pc_optim_functions[] = {
    {"sgd_step", PC_KW(py_sgd_step),
     "sgd_step(w, g, m, learning_rate, momentum, nesterov, **kwargs)\n--\n\nKeras' SGD update of w "
     "(and the momentum slot m, None when momentum is 0), in place" COMMON_DOC},
    {"adam_step", PC_KW(py_adam_step),
     "adam_step(w, g, m, v, vhat, learning_rate, beta_1, beta_2, epsilon, t, **kwargs)\n--\n\nKeras' "
     "Adam (AdamW with decay) update at step t >= 1 (vhat: AMSGrad slot or None), in place"
     COMMON_DOC},
    {"rmsprop_step", PC_KW(py_rmsprop_step),
     "rmsprop_step(w, g, v, m, mg, learning_rate, rho, momentum, epsilon, **kwargs)\n--\n\nKeras' "
     "RMSprop update (m: momentum slot or None, mg: centered slot or None), in place"
     COMMON_DOC},
    {"nadam_step", PC_KW(py_nadam_step),
     "nadam_step(w, g, m, v, learning_rate, beta_1, beta_2, epsilon, t, u_product, **kwargs)\n--\n\n"
     "Keras' Nadam update at step t >= 1; u_product = the product of the momentum schedule "
     "up to and with step t, in place" COMMON_DOC},
    {"adagrad_step", PC_KW(py_adagrad_step),
     "adagrad_step(w, g, accumulator, learning_rate, epsilon, **kwargs)\n--\n\nKeras' Adagrad "
     "update, in place" COMMON_DOC},
    {"adadelta_step", PC_KW(py_adadelta_step),
     "adadelta_step(w, g, accumulated_grad, accumulated_delta_var, learning_rate, rho, "
     "epsilon, **kwargs)\n--\n\nKeras' Adadelta update, in place" COMMON_DOC},
    {"lion_step", PC_KW(py_lion_step),
     "lion_step(w, g, m, learning_rate, beta_1, beta_2, **kwargs)\n--\n\nKeras' Lion update, in "
     "place" COMMON_DOC},
    {"ema_step", py_ema_step, METH_VARARGS,
     "ema_step(w, ema, ema_momentum)\n--\n\nema = μ·ema + (1 − μ)·w in place, for a weight that "
     "got no gradient this step"},
    {NULL, NULL, 0, NULL},
};
