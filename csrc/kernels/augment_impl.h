/* augment_impl.h — template body of augment.h's kernels, no include guard.
 * Needs T, ACC, SFX(name) and augment.c's pc_nodes / pc_resize_axis. */

typedef struct {
    const T *src;               /* forward: x; backward: dy */
    T *dst;                     /* forward: y; backward: dx */
    T *mean;                    /* contrast forward: (N, C) out */
    const T *cmean;             /* contrast backward: (N, C) in */
    const T *x;                 /* contrast backward */
    const double *f;            /* contrast: factor per image */
    const pc_affine *g;
    pc_index N, H, W, C, OH, OW, P;
    double lo, hi;
    int backward;               /* affine, resize: dx from dy rather than y from x */
    int overwrite;              /* resize backward: dx = … (fresh buffer), not dx += … */
} SFX(augment_job);

/* ---- affine transform ---------------------------------------------------------------- */

/* The 1 (nearest) or 4 (bilinear) input pixels an output pixel reads: offset[k] into
 * the image (N·H·W·C layout, pixel-major), −1 where the node is outside the image in
 * constant mode (it reads fill_value); w[k] = row weight · column weight; inner: the
 * four bilinear nodes are x(r, q), x(r, q + 1), x(r + 1, q), x(r + 1, q + 1), all inside */
typedef struct {
    int count, inner;
    T w[4];
    pc_index offset[4];
} SFX(affine_taps);

static inline void
SFX(affine_taps_of)(const pc_node1d *rows, const pc_node1d *cols, int nodes, pc_index W,
                    pc_index C, SFX(affine_taps) *taps)
{
    taps->count = nodes * nodes;
    taps->inner = 0;
    for (int a = 0; a < nodes; a++)
        for (int b = 0; b < nodes; b++) {
            taps->w[a * nodes + b] = (T)(rows[a].weight * cols[b].weight);
            taps->offset[a * nodes + b] = rows[a].valid && cols[b].valid
                                          ? (rows[a].index * W + cols[b].index) * C : -1;
        }
}

/* The bilinear taps of (row u, column v) when all four nodes lie inside the image
 * (0 ≤ u < H − 1, 0 ≤ v < W − 1: no fill mode applies, ⌊·⌋ is a truncation), exactly
 * as pc_nodes and affine_taps_of give them; 0 (taps untouched) otherwise */
static inline int
SFX(affine_inner_taps)(double u, double v, pc_index H, pc_index W, pc_index C,
                       SFX(affine_taps) *taps)
{
    if (!(u >= 0 && u < (double)(H - 1) && v >= 0 && v < (double)(W - 1)))
        return 0;
    pc_index r = (pc_index)u, q = (pc_index)v;
    double fr = u - (double)r, fq = v - (double)q, wr[2] = {1.0 - fr, fr},
           wq[2] = {1.0 - fq, fq};
    taps->count = 4;
    taps->inner = 1;
    for (int a = 0; a < 2; a++)
        for (int b = 0; b < 2; b++) {
            taps->w[2 * a + b] = (T)(wr[a] * wq[b]);
            taps->offset[2 * a + b] = ((r + a) * W + q + b) * C;
        }
    return 1;
}

/* y[c] = Σ_k w[k]·x_k[c] (x_k = fill_value outside); nearest: y = the pixel, copied */
static inline void
SFX(affine_pixel_forward)(const SFX(affine_taps) *tp, const T *x, T fill, pc_index C, T *y)
{
    if (tp->count == 1) {
        if (tp->offset[0] < 0)
            for (pc_index c = 0; c < C; c++)
                y[c] = fill;
        else
            memcpy(y, x + tp->offset[0], (size_t)C * sizeof(T));
        return;
    }
    if (tp->inner) {                    /* no fill to select: the same sums, unrolled */
        const T *x0 = x + tp->offset[0], *x1 = x + tp->offset[1], *x2 = x + tp->offset[2],
                *x3 = x + tp->offset[3];
        for (pc_index c = 0; c < C; c++) {
            T s = 0;
            s += tp->w[0] * x0[c];
            s += tp->w[1] * x1[c];
            s += tp->w[2] * x2[c];
            s += tp->w[3] * x3[c];
            y[c] = s;
        }
        return;
    }
    for (pc_index c = 0; c < C; c++) {
        T s = 0;
        for (int k = 0; k < 4; k++)
            s += tp->w[k] * (tp->offset[k] >= 0 ? x[tp->offset[k] + c] : fill);
        y[c] = s;
    }
}

