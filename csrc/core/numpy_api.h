/* core/numpy_api.h — the only file that includes NumPy's headers.
 * module.c defines PC_NUMPY_IMPORT_HERE before including it; every other file
 * shares the API table through PY_ARRAY_UNIQUE_SYMBOL. */
#ifndef PC_NUMPY_API_H
#define PC_NUMPY_API_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#define PY_ARRAY_UNIQUE_SYMBOL pycnn_ARRAY_API
#ifndef PC_NUMPY_IMPORT_HERE
#define NO_IMPORT_ARRAY
#endif
#include <numpy/arrayobject.h>

#include "kernels/pc_types.h"

/* npy_intp shapes are handed to kernels as pc_index arrays */
_Static_assert(sizeof(npy_intp) == sizeof(pc_index), "npy_intp and pc_index differ in size");

#endif
