/* vmath.h — e^x, e^x − 1, ln(1 + x), tanh x, e^(−x²/2) and the normal CDF Φ(x) for
 * float, written so that the compiler vectorizes loops that call them (glibc's expf,
 * expm1f, log1pf, tanhf, erfcf are opaque calls, one element at a time).
 *
 * Branch-free straight-line code: every case (tiny, huge, NaN) is computed and then
 * selected, so GCC/Clang turn a loop over these into SIMD code. Accuracy against the
 * exact value (tests/test_vmath.py checks every 997th float): e^x, e^x − 1 and tanh x
 * within 2 ulp, ln(1 + x) within 3 ulp; x·Φ(x) within 16 ulp where ½ + ½ erf(x/√2)
 * cancels (x ≈ −1.4), a few ulp elsewhere; denormal results aside (those carry the
 * absolute error of the float format). The float64 kernels keep
 * libm: gradient checks want its last bits. Pure C.
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
 * f − f²/2 + f³ LOG_P(f) on [√½ − 1, √2 − 1]; tanh x = x + x³ TANH_P(x²) on |x| < 0.625;
 * erf u = u ERF_T(u²) on |u| < 1; erfc u = e^(−u²) (1/u) ERFC_P(1/u²) on [1, 2),
 * ERFC_R(1/u²) on [2, 14) */
static const float PC_EXP_P[6] = {1.9875691500e-4f, 1.3981999507e-3f, 8.3334519073e-3f,
                                  4.1665795894e-2f, 1.6666665459e-1f, 5.0000001201e-1f};
static const float PC_LOG_P[9] = {7.0376836292e-2f,  -1.1514610310e-1f, 1.1676998740e-1f,
                                  -1.2420140846e-1f, 1.4249322787e-1f,  -1.6668057665e-1f,
                                  2.0000714765e-1f,  -2.4999993993e-1f, 3.3333331174e-1f};
static const float PC_TANH_P[5] = {-5.70498872745e-3f, 2.06390887954e-2f, -5.37397155531e-2f,
                                   1.33314422036e-1f, -3.33332819422e-1f};
static const float PC_ERF_T[7] = {7.853861353153693e-5f,  -8.010193625184903e-4f,
                                  5.188327685732524e-3f,  -2.685381193529856e-2f,
                                  1.128358514861418e-1f,  -3.761262582423300e-1f,
                                  1.128379165726710e+0f};
static const float PC_ERFC_P[9] = {2.326819970068386e-2f,  -1.387039388740657e-1f,
                                   3.687424674597105e-1f,  -5.824733027278666e-1f,
                                   6.210004621745983e-1f,  -4.944515323274145e-1f,
                                   3.404879937665872e-1f,  -2.741127028184656e-1f,
                                   5.638259427386472e-1f};
static const float PC_ERFC_R[8] = {-1.047766399936249e+1f, 1.297719955372516e+1f,
                                   -7.495518717768503e+0f, 2.921019019210786e+0f,
                                   -1.015265279202700e+0f, 4.218463358204948e-1f,
                                   -2.820767439740514e-1f, 5.641895067754075e-1f};

/* e^r − 1 for r = x − n·ln 2 ∈ [−ln2/2, ln2/2], n = round(x / ln 2) stored in *fn (a
 * float holding an integer): r + r² EXP_P(r), Cephes' degree-7 polynomial. */
static inline float
pc_vexpm1_reducedf(float x, float *fn)
{
    const float magic = 12582912.0f;                  /* 1.5 · 2^23: round to nearest */
    float n = (x * 1.44269504088896341f + magic) - magic;
    float r = x - n * 0.693359375f;                    /* ln 2 in two parts (Cody–Waite) */
    r = r - n * -2.12194440e-4f;
    *fn = n;
    return pc_vhornerf(r, PC_EXP_P, 6) * (r * r) + r;
}

/* e^x = 2^n · e^r (pc_vexpm1_reducedf); 2^n applied in two halves so that results
 * between FLT_MIN and the smallest denormal round instead of flushing to 0. */
static inline float
pc_vexpf(float x)
{
    float fn;
    float p = pc_vexpm1_reducedf(x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x), &fn) + 1.0f;
    int32_t n = (int32_t)fn;
    int32_t n1 = n / 2;
    float y = p * pc_pow2if(n1) * pc_pow2if(n - n1);
    y = x > 88.72283905f ? INFINITY : y;
    y = x < -103.972077f ? 0.0f : y;
    return x != x ? x : y;                             /* NaN in, NaN out */
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
    float em1 = pc_vexpm1_reducedf(x > 10.0f ? 10.0f : (x < -30.0f ? -30.0f : x), &fn);
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

/* e^(−x²/2) without the rounding error of x²: |x| = h + l with h its top 12 bits, so
 * h² is exact and x² = h² + l(|x| + h);  e^(−x²/2) = e^(−h²/2) · e^(−l(x + h)/2). */
static inline float
pc_vgaussf(float x)
{
    float ax = fabsf(x);
    ax = ax < 20.0f ? ax : 20.0f;                      /* e^−200 is 0 in float; inf too */
    int32_t bits;
    memcpy(&bits, &ax, sizeof bits);
    bits &= (int32_t)0xfffff000;
    float h;
    memcpy(&h, &bits, sizeof h);
    float l = ax - h;
    float y = pc_vexpf(-0.5f * (h * h)) * pc_vexpf(-0.5f * (l * (ax + h)));
    return x != x ? x : y;
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

/* s·Φ(x), Φ(x) = ½ erfc(−x/√2) the standard normal CDF, by Cephes' erff/erfcf, u = x/√2:
 *   |u| < 1:  Φ = ½ + ½ u T(u²)
 *   |u| ≥ 1:  Q = ½ erfc(|u|) = ½ e^(−x²/2) (1/|u|) P(1/u²) (R for |u| ≥ 2),
 *             Φ = Q for x < 0, 1 − Q for x > 0.
 * e^(−x²/2) comes from x itself (pc_vgaussf), not from the rounded u, which keeps the
 * far tail accurate, and it is multiplied in last: x·Φ(x) (gelu) stays a normal float
 * down to x ≈ −13.2 although Φ(x) alone is denormal there. NaN stays NaN. */
static inline float
pc_vscaled_normcdff(float x, float s)
{
    float u = x * 0.70710678118654752f;
    float au = fabsf(u);
    float z = u * u;
    float t = pc_vhornerf(z, PC_ERF_T, 7);
    float mid = s * (0.5f + 0.5f * (u * t));
    float q = 1.0f / (au > 1.0f ? au : 1.0f);
    float y = q * q;
    float pp = pc_vhornerf(y, PC_ERFC_P, 9);
    float pr = pc_vhornerf(y, PC_ERFC_R, 8);
    float tail = (0.5f * q * (au < 2.0f ? pp : pr));
    float g = pc_vgaussf(x);                        /* once: both sides of the select use it */
    float phi = x < 0.0f ? (s * tail) * g : s * (1.0f - tail * g);
    phi = au < 1.0f ? mid : phi;
    return x != x ? x : phi;
}

#endif
