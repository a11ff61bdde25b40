"""Interactive explorers of the lecture's formulas (ipywidgets), each usable without a
kernel by calling it with values.

    >>> e = pycnn.explorers.cross_entropy(p=0.6)
    >>> e.numbers["E"]            # computed by pycnn's own loss, in C
    0.5108...
    >>> print(e)                  # the lines the explorer shows
    >>> e.figure()                # the picture, for a static page
    >>> e                         # in Jupyter: sliders; every move recomputes

Every explorer is an ``Explorer``: ``controls`` (name → slider/dropdown/toggle spec),
``compute(**values)`` → numbers, ``lines(values, numbers)`` → the text shown, and
``draw(fig, values, numbers)`` → the picture. Calling ``explorer.update(name=value)``
changes values from Python (what a slider does); ``.numbers``, ``.text`` and
``.figure()`` always describe the current values. In Jupyter with ipywidgets it shows
as live widgets (``widget()``); elsewhere as its text (and ``_repr_html_``).
"""
import html as _html

import numpy as _np

from . import _core
from .display import fmt as _fmt

__all__ = ["Explorer", "Slider", "Choice", "Toggle", "cross_entropy"]


# ---- controls -------------------------------------------------------------------------

class Slider:
    """A float (or int, with ``integer=True``) slider from ``low`` to ``high``."""

    def __init__(self, low, high, step, description=None, integer=False, readout_format=None):
        self.low, self.high, self.step = low, high, step
        self.description = description
        self.integer = integer
        self.readout_format = readout_format

    def check(self, name, value):
        value = int(value) if self.integer else float(value)
        if not self.low <= value <= self.high:
            raise ValueError(f"{name} must lie in [{self.low}, {self.high}], got {value}")
        return value

    def widget(self, name, value):
        import ipywidgets as widgets
        cls = widgets.IntSlider if self.integer else widgets.FloatSlider
        kw = {} if self.readout_format is None else {"readout_format": self.readout_format}
        return cls(value=value, min=self.low, max=self.high, step=self.step,
                   description=self.description or name, continuous_update=True,
                   style={"description_width": "initial"}, **kw)


class Choice:
    """One of a few options (a dropdown)."""

    def __init__(self, options, description=None):
        self.options = list(options)
        self.description = description

    def check(self, name, value):
        if value not in self.options:
            raise ValueError(f"{name} must be one of {self.options}, got {value!r}")
        return value

    def widget(self, name, value):
        import ipywidgets as widgets
        return widgets.Dropdown(options=self.options, value=value,
                                description=self.description or name,
                                style={"description_width": "initial"})


class Toggle:
    """A choice shown as toggle buttons (0 / 1 / ?)."""

    def __init__(self, options, description=None):
        self.options = list(options)
        self.description = description

    check = Choice.check

    def widget(self, name, value):
        import ipywidgets as widgets
        return widgets.ToggleButtons(options=self.options, value=value,
                                     description=self.description or name,
                                     style={"description_width": "initial",
                                            "button_width": "2.6em"})


# ---- the explorer -----------------------------------------------------------------------

