/* winograd_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by winograd.c (float, double). Legend and formulas: winograd.h.
 *
 * Channels (or filters) are the innermost loop everywhere, in blocks of WINO_BLK, so
 * every transform is a fixed set of adds over contiguous vectors and vectorizes.
 * Tiles at the image's edge read zeros for the patch pixels that lie outside it and
 * drop the outputs that do; every tile goes through a small stack buffer for that. */

#ifndef WINO_BLK
#define WINO_BLK 64
#endif

/* for each tile of the chunk's images i0 ≤ i < i1 (image n = n0 + i), t counting the
 * chunk's tiles in (n, th, tw) order */
#ifndef WINO_FOR_EACH_TILE
#define WINO_FOR_EACH_TILE(job, TH, TW, i0, i1, n, th, tw, t)                        \
    for (pc_index n = (job)->n0 + (i0), t = (i0) * (TH) * (TW); n < (job)->n0 + (i1); n++) \
        for (pc_index th = 0; th < (TH); th++)                                         \
            for (pc_index tw = 0; tw < (TW); tw++, t++)
#endif

/* The tile kernels inline into each SIMD clone of wino_range (a call out of it would
 * run the baseline build) */
#ifndef WINO_INLINE
#ifdef __GNUC__
#define WINO_INLINE inline __attribute__((always_inline))
#else
#define WINO_INLINE inline
#endif
#endif

#ifndef WINO_KINDS
#define WINO_KINDS              /* the tile kernels, once for both instantiations */
enum { WINO_INPUT, WINO_INPUT_BACKWARD, WINO_OUTPUT, WINO_OUTPUT_BACKWARD };
#endif

/* One tile kernel's operands; the pool (parallel.h) splits the chunk's images */
typedef struct {
    const T *src;
    T *dst;
    const pc_window2d *g;
    pc_index F, n0, n1;
    const T *b, *y;             /* output kernels: the bias; the activation's output */
    double *db;                 /* output backward: per-image bias-gradient sums */
    int act;
    int kind;                   /* which tile kernel: WINO_INPUT … */
    pc_index TH, TW, stride;    /* tiles per image column and row; values between the
                                   positions p of the chunk's (16, tiles, C or F) stack */
} SFX(wino_job);

#include "act_grad_impl.h"

/* 1-D transforms of four values (or three) — one row or column of a tile */
#define WINO_BT(d0, d1, d2, d3, o0, o1, o2, o3) \
    (o0 = (d0) - (d2), o1 = (d1) + (d2), o2 = (d2) - (d1), o3 = (d1) - (d3))
#define WINO_B(v0, v1, v2, v3, o0, o1, o2, o3) \
    (o0 = (v0), o1 = (v1) - (v2) + (v3), o2 = (v1) + (v2) - (v0), o3 = -(v3))
#define WINO_AT(m0, m1, m2, m3, o0, o1) \
    (o0 = (m0) + (m1) + (m2), o1 = (m1) - (m2) - (m3))
#define WINO_A(e0, e1, o0, o1, o2, o3) \
    (o0 = (e0), o1 = (e0) + (e1), o2 = (e0) - (e1), o3 = -(e1))
#define WINO_G(g0, g1, g2, o0, o1, o2, o3) \
    (o0 = (g0), o1 = (T)0.5 * ((g0) + (g1) + (g2)), o2 = (T)0.5 * ((g0) - (g1) + (g2)), \
     o3 = (g2))
#define WINO_GT(u0, u1, u2, u3, o0, o1, o2) \
    (o0 = (u0) + (T)0.5 * ((u1) + (u2)), o1 = (T)0.5 * ((u1) - (u2)), \
     o2 = (T)0.5 * ((u1) + (u2)) + (u3))

PC_SIMD_CLONES void
SFX(pc_wino_weights)(const T *w, T *u, pc_index C, pc_index F)
{
    const pc_index CF = C * F;
    for (pc_index k = 0; k < CF; k++) {
        T g[9], r[12], o[16];
        for (int i = 0; i < 9; i++)
            g[i] = w[i * CF + k];
        for (int j = 0; j < 3; j++)                 /* rows: G g (4×3) */
            WINO_G(g[j], g[3 + j], g[6 + j], r[j], r[3 + j], r[6 + j], r[9 + j]);
        for (int i = 0; i < 4; i++)                 /* columns: (G g) Gᵀ (4×4) */
            WINO_G(r[3 * i], r[3 * i + 1], r[3 * i + 2], o[4 * i], o[4 * i + 1],
                   o[4 * i + 2], o[4 * i + 3]);
        for (int p = 0; p < 16; p++)
            u[p * CF + k] = o[p];
    }
}

