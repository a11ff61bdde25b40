/* py/convert.h — turning Python values into pycnn's arrays and tensors, and the
 * checks every binding shares. Errors name the op and the numbers. */
#ifndef PC_CONVERT_H
#define PC_CONVERT_H

#include "autograd/ops_elementwise.h"

/* The function and flags of a PyMethodDef row taking (args, kwargs): the cast from
 * PyCFunctionWithKeywords that every such row needs, written once. */
#define PC_KW(f) (PyCFunction)(void (*)(void))(f), METH_VARARGS | METH_KEYWORDS

/* A C-contiguous, aligned, writeable float32/float64 array holding obj's values
 * (new ref). typenum -1 picks the default: float32/float64 NumPy data keeps its
 * dtype, everything else (Python lists and numbers, integer and bool data) becomes
 * float32. Non-numeric data raises TypeError naming `op`; ragged lists raise
 * NumPy's ValueError. obj's own buffer is reused when it already qualifies. */
PyArrayObject *pc_as_array(PyObject *obj, int typenum, const char *op);

/* A Tensor for obj (new ref): a Tensor is returned as is; anything else is
 * converted by pc_as_array and wrapped as a constant leaf. */
PyObject *pc_as_tensor(PyObject *obj, int typenum, const char *op);

/* The dtype argument of tensor(), astype(): None (→ -1), 'float32', np.float64...
 * Returns NPY_FLOAT32/NPY_FLOAT64, -1 for None, -2 with TypeError otherwise. */
int pc_parse_dtype(PyObject *dtype, const char *op);

#endif
