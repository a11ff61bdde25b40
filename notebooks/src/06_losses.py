# %% [markdown]
# # 6 · Losses
#
# The loss $E$ turns "how wrong is the network" into one number that Backward can
# differentiate. Regression compares numbers with a squared error; classification
# compares probabilities with a cross-entropy, which comes straight from the likelihood;
# detection (YOLO) sums five such terms.

# %%
import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn.datasets import shapes
from pycnn.viz import draw_boxes

rng = np.random.default_rng(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## Squared error: boxes, landmarks, pose
#
# For an output vector $\hat s$ (a box $(c_x, c_y, w, h)$, $M$ landmarks
# $(x_1, y_1, \dots, x_M, y_M)$, or $J$ joints) and its target $s$, over $m$ samples:
#
# $$E = \frac{1}{m} \sum_{i=1}^{m} \sum_{j} \tfrac{1}{2} \left(s_{ij} - \hat s_{ij}\right)^2
# \qquad \text{(the lecture's; } \tfrac12 \text{ makes the gradient } \hat s - s\text{)}$$
#
# Keras' `mean_squared_error` averages over the outputs instead of halving their sum:
#
# $$E_{\text{MSE}} = \frac{1}{m} \sum_{i=1}^{m} \frac{1}{n} \sum_{j=1}^{n} \left(s_{ij} - \hat s_{ij}\right)^2$$

# %%
s = np.array([[0.50, 0.40, 0.30, 0.20], [0.25, 0.75, 0.10, 0.10]])        # two boxes
s_hat = pycnn.tensor([[0.52, 0.37, 0.35, 0.20], [0.20, 0.70, 0.12, 0.08]], dtype="float64",
                     requires_grad=True)
E = pycnn.losses.squared_error(s, s_hat)
E.explain()

# %%
by_hand = (0.5 * (s - s_hat.numpy()) ** 2).sum(axis=1).mean()
print("by hand:", round(by_hand, 6), "  pycnn:", round(E.item(), 6))
E.backward()
print("gradient (ŝ − s)/m:\n", s_hat.grad.numpy(), "\n", (s_hat.numpy() - s) / 2)

# %%
pycnn.losses.mean_squared_error(s, s_hat).explain()

# %% [markdown]
# ## Categorical cross-entropy, from the likelihood
#
# A classifier outputs $p = (p_1, \dots, p_K)$, its belief that the image is of class
# $k$. The truth is one class $j$, written **one-hot**: $y_k = 1$ for $k = j$, else 0.
#
# **1. Likelihood.** The probability the network gives to what really happened is
# $p_j$, which one formula writes for any one-hot $y$:
#
# $$p_j = \prod_{k=1}^{K} p_k^{\,y_k} \qquad (p^0 = 1,\ p^1 = p)$$
#
# **2. Log.** A product over a data set is awkward to differentiate and underflows; the
# logarithm makes it a sum and keeps the maximum in the same place:
#
# $$\ln p_j = \sum_{k=1}^{K} y_k \ln p_k$$
#
# **3. Sign.** We maximise the likelihood, i.e. *minimise* its negative:
#
# $$E = -\sum_{k=1}^{K} y_k \ln p_k$$
#
# With the lecture's numbers, $y = [0, 1, 0]$ and $p = [0.3, 0.6, 0.1]$:

# %%
y = np.array([0.0, 1.0, 0.0])
p = np.array([0.3, 0.6, 0.1])
likelihood = np.prod(p ** y)
print(f"1. likelihood  Π p_k^y_k = 0.3^0 · 0.6^1 · 0.1^0 = {likelihood}")
print(f"2. log         Σ y_k ln p_k = ln 0.6 = {np.log(likelihood):.4f}")
print(f"3. sign        E = −ln 0.6 = {-np.log(likelihood):.4f}")

# %%
p_t = pycnn.tensor([p], requires_grad=True)
E = pycnn.losses.categorical_crossentropy([y], p_t)
E.explain()

# %% [markdown]
# Over a data set of $m$ independent examples the likelihood is the product of the
# $p_{j_i}$, so the loss is the *mean* of the per-example cross-entropies. A confident
# wrong answer costs a lot; a confident right one almost nothing:

# %%
for probs in ([0.3, 0.6, 0.1], [0.05, 0.9, 0.05], [0.8, 0.1, 0.1], [0.001, 0.998, 0.001]):
    print(f"p = {probs}:  E = −ln {probs[1]} = {-np.log(probs[1]):.4f}")

# %% [markdown]
# **Explore**: drag $p$ and watch $-\ln p$, the loss and its gradient (pycnn's loss and
# backward, in C). Without a kernel, `explorers.cross_entropy(p=0.3)` prints the same
# numbers.

# %%
from pycnn import explorers

explorers.cross_entropy(p=0.6)

# %% [markdown]
# ## Three kinds of classification
#
# | kind | output layer | loss |
# |---|---|---|
# | binary | one sigmoid unit, $p = \sigma(z)$ | `binary_crossentropy` |
# | multi-class | softmax over $K$ classes | `categorical_crossentropy` |
# | multi-label | $K$ independent sigmoids | `multilabel_crossentropy` |
#
# with, per example,
#
# $$\text{binary:}\quad E = -y \ln p - (1 - y) \ln (1 - p)$$
#
# $$\text{multi-class:}\quad E = -\sum_k y_k \ln p_k$$
#
# $$\text{multi-label:}\quad E = \sum_{k \text{ known}} \left[-y_k \ln p_k - (1 - y_k)
# \ln(1 - p_k)\right] \quad (\text{unknown labels, “?”, left out})$$
#
# **Binary**, $y = 1$, $p = 0.7$:

# %%
E = pycnn.losses.binary_crossentropy([[1.0]], pycnn.tensor([[0.7]], requires_grad=True))
print("by hand:", round(-1 * np.log(0.7) - 0 * np.log(0.3), 4), "  pycnn:", round(E.item(), 4))
E.explain()

# %% [markdown]
# **Multi-class**, by hand and by pycnn, for a batch of three:

# %%
P = np.array([[0.3, 0.6, 0.1], [0.7, 0.2, 0.1], [0.2, 0.2, 0.6]])
Y = np.eye(3)[[1, 0, 2]]
E = pycnn.losses.categorical_crossentropy(Y, pycnn.tensor(P, requires_grad=True))
print("by hand:", round(float(-(Y * np.log(P)).sum(axis=1).mean()), 4), "  pycnn:", round(E.item(), 4))
E.explain()

# %% [markdown]
# **Multi-label** with the lecture's "?" — $y = [1, 1, ?, 0]$: the image shows a cat and
# a dog, nobody said whether there is a bird, and there is no car. The unknown label is
# NaN and contributes nothing, neither to the loss nor to the gradient.

# %%
y_ml = np.array([[1.0, 1.0, np.nan, 0.0]])
p_ml = pycnn.tensor([[0.9, 0.6, 0.5, 0.2]], dtype="float64", requires_grad=True)
E = pycnn.losses.multilabel_crossentropy(y_ml, p_ml)
known = ~np.isnan(y_ml)
terms = -(y_ml * np.log(p_ml.numpy()) + (1 - y_ml) * np.log(1 - p_ml.numpy()))
print("by hand:", round(float(terms[known].sum()), 4), "  pycnn:", round(E.item(), 4))
E.backward()
print("gradient:", p_ml.grad.numpy(), " (the ? gets exactly 0)")
E.explain()

# %% [markdown]
# **Explore**: four labels, each known (0 or 1) or unknown ("?"): an unknown label adds
# nothing to the loss and gets no gradient.

# %%
explorers.multilabel()

# %% [markdown]
# ## YOLO v1
#
# YOLO divides the image into an $S \times S$ grid. Each cell predicts $B$ boxes
# $(x, y, w, h, C)$ — centre inside the cell, size relative to the image, confidence —
# and $C$ class probabilities. The cell that holds an object's centre is *responsible*
# for it ($\mathbb{1}^{obj}_i$), and within it the box with the highest IoU with the
# truth ($\mathbb{1}^{obj}_{ij}$). The loss has five terms:
#
# $$\begin{aligned}
# E = {} & \lambda_{coord} \sum_{i=0}^{S^2} \sum_{j=0}^{B} \mathbb{1}^{obj}_{ij}
#          \left[(x_i - \hat x_i)^2 + (y_i - \hat y_i)^2\right] \\
#   & + \lambda_{coord} \sum_{i=0}^{S^2} \sum_{j=0}^{B} \mathbb{1}^{obj}_{ij}
#          \left[\left(\sqrt{w_i} - \sqrt{\hat w_i}\right)^2 + \left(\sqrt{h_i} - \sqrt{\hat h_i}\right)^2\right] \\
#   & + \sum_{i=0}^{S^2} \sum_{j=0}^{B} \mathbb{1}^{obj}_{ij} \left(C_i - \hat C_i\right)^2
#     + \lambda_{noobj} \sum_{i=0}^{S^2} \sum_{j=0}^{B} \mathbb{1}^{noobj}_{ij} \left(C_i - \hat C_i\right)^2 \\
#   & + \sum_{i=0}^{S^2} \mathbb{1}^{obj}_i \sum_{c \in \text{classes}} \left(p_i(c) - \hat p_i(c)\right)^2
# \end{aligned}$$
#
# with $\lambda_{coord} = 5$ and $\lambda_{noobj} = 0.5$. The square roots make an error of
# a few pixels count more on a small box than on a large one.
#
# A synthetic image from `pycnn.datasets.shapes` ($S = 4$, $C = 3$ classes) and a made-up
# prediction with $B = 2$ boxes per cell: near the truth for box 0, a weaker guess for box 1.

# %%
S, B, C = 4, 2, len(shapes.CLASSES)
(images, target), _ = shapes.load_data(n_train=1, n_test=1, grid_size=S, seed=3)
truth = target[0]                                     # (S, S, 5 + C)
pred = np.zeros((S, S, 5 * B + C), dtype=np.float32)
obj = truth[..., 4] == 1
pred[..., 0:4] = np.where(obj[..., None], truth[..., 0:4] + rng.normal(0, 0.05, (S, S, 4)), 0.5)
pred[..., 0:4] = np.clip(pred[..., 0:4], 0.01, 1)
pred[..., 4] = np.where(obj, 0.8, 0.1)                # confidence of box 0
pred[..., 5:9] = rng.uniform(0.1, 0.6, (S, S, 4))     # box 1: a weak guess
pred[..., 9] = 0.2
pred[..., 10:] = np.where(obj[..., None], 0.8 * truth[..., 5:] + 0.1, 1 / C)

y_pred = pycnn.tensor(pred[None], requires_grad=True)
E, parts = pycnn.losses.yolo_loss(truth[None], y_pred, S=S, B=B, C=C, return_parts=True)
for name, value in parts.items():
    print(f"{name:>9}: {float(value):.4f}")
print(f"    total: {E.item():.4f}")

# %%
E.explain()

# %% [markdown]
# The boxes, converted from cell coordinates to the image: centre
# $((\text{col} + x)/S,\ (\text{row} + y)/S)$, size $(w, h)$.

# %%
def to_image(boxes, rows, cols):
    return np.stack([(cols + boxes[:, 0]) / S, (rows + boxes[:, 1]) / S, boxes[:, 2], boxes[:, 3]], 1)


rows, cols = np.nonzero(obj)
true_boxes = to_image(truth[rows, cols, :4], rows, cols)
pred_boxes = to_image(pred[rows, cols, :4], rows, cols)
names = [shapes.CLASSES[k] for k in truth[rows, cols, 5:].argmax(1)]
fig, axes = plt.subplots(1, 2, figsize=(10, 5))
draw_boxes(images[0], true_boxes, labels=names, ax=axes[0])
draw_boxes(images[0], pred_boxes, labels=[f"{c:.1f}" for c in pred[rows, cols, 4]], ax=axes[1],
           colors=["tab:orange"])
for ax, title in zip(axes, ["truth", "prediction (box 0, confidence)"]):
    ax.set_title(title, fontsize=11)
    for k in range(1, S):
        ax.axhline(k * images.shape[1] / S - 0.5, color="w", lw=0.5)
        ax.axvline(k * images.shape[2] / S - 0.5, color="w", lw=0.5)

# %% [markdown]
# Backward gives a gradient for every one of the $S \cdot S \cdot (5B + C)$ outputs;
# `gradcheck` confirms it against finite differences on this very example:

# %%
E.backward()
print("gradient shape:", y_pred.grad.shape, " largest |gradient|:", float(np.abs(y_pred.grad.numpy()).max()))
pycnn.gradcheck(lambda p: pycnn.losses.yolo_loss(truth[None].astype(np.float64), p, S=S, B=B, C=C),
                [pred[None].astype(np.float64)])

# %% [markdown]
# **Explore**: move and resize box 1 — its IoU with the truth decides which predictor
# is responsible, and the five terms follow.

# %%
explorers.yolo()
