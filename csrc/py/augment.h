/* py/augment.h — what the augmentation layers share (py/augment.c, py/augment_crop.c):
 * their random stream, the image check and Keras' factor rules. */
#ifndef PC_PY_AUGMENT_H
#define PC_PY_AUGMENT_H

#include "py/layer.h"

/* The common part: a seeded layer draws from its own stream (as Keras' SeedGenerator),
 * else from pycnn.set_seed's generator */
typedef struct {
    LayerObject base;
    int seeded;
    pc_rng rng;
} AugmentObject;

/* base.objs[] slot holding the seed as given (for get_config) */
#define PC_AUGMENT_OBJ_SEED 3

/* seed: None or an int; keeps it and seeds the own stream. 0 or -1. */
int pc_augment_seed(AugmentObject *self, PyObject *seed, const char *who);
/* the generator this layer draws from (borrowed) */
pc_rng *pc_augment_rng(AugmentObject *self);
/* U(low, high) from it */
double pc_augment_uniform(AugmentObject *self, double low, double high);

/* call(inputs, training=...) parsed; *x = the input as a Tensor in the layer's dtype
 * (new ref), checked to be (N, H, W, C) with pixels and channels; *training set. 0/-1 */
int pc_augment_input(AugmentObject *self, PyObject *args, PyObject *kwargs, PyObject **x,
                     int *training);

/* Keras' factor: a number f (→ (−|f|, |f|), the lower end at least `floor`) or a pair
 * (sorted); every end within [min, max] (min_open: −1 itself refused, RandomZoom).
 * ValueError names the layer and the argument. 0 or -1. */
int pc_augment_factor(PyObject *factor, const char *who, const char *arg, double min,
                      double max, int min_open, double floor, double out[2]);

/* data_format=None or 'channels_last' */
#define pc_augment_data_format pc_check_channels_last

#endif
