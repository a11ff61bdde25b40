# %% [markdown]
# # 2 · Tensors
#
# Everything a network reads, computes and learns is a **tensor**: an array of numbers
# with a shape. A grey-scale image is a tensor of dimension 2 (height × width); a colour
# image has a third axis for the channels, $H \times W \times C$ with $C = 3$ (red, green,
# blue); a batch of images adds a fourth, $N \times H \times W \times C$ — the layout Keras
# and pycnn use (*channels last*).
#
# In this notebook: what an image is as numbers, tensors of dimension 1 and 2, the
# lecture's operations with its examples, broadcasting, and why images are hard.

# %%
import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn.datasets import digits
from pycnn.viz import image_grid

np.random.seed(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## An image is a tensor
#
# The handwritten digits that ship with scikit-learn are 8 × 8 grey-scale images
# (1,797 of them, 43 writers); `pycnn.datasets.digits` loads them like
# `keras.datasets`. Here is one digit as the numbers a network sees — each pixel an
# intensity from 0 (paper) to 16 (ink) — and as a picture.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data(scale=False)
digit = x_train[0]
print("label:", y_train[0], "  shape:", digit.shape, "  dtype:", digit.dtype)
print(digit)

# %%
fig, ax = plt.subplots(figsize=(2.5, 2.5))
ax.imshow(digit, cmap="gray_r")
ax.set_title(f"a {y_train[0]}, 8 × 8 pixels")
ax.axis("off");

# %% [markdown]
# As a pycnn tensor (a float32 copy of the same numbers). In Jupyter a small tensor
# renders as a matrix, like on the slides:

# %%
x = pycnn.tensor(digit)
x

# %% [markdown]
# A batch adds the first axis and channels the last: the network's input is
# $N \times H \times W \times C$.

# %%
batch = pycnn.tensor(x_train[:32, :, :, None])
print("batch shape (N, H, W, C):", batch.shape)

# %% [markdown]
# ## Tensors of dimension 1 and 2
#
# A vector $v \in \mathbb{R}^n$ has one index, $v_i$; a matrix $A \in \mathbb{R}^{m \times n}$
# has two, $A_{ij}$. In general a tensor's element is addressed by a multi-index
# $\alpha = (i_1, \dots, i_d)$.

# %%
v = pycnn.tensor([1, 2, 3])
A = pycnn.tensor([[1, 2], [3, 4]])
print("v:", v.shape, "ndim", v.ndim, "   A:", A.shape, "ndim", A.ndim, "  A[1, 0] =", A.numpy()[1, 0])

# %% [markdown]
# ## Element-wise operations
#
# An element-wise operation $\star$ acts on each multi-index separately:
#
# $$(A \star B)_\alpha = A_\alpha \star B_\alpha$$
#
# The lecture's sum:
#
# $$\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix} + \begin{bmatrix} 2 & 0 \\ 6 & 6 \end{bmatrix}
#  = \begin{bmatrix} 3 & 2 \\ 9 & 10 \end{bmatrix}$$

# %%
A = pycnn.tensor([[1, 2], [3, 4]], requires_grad=True)
B = pycnn.tensor([[2, 0], [6, 6]])
C = A + B
C

# %% [markdown]
# Each result remembers the op that made it and can show its arithmetic:

# %%
print(C.op)
C.explain()

# %% [markdown]
# A function applied element by element, e.g. the sigmoid
# $\sigma(x) = \dfrac{1}{1 + e^{-x}}$. The lecture's table:
#
# | $x$ | 0 | 1 | 2 | 3 |
# |---|---|---|---|---|
# | $\sigma(x)$ | 0.5000 | 0.7311 | 0.8808 | 0.9526 |

# %%
S = pycnn.sigmoid(pycnn.tensor([[0, 1], [2, 3]], requires_grad=True))
S

# %%
S.explain()

# %% [markdown]
# ## Flatten and concatenation
#
# **Flatten** reads the elements row by row into a vector (what a dense layer needs in
# front of it):
#
# $$\operatorname{flatten}\begin{bmatrix} 1 & 2 \\ 3 & 4 \end{bmatrix}
#   = \begin{bmatrix} 1 & 2 & 3 & 4 \end{bmatrix}$$

# %%
pycnn.flatten(pycnn.tensor([[1, 2], [3, 4]]))

# %% [markdown]
# The digit flattened is the 64-vector an MLP reads; `reshape` goes back:

# %%
flat = pycnn.flatten(x)
print(flat.shape, "→", flat.reshape(8, 8).shape)

# %% [markdown]
# **Concatenation** joins tensors along an existing axis. The lecture's two:
# $P = \begin{bmatrix} 1 & 2 & 3 \\ 4 & 5 & 6 \end{bmatrix}$ and
# $Q = \begin{bmatrix} 7 & 8 & 9 \\ 10 & 11 & 12 \end{bmatrix}$
# side by side (axis 1, a 2 × 6 matrix) and stacked (axis 0, a 4 × 3 matrix).

# %%
P = pycnn.tensor([[1, 2, 3], [4, 5, 6]])
Q = pycnn.tensor([[7, 8, 9], [10, 11, 12]])
side_by_side = pycnn.concat([P, Q], axis=1)
side_by_side

# %%
stacked = pycnn.concat([P, Q], axis=0)
stacked

# %% [markdown]
# ## Broadcasting
#
# When shapes differ, the smaller tensor is repeated along the missing or length-1
# axes (NumPy's rule, compared from the right): a row vector is added to every row,
# a column vector to every column. This is how a bias $b \in \mathbb{R}^n$ is added to
# every sample of a batch.

# %%
M = pycnn.tensor([[1, 2, 3], [4, 5, 6]])
row = pycnn.tensor([10, 20, 30])          # shape (3,)   → repeated over the 2 rows
col = pycnn.tensor([[100], [200]])        # shape (2, 1) → repeated over the 3 columns
print((M + row).numpy())
print((M + col).numpy())

# %% [markdown]
# The gradient of a broadcast operand sums over the axes it was repeated along — the
# bias of a layer collects the gradient of every sample:

# %%
b = pycnn.tensor([0.0, 0.0, 0.0], requires_grad=True)
(M + b).sum().backward()
b.grad

# %% [markdown]
# Shapes that do not fit raise an error that names them:

# %%
try:
    M + pycnn.tensor([1, 2])
except ValueError as e:
    print("ValueError:", e)

# %% [markdown]
# ## Why images are hard
#
# The same digit can produce very different tensors. A classifier has to map all of
# these to one label — they are the lecture's six difficulties, applied to a real digit
# with a few lines of NumPy:
#
# * **viewpoint** — the object is seen from another angle (here: a rotation);
# * **scale** — it is larger or smaller in the image;
# * **deformation** — it is bent or sheared;
# * **occlusion** — part of it is hidden;
# * **background clutter** — other marks compete with it;
# * **intra-class variation** — different writers write the same digit differently.

# %%
d = digit.astype(np.float32) / 16
rng = np.random.default_rng(0)


def shear(img, k):
    """Shift each row sideways in proportion to its height: a slanted digit."""
    out = np.zeros_like(img)
    for i, row in enumerate(img):                     # 8 rows: a loop is fine here
        s = int(round(k * (i - 3.5)))
        if s >= 0:
            out[i, s:] = row[:8 - s]
        else:
            out[i, :8 + s] = row[-s:]
    return out


def rescale(img, size):
    """Nearest-neighbour resize of the 8×8 image into an 8×8 canvas at a new size."""
    idx = (np.arange(size) * 8 / size).astype(int)
    small = img[np.ix_(idx, idx)]
    canvas = np.zeros_like(img)
    off = (8 - size) // 2
    canvas[off:off + size, off:off + size] = small
    return canvas


occluded = d.copy()
occluded[2:6, 4:8] = 0.6
clutter = np.clip(d + (rng.random((8, 8)) > 0.8) * rng.uniform(0.4, 1, (8, 8)), 0, 1)
same_label = x_train[y_train == y_train[0]][1:3].astype(np.float32) / 16
variants = [d, np.rot90(d), rescale(d, 5), shear(d, 0.5), occluded, clutter, *same_label]
titles = ["original", "viewpoint", "scale", "deformation", "occlusion", "clutter",
          "another writer", "and another"]
image_grid(np.stack(variants), titles=titles, ncols=8, cmap="gray_r");

# %% [markdown]
# Measured as tensors, these "same" images are far apart — the Euclidean distance
# $\lVert x - x' \rVert$ to the original is often as large as to a different digit:

# %%
other = x_train[y_train != y_train[0]][0].astype(np.float32) / 16
for title, img in zip(titles[1:], variants[1:]):
    print(f"{title:>15}: ‖x − x'‖ = {np.linalg.norm(img - d):.2f}")
print(f"{'another digit':>15}: ‖x − x'‖ = {np.linalg.norm(other - d):.2f}")
