# %% [markdown]
# # 10 · Architectures: LeNet-5, VGG, ResNet, MobileNet, U-Net
#
# The lecture's CNN is convolutions, pools and a dense classifier. The networks that
# followed it changed how those pieces are arranged — and each change shows in its
# **parameter arithmetic**. For a layer reading $C_{in}$ channels:
#
# | layer | parameters |
# |---|---|
# | `Conv2D` $k \times k$, $C_{out}$ filters | $(k \cdot k \cdot C_{in} + 1) \cdot C_{out}$ (the $+1$ is the bias) |
# | `Dense`, $n_{in} \to n_{out}$ | $(n_{in} + 1) \cdot n_{out}$ |
# | `BatchNormalization` of $C$ channels | $4 \cdot C$: $\gamma, \beta$ trained; the moving mean and variance, $2 \cdot C$, **not trained** |
# | `DepthwiseConv2D` $k \times k$ | $k \cdot k \cdot C_{in}$ (+ $C_{in}$ with a bias): one filter per channel |
# | `Conv2DTranspose` $k \times k$, $C_{out}$ filters | $(k \cdot k \cdot C_{in} + 1) \cdot C_{out}$, like `Conv2D` |
#
# Every model here comes from `pycnn.applications` (the names of `keras.applications`),
# is trained on real MNIST as it ships with pycnn, and is scored on 2,000 test images it
# never saw.

# %%
import time
import warnings

import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn import applications, metrics
from pycnn.arithmetic import param_arithmetic
from pycnn.callbacks import LambdaCallback
from pycnn.datasets import mnist
from pycnn.layers import RandomRotation, RandomTranslation, RandomZoom
from pycnn.optimizers import Adam
from pycnn.optimizers.schedules import CosineDecay
from pycnn.viz import image_grid

pycnn.set_seed(0)
np.set_printoptions(precision=3, suppress=True)

# %% [markdown]
# ## The data: MNIST as it ships with pycnn
#
# Without the full MNIST files, `mnist.load_data()` returns the 10,000 official MNIST
# test images that ship inside pycnn, split 8,000 / 2,000 by a fixed rule (it says so
# with a warning). The last 1,000 training images are held out for **validation** —
# choosing epochs and comparing curves on them, never on the test images.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    (x_train, y_train), (x_test, y_test) = mnist.load_data()
for w in caught:
    print("note:", w.message)
x_train = (x_train[..., None] / 255.0).astype(np.float32)     # (N, 28, 28, 1) in [0, 1]
x_test = (x_test[..., None] / 255.0).astype(np.float32)
x_fit, y_fit = x_train[:-1000], y_train[:-1000]
x_val, y_val = x_train[-1000:], y_train[-1000:]
print("fit", x_fit.shape, " validation", x_val.shape, " test", x_test.shape)
image_grid(x_fit[:10], titles=[str(d) for d in y_fit[:10]], ncols=10, cmap="gray_r", size=1.0);

# %% [markdown]
# One function trains every classifier the same way: Adam with a learning rate decaying
# from $3 \cdot 10^{-3}$ to 0 along a cosine, batches of 128, the same seed for the initial
# weights and for the shuffling; it records the wall-clock time and the test accuracy.

# %%
results = {}


