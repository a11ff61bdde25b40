/* shape_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by shape.c (float, double). Legend: see shape.h. */

/* out[i*so] = p0[i*s0]                                              overwrites */
void
SFX(pc_copy_rows)(pc_index n, const T *p0, pc_index s0, const T *p1, pc_index s1, const T *p2,
                  pc_index s2, T *out, pc_index so)
{
    (void)p1, (void)s1, (void)p2, (void)s2;
    for (pc_index i = 0; i < n; i++)
        out[i * so] = p0[i * s0];
}

/* y[a·ly + off + j] = x[a·lx + j]          x: (A, lx), y: (A, ly)   overwrites */
void
SFX(pc_block_copy)(const T *x, T *y, pc_index A, pc_index lx, pc_index ly, pc_index off)
{
    for (pc_index a = 0; a < A; a++) {
        const T *xr = x + a * lx;
        T *yr = y + a * ly + off;
        for (pc_index j = 0; j < lx; j++)
            yr[j] = xr[j];
    }
}

/* dx[a·lx + j] += dy[a·ly + off + j]                                accumulates */
void
SFX(pc_block_accumulate)(const T *dy, T *dx, pc_index A, pc_index lx, pc_index ly, pc_index off)
{
    for (pc_index a = 0; a < A; a++) {
        const T *dyr = dy + a * ly + off;
        T *dxr = dx + a * lx;
        for (pc_index j = 0; j < lx; j++)
            dxr[j] += dyr[j];
    }
}
