/* elementwise_impl.h — template body, no include guard. Needs T, ACC, SFX(name), EXP...
 * and parallel.h. Instantiated twice by elementwise.c (float, double). Legend: see
 * elementwise.h. */

#include "scalar_impl.h"

/* ---- the N-d driver ------------------------------------------------------------ */

/* Odometer over every axis but the innermost, which `fn` walks as one strided row.
 * Offsets, not pointers, advance: an unused (NULL) operand is never offset. */
void
SFX(pc_strided_loop)(const pc_iter *it, const T *p0, const T *p1, const T *p2, T *out,
                     SFX(pc_strided_fn) fn)
{
    pc_index idx[PC_MAX_NDIM] = {0};
    pc_index off[PC_ITER_OPS] = {0};
    const int inner = it->ndim - 1;
    const pc_index n = it->shape[inner];

    for (int d = 0; d < it->ndim; d++)
        if (it->shape[d] == 0)
            return;
    for (;;) {
        fn(n, p0 ? p0 + off[0] : NULL, it->stride[0][inner], p1 ? p1 + off[1] : NULL,
           it->stride[1][inner], p2 ? p2 + off[2] : NULL, it->stride[2][inner], out + off[3],
           it->stride[3][inner]);
        int d = inner - 1;
        for (; d >= 0; d--) {
            for (int k = 0; k < PC_ITER_OPS; k++)
                off[k] += it->stride[k][d];
            if (++idx[d] < it->shape[d])
                break;
            for (int k = 0; k < PC_ITER_OPS; k++)
                off[k] -= it->stride[k][d] * it->shape[d];
            idx[d] = 0;
        }
        if (d < 0)
            return;
    }
}

/* ---- a unary map split over the thread pool ------------------------------------ */

/* Contiguous blocks of ≥ PC_PARALLEL_GRAIN elements, one kernel call per block: each
 * element is computed by the same code for any split, so results do not depend on
 * the thread count. */
typedef struct {
    SFX(pc_unary_forward_fn) forward;
    SFX(pc_unary_backward_fn) backward;
    const T *x, *y, *dy;
    T *out;
    int add;
} SFX(unary_job);

static void
SFX(unary_forward_block)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(unary_job) *j = ctx;
    j->forward(j->x + i0, j->out + i0, i1 - i0);
}
void
SFX(pc_unary_forward_split)(const T *x, T *y, pc_index n, SFX(pc_unary_forward_fn) fn)
{
    SFX(unary_job) j = {.forward = fn, .x = x, .out = y};
    pc_parallel_for(n, PC_PARALLEL_GRAIN, SFX(unary_forward_block), &j);
}

static void
SFX(unary_backward_block)(void *ctx, pc_index i0, pc_index i1)
{
    const SFX(unary_job) *j = ctx;
    j->backward(j->x + i0, j->y + i0, j->dy + i0, j->out + i0, i1 - i0, j->add);
}
void
SFX(pc_unary_backward_split)(const T *x, const T *y, const T *dy, T *dx, pc_index n, int add,
                             SFX(pc_unary_backward_fn) fn)
{
    SFX(unary_job) j = {.backward = fn, .x = x, .y = y, .dy = dy, .out = dx, .add = add};
    pc_parallel_for(n, PC_PARALLEL_GRAIN, SFX(unary_backward_block), &j);
}

/* out[i*so] += p0[i*s0]            accumulates; so == 0 sums the whole row */
void
SFX(pc_accumulate)(pc_index n, const T *p0, pc_index s0, const T *p1, pc_index s1,
                   const T *p2, pc_index s2, T *out, pc_index so)
{
    (void)p1, (void)s1, (void)p2, (void)s2;
    if (so == 0) {
        ACC acc = 0;
        for (pc_index i = 0; i < n; i++)
            acc += p0[i * s0];
        out[0] += (T)acc;
        return;
    }
    if (so == 1 && s0 == 1) {
        for (pc_index i = 0; i < n; i++)       /* contiguous: vectorizes */
            out[i] += p0[i];
        return;
    }
    for (pc_index i = 0; i < n; i++)
        out[i * so] += p0[i * s0];
}

/* ---- unary maps and swish: unary_impl.h (also built for AVX2 and AVX-512) -------- */

#include "unary_impl.h"

/* ---- binary maps as strided rows: forward (a, b, -, y), backward (dy, a, b, d) ------ */

