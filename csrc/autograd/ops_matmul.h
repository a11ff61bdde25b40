/* autograd/ops_matmul.h — the (batched) matrix product: its layout and its recorder. */
#ifndef PC_OPS_MATMUL_H
#define PC_OPS_MATMUL_H

#include "autograd/node.h"

enum { PC_MM_A = 0, PC_MM_B = 1, PC_MM_Y = 2 };

/* y = a @ b as np.matmul: every batch element is one (M, K) · (K, N) product.
 * A 1-D a is a row (1, K) and a 1-D b a column (K, 1), their axis dropped from y.
 * stride[w][d]: elements between consecutive matrices of operand w (a, b, y) along
 * batch axis d; 0 where w is broadcast. When b is shared by every batch element
 * and a is not broadcast, the batch folds into M: one (n·M, K) · (K, N) product. */
typedef struct {
    npy_intp M, K, N;
    int batch_ndim;
    npy_intp batch_shape[PC_MAX_NDIM];
    pc_index stride[3][PC_MAX_NDIM];
    int y_ndim;
    npy_intp y_shape[PC_MAX_NDIM];
} pc_matmul_layout;

/* 0, or -1 with ValueError naming both shapes (0-d operand, inner sizes that
 * differ, batch shapes that cannot broadcast, too many axes). */
int pc_matmul_layout_init(pc_matmul_layout *L, PyArrayObject *a, PyArrayObject *b);

/* For every batch element: out[o] (=|+=) op(p[p]) · op(q[q]), where each operand is
 * (array, which stride row it follows, rows, cols, transposed?). 0, or -1. */
typedef struct {
    PyArrayObject *arr;
    int slot;                           /* PC_MM_A, PC_MM_B or PC_MM_Y */
    npy_intp rows, cols;                /* one matrix as stored */
    int trans;
} pc_mm_operand;

int pc_matmul_batched(const pc_matmul_layout *L, pc_mm_operand p, pc_mm_operand q,
                      pc_mm_operand out, int accumulate);

/* y = a @ b (Tensors of one dtype) as np.matmul, recorded with parents (a, b); shape
 * errors as pc_matmul_layout_init. New ref or NULL. */
PyObject *pc_matmul_tensors(PyObject *a, PyObject *b);

#endif
