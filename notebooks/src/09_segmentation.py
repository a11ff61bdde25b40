# %% [markdown]
# # 9 · Semantic segmentation
#
# Segmentation labels **every pixel**: background, rectangle, circle or triangle. It is
# classification, done $H \cdot W$ times — the network outputs a probability vector per
# pixel, $N \times H \times W \times K$, and the loss is the cross-entropy of each pixel
# with its label, averaged over all pixels:
#
# $$E = \frac{1}{N H W} \sum_{n, i, j} -\ln p_{n,i,j}\left(y_{n,i,j}\right)$$
#
# A **fully convolutional** network has no dense layer, so its output keeps the image's
# layout: convolutions and a pooling step extract features, an up-sampling step brings
# them back to full resolution, and a final convolution with $K$ filters and a softmax
# classifies each pixel.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn import metrics
from pycnn.datasets import shapes
from pycnn.layers import Conv2D, MaxPooling2D, UpSampling2D
from pycnn.losses import SparseCategoricalCrossentropy
from pycnn.models import Sequential
from pycnn.optimizers import Adam
from pycnn.viz import image_grid

pycnn.set_seed(0)
np.random.seed(0)

# %% [markdown]
# ## The data: synthetic shapes with their masks, and a "don't care" border
#
# Where two classes meet, a pixel's label is a matter of a fraction of a pixel. Annotated
# data sets (PASCAL VOC, Cityscapes) mark such pixels "don't care" and leave them out of
# the loss. `ignore_border=1` labels every pixel next to another class `shapes.IGNORE`
# (255); the loss skips them with `ignore_index=255`. Each class has one fixed colour in
# every panel; "don't care" is white.

# %%
IGNORE = shapes.IGNORE
data = dict(n_train=256, n_test=64, image_size=24, grid_size=3, max_objects=3, target="mask")
(x_train, m_train), (x_test, m_test) = shapes.load_data(**data, ignore_border=1)
_, (_, m_test_all) = shapes.load_data(**data)                 # the same test images, every pixel
K = 1 + len(shapes.CLASSES)
NAMES = ("background",) + shapes.CLASSES
PALETTE = np.full((256, 3), 1.0)                              # 255, "don't care": white
PALETTE[:K] = [(0.1, 0.1, 0.1), (0.90, 0.25, 0.20), (0.20, 0.65, 0.30), (0.25, 0.45, 0.90)]


def colour(masks):
    """Class maps (N, H, W) → RGB images, one fixed colour per class."""
    return PALETTE[np.asarray(masks, dtype=np.intp)]


counted = m_train != IGNORE
print("images", x_train.shape, " masks", m_train.shape, " classes:", NAMES)
print("share of pixels per class:",
      np.round(np.bincount(m_train[counted].ravel(), minlength=K) / m_train.size, 3),
      f" don't care: {1 - counted.mean():.3f}")
image_grid(x_train[:6], titles=["image"] * 6, ncols=6)
image_grid(colour(m_train[:6]), titles=["mask"] * 6, ncols=6)
COLOUR_NAMES = ("black", "red", "green", "blue", "white")
print("colours: " + ", ".join(f"{n} {c}" for n, c in zip(NAMES + ("don't care",), COLOUR_NAMES)))

# %% [markdown]
# ## A small fully-convolutional network

# %%
pycnn.clear_session()
fcn = Sequential([
    Conv2D(16, 3, padding='same', activation='relu', input_shape=(24, 24, 1)),
    MaxPooling2D(2),
    Conv2D(32, 3, padding='same', activation='relu'),
    UpSampling2D(2),
    Conv2D(16, 3, padding='same', activation='relu'),
    Conv2D(K, 1, activation='softmax'),
])
fcn.summary()

# %% [markdown]
# ## Pixel-wise cross-entropy, pixel accuracy and mean IoU
#
# `sparse_categorical_crossentropy` takes the labels as they are, one integer per pixel:
# scores $(N, H, W, K)$ against labels $(N, H, W)$; `ignore_index` drops the "don't care"
# pixels from the mean. Pixel accuracy is dominated by the background; the field's metric
# is the **mean IoU**: per class $IoU_c = TP_c / (TP_c + FP_c + FN_c)$ over all pixels,
# then the mean over classes (Keras' `MeanIoU`; `sparse_y_pred=False` takes the arg-max of
# the scores).

# %%
def segmentation_metrics():
    return [metrics.PixelAccuracy(ignore_index=IGNORE),
            metrics.MeanIoU(K, ignore_class=IGNORE, sparse_y_pred=False)]


fcn.compile(optimizer=Adam(learning_rate=0.005),
            loss=SparseCategoricalCrossentropy(ignore_index=IGNORE), metrics=segmentation_metrics())
start = time.perf_counter()
history = fcn.fit(x_train, m_train, batch_size=16, epochs=15, verbose=2,
                  validation_split=0.125)   # held out from training, not the test set
fcn_seconds = time.perf_counter() - start

# %%
history.plot();

# %% [markdown]
# ## Predicted masks beside the truth
#
# The class of each pixel is the $\arg\max$ of its probabilities. As in PASCAL VOC, the
# "don't care" pixels count neither in training nor in the scores — the network never
# learned what to call them. Still, a good segmentation puts the boundary *inside* the
# border band in the right place, so we also score every pixel against the plain masks.

# %%
def evaluate(model):
    """Per-pixel classes; (pixel accuracy, mean IoU, per-class IoU) on the counted pixels
    (VOC) and on every pixel."""
    pred = model.predict(x_test).argmax(axis=-1)
    scores = {}
    for name, truth, ignore in (("counted", m_test, IGNORE), ("every pixel", m_test_all, None)):
        miou = metrics.MeanIoU(K, ignore_class=ignore)
        miou.update_state(truth, pred)
        scores[name] = (metrics.pixel_accuracy(truth, pred, ignore_index=ignore), miou.result(),
                        miou.result_per_class())
    return pred, scores


def report(name, scores):
    for which, (acc, miou, ious) in scores.items():
        print(f"{name} ({which}): pixel accuracy {acc:.3f}, mean IoU {miou:.3f}; IoU per class "
              + ", ".join(f"{n} {v:.3f}" for n, v in zip(NAMES, ious)))


fcn_pred, fcn_scores = evaluate(fcn)
report("FCN", fcn_scores)
image_grid(x_test[:6], titles=["image"] * 6, ncols=6)
image_grid(colour(np.concatenate([m_test[:6], fcn_pred[:6]])),
           titles=["truth"] * 6 + ["FCN"] * 6, ncols=6);

# %% [markdown]
# ## Summary
#
# The cell below prints this run's metrics and training time (on this course's 2-core
# machine: the FCN's mean IoU is about 0.97 on the counted pixels and 0.8 on every pixel,
# after about 10 s of training).

# %%
for name, scores, seconds in (("FCN", fcn_scores, fcn_seconds),):
    print(f"task: segmentation, {name}: mean IoU = {scores['counted'][1]:.3f} (counted pixels), "
          f"{scores['every pixel'][1]:.3f} (every pixel)   training time = {seconds:.1f} s")