/* The row loops of the arithmetic maps: out[i*so] (+)= op(p[i*sp], q[i*sq]). The two common
 * rows get loops of their own that GCC vectorizes: all unit strides, and q one broadcast
 * value (a tensor times or plus a scalar, as Rescaling). `op` is a constant at every
 * call and inlines. */
static inline void
SFX(binary_row)(pc_index n, const T *p, pc_index sp, const T *q, pc_index sq, T *out,
                pc_index so, int accumulate, T (*op)(T, T))
{
    if (sp == 1 && so == 1 && sq == 0) {
        const T qv = q[0];
        if (accumulate)
            for (pc_index i = 0; i < n; i++)
                out[i] += op(p[i], qv);
        else
            for (pc_index i = 0; i < n; i++)
                out[i] = op(p[i], qv);
        return;
    }
    if (sp == 1 && so == 1 && sq == 1) {
        if (accumulate)
            for (pc_index i = 0; i < n; i++)
                out[i] += op(p[i], q[i]);
        else
            for (pc_index i = 0; i < n; i++)
                out[i] = op(p[i], q[i]);
        return;
    }
    for (pc_index i = 0; i < n; i++) {
        T v = op(p[i * sp], q[i * sq]);
        out[i * so] = accumulate ? out[i * so] + v : v;
    }
}
static inline T SFX(add_op)(T a, T b) { return a + b; }
static inline T SFX(sub_op)(T a, T b) { return a - b; }
static inline T SFX(mul_op)(T a, T b) { return a * b; }
static inline T SFX(div_op)(T a, T b) { return a / b; }

/* The forward of add, sub, mul and div, y = a ⋆ b: binary_row with NAME_op */
#define PC_ARITH_FORWARD(name)                                                           \
    void SFX(pc_##name##_forward)(pc_index n, const T *a, pc_index sa, const T *b,       \
                                  pc_index sb, const T *unused, pc_index su, T *y,       \
                                  pc_index sy)                                           \
    {                                                                                    \
        (void)unused, (void)su;                                                          \
        SFX(binary_row)(n, a, sa, b, sb, y, sy, 0, SFX(name##_op));                      \
    }

/* add: y = a + b                   da += dy, db += dy */
PC_ARITH_FORWARD(add)
void
SFX(pc_add_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *da, pc_index sda)
{
    SFX(pc_accumulate)(n, dy, sdy, a, sa, b, sb, da, sda);
}
void
SFX(pc_add_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *db, pc_index sdb)
{
    SFX(pc_accumulate)(n, dy, sdy, a, sa, b, sb, db, sdb);
}

/* sub: y = a - b                   da += dy, db -= dy */
PC_ARITH_FORWARD(sub)
void
SFX(pc_sub_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *da, pc_index sda)
{
    SFX(pc_accumulate)(n, dy, sdy, a, sa, b, sb, da, sda);
}
void
SFX(pc_sub_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *db, pc_index sdb)
{
    (void)a, (void)sa, (void)b, (void)sb;
    for (pc_index i = 0; i < n; i++)
        db[i * sdb] -= dy[i * sdy];
}

/* mul: y = a b                     da += dy b, db += dy a */
PC_ARITH_FORWARD(mul)
void
SFX(pc_mul_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *da, pc_index sda)
{
    (void)a, (void)sa;
    SFX(binary_row)(n, dy, sdy, b, sb, da, sda, 1, SFX(mul_op));
}
void
SFX(pc_mul_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *db, pc_index sdb)
{
    (void)b, (void)sb;
    SFX(binary_row)(n, dy, sdy, a, sa, db, sdb, 1, SFX(mul_op));
}

/* div: y = a / b                   da += dy / b, db -= dy a / b² */
PC_ARITH_FORWARD(div)
void
SFX(pc_div_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *da, pc_index sda)
{
    (void)a, (void)sa;
    SFX(binary_row)(n, dy, sdy, b, sb, da, sda, 1, SFX(div_op));
}
void
SFX(pc_div_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *db, pc_index sdb)
{
    for (pc_index i = 0; i < n; i++) {
        T bi = b[i * sb];
        db[i * sdb] -= dy[i * sdy] * a[i * sa] / (bi * bi);
    }
}

#undef PC_ARITH_FORWARD

/* pow: y = a^b                     da += dy b a^(b-1), db += dy a^b ln a
 * (for a = 0 the exponent's gradient is taken as 0, as PyTorch does) */
void
SFX(pc_pow_forward)(pc_index n, const T *a, pc_index sa, const T *b, pc_index sb,
                    const T *unused, pc_index su, T *y, pc_index sy)
{
    (void)unused, (void)su;
    for (pc_index i = 0; i < n; i++)
        y[i * sy] = POW(a[i * sa], b[i * sb]);
}
void
SFX(pc_pow_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *da, pc_index sda)
{
    for (pc_index i = 0; i < n; i++) {
        T bi = b[i * sb];
        da[i * sda] += bi == 0 ? (T)0 : dy[i * sdy] * bi * POW(a[i * sa], bi - (T)1);
    }
}
void
SFX(pc_pow_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                       const T *b, pc_index sb, T *db, pc_index sdb)
{
    for (pc_index i = 0; i < n; i++) {
        T ai = a[i * sa];
        db[i * sdb] += ai == 0 ? (T)0 : dy[i * sdy] * POW(ai, b[i * sb]) * LOG(ai);
    }
}

/* maximum: y = max(a, b)           ties send the gradient to a */
void
SFX(pc_maximum_forward)(pc_index n, const T *a, pc_index sa, const T *b, pc_index sb,
                        const T *unused, pc_index su, T *y, pc_index sy)
{
    (void)unused, (void)su;
    for (pc_index i = 0; i < n; i++) {
        T ai = a[i * sa], bi = b[i * sb];
        y[i * sy] = (ai >= bi || ai != ai) ? ai : bi;     /* NaN propagates like NumPy */
    }
}
void
SFX(pc_maximum_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                           const T *b, pc_index sb, T *da, pc_index sda)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i * sdy];
        da[i * sda] += a[i * sa] >= b[i * sb] ? g : (T)0;
    }
}
void
SFX(pc_maximum_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                           const T *b, pc_index sb, T *db, pc_index sdb)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i * sdy];
        db[i * sdb] += b[i * sb] > a[i * sa] ? g : (T)0;
    }
}

