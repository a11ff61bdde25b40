/* shapes.c — see shapes.h. */
#include <math.h>

#include "shapes.h"

/* The pixel rows (or columns) whose centres may lie in [lo, hi], clipped to [0, n) */
static inline void
pixel_span(double lo, double hi, pc_index n, pc_index *first, pc_index *end)
{
    double a = floor(lo - 0.5), b = ceil(hi - 0.5) + 1;
    *first = a < 0 ? 0 : (a > (double)n ? n : (pc_index)a);
    *end = b < 0 ? 0 : (b > (double)n ? n : (pc_index)b);
}

static inline int
inside_shape(pc_index kind, double dx, double dy, double hw, double hh)
{
    if (kind == PC_SHAPE_RECTANGLE)
        return fabs(dx) <= hw && fabs(dy) <= hh;
    if (kind == PC_SHAPE_CIRCLE)
        return dx * dx + dy * dy <= hw * hw;
    return fabs(dy) <= hh && fabs(dx) <= hw * (dy + hh) / (2 * hh);
}

void
pc_shapes_draw(pc_index N, pc_index K, pc_index H, pc_index W, const unsigned char *present,
               const pc_index *label, const double *geom, double *image, unsigned char *mask)
{
    for (pc_index n = 0; n < N; n++)
        for (pc_index k = 0; k < K; k++) {
            const double *g = geom + (n * K + k) * 5;
            pc_index i0, i1, j0, j1, kind = label[n * K + k];
            double hw = g[2] / 2, hh = g[3] / 2;
            if (!present[n * K + k])
                continue;
            pixel_span(g[1] - hh, g[1] + hh, H, &i0, &i1);
            pixel_span(g[0] - hw, g[0] + hw, W, &j0, &j1);
            for (pc_index i = i0; i < i1; i++)
                for (pc_index j = j0; j < j1; j++)
                    if (inside_shape(kind, j + 0.5 - g[0], i + 0.5 - g[1], hw, hh)) {
                        image[(n * H + i) * W + j] = g[4];
                        mask[(n * H + i) * W + j] = (unsigned char)(kind + 1);
                    }
        }
}

/* the cross product (b − a) × (p − a): > 0 when p lies left of a → b */
static inline double
edge(double ax, double ay, double bx, double by, double px, double py)
{
    return (bx - ax) * (py - ay) - (by - ay) * (px - ax);
}

void
pc_triangles_draw(pc_index N, pc_index H, pc_index W, const double *tri, double *image,
                  unsigned char *mask)
{
    for (pc_index n = 0; n < N; n++) {
        const double *t = tri + n * 7;
        pc_index i0, i1, j0, j1;
        pixel_span(fmin(t[1], fmin(t[3], t[5])), fmax(t[1], fmax(t[3], t[5])), H, &i0, &i1);
        pixel_span(fmin(t[0], fmin(t[2], t[4])), fmax(t[0], fmax(t[2], t[4])), W, &j0, &j1);
        for (pc_index i = i0; i < i1; i++)
            for (pc_index j = j0; j < j1; j++) {
                double x = j + 0.5, y = i + 0.5;
                double e0 = edge(t[0], t[1], t[2], t[3], x, y);
                double e1 = edge(t[2], t[3], t[4], t[5], x, y);
                double e2 = edge(t[4], t[5], t[0], t[1], x, y);
                if ((e0 >= 0 && e1 >= 0 && e2 >= 0) || (e0 <= 0 && e1 <= 0 && e2 <= 0)) {
                    image[(n * H + i) * W + j] = t[6];
                    if (mask != NULL)
                        mask[(n * H + i) * W + j] = 1;
                }
            }
    }
}

/* squared distance from (px, py) to the segment a → b */
static inline double
segment_distance2(const double *s, double px, double py)
{
    double vx = s[2] - s[0], vy = s[3] - s[1], wx = px - s[0], wy = py - s[1];
    double len2 = vx * vx + vy * vy;
    double u = len2 > 0 ? (wx * vx + wy * vy) / len2 : 0;
    u = u < 0 ? 0 : (u > 1 ? 1 : u);
    double dx = wx - u * vx, dy = wy - u * vy;
    return dx * dx + dy * dy;
}

void
pc_segments_draw(pc_index N, pc_index S, pc_index H, pc_index W, const double *seg,
                 double *image)
{
    for (pc_index n = 0; n < N; n++)
        for (pc_index k = 0; k < S; k++) {
            const double *s = seg + (n * S + k) * 6;
            double r = s[4];
            pc_index i0, i1, j0, j1;
            pixel_span(fmin(s[1], s[3]) - r, fmax(s[1], s[3]) + r, H, &i0, &i1);
            pixel_span(fmin(s[0], s[2]) - r, fmax(s[0], s[2]) + r, W, &j0, &j1);
            for (pc_index i = i0; i < i1; i++)
                for (pc_index j = j0; j < j1; j++)
                    if (segment_distance2(s, j + 0.5, i + 0.5) <= r * r)
                        image[(n * H + i) * W + j] = s[5];
        }
}

void
pc_mask_border(pc_index N, pc_index H, pc_index W, pc_index border, unsigned char ignore,
               const unsigned char *mask, unsigned char *out)
{
    for (pc_index n = 0; n < N; n++)
        for (pc_index i = 0; i < H; i++)
            for (pc_index j = 0; j < W; j++) {
                const unsigned char *m = mask + n * H * W;
                unsigned char c = m[i * W + j];
                int mixed = 0;
                for (pc_index a = i - border; a <= i + border && !mixed; a++)
                    for (pc_index b = j - border; b <= j + border && !mixed; b++)
                        if (a >= 0 && a < H && b >= 0 && b < W && m[a * W + b] != c)
                            mixed = 1;
                out[(n * H + i) * W + j] = mixed ? ignore : c;
            }
}
