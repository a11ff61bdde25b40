/* autograd/ops_conv_route.c — which route conv2d takes: what each route supports, a
 * model of what it costs, and the choice (the cheapest supported route, unless one is
 * forced by pc_conv_algorithm). The geometry alone decides, so the forward and the
 * backward of a node always agree.
 *
 * Legend (kernels/window.h): P = N·OH·OW output pixels, K = KH·KW·C patch length,
 * F filters, T = N·⌈OH/2⌉·⌈OW/2⌉ Winograd tiles. Costs are in nanoseconds of one
 * core of the development machine (benchmarks/NOTES.md, issue 17); only their order
 * matters:
 *   im2col    P·K·(COPY + ROW/(KW·C)) (the patch matrix written a kernel row of KW·C
 *             values at a time; 0 when x is it) + gemm(P, K, F)
 *   direct    2·P·K·(F₃₂ + TAIL·(F − F₃₂)) / DIRECT_RATE   (no patch matrix; the filters
 *             in blocks of 32 in vector registers, F₃₂ of them, the rest one by one)
 *   winograd  16·gemm(T, C, F) + 16·T·(C + F)·TRANSFORM   (the tile transforms)
 * with gemm(m, k, n) = 2·m·k·n / (GEMM_RATE · e(k) · e(n)), e(d) = d / (d + GEMM_HALF):
 * a BLAS product runs near its peak only when its inner and outer dimensions are long
 * (OpenBLAS's small-matrix kernels reach half of it near 8 and 8).
 * The constants reproduce the boundaries measured one by one (NOTES.md): direct beats
 * im2col on the short patches of 1–3 channels, and on the 7×7 and 5×5 windows over 3
 * channels (the stem); Winograd ties im2col near 4 channels and wins from 8; Winograd is
 * 1.9–2× the bare GEMM on 32→64, and ties im2col at 8→256.
 */
#include "autograd/ops_layers.h"

#include "kernels/conv_direct.h"

#define GEMM_RATE 100.0          /* multiply-adds ×2 per ns at best: OpenBLAS sgemm, 1 core */
#define GEMM_HALF 8.0            /* a product dimension at which half of that is reached */
/* The direct kernels ran at 0.87–0.97 of NumPy's bare GEMM of the same (P, K)·(K, F)
 * shape (NOTES.md): 0.9 of the GEMM's best rate, with no patch matrix to write */
#define DIRECT_RATE 90.0
#define COPY 0.25                /* ns per patch-matrix value written (and read back) */
#define ROW 4.0                  /* ns per kernel row copied (a memcpy call, a branch) */
#define TAIL 15.0                /* a filter past the 32-wide blocks: scalar, ~15× a lane */
#define TRANSFORM 0.10           /* ns per value through a Winograd tile transform */

/* Below these Winograd's transforms were measured to cost more than the multiplications
 * saved (benchmarks/NOTES.md); the model is not trusted past what was measured */
#define WINO_MIN_CHANNELS 8
#define WINO_MIN_FILTERS 8
/* Past 32 patch values the direct route was measured only over 1–4 channels (the stems:
 * 7×7×3, 5×5×1); over 16 channels (3×3, K = 144) it was 0.5–1.4× im2col from one run
 * to the next, so there the model is not trusted yet */
#define DIRECT_LONG_K 32
#define DIRECT_LONG_MAX_C 4
/* The direct backward's per-block partial sums (pc_conv_direct_workspace doubles) stay
 * under 64 MiB: past that (thousands of filters) im2col's workspace is the smaller */
#define DIRECT_MAX_WORKSPACE (1 << 23)

static const char *const route_names[PC_ROUTE_COUNT] = {"im2col", "direct", "winograd"};

const char *
pc_conv_route_name(int route)
{
    return route >= 0 && route < PC_ROUTE_COUNT ? route_names[route] : "?";
}

