/* autograd/engine.c — backward: one iterative topological sort, one reverse sweep.
 *
 * Forward(θ) = f(Parents(θ)); Backward(θ) = Σ_{c ∈ Children(θ)} ∂E/∂c · ∂c/∂θ.
 * A depth-first walk with an explicit stack orders the tensors so that every tensor
 * comes after its parents; sweeping that order backwards, each node adds its share
 * into its parents' gradients, so a tensor is finished before its parents are read.
 * No recursion: a chain of 100,000 ops needs no C stack.
 */
#include "autograd/node.h"

#include "core/bufpool.h"

static unsigned long pc_visit_epoch = 0;

typedef struct {
    TensorObject *t;
    int next_parent;
} pc_frame;

/* Appends every tensor reachable from root (root last) to *order, parents first.
 * Returns the count, or -1 with MemoryError. order holds new refs. */
static Py_ssize_t
topo_order(TensorObject *root, TensorObject ***order_out)
{
    Py_ssize_t cap = 64, n = 0, depth = 0, stack_cap = 64;
    TensorObject **order = PyMem_Malloc(cap * sizeof(*order));
    pc_frame *stack = PyMem_Malloc(stack_cap * sizeof(*stack));
    unsigned long epoch = ++pc_visit_epoch;

    if (order == NULL || stack == NULL)
        goto nomem;
    root->visit = epoch;
    stack[depth++] = (pc_frame){root, 0};
    while (depth > 0) {
        pc_frame *f = &stack[depth - 1];
        pc_node *node = f->t->node;
        if (node != NULL && f->next_parent < node->n_parents) {
            TensorObject *p = (TensorObject *)node->parents[f->next_parent++];
            if (p->visit == epoch || !p->requires_grad)
                continue;
            p->visit = epoch;
            if (depth == stack_cap) {
                pc_frame *grown = PyMem_Realloc(stack, 2 * stack_cap * sizeof(*stack));
                if (grown == NULL)
                    goto nomem;
                stack = grown;
                stack_cap *= 2;
            }
            stack[depth++] = (pc_frame){p, 0};
            continue;
        }
        if (n == cap) {                 /* all parents done: f->t is ordered */
            TensorObject **grown = PyMem_Realloc(order, 2 * cap * sizeof(*order));
            if (grown == NULL)
                goto nomem;
            order = grown;
            cap *= 2;
        }
        order[n++] = (TensorObject *)Py_NewRef(f->t);
        depth--;
    }
    PyMem_Free(stack);
    *order_out = order;
    return n;
nomem:
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(order[i]);
    PyMem_Free(order);
    PyMem_Free(stack);
    PyErr_NoMemory();
    return -1;
}

/* 1 when the byte ranges of arrays a and b overlap */
static int
arrays_overlap(PyArrayObject *a, PyArrayObject *b)
{
    const char *a0 = PyArray_BYTES(a), *b0 = PyArray_BYTES(b);
    return a0 < b0 + PyArray_NBYTES(b) && b0 < a0 + PyArray_NBYTES(a);
}

/* Whether root.grad may be the seed itself rather than a copy of it: the gradient of a
 * non-leaf root that nobody keeps is read once, by root's own backward (backward
 * functions never write into their dout), and dropped right after, so it is never
 * accumulated into in place. A kept gradient (a leaf's, retain_grad, retain_grads) may
 * be, later, so it gets a copy; so does a seed whose memory overlaps a gradient this
 * backward writes into (y.backward(x.grad)). */
static int
seed_can_alias(TensorObject *root, PyArrayObject *seed, int retain_grads,
               TensorObject *const *order, Py_ssize_t n)
{
    if (root->grad != NULL || root->node == NULL || root->retain_grad || retain_grads)
        return 0;
    for (Py_ssize_t i = 0; i < n; i++)
        if (order[i]->grad != NULL && arrays_overlap(PC_DATA(order[i]->grad), seed))
            return 0;
    return 1;
}

/* root.grad += seed, creating root.grad when absent: the seed itself when `alias`, else
 * a copy */
