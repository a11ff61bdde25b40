/* unary_impl.h — template body, no include guard: the element-wise unary maps and swish.
 * Needs T, ACC, SFX(name), EXP..., parallel.h and
 * PC_UNARY_HANDOVER(fn, wide, args...): a statement that may run fn's wider build instead
 * and return (elementwise.c, float), or nothing; `wide` is 0 for the maps that only stream
 * memory (relu, relu6, ...), which run slower from the AVX-512 build than the AVX2 one
 * (measured: relu6 fwd+bwd 1.8 vs 2.1 ms on 3.2M floats), 1 for those whose math pays. Instantiated by elementwise.c (float, double)
 * and, float only, by elementwise_avx2.c and elementwise_avx512.c, which compile it for
 * wider SIMD (simd.h). Legend: see elementwise.h.
 *
 * Forward kernels overwrite y. Backward kernels compute dy · f'(x) into dx, adding to it
 * when `add` (dx already holds a gradient) and overwriting it otherwise (a fresh buffer,
 * not zero-filled first). Each map is two static inline functions, SFX(NAME_value)(x) and
 * SFX(NAME_grad)(x, y, dy); PC_UNARY_FORWARD / PC_UNARY_BACKWARD make the kernels
 * SFX(pc_NAME_forward) and SFX(pc_NAME_backward) that run them over the arrays (the
 * function is a constant there and inlines, so each loop vectorizes). */

