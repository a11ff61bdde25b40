/* py/tensor.h — what the two files of the Tensor type share: tensor.c (the type, its
 * methods and operators) and tensor_attrs.c (its attributes). */
#ifndef PC_TENSOR_H
#define PC_TENSOR_H

#include <Python.h>

/* shape, ndim, size, dtype, requires_grad, grad, name, op, parents, is_leaf, T */
extern PyGetSetDef pc_tensor_getset[];

#endif
