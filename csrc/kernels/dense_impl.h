/* dense_impl.h — template body, no include guard. Needs T, ACC, SFX(name), EXP, TANH.
 * Instantiated twice by dense.c (float, double). Legend: see dense.h. */

/* sigmoid without overflow: only ever exponentiates a non-positive number */
static inline T
SFX(sigmoid_one)(T z)
{
    if (z >= 0)
        return (T)1 / ((T)1 + EXP(-z));
    T e = EXP(z);
    return e / ((T)1 + e);
}

/* y = act(y + b): one pass over y per row, the bias row stays in cache */
void
SFX(pc_bias_act_forward)(T *y, const T *b, pc_index M, pc_index N, int act)
{
    for (pc_index m = 0; m < M; m++) {
        T *row = y + m * N;
        if (b != NULL)
            for (pc_index j = 0; j < N; j++)
                row[j] += b[j];
        switch (act) {
        case PC_ACT_RELU:
            for (pc_index j = 0; j < N; j++)
                row[j] = row[j] < 0 ? (T)0 : row[j];     /* NaN stays NaN, as relu */
            break;
        case PC_ACT_SIGMOID:
            for (pc_index j = 0; j < N; j++)
                row[j] = SFX(sigmoid_one)(row[j]);
            break;
        case PC_ACT_TANH:
            for (pc_index j = 0; j < N; j++)
                row[j] = TANH(row[j]);
            break;
        default:
            break;
        }
    }
}

/* relu' = [y > 0] (the gradient at 0 is 0); sigmoid' = y (1 − y); tanh' = 1 − y² */
void
SFX(pc_act_backward)(const T *y, const T *dy, T *dz, pc_index n, int act)
{
    switch (act) {
    case PC_ACT_RELU:
        for (pc_index i = 0; i < n; i++) {
            T g = dy[i];            /* loaded unconditionally: the loop vectorizes */
            dz[i] = y[i] > 0 ? g : (T)0;
        }
        break;
    case PC_ACT_SIGMOID:
        for (pc_index i = 0; i < n; i++)
            dz[i] = dy[i] * y[i] * ((T)1 - y[i]);
        break;
    case PC_ACT_TANH:
        for (pc_index i = 0; i < n; i++)
            dz[i] = dy[i] * ((T)1 - y[i] * y[i]);
        break;
    default:
        for (pc_index i = 0; i < n; i++)
            dz[i] = dy[i];
        break;
    }
}

/* Column sums row by row (contiguous reads), in double for long batches */
void
SFX(pc_bias_backward)(const T *dz, T *db, pc_index M, pc_index N, double *acc)
{
    for (pc_index j = 0; j < N; j++)
        acc[j] = 0;
    for (pc_index m = 0; m < M; m++) {
        const T *row = dz + m * N;
        for (pc_index j = 0; j < N; j++)
            acc[j] += row[j];
    }
    for (pc_index j = 0; j < N; j++)
        db[j] += (T)acc[j];
}