PC_SIMD_CLONES void
SFX(pc_wino_weights_backward)(const T *du, T *dw, pc_index C, pc_index F, int add)
{
    const pc_index CF = C * F;
    for (pc_index k = 0; k < CF; k++) {
        T d[16], r[12], o[9];
        for (int p = 0; p < 16; p++)
            d[p] = du[p * CF + k];
        for (int j = 0; j < 4; j++)                 /* rows: Gᵀ dU (3×4) */
            WINO_GT(d[j], d[4 + j], d[8 + j], d[12 + j], r[j], r[4 + j], r[8 + j]);
        for (int i = 0; i < 3; i++)                 /* columns: (Gᵀ dU) G (3×3) */
            WINO_GT(r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3], o[3 * i],
                    o[3 * i + 1], o[3 * i + 2]);
        for (int i = 0; i < 9; i++)
            dw[i * CF + k] = add ? dw[i * CF + k] + o[i] : o[i];
    }
}

/* The 16 patch pixels of tile (n, th, tw): x offsets, or -1 outside the image */
static inline void
SFX(wino_patch)(const pc_window2d *g, pc_index n, pc_index th, pc_index tw, pc_index at[16])
{
    const pc_index r = 2 * th - g->PT, q = 2 * tw - g->PL;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            const pc_index ih = r + a, iw = q + b;
            at[4 * a + b] = ih < 0 || ih >= g->H || iw < 0 || iw >= g->W
                            ? -1 : ((n * g->H + ih) * g->W + iw) * g->C;
        }
}

/* The 4 output pixels of tile (n, th, tw): y offsets (F per pixel), or -1 outside */
static inline void
SFX(wino_outputs)(const pc_window2d *g, pc_index F, pc_index n, pc_index th, pc_index tw,
                  pc_index at[4])
{
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            const pc_index oh = 2 * th + i, ow = 2 * tw + j;
            at[2 * i + j] = oh >= g->OH || ow >= g->OW
                            ? -1 : ((n * g->OH + oh) * g->OW + ow) * F;
        }
}

/* V = Bᵀ d B on one block of len ≤ WINO_BLK channels: d[k] (16 contiguous vectors,
 * possibly the same zero vector), v[p·stride] the 16 outputs */
static inline void
SFX(wino_in_block)(const T *const d[16], T *restrict v, pc_index stride, pc_index len)
{
#pragma GCC ivdep       /* the 16 inputs never overlap the outputs */
    for (pc_index c = 0; c < len; c++) {
        T x[16], r[16];
        for (int k = 0; k < 16; k++)
            x[k] = d[k][c];
        for (int j = 0; j < 4; j++)
            WINO_BT(x[j], x[4 + j], x[8 + j], x[12 + j], r[j], r[4 + j], r[8 + j], r[12 + j]);
        for (int i = 0; i < 4; i++)
            WINO_BT(r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3], v[4 * i * stride + c],
                    v[(4 * i + 1) * stride + c], v[(4 * i + 2) * stride + c],
                    v[(4 * i + 3) * stride + c]);
    }
}

/* s[p] = src[p·stride]: one value's 16 positions p of a (16, tiles, ·) stack */
static inline void
SFX(wino_gather)(T s[16], const T *src, pc_index stride)
{
    for (int p = 0; p < 16; p++)
        s[p] = src[p * stride];
}

/* tile (n, th, tw), the chunk's t-th: its V = Bᵀ d B */
static WINO_INLINE void
SFX(wino_input_tile)(const SFX(wino_job) *job, const pc_index *at, pc_index t)
{
    static const T zeros[WINO_BLK];
    const pc_index C = job->g->C;
    for (pc_index c0 = 0; c0 < C; c0 += WINO_BLK) {
        const T *d[16];
        for (int k = 0; k < 16; k++)
            d[k] = at[k] < 0 ? zeros : job->src + at[k] + c0;
        SFX(wino_in_block)(d, job->dst + t * C + c0, job->stride,
                           C - c0 < WINO_BLK ? C - c0 : WINO_BLK);
    }
}

