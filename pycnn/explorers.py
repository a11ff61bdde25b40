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
import html

import numpy as np

from . import _core
from .display import fmt

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

    def __init__(self, title, controls, values, compute, lines, draw=None, figsize=(5, 3)):
        self.title = title
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
        missing = [n for n in self.controls if n not in self.values]
        if missing:
            raise TypeError(f"{self.title}: missing values {missing}")
        self.numbers = self._compute(**self.values)
        return self

    @property
    def text(self):
        return "\n".join(self._lines(self.values, self.numbers))

    def __str__(self):
        return f"{self.title}\n{self.text}"

    __repr__ = __str__

    def _repr_html_(self):
        return (f"<div><b>{html.escape(self.title)}</b><pre class='pycnn-explorer-text'>"
                f"{html.escape(self.text)}</pre></div>")

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

        def refresh(change=None):
            self.update(**{n: w.value for n, w in controls.items()})
            text.value = "<pre>" + html.escape(self.text) + "</pre>"
            if self._draw is not None:
                import matplotlib.pyplot as plt
                from IPython.display import display
                with plot:
                    plot.clear_output(wait=True)
                    fig = self.figure()
                    display(fig)
                    plt.close(fig)
        for w in controls.values():
            w.observe(refresh, names="value")
        refresh()
        box = widgets.VBox([widgets.HTML(f"<b>{html.escape(self.title)}</b>"),
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
    return fmt(float(x), digits).replace("-", "−")


def _leaf(values):
    t = _core.tensor(np.asarray(values, dtype=np.float64))
    t.requires_grad = True
    return t


# ---- cross-entropy: categorical and binary -----------------------------------------------

def _ce_compute(p, kind, y):
    if kind == "categorical":
        # the true class has probability p; the other two share 1 − p equally
        probs = np.array([[p, (1 - p) / 2, (1 - p) / 2]])
        truth = np.array([[1.0, 0.0, 0.0]])
    else:
        probs, truth = np.array([[p]]), np.array([[float(y)]])
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
    ps = np.linspace(0.01, 0.99, 199)
    if v["kind"] == "categorical" or int(v["y"]) == 1:
        ax.plot(ps, -np.log(ps), label="E = −ln p")
    else:
        ax.plot(ps, -np.log(1 - ps), label="E = −ln(1 − p)")
    ax.plot([v["p"]], [r["E"]], "o", color="tab:red")
    slope = -1 / v["p"] if v["kind"] == "categorical" else r["dE_dp"]
    xs = np.array([v["p"] - 0.15, v["p"] + 0.15])
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