class Explorer:
    """Controls, a computation and its display; see the module docstring."""

    def __init__(self, title, controls, values, compute, lines, draw=None, figsize=(5, 3),
                 on_change=None):
        self.title = title
        self._on_change = on_change       # (name, value, values) -> {other name: value}
        self.controls = controls
        self._compute = compute
        self._lines = lines
        self._draw = draw
        self.figsize = figsize
        self.values = {}
        self.update(**values)

    def update(self, **values):
        """Set some values (checked against their control) and recompute."""
        for name, value in values.items():
            if name not in self.controls:
                raise TypeError(f"{self.title}: unknown value {name!r}; the controls are "
                                f"{', '.join(self.controls)}")
            self.values[name] = self.controls[name].check(name, value)
        if self._on_change is not None and self.numbers_ready():
            for name in values:                    # e.g. a preset fills the kernel
                for other, value in (self._on_change(name, self.values[name], self.values)
                                     or {}).items():
                    if other not in values:
                        self.values[other] = self.controls[other].check(other, value)
        missing = [n for n in self.controls if n not in self.values]
        if missing:
            raise TypeError(f"{self.title}: missing values {missing}")
        self.numbers = self._compute(**self.values)
        return self

    def numbers_ready(self):
        return all(n in self.values for n in self.controls)

    @property
    def text(self):
        return "\n".join(self._lines(self.values, self.numbers))

    def __str__(self):
        return f"{self.title}\n{self.text}"

    __repr__ = __str__

    def _repr_html_(self):
        return (f"<div><b>{_html.escape(self.title)}</b><pre class='pycnn-explorer-text'>"
                f"{_html.escape(self.text)}</pre></div>")

    def figure(self):
        """The picture for the current values (a matplotlib Figure), or None."""
        if self._draw is None:
            return None
        import matplotlib.pyplot as plt
        fig = plt.figure(figsize=self.figsize)
        self._draw(fig, self.values, self.numbers)
        return fig

    def widget(self):
        """Live controls: every change recomputes the numbers, the text and the figure."""
        import ipywidgets as widgets
        controls = {n: c.widget(n, self.values[n]) for n, c in self.controls.items()}
        text = widgets.HTML()
        text.add_class("pycnn-explorer-text")
        plot = widgets.Output()

        busy = []

        def refresh(name=None, change=None):
            if busy:
                return
            if name is None:
                self.update()
            else:
                self.update(**{name: change["new"]})
            busy.append(True)                    # write linked values back to their widgets
            try:
                for n, w in controls.items():
                    if w.value != self.values[n]:
                        w.value = self.values[n]
            finally:
                busy.pop()
            text.value = "<pre>" + _html.escape(self.text) + "</pre>"
            if self._draw is not None:
                import matplotlib.pyplot as plt
                from IPython.display import display
                with plot:
                    plot.clear_output(wait=True)
                    fig = self.figure()
                    display(fig)
                    plt.close(fig)
        for n, w in controls.items():
            w.observe(lambda change, n=n: refresh(n, change), names="value")
        refresh()
        box = widgets.VBox([widgets.HTML(f"<b>{_html.escape(self.title)}</b>"),
                            widgets.HBox(list(controls.values()),
                                         layout=widgets.Layout(flex_flow="row wrap")),
                            text, plot])
        box.add_class("pycnn-explorer")
        box.controls = controls
        return box

    def _ipython_display_(self):
        from IPython.display import display
        try:
            display(self.widget())
        except ImportError:                       # no ipywidgets: the static view
            display({"text/html": self._repr_html_(), "text/plain": str(self)}, raw=True)


def _num(x, digits=4):
    """A number as the explorers write it: 4 significant digits, a real minus sign."""
    return _fmt(float(x), digits).replace("-", "−")


def _neg(x):
    """A number as an operand: (−1) in parentheses when negative."""
    s = _num(x)
    return f"({s})" if float(x) < 0 else s


def _leaf(values):
    t = _core.tensor(_np.asarray(values, dtype=_np.float64))
    t.requires_grad = True
    return t


# ---- cross-entropy: categorical and binary -----------------------------------------------

def _ce_compute(p, kind, y):
    if kind == "categorical":
        # the true class has probability p; the other two share 1 − p equally
        probs = _np.array([[p, (1 - p) / 2, (1 - p) / 2]])
        truth = _np.array([[1.0, 0.0, 0.0]])
    else:
        probs, truth = _np.array([[p]]), _np.array([[float(y)]])
    from . import losses
    pred = _leaf(probs)
    loss_fn = (losses.categorical_crossentropy if kind == "categorical"
               else losses.binary_crossentropy)
    E = loss_fn(truth, pred).sum()
    E.backward()
    return {"E": E.item(), "dE_dp": float(pred.grad.numpy()[0, 0]), "probs": probs[0],
            "truth": truth[0]}


