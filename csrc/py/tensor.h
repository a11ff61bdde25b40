/* py/tensor.h — what the two files of the Tensor type share: tensor.c (the type, its
 * methods and operators) and tensor_attrs.c (its attributes). */
#ifndef PC_TENSOR_H
#define PC_TENSOR_H

#include <Python.h>

/* shape, ndim, size, dtype, requires_grad, grad, name, op, parents, is_leaf, T */
extern PyGetSetDef pc_tensor_getset[];

/* Fills Tensor_Type's Python-facing slots (core/tensor.c defines the type with its
 * GC slots) and readies it; 0, or -1 with an exception set. Module exec slot. */
int pc_tensor_type_ready(void);

/* py/tensor_interop.c: the comparison and hash slots (before PyType_Ready), and the
 * NumPy-protocol, DLPack and op methods (after it); 0, or -1 with an exception set. */
int pc_tensor_interop_ready(PyTypeObject *type);
int pc_tensor_interop_methods(PyTypeObject *type);

#endif
