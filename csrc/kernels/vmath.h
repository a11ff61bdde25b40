/* vmath.h — e^x and tanh x for float, written so that the compiler vectorizes loops
 * that call them (glibc's expf/tanhf are opaque calls, one element at a time).
 *
 * Branch-free straight-line code: every case (tiny, huge, NaN) is computed and then
 * selected, so GCC/Clang turn a loop over these into SIMD code. Accuracy: within
 * 2 ulp of the correctly rounded result over the whole float range, denormal
 * results included (tests/test_vmath.py checks every 97th float). The float64
 * kernels keep libm: gradient checks want its last bits. Pure C.
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

/* e^x = 2^n · e^r  with n = round(x / ln 2), r = x − n·ln 2 ∈ [−ln2/2, ln2/2];
 * e^r by Cephes' degree-7 polynomial; 2^n applied in two halves so that results
 * between FLT_MIN and the smallest denormal round instead of flushing to 0. */
static inline float
pc_vexpf(float x)
{
    const float magic = 12582912.0f;                  /* 1.5 · 2^23: round to nearest */
    float xc = x > 88.8f ? 88.8f : (x < -104.0f ? -104.0f : x);
    float fn = (xc * 1.44269504088896341f + magic) - magic;
    float r = xc - fn * 0.693359375f;                  /* ln 2 in two parts (Cody–Waite) */
    r = r - fn * -2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    p = p * (r * r) + r + 1.0f;
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
    float p = -5.70498872745e-3f;
    p = p * z + 2.06390887954e-2f;
    p = p * z - 5.37397155531e-2f;
    p = p * z + 1.33314422036e-1f;
    p = p * z - 3.33332819422e-1f;
    float small = p * z * ax + ax;
    float e = pc_vexpf(2.0f * (ax < 9.1f ? ax : 9.1f));
    float big = ax < 9.1f ? 1.0f - 2.0f / (e + 1.0f) : 1.0f;
    float y = copysignf(ax < 0.625f ? small : big, x);    /* odd: tanh(-0) = -0 */
    return x != x ? x : y;
}

#endif
