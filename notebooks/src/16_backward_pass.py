# %% [markdown]
# # 16 · The backward pass, step by step
#
# Notebook 3 built the graph of tensors and let `backward()` fill in the gradients. Here
# we watch it work. The lecture's rule, for every tensor θ of the graph:
#
# $$\text{Backward}(\theta) = \frac{\partial E}{\partial \theta}
#   = \sum_{c \,\in\, \text{children}(\theta)} \frac{\partial E}{\partial c}\,
#     \frac{\partial c}{\partial \theta}$$
#
# Each child $c$ of θ contributes the gradient that reached $c$ times the local
# derivative of $c$'s op with respect to θ; the contributions add up.

# %%
import numpy as np

import pycnn
from pycnn.explain.backward import backward_steps

np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## A neuron and its loss
#
# One neuron, $o = \sigma(w_1 x_1 + w_2 x_2 + b)$, against a target $y$ with the squared
# error $E = (o - y)^2$. The weights are leaves that require grad; $x$ and $y$ are
# constants.

# %%
def T(value, name, grad=False):
    return pycnn.tensor(value, dtype="float64", requires_grad=grad, name=name)


w1, w2, b = T(0.5, "w1", True), T(-1.0, "w2", True), T(0.2, "b", True)
x1, x2, y = T(2.0, "x1"), T(1.5, "x2"), T(1.0, "y")


def loss():
    z = w1 * x1 + w2 * x2 + b
    z.name = "z"
    o = pycnn.sigmoid(z)
    o.name = "o"
    E = pycnn.square(o - y)
    E.name = "E"
    return E


E = loss()
print("E =", E.item())

# %% [markdown]
# ## Keeping every gradient
#
# By default `backward()` keeps only the leaves' gradients (PyTorch's convention: an
# intermediate gradient is freed as soon as it has been passed on). For teaching,
# `backward(retain_grads=True)` — or any backward inside `with pycnn.keep_grads():` —
# keeps every node's gradient, and the graph with it:

# %%
E.backward(retain_grads=True)
pycnn.draw_graph(E)

# %% [markdown]
# pycnn lays the graph out and draws the SVG itself (no Graphviz needed); every node
# shows its value and its gradient $\partial E/\partial \text{node}$.
#
# ## The chain rule for one weight, with its numbers
#
# `pycnn.explain_backward(E, wrt=w1)` writes Backward($w_1$) out: each child, its local
# derivative, the gradient that reached it, and the products summed. The numbers are
# pycnn's own: each child's op runs its backward function in C alone.

# %%
pycnn.explain_backward(E, wrt=w1)

# %% [markdown]
# `t.explain_grad()` is the same for the E of the last backward that kept its
# gradients. Going up the graph, every step is one op's local derivative:

# %%
for name in ("z", "o"):
    node = next(n for n in pycnn.draw_graph(E).nodes if n.label == name)
    print(name, "grad:", node.grad)
print(w2.explain_grad())

# %% [markdown]
# ## A tensor with two children: the sum
#
# When θ is used twice, both uses send a share back. With $E_2 = w_1 \cdot w_1 + 3 w_1$
# the sum has three terms (two from the product, one from the scaling):

# %%
E2 = w1 * w1 + w1 * 3.0
E2.name = "E2"
pycnn.explain_backward(E2, wrt=w1)

# %% [markdown]
# ## The sweep, one node at a time
#
# `backward()` orders the graph once (every tensor after its parents) and walks that
# order backwards. At each node its gradient is complete — all its children have
# already contributed — and it adds its share to each parent:

# %%
for step in backward_steps(E):
    print(step)
    print()

# %% [markdown]
# In Jupyter the same steps can be walked with a slider (or the play button): the
# current node is outlined red, the parents it adds to green, and each node shows its
# gradient as far as the sweep has got.

# %%
pycnn.viz.backward_stepper(E)

# %% [markdown]
# Without a kernel, the picture of any step is `backward_step_graph`:

# %%
pycnn.viz.backward_step_graph(E, backward_steps(E), 3)

# %% [markdown]
# ## Checking the gradients: the cs231n overlay
#
# A gradient check compares each leaf's analytic gradient with central finite
# differences, $\frac{E(\theta + \epsilon) - E(\theta - \epsilon)}{2\epsilon}$, by the
# relative error $|a - n| / \max(|a|, |n|)$: below $10^{-7}$ is fine (green), above
# $10^{-2}$ is wrong (red). `draw_graph(E, gradcheck=loss)` recomputes E with `loss()`
# for every nudge:

# %%
pycnn.draw_graph(loss(), gradcheck=loss)

# %% [markdown]
# A wrong gradient shows red. Here the recomputation is deliberately *not* the graph
# that was recorded (it uses $x_1 = 2.5$), as a bug in a hand-written backward would
# make the analytic and numeric gradients disagree:

# %%
x1_wrong = T(2.5, "x1")
bad = pycnn.draw_graph(loss(), gradcheck=lambda: pycnn.square(
    pycnn.sigmoid(w1 * x1_wrong + w2 * x2 + b) - y))
print([(n.label, f"{n.error:.1e}") for n in bad.nodes if n.error is not None])
bad
