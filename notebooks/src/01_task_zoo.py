# %% [markdown]
# # 1 · Styles of learning and the task zoo
#
# A learning machine improves a function $f_\theta$ from data. *How* the data tells it
# what is right defines the **style of learning**; *what* $f_\theta$ outputs defines the
# **task**, and with it the shape of the network's output, the shape of the target and the
# **loss** $E$ that compares them. This notebook goes through both lists and, for every
# task, computes its loss with pycnn on tensors of the right shape.

# %%
import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn.datasets import digits, shapes
from pycnn.viz import draw_boxes, image_grid

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)
(x_train, y_train), _ = digits.load_data()

# %% [markdown]
# ## Styles of learning
#
# * **Supervised**: every example $x$ comes with its target $y$; learn $f_\theta(x) \approx y$
#   by minimising a loss $E(y, f_\theta(x))$. Everything else in this lecture is supervised.
# * **Unsupervised**: only the $x$; find structure — clusters, a low-dimensional
#   description, a density.
# * **Semi-supervised**: a few labelled examples and many unlabelled ones; the structure
#   of the unlabelled data helps spread the few labels.
# * **Reinforcement**: no targets at all; an agent acts, receives a *reward* now and then,
#   and learns which actions pay off.
#
# Supervised: images and their labels.

# %%
image_grid(x_train[:8], titles=[f"y = {y}" for y in y_train[:8]], ncols=8, cmap="gray_r");

# %% [markdown]
# Unsupervised: the same images *without* labels, grouped by 20 steps of k-means
# (k = 10) on their 64 pixels. The clusters find much of the digits' structure — each
# cluster's most common label covers most of it — without ever seeing a label.

# %%
X = x_train.reshape(len(x_train), -1)
centres = X[rng.choice(len(X), 10, replace=False)]
for _ in range(20):
    assign = ((X[:, None, :] - centres[None]) ** 2).sum(-1).argmin(1)
    centres = np.stack([X[assign == c].mean(0) if (assign == c).any() else centres[c]
                        for c in range(10)])
purity = sum(np.bincount(y_train[assign == c]).max() for c in range(10) if (assign == c).any())
print(f"share of images whose cluster's majority label is their own: {purity / len(X):.0%}")
image_grid(centres.reshape(10, 8, 8), titles=[f"cluster {c}" for c in range(10)], ncols=10,
           cmap="gray_r");

# %% [markdown]
# Semi-supervised: keep the label of only one image per cluster (10 labels for 1,437
# images) and give every image the label of its cluster's labelled image.

# %%
labelled = [np.flatnonzero(assign == c)[0] for c in range(10) if (assign == c).any()]
spread = {c: y_train[i] for c, i in zip(range(10), labelled)}
guess = np.array([spread.get(c, -1) for c in assign])
print(f"accuracy from {len(labelled)} labels spread over the clusters: "
      f"{(guess == y_train).mean():.0%}")

# %% [markdown]
# Reinforcement: a two-armed bandit. The agent does not know that arm 1 pays more; it
# tries, keeps an average reward per arm, and mostly pulls the best one so far
# (ε-greedy). No example ever tells it the right answer — only rewards do.

# %%
pay = [0.3, 0.7]
value, count = np.zeros(2), np.zeros(2)
for step in range(500):
    arm = int(rng.integers(2)) if rng.random() < 0.1 else int(value.argmax())
    reward = float(rng.random() < pay[arm])
    count[arm] += 1
    value[arm] += (reward - value[arm]) / count[arm]
print("estimated pay-off per arm:", value.round(2), " pulls:", count.astype(int))

# %% [markdown]
# ## The task zoo
#
# | task | network output | target | pycnn loss |
# |---|---|---|---|
# | multi-class classification | $N \times K$ probabilities (softmax) | $N \times K$ one-hot, or $N$ labels | `categorical_crossentropy`, `sparse_categorical_crossentropy` |
# | binary classification | $N \times 1$ probability (sigmoid) | $N \times 1$ in {0, 1} | `binary_crossentropy` |
# | multi-label classification | $N \times K$ probabilities (sigmoids) | $N \times K$ in {0, 1, ?} | `multilabel_crossentropy` |
# | regression: bounding box | $N \times 4$: $(c_x, c_y, w, h)$ | $N \times 4$ | `squared_error` |
# | regression: facial landmarks | $N \times 2M$: $(x_1, y_1, \dots, x_M, y_M)$ | $N \times 2M$ | `squared_error` |
# | regression: pose | $N \times 2J$ joint positions | $N \times 2J$ | `squared_error` |
# | semantic segmentation | $N \times H \times W \times K$ | $N \times H \times W$ labels | `sparse_categorical_crossentropy` (per pixel) |
# | detection (YOLO v1) | $N \times S \times S \times (5B + C)$ | $N \times S \times S \times (5 + C)$ | `yolo_loss` (notebook 6) |
#
# The cells below build an output and a target of each shape and compute the loss.

# %% [markdown]
# ### Classification
#
# $K$ classes; the network outputs a probability per class; the target is one-hot:
#
# $$E = -\sum_{k=1}^{K} y_k \ln p_k$$

