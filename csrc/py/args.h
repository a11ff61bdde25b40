/* py/args.h — small argument-parsing helpers shared by the bindings: numbers and
 * integers named in their TypeErrors (shape errors are core/array.h's). */
#ifndef PC_ARGS_H
#define PC_ARGS_H

#include "py/convert.h"

/* *out = float(obj) for an argument named `arg` of `op`; a non-number raises
 * TypeError("Dropout: rate must be a number, got 'half'"). 0, or -1 with it set. */
int pc_parse_real(PyObject *obj, const char *op, const char *arg, double *out);

/* *out = operator.index(obj) for an integer argument `arg` of `op`; anything else raises
 * TypeError("softmax: axis must be an int, got 'a'"). 0, or -1 with it set. */
int pc_parse_index(PyObject *obj, const char *op, const char *arg, Py_ssize_t *out);

#endif