int
pc_conv_route_supports(int route, const pc_window2d *g, npy_intp F)
{
    switch (route) {
    case PC_ROUTE_IM2COL:           /* any geometry */
        return 1;
    case PC_ROUTE_DIRECT:           /* taps adjacent, a patch and F accumulators that fit */
        return g->KH * g->KW * g->C <= PC_CONV_DIRECT_MAX_K && F <= PC_CONV_DIRECT_MAX_F &&
               g->GH == 0 && g->GW == 0;
    case PC_ROUTE_WINOGRAD:         /* F(2×2, 3×3) tiles hold adjacent taps, stride 1 */
        return g->KH == 3 && g->KW == 3 && g->SH == 1 && g->SW == 1 && g->GH == 0 &&
               g->GW == 0;
    default:
        return 0;
    }
}

static double
gemm_cost(double m, double k, double n)
{
    return 2.0 * m * k * n / (GEMM_RATE * (k / (k + GEMM_HALF)) * (n / (n + GEMM_HALF)));
}

double
pc_conv_route_cost(int route, const pc_window2d *g, npy_intp F)
{
    double P = (double)g->N * (double)g->OH * (double)g->OW;
    double K = (double)(g->KH * g->KW * g->C), C = (double)g->C, Fd = (double)F;
    double T = (double)g->N * (double)((g->OH + 1) / 2) * (double)((g->OW + 1) / 2);

    if (!pc_conv_route_supports(route, g, F))
        return -1.0;
    switch (route) {
    case PC_ROUTE_IM2COL:
        return (pc_conv_is_pointwise(g) ? 0.0 : P * K * (COPY + ROW / (double)(g->KW * g->C))) +
               gemm_cost(P, K, Fd);
    case PC_ROUTE_DIRECT: {
        double f32 = (double)(F - F % 32);
        return 2.0 * P * K * (f32 + TAIL * (Fd - f32)) / DIRECT_RATE;
    }
    default:
        return 16.0 * gemm_cost(T, C, Fd) + 16.0 * T * (C + Fd) * TRANSFORM;
    }
}

/* Routes the automatic choice may take: supported, and inside what was measured */
static int
auto_eligible(int route, const pc_window2d *g, npy_intp F)
{
    if (!pc_conv_route_supports(route, g, F))
        return 0;
    if (route == PC_ROUTE_DIRECT)       /* x itself is the patch matrix: one GEMM */
        return !pc_conv_is_pointwise(g) &&
               (g->KH * g->KW * g->C <= DIRECT_LONG_K || g->C <= DIRECT_LONG_MAX_C) &&
               pc_conv_direct_workspace(g, F) <= DIRECT_MAX_WORKSPACE;
    if (route == PC_ROUTE_WINOGRAD)
        return g->C >= WINO_MIN_CHANNELS && F >= WINO_MIN_FILTERS && g->OH >= 2 && g->OW >= 2;
    return 1;
}

int
pc_conv_route(const pc_window2d *g, npy_intp F)
{
    int best = PC_ROUTE_IM2COL;
    double best_cost;

    switch (pc_conv_algorithm) {        /* a forced route where it applies, else im2col */
    case PC_CONV_IM2COL:
        return PC_ROUTE_IM2COL;
    case PC_CONV_DIRECT:
        return pc_conv_route_supports(PC_ROUTE_DIRECT, g, F) ? PC_ROUTE_DIRECT
                                                              : PC_ROUTE_IM2COL;
    case PC_CONV_WINOGRAD:
        return pc_conv_route_supports(PC_ROUTE_WINOGRAD, g, F) ? PC_ROUTE_WINOGRAD
                                                                : PC_ROUTE_IM2COL;
    default:
        break;
    }
    best_cost = pc_conv_route_cost(PC_ROUTE_IM2COL, g, F);
    for (int r = PC_ROUTE_IM2COL + 1; r < PC_ROUTE_COUNT; r++) {
        double c = auto_eligible(r, g, F) ? pc_conv_route_cost(r, g, F) : -1.0;
        if (c >= 0.0 && c < best_cost)
            best = r, best_cost = c;
    }
    return best;
}
