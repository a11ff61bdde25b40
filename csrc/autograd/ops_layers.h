/* autograd/ops_layers.h — the layer ops' recorders and what their backward functions
 * share (ops_dense.c, ops_conv.c, ops_conv_winograd.c, ops_pool.c, ops_layers.c). */
#ifndef PC_OPS_LAYERS_H
#define PC_OPS_LAYERS_H

#include "autograd/ops_elementwise.h"
#include "core/blas.h"

/* pc_grad_buffer, also telling whether the buffer was just created (all zeros), so
 * that a GEMM may overwrite it rather than add through a temporary. */
int pc_grad_buffer_fresh(pc_node *node, int i, PyArrayObject **out, int *fresh);

/* A (rows, cols) view of a C-contiguous array whose size is rows·cols (new ref) */
PyArrayObject *pc_matrix_view(PyArrayObject *a, npy_intp cols);

/* Backward of "y = act(z), z = (…)·W + b" up to z: returns dz (new ref; dout itself
 * for a linear activation, else a new array dout · act'(y)) and adds the bias
 * gradient Σ_rows dz into parent `bias_parent` when it wants one (-1: no bias).
 * N = the last dimension. NULL with an exception on error. */
PyArrayObject *pc_dense_dz(pc_node *node, PyArrayObject *dout, int act, PyArrayObject *y,
                           int bias_parent, npy_intp N);

/* Forward of the bias and activation in place on y (M·N values), GIL released when big */
void pc_dense_epilogue(PyArrayObject *y, PyArrayObject *b, npy_intp N, int act);

/* y = act(x·W + b) as one node; x (…, IN) in W's dtype, W (IN, N), b (N,) or NULL.
 * New ref or NULL. */
PyObject *pc_dense(PyObject *x, PyObject *w, PyObject *b, int act);

/* y = x · m with m = 0 (probability rate) or 1/(1 − rate), m drawn from rng (under
 * the GIL: the generator is shared state); 0 ≤ rate < 1 checked by the binding.
 * noise: NULL (a draw per element) or a shape of x's rank that broadcasts to x's, one
 * draw per element of it (Keras' noise_shape; SpatialDropout2D's (N, 1, 1, C)). */
#include "kernels/random.h"
PyObject *pc_dropout(PyObject *x, double rate, pc_rng *rng, const npy_intp *noise);

/* ---- convolution (ops_conv.c) ---- */
#include "kernels/window.h"

/* rows r0 ≤ r < r1 of a C-contiguous 2-D array, as a view (new ref) */
PyArrayObject *pc_row_slice(PyArrayObject *a, npy_intp r0, npy_intp r1);
/* the rows of images [n0, n1) of a (N·OH·OW, ·) pixel matrix of g's output, a view
 * (new ref) */
PyArrayObject *pc_image_rows(PyArrayObject *a, const pc_window2d *g, npy_intp n0,
                             npy_intp n1);

/* How many images' patch rows go through one GEMM: the patch matrix of a chunk
 * stays near PC_CONV_CHUNK values, so its memory is bounded for any batch. */
#define PC_CONV_CHUNK (1 << 21)
npy_intp pc_conv_chunk(const pc_window2d *g);

/* The window of a conv2d or depthwise_conv2d node, from its x, kernel and args.conv2d */
void pc_conv_node_geometry(const pc_node *node, pc_window2d *g);

/* The chunk loop of every patch-matrix GEMM (conv2d and conv2d_transpose, forward and
 * backward): fn(ctx, work, n0, n1) for the images [n0, n1) of each chunk in order, work
 * the first (n1 − n0)·OH·OW rows of one (chunk·OH·OW, K) workspace of `typenum` allocated
 * here; Ctrl-C is checked between chunks (a long convolution stops within one chunk's
 * time; fit's own SIGINT handler only flags it). 0, or -1 with an exception. */
typedef int (*pc_conv_chunk_fn)(void *ctx, PyArrayObject *work, npy_intp n0, npy_intp n1);
int pc_conv_for_chunks(const pc_window2d *g, npy_intp K, int typenum, pc_conv_chunk_fn fn,
                       void *ctx);

/* 1 when the patch matrix is x itself: a 1×1 kernel, stride 1, no padding */
int pc_conv_is_pointwise(const pc_window2d *g);

/* y (N, OH, OW, F) = act(conv(x, w) + b) as one node, by the route the geometry picks;
 * x, w, b (or NULL) Tensors of one dtype whose shapes match the geometry (checked by
 * the binding, which also derived OH, OW, PT, PL). New ref or NULL. */
PyObject *pc_conv2d(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *g, int same,
                    int act, npy_intp groups);

/* ---- grouped and depthwise convolution (ops_conv_depthwise.c, kernels/conv_depthwise.h) ----
 * A conv2d with groups G > 1 (x (N, H, W, C), w (KH, KW, C/G, F)): with C/G = 1 it is a
 * depthwise convolution (its kernel is a (KH, KW, C, F/C) depthwise kernel in memory) and
 * runs the direct depthwise kernel; otherwise group by group on channel slices, each
 * through the route its geometry picks. */

/* y (N, OH, OW, C·M) = act(depthwise(x, w) + b) as one node; w (KH, KW, C, M), b (C·M,)
 * or NULL; checked by the binding. New ref or NULL. */
PyObject *pc_depthwise_conv2d(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *g,
                              int same, int act);

