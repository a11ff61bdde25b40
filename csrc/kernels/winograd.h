/* winograd.h — 3×3, stride-1 convolution by Winograd's minimal filtering F(2×2, 3×3)
 * (Lavin & Gray, "Fast Algorithms for Convolutional Neural Networks", 2016). Pure C.
 *
 * The output is cut into 2×2 tiles; tile (n, th, tw) covers y[n, 2th..2th+1, 2tw..2tw+1]
 * and reads the 4×4 input patch d = x[n, 2th − PT + 0..3, 2tw − PL + 0..3] (0 outside).
 * Per tile and per (input channel c, filter f), with g = kernel[:, :, c, f]:
 *
 *     y_tile = Aᵀ [ (G g Gᵀ) ⊙ (Bᵀ d B) ] A
 *
 *          ⎡1  0 −1  0⎤        ⎡ 1    0    0 ⎤
 *     Bᵀ = ⎢0  1  1  0⎥    G = ⎢ ½    ½    ½ ⎥    Aᵀ = ⎡1  1  1  0⎤
 *          ⎢0 −1  1  0⎥        ⎢ ½   −½    ½ ⎥         ⎣0  1 −1 −1⎦
 *          ⎣0  1  0 −1⎦        ⎣ 0    0    1 ⎦
 *
 * The sum over channels makes the element-wise product 16 GEMMs, one per position
 * p = 4·i + j of the 4×4 transformed tile:  M[p] (tiles, F) = V[p] (tiles, C) · U[p] (C, F),
 * with V = Bᵀ d B (pc_wino_input), U = G g Gᵀ (pc_wino_weights), y = Aᵀ M A
 * (pc_wino_output). 16 multiplications per tile and channel pair instead of 36:
 * 2.25× fewer. The backward is the adjoint of each linear step (transposed matrices):
 *   dM = A dy Aᵀ (pc_wino_output_backward),   dU[p] = V[p]ᵀ · dM[p],   dV[p] = dM[p] · U[p]ᵀ,
 *   dg = Gᵀ dU G (pc_wino_weights_backward),  dx += B dV Bᵀ scattered back onto the
 *   overlapping patches (pc_wino_input_backward).
 *
 * Layouts: x (N, H, W, C) and y, dy (N, OH, OW, F) channels_last; kernel (3, 3, C, F);
 * V, dV (16, tiles, C); M, dM (16, tiles, F); U, dU (16, C, F), all C-contiguous.
 * The tile kernels work on the images n0 ≤ n < n1; tile 0 is (n0, 0, 0) and tiles run
 * over (n, th, tw) in that order: tiles = (n1 − n0)·TH·TW, TH = ⌈OH/2⌉, TW = ⌈OW/2⌉.
 */
#ifndef PC_WINOGRAD_H
#define PC_WINOGRAD_H

#include "conv.h"

/* Tiles per image: ⌈OH/2⌉·⌈OW/2⌉ */
static inline pc_index
pc_wino_tiles_per_image(const pc_window2d *g)
{
    return ((g->OH + 1) / 2) * ((g->OW + 1) / 2);
}

/* U[p, c, f] = (G g Gᵀ)[p] from kernel (3, 3, C, F)                        overwrites U */
void pc_wino_weights_f32(const float *w, float *u, pc_index C, pc_index F);
void pc_wino_weights_f64(const double *w, double *u, pc_index C, pc_index F);

/* dw (+)= Gᵀ dU G; add = 0 overwrites dw                                       */
void pc_wino_weights_backward_f32(const float *du, float *dw, pc_index C, pc_index F, int add);
void pc_wino_weights_backward_f64(const double *du, double *dw, pc_index C, pc_index F,
                                  int add);

/* pc_wino_input(x, v, g, n0, n1): V[p, t, c] = (Bᵀ d B)[p] for the tiles of images
 * [n0, n1)                                                                overwrites V */
pc_chunk_kernel_f32 pc_wino_input_f32;
pc_chunk_kernel_f64 pc_wino_input_f64;

/* pc_wino_input_backward(dv, dx, g, n0, n1): dx += B dV Bᵀ on each tile's patch
 * (padding dropped)                                                    accumulates dx */
pc_chunk_kernel_f32 pc_wino_input_backward_f32;
pc_chunk_kernel_f64 pc_wino_input_backward_f64;

/* y[n, 2th + i, 2tw + j, f] = act((Aᵀ M A)[i, j] + b[f]) inside the image; b may be
 * NULL, act a pc_act (dense.h)                                            overwrites y */
void pc_wino_output_f32(const float *m, float *y, const pc_window2d *g, pc_index F,
                        pc_index n0, pc_index n1, const float *b, int act);
void pc_wino_output_f64(const double *m, double *y, const pc_window2d *g, pc_index F,
                        pc_index n0, pc_index n1, const double *b, int act);

/* dM[p, t, f] = (A dz_tile Aᵀ)[p], dz = dy · act'(y) (y: the forward's output, NULL for
 * a linear activation), dz_tile 0 past the image's edge; with db ≠ NULL also
 * db[(n − n0)·F + f] = Σ over image n's pixels of dz[…, f]       overwrites dM and db */
void pc_wino_output_backward_f32(const float *dy, float *dm, const pc_window2d *g, pc_index F,
                                 pc_index n0, pc_index n1, const float *y, int act,
                                 double *db);
void pc_wino_output_backward_f64(const double *dy, double *dm, const pc_window2d *g,
                                 pc_index F, pc_index n0, pc_index n1, const double *y,
                                 int act, double *db);

#endif
