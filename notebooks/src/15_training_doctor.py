# %% [markdown]
# # 15 · The training doctor
#
# cs231n's advice before a long training run: check that the initial loss is what an
# untrained network should give, that the network can overfit a tiny subset, that one
# update changes the weights by about a thousandth, that no units are dead or
# saturated, and that the gradients are neither vanishing nor exploding.
# `model.diagnose(x, y)` runs these checks and says what it found, with the numbers;
# `pycnn.callbacks.Doctor()` watches a `fit`.

# %%
import numpy as np

import pycnn
from pycnn import layers as L
from pycnn.datasets import digits

(x_train, y_train), _ = digits.load_data()
x = x_train.reshape(len(x_train), 64)[:400]
y = y_train[:400]


def mlp(optimizer="adam", activation="relu"):
    pycnn.set_seed(0)
    model = pycnn.models.Sequential([L.Dense(32, activation=activation, input_shape=(64,)),
                                     L.Dense(10, activation="softmax")])
    model.compile(optimizer, "sparse_categorical_crossentropy", metrics=["accuracy"])
    return model

# %% [markdown]
# ## A healthy network
#
# The initial loss is close to $\ln 10 = 2.303$ (ten classes guessed uniformly), it
# memorises 20 examples, and one step of Adam moves the weights by about $10^{-3}$ of
# their size:

# %%
healthy = mlp()
healthy.diagnose(x, y)

# %% [markdown]
# ## A dead network
#
# A large negative bias puts every ReLU below zero for every example: no gradient
# reaches the first layer, and the network cannot learn anything.

# %%
dead = mlp()
kernel, bias = dead.layers[0].get_weights()
dead.layers[0].set_weights([kernel, bias - 100.0])
dead.diagnose(x, y)

# %% [markdown]
# ## A wrong initial loss
#
# Output weights 30 times too large make the untrained network confidently wrong: the
# first loss is far above $\ln 10$.

# %%
loud = mlp()
kernel, bias = loud.layers[1].get_weights()
loud.layers[1].set_weights([kernel * 30.0, bias])
loud.diagnose(x, y, overfit=False)

# %% [markdown]
# ## Saturated tanh units
#
# Inputs that are too large (the digits' pixels run from 0 to 16 here, not scaled) with
# weights that are too large pin tanh at ±1, where its derivative is 0:

# %%
saturated = mlp(activation="tanh")
kernel, bias = saturated.layers[0].get_weights()
saturated.layers[0].set_weights([kernel * 5.0, bias])
saturated.diagnose(x * 16, y, overfit=False)

# %% [markdown]
# ## A learning rate far too large
#
# The update/weight ratio shows it after one step:

# %%
fast = mlp(pycnn.optimizers.SGD(learning_rate=50.0))
fast.diagnose(x, y, overfit=False)

# %% [markdown]
# ## Several outputs
#
# A functional model with two inputs (the pixels and three extra numbers) and two
# outputs (the digit, softmax over 10; "is it odd?", one sigmoid) is examined output by
# output: each initial loss against its own reference ($\ln 10$ and $\ln 2$), and the
# findings name the output. Here the sigmoid's bias starts at +8 (the untrained network
# is sure every digit is odd):

# %%
pycnn.set_seed(0)
pixels, extra = pycnn.Input((64,), name="pixels"), pycnn.Input((3,), name="extra")
h = L.Concatenate()([L.Dense(32, activation="relu")(pixels),
                     L.Dense(8, activation="relu")(extra)])
two = pycnn.Model([pixels, extra], [L.Dense(10, activation="softmax", name="digit")(h),
                                    L.Dense(1, activation="sigmoid", name="odd")(h)])
two.compile("adam", {"digit": "sparse_categorical_crossentropy", "odd": "binary_crossentropy"})
kernel, bias = two.get_layer("odd").get_weights()
two.get_layer("odd").set_weights([kernel, bias + 8.0])
extras = np.random.default_rng(0).standard_normal((len(x), 3)).astype("float32")
two.diagnose([x / 16, extras], [y, (y % 2).reshape(-1, 1).astype("float32")], overfit=False)

# %% [markdown]
# ## The doctor during fit
#
# `callbacks.Doctor()` checks the first batch (loss, update ratio) and stops training
# at once if the loss becomes NaN or infinite, saying why. With a sample it also runs
# the checks above before training starts.

# %%
doctor = pycnn.callbacks.Doctor()
history = mlp(pycnn.optimizers.SGD(learning_rate=50.0)).fit(
    x, y, epochs=2, batch_size=32, verbose=2, callbacks=[doctor])

# %% [markdown]
# One broken example (a NaN pixel) makes the loss NaN as soon as its batch is reached:

# %%
x_broken = x.copy()
x_broken[100, 10] = np.nan
history = mlp().fit(x_broken, y, epochs=5, batch_size=32, shuffle=False, verbose=2,
                    callbacks=[pycnn.callbacks.Doctor()])
print(f"{len(history.epoch)} epoch(s) finished")

# %% [markdown]
# ## Live curves
#
# `callbacks.LivePlot()` redraws the loss and metric curves in place after every epoch
# in Jupyter (in a terminal it draws nothing, and the progress bar is what you see):

# %%
history = mlp().fit(x, y, epochs=8, batch_size=32, verbose=0, validation_split=0.2,
                    callbacks=[pycnn.callbacks.LivePlot()])