/* y = act(conv2d(x, w; groups) + b) for groups > 1, written into y (N, OH, OW, F);
 * 0, or -1 with an exception */
int pc_conv_grouped_forward(const pc_window2d *g, npy_intp groups, PyArrayObject *x,
                            PyArrayObject *w, PyArrayObject *b, int act, PyArrayObject *y);

/* The backward of a conv2d node with groups > 1 */
int pc_conv_grouped_backward(const pc_window2d *g, pc_node *node, PyArrayObject *dout);

/* y = act(x ⋆ w + b) on plain arrays by the route the cost model picks for g (F = w's
 * last dim): Winograd (its transforms returned in *v, *u when those are not NULL), the
 * direct kernel over a padded copy of x (returned in *xp when xp is not NULL and a copy
 * was made), or im2col + GEMM and the bias/activation pass. b may be NULL. The one route
 * switch of conv2d's forward and of each group's. 0, or -1 with an exception. */
int pc_conv_route_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                          PyArrayObject *b, int act, PyArrayObject *y, PyArrayObject **v,
                          PyArrayObject **u, PyArrayObject **xp);

/* For the grouped route, ops_conv.c's im2col + GEMM pieces on plain arrays:
 *   forward:  y2d (N·OH·OW, F) = cols(x) · wm, wm (KH·KW·C, F)            overwrites
 *   backward: dx += col2im(dz·wmᵀ) when dx ≠ NULL, dwm (=|+=) colsᵀ·dz when dwm ≠ NULL
 *             (overwritten when *_fresh) */
int pc_conv_gemm_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *wm,
                         PyArrayObject *y2d);
int pc_conv_gemm_backward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *wm,
                          PyArrayObject *dz2d, PyArrayObject *dx, int dx_fresh,
                          PyArrayObject *dwm, int dw_fresh);

/* y (N, g.H, g.W, F) = act(conv2d_transpose(x, w) + b) as one node (ops_conv_transpose.c):
 * g is the geometry of the conv2d from y to x (g.C = F, g.OH, g.OW = x's H, W), w
 * (KH, KW, F, C); checked and derived by the binding, as are args->conv2d_transpose
 * (which the node keeps). New ref or NULL. */
PyObject *pc_conv2d_transpose(PyObject *x, PyObject *w, PyObject *b, const pc_window2d *g,
                              const pc_op_args *args);

/* ---- pooling and upsampling (ops_pool.c) ---- */

/* y = max (is_max) or mean over each window of x (N, H, W, C), one node; the geometry
 * checked and derived by the binding. New ref or NULL. */
PyObject *pc_pool2d(PyObject *x, const pc_window2d *g, int same, int is_max);
/* y (dims: N, H·SH, W·SW, C) = x repeated SH×SW times (nearest), one node */
PyObject *pc_upsampling2d(PyObject *x, const pc_window2d *g, const npy_intp dims[4]);

/* ---- Winograd F(2×2, 3×3) convolution (ops_conv_winograd.c, kernels/winograd.h) ---- */

/* Which algorithm conv2d uses: automatic (Winograd for 3×3 stride-1 windows with
 * enough channels, direct for short patches, im2col + GEMM otherwise), or one forced
 * (tests, benchmarks; a forced Winograd still needs a 3×3 stride-1 window, a forced
 * direct a patch of at most PC_CONV_DIRECT_MAX_K values) */
enum { PC_CONV_AUTO, PC_CONV_IM2COL, PC_CONV_WINOGRAD, PC_CONV_DIRECT };
extern int pc_conv_algorithm;

/* The routes, what each supports, what it costs, and the choice (ops_conv_route.c):
 * the cheapest supported route by a cost model, or the forced one where it applies */
enum { PC_ROUTE_IM2COL, PC_ROUTE_DIRECT, PC_ROUTE_WINOGRAD, PC_ROUTE_COUNT };
const char *pc_conv_route_name(int route);
/* 1 when route computes conv2d of this geometry with F filters */
int pc_conv_route_supports(int route, const pc_window2d *g, npy_intp F);
/* the model's cost (≈ ns on one core), or -1 when the route does not support it */
double pc_conv_route_cost(int route, const pc_window2d *g, npy_intp F);
/* the route conv2d takes, forward and backward */
int pc_conv_route(const pc_window2d *g, npy_intp F);

/* y (N, OH, OW, F) = act(x ⋆ w + b), overwritten; b may be NULL. With keep_v and
 * keep_u, also hands back (new refs) the input tiles' transforms V and the kernel's U,
 * which the backward then reuses instead of rebuilding them */
int pc_conv_winograd_forward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                             PyArrayObject *b, int act, PyArrayObject *y,
                             PyArrayObject **keep_v, PyArrayObject **keep_u);

/* From dy (N, OH, OW, F) and the forward's output y (NULL for a linear activation):
 * dx += ∂/∂x when dx ≠ NULL; dw (=|+=) ∂/∂w when dw ≠ NULL (overwritten when
 * dw_fresh); db += ∂/∂b when db ≠ NULL; kept_v, kept_u: the forward's V and U, or
 * NULL */
int pc_conv_winograd_backward(const pc_window2d *g, PyArrayObject *x, PyArrayObject *w,
                              PyArrayObject *dy, PyArrayObject *y, int act, PyArrayObject *dx,
                              PyArrayObject *dw, int dw_fresh, PyArrayObject *db,
                              PyArrayObject *kept_v, PyArrayObject *kept_u);

#endif
