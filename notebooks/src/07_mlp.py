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

# %% [markdown]
# The same architecture can be given to `Sequential` as a list of layers instead of
# `add` calls, as Keras allows too:

# %%
pycnn.clear_session()
mlp = Sequential([Dense(128, activation='relu', input_shape=(64,)), Dropout(0.2),
                  Dense(128, activation='relu'), Dropout(0.2),
                  Dense(num_classes, activation='softmax')])
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
# ## The lecture's model on real MNIST
#
# pycnn ships the 10,000 official MNIST test images (unmodified; CC BY-SA 3.0, by Yann
# LeCun, Corinna Cortes and Christopher Burges — see the package's NOTICE). Without the
# full MNIST files in `$PYCNN_DATA` or `~/.pycnn/datasets`, `mnist.load_data()` splits
# them 8,000 for training / 2,000 for testing (image *i* is a test image when
# *i* mod 5 = 4) and says so once; with the full files it returns Keras' 60,000 / 10,000.
# Nothing is downloaded. The images are 28 × 28 = 784 pixels: exactly the lecture's
# `input_shape=(784,)`.

# %%
(mx_train, my_train), (mx_test, my_test) = mnist.load_data()
print("x_train", mx_train.shape, mx_train.dtype, " x_test", mx_test.shape)
print("training images per digit:", np.bincount(my_train))
image_grid(mx_train[:16], titles=[str(t) for t in my_train[:16]], ncols=8, cmap="gray_r");

# %% [markdown]
# Flatten to 784-vectors scaled to [0, 1], one-hot the labels, and train the lecture's
# 784-512-512-10 model — the same `model` whose summary opens this notebook — with
# RMSprop, as the lecture does.

# %%
mx_train = mx_train.reshape(len(mx_train), 784).astype(np.float32) / 255
mx_test = mx_test.reshape(len(mx_test), 784).astype(np.float32) / 255
my_train_1hot = np.eye(num_classes, dtype=np.float32)[my_train]
my_test_1hot = np.eye(num_classes, dtype=np.float32)[my_test]
model.compile(loss='categorical_crossentropy', optimizer=RMSprop(), metrics=['accuracy'])
mnist_history = model.fit(mx_train, my_train_1hot, batch_size=128, epochs=5, verbose=2,
                          validation_split=0.1)   # held out from training, not the test set

# %%
score = model.evaluate(mx_test, my_test_1hot, verbose=0)
print(f"MNIST test loss {score[0]:.4f}, test accuracy {score[1]:.2%} "
      f"on {len(mx_test):,} test images")
mnist_history.plot();

# %% [markdown]
# The test images it gets wrong — often digits a person would hesitate over too:

# %%
pred = model.predict(mx_test).argmax(axis=1)
wrong = np.flatnonzero(pred != my_test)[:16]
image_grid(mx_test[wrong].reshape(-1, 28, 28),
           titles=[f"{p} (true {t})" for p, t in zip(pred[wrong], my_test[wrong])],
           ncols=8, cmap="gray_r");
