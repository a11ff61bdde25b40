/* conv_direct_impl.h — template body, no include guard. Needs T, SFX(name) and
 * PC_CONV_DIRECT_DISPATCH(fn, args...) (hand the call to another build, or nothing).
 * Instantiated twice by conv_direct.c (float, double) and twice more, for AVX2 + FMA,
 * by conv_direct_avx2.c. Legend: conv_direct.h.
 *
 * The filters are the vector dimension: GCC vector extensions of 32 bytes (8 floats,
 * 4 doubles; AVX2 registers in the AVX2 clone, SSE2 pairs otherwise), four at a time
 * so that one pixel's accumulators stay in registers. */

typedef T SFX(cdvec) __attribute__((vector_size(32)));
/* the same, for unaligned loads and stores through any T pointer */
typedef T SFX(cduvec) __attribute__((vector_size(32), aligned(sizeof(T)), may_alias));
#define CD_VL ((pc_index)(sizeof(SFX(cdvec)) / sizeof(T)))
#define CD_LOAD(v, p) ((v) = *(const SFX(cduvec) *)(p))
#define CD_STORE(p, v) (*(SFX(cduvec) *)(p) = (v))

typedef struct {
    const T *x, *w, *b;
    const T *dy, *yout;         /* backward: dy and the forward's output */
    T *y, *dx, *dw, *db;
    const pc_window2d *g;
    pc_index F, K, per_block, blocks;  /* backward: images per block, blocks in acc */
    double *acc;
    int act;
} SFX(cd_job);

/* off[k]: where patch value k lies from the window's corner (a table rather than row
 * copies, which GCC would turn into a memcpy call per 3-value row) */
static inline void
SFX(cd_offsets)(const pc_window2d *g, pc_index off[PC_CONV_DIRECT_MAX_K])
{
    pc_index k = 0;
    for (pc_index kh = 0; kh < g->KH; kh++)
        for (pc_index j = 0; j < g->KW * g->C; j++)
            off[k++] = kh * g->W * g->C + j;
}

/* The values of output pixel (n, oh, ow)'s patch (0 in the padding), and with at ≠
 * NULL their x offsets (-1 in the padding) */
static inline void
SFX(cd_patch)(const pc_window2d *g, const pc_index *off, const T *x, pc_index n, pc_index oh,
              pc_index ow, pc_index *at, T p[PC_CONV_DIRECT_MAX_K])
{
    const pc_index ih0 = oh * g->SH - g->PT, iw0 = ow * g->SW - g->PL, C = g->C;
    if (at == NULL && ih0 >= 0 && ih0 + g->KH <= g->H && iw0 >= 0 && iw0 + g->KW <= g->W) {
        const T *corner = x + ((n * g->H + ih0) * g->W + iw0) * C;  /* all inside */
        for (pc_index k = 0; k < g->KH * g->KW * C; k++)
            p[k] = corner[off[k]];
        return;
    }
    pc_index k = 0;
    for (pc_index kh = 0; kh < g->KH; kh++) {
        const pc_index ih = ih0 + kh;
        for (pc_index kw = 0; kw < g->KW; kw++) {
            const pc_index iw = iw0 + kw;
            const int inside = ih >= 0 && ih < g->H && iw >= 0 && iw < g->W;
            const pc_index base = ((n * g->H + ih) * g->W + iw) * C;
            for (pc_index c = 0; c < C; c++, k++) {
                if (at != NULL)
                    at[k] = inside ? base + c : -1;
                p[k] = inside ? x[base + c] : (T)0;
            }
        }
    }
}

/* relu on a vector: negatives to 0, NaN stays NaN (as pycnn's relu) */
#define CD_RELU(v) ((v) = (SFX(cdvec))((__typeof__((v) < 0))(v) & ~((v) < 0)))