/* tile t: dx += B dV Bᵀ on its patch */
static WINO_INLINE void
SFX(wino_input_backward_tile)(const SFX(wino_job) *job, const pc_index *at, pc_index t)
{
    const pc_index stride = job->stride, C = job->g->C;
    for (pc_index c0 = 0; c0 < C; c0 += WINO_BLK) {
        const pc_index len = C - c0 < WINO_BLK ? C - c0 : WINO_BLK;
        const T *src = job->src + t * C + c0;
        T buf[16][WINO_BLK];
        for (pc_index c = 0; c < len; c++) {
            T s[16], r[16];
            SFX(wino_gather)(s, src + c, stride);
            for (int j = 0; j < 4; j++)
                WINO_B(s[j], s[4 + j], s[8 + j], s[12 + j], r[j], r[4 + j],
                       r[8 + j], r[12 + j]);
            for (int i = 0; i < 4; i++)
                WINO_B(r[4 * i], r[4 * i + 1], r[4 * i + 2], r[4 * i + 3],
                       buf[4 * i][c], buf[4 * i + 1][c], buf[4 * i + 2][c],
                       buf[4 * i + 3][c]);
        }
        for (int k = 0; k < 16; k++) {
            if (at[k] < 0)
                continue;
            T *restrict dst = job->dst + at[k] + c0;
            for (pc_index c = 0; c < len; c++)
                dst[c] += buf[k][c];
        }
    }
}

/* tile t: y = act(Aᵀ M A + b) on its output pixels (bias and activation once the
 * image's last tile is written) */
static WINO_INLINE void
SFX(wino_output_tile)(const SFX(wino_job) *job, const pc_index *at, pc_index n, pc_index th,
                     pc_index tw, pc_index t)
{
    const pc_window2d *g = job->g;
    const pc_index stride = job->stride, F = job->F;
    T *y = job->dst;
    for (pc_index f0 = 0; f0 < F; f0 += WINO_BLK) {
        const pc_index len = F - f0 < WINO_BLK ? F - f0 : WINO_BLK;
        const T *src = job->src + t * F + f0;
        T buf[4][WINO_BLK];
        for (pc_index f = 0; f < len; f++) {
            T s[16], r[8];
            SFX(wino_gather)(s, src + f, stride);
            for (int j = 0; j < 4; j++)
                WINO_AT(s[j], s[4 + j], s[8 + j], s[12 + j], r[j], r[4 + j]);
            WINO_AT(r[0], r[1], r[2], r[3], buf[0][f], buf[1][f]);
            WINO_AT(r[4], r[5], r[6], r[7], buf[2][f], buf[3][f]);
        }
        for (int k = 0; k < 4; k++)
            if (at[k] >= 0)
                memcpy(y + at[k] + f0, buf[k], (size_t)len * sizeof(T));
    }
    if (th == job->TH - 1 && tw == job->TW - 1 && (job->b != NULL || job->act != PC_ACT_LINEAR))
        SFX(pc_bias_act_forward)(y + n * g->OH * g->OW * F, job->b, g->OH * g->OW, F,
                                 job->act);     /* the image done, still in cache */
}

