# %% [markdown]
# # 4 · Activation functions
#
# A neuron computes an affine map $z = w^\top x + b$ and then a non-linear **activation**
# $a = f(z)$. Without $f$, a stack of layers would collapse into one affine map. What
# matters for learning is both $f$ and its derivative $f'$: Backward multiplies every
# gradient that flows through the neuron by $f'(z)$.
#
# Every curve below is computed by pycnn, and every dashed derivative comes from pycnn's
# **autograd** (`backward()`), not from a formula typed in by hand.

# %%
import matplotlib.pyplot as plt
import numpy as np

import pycnn
from pycnn.viz import activation_curve, plot_activation, plot_activations

np.random.seed(0)
x = np.linspace(-5, 5, 401)

# %% [markdown]
# ## Sigmoid, tanh, ReLU
#
# $$\sigma(x) = \frac{1}{1 + e^{-x}}, \quad \sigma'(x) = \sigma(x)\,(1 - \sigma(x))$$
#
# $$\tanh(x) = \frac{e^x - e^{-x}}{e^x + e^{-x}}, \quad \tanh'(x) = 1 - \tanh^2(x)$$
#
# $$\mathrm{ReLU}(x) = \max(0, x), \quad \mathrm{ReLU}'(x) = [x > 0]$$
#
# Sigmoid and tanh *saturate*: for large $|x|$ the derivative is nearly 0 and the
# gradient vanishes. ReLU does not saturate for $x > 0$, and its derivative is exactly
# 1 there (and 0 for $x < 0$; pycnn, like PyTorch, takes 0 at $x = 0$).

# %%
plot_activations({"sigmoid": pycnn.sigmoid, "tanh": pycnn.tanh, "relu": pycnn.relu}, x, ncols=3);

# %% [markdown]
# Autograd's derivative agrees with the formulas above:

# %%
y, dy = activation_curve(pycnn.sigmoid, x)
print("max |autograd − σ(1 − σ)|  =", np.abs(dy - y * (1 - y)).max())
y, dy = activation_curve(pycnn.tanh, x)
print("max |autograd − (1 − tanh²)| =", np.abs(dy - (1 - y ** 2)).max())
print("largest σ'(x):", activation_curve(pycnn.sigmoid, [0.0])[1][0], " at x = 0; at x = 5:",
      round(float(activation_curve(pycnn.sigmoid, [5.0])[1][0]), 5))

# %% [markdown]
# ## Leaky ReLU and ELU
#
# A ReLU whose input stays negative never receives gradient again ("dying ReLU"). Two
# fixes keep a slope for $x < 0$:
#
# $$\mathrm{LeakyReLU}(x) = \begin{cases} x & x > 0 \\ \alpha x & x \le 0 \end{cases}
#  \qquad (\alpha = 0.1 \text{ in the lecture; Keras' layer uses } 0.3)$$
#
# $$\mathrm{ELU}(x) = \begin{cases} x & x > 0 \\ \alpha (e^x - 1) & x \le 0 \end{cases}
#  \qquad (\alpha = 1)$$

# %%
plot_activations({"leaky_relu (α = 0.1)": pycnn.leaky_relu,
                  "elu (α = 1)": pycnn.elu}, x, ncols=2);

# %%
z = pycnn.tensor([-2.0, -0.5, 1.5], requires_grad=True)
pycnn.elu(z).explain()

# %% [markdown]
# ## Maxout
#
# A maxout unit computes $k$ affine maps of its input and keeps the largest:
#
# $$\mathrm{maxout}(x) = \max_{i = 1..k} \left(w_i^\top x + b_i\right)$$
#
# With enough pieces it can approximate any convex function — it *learns* its
# activation. Here three pieces of a scalar input: $\max(-x - 1,\ 0.2x,\ 1.5x - 2)$.
# `pycnn.maxout(t, pieces)` takes the maximum over groups of `pieces` consecutive
# features; `pycnn.stack` puts the three affine maps side by side.

# %%
def maxout3(x):
    pieces = pycnn.stack([-1.0 * x - 1.0, 0.2 * x, 1.5 * x - 2.0], axis=-1)   # (n, 3)
    return pycnn.maxout(pieces, 3).reshape(-1)                              # (n,)


ax = plot_activation(maxout3, x, label="maxout, 3 pieces")
for w, b in [(-1, -1), (0.2, 0), (1.5, -2)]:
    ax.plot(x, w * x + b, ":", color="0.6", lw=1)
ax.set_ylim(-3, 6);

# %% [markdown]
# ## Swish
#
# $$\mathrm{swish}(x) = x \cdot \sigma(\beta x)$$
#
# For $\beta \to 0$ it tends to the line $x/2$; for $\beta \to \infty$ to ReLU; at
# $\beta = 1$ it is smooth and, unlike ReLU, *not monotonic* — it dips below zero for
# negative inputs.

# %%
fig, axes = plt.subplots(1, 2, figsize=(9, 3))
for beta in (0.1, 1.0, 2.0, 10.0):
    y, dy = activation_curve(lambda t: pycnn.swish(t, beta=beta), x)
    axes[0].plot(x, y, label=f"β = {beta:g}")
    axes[1].plot(x, dy, label=f"β = {beta:g}")
axes[0].set_title("swish(x) = x·σ(βx)")
axes[1].set_title("its derivative, by autograd")
for ax in axes:
    ax.axhline(0, color="0.8", lw=0.8)
    ax.legend(fontsize=8)
fig.tight_layout()

# %% [markdown]
# $\beta$ can itself be learned: pass it as a tensor that requires grad, and Backward
# gives $\partial E / \partial \beta$ as for any weight.

# %%
beta = pycnn.tensor(1.0, requires_grad=True, name="beta")
xs = pycnn.tensor([-1.0, 0.5, 2.0])
out = pycnn.swish(xs, beta=beta)
out.explain()

# %%
out.backward(np.ones(3))
s = 1 / (1 + np.exp(-xs.numpy()))
print("dE/dβ by autograd:", beta.grad.item())
print("by hand, Σ x² σ(x)(1 − σ(x)):", float((xs.numpy() ** 2 * s * (1 - s)).sum()))

# %% [markdown]
# **Explore**: choose a function and set α (leaky ReLU, ELU) or β (swish); the
# derivative is pycnn's backward.

# %%
from pycnn import explorers

explorers.activations("elu", x=-1.0, alpha=1.0)

# %% [markdown]
# ## All of them, side by side

# %%
plot_activations({"sigmoid": pycnn.sigmoid, "tanh": pycnn.tanh, "ReLU": pycnn.relu,
                  "leaky ReLU": pycnn.leaky_relu, "ELU": pycnn.elu, "maxout": maxout3,
                  "swish β=1": pycnn.swish}, x, ncols=4);

# %% [markdown]
# **Searching for Activation Functions** (Ramachandran, Zoph and Le, 2017) let an
# automated search combine unary and binary functions into candidate activations and
# train networks with each; the best, swish $x \cdot \sigma(\beta x)$, matched or beat
# ReLU on deep networks — replacing ReLU by swish raised ImageNet top-1 accuracy by
# 0.9 % for Mobile NASNet-A and 0.6 % for Inception-ResNet-v2.
