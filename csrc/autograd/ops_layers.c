/* autograd/ops_layers.c — the light layer ops, recorder above backward.
 *
 *   dropout    y = x · m, m = 0 or 1/(1 − rate)      saved[0] = m     dx += dy · m
 *   upsample   see ops_pool.c
 */
#include "autograd/ops_layers.h"

#include "kernels/random.h"

/* y = x · m with m = 0 (probability rate) or 1/(1 − rate), m drawn from rng: one draw
 * per element of noise (x's shape when NULL), broadcast over x (Keras' noise_shape) */
PyObject *
pc_dropout(PyObject *x, double rate, pc_rng *rng, const npy_intp *noise)
{
    PyArrayObject *xa = PC_DATA(x), *m = NULL, *y = NULL, *small = NULL;
    PyObject *result = NULL;
    npy_intp n = PyArray_SIZE(xa);
    int nd = PyArray_NDIM(xa), typenum = PyArray_TYPE(xa);

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

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    PC_DISPATCH_NOGIL(n, PyArray_TYPE(dout), pc_dropout_backward, PyArray_DATA(dout),
                      PyArray_DATA(m), PyArray_DATA(dx), n);
    return 0;
}
