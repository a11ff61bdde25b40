/* vmath.h — e^x, e^x − 1, ln(1 + x), tanh x, e^(−x²/2) and the normal CDF Φ(x) for
 * float, written so that the compiler vectorizes loops that call them (glibc's expf,
 * expm1f, log1pf, tanhf, erfcf are opaque calls, one element at a time).
 *
 * Branch-free straight-line code: every case (tiny, huge, NaN) is computed and then
 * selected, so GCC/Clang turn a loop over these into SIMD code. Accuracy against the
 * exact value (tests/test_vmath.py checks every 997th float): e^x, e^x − 1 and tanh x
 * within 2 ulp, ln(1 + x) within 3 ulp, x·Φ(x) within 16 ulp (the bound the tests
 * hold it to; its formula has no cancelling branch); denormal results aside (those carry
 * the absolute error of the float format). Under FMA (the AVX2 and AVX-512 builds of
 * the unary maps) e^(−x²/2) splits x² with an fma. The float64 kernels keep libm:
 * gradient checks want its last bits. Pure C.
 */
#ifndef PC_VMATH_H
#define PC_VMATH_H

#include <math.h>
#include <stdint.h>
#include <string.h>

/* 2^k for an integer k in [-126, 127], built from its exponent bits */
static inline float
pc_pow2if(int32_t k)
{
    int32_t bits = (k + 127) << 23;
    float f;
    memcpy(&f, &bits, sizeof f);
    return f;
}

/* c[0] x^(n−1) + c[1] x^(n−2) + … + c[n−1] by Horner's rule; n is a constant at every
 * call, so the loop unrolls completely and the caller's loop still vectorizes */
static inline float
pc_vhornerf(float x, const float *c, int n)
{
    float p = c[0];
    for (int k = 1; k < n; k++)
        p = p * x + c[k];
    return p;
}

/* Cephes' coefficients: e^r = 1 + r + r² EXP_P(r) on [−ln2/2, ln2/2]; ln(1 + f) =
 * f − f²/2 + f³ LOG_P(f) on [√½ − 1, √2 − 1]; tanh x = x + x³ TANH_P(x²) on |x| < 0.625.
 * ERFCX_Q: e^(u²) erfc(u) = t ERFCX_Q(t), t = 1/(1 + 0.4 u), for every u ≥ 0 (a weighted
 * least-squares fit in t ∈ [0, 1], relative error 1.3e-8; ERFCX_Q(0) = 0.4/√π is the
 * asymptote 1/(u√π)). */
static const float PC_EXP_P[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
static const float PC_LOG_P[9] = {7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
                                  -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
                                  2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};
static const float PC_TANH_P[5] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                   1.33314422036e-1f, -3.33332819422e-1f};
static const float PC_ERFCX_Q[11] = {-2.921510860e-02f, 1.404466629e-01f, -2.355271131e-01f,
                                     1.375612020e-01f,  -4.689499363e-02f, 8.391631395e-02f,
                                     1.190083250e-01f,  1.717392802e-01f,  2.076137364e-01f,
                                     2.256758511e-01f,  2.256758362e-01f};

/* e^r − 1 for r = x + lo − n·ln 2 ∈ [−ln2/2, ln2/2], n = round((x + lo) / ln 2) stored
 * in *fn (a float holding an integer): r + r² EXP_P(r), Cephes' degree-7 polynomial.
 * lo is a small correction to x (−0 for a plain x): x − n·ln2_hi is exact, lo joins after. */
static inline float
pc_vexpm1_reducedf(float x, float lo, float *fn)
{
    const float magic = 12582912.0f;                  /* 1.5 · 2^23: round to nearest */
    float n = ((x + lo) * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f;                    /* ln 2 in two parts (Cody–Waite) */
    r = r - n * -2.12194440e-4f;
    r = r + lo;
    *fn = n;
    return pc_vhornerf(r, PC_EXP_P, 6) * (r * r) + r;
}

/* e^(x + lo) = 2^n · e^r (pc_vexpm1_reducedf) for x ∈ [−104, 88.8] and a small lo; 2^n
 * applied in two halves so that results between FLT_MIN and the smallest denormal round
 * instead of flushing to 0. The ends of that range give the edges by themselves: 2^n
 * overflows to inf for x > 88.72 (e^r ≥ 1 there), e^r 2^−150 rounds to 0 below −103.97,
 * and NaN stays NaN through every step. */
static inline float
pc_vexp_rangef(float x, float lo)
{
    float fn;
    float p = pc_vexpm1_reducedf(x, lo, &fn) + 1.0f;
    int32_t n = (int32_t)fn;
    int32_t n1 = n >> 1;                               /* n1, n − n1 ∈ [−75, 64] */
    return p * pc_pow2if(n1) * pc_pow2if(n - n1);
}

/* e^x: x clamped to [−104, 88.8]; lo = −0, which x + lo and r + lo fold away (the
 * identity for every x, ±0 too) */
static inline float
pc_vexpf(float x)
{
    return pc_vexp_rangef(x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x), -0.0f);
}

/* tanh x: odd polynomial (Cephes tanhf) for |x| < 0.625, else sign(x)·(1 − 2/(e^{2|x|} + 1));
 * beyond |x| = 9.1, tanh x rounds to ±1 in float, so that is returned. */
static inline float
pc_vtanhf(float x)
{
    float ax = fabsf(x);
    float z = x * x;
    float p = pc_vhornerf(z, PC_TANH_P, 5);
    float small = p * z * ax + ax;
    float e = pc_vexpf(2.0f * (ax < 9.1f ? ax : 9.1f));
    float big = ax < 9.1f ? 1.0f - 2.0f / (e + 1.0f) : 1.0f;
    float y = copysignf(ax < 0.625f ? small : big, x);    /* odd: tanh(-0) = -0 */
    return x != x ? x : y;
}

