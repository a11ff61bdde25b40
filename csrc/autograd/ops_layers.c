/* autograd/ops_layers.c — the light layer ops, recorder above backward.
 *
 *   dropout    y = x · m, m = 0 or 1/(1 − rate)      saved[0] = m     dx += dy · m
 *              m has x's shape, or (N, 1, 1, C) for a 4-D x whose noise is one draw per
 *              (image, channel) (SpatialDropout2D): then m is broadcast by the kernel
 *   upsample   see ops_pool.c
 */
#include "autograd/ops_layers.h"

#include "kernels/random.h"
#include "kernels/spatial.h"

/* noise (N, 1, 1, C) over a 4-D x: one mask value per (image, channel) */
static int
is_channel_noise(PyArrayObject *x, const npy_intp *noise)
{
    return noise != NULL && PyArray_NDIM(x) == 4 && noise[0] == PyArray_DIM(x, 0) &&
           noise[1] == 1 && noise[2] == 1 && noise[3] == PyArray_DIM(x, 3);
}

/* y = x · m with m = 0 (probability rate) or 1/(1 − rate), m drawn from rng: one draw
 * per element of noise (x's shape when NULL), broadcast over x (Keras' noise_shape) */
PyObject *
pc_dropout(PyObject *x, double rate, pc_rng *rng, const npy_intp *noise)
{
    PyArrayObject *xa = PC_DATA(x), *m = NULL, *y = NULL, *small = NULL;
    PyObject *result = NULL;
    npy_intp n = PyArray_SIZE(xa);
    int nd = PyArray_NDIM(xa), typenum = PyArray_TYPE(xa);

    if (is_channel_noise(xa, noise)) {          /* m (N, 1, 1, C), broadcast by the kernel */
        if ((m = pc_new_array(nd, noise, typenum)) == NULL ||
            (y = pc_new_array(nd, PyArray_SHAPE(xa), typenum)) == NULL)
            goto done;
        PC_DISPATCH(typenum, pc_dropout_mask, rng, PyArray_DATA(m), PyArray_SIZE(m), rate);
        PC_DISPATCH_NOGIL(n, typenum, pc_channel_scale, PyArray_DATA(xa), PyArray_DATA(m),
                          PyArray_DATA(y), noise[0], PyArray_DIM(xa, 1) * PyArray_DIM(xa, 2),
                          noise[3], 1);
        goto record;
    }
    if ((m = pc_new_array(nd, PyArray_SHAPE(xa), typenum)) == NULL ||
        (y = pc_new_array(nd, PyArray_SHAPE(xa), typenum)) == NULL ||
        (noise != NULL && (small = pc_new_array(nd, noise, typenum)) == NULL))
        goto done;
    /* the generator is shared state: drawn under the GIL, so threads take turns */
    if (small == NULL)
        PC_DISPATCH(typenum, pc_dropout_mask, rng, PyArray_DATA(m), n, rate);
    else {
        PC_DISPATCH(typenum, pc_dropout_mask, rng, PyArray_DATA(small), PyArray_SIZE(small),
                    rate);
        if (PyArray_CopyInto(m, small) < 0)     /* broadcasts the smaller mask */
            goto done;
    }
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(xa), pc_dropout_forward, PyArray_DATA(xa), PyArray_DATA(m),
                      PyArray_DATA(y), n);
record:
    {
        PyObject *saved = (PyObject *)m;
        pc_op_args args = {.dropout = {rate}};
        result = pc_record(PC_OP_DROPOUT, y, 1, &x, &args, 1, &saved);
    }
done:
    Py_XDECREF(m);
    Py_XDECREF(y);
    Py_XDECREF(small);
    return result;
}

int
pc_grad_dropout(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *m = (PyArrayObject *)node->saved[0], *dx;
    npy_intp n = PyArray_SIZE(dout);
    int fresh;

    if (PyArray_SIZE(m) != n) {                 /* m (N, 1, 1, C): dx (+)= dy · m[n, c] */
        if (pc_grad_buffer_to_overwrite(node, 0, &dx, &fresh) < 0)  /* fresh: not zeroed */
            return -1;
        if (dx == NULL)
            return 0;
        PC_DISPATCH_NOGIL(n, PyArray_TYPE(dout), pc_channel_scale, PyArray_DATA(dout),
                          PyArray_DATA(m), PyArray_DATA(dx), PyArray_DIM(dout, 0),
                          PyArray_DIM(dout, 1) * PyArray_DIM(dout, 2), PyArray_DIM(dout, 3),
                          fresh);
        return 0;
    }
    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(dout), pc_dropout_backward, PyArray_DATA(dout),
                      PyArray_DATA(m), PyArray_DATA(dx), n);
    return 0;
}