def _ce_lines(v, r):
    p = v["p"]
    if v["kind"] == "categorical":
        return [f"p = {_vec(r['probs'])}, y = {_vec(r['truth'])} (class 1 is the true one)",
                f"E = −Σ_k y_k ln p_k = −ln p_1 = −ln {_num(p)} = {_num(r['E'])}",
                f"along the curve (the others share 1 − p): dE/dp = −1/p = {_num(-1 / p)}",
                f"∂E/∂p_1 by backward = −1/p_1 + 1 = {_num(r['dE_dp'])}   (pycnn, as Keras, "
                f"first rescales p to sum to 1: that adds Σ_j y_j / Σ_j p_j = 1)"]
    y = int(v["y"])
    return [f"p = {_num(p)}, y = {y}",
            f"E = −[y ln p + (1 − y) ln(1 − p)] = −ln {_num(p if y else 1 - p)} = "
            f"{_num(r['E'])}",
            f"∂E/∂p = (p − y) / (p(1 − p)) = {_num(r['dE_dp'])}"]


def _vec(a):
    return "[" + ", ".join(_num(x) for x in a) + "]"


def _ce_draw(fig, v, r):
    ax = fig.add_subplot(1, 1, 1)
    ps = _np.linspace(0.01, 0.99, 199)
    if v["kind"] == "categorical" or int(v["y"]) == 1:
        ax.plot(ps, -_np.log(ps), label="E = −ln p")
    else:
        ax.plot(ps, -_np.log(1 - ps), label="E = −ln(1 − p)")
    ax.plot([v["p"]], [r["E"]], "o", color="tab:red")
    slope = -1 / v["p"] if v["kind"] == "categorical" else r["dE_dp"]
    xs = _np.array([v["p"] - 0.15, v["p"] + 0.15])
    ax.plot(xs, r["E"] + slope * (xs - v["p"]), "--", color="tab:red",
            label=f"slope dE/dp = {_num(slope)}")
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 5)
    ax.set_xlabel("p (probability given to the true answer)" if v["kind"] == "categorical"
                  else "p (predicted probability of class 1)")
    ax.set_ylabel("loss E")
    ax.legend(fontsize=8)
    fig.tight_layout()


def cross_entropy(p=0.6, kind="categorical", y=1):
    """Drag p, see −ln p, the loss and its gradient (pycnn's loss and backward, in C).

    ``kind="categorical"``: three classes, the first true; p is its probability, the
    others share 1 − p. ``kind="binary"``: one output p, target ``y`` (0 or 1).
    """
    return Explorer("cross-entropy", {
        "p": Slider(0.01, 0.99, 0.01, "p"),
        "kind": Choice(["categorical", "binary"], "loss"),
        "y": Toggle([0, 1], "y (binary)"),
    }, {"p": p, "kind": kind, "y": y}, _ce_compute, _ce_lines, _ce_draw)


# ---- multi-label cross-entropy with "?" (unknown) labels ---------------------------------

_LABELS = ("cat", "dog", "car", "tree")


def _ml_compute(**v):
    from . import losses
    p = _np.array([[v[f"p_{k}"] for k in _LABELS]])
    y = _np.array([[_np.nan if v[f"y_{k}"] == "?" else float(v[f"y_{k}"]) for k in _LABELS]])
    pred = _leaf(p)
    E = losses.multilabel_crossentropy(y, pred).sum()
    E.backward()
    with _np.errstate(divide="ignore", invalid="ignore"):
        terms = _np.where(_np.isnan(y), 0.0, -(y * _np.log(p) + (1 - y) * _np.log(1 - p)))
    return {"E": E.item(), "terms": terms[0], "grad": pred.grad.numpy()[0].copy(),
            "y": y[0], "p": p[0]}


def _ml_lines(v, r):
    lines = ["E = Σ_k [−y_k ln p_k − (1 − y_k) ln(1 − p_k)] over the known labels ('?' adds 0)"]
    for k, name in enumerate(_LABELS):
        y, p = r["y"][k], r["p"][k]
        if _np.isnan(y):
            lines.append(f"{name}: y = ?   p = {_num(p)}   term 0 (unknown: no loss, "
                         f"∂E/∂p = {_num(r['grad'][k])})")
        else:
            written = f"−ln {_num(p)}" if y == 1 else f"−ln(1 − {_num(p)})"
            lines.append(f"{name}: y = {int(y)}   p = {_num(p)}   term {written} = "
                         f"{_num(r['terms'][k])}   ∂E/∂p = {_num(r['grad'][k])}")
    known = " + ".join(_num(t) for t, y in zip(r["terms"], r["y"]) if not _np.isnan(y)) or "0"
    lines.append(f"E = {known} = {_num(r['E'])}")
    return lines


