/* core/blas.h — matrix products through the BLAS NumPy already ships.
 * pc_matmul calls that library's CBLAS ?gemm itself (found by pc_blas_init), without the
 * GIL and cut into pieces on pycnn's pool when that pays (kernels/gemm.h), whenever the
 * operands are plain C- or Fortran-contiguous float matrices of out's dtype; a
 * transposed view costs no copy. Otherwise, or when no CBLAS entry point was found, it
 * calls np.matmul, which writes straight into `out` and releases the GIL while BLAS runs. */
#ifndef PC_BLAS_H
#define PC_BLAS_H

#include "core/numpy_api.h"

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
