/* autograd/ops_norm.c — batch and layer normalisation: each recorder right above its
 * fused backward (kernels/norm.h).
 *
 *   batch_norm   parents: x, then γ and β when present
 *                saved[0] = mean, saved[1] = inv = 1/√(var + ε)   (C,) each
 *                args.norm = {A, C, B, batch_stats, parent of γ (or −1), parent of β (or −1),
 *                             axis, epsilon, momentum}
 *                x is viewed as (A, C, B) around the normalised axis
 *   layer_norm   parents as batch_norm; saved mean, inv (M,) per row of x viewed (M, K)
 *                args.norm = {M, K (in a, c), 1, −, parent of γ (or −1), of β (or −1),
 *                             first normalised axis, epsilon, −}
 */
#include "autograd/ops_norm.h"

#include "kernels/norm.h"

/* Records the node of op (batch_norm or layer_norm) with output y: parents x, then γ
 * and β when present (their indices go into args), saved mean and inv (new ref) */
static PyObject *
record_norm(pc_op op, PyArrayObject *y, PyObject *x, PyObject *gamma, PyObject *beta,
            pc_op_args *args, PyArrayObject *mean, PyArrayObject *inv)
{
    PyObject *parents[3], *saved[2] = {(PyObject *)mean, (PyObject *)inv};
    int n = 0;
    parents[n++] = x;
    args->norm.gamma = args->norm.beta = -1;
    if (gamma != NULL) {
        args->norm.gamma = n;
        parents[n++] = gamma;
    }
    if (beta != NULL) {
        args->norm.beta = n;
        parents[n++] = beta;
    }
    return pc_record(op, y, n, parents, args, 2, saved);
}

/* x's shape around `axis`: A = Π before, C, B = Π after */
static void
split_at_axis(PyArrayObject *x, int axis, pc_index *A, pc_index *C, pc_index *B)
{
    *A = *B = 1;
    for (int d = 0; d < axis; d++)
        *A *= PyArray_DIM(x, d);
    *C = PyArray_DIM(x, axis);
    for (int d = axis + 1; d < PyArray_NDIM(x); d++)
        *B *= PyArray_DIM(x, d);
}

/* a new (C,) array of x's dtype (new ref) */
static PyArrayObject *
channel_array(PyArrayObject *x, pc_index C)
{
    npy_intp dims[1] = {C};
    return pc_new_array(1, dims, PyArray_TYPE(x));
}

static PyArrayObject *
norm_workspace(pc_index A, pc_index C, pc_index B)
{
    npy_intp dims[1] = {pc_norm_workspace(A, C, B)};
    return pc_new_array(1, dims, NPY_FLOAT64);
}

PyObject *
pc_batch_norm(PyObject *x, PyObject *gamma, PyObject *beta, PyArrayObject *moving_mean,
              PyArrayObject *moving_var, int axis, double epsilon, double momentum,
              int batch_stats)
{
    PyArrayObject *xa = PC_DATA(x), *mean = NULL, *var = NULL, *inv = NULL, *scale = NULL;
    PyArrayObject *shift = NULL, *work = NULL, *y = NULL;
    PyObject *result = NULL;
    void *g = gamma != NULL ? PyArray_DATA(PC_DATA(gamma)) : NULL;
    void *b = beta != NULL ? PyArray_DATA(PC_DATA(beta)) : NULL;
    pc_index A, C, B;
    int typenum = PyArray_TYPE(xa);
    NPY_BEGIN_THREADS_DEF;

    split_at_axis(xa, axis, &A, &C, &B);
    if ((inv = channel_array(xa, C)) == NULL || (scale = channel_array(xa, C)) == NULL ||
        (shift = channel_array(xa, C)) == NULL ||
        (y = pc_new_array(PyArray_NDIM(xa), PyArray_SHAPE(xa), typenum)) == NULL)
        goto done;
    if (batch_stats) {
        if ((mean = channel_array(xa, C)) == NULL || (var = channel_array(xa, C)) == NULL ||
            (work = norm_workspace(A, C, B)) == NULL)
            goto done;
    }
    else {          /* a copy: the backward must see these statistics, not later ones */
        if ((mean = (PyArrayObject *)PyArray_NewCopy(moving_mean, NPY_CORDER)) == NULL)
            goto done;
        var = (PyArrayObject *)Py_NewRef(moving_var);
    }
    if (PyArray_SIZE(xa) > PC_GIL_THRESHOLD)
        NPY_BEGIN_THREADS;
    if (batch_stats)
        PC_DISPATCH(typenum, pc_batch_norm_moments, PyArray_DATA(xa), A, C, B,
                    PyArray_DATA(work), PyArray_DATA(mean), PyArray_DATA(var));
    PC_DISPATCH(typenum, pc_batch_norm_coefficients, PyArray_DATA(mean), PyArray_DATA(var), g,
                b, epsilon, C, PyArray_DATA(inv), PyArray_DATA(scale), PyArray_DATA(shift));
    PC_DISPATCH(typenum, pc_channel_affine_forward, PyArray_DATA(xa), PyArray_DATA(scale),
                PyArray_DATA(shift), A, C, B, PyArray_DATA(y));
    if (batch_stats)
        PC_DISPATCH(typenum, pc_batch_norm_update_moving, PyArray_DATA(moving_mean),
                    PyArray_DATA(moving_var), PyArray_DATA(mean), PyArray_DATA(var), C,
                    momentum);
    NPY_END_THREADS;
    {
        pc_op_args args = {.norm = {A, C, B, batch_stats, -1, -1, axis, epsilon, momentum}};
        result = record_norm(PC_OP_BATCH_NORM, y, x, gamma, beta, &args, mean, inv);
    }
done:
    Py_XDECREF(mean);
    Py_XDECREF(var);
    Py_XDECREF(inv);
    Py_XDECREF(scale);
    Py_XDECREF(shift);
    Py_XDECREF(work);
    Py_XDECREF(y);
    return result;
}

