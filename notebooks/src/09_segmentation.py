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
import numpy as np

import pycnn
from pycnn.datasets import shapes
from pycnn.layers import Conv2D, MaxPooling2D, UpSampling2D
from pycnn.models import Sequential
from pycnn.optimizers import Adam
from pycnn.viz import image_grid

pycnn.set_seed(0)
np.random.seed(0)

# %% [markdown]
# ## The data: synthetic shapes with their masks

# %%
(x_train, m_train), (x_test, m_test) = shapes.load_data(n_train=256, n_test=32, image_size=16,
                                                        grid_size=2, max_objects=2,
                                                        target="mask")
K = 1 + len(shapes.CLASSES)
print("images", x_train.shape, " masks", m_train.shape, " classes:", ("background",) + shapes.CLASSES)
print("share of pixels per class:", np.bincount(m_train.ravel(), minlength=K) / m_train.size)
LABELS = dict(cmap="viridis", vmin=0, vmax=K - 1)        # one colour per class in every panel
image_grid(x_train[:6], titles=["image"] * 6, ncols=6)
image_grid(m_train[:6], titles=["mask"] * 6, ncols=6, **LABELS);
print("mask colours, dark to light: background, " + ", ".join(shapes.CLASSES))

# %% [markdown]
# ## A small fully-convolutional network

# %%
pycnn.clear_session()
fcn = Sequential([
    Conv2D(16, 3, padding='same', activation='relu', input_shape=(16, 16, 1)),
    MaxPooling2D(2),
    Conv2D(32, 3, padding='same', activation='relu'),
    UpSampling2D(2),
    Conv2D(16, 3, padding='same', activation='relu'),
    Conv2D(K, 1, activation='softmax'),
])
fcn.summary()

# %% [markdown]
# ## Pixel-wise cross-entropy
#
# `sparse_categorical_crossentropy` takes the labels as they are, one integer per pixel:
# scores $(N, H, W, K)$ against labels $(N, H, W)$.

# %%
fcn.compile(optimizer=Adam(learning_rate=0.005), loss='sparse_categorical_crossentropy',
            metrics=['accuracy'])
history = fcn.fit(x_train, m_train, batch_size=16, epochs=15, verbose=2,
                  validation_split=0.125)   # held out from training, not the test set

# %%
history.plot();

# %% [markdown]
# ## Predicted masks beside the truth
#
# The class of each pixel is the $\arg\max$ of its probabilities.

# %%
probs = fcn.predict(x_test[:6])
pred = probs.argmax(axis=-1)
pixel_accuracy = float((fcn.predict(x_test).argmax(-1) == m_test).mean())
print(f"pixel accuracy on the test images: {pixel_accuracy:.1%}")
image_grid(x_test[:6], titles=["image"] * 6, ncols=6)
image_grid(np.concatenate([m_test[:6], pred]), titles=["truth"] * 6 + ["prediction"] * 6, ncols=6,
           **LABELS);