# %%
N, K = 4, 10
y_pred = pycnn.softmax(pycnn.tensor(rng.normal(size=(N, K)), requires_grad=True))
labels = y_train[:N]
y_true = np.eye(K)[labels]
print("output", y_pred.shape, " target", y_true.shape, " labels", labels.shape)
loss = pycnn.losses.categorical_crossentropy(y_true, y_pred)
print("categorical:", round(loss.item(), 4),
      "  sparse (same numbers, labels instead of one-hot):",
      round(pycnn.losses.sparse_categorical_crossentropy(labels, y_pred).item(), 4))
loss.explain()

# %% [markdown]
# Binary (one probability: "is it a zero?") and multi-label (several independent yes/no
# questions; an unknown answer, the lecture's "?", is NaN and counts for nothing):

# %%
p_zero = pycnn.tensor([[0.7], [0.2]], requires_grad=True)
is_zero = np.array([[1.0], [0.0]])
pycnn.losses.binary_crossentropy(is_zero, p_zero).explain()

# %%
p_tags = pycnn.tensor([[0.9, 0.6, 0.5, 0.2]], requires_grad=True)
tags = np.array([[1.0, 1.0, np.nan, 0.0]])           # y = [1, 1, ?, 0]
pycnn.losses.multilabel_crossentropy(tags, p_tags).explain()

# %% [markdown]
# ### Regression: boxes, landmarks, pose
#
# The output is a vector of real numbers, compared with the lecture's squared error
#
# $$E = \frac{1}{m} \sum_{i=1}^{m} \sum_j \tfrac{1}{2} \left(s_j - \hat s_j\right)^2 .$$
#
# A bounding box is $(c_x, c_y, w, h)$: centre, width and height as fractions of the image.

# %%
(shape_images, targets), _ = shapes.load_data(n_train=4, n_test=1, target="all")
boxes = targets["boxes"][0]                                   # (class, c_x, c_y, w, h, present)
central = np.argmin(np.abs(boxes[:, 1:3] - 0.5).sum(axis=1) + 10 * (boxes[:, 5] == 0))
true_box = boxes[central, 1:5]                                # (c_x, c_y, w, h)
pred_box = true_box + np.array([0.04, -0.03, 0.06, 0.02], dtype=np.float32)
ax = draw_boxes(shape_images[0], np.stack([true_box, pred_box]))
ax.set_title("box: target (red), output (blue)", fontsize=8)
box_loss = pycnn.losses.squared_error(true_box[None], pycnn.tensor(pred_box[None], requires_grad=True))
box_loss.explain()

# %% [markdown]
# Facial landmarks ($M$ points, $2M$ numbers) and pose (one point per joint) are the same
# loss on longer vectors. Five landmarks — two eyes, the nose, two mouth corners — are
# $(x_1, y_1, \dots, x_5, y_5)$, ten numbers:

# %%
landmarks = np.array([[0.35, 0.40, 0.65, 0.40, 0.50, 0.55, 0.38, 0.72, 0.62, 0.72]])
predicted = pycnn.tensor(landmarks + rng.normal(scale=0.02, size=landmarks.shape),
                         requires_grad=True)
face_loss = pycnn.losses.squared_error(landmarks, predicted)
print("output", predicted.shape, " target", landmarks.shape,
      " squared error:", round(face_loss.item(), 5))

# %% [markdown]
# A stick figure with $J = 6$ joints:

# %%
joints = np.array([[0.5, 0.15], [0.5, 0.45], [0.3, 0.3], [0.7, 0.3], [0.35, 0.85], [0.65, 0.85]])
guess = joints + rng.normal(scale=0.03, size=joints.shape)
bones = [(0, 1), (1, 2), (1, 3), (1, 4), (1, 5)]
fig, ax = plt.subplots(figsize=(2.5, 2.5))
for pts, style in ((joints, "k-o"), (guess, "r--o")):
    for a, b in bones:
        ax.plot(*pts[[a, b]].T, style, ms=4)
ax.invert_yaxis()
ax.set_title("pose: target (black), output (red)", fontsize=8)
ax.axis("off")
pose_loss = pycnn.losses.squared_error(joints.reshape(1, -1),
                                       pycnn.tensor(guess.reshape(1, -1), requires_grad=True))
print("output", guess.reshape(1, -1).shape, " squared error:", round(pose_loss.item(), 5))

# %% [markdown]
# ### Semantic segmentation: classification of every pixel
#
# The output has a probability vector per pixel, $N \times H \times W \times K$; the
# target is a label per pixel, $N \times H \times W$; the loss is the cross-entropy
# averaged over all pixels.

# %%
masks = targets["mask"]                                       # 0 = background, 1..3 shapes
K = 1 + len(shapes.CLASSES)
scores = pycnn.tensor(rng.normal(size=masks.shape + (K,)), requires_grad=True)
seg_loss = pycnn.losses.sparse_categorical_crossentropy(masks, scores, from_logits=True)
print("output", scores.shape, " target", masks.shape, " loss", round(seg_loss.item(), 4),
      f"(≈ ln {K} = {np.log(K):.4f} for random scores)")
image_grid(shape_images[:4, ..., 0], titles=["image"] * 4, ncols=4)
# one fixed colour per class in every panel (vmin/vmax fixed: no per-panel scaling)
image_grid(masks[:4], titles=["mask"] * 4, ncols=4, cmap="viridis", vmin=0, vmax=K - 1)
print("mask colours, dark to light: background, " + ", ".join(shapes.CLASSES))
