/* window.h — the geometry of a 2-D sliding window over NHWC images, shared by
 * convolution (conv.h) and pooling (pool.h). Pure C.
 *
 * A dilated window (conv2d's dilation_rate D) takes every D-th pixel: its taps are
 * K' = (K − 1)·D + 1 pixels wide, and K' replaces K below.
 *   valid:  O = ⌊(I − K) / S⌋ + 1, no padding
 *   same:   O = ⌈I / S⌉, padding P = max((O − 1)·S + K − I, 0) split as
 *           ⌊P/2⌋ before (top/left) and the rest after (bottom/right) — Keras' rule.
 */
#ifndef PC_WINDOW_H
#define PC_WINDOW_H

#include "pc_types.h"

typedef struct {
    pc_index N, H, W, C;        /* input (N, H, W, C) */
    pc_index KH, KW;            /* window rows, columns */
    pc_index SH, SW;            /* strides */
    pc_index PT, PL;            /* padding before the first row / column */
    pc_index OH, OW;            /* output rows, columns */
    pc_index GH, GW;            /* dilation − 1: the pixels skipped between taps. 0 (the
                                   value of every initializer that leaves them out) is an
                                   ordinary window; only im2col/col2im read them */
} pc_window2d;

/* The pixels a window spans along rows / columns: (K − 1)·D + 1 */
static inline pc_index
pc_window_span(pc_index k, pc_index gap)
{
    return (k - 1) * (gap + 1) + 1;
}

/* Fills OH, OW, PT, PL from the other fields. Returns -1 (nothing else changed)
 * when a 'valid' window does not fit in the input, else 0. */
static inline int
pc_window_geometry(pc_window2d *g, int same)
{
    if (same) {     /* ⌈I / S⌉ and P without overflow for any size, stride or window */
        g->OH = g->H > 0 ? (g->H - 1) / g->SH + 1 : 0;
        g->OW = g->W > 0 ? (g->W - 1) / g->SW + 1 : 0;
        pc_index ph = ((g->OH - 1) * g->SH - g->H) + pc_window_span(g->KH, g->GH);
        pc_index pw = ((g->OW - 1) * g->SW - g->W) + pc_window_span(g->KW, g->GW);
        g->PT = ph > 0 ? ph / 2 : 0;
        g->PL = pw > 0 ? pw / 2 : 0;
        return 0;
    }
    if (pc_window_span(g->KH, g->GH) > g->H || pc_window_span(g->KW, g->GW) > g->W)
        return -1;
    g->OH = (g->H - pc_window_span(g->KH, g->GH)) / g->SH + 1;
    g->OW = (g->W - pc_window_span(g->KW, g->GW)) / g->SW + 1;
    g->PT = g->PL = 0;
    return 0;
}

/* One axis of a transposed convolution, Keras 3's rule (backend_utils.py, the same on
 * every backend): input length I = in, kernel K = k, stride S = s, output_padding op
 * (< 0: None). The output y (O = out) relates to the input x as a conv2d's input to its
 * output, with P = pad rows of padding before y's first row (the windows may hang
 * past its end):
 *   valid: O = (I − 1)·S + K + op, op defaulting to max(K, S) − K;     P = 0
 *   same:  O = I·S (op None), else (I − 1)·S + K mod 2 + op;
 *          L = S + K − 2 (op None), else K + K mod 2 − 2 + op;
 *          P = K − 1 − min(⌈L/2⌉, K − 1)                                   */
static inline void
pc_window_transpose_length(pc_index in, pc_index k, pc_index s, int same, pc_index op,
                           pc_index *out, pc_index *pad)
{
    if (!same) {
        *out = (in - 1) * s + k + (op >= 0 ? op : (k > s ? k : s) - k);
        *pad = 0;
        return;
    }
    pc_index len = op < 0 ? s + k - 2 : k + k % 2 - 2 + op;
    pc_index left = len / 2 + len % 2;
    *out = op < 0 ? in * s : (in - 1) * s + k % 2 + op;
    *pad = k - 1 - (left < k - 1 ? left : k - 1);
}

#endif