static int
seed_gradient(TensorObject *root, PyArrayObject *seed, int alias)
{
    PyObject *sum;
    if (root->grad == NULL) {
        PyArrayObject *g = alias ? (PyArrayObject *)Py_NewRef(seed)
                                 : pc_pool_array(PyArray_NDIM(seed), PyArray_SHAPE(seed),
                                                 PyArray_TYPE(seed), 0);    /* recycled */
        if (g == NULL || (!alias && PyArray_CopyInto(g, seed) < 0)) {
            Py_XDECREF(g);
            return -1;
        }
        root->grad = pc_tensor_wrap(g, 0);
        Py_DECREF(g);
        return root->grad == NULL ? -1 : 0;
    }
    sum = PyNumber_InPlaceAdd((PyObject *)PC_DATA(root->grad), (PyObject *)seed);
    Py_XDECREF(sum);
    return sum == NULL ? -1 : 0;
}

/* t.grad = *kept + this backward's t.grad (t's kept gradient, which it takes over) */
static int
add_kept_gradient(TensorObject *t, PyObject **kept)
{
    if (t->grad != NULL) {
        PyObject *sum = PyNumber_InPlaceAdd((PyObject *)PC_DATA(*kept),
                                            (PyObject *)PC_DATA(t->grad));
        if (sum == NULL)
            return -1;
        Py_DECREF(sum);
    }
    Py_XSETREF(t->grad, *kept);
    *kept = NULL;
    return 0;
}

/* The gradient buffers a backward function writes into are borrowed, and kernels run
 * with the GIL released: another thread could meanwhile assign t.grad = None and free
 * the buffer under the kernel. While a node's backward runs, its dout and every buffer
 * pc_grad_buffer hands out are kept alive here (per thread; emptied after each node). */
static _Thread_local PyObject *pc_keepalive = NULL;

int
pc_keep_alive(PyObject *obj)
{
    return pc_keepalive != NULL ? PyList_Append(pc_keepalive, obj) : 0;
}

/* `with pycnn.keep_grads():` (per thread): every backward in the block keeps every
 * node's gradient and the graph, as backward(retain_grads=True) does. */
static _Thread_local int pc_keep_grads_depth = 0;

int
pc_keep_grads(void)
{
    return pc_keep_grads_depth > 0;
}

/* The root of the last backward that kept its gradients (a new ref, or NULL): where
 * t.explain_grad() starts when it is not told which E to explain. */
static PyObject *pc_kept_root = NULL;

PyObject *
pc_last_kept_root(void)
{
    return pc_kept_root != NULL ? Py_NewRef(pc_kept_root) : Py_NewRef(Py_None);
}

int
pc_set_keep_grads(int keep)
{
    int previous = pc_keep_grads_depth > 0;
    pc_keep_grads_depth = keep ? 1 : 0;
    return previous;
}

int
pc_backward(PyObject *root_obj, PyArrayObject *seed, int retain_graph, int retain_grads)
{
    TensorObject *root = (TensorObject *)root_obj;
    TensorObject **order = NULL;
    PyObject *keep = NULL, *outer_keep = NULL, **kept = NULL;
    Py_ssize_t n = 0;
    int status = -1, alias = 0;

    if (!root->requires_grad) {
        PyErr_SetString(PyExc_RuntimeError,
                        "backward: this tensor does not require grad and has no graph "
                        "(was it computed under no_grad, or from inputs without "
                        "requires_grad=True?)");
        return -1;
    }
    if (pc_keep_grads())
        retain_grads = 1;
    if (retain_grads)
        retain_graph = 1;               /* teaching mode: explain_backward reads the graph */
    if ((n = topo_order(root, &order)) < 0)
        return -1;
    for (Py_ssize_t i = 0; i < n; i++) {          /* refuse a freed graph before any work */
        if (order[i]->node != NULL && order[i]->node->released) {
            PyErr_Format(PyExc_RuntimeError,
                         "backward: the graph through '%s' was already freed by an earlier "
                         "backward; call backward(retain_graph=True) the first time to "
                         "backpropagate through it twice",
                         pc_op_table[order[i]->node->op].name);
            goto done;
        }
    }
    alias = seed_can_alias(root, seed, retain_grads, order, n);
    /* A non-leaf's gradient kept from an earlier backward is set aside: this backward
     * sends on only its own ∂E/∂t (as torch does) and adds it to the kept one after. */
    if ((kept = PyMem_Calloc(n > 0 ? n : 1, sizeof(*kept))) == NULL) {
        PyErr_NoMemory();
        goto done;
    }
    for (Py_ssize_t i = 0; i < n; i++) {
        if (order[i]->node != NULL && order[i]->grad != NULL) {
            kept[i] = order[i]->grad;
            order[i]->grad = NULL;
        }
    }
    if (seed_gradient(root, seed, alias) < 0)
        goto done;
    if ((keep = PyList_New(0)) == NULL)
        goto done;
    outer_keep = pc_keepalive;
    pc_keepalive = keep;
    for (Py_ssize_t i = n - 1; i >= 0; i--) {
        TensorObject *t = order[i];
        pc_node *node = t->node;
        int failed;
        if (node == NULL)
            continue;                   /* a leaf: its .grad is the result */
        if (t->grad == NULL)
            failed = 0;
        else if ((failed = PyList_Append(keep, t->grad) < 0) == 0)
            failed = pc_op_table[node->op].backward(node, PC_DATA(PyList_GET_ITEM(keep, 0)))
                     < 0;
        if (PyList_SetSlice(keep, 0, PyList_GET_SIZE(keep), NULL) < 0 || failed)
            goto done;
        if (kept[i] != NULL && add_kept_gradient(t, &kept[i]) < 0)
            goto done;
        if (!retain_graph)
            pc_node_release(node);
        if (!t->retain_grad && !retain_grads)
            Py_CLEAR(t->grad);          /* a non-leaf's gradient is spent */
    }
    if (retain_grads)
        Py_XSETREF(pc_kept_root, Py_NewRef(root_obj));
    status = 0;
done:
    if (alias && root->grad != NULL && PC_DATA(root->grad) == seed)
        Py_CLEAR(root->grad);       /* a failed backward: the caller's seed is not kept */
    for (Py_ssize_t i = 0; kept != NULL && i < n; i++) {
        if (kept[i] != NULL)        /* a failed backward: the kept gradients as they were */
            Py_XSETREF(order[i]->grad, kept[i]);
    }
    PyMem_Free(kept);
    if (keep != NULL) {
        pc_keepalive = outer_keep;
        Py_DECREF(keep);
    }
    for (Py_ssize_t i = 0; i < n; i++)
        Py_DECREF(order[i]);
    PyMem_Free(order);
    return status;
}

