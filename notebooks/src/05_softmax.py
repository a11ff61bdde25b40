# %% [markdown]
# # 5 · Softmax
#
# A classifier's last layer produces one score per class, the **logits**
# $z = (z_1, \dots, z_K)$ — any real numbers. To compare them with a one-hot target we
# need a probability distribution: numbers $p_k$ with $0 < p_k < 1$ and
# $\sum_k p_k = 1$, largest where $z$ is largest.

# %%
import numpy as np

import pycnn

np.random.seed(0)
np.set_printoptions(precision=4, suppress=True)

# %% [markdown]
# ## A naive normalisation fails
#
# Dividing by the sum, $p_k = z_k / \sum_j z_j$, sums to 1 but is no probability: the
# lecture's example $[1, -1, 2] \mapsto [0.5, -0.5, 1.0]$ has a negative "probability"
# and one equal to 1 (and a sum of zero would divide by zero).

# %%
z = pycnn.tensor([1.0, -1.0, 2.0], requires_grad=True, name="z")
naive = pycnn.naive_normalize(z)
naive

# %%
naive.explain()

# %% [markdown]
# ## The exponential version
#
# Exponentiate first — $e^{z}$ is always positive and keeps the order — then normalise:
#
# $$p_k = \mathrm{softmax}(z)_k = \frac{e^{z_k}}{\sum_{j=1}^{K} e^{z_j}}$$

# %%
p = pycnn.softmax(z)
p

# %%
p.explain()

# %% [markdown]
# ## Its three properties, checked numerically
#
# 1. every $p_k$ lies strictly between 0 and 1;
# 2. $\sum_k p_k = 1$;
# 3. the order is kept: $z_i > z_j \iff p_i > p_j$.
#
# We check them on 1,000 random logit vectors of 10 classes, with logits up to ±20:

# %%
Z = np.random.default_rng(0).uniform(-20, 20, size=(1000, 10))
P = pycnn.softmax(pycnn.tensor(Z, dtype="float64")).numpy()
print("1. all in (0, 1):        ", bool(((P > 0) & (P < 1)).all()))
print("2. rows sum to 1:        ", bool(np.allclose(P.sum(axis=1), 1.0)),
      " (largest error", np.abs(P.sum(axis=1) - 1).max(), ")")
print("3. same order as logits: ", bool((np.argsort(Z, axis=1) == np.argsort(P, axis=1)).all()))

# %% [markdown]
# A fourth, useful one: adding the same constant $c$ to every logit changes nothing,
# because $e^{z_k + c} / \sum_j e^{z_j + c} = e^c e^{z_k} / (e^c \sum_j e^{z_j})$.

# %%
print(pycnn.softmax(z).numpy(), pycnn.softmax(z + 100.0).numpy())

# %% [markdown]
# ## Overflow, and the fix
#
# $e^{1000}$ does not fit in a float (the largest float64 is about $1.8 \times 10^{308}$,
# $e^{710}$ already overflows). Computed literally, large logits give `inf / inf = nan`:

# %%
big = np.array([1000.0, 999.0, 990.0])
with np.errstate(over="ignore", invalid="ignore"):
    literal = np.exp(big) / np.exp(big).sum()
print("literal formula:", literal)

# %% [markdown]
# The fourth property is the fix: subtract $m = \max_j z_j$ first. Then every exponent
# is $\le 0$, the largest term is $e^0 = 1$, nothing overflows, and the result is the same.
# pycnn's softmax (in C) does exactly this:

# %%
shifted = np.exp(big - big.max()) / np.exp(big - big.max()).sum()
print("max subtracted: ", shifted)
p_big = pycnn.softmax(pycnn.tensor(big, dtype="float64", requires_grad=True))
print("pycnn.softmax:  ", p_big.numpy())
p_big.explain()

# %% [markdown]
# ## Softmax and cross-entropy
#
# With a one-hot target $y$ (the true class is $t$), the cross-entropy is
# $E = -\sum_k y_k \ln p_k = -\ln p_t$: small when the true class gets a large
# probability. Its gradient with respect to the logits is remarkably simple,
#
# $$\frac{\partial E}{\partial z_k} = p_k - y_k,$$
#
# which pycnn's autograd reproduces:

# %%
y = pycnn.tensor([[0.0, 1.0, 0.0]])
logits = pycnn.tensor([[1.0, -1.0, 2.0]], dtype="float64", requires_grad=True)
E = pycnn.losses.categorical_crossentropy(y, logits, from_logits=True)
E.backward()
print("E =", round(E.item(), 4))
print("autograd dE/dz:", logits.grad.numpy())
print("p − y:         ", pycnn.softmax(logits).numpy() - y.numpy())
E.explain()

# %% [markdown]
# ## Explore
#
# Move the logits and pick the true class: the probabilities and the cross-entropy
# follow. The table shows a few settings worth trying; with `ipywidgets` installed
# (as in Jupyter) sliders appear below it.

# %%
CLASSES = ["cat", "dog", "bird"]


def explore(z1=1.0, z2=-1.0, z3=2.0, target="dog"):
    """Softmax probabilities and the cross-entropy for one setting of the logits."""
    logits = pycnn.tensor([[z1, z2, z3]], dtype="float64", requires_grad=True)
    onehot = np.eye(3)[[CLASSES.index(target)]]
    probs = pycnn.softmax(logits).numpy()[0]
    loss = pycnn.losses.categorical_crossentropy(onehot, logits, from_logits=True).item()
    return probs, loss


def table(settings):
    rows = ["| z (cat, dog, bird) | target | p(cat) | p(dog) | p(bird) | cross-entropy |",
            "|---|---|---|---|---|---|"]
    for *zs, target in settings:
        probs, loss = explore(*zs, target)
        rows.append(f"| {', '.join(f'{v:g}' for v in zs)} | {target} | "
                    + " | ".join(f"{q:.4f}" for q in probs) + f" | {loss:.4f} |")
    return "\n".join(rows)


from IPython.display import Markdown, display  # noqa: E402

display(Markdown(table([(1, -1, 2, "dog"), (1, -1, 2, "bird"), (0, 0, 0, "dog"),
                        (10, 0, 0, "cat"), (10, 0, 0, "dog"), (1000, 999, 990, "cat")])))

# %%
try:
    import ipywidgets as widgets
except ImportError:
    widgets = None
    print("ipywidgets is not installed: the table above shows what the explorer computes.")

if widgets is not None:
    def show(z1, z2, z3, target):
        probs, loss = explore(z1, z2, z3, target)
        bars = "\n".join(f"{c:>5} {q:6.4f} " + "█" * int(round(40 * q))
                         for c, q in zip(CLASSES, probs))
        print(f"{bars}\n\ncross-entropy −ln p({target}) = {loss:.4f}")

    slider = dict(min=-10.0, max=10.0, step=0.1, continuous_update=True)
    display(widgets.interactive(show, z1=widgets.FloatSlider(value=1.0, description="z cat", **slider),
                                z2=widgets.FloatSlider(value=-1.0, description="z dog", **slider),
                                z3=widgets.FloatSlider(value=2.0, description="z bird", **slider),
                                target=widgets.Dropdown(options=CLASSES, value="dog")))
