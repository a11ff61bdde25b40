/* core/array.h — the arrays every floor above allocates and dispatches on: new and
 * zero-filled C-contiguous arrays (big ones from the buffer pool), the one dtype
 * dispatch idiom, shapes as Python tuples for messages, and the shared
 * "shapes do not match" error. */
#ifndef PC_ARRAY_H
#define PC_ARRAY_H

#include "core/numpy_api.h"

/* Calls fn##_f32 or fn##_f64 by the dtype (already checked to be one of the two). */
#define PC_DISPATCH(typenum, fn, ...) \
    ((typenum) == NPY_FLOAT32 ? fn##_f32(__VA_ARGS__) : fn##_f64(__VA_ARGS__))

/* The same for the strided driver (kernels/strided.h), whose last argument, the row
 * function, is per dtype too: fn##_f32(..., row##_f32) or fn##_f64(..., row##_f64). */
#define PC_DISPATCH_ROWS(typenum, fn, row, ...)                                          \
    ((typenum) == NPY_FLOAT32 ? fn##_f32(__VA_ARGS__, row##_f32)                        \
                              : fn##_f64(__VA_ARGS__, row##_f64))

/* Above this many elements a kernel runs with the GIL released. */
#define PC_GIL_THRESHOLD 16384

/* PC_DISPATCH / PC_DISPATCH_ROWS with the GIL released when the work is large (n elements
 * > PC_GIL_THRESHOLD): the kernel call of every recorder and backward. The arguments are
 * evaluated without the GIL, so they must not touch Python objects beyond PyArray_* macros. */
#define PC_DISPATCH_NOGIL(n, typenum, fn, ...)                                           \
    do {                                                                                 \
        NPY_BEGIN_THREADS_DEF;                                                           \
        if ((n) > PC_GIL_THRESHOLD)                                                      \
            NPY_BEGIN_THREADS;                                                           \
        PC_DISPATCH(typenum, fn, __VA_ARGS__);                                           \
        NPY_END_THREADS;                                                                 \
    } while (0)
#define PC_DISPATCH_ROWS_NOGIL(n, typenum, fn, row, ...)                                 \
    do {                                                                                 \
        NPY_BEGIN_THREADS_DEF;                                                           \
        if ((n) > PC_GIL_THRESHOLD)                                                      \
            NPY_BEGIN_THREADS;                                                           \
        PC_DISPATCH_ROWS(typenum, fn, row, __VA_ARGS__);                                 \
        NPY_END_THREADS;                                                                 \
    } while (0)

/* Element i of a float32/float64 array, as a double (exact for either dtype) */
static inline double
pc_value_at(PyArrayObject *a, npy_intp i)
{
    return PyArray_TYPE(a) == NPY_FLOAT32 ? (double)((const float *)PyArray_DATA(a))[i]
                                          : ((const double *)PyArray_DATA(a))[i];
}

/* a[i] = v, or a[i] += v when add: rounded once to a's dtype (v first, for float32) */
static inline void
pc_value_store(PyArrayObject *a, npy_intp i, double v, int add)
{
    if (PyArray_TYPE(a) == NPY_FLOAT32) {
        float *p = (float *)PyArray_DATA(a) + i;
        *p = add ? *p + (float)v : (float)v;
    }
    else {
        double *p = (double *)PyArray_DATA(a) + i;
        *p = add ? *p + v : v;
    }
}

/* A new uninitialised / zero-filled C-contiguous array (new ref); big ones reuse
 * the buffers of freed arrays of the same size (core/bufpool.c). */
PyArrayObject *pc_new_array(int ndim, const npy_intp *shape, int typenum);
PyArrayObject *pc_zeros_array(int ndim, const npy_intp *shape, int typenum);

/* Shape as a Python tuple (new ref), for messages: "(2, 3)" */
PyObject *pc_shape_tuple(int ndim, const npy_intp *shape);

/* Raises ValueError(fmt % (op, shape of a, shape of b, detail)) and returns -1.
 * fmt takes exactly, in this order: %s (op), %R (a's shape), %R (b's shape), %s
 * (detail, "" for none); e.g. "%s: y_true shape %R does not match y_pred shape %R%s". */
int pc_shape_mismatch(const char *fmt, const char *op, PyArrayObject *a, PyArrayObject *b,
                      const char *detail);

#endif
