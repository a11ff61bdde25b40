/* random_impl.h — template body, no include guard. Needs T, SFX(name).
 * Instantiated twice by random.c (float, double). Legend: see random.h. */

void
SFX(pc_fill_uniform)(pc_rng *rng, T *x, pc_index n, double low, double high)
{
    const double width = high - low;
    for (pc_index i = 0; i < n; i++)
        x[i] = (T)(low + width * pc_rng_uniform(rng));
}

void
SFX(pc_fill_truncated_normal)(pc_rng *rng, T *x, pc_index n, double stddev)
{
    for (pc_index i = 0; i < n; i++) {
        double z;
        do
            z = pc_rng_normal(rng);
        while (z < -2.0 || z > 2.0);
        x[i] = (T)(z * stddev);
    }
}

void
SFX(pc_fill_constant)(T *x, pc_index n, double value)
{
    for (pc_index i = 0; i < n; i++)
        x[i] = (T)value;
}

/* u < rate drops (the same rule as TensorFlow's dropout: keep when u ≥ rate) */
void
SFX(pc_dropout_mask)(pc_rng *rng, T *m, pc_index n, double rate)
{
    const T scale = (T)(1.0 / (1.0 - rate));
    for (pc_index i = 0; i < n; i++)
        m[i] = pc_rng_uniform(rng) < rate ? (T)0 : scale;
}

void
SFX(pc_dropout_forward)(const T *x, const T *m, T *y, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        y[i] = x[i] * m[i];
}

void
SFX(pc_dropout_backward)(const T *dy, const T *m, T *dx, pc_index n)
{
    for (pc_index i = 0; i < n; i++)
        dx[i] += dy[i] * m[i];
}