/* tile t: dM = A dz Aᵀ, and its pixels' share of the image's db */
static WINO_INLINE void
SFX(wino_output_backward_tile)(const SFX(wino_job) *job, const pc_index *at, pc_index n,
                              pc_index th, pc_index tw, pc_index t)
{
    static const T zeros[WINO_BLK];
    const pc_index stride = job->stride, F = job->F;
    double *db = job->db != NULL ? job->db + (n - job->n0) * F : NULL;
    if (db != NULL && th == 0 && tw == 0)
        memset(db, 0, (size_t)F * sizeof(double));
    for (pc_index f0 = 0; f0 < F; f0 += WINO_BLK) {
        const pc_index len = F - f0 < WINO_BLK ? F - f0 : WINO_BLK;
        const T *e[4];
        T *restrict o = job->dst + t * F + f0, dz[4][WINO_BLK];
        for (int k = 0; k < 4; k++) {
            e[k] = at[k] < 0 ? zeros : job->src + at[k] + f0;
            if (at[k] < 0 || (job->y == NULL && db == NULL))
                continue;
            if (job->y != NULL) {                   /* dz = dy · act'(y) */
                const T *restrict yk = job->y + at[k] + f0, *restrict ek = e[k];
                const int act = job->act;
                for (pc_index f = 0; f < len; f++)
                    dz[k][f] = SFX(pc_act_grad)(ek[f], yk[f], act);
            }
            else
                memcpy(dz[k], e[k], (size_t)len * sizeof(T));
            if (db != NULL)
                for (pc_index f = 0; f < len; f++)
                    db[f0 + f] += dz[k][f];
            e[k] = dz[k];
        }
#pragma GCC ivdep
        for (pc_index f = 0; f < len; f++) {
            T s[4], r[8];
            for (int k = 0; k < 4; k++)
                s[k] = e[k][f];
            for (int j = 0; j < 2; j++)     /* rows: A e (4×2) */
                WINO_A(s[j], s[2 + j], r[j], r[2 + j], r[4 + j], r[6 + j]);
            for (int i = 0; i < 4; i++)     /* columns: (A e) Aᵀ (4×4) */
                WINO_A(r[2 * i], r[2 * i + 1], o[4 * i * stride + f],
                       o[(4 * i + 1) * stride + f], o[(4 * i + 2) * stride + f],
                       o[(4 * i + 3) * stride + f]);
        }
    }
}

/* The tiles of the chunk's images [i0, i1), each through the job's tile kernel with
 * its offsets: the 16 patch pixels' in x (input kernels) or the 4 output pixels' in y */
PC_SIMD_CLONES static void
SFX(wino_range)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(wino_job) *job = ctx;
    const int input = job->kind == WINO_INPUT || job->kind == WINO_INPUT_BACKWARD;
    WINO_FOR_EACH_TILE(job, job->TH, job->TW, i0, i1, n, th, tw, t) {
        pc_index at[16];
        if (input)
            SFX(wino_patch)(job->g, n, th, tw, at);
        else
            SFX(wino_outputs)(job->g, job->F, n, th, tw, at);
        switch (job->kind) {
        case WINO_INPUT:
            SFX(wino_input_tile)(job, at, t);
            break;
        case WINO_INPUT_BACKWARD:
            SFX(wino_input_backward_tile)(job, at, t);
            break;
        case WINO_OUTPUT:
            SFX(wino_output_tile)(job, at, n, th, tw, t);
            break;
        default:
            SFX(wino_output_backward_tile)(job, at, n, th, tw, t);
        }
    }
}

/* Fills in the job's tile grid (width: values per tile and position, C or F) and runs
 * its tile kernel over the chunk's images on the pool */
static void
SFX(wino_run)(SFX(wino_job) *job, pc_index width, int kind)
{
    job->kind = kind;
    job->TH = (job->g->OH + 1) / 2;
    job->TW = (job->g->OW + 1) / 2;
    job->stride = (job->n1 - job->n0) * job->TH * job->TW * width;
    pc_parallel_for(job->n1 - job->n0, pc_parallel_grain(16 * job->TH * job->TW * width),
                    SFX(wino_range), job);
}

void
SFX(pc_wino_input)(const T *x, T *v, const pc_window2d *g, pc_index n0, pc_index n1)
{
    SFX(wino_job) job = {x, v, g, 0, n0, n1};
    SFX(wino_run)(&job, g->C, WINO_INPUT);
}

void
SFX(pc_wino_input_backward)(const T *dv, T *dx, const pc_window2d *g, pc_index n0,
                            pc_index n1)
{
    SFX(wino_job) job = {dv, dx, g, 0, n0, n1};
    SFX(wino_run)(&job, g->C, WINO_INPUT_BACKWARD);
}

void
SFX(pc_wino_output)(const T *m, T *y, const pc_window2d *g, pc_index F, pc_index n0,
                    pc_index n1, const T *b, int act)
{
    SFX(wino_job) job = {m, y, g, F, n0, n1, .b = b, .act = act};
    SFX(wino_run)(&job, F, WINO_OUTPUT);
}

void
SFX(pc_wino_output_backward)(const T *dy, T *dm, const pc_window2d *g, pc_index F,
                             pc_index n0, pc_index n1, const T *y, int act, double *db)
{
    SFX(wino_job) job = {dy, dm, g, F, n0, n1, .y = y, .db = db, .act = act};
    SFX(wino_run)(&job, F, WINO_OUTPUT_BACKWARD);
}