def _ml_draw(fig, v, r):
    ax = fig.add_subplot(1, 1, 1)
    colours = ["0.7" if _np.isnan(y) else "tab:blue" for y in r["y"]]
    ax.bar(range(len(_LABELS)), r["terms"], color=colours)
    for k, y in enumerate(r["y"]):
        ax.text(k, r["terms"][k] + 0.05, "?" if _np.isnan(y) else f"y={int(y)}",
                ha="center", fontsize=8)
    ax.set_xticks(range(len(_LABELS)), _LABELS)
    ax.set_ylabel("loss term")
    ax.set_title(f"E = {_num(r['E'])}", fontsize=9)
    ax.set_ylim(0, max(5, float(r["terms"].max()) + 0.5))
    fig.tight_layout()


def multilabel(**values):
    """One image, four labels (cat, dog, car, tree): a probability slider each and a
    0 / 1 / ? toggle each; "?" (unknown) labels add nothing to the loss or gradient."""
    controls, defaults = {}, {}
    for k, (name, p, y) in enumerate(zip(_LABELS, (0.8, 0.3, 0.6, 0.1), (1, 0, "?", 0))):
        controls[f"p_{name}"] = Slider(0.01, 0.99, 0.01, f"p {name}")
        controls[f"y_{name}"] = Toggle([0, 1, "?"], f"y {name}")
        defaults[f"p_{name}"], defaults[f"y_{name}"] = p, y
    defaults.update(values)
    return Explorer("multi-label cross-entropy", controls, defaults, _ml_compute, _ml_lines,
                    _ml_draw)


# ---- YOLO: one cell, two predicted boxes, the truth -----------------------------------

_YOLO_TRUTH = (0.5, 0.5, 0.4, 0.5)          # x, y, w, h of the true box (one cell: S = 1)


def _iou(a, b):
    ax0, ay0, ax1, ay1 = a[0] - a[2] / 2, a[1] - a[3] / 2, a[0] + a[2] / 2, a[1] + a[3] / 2
    bx0, by0, bx1, by1 = b[0] - b[2] / 2, b[1] - b[3] / 2, b[0] + b[2] / 2, b[1] + b[3] / 2
    inter = max(0.0, min(ax1, bx1) - max(ax0, bx0)) * max(0.0, min(ay1, by1) - max(ay0, by0))
    union = a[2] * a[3] + b[2] * b[3] - inter
    return inter / union if union > 0 else 0.0


def _yolo_compute(x, y, w, h, conf1, conf2, p_class):
    from . import losses
    truth = _np.zeros((1, 1, 1, 7))
    truth[0, 0, 0] = list(_YOLO_TRUTH) + [1.0, 1.0, 0.0]
    box2 = (0.45, 0.55, 0.2, 0.2)
    pred = _np.zeros((1, 1, 1, 12))
    pred[0, 0, 0] = [x, y, w, h, conf1, *box2, conf2, p_class, 1 - p_class]
    total, parts = losses.yolo_loss(truth, _leaf(pred), S=1, B=2, C=2, return_parts=True)
    ious = [_iou((x, y, w, h), _YOLO_TRUTH), _iou(box2, _YOLO_TRUTH)]
    return {"total": total.item(), "parts": {k: float(v.item()) for k, v in parts.items()},
            "iou": ious, "responsible": int(_np.argmax(ious)), "box2": box2}