/* One node's share alone: each parent's ∂E/∂parent contribution dout · ∂t/∂parent, as
 * t's backward computes it, without touching any .grad (the parents' gradients are set
 * aside while the node's backward writes fresh ones, then put back). dout has t's
 * shape and dtype (the caller checks). Returns a new tuple,
 * one entry per parent: a new array, or None for a parent that does not require grad. */
PyObject *
pc_node_vjp(PyObject *t_obj, PyArrayObject *dout)
{
    TensorObject *t = (TensorObject *)t_obj;
    pc_node *node = t->node;
    PyObject **kept = NULL, *result = NULL, *keep = NULL, *outer_keep = pc_keepalive;
    int n, failed;

    if (node == NULL) {
        PyErr_SetString(PyExc_ValueError, "vjp: this tensor is a leaf: no op computed it");
        return NULL;
    }
    if (node->released) {
        PyErr_Format(PyExc_RuntimeError,
                     "vjp: the graph through '%s' was already freed by a backward; call "
                     "backward(retain_grads=True) (or backward inside `with "
                     "pycnn.keep_grads():`) to keep it", pc_op_table[node->op].name);
        return NULL;
    }
    n = node->n_parents;
    if ((kept = PyMem_Calloc(n > 0 ? n : 1, sizeof(*kept))) == NULL)
        return PyErr_NoMemory();
    for (int i = 0; i < n; i++) {       /* set aside; a parent used twice is set aside once */
        TensorObject *p = (TensorObject *)node->parents[i];
        kept[i] = p->grad;
        p->grad = NULL;
    }
    if ((keep = PyList_New(0)) == NULL)
        goto restore;
    pc_keepalive = keep;
    failed = pc_op_table[node->op].backward(node, dout) < 0;
    pc_keepalive = outer_keep;
    if (failed)
        goto restore;
    if ((result = PyTuple_New(n)) == NULL)
        goto restore;
    for (int i = 0; i < n; i++) {
        TensorObject *p = (TensorObject *)node->parents[i];
        PyObject *g = p->grad != NULL ? (PyObject *)PC_DATA(p->grad) : Py_None;
        PyTuple_SET_ITEM(result, i, Py_NewRef(g));
    }
restore:
    for (int i = n - 1; i >= 0; i--) {  /* reverse: the first set-aside of a twice-used
                                         * parent holds its real gradient */
        TensorObject *p = (TensorObject *)node->parents[i];
        Py_XSETREF(p->grad, kept[i]);
    }
    Py_XDECREF(keep);
    PyMem_Free(kept);
    return result;
}