/* d of parent i (NULL when it has none or wants none); 0 or -1 */
static int
optional_grad(pc_node *node, pc_index i, PyArrayObject **out)
{
    *out = NULL;
    return i < 0 ? 0 : pc_grad_buffer(node, (int)i, out);
}

static void *
data_or_null(PyArrayObject *a)
{
    return a != NULL ? PyArray_DATA(a) : NULL;
}

/* Both backwards: the gradient buffers wanted (dx, dγ, dβ), a float64 workspace for the
 * per-channel (batch_norm) or per-column (layer_norm) sums, then node->op's kernel */
static int
norm_backward(pc_node *node, PyArrayObject *dout)
{
    const struct pc_norm_args *a = &node->args.norm;
    PyArrayObject *x = PC_DATA(node->parents[0]), *mean = (PyArrayObject *)node->saved[0];
    PyArrayObject *inv = (PyArrayObject *)node->saved[1], *dx, *dgamma, *dbeta, *work;
    void *gamma = a->gamma >= 0 ? PyArray_DATA(PC_DATA(node->parents[a->gamma])) : NULL;
    int dx_fresh;                       /* dx was just created, uninitialised: write it */

    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &dx_fresh) < 0 ||
        optional_grad(node, a->gamma, &dgamma) < 0 || optional_grad(node, a->beta, &dbeta) < 0)
        return -1;
    if (dx == NULL && dgamma == NULL && dbeta == NULL)
        return 0;
    if ((work = norm_workspace(a->a, a->c, a->b)) == NULL)
        return -1;
    if (node->op == PC_OP_BATCH_NORM)
        PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_batch_norm_backward,
                          PyArray_DATA(x), PyArray_DATA(dout), a->a, a->c, a->b,
                          PyArray_DATA(mean), PyArray_DATA(inv), gamma, a->batch_stats,
                          PyArray_DATA(work), data_or_null(dx), dx_fresh, data_or_null(dgamma),
                          data_or_null(dbeta));
    else
        PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_layer_norm_backward,
                          PyArray_DATA(x), PyArray_DATA(dout), a->a, a->c, PyArray_DATA(mean),
                          PyArray_DATA(inv), gamma, PyArray_DATA(work), data_or_null(dx),
                          dx_fresh, data_or_null(dgamma), data_or_null(dbeta));
    Py_DECREF(work);
    return 0;
}

int
pc_grad_batch_norm(pc_node *node, PyArrayObject *dout)
{
    return norm_backward(node, dout);
}

PyObject *
pc_layer_norm(PyObject *x, PyObject *gamma, PyObject *beta, int first, double epsilon)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *mean = NULL, *inv = NULL;
    PyObject *result = NULL;
    pc_index M = 1, K = 1;          /* x viewed (M, K): the axes before first, and the rest */

    for (int d = 0; d < PyArray_NDIM(xa); d++)
        *(d < first ? &M : &K) *= PyArray_DIM(xa, d);

    if ((y = pc_new_array(PyArray_NDIM(xa), PyArray_SHAPE(xa), PyArray_TYPE(xa))) == NULL ||
        (mean = channel_array(xa, M)) == NULL || (inv = channel_array(xa, M)) == NULL)
        goto done;
    PC_DISPATCH_NOGIL(PyArray_SIZE(xa), PyArray_TYPE(xa), pc_layer_norm_forward, PyArray_DATA(xa),
                      M, K, gamma != NULL ? PyArray_DATA(PC_DATA(gamma)) : NULL,
                      beta != NULL ? PyArray_DATA(PC_DATA(beta)) : NULL, epsilon, PyArray_DATA(y),
                      PyArray_DATA(mean), PyArray_DATA(inv));
    {
        pc_op_args args = {.norm = {M, K, 1, 0, -1, -1, first, epsilon, 0.0}};
        result = record_norm(PC_OP_LAYER_NORM, y, x, gamma, beta, &args, mean, inv);
    }
done:
    Py_XDECREF(y);
    Py_XDECREF(mean);
    Py_XDECREF(inv);
    return result;
}

int
pc_grad_layer_norm(pc_node *node, PyArrayObject *dout)
{
    return norm_backward(node, dout);
}
