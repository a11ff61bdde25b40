/* py/bindings.h — what the binding files export to module.c and to each other. */
#ifndef PC_BINDINGS_H
#define PC_BINDINGS_H

#include "py/convert.h"

/* y = a ⋆ b for a binary element-wise op, with broadcasting and dtype promotion;
 * a or b may be any value pc_as_tensor accepts (new ref or NULL). */
PyObject *pc_binary_op(pc_op op, PyObject *a, PyObject *b);
/* y = f(x) for a unary element-wise op (new ref or NULL) */
PyObject *pc_unary_op(pc_op op, PyObject *x);

/* Module function tables, one per binding topic file; module.c adds each. */
extern PyMethodDef pc_tensor_functions[];       /* py/tensor.c */
extern PyMethodDef pc_elementwise_functions[];  /* py/elementwise.c */
extern PyMethodDef pc_optim_functions[];        /* py/optim.c */

#endif
