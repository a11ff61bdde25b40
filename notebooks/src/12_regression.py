# %% [markdown]
# # 12 · Regression: boxes, landmarks and pose
#
# Some tasks answer with numbers, not classes: a bounding box $(c_x, c_y, w, h)$, the
# positions of facial landmarks $(x_1, y_1, \dots, x_M, y_M)$, the joints of a body. The
# network ends in a Dense layer **without activation** — one real number per coordinate —
# and the lecture's loss is half the squared error, summed over the coordinates:
#
# $$E = \frac{1}{m} \sum_{i=1}^{m} \sum_j \tfrac{1}{2} \left(s_{ij} - \hat s_{ij}\right)^2$$
#
# Each task has its field's metric: **IoU** for boxes; for points, **PCK@0.1** (the share
# of points within 10 % of the object's size of the truth) and the **mean point error** in
# pixels. All coordinates are fractions of the $32 \times 32$ image; the metrics use pixels.

# %%
import time

import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn import metrics
from pycnn.datasets import shapes
from pycnn.layers import Conv2D, Dense, Flatten, MaxPooling2D
from pycnn.models import Sequential
from pycnn.optimizers import Adam
from pycnn.viz import draw_boxes

SIZE = 32
EPOCHS = 12


def regressor(outputs):
    """The same small CNN for every task; only the number of outputs changes."""
    pycnn.set_seed(0)
    return Sequential([
        Conv2D(16, 3, padding="same", activation="relu", input_shape=(SIZE, SIZE, 1)),
        MaxPooling2D(2),
        Conv2D(32, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Conv2D(64, 3, padding="same", activation="relu"),
        MaxPooling2D(2),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(outputs),                         # no activation: real-valued coordinates
    ])


def train(x, y):
    model = regressor(y.shape[1])
    model.compile(optimizer=Adam(learning_rate=0.002), loss="squared_error")
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=32, epochs=EPOCHS, verbose=0)
    return model, history, time.perf_counter() - start


summary = {}

# %% [markdown]
# ## 1 · Box regression: where is the shape?
#
# One shape per image; the target is its box $(c_x, c_y, w, h)$.

# %%
(x_train, b_train), (x_test, b_test) = shapes.load_data(n_train=768, n_test=256, grid_size=2,
                                                        max_objects=1, target="boxes")
y_train, y_test = b_train[:, 0, 1:5], b_test[:, 0, 1:5]        # (c_x, c_y, w, h)
box_model, history, seconds = train(x_train, y_train)
box_pred = box_model.predict(x_test)
box_pred[:, 2:] = np.maximum(box_pred[:, 2:], 0)               # a size is never negative
ious = np.diag(metrics.iou(box_pred * SIZE, y_test * SIZE, box_format="cxcywh"))
summary["box regression"] = (f"mean IoU = {ious.mean():.3f}, IoU > 0.5 for "
                             f"{(ious > 0.5).mean():.0%}", seconds)
print(f"trained in {seconds:.1f} s; final loss {history.history['loss'][-1]:.5f}")
print(f"test IoU: mean {ious.mean():.3f}, median {np.median(ious):.3f}, "
      f"share above 0.5: {(ious > 0.5).mean():.1%}")

fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for i, ax in enumerate(axes):
    draw_boxes(x_test[i], y_test[i:i + 1], ax=ax, colors=["lime"])
    draw_boxes(x_test[i], box_pred[i:i + 1], ax=ax, colors=["red"])
    ax.set_title(f"IoU {ious[i]:.2f}", fontsize=8)
fig.suptitle("box regression: truth (green), prediction (red)", fontsize=9);

# %% [markdown]
# ## 2 · Landmarks: the three corners of a triangle
#
# Like the eyes, nose and mouth of a face, the corners are points in a fixed order (the
# top one first, then clockwise): six numbers $(x_0, y_0, x_1, y_1, x_2, y_2)$.