/* dx_k[c] += w[k]·dy[c] for every node inside the image (fill_value is a constant) */
static inline void
SFX(affine_pixel_backward)(const SFX(affine_taps) *tp, const T *dy, pc_index C, T *dx)
{
    const T *w = tp->w;
    if (tp->inner && w[0] != 0 && w[1] != 0 && w[2] != 0 && w[3] != 0) {
        T *d0 = dx + tp->offset[0], *d1 = dx + tp->offset[1], *d2 = dx + tp->offset[2],
          *d3 = dx + tp->offset[3];         /* four distinct pixels: one add each */
        for (pc_index c = 0; c < C; c++) {
            d0[c] += w[0] * dy[c];
            d1[c] += w[1] * dy[c];
            d2[c] += w[2] * dy[c];
            d3[c] += w[3] * dy[c];
        }
        return;
    }
    for (int k = 0; k < tp->count; k++) {
        T w = tp->w[k], *d;
        if (tp->offset[k] < 0 || w == 0)
            continue;
        d = dx + tp->offset[k];
        for (pc_index c = 0; c < C; c++)
            d[c] += w * dy[c];
    }
}

/* A separable nearest map (flips, whole-pixel shifts): output row i copies input row
 * rows[2i] through the column nodes, or fill_value where a node is outside (constant);
 * backward: dx(row, column) += dy(i, j) */
static void
SFX(affine_nearest_rows)(const SFX(augment_job) *job, pc_index image, const pc_node1d *rows,
                         const pc_node1d *cols, T fill, int backward)
{
    pc_index H = job->g->H, W = job->g->W, C = job->g->C;
    for (pc_index i = 0; i < H; i++) {
        const pc_node1d *r = rows + 2 * i;
        pc_index in = image + r->index * W * C, out = image + i * W * C;
        for (pc_index j = 0; j < W; j++) {
            const pc_node1d *q = cols + 2 * j;
            pc_index a = in + q->index * C, b = out + j * C;
            int valid = r->valid && q->valid;
            if (backward) {
                if (valid)
                    for (pc_index c = 0; c < C; c++)
                        job->dst[a + c] += job->src[b + c];
            }
            else
                for (pc_index c = 0; c < C; c++)
                    job->dst[b + c] = valid ? job->src[a + c] : fill;
        }
    }
}

/* Image n through its map, forward (y from x) or backward (dx += from dy). A separable
 * map (a1 = b0 = 0: flips, translations, zooms) takes its row nodes from the H rows and
 * its column nodes from the W columns, computed once (nodes: 2·(H + W) scratch, NULL:
 * per pixel as for any map); the taps are the same either way. */
static void
SFX(affine_image)(const SFX(augment_job) *job, pc_index n, pc_node1d *nodes, int backward)
{
    const pc_affine *g = job->g;
    const double *t = g->t + 6 * n;
    pc_index H = g->H, W = g->W, C = g->C, image = n * H * W * C;
    int count = g->interpolation == PC_INTERP_NEAREST ? 1 : 2;
    int separable = nodes != NULL && t[1] == 0 && t[3] == 0;
    pc_node1d *rows = nodes, *cols = nodes + 2 * H, pr[2], pq[2];
    T fill = (T)g->fill_value;

    if (separable) {
        for (pc_index i = 0; i < H; i++)
            pc_nodes(t[4] * (double)i + t[5], H, g->interpolation, g->fill_mode, rows + 2 * i);
        for (pc_index j = 0; j < W; j++)
            pc_nodes(t[0] * (double)j + t[2], W, g->interpolation, g->fill_mode, cols + 2 * j);
        if (count == 1) {       /* nearest: y(i, j) = x(row i, column j), a permutation */
            SFX(affine_nearest_rows)(job, image, rows, cols, fill, backward);
            return;
        }
    }
    for (pc_index i = 0; i < H; i++)
        for (pc_index j = 0; j < W; j++) {
            SFX(affine_taps) taps;
            pc_index out = image + (i * W + j) * C;
            if (separable)
                SFX(affine_taps_of)(rows + 2 * i, cols + 2 * j, count, W, C, &taps);
            else {                  /* column a0·j + a1·i + a2, row b0·j + b1·i + b2 */
                double u = t[3] * (double)j + t[4] * (double)i + t[5],
                       v = t[0] * (double)j + t[1] * (double)i + t[2];
                if (count == 1 || !SFX(affine_inner_taps)(u, v, H, W, C, &taps)) {
                    pc_nodes(u, H, g->interpolation, g->fill_mode, pr);
                    pc_nodes(v, W, g->interpolation, g->fill_mode, pq);
                    SFX(affine_taps_of)(pr, pq, count, W, C, &taps);
                }
            }
            if (backward)
                SFX(affine_pixel_backward)(&taps, job->src + out, C, job->dst + image);
            else
                SFX(affine_pixel_forward)(&taps, job->src + image, fill, C, job->dst + out);
        }
}

