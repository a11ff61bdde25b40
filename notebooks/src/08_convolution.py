# %% [markdown]
# # 8 · Convolution
#
# Classic vision describes an image by **features** — edges, corners, blobs — computed
# by small filters slid over it; a **descriptor** gathers them into a vector a classifier
# can use. A convolutional layer does the same, but *learns* its filters.
#
# For an input $x$ of size $H \times W \times C_{in}$ and a kernel $K$ of size
# $k_h \times k_w \times C_{in} \times C_{out}$, each output value is a weighted sum over one
# small window (cross-correlation, as in every framework):
#
# $$y_{i,j,o} = b_o + \sum_{u=0}^{k_h - 1} \sum_{v=0}^{k_w - 1} \sum_{c=0}^{C_{in}-1}
#     x_{i s + u,\ j s + v,\ c}\; K_{u, v, c, o}$$

# %%
import numpy as np

import pycnn
from pycnn.datasets import digits
from pycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from pycnn.models import Sequential
from pycnn.optimizers import Adam
from pycnn.viz import feature_maps, filter_grid, image_grid

pycnn.set_seed(0)
np.random.seed(0)
np.set_printoptions(precision=2, suppress=True)

# %% [markdown]
# ## Sobel kernels: edges as features
#
# The Sobel kernel responds to a change of intensity from left to right (a vertical
# edge); its transpose to a change from top to bottom (a horizontal edge):
#
# $$K_x = \begin{bmatrix} 1 & 0 & -1 \\ 2 & 0 & -2 \\ 1 & 0 & -1 \end{bmatrix}, \qquad
#   K_y = K_x^\top = \begin{bmatrix} 1 & 2 & 1 \\ 0 & 0 & 0 \\ -1 & -2 & -1 \end{bmatrix}$$

# %%
sobel_x, sobel_y = pycnn.filters.sobel_x(), pycnn.filters.sobel_y()
print(sobel_x, "\n\n", sobel_y)

# %% [markdown]
# On a real digit: the image as a batch of one, $1 \times 8 \times 8 \times 1$; both
# kernels together as a $3 \times 3 \times 1 \times 2$ kernel (Keras' layout), `'same'`
# padding so the feature maps keep the image's size.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x = x_train[:1, :, :, None]                                # (1, 8, 8, 1)
kernel = np.stack([sobel_x, sobel_y], axis=-1)[:, :, None, :]   # (3, 3, 1, 2)
maps = pycnn.conv2d(x, kernel, padding='same')
print("input", x.shape, "→ feature maps", maps.shape)
image_grid(x[:, :, :, 0], titles=[f"digit {y_train[0]}"], cmap="gray_r", size=2.2)
feature_maps(maps.numpy(), titles=["K_x: vertical edges", "K_y: horizontal edges"], cmap="RdBu_r",
             symmetric=True, size=2.2);

# %% [markdown]
# One value of the first feature map, with the $3 \times 3$ window of the digit it reads
# and the kernel's weights:

# %%
pycnn.explain(pycnn.conv2d, x, kernel, padding='same')

# %% [markdown]
# The strength of the edge at every pixel, $\sqrt{G_x^2 + G_y^2}$, is a simple descriptor
# of the digit's shape:

# %%
g = maps.numpy()[0]
magnitude = np.sqrt((g ** 2).sum(axis=-1))
image_grid(magnitude[None], titles=["edge magnitude"], cmap="magma", size=2.2);

# %% [markdown]
# ## Output size
#
# With input size $n$, kernel $k$, padding $p$ and stride $s$:
#
# $$n_{out} = \left\lfloor \frac{n + 2p - k}{s} \right\rfloor + 1$$

# %%
print(repr(pycnn.arithmetic.conv_output_size(28, 3)))
print(repr(pycnn.arithmetic.conv_output_size(28, 3, padding='same')))
print(repr(pycnn.arithmetic.conv_output_size(28, 3, stride=2)))

# %% [markdown]
# **Explore**: a kernel (Sobel presets, or your own values), stride, padding and
# dilation; the output size $\lfloor (H + 2P - D(K - 1) - 1)/S \rfloor + 1$ (with
# $D = 1$: $(H + 2P - K)/S + 1$) with its numbers, and the window of one output position
# slid over a digit.

# %%
from pycnn import explorers

explorers.convolution(preset="sobel_x", stride=1, padding=1)

# %% [markdown]
# ## Parameter sharing and sparsity of connections
#
# A convolution uses **the same** $k_h k_w C_{in}$ weights at every position
# (*parameter sharing*), and each output depends on only one $k_h \times k_w$ window
# (*sparse connections*). A dense layer producing the same output from the same input
# needs a weight for every input–output pair. For the lecture's first layer,
# `Conv2D(32, 3)` on a 28 × 28 × 1 image:

# %%
print(repr(pycnn.arithmetic.conv2d_params(3, 3, 1, 32)))
pycnn.arithmetic.compare_dense_conv(input_shape=(28, 28, 1), filters=32, kernel_size=3)

# %% [markdown]
# ## A small CNN on the digits
#
# Conv → pool → conv → pool → flatten → dense: the pools halve the resolution, the
# convolutions learn the features, the dense layer classifies the descriptor.

# %%
x_train4, x_test4 = x_train[..., None], x_test[..., None]
pycnn.clear_session()
cnn = Sequential([
    Conv2D(32, 3, padding='same', activation='relu', input_shape=(8, 8, 1)),
    MaxPooling2D(2),
    Conv2D(64, 3, padding='same', activation='relu'),
    MaxPooling2D(2),
    Flatten(),
    Dense(10, activation='softmax'),
])
cnn.summary(show_arithmetic=True)

# %%
cnn.compile(optimizer=Adam(learning_rate=0.003), loss='sparse_categorical_crossentropy',
            metrics=['accuracy'])
history = cnn.fit(x_train4, y_train, batch_size=32, epochs=12, verbose=2,
                  validation_split=0.1)   # held out from training, not the test set
loss, accuracy = cnn.evaluate(x_test4, y_test, verbose=0)
print(f"test accuracy {accuracy:.2%}")

# %%
history.plot();

# %% [markdown]
# ## What the first layer learned
#
# The 32 learned $3 \times 3$ filters (red positive, blue negative). Several look like
# the hand-made edge detectors above — oriented differences of neighbouring pixels.

# %%
learned = cnn.layers[0].get_weights()[0]              # (3, 3, 1, 32)
print("kernel shape", learned.shape)
filter_grid(learned, ncols=8);

# %% [markdown]
# And their feature maps on the digit from the start:

# %%
first = cnn.layers[0](x)
feature_maps(first.numpy(), ncols=8, size=1.1);

# %% [markdown]
# ## Learning the Sobel kernel
#
# Sobel's kernel was designed by hand. Can gradient descent find it? A single 3×3
# convolution, trained to reproduce Sobel-x's output on the digits, converges to it
# (press play in Jupyter to watch the weights move):

# %%
learner = explorers.learn_sobel(steps=150)
learner
