/* yolo_impl.h — template body, no include guard. Needs T, ACC, SFX(name), SQRT.
 * Instantiated twice by yolo.c (float, double). Legend and the loss: see yolo.h. */

static inline T
SFX(pc_yolo_pos)(T v)
{
    return v > 0 ? v : (T)0;
}

/* IoU of two boxes given as centre and size in image coordinates; 0 when the union is
 * empty (two boxes of size 0) */
static inline T
SFX(pc_yolo_iou)(T ax, T ay, T aw, T ah, T bx, T by, T bw, T bh)
{
    T left = ax - aw / 2 > bx - bw / 2 ? ax - aw / 2 : bx - bw / 2;
    T right = ax + aw / 2 < bx + bw / 2 ? ax + aw / 2 : bx + bw / 2;
    T top = ay - ah / 2 > by - bh / 2 ? ay - ah / 2 : by - bh / 2;
    T bottom = ay + ah / 2 < by + bh / 2 ? ay + ah / 2 : by + bh / 2;
    T inter = SFX(pc_yolo_pos)(right - left) * SFX(pc_yolo_pos)(bottom - top);
    T uni = aw * ah + bw * bh - inter;
    return uni > 0 ? inter / uni : (T)0;
}

/* The responsible predictor of the object cell (row, col): the box with the highest IoU
 * with the true box t, ties → lowest j. pred, t: that cell's rows. */
static inline pc_index
SFX(pc_yolo_responsible)(const T *pred, const T *t, pc_index row, pc_index col,
                         const pc_yolo_dims *d)
{
    T S = (T)d->S, best_iou = -1;
    T tx = (col + t[0]) / S, ty = (row + t[1]) / S;
    pc_index best = 0;
    for (pc_index j = 0; j < d->B; j++) {
        const T *b = pred + j * 5;
        T iou = SFX(pc_yolo_iou)((col + b[0]) / S, (row + b[1]) / S, SFX(pc_yolo_pos)(b[2]),
                                 SFX(pc_yolo_pos)(b[3]), tx, ty, t[2], t[3]);
        if (iou > best_iou) {
            best_iou = iou;
            best = j;
        }
    }
    return best;
}

/* parts[n, 0..4] = coord_xy, coord_wh, obj, noobj, cls of image n     overwrites parts */
void
SFX(pc_yolo_forward)(const T *pred, const T *truth, T *parts, const pc_yolo_dims *d)
{
    const pc_index P = d->B * 5 + d->C, Q = 5 + d->C;
    const T lc = (T)d->lambda_coord, ln = (T)d->lambda_noobj, eps = (T)d->eps;
    for (pc_index n = 0; n < d->N; n++) {
        ACC xy = 0, wh = 0, obj = 0, noobj = 0, cls = 0;
        for (pc_index cell = 0; cell < d->S * d->S; cell++) {
            const T *p = pred + (n * d->S * d->S + cell) * P;
            const T *t = truth + (n * d->S * d->S + cell) * Q;
            pc_index r = -1;                    /* no responsible box in a no-object cell */
            if (t[4] > (T)0.5) {
                r = SFX(pc_yolo_responsible)(p, t, cell / d->S, cell % d->S, d);
                const T *b = p + r * 5;
                T dw = SQRT(SFX(pc_yolo_pos)(t[2]) + eps) - SQRT(SFX(pc_yolo_pos)(b[2]) + eps);
                T dh = SQRT(SFX(pc_yolo_pos)(t[3]) + eps) - SQRT(SFX(pc_yolo_pos)(b[3]) + eps);
                xy += lc * ((t[0] - b[0]) * (t[0] - b[0]) + (t[1] - b[1]) * (t[1] - b[1]));
                wh += lc * (dw * dw + dh * dh);
                obj += (b[4] - 1) * (b[4] - 1);
                for (pc_index c = 0; c < d->C; c++) {
                    T dc = t[5 + c] - p[d->B * 5 + c];
                    cls += dc * dc;
                }
            }
            for (pc_index j = 0; j < d->B; j++)
                if (j != r)
                    noobj += ln * p[j * 5 + 4] * p[j * 5 + 4];
        }
        T *out = parts + n * PC_YOLO_PARTS;
        out[0] = (T)xy, out[1] = (T)wh, out[2] = (T)obj, out[3] = (T)noobj, out[4] = (T)cls;
    }
}

/* dpred += G_n ∂(Σ of the terms in `mask`)/∂pred with G_n = g[n·gs] · scale; bit t of
 * mask selects part t (1 coord_xy, 2 coord_wh, 4 obj, 8 noobj, 16 cls). The choice of
 * the responsible box is a constant (a max's winner), as in every YOLO.   accumulates */
void
SFX(pc_yolo_backward)(const T *pred, const T *truth, const T *g, pc_index gs, T scale,
                      int mask, T *dpred, const pc_yolo_dims *d)
{
    const pc_index P = d->B * 5 + d->C, Q = 5 + d->C;
    const T lc = (T)d->lambda_coord, ln = (T)d->lambda_noobj, eps = (T)d->eps;
    for (pc_index n = 0; n < d->N; n++) {
        T G = g[n * gs] * scale;
        for (pc_index cell = 0; cell < d->S * d->S; cell++) {
            const T *p = pred + (n * d->S * d->S + cell) * P;
            const T *t = truth + (n * d->S * d->S + cell) * Q;
            T *dp = dpred + (n * d->S * d->S + cell) * P;
            pc_index r = -1;
            if (t[4] > (T)0.5) {
                r = SFX(pc_yolo_responsible)(p, t, cell / d->S, cell % d->S, d);
                const T *b = p + r * 5;
                T *db = dp + r * 5;
                if (mask & 1) {
                    db[0] += G * lc * 2 * (b[0] - t[0]);
                    db[1] += G * lc * 2 * (b[1] - t[1]);
                }
                for (int a = 2; (mask & 2) && a < 4; a++) {     /* w, then h */
                    T root = SQRT(SFX(pc_yolo_pos)(b[a]) + eps);
                    T diff = root - SQRT(SFX(pc_yolo_pos)(t[a]) + eps);
                    if (b[a] > 0)                   /* the clamp at 0 passes no gradient */
                        db[a] += G * lc * 2 * diff / (2 * root);
                }
                if (mask & 4)
                    db[4] += G * 2 * (b[4] - 1);
                for (pc_index c = 0; (mask & 16) && c < d->C; c++)
                    dp[d->B * 5 + c] += G * 2 * (p[d->B * 5 + c] - t[5 + c]);
            }
            for (pc_index j = 0; (mask & 8) && j < d->B; j++)
                if (j != r)
                    dp[j * 5 + 4] += G * ln * 2 * p[j * 5 + 4];
        }
    }
}

/* per[n] = Σ of the parts of image n selected by mask (bits as in pc_yolo_backward)
 * parts: (N, 5), per: (N,)     overwrites per */
void
SFX(pc_yolo_select)(const T *parts, pc_index N, int mask, T *per)
{
    for (pc_index n = 0; n < N; n++) {
        ACC s = 0;
        for (int t = 0; t < PC_YOLO_PARTS; t++)
            if (mask & (1 << t))
                s += parts[n * PC_YOLO_PARTS + t];
        per[n] = (T)s;
    }
}