#define PC_UNARY_FORWARD(name, wide)                                                     \
    void SFX(pc_##name##_forward)(const T *x, T *y, pc_index n)                          \
    {                                                                                    \
        PC_UNARY_HANDOVER(pc_##name##_forward, wide, x, y, n);                           \
        for (pc_index i = 0; i < n; i++)                                                 \
            y[i] = SFX(name##_value)(x[i]);                                              \
    }
#define PC_UNARY_BACKWARD(name, wide)                                                    \
    void SFX(pc_##name##_backward)(const T *x, const T *y, const T *dy, T *dx, pc_index n, \
                                   int add)                                              \
    {                                                                                    \
        PC_UNARY_HANDOVER(pc_##name##_backward, wide, x, y, dy, dx, n, add);             \
        if (add)                                                                         \
            for (pc_index i = 0; i < n; i++)                                             \
                dx[i] += SFX(name##_grad)(x[i], y[i], dy[i]);                            \
        else                                                                             \
            for (pc_index i = 0; i < n; i++)                                             \
                dx[i] = SFX(name##_grad)(x[i], y[i], dy[i]);                             \
    }

/* neg: y = -x                      dx += -dy */
static inline T SFX(neg_value)(T x) { return -x; }
PC_UNARY_FORWARD(neg, 0)
static inline T SFX(neg_grad)(T x, T y, T g) { (void)x, (void)y; return -g; }
PC_UNARY_BACKWARD(neg, 0)

/* abs: y = |x|                     dx += dy * sign(x); the gradient at x = 0 is 0 */
static inline T SFX(abs_value)(T x) { return FABS(x); }
PC_UNARY_FORWARD(abs, 0)
static inline T
SFX(abs_grad)(T x, T y, T g)
{
    (void)y;
    return x > 0 ? g : (x < 0 ? -g : (T)0);
}
PC_UNARY_BACKWARD(abs, 0)

/* exp: y = e^x                     dx += dy * y   (takes the output y) */
static inline T SFX(exp_value)(T x) { return EXP(x); }
PC_UNARY_FORWARD(exp, 1)
static inline T SFX(exp_grad)(T x, T y, T g) { (void)x; return g * y; }
PC_UNARY_BACKWARD(exp, 0)

/* log: y = ln x                    dx += dy / x   (ln of x <= 0 is NaN/-inf, as NumPy) */
static inline T SFX(log_value)(T x) { return LOG(x); }
PC_UNARY_FORWARD(log, 1)
static inline T SFX(log_grad)(T x, T y, T g) { (void)y; return g / x; }
PC_UNARY_BACKWARD(log, 1)

/* sqrt: y = √x                     dx += dy / (2y)   (takes the output y) */
static inline T SFX(sqrt_value)(T x) { return SQRT(x); }
PC_UNARY_FORWARD(sqrt, 1)
static inline T SFX(sqrt_grad)(T x, T y, T g) { (void)x; return g * (T)0.5 / y; }
PC_UNARY_BACKWARD(sqrt, 1)

/* square: y = x²                   dx += 2 x dy */
static inline T SFX(square_value)(T x) { return x * x; }
PC_UNARY_FORWARD(square, 0)
static inline T SFX(square_grad)(T x, T y, T g) { (void)y; return (T)2 * x * g; }
PC_UNARY_BACKWARD(square, 0)

/* sigmoid: y = 1 / (1 + e^-x)      dx += dy * y (1 - y)   (takes the output y)
 * Only ever exponentiates a non-positive number, so x = ±1000 gives exactly 0 and 1. */
/* scalar_impl.h's σ written with one division, (x ≥ 0 ? 1 : e)/(1 + e), e = e^−|x|: the
 * same bits, but GCC divides twice for that form's two quotients, and a vector division
 * is the slowest instruction here */
static inline T
SFX(sigmoid_value)(T x)
{
    T e = EXP(-FABS(x));
    return (x >= 0 ? (T)1 : e) / ((T)1 + e);
}
PC_UNARY_FORWARD(sigmoid, 1)
static inline T SFX(sigmoid_grad)(T x, T y, T g) { (void)x; return g * y * ((T)1 - y); }
PC_UNARY_BACKWARD(sigmoid, 0)

/* tanh: y = tanh x                 dx += dy (1 - y²)   (takes the output y) */
static inline T SFX(tanh_value)(T x) { return TANH(x); }
PC_UNARY_FORWARD(tanh, 1)
static inline T SFX(tanh_grad)(T x, T y, T g) { (void)x; return g * ((T)1 - y * y); }
PC_UNARY_BACKWARD(tanh, 0)

/* relu: y = max(x, 0)              dx += dy * [x > 0]; the gradient at x = 0 is 0
 * NaN propagates (like np.maximum and torch.relu): a diverged net must not look fine. */
static inline T SFX(relu_value)(T x) { return x < 0 ? (T)0 : x; }
PC_UNARY_FORWARD(relu, 0)
static inline T SFX(relu_grad)(T x, T y, T g) { (void)y; return x > 0 ? g : (T)0; }
PC_UNARY_BACKWARD(relu, 0)

/* softplus: y = ln(1 + e^x) = max(x, 0) + ln(1 + e^-|x|)     dx += dy σ(x)
 * (Keras' and torch's softplus). The second form never overflows: e^-|x| ≤ 1. */
static inline T SFX(softplus_value)(T x) { return (x > 0 ? x : (T)0) + LOG1P(EXP(-FABS(x))); }
PC_UNARY_FORWARD(softplus, 1)
static inline T
SFX(softplus_grad)(T x, T y, T g)
{
    (void)y;
    return g * SFX(sigmoid_value)(x);
}
PC_UNARY_BACKWARD(softplus, 1)

/* gelu (exact, Keras' default approximate=False and torch's approximate='none'):
 *   y = x Φ(x),  Φ(x) = ½ erfc(−x/√2)            dx += dy (Φ(x) + x φ(x)),
 *   φ(x) = e^(−x²/2) / √(2π). SCALED_NORMCDF(x, s) = s·Φ(x) goes through erfc, which keeps
 *   it accurate far into the negative tail, where 1 + erf(x/√2) would cancel to 0. */
static inline T SFX(gelu_value)(T x) { return SCALED_NORMCDF(x, x); }
PC_UNARY_FORWARD(gelu, 1)
static inline T
SFX(gelu_grad)(T x, T y, T g)
{
    (void)y;
    T pdf = GAUSS(x) * (T)0.39894228040143267794;
    return g * (SCALED_NORMCDF(x, (T)1) + x * pdf);
}
PC_UNARY_BACKWARD(gelu, 1)

/* softsign: y = x / (1 + |x|)                                 dx += dy / (1 + |x|)² */
static inline T SFX(softsign_value)(T x) { return x / ((T)1 + FABS(x)); }
PC_UNARY_FORWARD(softsign, 1)
static inline T
SFX(softsign_grad)(T x, T y, T g)
{
    (void)y;
    T d = (T)1 + FABS(x);
    return g / (d * d);
}
PC_UNARY_BACKWARD(softsign, 1)

/* hard_sigmoid, Keras 3's: y = relu6(x + 3) / 6 = clip(x/6 + ½, 0, 1)
 *                                              dx += dy / 6 for −3 < x < 3, else 0 */
static inline T
SFX(hard_sigmoid_value)(T x)
{
    T v = x / (T)6 + (T)0.5;
    return v < 0 ? (T)0 : v > 1 ? (T)1 : v;
}
PC_UNARY_FORWARD(hard_sigmoid, 0)
static inline T
SFX(hard_sigmoid_grad)(T x, T y, T g)
{
    (void)y;
    return (x > -3) & (x < 3) ? g / (T)6 : (T)0;        /* no &&: the loop vectorizes */
}
PC_UNARY_BACKWARD(hard_sigmoid, 0)

/* relu6: y = min(max(x, 0), 6)             dx += dy for 0 < x < 6; 0 at the kinks */
static inline T SFX(relu6_value)(T x) { return x < 0 ? (T)0 : x > 6 ? (T)6 : x; }
PC_UNARY_FORWARD(relu6, 0)
static inline T
SFX(relu6_grad)(T x, T y, T g)
{
    (void)y;
    return (x > 0) & (x < 6) ? g : (T)0;                /* no &&: the loop vectorizes */
}
PC_UNARY_BACKWARD(relu6, 0)

/* selu: y = λ x for x > 0, λ α (e^x − 1) otherwise, with Klambauer et al.'s
 * α = 1.6732632423543772, λ = 1.0507009873554805 (Keras', torch's)
 *                                              dx += dy λ (x > 0 ? 1 : α e^x) */
static inline T
SFX(selu_value)(T x)
{
    return x > 0 ? (T)1.0507009873554805 * x
                 : (T)(1.0507009873554805 * 1.6732632423543772) * EXPM1(x);
}
PC_UNARY_FORWARD(selu, 1)
static inline T
SFX(selu_grad)(T x, T y, T g)
{
    (void)y;
    return g * (x > 0 ? (T)1.0507009873554805
                      : (T)(1.0507009873554805 * 1.6732632423543772) * EXP(x));
}
PC_UNARY_BACKWARD(selu, 1)

#undef PC_UNARY_FORWARD
#undef PC_UNARY_BACKWARD

/* swish: y = x σ(βx)                                x, y: (n,)   overwrites y
 * Split over the thread pool in blocks (element-wise: the same for any thread count). */
typedef struct {
    const T *x, *dy;
    T *y;
    T beta;
    int add;
} SFX(swish_job);

static void
SFX(swish_forward_block)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(swish_job) *j = ctx;
    const T *x = j->x;
    T *y = j->y, beta = j->beta;
    for (pc_index i = i0; i < i1; i++)
        y[i] = x[i] * SFX(sigmoid_value)(beta * x[i]);
}
void
SFX(pc_swish_forward)(const T *x, T *y, pc_index n, T beta)
{
    SFX(swish_job) j = {.x = x, .y = y, .beta = beta};
    PC_UNARY_HANDOVER(pc_swish_forward, 1, x, y, n, beta);
    pc_parallel_for(n, PC_PARALLEL_GRAIN, SFX(swish_forward_block), &j);
}
/* with s = σ(βx):  dx (+)= dy (s + βx s(1 − s))      into dx (may be NULL; `add` as above)
 *                  dβ += Σ dy x² s(1 − s)            accumulates into *dbeta (may be NULL)
 * dx block by block over the thread pool; the sum dβ in one ordered pass of its own (a
 * float64 sum in index order does not vectorize, so it runs only when dβ is wanted). */
static void
SFX(swish_backward_block)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(swish_job) *j = ctx;
    const T *x = j->x, *dy = j->dy;
    T beta = j->beta, *dx = j->y;
    if (j->add)
        for (pc_index i = i0; i < i1; i++) {
            T s = SFX(sigmoid_value)(beta * x[i]);
            dx[i] += dy[i] * (s + beta * x[i] * (s * ((T)1 - s)));
        }
    else
        for (pc_index i = i0; i < i1; i++) {
            T s = SFX(sigmoid_value)(beta * x[i]);
            dx[i] = dy[i] * (s + beta * x[i] * (s * ((T)1 - s)));
        }
}
void
SFX(pc_swish_backward)(const T *x, const T *dy, T *dx, T *dbeta, pc_index n, T beta, int add)
{
    PC_UNARY_HANDOVER(pc_swish_backward, 1, x, dy, dx, dbeta, n, beta, add);
    if (dx != NULL) {
        SFX(swish_job) j = {.x = x, .dy = dy, .y = dx, .beta = beta, .add = add};
        pc_parallel_for(n, PC_PARALLEL_GRAIN, SFX(swish_backward_block), &j);
    }
    if (dbeta != NULL) {
        ACC db = 0;
        for (pc_index i = 0; i < n; i++) {
            T s = SFX(sigmoid_value)(beta * x[i]);
            db += (ACC)dy[i] * x[i] * x[i] * (s * ((T)1 - s));
        }
        *dbeta += (T)db;
    }
}
