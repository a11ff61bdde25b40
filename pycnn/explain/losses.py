"""Explainers of the losses (ops.def: losses): one line per sample (its formula with its
numbers), then the reduction.

A loss node's parents are (y_pred, y_true); its value is the per-sample vector
('none'), or their mean or sum. Which reduction it was is read from the numbers.
"""
import numpy as _np

from .activations import _softmax_reference as _softmax_rows
from .render import ROWS, _join, _shape, _values

EPSILON = 1e-7      # Keras' clip of probabilities: [ε, 1 − ε]


def _loss_rows(t, rows_are_samples=False):
    """(y_pred, y_true) as float64 rows: one row per sample (the first axis) for the
    squared errors, else one row per vector along the last axis."""
    pred, true = (_values(p) for p in t.parents)
    pred = _np.atleast_1d(pred)
    width = int(_np.prod(pred.shape[1:])) if rows_are_samples else pred.shape[-1]
    return pred.reshape(-1, width), true.reshape(pred.size // width, -1)


def _reduce(t, n, per, counted=None):
    """The line combining per-sample losses E_i into the tensor's value."""
    value = _values(t)
    counted = per if counted is None else counted
    if value.shape != () and value.size == per.size:
        return [n.text(f"reduction 'none': one loss per sample, shape {_shape(value.shape)}")]
    v = float(value)
    terms = _join((n.num(e) for e in counted), " + ", n, limit=5)
    m = counted.size
    if m == 1:
        return []
    if _np.isclose(v, counted.mean(), rtol=1e-4, atol=1e-7):
        return [f"E = {n.over('N')} {n.sum('i', 'E_i' if not n.tex else 'E_{i}')} = "
                f"{n.frac(terms, str(m))} = {n.num(v)}" +
                (n.text(f"  (N = {m})") if n.tex else f"   (N = {m})")]
    if _np.isclose(v, counted.sum(), rtol=1e-4, atol=1e-7):
        return [f"E = {n.sum('i', 'E_i' if not n.tex else 'E_{i}')} = {terms} = {n.num(v)}"]
    return [f"E = {n.num(v)}"]


def _sample_lines(n, t, per, write, rows):
    """E_i = (formula with numbers) = value for the first ROWS samples; write(i) gives
    the formula, or None for a sample that does not count."""
    lines = []
    for i in range(min(ROWS, rows)):
        name = "E" if rows == 1 else n.sub("E", i + 1)
        formula = write(i)
        # one sample: its loss is the tensor itself, so the line ends with pycnn's number
        value = float(t.numpy().reshape(-1)[0]) if rows == 1 and t.size == 1 else per[i]
        if formula is None:                       # an ignored label: no loss at all
            lines.append(f"{name}" + n.text(": label ignored, not counted"))
        else:
            lines.append(f"{name} = {formula} = {n.num(value)}")
    if rows > ROWS:
        lines.append(n.text(f"… and {rows - ROWS} more samples"))
    return lines


def _from_logits_line(n, kind, z, p):
    """The probabilities a from-logits loss works with, shown for the first sample."""
    fn = (r"\mathrm{softmax}" if n.tex else "softmax") if kind == "softmax" else n.sigma
    return [n.text("from logits: ") + f"p = {fn}(z) = {fn}({n.vector(z)}) = {n.vector(p)}"]


def _crossentropy_terms(n, y, p, known=None):
    """−(y_1·ln p_1 + …): every term for a few classes, the y_k ≠ 0 ones for many."""
    ks = [k for k in range(y.size) if known is None or known[k]]
    if len(ks) > 6:
        ks = [k for k in ks if y[k] != 0]
    return f"{n.minus}" + n.paren(" + ".join(f"{n.num(y[k])}{n.dot}{n.ln(p[k])}" for k in ks))


def _explain_categorical(t, n):
    pred, true = _loss_rows(t)
    logits = t.op.endswith("from_logits")
    p = _softmax_rows(pred) if logits else pred / pred.sum(axis=-1, keepdims=True)
    q = _np.clip(p, EPSILON, 1 - EPSILON)
    per = -(true * _np.log(q)).sum(axis=-1)
    lines = [n.text("categorical cross-entropy: ") + "E = " + n.minus +
             n.sum("k", f"{n.sub('y', 'k')}{n.dot}" + (r"\ln p_k" if n.tex else "ln p_k"))]
    if logits:
        lines += _from_logits_line(n, "softmax", pred[0], p[0])
    elif not _np.allclose(pred.sum(axis=-1), 1, atol=1e-6):
        lines.append(n.text("the rows of y_pred do not sum to 1: p is divided by its sum "
                            "first, as Keras does"))
    lines += _sample_lines(n, t, per, lambda i: _crossentropy_terms(n, true[i], q[i]), len(per))
    return lines + _reduce(t, n, per)


def _explain_sparse(t, n):
    pred, labels = _loss_rows(t)
    labels = labels.reshape(-1)
    logits = t.op.endswith("from_logits")
    p = _softmax_rows(pred) if logits else pred / pred.sum(axis=-1, keepdims=True)
    valid = (labels >= 0) & (labels < pred.shape[-1]) & (labels == _np.floor(labels))
    rows = _np.arange(len(labels))
    q = _np.clip(p[rows, _np.where(valid, labels, 0).astype(int)], EPSILON, 1 - EPSILON)
    per = _np.where(valid, -_np.log(q), 0.0)
    lines = [n.text("sparse categorical cross-entropy, label j: ") +
             f"E = {n.minus}" + (r"\ln p_j" if n.tex else "ln p_j")]
    if logits:
        lines += _from_logits_line(n, "softmax", pred[0], p[0])

    def write(i):
        if not valid[i]:
            return None
        p_y = (rf"p(\text{{class }} {int(labels[i])})" if n.tex
               else f"p(class {int(labels[i])})")
        return f"{n.minus}" + (r"\ln " if n.tex else "ln ") + f"{p_y} = {n.minus}{n.ln(q[i])}"
    lines += _sample_lines(n, t, per, write, len(per))
    if not valid.all():
        ignored = int((~valid).sum())
        verb = "labels do" if ignored > 1 else "label does"
        lines.append(n.text(f"{ignored} ignored {verb} not count"))
    return lines + _reduce(t, n, per, counted=per[valid])


def _binary_terms(n, y, p, known):
    """[−y ln p − (1 − y) ln(1 − p)] for each known label k."""
    out = []
    for k in _np.flatnonzero(known):
        out.append(f"{n.minus}{n.num(y[k])}{n.dot}{n.ln(p[k])} {n.minus} "
                   f"(1 {n.minus} {n.num(y[k])}){n.dot}" +
                   (r"\ln" if n.tex else "ln") + n.paren(f"1 {n.minus} {n.num(p[k])}"))
    return out


def _explain_binary(t, n, multilabel=False):
    pred, true = _loss_rows(t)
    logits = t.op.endswith("from_logits")
    p = 1 / (1 + _np.exp(-pred)) if logits else pred
    q = _np.clip(p, EPSILON, 1 - EPSILON)
    known = ~_np.isnan(true)
    y = _np.where(known, true, 0.0)
    each = _np.where(known, -(y * _np.log(q) + (1 - y) * _np.log(1 - q)), 0.0)
    width = pred.shape[-1]
    per = each.sum(axis=-1) if multilabel else each.mean(axis=-1)
    formula = (f"{n.minus}y{n.dot}" + (r"\ln p" if n.tex else "ln p") +
               f" {n.minus} (1 {n.minus} y){n.dot}" + (r"\ln(1 - p)" if n.tex else "ln(1 − p)"))
    if multilabel:
        lines = [n.text("multi-label cross-entropy: ") + "E = " + n.sum("k", "[" + formula
                 .replace("y", "y_k").replace("p", "p_k") + "]") +
                 n.text(", unknown labels (?) left out")]
    else:
        lines = [n.text("binary cross-entropy: ") + "E = " + formula +
                 (n.text(f", averaged over the {width} outputs") if width > 1 else "")]
    if logits:
        lines += _from_logits_line(n, "sigmoid", pred[0], p[0])
    if multilabel:
        labels = ", ".join("?" if not k else n.num(v) for v, k in zip(true[0], known[0]))
        lines.append(f"y = [{labels}]" + (n.text("  (? contributes nothing)")
                                          if not known[0].all() else ""))

    def write(i):
        terms = " + ".join(n.paren(s) if len(_binary_terms(n, y[i], q[i], known[i])) > 1
                           else s for s in _binary_terms(n, y[i], q[i], known[i]))
        if not multilabel and width > 1:
            return n.over(width) + n.paren(terms)
        return terms or n.text("no known label") + " 0"
    lines += _sample_lines(n, t, per, write, len(per))
    return lines + _reduce(t, n, per)


def _explain_squared(t, n):
    pred, true = _loss_rows(t, rows_are_samples=True)
    mean = t.op == "mean_squared_error"
    width = pred.shape[-1]
    per = ((true - pred) ** 2).mean(axis=-1) if mean else 0.5 * ((true - pred) ** 2).sum(axis=-1)
    half = r"\tfrac{1}{2}" if n.tex else "½"
    s_hat = r"\hat{s}" if n.tex else "ŝ"
    diff = f"({n.sub('s', 'j')} {n.minus} {n.sub(s_hat, 'j')})"
    if mean:
        lines = [n.text("mean squared error (Keras): ") + "E = " + n.over("K") + " " +
                 n.sum("j", n.sq(f"{n.sub('y', 'j')} {n.minus} " +
                                 n.sub(r"\hat{y}" if n.tex else "ŷ", "j"))) +
                 n.text(f", K = {width} outputs")]
    else:
        lines = [n.text("squared error (lecture): ") + "E = " + n.sum("j", f"{half}{diff}^2"
                                                                      if n.tex else f"½{diff}²")]

    def write(i):
        terms = _join((n.sq(f"{n.num(a)} {n.minus} {n.neg(b)}")
                        for a, b in zip(true[i], pred[i])), " + ", n, limit=5)
        return (n.over(width) + n.paren(terms)) if mean else f"{half}" + \
            (rf"\left[{terms}\right]" if n.tex else f"[{terms}]")
    lines += _sample_lines(n, t, per, write, len(per))
    return lines + _reduce(t, n, per)


def _explain_yolo(t, n):
    """The five terms of YOLO v1's loss, recomputed with pycnn's own yolo_loss."""
    from .. import losses
    pred, true = (p.numpy() for p in t.parents)
    S, C = pred.shape[1], true.shape[-1] - 5
    B = (pred.shape[-1] - C) // 5
    names = [("coord_xy", r"\lambda_{coord} \sum 1^{obj}_{ij} [(x - \hat x)^2 + (y - \hat y)^2]",
              "λ_coord Σ 1obj_ij [(x − x̂)² + (y − ŷ)²]"),
             ("coord_wh", r"\lambda_{coord} \sum 1^{obj}_{ij} [(\sqrt{w} - \sqrt{\hat w})^2 + "
              r"(\sqrt{h} - \sqrt{\hat h})^2]",
              "λ_coord Σ 1obj_ij [(√w − √ŵ)² + (√h − √ĥ)²]"),
             ("obj", r"\sum 1^{obj}_{ij} (C_i - \hat C_i)^2", "Σ 1obj_ij (C_i − Ĉ_i)²"),
             ("noobj", r"\lambda_{noobj} \sum 1^{noobj}_{ij} (C_i - \hat C_i)^2",
              "λ_noobj Σ 1noobj_ij (C_i − Ĉ_i)²"),
             ("cls", r"\sum_i 1^{obj}_i \sum_c (p_i(c) - \hat p_i(c))^2",
              "Σ_i 1obj_i Σ_c (p_i(c) − p̂_i(c))²")]
    value = float(t.numpy().sum())
    with _core_no_grad():
        total, parts = losses.yolo_loss(true, pred, S=S, B=B, C=C, return_parts=True)
        weighted = _np.isclose(float(total), value, rtol=1e-4, atol=1e-6)
        if not weighted:          # other λ: show the unweighted sums, λ as symbols
            total, parts = losses.yolo_loss(true, pred, S=S, B=B, C=C, lambda_coord=1.0,
                                            lambda_noobj=1.0, return_parts=True)
    lines = [n.text(f"YOLO v1 loss, S = {S}, B = {B}, C = {C}, averaged over "
                    f"{pred.shape[0]} image{'s' if pred.shape[0] != 1 else ''}" +
                    ("" if weighted else ", λ as given (the sums below are unweighted)") + ":")]
    for key, tex, text in names:
        label = tex if n.tex else text
        if not weighted:
            for weight in (r"\lambda_{coord} ", r"\lambda_{noobj} ", "λ_coord ", "λ_noobj "):
                label = label.replace(weight, "")
        lines.append(f"{label} = {n.num(float(parts[key]))}")
    if weighted:
        lines.append("E = " + " + ".join(n.num(float(parts[k])) for k, _, _ in names) +
                     f" = {n.num(value)}")
    else:
        lam = {"coord_xy": "λ_coord·", "coord_wh": "λ_coord·", "noobj": "λ_noobj·"}
        if n.tex:
            lam = {k: v.replace("λ_coord·", r"\lambda_{coord} \cdot ").replace(
                "λ_noobj·", r"\lambda_{noobj} \cdot ") for k, v in lam.items()}
        lines.append("E = " + " + ".join(lam.get(k, "") + n.num(float(parts[k]))
                                         for k, _, _ in names) + f" = {n.num(value)}")
    return lines


def _core_no_grad():
    from ..autograd import no_grad
    return no_grad()


EXPLAINERS = {
    "categorical_crossentropy": _explain_categorical,
    "categorical_crossentropy_from_logits": _explain_categorical,
    "sparse_categorical_crossentropy": _explain_sparse,
    "sparse_categorical_crossentropy_from_logits": _explain_sparse,
    "binary_crossentropy": _explain_binary,
    "binary_crossentropy_from_logits": _explain_binary,
    "multilabel_crossentropy": lambda t, n: _explain_binary(t, n, multilabel=True),
    "multilabel_crossentropy_from_logits": lambda t, n: _explain_binary(t, n, multilabel=True),
    "squared_error": _explain_squared,
    "mean_squared_error": _explain_squared,
    "yolo_loss": _explain_yolo,
}
