/* shapes.h — the pixel loops of pycnn.datasets.shapes: filled shapes, triangles given by
 * their vertices, thick line segments (stick figures), and the "don't care" border of a
 * class mask. Pure C, double only: the generator draws its geometry in float64 and
 * casts the finished images to float32 once.
 *
 * Legend: N images of H × W pixels, K object slots per image. Pixel (i, j) has its
 * centre at (x, y) = (j + 0.5, i + 0.5). Each kernel visits only the pixels of each
 * object's bounding box, so drawing costs the objects' area, not N·H·W per object.
 * A later object paints over an earlier one.
 */
#ifndef PC_SHAPES_H
#define PC_SHAPES_H

#include "pc_types.h"

enum { PC_SHAPE_RECTANGLE = 0, PC_SHAPE_CIRCLE = 1, PC_SHAPE_TRIANGLE = 2 };

/* Filled axis-aligned shapes. Object (n, k) with present[n, k] != 0 has kind label[n, k]
 * and geometry geom[n, k, :] = (cx, cy, w, h, brightness):
 *   rectangle  |dx| <= w/2 and |dy| <= h/2
 *   circle     dx² + dy² <= (w/2)²
 *   triangle   apex at the top: |dy| <= h/2 and |dx| <= (w/2)·(dy + h/2)/h
 * with (dx, dy) the pixel centre minus (cx, cy). Inside: image = brightness, mask =
 * label + 1.   present, label: (N, K); geom: (N, K, 5); image, mask: (N, H, W) overwritten
 * where an object lies (the caller zeroes them first). */
void pc_shapes_draw(pc_index N, pc_index K, pc_index H, pc_index W, const unsigned char *present,
                    const pc_index *label, const double *geom, double *image,
                    unsigned char *mask);

/* Filled triangles given by vertices: tri[n, :] = (x0, y0, x1, y1, x2, y2, brightness);
 * a pixel is inside when its centre lies on the inner side of all three edges (either
 * winding). image: (N, H, W), mask (N, H, W) gets 1 inside (mask may be NULL). */
void pc_triangles_draw(pc_index N, pc_index H, pc_index W, const double *tri, double *image,
                       unsigned char *mask);

/* Thick segments ("capsules"): seg[n, s, :] = (x0, y0, x1, y1, radius, brightness) for
 * S segments per image; a pixel is inside when its centre is within radius of the
 * segment (a segment of length 0 is a disc).       seg: (N, S, 6); image: (N, H, W) */
void pc_segments_draw(pc_index N, pc_index S, pc_index H, pc_index W, const double *seg,
                      double *image);

/* out[n, i, j] = ignore where a pixel within `border` pixels (a (2·border + 1)² window,
 * clipped at the image edge) has another class than mask[n, i, j]; else mask[n, i, j].
 * The pixels around every boundary between two classes become "don't care".
 * mask, out: (N, H, W), distinct buffers; overwrites out. */
void pc_mask_border(pc_index N, pc_index H, pc_index W, pc_index border, unsigned char ignore,
                    const unsigned char *mask, unsigned char *out);

#endif