/* e^x − 1 = 2^n (e^r − 1) + (2^n − 1) with n, r as in pc_vexpf: e^r − 1 is the
 * reduced polynomial without the leading 1 of e^x, so small x keep every bit (no 1 + x − 1 cancel).
 * Above x = 10, e^x − 1 is e^x rounded, minus 1; below −30 it rounds to −1. */
static inline float
pc_vexpm1f(float x)
{
    float fn;
    float em1 = pc_vexpm1_reducedf(x > 10.0f ? 10.0f : (x < -30.0f ? -30.0f : x), -0.0f, &fn);
    float s = pc_pow2if((int32_t)fn);
    float y = s * em1 + (s - 1.0f);
    y = x > 10.0f ? pc_vexpf(x) - 1.0f : y;
    y = x == 0.0f ? x : y;                             /* keeps the sign of −0 */
    return x != x ? x : y;
}

/* ln(1 + x) for x ≥ −1: w = 1 + x rounded, ln w by Cephes' logf (w = m·2^e with
 * m ∈ [√½, √2), a degree-9 polynomial in f = m − 1). When e = 0, f is x itself, not the
 * rounded w − 1: small x keep every bit, with no division. −1 gives −inf, below −1 NaN,
 * +inf gives +inf. */
static inline float
pc_vlog1pf(float x)
{
    float w = 1.0f + x;
    float wc = w > 1e-30f ? (w < 3.0e38f ? w : 3.0e38f) : 1e-30f;
    int32_t bits;
    memcpy(&bits, &wc, sizeof bits);
    int32_t e = ((bits >> 23) & 0xff) - 126;
    bits = (bits & 0x807fffff) | 0x3f000000;            /* m ∈ [0.5, 1) */
    float m;
    memcpy(&m, &bits, sizeof m);
    int32_t lo = m < 0.707106781186547524f;
    e -= lo;
    m = lo ? m + m - 1.0f : m - 1.0f;
    m = e == 0 ? x : m;
    float z = m * m;
    float p = pc_vhornerf(m, PC_LOG_P, 9);
    float fe = (float)e;
    float y = p * m * z;
    y = y + fe * -2.12194440e-4f;
    y = y - 0.5f * z;
    y = (m + y) + fe * 0.693359375f;
    y = w == 0.0f ? -INFINITY : y;
    y = w < 0.0f ? NAN : y;
    y = x == INFINITY ? x : y;
    y = x == 0.0f ? x : y;                             /* keeps the sign of −0 */
    return x != x ? x : y;
}

/* e^(−x²/2) without the rounding error of x²: −x²/2 = p + e exactly, then one e^(p + e)
 * (pc_vexp_rangef). With FMA, p = −x²/2 rounded and e = fma(−|x|/2, |x|, −p); without,
 * |x| = hi + l with hi its top 12 bits, so p = −hi²/2 is exact and e = −l(|x| + hi)/2. */
static inline float
pc_vgaussf(float x)
{
    float ax = fabsf(x);       /* not clamped: that made GCC compute the exp twice and select */
#ifdef __FMA__
    float h = -0.5f * ax;                              /* exact */
    float p = h * ax;
    float e = fmaf(h, ax, -p);
#else
    int32_t bits;
    memcpy(&bits, &ax, sizeof bits);
    bits &= (int32_t)0xfffff000;
    float hi;
    memcpy(&hi, &bits, sizeof hi);
    float p = -0.5f * (hi * hi);
    float e = -0.5f * ((ax - hi) * (ax + hi));
#endif
    /* below −104 the result is 0, and e may be NaN there (x² = inf): both replaced */
    int low = p < -104.0f;
    return pc_vexp_rangef(low ? -104.0f : p, low ? 0.0f : e);     /* NaN stays NaN */
}

/* float64: e^(−x²/2) and s·Φ(x), Φ(x) = ½ erfc(−x/√2), straight from libm */
static inline double
pc_gauss(double x)
{
    return exp(-0.5 * x * x);
}
static inline double
pc_scaled_normcdf(double x, double s)
{
    return s * (0.5 * erfc(-x * 0.70710678118654752440));
}

/* s·Φ(x), Φ(x) = ½ erfc(−x/√2) the standard normal CDF. With u = |x|/√2,
 *   Q = ½ erfc(u) = ½ e^(−x²/2) t ERFCX_Q(t),  t = 1/(1 + 0.4 u),
 *   Φ = Q for x < 0, 1 − Q for x ≥ 0:
 * one formula for every x (no branch: nothing to compute twice and select), no
 * cancellation (Q ≤ ½). e^(−x²/2) comes from x itself (pc_vgaussf), not from the
 * rounded u, which keeps the far tail accurate, and it is multiplied in last: x·Φ(x)
 * (gelu) stays a normal float down to x ≈ −13.2 although Φ(x) alone is denormal there.
 * NaN stays NaN (through t). */
static inline float
pc_vscaled_normcdff(float x, float s)
{
    float t = 1.0f / (1.0f + 0.282842712474619010f * fabsf(x));   /* 0.4/√2 */
    float half = 0.5f * (t * pc_vhornerf(t, PC_ERFCX_Q, 11));
    float g = pc_vgaussf(x);
    return x < 0.0f ? (s * half) * g : s * (1.0f - half * g);      /* NaN: t is NaN */
}

#endif