/* yo[f] = b[f] + Σ_k p[k]·w[k, f] for one pixel (then relu'd when relu ≠ 0) and the F filters f < F; the rows of w
 * lie ld apart */
static inline void
SFX(cd_pixel)(const T *p, const T *w, const T *b, T *yo, pc_index K, pc_index F, pc_index ld,
              int relu)
{
    pc_index f = 0;
    for (; f + 4 * CD_VL <= F; f += 4 * CD_VL) {
        SFX(cdvec) a0 = {0}, a1 = {0}, a2 = {0}, a3 = {0}, w0, w1, w2, w3;
        if (b != NULL) {
            CD_LOAD(a0, b + f), CD_LOAD(a1, b + f + CD_VL);
            CD_LOAD(a2, b + f + 2 * CD_VL), CD_LOAD(a3, b + f + 3 * CD_VL);
        }
        for (pc_index k = 0; k < K; k++) {
            const T *wk = w + k * ld + f, s = p[k];
            CD_LOAD(w0, wk), CD_LOAD(w1, wk + CD_VL);
            CD_LOAD(w2, wk + 2 * CD_VL), CD_LOAD(w3, wk + 3 * CD_VL);
            a0 += s * w0, a1 += s * w1, a2 += s * w2, a3 += s * w3;
        }
        if (relu)
            CD_RELU(a0), CD_RELU(a1), CD_RELU(a2), CD_RELU(a3);
        CD_STORE(yo + f, a0), CD_STORE(yo + f + CD_VL, a1);
        CD_STORE(yo + f + 2 * CD_VL, a2), CD_STORE(yo + f + 3 * CD_VL, a3);
    }
    for (; f < F; f++) {
        T a = b != NULL ? b[f] : (T)0;
        for (pc_index k = 0; k < K; k++)
            a += p[k] * w[k * ld + f];
        yo[f] = relu && a < 0 ? (T)0 : a;
    }
}

/* The same for two pixels at once, whose patch values are p[po[k]] and q[po[k]] (the
 * image itself and the offset table inside it, or gathered patches and 0, 1, 2, …):
 * each weight vector loaded serves both */
static inline void
SFX(cd_pixel_pair)(const T *p, const T *q, const pc_index *po, const T *w, const T *b, T *yp,
                   T *yq, pc_index K, pc_index F, int relu)
{
    pc_index f = 0;
    for (; f + 4 * CD_VL <= F; f += 4 * CD_VL) {
        SFX(cdvec) a[4] = {{0}}, c[4], wv;
        if (b != NULL)
            for (int i = 0; i < 4; i++)
                CD_LOAD(a[i], b + f + i * CD_VL);
        for (int i = 0; i < 4; i++)
            c[i] = a[i];
#pragma GCC unroll 4
        for (pc_index k = 0; k < K; k++) {
            const T *wk = w + k * F + f, s = p[po[k]], t = q[po[k]];
            for (int i = 0; i < 4; i++) {
                CD_LOAD(wv, wk + i * CD_VL);
                a[i] += s * wv;
                c[i] += t * wv;
            }
        }
        for (int i = 0; i < 4; i++) {
            if (relu)
                CD_RELU(a[i]), CD_RELU(c[i]);
            CD_STORE(yp + f + i * CD_VL, a[i]);
            CD_STORE(yq + f + i * CD_VL, c[i]);
        }
    }
    if (f < F) {
        T pp[PC_CONV_DIRECT_MAX_K], qq[PC_CONV_DIRECT_MAX_K];
        for (pc_index k = 0; k < K; k++)
            pp[k] = p[po[k]], qq[k] = q[po[k]];
        SFX(cd_pixel)(pp, w + f, b != NULL ? b + f : NULL, yp + f, K, F - f, F, relu);
        SFX(cd_pixel)(qq, w + f, b != NULL ? b + f : NULL, yq + f, K, F - f, F, relu);
    }
}