# %%
(x_train, y_train), (x_test, y_test) = shapes.load_landmarks(n_train=768, n_test=256)
lm_model, history, seconds = train(x_train, y_train)
lm_pred = lm_model.predict(x_test)
true_pts, pred_pts = y_test.reshape(-1, 3, 2) * SIZE, lm_pred.reshape(-1, 3, 2) * SIZE
lm_pck = metrics.pck(true_pts, pred_pts, threshold=0.1)
lm_err = metrics.mean_point_error(true_pts, pred_pts)
summary["landmarks"] = (f"PCK@0.1 = {lm_pck:.3f}, mean point error = {lm_err:.2f} px", seconds)
print(f"trained in {seconds:.1f} s; PCK@0.1 {lm_pck:.3f}; mean point error {lm_err:.2f} px "
      f"(PCK@0.2 {metrics.pck(true_pts, pred_pts, threshold=0.2):.3f})")

fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for i, ax in enumerate(axes):
    ax.imshow(x_test[i, ..., 0], cmap="gray")
    for pts, colour, marker in ((true_pts[i], "lime", "o"), (pred_pts[i], "red", "x")):
        ax.plot(pts[:, 0] - 0.5, pts[:, 1] - 0.5, marker, color=colour, ms=6, mew=2)
    for k, (px, py) in enumerate(true_pts[i]):
        ax.text(px + 0.8, py - 0.8, str(k), color="yellow", fontsize=8)
    ax.axis("off")
fig.suptitle("landmarks: truth (green o, numbered), prediction (red x)", fontsize=9);

# %% [markdown]
# ## 3 · Pose: the nine joints of a stick figure
#
# `shapes.JOINTS` names them; the target flattens the $(9, 2)$ positions to 18 numbers.
# PCK's reference length is each figure's size: the diagonal of its joints' bounding box.

# %%
(x_train, y_train), (x_test, y_test) = shapes.load_poses(n_train=768, n_test=256)
print("joints:", ", ".join(shapes.JOINTS))
pose_model, history, seconds = train(x_train, y_train.reshape(len(y_train), -1))
pose_pred = pose_model.predict(x_test).reshape(-1, len(shapes.JOINTS), 2) * SIZE
true_joints = y_test * SIZE
pose_pck = metrics.pck(true_joints, pose_pred, threshold=0.1)
pose_err = metrics.mean_point_error(true_joints, pose_pred)
summary["pose"] = (f"PCK@0.1 = {pose_pck:.3f}, mean point error = {pose_err:.2f} px", seconds)
print(f"trained in {seconds:.1f} s; PCK@0.1 {pose_pck:.3f}; mean point error {pose_err:.2f} px")
per_joint = np.hypot(*(pose_pred - true_joints).transpose(2, 0, 1)).mean(axis=0)
print("mean error per joint (px):",
      ", ".join(f"{j} {e:.2f}" for j, e in zip(shapes.JOINTS, per_joint)))

index = {name: k for k, name in enumerate(shapes.JOINTS)}
fig, axes = plt.subplots(1, 6, figsize=(12, 2.4))
for i, ax in enumerate(axes):
    ax.imshow(x_test[i, ..., 0], cmap="gray")
    for joints, colour in ((true_joints[i], "lime"), (pose_pred[i], "red")):
        for a, b in shapes.BONES:
            ax.plot(*(joints[[index[a], index[b]]] - 0.5).T, "-", color=colour, lw=1.5)
        ax.plot(*(joints - 0.5).T, "o", color=colour, ms=2.5)
    ax.axis("off")
fig.suptitle("pose: true skeleton (green), predicted skeleton (red)", fontsize=9);

# %% [markdown]
# ## Summary
#
# Each task: the same CNN, 12 epochs on 768 images, ½·squared error. The cell below
# prints this run's metrics and training times (on this course's 2-core machine, busy with
# other work: box mean IoU ≈ 0.84, landmarks PCK@0.1 ≈ 0.95 (1.1 px), pose PCK@0.1 ≈ 0.93
# (1.3 px), about 12 s each).

# %%
for task, (value, seconds) in summary.items():
    print(f"task: {task:>14}: {value}   training time = {seconds:.1f} s")
