# %% [markdown]
# # 7 · The multi-layer perceptron
#
# A **dense** (fully connected) layer computes, for an input vector $x \in \mathbb{R}^{n}$,
#
# $$y = f(W^\top x + b), \qquad W \in \mathbb{R}^{n \times u},\ b \in \mathbb{R}^{u},$$
#
# so it has $(n + 1) \cdot u$ parameters. An MLP stacks such layers; **dropout** between
# them switches off a random fraction of the activations during training so that no unit
# can rely on any other. This is the lecture's Keras code — with pycnn, only the imports
# change.

# %%
import numpy as np

import pycnn
from pycnn.datasets import digits, mnist
from pycnn.layers import Dense, Dropout
from pycnn.models import Sequential
from pycnn.optimizers import RMSprop
from pycnn.viz import image_grid

pycnn.set_seed(0)
np.random.seed(0)

# %% [markdown]
# ## The lecture's model, for MNIST (28 × 28 = 784 inputs)

# %%
num_classes = 10
model = Sequential()
model.add(Dense(512, activation='relu', input_shape=(784,)))
model.add(Dropout(0.2))
model.add(Dense(512, activation='relu'))
model.add(Dropout(0.2))
model.add(Dense(num_classes, activation='softmax'))
model.summary()

# %% [markdown]
# ## The arithmetic behind the table
#
# Each dense layer has $(n_{in} + 1) \cdot n_{out}$ parameters — a weight per
# input–output pair plus a bias per output. Dropout has none.

# %%
model.summary(show_arithmetic=True)

# %% [markdown]
# In Jupyter the model itself shows the same table, arithmetic included:

# %%
model

# %%
for n_in, n_out in [(784, 512), (512, 512), (512, 10)]:
    print(repr(pycnn.arithmetic.dense_params(n_in, n_out)))
print("total:", model.count_params())

# %% [markdown]
# The kernel of a Dense layer has Keras' layout, (inputs, units):

# %%
kernel, bias = model.layers[0].get_weights()
print(model.layers[0].name, "kernel", kernel.shape, "bias", bias.shape)

# %% [markdown]
# ## Training on the digits
#
# The 8 × 8 digits that ship with scikit-learn have 64 pixels, so the same architecture
# gets `input_shape=(64,)` (and smaller layers — 1,437 training images don't need
# 512 units). Images are flattened to vectors and labels one-hot encoded; the loss is
# the categorical cross-entropy of notebook 6, minimised by RMSprop.

# %%
(x_train, y_train), (x_test, y_test) = digits.load_data()
x_train = x_train.reshape(len(x_train), 64)
x_test = x_test.reshape(len(x_test), 64)
y_train_1hot = np.eye(num_classes, dtype=np.float32)[y_train]
y_test_1hot = np.eye(num_classes, dtype=np.float32)[y_test]
print("x_train", x_train.shape, " y_train", y_train_1hot.shape)

# %%
pycnn.clear_session()
mlp = Sequential()
mlp.add(Dense(128, activation='relu', input_shape=(64,)))
mlp.add(Dropout(0.2))
mlp.add(Dense(128, activation='relu'))
mlp.add(Dropout(0.2))
mlp.add(Dense(num_classes, activation='softmax'))
mlp.summary(show_arithmetic=True)

# %%
mlp.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
history = mlp.fit(x_train, y_train_1hot, batch_size=32, epochs=20, verbose=2,
                  validation_split=0.1)   # the last 10% of the training set

# %%
score = mlp.evaluate(x_test, y_test_1hot, verbose=0)
print(f"test loss {score[0]:.4f}, test accuracy {score[1]:.2%}")

# %% [markdown]
# ## Learning curves
#
# Training loss falls steadily; the validation loss follows as long as the network
# generalises, and starts rising when it begins to memorise the training set.

# %%
history.plot();

# %% [markdown]
# Some test digits with the network's answer:

# %%
pred = mlp.predict(x_test[:16]).argmax(axis=1)
image_grid(x_test[:16].reshape(-1, 8, 8), titles=[f"{p} (true {t})" for p, t in zip(pred, y_test[:16])],
           ncols=8, cmap="gray_r");

# %% [markdown]
# ## MNIST, when its files are present
#
# `pycnn.datasets.mnist.load_data()` reads the four standard MNIST files from
# `$PYCNN_DATA` or `~/.pycnn/datasets` (nothing is downloaded behind your back). When
# they are there, the lecture's 784-512-512-10 model trains on a part of them for one
# epoch; otherwise the error says where to put them.

# %%
try:
    (mx_train, my_train), (mx_test, my_test) = mnist.load_data()
except (FileNotFoundError, OSError, ValueError) as e:
    print("MNIST not available here:", e)
else:
    n = 10000
    mx_train = mx_train[:n].reshape(n, 784).astype(np.float32) / 255
    mx_test = mx_test.reshape(len(mx_test), 784).astype(np.float32) / 255
    model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
    model.fit(mx_train, np.eye(10, dtype=np.float32)[my_train[:n]], batch_size=128, epochs=1,
              verbose=2)
    print("MNIST test accuracy:",
          model.evaluate(mx_test, np.eye(10, dtype=np.float32)[my_test], verbose=0)[1])