/* minimum: y = min(a, b)           ties send the gradient to a */
void
SFX(pc_minimum_forward)(pc_index n, const T *a, pc_index sa, const T *b, pc_index sb,
                        const T *unused, pc_index su, T *y, pc_index sy)
{
    (void)unused, (void)su;
    for (pc_index i = 0; i < n; i++) {
        T ai = a[i * sa], bi = b[i * sb];
        y[i * sy] = (ai <= bi || ai != ai) ? ai : bi;
    }
}
void
SFX(pc_minimum_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                           const T *b, pc_index sb, T *da, pc_index sda)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i * sdy];
        da[i * sda] += a[i * sa] <= b[i * sb] ? g : (T)0;
    }
}
void
SFX(pc_minimum_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                           const T *b, pc_index sb, T *db, pc_index sdb)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i * sdy];
        db[i * sdb] += b[i * sb] < a[i * sa] ? g : (T)0;
    }
}

/* prelu: y = a where a > 0, else b·a          b: the slope α, broadcast against a (PReLU).
 * The gradient at a = 0 is α, as PyTorch's and ONNX's PRelu (a > 0 ? 1 : α).
 *   ∂y/∂a = a > 0 ? 1 : b      ∂y/∂b = a > 0 ? 0 : a             both accumulate */
void
SFX(pc_prelu_forward)(pc_index n, const T *a, pc_index sa, const T *b, pc_index sb,
                      const T *unused, pc_index su, T *y, pc_index sy)
{
    (void)unused, (void)su;
    for (pc_index i = 0; i < n; i++) {
        T ai = a[i * sa];
        y[i * sy] = ai > 0 ? ai : b[i * sb] * ai;        /* NaN: b·NaN = NaN */
    }
}
void
SFX(pc_prelu_backward_a)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                         const T *b, pc_index sb, T *da, pc_index sda)
{
    for (pc_index i = 0; i < n; i++) {
        T g = dy[i * sdy];
        da[i * sda] += a[i * sa] > 0 ? g : g * b[i * sb];
    }
}
void
SFX(pc_prelu_backward_b)(pc_index n, const T *dy, pc_index sdy, const T *a, pc_index sa,
                         const T *b, pc_index sb, T *db, pc_index sdb)
{
    (void)b, (void)sb;
    for (pc_index i = 0; i < n; i++) {
        T ga = dy[i * sdy] * a[i * sa];
        db[i * sdb] += a[i * sa] > 0 ? (T)0 : ga;
    }
}
