/* reduce_impl.h — template body, no include guard. Needs T, ACC, SFX(name).
 * Instantiated twice by reduce.c (float, double). Legend: see reduce.h. */

/* Σ x[i·sx], i < n, in ACC. Eight partial sums: the adds no longer wait on each other
 * (one accumulator is latency-bound, ~4x slower) and the error grows more slowly. */
static inline ACC
SFX(row_sum)(const T *x, pc_index n, pc_index sx)
{
    ACC a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0, a6 = 0, a7 = 0;
    pc_index i = 0;
    for (; i + 8 <= n; i += 8) {
        const T *p = x + i * sx;
        a0 += p[0], a1 += p[sx], a2 += p[2 * sx], a3 += p[3 * sx];
        a4 += p[4 * sx], a5 += p[5 * sx], a6 += p[6 * sx], a7 += p[7 * sx];
    }
    for (; i < n; i++)
        a0 += x[i * sx];
    return ((a0 + a1) + (a2 + a3)) + ((a4 + a5) + (a6 + a7));
}

/* sum: y[o] = scale · Σ x over the elements reduced into o        overwrites y */
void
SFX(pc_sum_forward)(const pc_iter *it, const T *x, T *y, pc_index n_y, double scale)
{
    pc_index idx[PC_MAX_NDIM] = {0}, off[PC_ITER_OPS] = {0};
    const int inner = it->ndim - 1;
    const pc_index n = it->shape[inner], sx = it->stride[0][inner], sy = it->stride[1][inner];
    int empty = n_y == 0;

    for (pc_index o = 0; o < n_y; o++)
        y[o] = (T)0;
    for (int d = 0; d < it->ndim; d++)
        if (it->shape[d] == 0)
            empty = 1;                  /* nothing to add; y stays 0 (then scaled) */
    if (!empty) {
        do {
            const T *xr = x + off[0];
            T *yr = y + off[1];
            if (sy == 0)                /* the row is reduced whole: sum it in ACC */
                yr[0] += (T)SFX(row_sum)(xr, n, sx);
            else
                for (pc_index i = 0; i < n; i++)
                    yr[i * sy] += xr[i * sx];
        } while (pc_iter_next_row(it, idx, off));
    }
    if (scale != 1.0)
        for (pc_index o = 0; o < n_y; o++)
            y[o] = (T)(y[o] * scale);
}

/* dx += scale · dy, broadcast over the reduced axes                accumulates */
void
SFX(pc_sum_backward)(const pc_iter *it, const T *dy, T *dx, double scale)
{
    pc_index idx[PC_MAX_NDIM] = {0}, off[PC_ITER_OPS] = {0};
    const int inner = it->ndim - 1;
    const pc_index n = it->shape[inner], sx = it->stride[0][inner], sy = it->stride[1][inner];
    const T s = (T)scale;

    for (int d = 0; d < it->ndim; d++)
        if (it->shape[d] == 0)
            return;
    do {
        T *dxr = dx + off[0];
        const T *dyr = dy + off[1];
        if (sy == 0) {                  /* one dy for the whole row */
            const T g = s * dyr[0];
            for (pc_index i = 0; i < n; i++)
                dxr[i * sx] += g;
        }
        else
            for (pc_index i = 0; i < n; i++)
                dxr[i * sx] += s * dyr[i * sy];
    } while (pc_iter_next_row(it, idx, off));
}

/* max: y[o] = max x over the elements reduced into o, argmax[o] = where (first one)
 * Walking x in C order and replacing only on a strictly larger value (or the first
 * NaN) keeps the first maximal element.                              overwrites */
void
SFX(pc_max_forward)(const pc_iter *it, const T *x, T *y, pc_index *argmax, pc_index n_y)
{
    pc_index idx[PC_MAX_NDIM] = {0}, off[PC_ITER_OPS] = {0};
    const int inner = it->ndim - 1;
    const pc_index n = it->shape[inner], sx = it->stride[0][inner], sy = it->stride[1][inner];

    for (pc_index o = 0; o < n_y; o++)
        argmax[o] = -1;
    if (n_y == 0)
        return;
    do {
        if (sy == 0) {                  /* the row feeds one output: keep it in registers */
            const pc_index o = off[1];
            pc_index best_i = argmax[o] >= 0 ? argmax[o] : off[0];
            T best = argmax[o] >= 0 ? y[o] : x[off[0]];
            for (pc_index i = 0; i < n; i++) {
                const T v = x[off[0] + i * sx];
                if (v > best || (v != v && best == best)) {
                    best = v;
                    best_i = off[0] + i * sx;
                }
            }
            y[o] = best;
            argmax[o] = best_i;
            continue;
        }
        for (pc_index i = 0; i < n; i++) {
            const pc_index xi = off[0] + i * sx, o = off[1] + i * sy;
            const T v = x[xi];
            if (argmax[o] < 0 || v > y[o] || (v != v && y[o] == y[o])) {
                y[o] = v;
                argmax[o] = xi;
            }
        }
    } while (pc_iter_next_row(it, idx, off));
}

/* dx[argmax[o]] += dy[o]                                            accumulates */
void
SFX(pc_max_backward)(const pc_index *argmax, const T *dy, T *dx, pc_index n_y)
{
    for (pc_index o = 0; o < n_y; o++)
        dx[argmax[o]] += dy[o];
}
