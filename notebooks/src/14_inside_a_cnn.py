# %% [markdown]
# # 14 · Inside a trained CNN
#
# A trained network is not a black box: every layer's output can be looked at, its
# filters drawn, and the gradient of a class score tells which pixels mattered. This
# notebook opens up a small CNN trained on the 8×8 digits.

# %%
import numpy as np

import pycnn
from pycnn import layers as L
from pycnn import viz
from pycnn.datasets import digits

pycnn.set_seed(0)
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train, x_test = x_train[..., None], x_test[..., None]

# %% [markdown]
# ## The model, its graph and its cost

# %%
model = pycnn.models.Sequential([
    L.Conv2D(8, 3, activation="relu", padding="same", input_shape=(8, 8, 1)),
    L.MaxPooling2D(2),
    L.Conv2D(16, 3, activation="relu", padding="same"),
    L.Flatten(),
    L.Dense(10, activation="softmax"),
])
pycnn.utils.plot_model(model)

# %% [markdown]
# `summary(show_flops=True, show_memory=True)` adds each layer's multiply-adds and the
# memory of its output, per example, with the arithmetic:

# %%
model.summary(show_flops=True, show_memory=True)

# %%
model.compile("adam", "sparse_categorical_crossentropy", metrics=["accuracy"])
history = model.fit(x_train, y_train, epochs=6, batch_size=32, verbose=2,
                    validation_split=0.1)
print(f"test accuracy {model.evaluate(x_test, y_test, verbose=0)[1]:.1%}")

# %% [markdown]
# ## Every layer's output for one image

# %%
viz.activations(model, x_test[:1]);

# %% [markdown]
# ## The filters of the first layer
#
# Red weights are positive, blue negative: many look like small edge detectors.

# %%
viz.filters(model.layers[0]);

# %% [markdown]
# ## Saliency: which pixels move the class score
#
# $|\partial\, \text{score}_c / \partial x|$ (Simonyan et al., 2014), computed by one
# backward pass from the predicted class's output to the image:

# %%
viz.saliency(model, x_test[0]);

# %% [markdown]
# ## Grad-CAM
#
# The last convolution's feature maps $A_k$, weighted by the mean gradient of the class
# score over each map, $\alpha_k = \frac{1}{hw}\sum_{ij} \partial\, \text{score}_c /
# \partial A_k^{ij}$, then $\mathrm{ReLU}(\sum_k \alpha_k A_k)$, upsampled onto the image:

# %%
viz.grad_cam(model, x_test[0], model.layers[2]);

# %% [markdown]
# ## The receptive field
#
# Theoretical, layer by layer: $r_l = r_{l-1} + (k_l - 1)\, j_{l-1}$ and
# $j_l = j_{l-1} s_l$. Effective: the gradient of one output unit with respect to the
# input, which concentrates in the middle of the theoretical field.

# %%
rf = pycnn.arithmetic.receptive_field(model, model.layers[2])
rf

# %%
rf.plot(x_test[:4]);

# %% [markdown]
# ### Branches and merges
#
# The same tools open up a functional model. An Inception-like block runs a 1×1, a
# 3×3 and a 5×5 convolution side by side and concatenates them; a merged unit sees the
# **union** of what its inputs see (pycnn gives the smallest interval holding them, and
# says so when the paths disagree on the stride or the centre). By hand: 1 ∪ 3 ∪ 5 = 5
# pixels, then a 3×3 convolution of stride 2 adds (3 − 1)·1: 7 pixels, jump 2. The
# summary counts each branch's multiply-adds; the Concatenate only copies.

# %%
inputs = pycnn.Input((8, 8, 1), name="image")
branches = [L.Conv2D(4, k, padding="same", activation="relu", name=f"conv{k}x{k}")(inputs)
            for k in (1, 3, 5)]
block = L.Concatenate(name="concat")(branches)
down = L.Conv2D(8, 3, strides=2, activation="relu", name="down")(block)
head = L.Dense(10, activation="softmax", name="classes")(L.GlobalAveragePooling2D()(down))
inception = pycnn.Model(inputs, head, name="inception_block")
inception.summary(show_flops=True, line_length=100)

# %%
rf_block = pycnn.arithmetic.receptive_field(inception, "down")
rf_block

# %%
rf_block.plot(x_test[:4]);

# %% [markdown]
# ## What it gets wrong

# %%
viz.confusion_matrix(y_test, model.predict(x_test));

# %% [markdown]
# The most confident mistakes, "true → predicted (probability)":

# %%
viz.mistakes(model, x_test, y_test, n=8);

# %% [markdown]
# ## Where the time goes
#
# `model.profile(x)` times each layer's forward and backward on one batch and sets the
# rate reached against this machine's matrix-product peak:

# %%
model.profile(x_train[:64])
