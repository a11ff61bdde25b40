/* py/args.h — small argument-checking helpers shared by the core bindings (tensor,
 * losses, shape ops), so that every "shapes do not match" message is built one way. */
#ifndef PC_ARGS_H
#define PC_ARGS_H

#include "py/convert.h"

/* Raises ValueError(fmt % (op, shape of a, shape of b, detail)) and returns -1.
 * fmt takes exactly, in this order: %s (op), %R (a's shape), %R (b's shape), %s
 * (detail, "" for none); e.g. "%s: y_true shape %R does not match y_pred shape %R%s". */
int pc_shape_mismatch(const char *fmt, const char *op, PyArrayObject *a, PyArrayObject *b,
                      const char *detail);

/* *out = float(obj) for an argument named `arg` of `op`; a non-number raises
 * TypeError("Dropout: rate must be a number, got 'half'"). 0, or -1 with it set. */
int pc_parse_real(PyObject *obj, const char *op, const char *arg, double *out);

/* *out = operator.index(obj) for an integer argument `arg` of `op`; anything else raises
 * TypeError("softmax: axis must be an int, got 'a'"). 0, or -1 with it set. */
int pc_parse_index(PyObject *obj, const char *op, const char *arg, Py_ssize_t *out);

#endif