static void
SFX(affine_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *job = ctx;
    /* the separable route's scratch; without it every map goes per pixel */
    pc_node1d *nodes = malloc(2 * (size_t)(job->g->H + job->g->W) * sizeof *nodes);
    for (pc_index n = n0; n < n1; n++)
        SFX(affine_image)(job, n, nodes, job->backward);
    free(nodes);
}

void
SFX(pc_affine_transform_forward)(const T *x, T *y, const pc_affine *g)
{
    SFX(augment_job) job = {.src = x, .dst = y, .g = g};
    pc_parallel_for(g->N, pc_parallel_grain(4 * g->H * g->W * g->C), SFX(affine_images), &job);
}

void
SFX(pc_affine_transform_backward)(const T *dy, T *dx, const pc_affine *g)
{
    SFX(augment_job) job = {.src = dy, .dst = dx, .g = g, .backward = 1};
    pc_parallel_for(g->N, pc_parallel_grain(4 * g->H * g->W * g->C), SFX(affine_images), &job);
}

/* ---- bilinear resize ----------------------------------------------------------------- */

#define SFX_RESIZE_BLOCK 128    /* output columns whose nodes are computed at once */

/* Image n, output columns [o0, o0 + len): the column nodes once for the block, the row
 * nodes once per row; each output pixel's weights are (T)(row weight · column weight).
 * Forward: y = Σ_k w[k]·x_k in node order. Backward: dx_k += w[k]·dy node by node (nodes
 * coincide at the last row/column), every pixel in (i, o) order. */
PC_SIMD_CLONES static void
SFX(resize_block)(const SFX(augment_job) *j, pc_index n, pc_index o0, pc_index len,
                  int backward)
{
    pc_index H = j->H, W = j->W, C = j->C, q0[SFX_RESIZE_BLOCK], q1[SFX_RESIZE_BLOCK];
    double wq1[SFX_RESIZE_BLOCK];
    for (pc_index o = 0; o < len; o++) {
        pc_resize_axis(o0 + o, W, j->OW, &q0[o], &q1[o], &wq1[o]);
        q0[o] *= C;
        q1[o] *= C;
    }
    for (pc_index i = 0; i < j->OH; i++) {
        pc_index r0, r1;
        double wr1;
        pc_resize_axis(i, H, j->OH, &r0, &r1, &wr1);
        const double wr0 = 1 - wr1;
        const pc_index top = (n * H + r0) * W * C, bottom = (n * H + r1) * W * C;
        const pc_index out = ((n * j->OH + i) * j->OW + o0) * C;
        for (pc_index o = 0; o < len; o++) {
            const double wq0 = 1 - wq1[o];
            const T w0 = (T)(wr0 * wq0), w1 = (T)(wr0 * wq1[o]), w2 = (T)(wr1 * wq0),
                    w3 = (T)(wr1 * wq1[o]);
            const pc_index in0 = top + q0[o], in1 = top + q1[o], in2 = bottom + q0[o],
                           in3 = bottom + q1[o];
            if (backward) {
                const T *restrict dy = j->src + out + o * C;
                T *dx0 = j->dst + in0, *dx1 = j->dst + in1, *dx2 = j->dst + in2,
                  *dx3 = j->dst + in3;
                for (pc_index c = 0; c < C; c++)
                    dx0[c] += w0 * dy[c];
                for (pc_index c = 0; c < C; c++)
                    dx1[c] += w1 * dy[c];
                for (pc_index c = 0; c < C; c++)
                    dx2[c] += w2 * dy[c];
                for (pc_index c = 0; c < C; c++)
                    dx3[c] += w3 * dy[c];
            }
            else {
                const T *x0 = j->src + in0, *x1 = j->src + in1, *x2 = j->src + in2,
                        *x3 = j->src + in3;
                T *restrict y = j->dst + out + o * C;
                for (pc_index c = 0; c < C; c++)
                    y[c] = w0 * x0[c] + w1 * x1[c] + w2 * x2[c] + w3 * x3[c];
            }
        }
    }
}

