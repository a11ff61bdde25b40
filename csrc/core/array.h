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