def _yolo_lines(v, r):
    resp = r["responsible"] + 1
    lines = [f"IoU(box 1, truth) = {_num(r['iou'][0])}   IoU(box 2, truth) = "
             f"{_num(r['iou'][1])}  →  box {resp} is responsible (the higher IoU)"]
    names = {"coord_xy": "λ_coord Σ 1obj [(x − x̂)² + (y − ŷ)²]",
             "coord_wh": "λ_coord Σ 1obj [(√w − √ŵ)² + (√h − √ĥ)²]",
             "obj": "Σ 1obj (Ĉ − 1)²", "noobj": "λ_noobj Σ 1noobj Ĉ²",
             "cls": "Σ_c (p(c) − p̂(c))²"}
    for key, formula in names.items():
        lines.append(f"{formula} = {_num(r['parts'][key])}")
    lines.append("E = " + " + ".join(_num(r["parts"][k]) for k in names) +
                 f" = {_num(r['total'])}")
    return lines


def _yolo_draw(fig, v, r):
    from matplotlib.patches import Rectangle
    ax = fig.add_subplot(1, 1, 1)
    boxes = [(_YOLO_TRUTH, "truth", "tab:green", "-"),
             ((v["x"], v["y"], v["w"], v["h"]), "box 1", "tab:red", "--"),
             (r["box2"], "box 2", "tab:blue", "--")]
    for (cx, cy, w, h), label, colour, style in boxes:
        lw = 3 if label == f"box {r['responsible'] + 1}" or label == "truth" else 1.5
        ax.add_patch(Rectangle((cx - w / 2, cy - h / 2), w, h, fill=False, edgecolor=colour,
                               lw=lw, ls=style))
        ax.text(cx - w / 2, cy - h / 2 - 0.015, label, color=colour, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_ylim(1, 0)
    ax.set_aspect("equal")
    ax.set_title(f"responsible: box {r['responsible'] + 1}, E = {_num(r['total'])}",
                 fontsize=9)
    fig.tight_layout()


def yolo(x=0.55, y=0.45, w=0.3, h=0.4, conf1=0.7, conf2=0.3, p_class=0.8):
    """One grid cell (S = 1) with two predictors (B = 2) and two classes: move and resize
    box 1; the IoU of each box with the truth, which one is responsible, and the five
    terms of pycnn's YOLO loss update."""
    return Explorer("YOLO loss", {
        "x": Slider(0.0, 1.0, 0.01, "x"), "y": Slider(0.0, 1.0, 0.01, "y"),
        "w": Slider(0.02, 1.0, 0.01, "w"), "h": Slider(0.02, 1.0, 0.01, "h"),
        "conf1": Slider(0.0, 1.0, 0.01, "Ĉ box 1"), "conf2": Slider(0.0, 1.0, 0.01, "Ĉ box 2"),
        "p_class": Slider(0.0, 1.0, 0.01, "p̂(class 1)"),
    }, {"x": x, "y": y, "w": w, "h": h, "conf1": conf1, "conf2": conf2, "p_class": p_class},
        _yolo_compute, _yolo_lines, _yolo_draw, figsize=(3.6, 3.6))


# ---- activation functions with α, β and the derivative --------------------------------

_ACTIVATIONS = ("relu", "leaky_relu", "elu", "sigmoid", "tanh", "swish")


def _act_fn(name, alpha, beta):
    return {"relu": _core.relu, "sigmoid": _core.sigmoid, "tanh": _core.tanh,
            "leaky_relu": lambda t: _core.leaky_relu(t, alpha),
            "elu": lambda t: _core.elu(t, alpha),
            "swish": lambda t: _core.swish(t, beta)}[name]


def _act_compute(function, x, alpha, beta):
    from .viz import activation_curve
    fn = _act_fn(function, alpha, beta)
    y, dy = activation_curve(fn, _np.array([x]))
    return {"y": float(y[0]), "dy": float(dy[0])}


_ACT_FORMULAS = {"relu": "max(0, x)", "leaky_relu": "x if x > 0 else α·x",
                 "elu": "x if x > 0 else α(eˣ − 1)", "sigmoid": "1 / (1 + e^(−x))",
                 "tanh": "(eˣ − e^(−x)) / (eˣ + e^(−x))", "swish": "x·σ(β·x)"}


def _act_lines(v, r):
    uses = {"leaky_relu": f"α = {_num(v['alpha'])}", "elu": f"α = {_num(v['alpha'])}",
            "swish": f"β = {_num(v['beta'])}"}.get(v["function"], "")
    return [f"{v['function']}(x) = {_ACT_FORMULAS[v['function']]}" + (f",  {uses}" if uses else ""),
            f"at x = {_num(v['x'])}:  y = {_num(r['y'])},  dy/dx = {_num(r['dy'])} "
            f"(pycnn's backward)"]


def _act_draw(fig, v, r):
    from .viz import activation_curve
    ax = fig.add_subplot(1, 1, 1)
    xs = _np.linspace(-4, 4, 161)
    y, dy = activation_curve(_act_fn(v["function"], v["alpha"], v["beta"]), xs)
    ax.plot(xs, y, label="y")
    ax.plot(xs, dy, "--", label="dy/dx")
    ax.plot([v["x"]], [r["y"]], "o", color="tab:red")
    ax.plot([v["x"]], [r["dy"]], "o", color="tab:orange")
    ax.axhline(0, color="0.8", lw=0.8)
    ax.axvline(0, color="0.8", lw=0.8)
    ax.set_ylim(-2, 4)
    ax.legend(fontsize=8)
    ax.set_title(v["function"], fontsize=9)
    fig.tight_layout()


def activations(function="leaky_relu", x=-1.0, alpha=0.1, beta=1.0):
    """Pick an activation, set α (leaky ReLU, ELU) and β (swish): the curve, its
    derivative (by pycnn's autograd) and both values at x."""
    return Explorer("activation functions", {
        "function": Choice(_ACTIVATIONS, "function"), "x": Slider(-4.0, 4.0, 0.1, "x"),
        "alpha": Slider(0.0, 2.0, 0.05, "α"), "beta": Slider(0.1, 5.0, 0.1, "β"),
    }, {"function": function, "x": x, "alpha": alpha, "beta": beta}, _act_compute,
        _act_lines, _act_draw)


# ---- convolution: kernel, stride, padding, dilation, the sliding window -----------------

def _presets():
    from . import filters
    return {"sobel_x": filters.sobel_x(), "sobel_y": filters.sobel_y(),
            "identity": _np.array([[0, 0, 0], [0, 1, 0], [0, 0, 0]], float),
            "box blur": _np.full((3, 3), 1 / 9), "sharpen": _np.array([[0, -1, 0], [-1, 5, -1],
                                                                    [0, -1, 0]], float)}


def digit(index=0, scale=3):
    """One of the 8×8 digits scaled up (each pixel a scale×scale block), values 0..1."""
    from .datasets import digits
    (x, _), _ = digits.load_data()
    return _np.kron(x[index].astype(_np.float64), _np.ones((scale, scale)))


_KERNEL = [f"k{u}{v}" for u in range(3) for v in range(3)]


def _conv_geometry(H, K, S, P, D):
    span = D * (K - 1) + 1
    out = (H + 2 * P - span) // S + 1
    return span, out


def _conv_compute(**v):
    image = digit(int(v["digit"]))
    K = _np.array([v[k] for k in _KERNEL]).reshape(3, 3)
    S, P, D = int(v["stride"]), int(v["padding"]), int(v["dilation"])
    H = image.shape[0]
    span, out = _conv_geometry(H, 3, S, P, D)
    if out < 1:
        return {"out": out, "H": H, "span": span, "image": image, "K": K}
    dilated = _np.zeros((span, span))
    dilated[::D, ::D] = K                            # dilation: zeros between the taps
    padded = _np.pad(image, P)
    y = _core.conv2d(_core.tensor(padded[None, :, :, None]),
                     _core.tensor(dilated[:, :, None, None]), strides=S).numpy()[0, :, :, 0]
    i, j = min(int(v["row"]), out - 1), min(int(v["col"]), out - 1)
    rows, cols = i * S + D * _np.arange(3), j * S + D * _np.arange(3)
    window = padded[_np.ix_(rows, cols)]
    return {"out": out, "H": H, "span": span, "image": image, "padded": padded, "K": K,
            "y": y, "i": i, "j": j, "rows": rows, "cols": cols, "window": window,
            "value": float(y[i, j])}


def _conv_lines(v, r):
    S, P, D, H = int(v["stride"]), int(v["padding"]), int(v["dilation"]), r["H"]
    head = (f"output size = ⌊(H + 2P − D(K − 1) − 1)/S⌋ + 1 = ⌊({H} + 2·{P} − {D}·(3 − 1) − 1)"
            f"/{S}⌋ + 1 = {r['out']}")
    if D == 1:
        head += f"   (D = 1: (H + 2P − K)/S + 1 = ({H} + {2 * P} − 3)/{S} + 1)"
    if r["out"] < 1:
        return [head, "the dilated kernel does not fit in the padded image"]
    terms = " + ".join(f"{_neg(a)}·{_neg(b)}" for a, b in zip(r["window"].reshape(-1),
                                                           r["K"].reshape(-1)))
    return [head,
            f"output ({r['i']}, {r['j']}) reads padded rows {[int(a) for a in r['rows']]}, "
            f"columns {[int(a) for a in r['cols']]}:",
            f"y[{r['i']}, {r['j']}] = {terms} = {_num(r['value'])}"]


def _conv_draw(fig, v, r):
    from matplotlib.patches import Rectangle
    if r["out"] < 1:
        return
    a1, a2 = fig.add_subplot(1, 2, 1), fig.add_subplot(1, 2, 2)
    a1.imshow(r["padded"], cmap="gray")
    for rr in r["rows"]:
        for cc in r["cols"]:
            a1.add_patch(Rectangle((cc - 0.5, rr - 0.5), 1, 1, fill=False, edgecolor="tab:red",
                                   lw=1.5))
    P = int(v["padding"])
    if P:
        a1.add_patch(Rectangle((P - 0.5, P - 0.5), r["H"], r["H"], fill=False,
                               edgecolor="tab:blue", lw=1, ls="--"))
    a1.set_title(f"input {r['H']}×{r['H']} (+ padding {P})", fontsize=8)
    bound = float(_np.abs(r["y"]).max()) or 1.0
    a2.imshow(r["y"], cmap="RdBu_r", vmin=-bound, vmax=bound)
    a2.add_patch(Rectangle((r["j"] - 0.5, r["i"] - 0.5), 1, 1, fill=False, edgecolor="k", lw=2))
    a2.set_title(f"output {r['out']}×{r['out']}", fontsize=8)
    for ax in (a1, a2):
        ax.axis("off")
    fig.tight_layout()


def _conv_link(name, value, values):
    if name == "preset" and value != "custom":
        return dict(zip(_KERNEL, _presets()[value].reshape(-1).tolist()))
    if name in _KERNEL:
        K = _np.array([values[k] for k in _KERNEL]).reshape(3, 3)
        match = [n for n, p in _presets().items() if _np.allclose(p, K)]
        return {"preset": match[0] if match else "custom"}
    return {}


def convolution(preset="sobel_x", stride=1, padding=0, dilation=1, row=5, col=5, digit=0,
                **kernel):
    """Convolution (cross-correlation, as every CNN library computes it) over a digit:
    a kernel from a preset (Sobel x/y, identity, box blur, sharpen) or typed value by
    value, stride, padding and dilation; the output-size formula with its numbers, and
    the window of output (row, col) with its products, by pycnn.conv2d."""
    values = {"preset": preset, "stride": stride, "padding": padding, "dilation": dilation,
              "row": row, "col": col, "digit": digit}
    base = _presets()[preset] if preset != "custom" else _np.zeros((3, 3))
    values.update(dict(zip(_KERNEL, base.reshape(-1).tolist())))
    values.update(kernel)
    controls = {"preset": Choice(list(_presets()) + ["custom"], "kernel"),
                "stride": Slider(1, 3, 1, "stride S", integer=True),
                "padding": Slider(0, 2, 1, "padding P", integer=True),
                "dilation": Slider(1, 3, 1, "dilation D", integer=True),
                "row": Slider(0, 25, 1, "row", integer=True),
                "col": Slider(0, 25, 1, "column", integer=True),
                "digit": Slider(0, 9, 1, "digit", integer=True)}
    controls.update({k: Slider(-5.0, 5.0, 0.25, k) for k in _KERNEL})
    return Explorer("convolution", controls, values, _conv_compute, _conv_lines, _conv_draw,
                    figsize=(6, 3), on_change=_conv_link)


# ---- learn the Sobel kernel ---------------------------------------------------------------

class SobelLearner:
    """A 3×3 Conv2D (no bias) trained to reproduce Sobel-x's output on digits: its weights
    converge to the Sobel kernel while you watch. ``train(steps)`` runs Adam steps and
    returns self; ``kernel``, ``losses``, ``figure()``; in Jupyter a Play button trains
    and redraws."""

    def __init__(self, learning_rate=0.1, n_images=64, seed=0):
        from . import filters, layers, models, set_seed
        set_seed(seed)
        # the 8×8 digits as they are: scaled-up (blocky) ones leave the kernel ill-determined
        images = _np.stack([digit(i, scale=1) for i in range(n_images)])[..., None]
        images = images.astype(_np.float32)
        self.target_kernel = filters.sobel_x().astype(_np.float32)
        self.x = images
        self.y = _core.conv2d(_core.tensor(images), _core.tensor(
            self.target_kernel[:, :, None, None]), padding="same").numpy()
        self.model = models.Sequential([layers.Conv2D(1, 3, padding="same", use_bias=False,
                                                      input_shape=images.shape[1:])])
        self.model.compile(__import__("pycnn").optimizers.Adam(learning_rate), "mse")
        self.losses = [float(self.model.evaluate(self.x, self.y, verbose=0))]
        self.steps = 0

    @property
    def kernel(self):
        return self.model.layers[0].get_weights()[0][:, :, 0, 0].copy()

    def train(self, steps=50):
        for _ in range(int(steps)):
            self.losses.append(float(self.model.train_on_batch(self.x, self.y)))
            self.steps += 1
        return self

    def __repr__(self):
        k = _np.array2string(self.kernel, precision=2, suppress_small=True)
        return (f"learning Sobel-x: step {self.steps}, loss {self.losses[-1]:.4g}, "
                f"largest weight error {_np.abs(self.kernel - self.target_kernel).max():.3g}\n"
                f"kernel =\n{k}")

    def figure(self):
        import matplotlib.pyplot as plt
        fig, axes = plt.subplots(1, 3, figsize=(7.5, 2.6))
        for ax, k, title in ((axes[0], self.kernel, f"learned (step {self.steps})"),
                             (axes[1], self.target_kernel, "Sobel x")):
            ax.imshow(k, cmap="RdBu_r", vmin=-2.5, vmax=2.5)
            for (a, b), val in _np.ndenumerate(k):
                ax.text(b, a, f"{val:.2f}", ha="center", va="center", fontsize=8)
            ax.set_title(title, fontsize=9)
            ax.axis("off")
        axes[2].semilogy(self.losses)
        axes[2].set_xlabel("step")
        axes[2].set_title("MSE to Sobel's output", fontsize=9)
        fig.tight_layout()
        return fig

    def widget(self, steps_per_frame=10, frames=40):
        import ipywidgets as widgets
        import matplotlib.pyplot as plt
        from IPython.display import display
        play = widgets.Play(value=0, min=0, max=frames, interval=300, description="train")
        text, plot = widgets.HTML(), widgets.Output()

        def show(change=None):
            if change is not None and change["new"] > change["old"]:
                self.train(steps_per_frame * (change["new"] - change["old"]))
            text.value = "<pre>" + _html.escape(repr(self)) + "</pre>"
            with plot:
                plot.clear_output(wait=True)
                fig = self.figure()
                display(fig)
                plt.close(fig)
        play.observe(show, names="value")
        show()
        return widgets.VBox([widgets.HTML("<b>learn the Sobel kernel</b>"), play, text, plot])

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget())


def learn_sobel(steps=0, learning_rate=0.1):
    """``SobelLearner`` after ``steps`` training steps (0: watch it from the start)."""
    return SobelLearner(learning_rate).train(steps)


__all__ += ["multilabel", "yolo", "activations", "convolution", "digit", "learn_sobel",
            "SobelLearner"]