static void
SFX(resize_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *j = ctx;
    for (pc_index n = n0; n < n1; n++) {
        if (j->backward && j->overwrite)   /* this image's dx, zeroed while it is in cache */
            memset(j->dst + n * j->H * j->W * j->C, 0,
                   (size_t)(j->H * j->W * j->C) * sizeof(T));
        for (pc_index o0 = 0; o0 < j->OW; o0 += SFX_RESIZE_BLOCK)
            SFX(resize_block)(j, n, o0, j->OW - o0 < SFX_RESIZE_BLOCK ? j->OW - o0
                                                                       : SFX_RESIZE_BLOCK,
                              j->backward);
    }
}

void
SFX(pc_resize_bilinear_forward)(const T *x, T *y, pc_index N, pc_index H, pc_index W,
                                pc_index C, pc_index OH, pc_index OW)
{
    SFX(augment_job) j = {.src = x, .dst = y, .N = N, .H = H, .W = W, .C = C, .OH = OH,
                          .OW = OW};
    pc_parallel_for(N, pc_parallel_grain(4 * OH * OW * C), SFX(resize_images), &j);
}

void
SFX(pc_resize_bilinear_backward)(const T *dy, T *dx, pc_index N, pc_index H, pc_index W,
                                 pc_index C, pc_index OH, pc_index OW, int overwrite)
{
    SFX(augment_job) j = {.src = dy, .dst = dx, .N = N, .H = H, .W = W, .C = C, .OH = OH,
                          .OW = OW, .backward = 1, .overwrite = overwrite};
    pc_parallel_for(N, pc_parallel_grain(4 * OH * OW * C), SFX(resize_images), &j);
}

#undef SFX_RESIZE_BLOCK

/* ---- contrast ------------------------------------------------------------------------ */

/* m[c] = mean over the pixels of image x (P, C), in ACC, into acc[C] then out[C] */
static inline void
SFX(image_channel_means)(const T *x, pc_index P, pc_index C, T *out)
{
    for (pc_index c = 0; c < C; c++) {
        ACC s = 0;
        for (pc_index p = 0; p < P; p++)
            s += (ACC)x[p * C + c];
        out[c] = (T)(s / (ACC)P);
    }
}

static void
SFX(contrast_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *x = j->src + n * P * C;
        T *y = j->dst + n * P * C, *m = j->mean + n * C;
        T f = (T)j->f[n], lo = (T)j->lo, hi = (T)j->hi;
        SFX(image_channel_means)(x, P, C, m);
        for (pc_index p = 0; p < P; p++)
            for (pc_index c = 0; c < C; c++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                y[p * C + c] = z < lo ? lo : (z > hi ? hi : z);
            }
    }
}

void
SFX(pc_contrast_forward)(const T *x, T *y, T *mean, const double *f, pc_index N, pc_index P,
                         pc_index C, double lo, double hi)
{
    SFX(augment_job) j = {.src = x, .dst = y, .mean = mean, .f = f, .P = P, .C = C,
                          .lo = lo, .hi = hi};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(contrast_forward_images), &j);
}

static void
SFX(contrast_backward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(augment_job) *j = ctx;
    pc_index P = j->P, C = j->C;
    for (pc_index n = n0; n < n1; n++) {
        const T *x = j->x + n * P * C, *dy = j->src + n * P * C, *m = j->cmean + n * C;
        T *dx = j->dst + n * P * C, f = (T)j->f[n], lo = (T)j->lo, hi = (T)j->hi;
        for (pc_index c = 0; c < C; c++) {
            ACC s = 0;              /* Σ of the gradient that passes the clip */
            for (pc_index p = 0; p < P; p++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                s += z >= lo && z <= hi ? (ACC)dy[p * C + c] : 0;
            }
            T shared = (T)((1 - (ACC)f) * s / (ACC)P);
            for (pc_index p = 0; p < P; p++) {
                T z = (x[p * C + c] - m[c]) * f + m[c];
                dx[p * C + c] += (z >= lo && z <= hi ? f * dy[p * C + c] : 0) + shared;
            }
        }
    }
}

void
SFX(pc_contrast_backward)(const T *x, const T *dy, const T *mean, const double *f, pc_index N,
                          pc_index P, pc_index C, double lo, double hi, T *dx)
{
    SFX(augment_job) j = {.x = x, .src = dy, .cmean = mean, .dst = dx, .f = f, .P = P,
                          .C = C, .lo = lo, .hi = hi};
    pc_parallel_for(N, pc_parallel_grain(P * C), SFX(contrast_backward_images), &j);
}
