# %% [markdown]
# # 3 · The graph of tensors
#
# A neural network is a **graph of tensors**: every vertex $\theta$ is a tensor, computed
# from its parents, and the error $E$ at the end depends on every vertex through its
# children.
#
# $$\text{Forward}(\theta) = f\big(\text{Parents}(\theta)\big)
# \qquad
# \text{Backward}(\theta) = \frac{\partial E}{\partial \theta}
#   = \sum_{c \,\in\, \text{Children}(\theta)} \frac{\partial E}{\partial c}\,\frac{\partial c}{\partial \theta}$$
#
# Forward runs from the inputs to $E$, Backward from $E$ back to the inputs, each vertex
# *adding* what each child sends it. pycnn records the graph while you compute and runs
# Backward in C when you call `E.backward()`.

# %%
import numpy as np

import pycnn

np.random.seed(0)           # a fixed seed: every run shows the same numbers
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## A small network, built by hand
#
# One hidden unit $h$ feeds **two** outputs, so $h$ has two children:
#
# $$z = w_1 x_1 + w_2 x_2 + b, \qquad h = \sigma(z), \qquad
# o_1 = v_1 h, \quad o_2 = v_2 h, \qquad
# E = (o_1 - y_1)^2 + (o_2 - y_2)^2$$
#
# The inputs $x$ and targets $y$ are constants; the weights ask for gradients
# (`requires_grad=True`). We use float64 so that the finite-difference check at the end
# is exact to many digits.

# %%
def const(value, name):
    return pycnn.tensor(value, dtype="float64", name=name)


def weight(value, name):
    return pycnn.tensor(value, dtype="float64", requires_grad=True, name=name)


x1, x2, y1, y2 = const(1.0, "x1"), const(-2.0, "x2"), const(1.0, "y1"), const(0.0, "y2")
w1, w2, b = weight(0.5, "w1"), weight(0.25, "w2"), weight(0.1, "b")
v1, v2 = weight(2.0, "v1"), weight(-1.0, "v2")

# %% [markdown]
# ## Forward
#
# Each line below is one op; pycnn records it as a node whose parents are its inputs.
# `retain_grad()` asks pycnn to keep the gradient of an intermediate tensor after
# Backward (by default only the leaves keep theirs).

# %%
z = w1 * x1 + w2 * x2 + b
h = pycnn.sigmoid(z)
o1, o2 = v1 * h, v2 * h
E = (o1 - y1) ** 2 + (o2 - y2) ** 2
for t, name in [(z, "z"), (h, "h"), (o1, "o1"), (o2, "o2"), (E, "E")]:
    t.name = name
    t.retain_grad()
    print(f"{name:>2} = {t.item():.4f}   (op: {t.op})")

# %% [markdown]
# Every result can explain itself with its own numbers — here the sigmoid:

# %%
h.explain()

# %% [markdown]
# ## The graph
#
# `pycnn.viz.draw_graph` draws the recorded graph: op, shape, value and gradient of every
# tensor. With Graphviz installed it shows as a picture; otherwise as an indented tree
# (a tensor with two children appears once in full and then as *shown above*).

# %%
graph = pycnn.viz.draw_graph(E)
graph

# %% [markdown]
# ## Backward
#
# `E.backward()` seeds $\partial E/\partial E = 1$ and walks the graph in reverse
# topological order, each node adding its share into its parents' `.grad`.

# %%
E.backward()
for t in (E, o1, o2, h, z, w1, w2, b, v1, v2):
    print(f"dE/d{t.name:<2} = {t.grad.item(): .6f}")

# %%
pycnn.viz.draw_graph(E)

# %% [markdown]
# ## Backward is a sum over children
#
# $h$ has two children, $o_1 = v_1 h$ and $o_2 = v_2 h$, so
#
# $$\frac{\partial E}{\partial h} = \frac{\partial E}{\partial o_1}\,v_1
#  + \frac{\partial E}{\partial o_2}\,v_2,
# \qquad \frac{\partial E}{\partial o_k} = 2\,(o_k - y_k).$$
#
# The same numbers by hand:

# %%
dE_do1 = 2 * (o1.item() - y1.item())
dE_do2 = 2 * (o2.item() - y2.item())
by_hand = dE_do1 * v1.item() + dE_do2 * v2.item()
print(f"dE/do1 · v1 + dE/do2 · v2 = {dE_do1:.6f} · {v1.item()} + {dE_do2:.6f} · {v2.item()}"
      f" = {by_hand:.6f}")
print(f"pycnn's h.grad                                   = {h.grad.item():.6f}")
assert np.isclose(by_hand, h.grad.item(), rtol=1e-12)

# %% [markdown]
# Going one step further down, $\sigma'(z) = \sigma(z)\,(1 - \sigma(z))$ and
# $\partial z / \partial w_1 = x_1$:

# %%
dE_dz = h.grad.item() * h.item() * (1 - h.item())
print(f"dE/dz  = {dE_dz:.6f}   pycnn: {z.grad.item():.6f}")
print(f"dE/dw1 = dE/dz · x1 = {dE_dz * x1.item():.6f}   pycnn: {w1.grad.item():.6f}")
assert np.isclose(dE_dz * x1.item(), w1.grad.item(), rtol=1e-12)

# %% [markdown]
# ## Checked against finite differences
#
# `pycnn.gradcheck` nudges every weight by $\pm\varepsilon$ and compares
# $\frac{E(\theta + \varepsilon) - E(\theta - \varepsilon)}{2\varepsilon}$ with the gradient
# from Backward. It returns `True` or raises an error naming the weight that disagrees.

# %%
def network(w1, w2, b, v1, v2):
    h = pycnn.sigmoid(w1 * x1 + w2 * x2 + b)
    return (v1 * h - y1) ** 2 + (v2 * h - y2) ** 2


pycnn.gradcheck(network, [w1.numpy(), w2.numpy(), b.numpy(), v1.numpy(), v2.numpy()])

# %% [markdown]
# ## The same graph with tensors of dimension 2
#
# Nothing changes when the vertices are matrices: the gradient of each tensor has the
# tensor's shape. In Jupyter a small tensor shows as a matrix, as on the slides:

# %%
W = pycnn.tensor([[0.5, -0.25], [1.0, 0.75]], dtype="float64", requires_grad=True, name="W")
X = pycnn.tensor([[1.0, 2.0], [3.0, 4.0]], dtype="float64", name="X")
S = pycnn.sigmoid(W * X)              # element-wise: each entry has its own little graph
S.backward(np.ones((2, 2)))
W

# %%
W.grad