static void
SFX(cd_forward_images)(void *ctx, pc_index n0, pc_index n1)
{
    const SFX(cd_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index F = job->F, per = g->OH * g->OW;
    const int relu = job->act == PC_ACT_RELU;      /* applied as the pixels are stored */
    pc_index off[PC_CONV_DIRECT_MAX_K], identity[PC_CONV_DIRECT_MAX_K];
    SFX(cd_offsets)(g, off);
    for (pc_index k = 0; k < PC_CONV_DIRECT_MAX_K; k++)
        identity[k] = k;
    for (pc_index n = n0; n < n1; n++) {
        T *yn = job->y + n * per * F;
        for (pc_index oh = 0; oh < g->OH; oh++) {
            T *yrow = yn + oh * g->OW * F;
            const pc_index ih0 = oh * g->SH - g->PT, step = g->SW * g->C;
            const int rows_inside = ih0 >= 0 && ih0 + g->KH <= g->H;
            pc_index ow = 0;
            while (ow + 2 <= g->OW) {
                const pc_index iw0 = ow * g->SW - g->PL;
                if (rows_inside && iw0 >= 0 && iw0 + g->SW + g->KW <= g->W) {
                    const T *corner = job->x + ((n * g->H + ih0) * g->W + iw0) * g->C;
                    SFX(cd_pixel_pair)(corner, corner + step, off, job->w, job->b,
                                       yrow + ow * F, yrow + (ow + 1) * F, job->K, F, relu);
                    ow += 2;
                    continue;
                }
                /* a pair that touches the padding: its two patches gathered */
                T p[PC_CONV_DIRECT_MAX_K], q[PC_CONV_DIRECT_MAX_K];
                SFX(cd_patch)(g, off, job->x, n, oh, ow, NULL, p);
                SFX(cd_patch)(g, off, job->x, n, oh, ow + 1, NULL, q);
                SFX(cd_pixel_pair)(p, q, identity, job->w, job->b, yrow + ow * F,
                                   yrow + (ow + 1) * F, job->K, F, relu);
                ow += 2;
            }
            if (ow < g->OW) {
                T p[PC_CONV_DIRECT_MAX_K];
                SFX(cd_patch)(g, off, job->x, n, oh, ow, NULL, p);
                SFX(cd_pixel)(p, job->w, job->b, yrow + ow * F, job->K, F, F, relu);
            }
        }
        if (job->act != PC_ACT_LINEAR && !relu)     /* while the image is in cache */
            SFX(pc_bias_act_forward)(yn, NULL, per, F, job->act);
    }
}

void
SFX(pc_conv_direct_forward)(const T *x, const T *w, const T *b, T *y, const pc_window2d *g,
                            pc_index F, int act)
{
    PC_CONV_DIRECT_DISPATCH(SFX(pc_conv_direct_forward_avx2), x, w, b, y, g, F, act);
    SFX(cd_job) job = {.x = x, .w = w, .b = b, .y = y, .g = g, .F = F,
                       .K = g->KH * g->KW * g->C, .act = act};
    pc_parallel_for(g->N, pc_parallel_grain(g->OH * g->OW * F), SFX(cd_forward_images), &job);
}

#include "act_grad_impl.h"

/* scratch[k, f] += Σ_r P[r, k]·Z[r, f] over a strip of R pixels: P (R, K1) their patches
 * (and the constant 1 of the bias), Z (R, F) their dz. Eight rows k of one vector of
 * filters stay in registers for the whole strip. */
static inline void
SFX(cd_strip_dw)(const T *P, const T *Z, pc_index R, pc_index K1, pc_index F, T *scratch)
{
    pc_index f = 0;
    for (; f + CD_VL <= F; f += CD_VL) {
        pc_index k0 = 0;
        for (; k0 + 8 <= K1; k0 += 8) {
            SFX(cdvec) acc[8], d;
            for (int j = 0; j < 8; j++)
                CD_LOAD(acc[j], scratch + (k0 + j) * F + f);
            for (pc_index r = 0; r < R; r++) {
                const T *pr = P + r * K1 + k0;
                CD_LOAD(d, Z + r * F + f);
                for (int j = 0; j < 8; j++)
                    acc[j] += pr[j] * d;
            }
            for (int j = 0; j < 8; j++)
                CD_STORE(scratch + (k0 + j) * F + f, acc[j]);
        }
        for (; k0 < K1; k0++) {     /* the last rows: four chains of FMAs, not one */
            SFX(cdvec) acc[4] = {{0}}, d;
            pc_index r = 0;
            CD_LOAD(acc[0], scratch + k0 * F + f);
            for (; r + 4 <= R; r += 4)
                for (int j = 0; j < 4; j++) {
                    CD_LOAD(d, Z + (r + j) * F + f);
                    acc[j] += P[(r + j) * K1 + k0] * d;
                }
            for (; r < R; r++) {
                CD_LOAD(d, Z + r * F + f);
                acc[0] += P[r * K1 + k0] * d;
            }
            acc[0] = (acc[0] + acc[1]) + (acc[2] + acc[3]);
            CD_STORE(scratch + k0 * F + f, acc[0]);
        }
    }
    for (; f < F; f++)
        for (pc_index k = 0; k < K1; k++) {
            T acc = scratch[k * F + f];
            for (pc_index r = 0; r < R; r++)
                acc += P[r * K1 + k] * Z[r * F + f];
            scratch[k * F + f] = acc;
        }
}

/* Σ_f a[f]·b[f], in vectors */
static inline T
SFX(cd_dot)(const T *a, const T *b, pc_index F)
{
    SFX(cdvec) acc = {0}, u, v;
    pc_index f = 0;
    T sum = 0;
    for (; f + CD_VL <= F; f += CD_VL) {
        CD_LOAD(u, a + f), CD_LOAD(v, b + f);
        acc += u * v;
    }
    for (; f < F; f++)
        sum += a[f] * b[f];
    for (pc_index l = 0; l < CD_VL; l++)
        sum += acc[l];
    return sum;
}

#define CD_STRIP_PIXELS 32

/* Pixels [q0, q0 + R) of image n (q = oh·OW + ow): their patches into P (with their x
 * offsets into at when dx is wanted) and their dz = dy·act'(y) into Z; then their kernel
 * and bias gradient into scratch (when not NULL) and dx += dz · wᵀ onto each patch */
static inline void
SFX(cd_strip_backward)(const SFX(cd_job) *job, const pc_index *off, pc_index n, pc_index q0,
                       pc_index R, T *P, T *Z, pc_index *at, T *scratch)
{
    const pc_window2d *g = job->g;
    const pc_index F = job->F, K = job->K, K1 = K + 1;
    const int act = job->yout != NULL ? job->act : PC_ACT_LINEAR;
    pc_index oh = q0 / g->OW, ow = q0 % g->OW;         /* one division per strip */
    for (pc_index r = 0; r < R; r++, ow++) {
        const pc_index px = (n * g->OH * g->OW + q0 + r) * F;
        const T *dy = job->dy + px, *y = job->yout != NULL ? job->yout + px : dy;
        T *z = Z + r * F;
        if (ow == g->OW)
            ow = 0, oh++;
        SFX(cd_patch)(g, off, job->x, n, oh, ow, job->dx != NULL ? at + r * K : NULL,
                      P + r * K1);
        P[r * K1 + K] = 1;
        for (pc_index f = 0; f < F; f++)
            z[f] = SFX(pc_act_grad)(dy[f], y[f], act);
    }
    if (scratch != NULL)
        SFX(cd_strip_dw)(P, Z, R, K1, F, scratch);
    if (job->dx != NULL)
        for (pc_index r = 0; r < R; r++)
            for (pc_index k = 0; k < K; k++)
                if (at[r * K + k] >= 0)
                    job->dx[at[r * K + k]] += SFX(cd_dot)(job->w + k * F, Z + r * F, F);
}

/* Image blocks [b0, b1): each block's kernel and bias gradient into its own slot of acc
 * (the first `blocks`·(K + 1)·F doubles; the next as many hold each block's scratch
 * sums in T), strip by strip of pixels */
static void
SFX(cd_backward_blocks)(void *ctx, pc_index b0, pc_index b1)
{
    const SFX(cd_job) *job = ctx;
    const pc_window2d *g = job->g;
    const pc_index F = job->F, K1F = (job->K + 1) * F, blocks = job->blocks;
    const pc_index per = g->OH * g->OW;
    pc_index R = PC_CONV_DIRECT_MAX_F / (F > 0 ? F : 1);
    pc_index off[PC_CONV_DIRECT_MAX_K], at[CD_STRIP_PIXELS * PC_CONV_DIRECT_MAX_K];
    T P[CD_STRIP_PIXELS * (PC_CONV_DIRECT_MAX_K + 1)], Z[PC_CONV_DIRECT_MAX_F];
    R = R < 1 ? 1 : R > CD_STRIP_PIXELS ? CD_STRIP_PIXELS : R;
    SFX(cd_offsets)(g, off);
    for (pc_index blk = b0; blk < b1; blk++) {
        pc_index n0 = blk * job->per_block, n1 = n0 + job->per_block;
        double *partial = job->acc + blk * K1F;
        T *scratch = job->dw != NULL || job->db != NULL
                     ? (T *)(job->acc + (blocks + blk) * K1F) : NULL;
        n1 = n1 < g->N ? n1 : g->N;
        if (scratch != NULL)
            memset(scratch, 0, (size_t)K1F * sizeof(T));
        for (pc_index n = n0; n < n1; n++)
            for (pc_index q0 = 0; q0 < per; q0 += R)
                SFX(cd_strip_backward)(job, off, n, q0, per - q0 < R ? per - q0 : R, P, Z, at,
                                       scratch);
        if (scratch != NULL)
            for (pc_index i = 0; i < K1F; i++)
                partial[i] = scratch[i];
    }
}

void
SFX(pc_conv_direct_backward)(const T *x, const T *w, const T *y, const T *dy, T *dx, T *dw,
                             T *db, const pc_window2d *g, pc_index F, int act, double *acc)
{
    PC_CONV_DIRECT_DISPATCH(SFX(pc_conv_direct_backward_avx2), x, w, y, dy, dx, dw, db, g, F,
                            act, acc);
    const pc_index K = g->KH * g->KW * g->C, KF = K * F;
    const pc_index blocks = g->N < PC_CONV_DIRECT_BLOCKS ? g->N : PC_CONV_DIRECT_BLOCKS;
    const pc_index per_block = blocks > 0 ? (g->N + blocks - 1) / blocks : 1;
    const pc_index used = per_block > 0 ? (g->N + per_block - 1) / per_block : 0;
    SFX(cd_job) job = {.x = x, .w = w, .yout = y, .dy = dy, .dx = dx, .dw = dw, .db = db, .g = g,
                       .F = F, .K = K, .per_block = per_block, .blocks = blocks, .acc = acc,
                       .act = act};
    if (dx == NULL && dw == NULL && db == NULL)
        return;
    pc_parallel_for(used, 1, SFX(cd_backward_blocks), &job);
    if (dw == NULL && db == NULL)
        return;
    for (pc_index i = 0; i < KF + F; i++) {          /* the blocks in order */
        double s = 0;
        for (pc_index blk = 0; blk < used; blk++)
            s += acc[blk * (KF + F) + i];
        if (i < KF && dw != NULL)
            dw[i] += (T)s;
        else if (i >= KF && db != NULL)
            db[i - KF] += (T)s;
    }
}
