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

/* parents[] = x, then γ and β when present; their indices into args */
static int
norm_parents(PyObject *x, PyObject *gamma, PyObject *beta, PyObject *parents[3],
             pc_op_args *args)
{
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
    return n;
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
    PyObject *result = NULL, *parents[3];
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
        PyObject *saved[2] = {(PyObject *)mean, (PyObject *)inv};
        int n_parents = norm_parents(x, gamma, beta, parents, &args);
        result = pc_record(PC_OP_BATCH_NORM, y, n_parents, parents, &args, 2, saved);
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

/* What both backwards read: x, the saved statistics, γ, the gradient buffers and a
 * float64 workspace for the per-channel sums */
typedef struct {
    PyArrayObject *x, *mean, *inv;      /* borrowed */
    PyArrayObject *work;                /* new ref when norm_grads_of returns 1 */
    void *gamma;                        /* γ's data, or NULL without γ */
    void *dx, *dgamma, *dbeta;          /* the buffers' data, NULL where none is wanted */
    int dx_fresh;                       /* dx was just created, uninitialised: write it */
} norm_grads;

static void *
data_or_null(PyArrayObject *a)
{
    return a != NULL ? PyArray_DATA(a) : NULL;
}

/* Fills *n from the node: 1 when any gradient is wanted (n->work is then allocated),
 * 0 when none, -1 on error */
static int
norm_grads_of(pc_node *node, norm_grads *n)
{
    const struct pc_norm_args *a = &node->args.norm;
    PyArrayObject *dx, *dgamma, *dbeta;

    n->x = PC_DATA(node->parents[0]);
    n->mean = (PyArrayObject *)node->saved[0];
    n->inv = (PyArrayObject *)node->saved[1];
    n->gamma = a->gamma >= 0 ? PyArray_DATA(PC_DATA(node->parents[a->gamma])) : NULL;
    if (pc_grad_buffer_to_overwrite(node, 0, &dx, &n->dx_fresh) < 0 ||
        optional_grad(node, a->gamma, &dgamma) < 0 ||
        optional_grad(node, a->beta, &dbeta) < 0)
        return -1;
    n->dx = data_or_null(dx);
    n->dgamma = data_or_null(dgamma);
    n->dbeta = data_or_null(dbeta);
    if (dx == NULL && dgamma == NULL && dbeta == NULL)
        return 0;
    return (n->work = norm_workspace(a->a, a->c, a->b)) == NULL ? -1 : 1;
}

int
pc_grad_batch_norm(pc_node *node, PyArrayObject *dout)
{
    const struct pc_norm_args *a = &node->args.norm;
    norm_grads n;
    int wanted = norm_grads_of(node, &n);

    if (wanted <= 0)
        return wanted;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_batch_norm_backward,
                      PyArray_DATA(n.x), PyArray_DATA(dout), a->a, a->c, a->b,
                      PyArray_DATA(n.mean), PyArray_DATA(n.inv), n.gamma, a->batch_stats,
                      PyArray_DATA(n.work), n.dx, n.dx_fresh, n.dgamma, n.dbeta);
    Py_DECREF(n.work);
    return 0;
}

PyObject *
pc_layer_norm(PyObject *x, PyObject *gamma, PyObject *beta, int first, double epsilon)
{
    PyArrayObject *xa = PC_DATA(x), *y = NULL, *mean = NULL, *inv = NULL;
    PyObject *result = NULL, *parents[3];
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
        PyObject *saved[2] = {(PyObject *)mean, (PyObject *)inv};
        int n_parents = norm_parents(x, gamma, beta, parents, &args);
        result = pc_record(PC_OP_LAYER_NORM, y, n_parents, parents, &args, 2, saved);
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
    const struct pc_norm_args *a = &node->args.norm;
    norm_grads n;
    int wanted = norm_grads_of(node, &n);

    if (wanted <= 0)
        return wanted;
    PC_DISPATCH_NOGIL(PyArray_SIZE(dout), PyArray_TYPE(dout), pc_layer_norm_backward,
                      PyArray_DATA(n.x), PyArray_DATA(dout), a->a, a->c, PyArray_DATA(n.mean),
                      PyArray_DATA(n.inv), n.gamma, PyArray_DATA(n.work), n.dx, n.dx_fresh,
                      n.dgamma, n.dbeta);
    Py_DECREF(n.work);
    return 0;
}