def train(name, build, epochs, learning_rate=3e-3, augment=False, callbacks=(), final=False):
    """Build (seeded), train, score on x_test; returns the model and its History.
    Trains on x_fit and validates on x_val; with final=True trains on all 8,000 training
    images (x_fit and x_val) and validates on none."""
    pycnn.set_seed(0)
    model = net = build()
    if augment:         # random shifts, rotations and zooms, applied only while training
        inputs = pycnn.Input((28, 28, 1))
        x = RandomTranslation(0.1, 0.1, fill_mode="constant", seed=1)(inputs)
        x = RandomRotation(0.04, fill_mode="constant", seed=2)(x)
        x = RandomZoom(0.1, fill_mode="constant", seed=3)(x)
        model = pycnn.Model(inputs, net(x), name=net.name + "_augmented")
    x, y = (x_train, y_train) if final else (x_fit, y_fit)
    steps = epochs * -(-len(x) // 128)
    model.compile(optimizer=Adam(CosineDecay(learning_rate, steps)),
                  loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    start = time.perf_counter()
    history = model.fit(x, y, batch_size=128, epochs=epochs, verbose=0, callbacks=list(callbacks),
                        validation_data=None if final else (x_val, y_val))
    seconds = time.perf_counter() - start
    test_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
    val = float("nan") if final else history.history["val_accuracy"][-1]
    results[name] = dict(params=net.count_params(), seconds=seconds, epochs=epochs, val=val,
                         test=test_accuracy)
    scored = "" if final else f"validation accuracy {val:.2%}, "
    print(f"{name}: {epochs} epochs on {len(x)} images in {seconds:.1f} s; {scored}"
          f"test accuracy {test_accuracy:.2%}")
    return net, history

# %% [markdown]
# ## LeNet-5 (LeCun et al., 1998)
#
# Two 5×5 convolutions, each followed by a 2×2 subsampling (average pooling), then three
# dense layers, with tanh as in the paper. C1 uses `'same'` padding: the paper fed 32×32
# images, MNIST's are 28×28. The arithmetic column is the formula behind every count.

# %%
lenet = applications.LeNet5()
lenet.summary(show_arithmetic=True)

# %% [markdown]
# 84 % of its 61,706 weights are in C5, the first dense layer: $(5 \cdot 5 \cdot 16 + 1)
# \cdot 120 = 48{,}120$. The convolutions, which do the seeing, hold 2,572.

# %%
lenet, lenet_history = train("LeNet-5", applications.LeNet5, epochs=3)

# %% [markdown]
# ## VGG (Simonyan & Zisserman, 2014)
#
# Only 3×3 convolutions, in blocks; each block ends with a 2×2 max pool that halves the
# resolution, and the next block doubles the filters. VGG16 stacks two or three
# convolutions per block — two 3×3 see a 5×5 window with $2 \cdot 9 C^2$ weights instead
# of $25 C^2$, with a ReLU in between; this small one has one per block
# (`convs_per_block=1`) so that it trains in seconds. As in VGG, most weights sit in the
# first dense layer after `Flatten`.

# %%
def vgg():
    return applications.VGG(filters=(32, 64), convs_per_block=1, dense_units=128)


vgg().summary(show_arithmetic=True)
small_vgg, vgg_history = train("VGG", vgg, epochs=3)

# %% [markdown]
# ## ResNet (He et al., 2015) and BatchNormalization
#
# A **residual block** learns a correction $F(x)$ to its input, $y = \mathrm{relu}(F(x) +
# \mathrm{shortcut}(x))$: the gradient flows back through the addition unchanged, so deep
# stacks still train. The shortcut is the identity where $F$ keeps the shape; where $F$
# halves the resolution and doubles the channels (stride 2), a 1×1 convolution with stride
# 2 — a **projection** — makes the shapes agree. This needs a graph, not a chain: the
# functional API with `Add`.
#
# Every convolution is followed by **BatchNormalization**: in training it normalises each
# channel with the batch's mean and variance, $\hat x = (x - \mu_B)/\sqrt{\sigma_B^2 +
# \epsilon}$, then scales and shifts, $y = \gamma \hat x + \beta$; it also keeps moving
# averages of $\mu_B$ and $\sigma_B^2$ for inference. So 4 parameters per channel, 2 of
# them not trained by the gradient; the convolution before it needs no bias ($\beta$ is
# the bias, and subtracting $\mu_B$ would remove any constant anyway).

# %%
def resnet(batch_normalization=True):
    """Stem conv 3×3 (16) and a 2×2 max pool to 14×14; a block of 16 channels at 14×14,
    a block of 32 at 7×7; global average pooling, the classifier."""
    return applications.ResNet(filters=(16, 32), blocks=(1, 1), stem_pooling=True,
                               batch_normalization=batch_normalization)


net = resnet()
net.summary(line_length=108)

# %% [markdown]
# The same count, layer by layer, with the arithmetic. The projection
# (`conv3_block1_0_conv`, 1×1 with stride 2) appears exactly where the second stage halves
# the resolution and doubles the channels; `conv2_block1` keeps the shape and adds its
# input unchanged.

# %%
table = param_arithmetic(net)
print(table)
print("non-trainable = 2 · (sum of the channels of every BatchNormalization) =",
      2 * sum(layer.input.shape[-1] for layer in net.layers
              if type(layer).__name__ == "BatchNormalization"))
pycnn.utils.plot_model(net, show_shapes=True, dpi=70)

# %% [markdown]
# ### BatchNormalization's effect on the learning curve
#
# The same net without any BatchNormalization (its convolutions get their biases back),
# the same seed, the same data, optimizer, learning rate and number of epochs. The loss
# is recorded after every batch: `logs["loss"]` is $m_b$, the mean over the $N_b$ images
# of the epoch so far, so batch $b$'s own loss is $(N_b m_b - N_{b-1} m_{b-1}) / (N_b -
# N_{b-1})$ (shown smoothed over 10 batches).

# %%
def batch_losses(means, n=len(x_fit), batch_size=128):
    """Each batch's own loss from the running means (batch index, mean) of fit's logs."""
    out, previous = [], 0.0
    for b, m in means:
        seen, before = min((b + 1) * batch_size, n), b * batch_size
        out.append((seen * m - before * (previous if b else 0.0)) / (seen - before))
        previous = m
    return np.convolve(out, np.ones(10) / 10, mode="valid")


curves = {}
for label, with_bn in (("with BatchNorm", True), ("without BatchNorm", False)):
    means = []
    record = LambdaCallback(on_batch_end=lambda batch, logs: means.append((batch, logs["loss"])))
    model, history = train(f"ResNet, {label}", lambda: resnet(with_bn),
                           epochs=3, callbacks=[record])
    curves[label] = (batch_losses(means), history)
    if with_bn:
        resnet_model = model

fig, (ax_loss, ax_val) = plt.subplots(1, 2, figsize=(11, 3.6))
for label, (losses, history) in curves.items():
    steps = np.arange(1, len(losses) + 1)
    ax_loss.plot(steps, losses, label=label)
    epochs = np.arange(1, len(history.history["val_accuracy"]) + 1)
    ax_val.plot(epochs, history.history["val_accuracy"], marker="o", label=label)
ax_loss.set(xlabel="batch", ylabel="training loss (10-batch mean)",
            title="training loss, batch by batch", yscale="log")
ax_val.set(xlabel="epoch", ylabel="accuracy", title="validation accuracy (1,000 held-out images)")
ax_val.xaxis.get_major_locator().set_params(integer=True)
for ax in (ax_loss, ax_val):
    ax.legend()
    ax.grid(alpha=0.3)
plt.tight_layout()

# %% [markdown]
# ## MobileNet (Howard et al., 2017): depthwise-separable convolutions
#
# A 3×3 convolution from $C_{in}$ to $C_{out}$ channels mixes space and channels at once:
# $9 \cdot C_{in} \cdot C_{out}$ weights. MobileNet splits it in two: a **depthwise**
# 3×3 convolution filters each channel on its own ($9 \cdot C_{in}$ weights), then a
# **pointwise** 1×1 convolution mixes the channels ($C_{in} \cdot C_{out}$). The cost falls
# by a factor $1/C_{out} + 1/9$. MobileNet puts BatchNormalization and ReLU6 after each
# half; `SeparableConv2D` is the same pair as one layer, without the normalisation between.

# %%
c_in, c_out = 64, 128
full = pycnn.arithmetic.conv2d_params(3, 3, c_in, c_out, use_bias=False)
separable = pycnn.Sequential([pycnn.Input((7, 7, c_in)),
                              pycnn.layers.SeparableConv2D(c_out, 3, use_bias=False)])
print(f"Conv2D 3×3, {c_in} → {c_out}:          {full!r}")
print(f"SeparableConv2D 3×3, {c_in} → {c_out}: {param_arithmetic(separable).rows[0]['formula']}"
      f"   ({int(full) / separable.count_params():.1f}× fewer)")


def mobilenet():
    return applications.MobileNet(filters=(32, 64, 128), strides=(2, 2, 1), stem_filters=16,
                                  stem_strides=2)


mobilenet().summary(show_arithmetic=True)
mobile, mobile_history = train("MobileNet", mobilenet, epochs=3)

# %% [markdown]
# ## The best of them, trained longer on shifted, rotated and zoomed digits
#
# With 7,000 training images a net soon knows them by heart. Random shifts by up to
# 10 %, rotations by up to ±14° and zooms by up to ±10 % (`RandomTranslation`,
# `RandomRotation`, `RandomZoom`: active only in training) give it new digits every epoch,
# and Dropout before and after its dense layer keeps it from leaning on a few units. This
# recipe — the VGG, 16 epochs — was chosen on the validation images; the final run trains
# on all 8,000 training images, validation ones included, and is scored once on the test
# images. Its training accuracy is measured on augmented digits with Dropout active, so it
# stays below the accuracy on the (plain) test digits.

# %%
def vgg_dropout():
    return applications.VGG(filters=(32, 64), convs_per_block=1, dense_units=128, dropout=0.25)


best, best_history = train("VGG + dropout, augmented, all 8,000", vgg_dropout, epochs=16,
                           augment=True, final=True)
best_history.plot();

# %%
probabilities = best.predict(x_test, verbose=0)
predicted = probabilities.argmax(axis=1)
wrong = np.flatnonzero(predicted != y_test)
print(f"{len(wrong)} of {len(y_test)} test images wrong: accuracy "
      f"{1 - len(wrong) / len(y_test):.2%}")
image_grid(x_test[wrong[:12]], titles=[f"{y} → {p}" for y, p in
                                       zip(y_test[wrong[:12]], predicted[wrong[:12]])],
           ncols=12, cmap="gray_r", size=1.0);

# %% [markdown]
# ## U-Net (Ronneberger et al., 2015): a class for every pixel
#
# A segmentation task made from MNIST: find the digit's stroke in a **noisy** image. The
# label of a pixel is 1 where the clean digit's intensity exceeds 0.5, 0 elsewhere; the
# input is the digit under strong Gaussian noise ($\sigma = 0.35$), so no threshold on
# one pixel can tell stroke from noise — the net must look at the neighbourhood. The
# U-Net's encoder pools down to 7×7 for that context; its decoder goes back up with
# `Conv2DTranspose` (stride 2, a learned up-sampling) and `Concatenate`s the encoder's map
# of the same size — the skip connections that bring back the exact positions the pools
# threw away. The score is the pixel accuracy and the mean IoU of the two classes.

# %%
rng = np.random.default_rng(0)
def noisy(images):
    return np.clip(images + rng.normal(0, 0.35, images.shape), 0, 1).astype(np.float32)


def stroke(images):
    return (images[..., 0] > 0.5).astype(np.int64)


n_seg = 2000
s_fit, m_fit = noisy(x_fit[:n_seg]), stroke(x_fit[:n_seg])
s_val, m_val = noisy(x_val[:500]), stroke(x_val[:500])
s_test, m_test = noisy(x_test), stroke(x_test)
unet = applications.UNet(classes=2, filters=(8, 16), bottleneck_filters=32)
unet.summary(line_length=108)
print(param_arithmetic(unet))

# %%
pycnn.set_seed(0)
unet.compile(optimizer=Adam(3e-3), loss="sparse_categorical_crossentropy",
             metrics=[metrics.MeanIoU(2, sparse_y_pred=False)])
start = time.perf_counter()
unet_history = unet.fit(s_fit, m_fit, batch_size=32, epochs=3, verbose=2,
                        validation_data=(s_val, m_val))
unet_seconds = time.perf_counter() - start


def scores(predicted):
    miou = metrics.MeanIoU(2)
    miou.update_state(m_test, predicted)
    return metrics.pixel_accuracy(m_test, predicted), miou.result()


predicted_masks = unet.predict(s_test, verbose=0).argmax(axis=-1)
for name, predicted in (("threshold 0.5 on the noisy pixel", (s_test[..., 0] > 0.5).astype(int)),
                        ("U-Net", predicted_masks)):
    accuracy, miou = scores(predicted)
    print(f"{name:33s} test pixel accuracy {accuracy:.2%}, mean IoU {miou:.3f}")
print(f"(U-Net: 3 epochs on {n_seg} images in {unet_seconds:.1f} s)")

# %%
image_grid(s_test[:10], titles=["noisy input"] * 10, ncols=10, cmap="gray_r", size=1.0)
image_grid(m_test[:10], titles=["truth"] * 10, ncols=10, cmap="gray_r", size=1.0)
image_grid(predicted_masks[:10], titles=["U-Net"] * 10, ncols=10, cmap="gray_r", size=1.0);

# %% [markdown]
# ## Summary
#
# Parameters, training time on this machine and accuracy on the 2,000 test images, every
# classifier trained with the same optimizer, schedule, batch size and seed (the last one
# longer, on augmented digits and on all 8,000 training images):

# %%
print(f"{'model':38s} {'params':>8s} {'epochs':>6s} {'time':>7s} {'val':>7s} {'test':>7s}")
for name, r in results.items():
    val = "—" if np.isnan(r["val"]) else f"{r['val']:.2%}"
    print(f"{name:38s} {r['params']:8,d} {r['epochs']:6d} {r['seconds']:6.1f}s "
          f"{val:>7s} {r['test']:7.2%}")
best_name = max(results, key=lambda n: results[n]["test"])
print(f"\nbest: {best_name}, {results[best_name]['test']:.2%} on the test images")
