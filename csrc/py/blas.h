/* py/blas.h — matrix products through the BLAS NumPy already ships.
 * np.matmul calls cblas ?gemm for float32/float64 when each
 * operand is C- or Fortran-contiguous, so a transposed view costs no copy, and it
 * writes straight into `out` and releases the GIL while BLAS runs. */
#ifndef PC_BLAS_H
#define PC_BLAS_H

#include "py/numpy_api.h"

/* out (=|+=) op(a) · op(b), 2-D; op(m) = mᵀ when its trans flag is set.
 * out must be C-contiguous with the product's shape and dtype. accumulate = 1 adds
 * the product into out (through a temporary). 0, or -1 with an exception set. */
int pc_matmul(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b,
              PyArrayObject *out, int accumulate);

/* Finds the CBLAS ?gemm of the BLAS library NumPy loaded (scipy-openblas in NumPy's
 * wheels, or a system libcblas / libopenblas / MKL) and installs it for the kernels
 * (kernels/gemm.h), after checking two small products. Finding none is not an error:
 * the kernels' callers then take np.matmul. Called once from the module's exec slot,
 * after NumPy is imported. */
void pc_blas_init(void);

/* pycnn._core._gemm_backend: which of the two the kernels use (blas.c) */
extern PyMethodDef pc_blas_functions[];

#endif
