/* core/bufpool.c — recycled data buffers for the big arrays pycnn allocates.
 *
 * A training step allocates the same large arrays every step: activations, their
 * gradients, im2col workspaces. Straight from malloc, each one of 128 KiB or more is
 * a fresh mmap whose pages the kernel zero-fills on first touch and unmaps on free —
 * 200,000 page faults in one epoch of the lecture's MLP, a third of its time. Here a
 * freed buffer instead waits in a small pool, keyed by its exact size, for the next
 * array of that size (the next step's). Bounded in count and bytes; the oldest buffers
 * are released first. Touched only with the GIL held (array creation and dealloc).
 *
 * The array does not own its data: its base is a capsule that gives the buffer back
 * to the pool when the last view of the array is gone.
 */
#include "core/bufpool.h"

#include "core/array.h"

#include <stdlib.h>
#include <string.h>

#define PC_POOL_SLOTS 64
#define PC_POOL_MAX_BYTES ((size_t)256 << 20)
#define PC_POOL_MIN_BYTES ((size_t)64 << 10)    /* below this malloc is cheap enough */
#define PC_POOL_ALIGN 64                        /* a cache line; AVX-512 loads */

typedef struct {
    size_t nbytes;
    void *buf;
} pc_pool_slot;

static pc_pool_slot pool[PC_POOL_SLOTS];        /* oldest first */
static int pool_count = 0;
static size_t pool_bytes = 0;
static const char capsule_name[] = "pycnn.buffer";

static void *
buffer_alloc(size_t nbytes)
{
    size_t rounded = (nbytes + PC_POOL_ALIGN - 1) / PC_POOL_ALIGN * PC_POOL_ALIGN;
    for (int i = pool_count - 1; i >= 0; i--) {          /* newest first: warm in cache */
        if (pool[i].nbytes == nbytes) {
            void *buf = pool[i].buf;
            memmove(&pool[i], &pool[i + 1], (size_t)(pool_count - i - 1) * sizeof(pool[0]));
            pool_count--;
            pool_bytes -= nbytes;
            return buf;
        }
    }
    return aligned_alloc(PC_POOL_ALIGN, rounded);
}

static void
buffer_release(void *buf, size_t nbytes)
{
    if (nbytes > PC_POOL_MAX_BYTES) {
        free(buf);
        return;
    }
    while (pool_count > 0 && (pool_count == PC_POOL_SLOTS ||
                              pool_bytes + nbytes > PC_POOL_MAX_BYTES)) {
        free(pool[0].buf);                               /* the oldest goes */
        pool_bytes -= pool[0].nbytes;
        memmove(&pool[0], &pool[1], (size_t)(pool_count - 1) * sizeof(pool[0]));
        pool_count--;
    }
    pool[pool_count++] = (pc_pool_slot){nbytes, buf};
    pool_bytes += nbytes;
}

static void
capsule_release(PyObject *capsule)
{
    void *buf = PyCapsule_GetPointer(capsule, capsule_name);
    size_t nbytes = (size_t)(uintptr_t)PyCapsule_GetContext(capsule);
    if (buf != NULL)
        buffer_release(buf, nbytes);
    else
        PyErr_Clear();
}

/* ValueError naming the shape whose byte count does not fit in npy_intp; NULL */
static PyArrayObject *
too_large(int ndim, const npy_intp *shape)
{
    PyObject *s = pc_shape_tuple(ndim, shape);
    if (s != NULL)
        PyErr_Format(PyExc_ValueError, "an array of shape %R is too large", s);
    Py_XDECREF(s);
    return NULL;
}

PyArrayObject *
pc_pool_array(int ndim, const npy_intp *shape, int typenum, int zero)
{
    PyArray_Descr *descr = PyArray_DescrFromType(typenum);      /* new ref, stolen below */
    npy_intp n = 1;
    size_t nbytes;
    void *buf;
    PyObject *capsule, *arr;

    if (descr == NULL)
        return NULL;
    for (int d = 0; d < ndim; d++) {                     /* n = ∏ shape, checked */
        if (shape[d] < 0 || (shape[d] > 0 && n > NPY_MAX_INTP / shape[d])) {
            Py_DECREF(descr);
            return too_large(ndim, shape);
        }
        n *= shape[d];
    }
    if ((size_t)n > (size_t)NPY_MAX_INTP / (size_t)PyDataType_ELSIZE(descr)) {
        Py_DECREF(descr);
        return too_large(ndim, shape);
    }
    nbytes = (size_t)n * (size_t)PyDataType_ELSIZE(descr);
    if (nbytes < PC_POOL_MIN_BYTES) {
        if (zero)
            return (PyArrayObject *)PyArray_Zeros(ndim, (npy_intp *)shape, descr, 0);
        return (PyArrayObject *)PyArray_NewFromDescr(&PyArray_Type, descr, ndim,
                                                     (npy_intp *)shape, NULL, NULL, 0, NULL);
    }
    if ((buf = buffer_alloc(nbytes)) == NULL) {
        PyObject *s = pc_shape_tuple(ndim, shape);
        if (s != NULL)
            PyErr_Format(PyExc_MemoryError, "unable to allocate %zu bytes for an array of "
                         "shape %R", nbytes, s);
        Py_XDECREF(s);
        Py_DECREF(descr);
        return NULL;
    }
    if ((capsule = PyCapsule_New(buf, capsule_name, capsule_release)) == NULL) {
        buffer_release(buf, nbytes);
        Py_DECREF(descr);
        return NULL;
    }
    if (PyCapsule_SetContext(capsule, (void *)(uintptr_t)nbytes) < 0) {
        Py_DECREF(capsule);                              /* gives buf back */
        Py_DECREF(descr);
        return NULL;
    }
    arr = PyArray_NewFromDescr(&PyArray_Type, descr, ndim, (npy_intp *)shape, NULL, buf,
                               NPY_ARRAY_CARRAY, NULL);
    if (arr == NULL || PyArray_SetBaseObject((PyArrayObject *)arr, capsule) < 0) {
        Py_XDECREF(arr);
        if (arr == NULL)
            Py_DECREF(capsule);
        return NULL;
    }
    if (zero)
        memset(buf, 0, nbytes);
    return (PyArrayObject *)arr;
}

/* ---- Python: pycnn._core._buffer_pool() / _buffer_pool_clear() ---------------------- */

static PyObject *
py_buffer_pool(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("{s:i,s:n,s:n,s:n}", "buffers", pool_count, "bytes",
                         (Py_ssize_t)pool_bytes, "max_bytes", (Py_ssize_t)PC_POOL_MAX_BYTES,
                         "min_bytes", (Py_ssize_t)PC_POOL_MIN_BYTES);
}

static PyObject *
py_buffer_pool_clear(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    while (pool_count > 0) {
        pool_count--;
        free(pool[pool_count].buf);
    }
    pool_bytes = 0;
    Py_RETURN_NONE;
}

PyMethodDef pc_bufpool_functions[] = {
    {"_buffer_pool", py_buffer_pool, METH_NOARGS,
     "_buffer_pool()\n--\n\nReturns dict. freed array buffers kept for reuse (count, bytes, limits)"},
    {"_buffer_pool_clear", py_buffer_pool_clear, METH_NOARGS,
     "_buffer_pool_clear()\n--\n\ngive every pooled buffer back to the system"},
    {NULL, NULL, 0, NULL},
};
