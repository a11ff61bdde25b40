/* autograd/ops_layers.c — backward of the light layer ops.
 *
 *   dropout    y = x · m, m = 0 or 1/(1 − rate)      saved[0] = m     dx += dy · m
 *   upsample   see ops_pool.c
 */
#include "autograd/ops_layers.h"

#include "kernels/random.h"

int
pc_grad_dropout(pc_node *node, PyArrayObject *dout)
{
    PyArrayObject *m = (PyArrayObject *)node->saved[0], *dx;
    npy_intp n = PyArray_SIZE(dout);
    NPY_BEGIN_THREADS_DEF;

    if (pc_grad_buffer(node, 0, &dx) < 0)
        return -1;
    if (dx == NULL)
        return 0;
    if (n > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    PC_DISPATCH(PyArray_TYPE(dout), pc_dropout_backward, PyArray_DATA(dout), PyArray_DATA(m),
                PyArray_DATA(dx), n);
    NPY_END_THREADS;
    return 0;
}
