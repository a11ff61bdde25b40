"""The training doctor: the checks cs231n teaches to run by hand before and while
training, each reported in plain words with the number that triggered it.

``diagnose(model, x, y)`` (``model.diagnose(x, y)``) runs them all on a sample:

- initial loss against what an untrained network should give (ln C for a C-class
  cross-entropy: 2.303 for 10 classes; ln 2 per output for a binary one);
- overfitting 20 examples: a network that cannot reach 100 % on 20 examples has a bug;
- the update/weight ratio of one step, ‖Δw‖/‖w‖ per kernel: about 1e-3 is healthy;
- dead ReLUs: units that output 0 for every example (no gradient ever reaches them);
- saturated sigmoid/tanh units (outputs within 0.01 of their limits: gradient ≈ 0);
- the gradient norm of every weight (vanishing, exploding);
- NaN/Inf in the weights, the activations, the loss or the gradients.

The model is left exactly as it was: weights and optimizer state are restored after the
steps the checks take. ``callbacks.Doctor`` watches a ``fit`` the same way.
"""
import copy as _copy
import html as _html
import math as _math

import numpy as _np

from . import _core

__all__ = ["diagnose", "Diagnosis", "Finding"]

RATIO_LOW, RATIO_HIGH = 1e-5, 1e-2      # update/weight: cs231n's "about 1e-3"
DEAD_LIMIT = 0.3                        # a layer with more dead ReLUs than this is flagged
SATURATION_LIMIT = 0.3
MARK = {"ok": "✓", "warning": "!", "problem": "✗"}


class Finding:
    """One check: ``check`` (its name), ``status`` ('ok', 'warning', 'problem'),
    ``message`` (plain words with the number) and ``value`` (that number)."""

    def __init__(self, check, status, message, value=None):
        self.check, self.status, self.message, self.value = check, status, message, value

    def __repr__(self):
        return f"{MARK[self.status]} {self.check}: {self.message}"


class Diagnosis:
    """The findings, in the order the checks ran; ``problems`` are those not ok."""

    def __init__(self, findings):
        self.findings = list(findings)

    @property
    def problems(self):
        return [f for f in self.findings if f.status != "ok"]

    def __getitem__(self, check):
        found = [f for f in self.findings if f.check == check]
        if not found:
            raise KeyError(f"no finding for {check!r}; checks: "
                           f"{', '.join(dict.fromkeys(f.check for f in self.findings))}")
        return found[0] if len(found) == 1 else found

    def __iter__(self):
        return iter(self.findings)

    def __repr__(self):
        head = (f"training doctor: {len(self.problems)} finding(s) to look at"
                if self.problems else "training doctor: every check passed")
        return "\n".join([head] + [repr(f) for f in self.findings])

    def _repr_html_(self):
        colours = {"ok": "#2ca02c", "warning": "#d68910", "problem": "#d62728"}
        rows = "".join(f"<tr><td style='color:{colours[f.status]}'>{MARK[f.status]}</td>"
                       f"<td><b>{_html.escape(f.check)}</b></td>"
                       f"<td style='text-align:left'>{_html.escape(f.message)}</td></tr>"
                       for f in self.findings)
        return f"<table class='pycnn-doctor'>{rows}</table>"


# ---- what the checks need ---------------------------------------------------------------
#
# Every check takes the lists the trainer takes: ``xs`` (one array per model input) and
# ``ys`` (one per output), so a functional model with several inputs and outputs is
# examined output by output (its findings name the output).

def _train_step(model, xs, ys):
    """One training step on one batch (the trainer's lists of inputs and targets)."""
    return float(model._train_batch(xs, ys)[0])


def _outputs(model, ys):
    """(name, loss name, y index) of each output compiled with a loss."""
    specs = model._outputs_spec(len(ys))
    return [(s.name, s.loss_name or "", i) for i, s in enumerate(specs) if s.loss_fn is not None]


def _evaluate(model, xs, ys):
    """(total loss, [each output's loss, or None], [predictions]) of one batch, without
    training."""
    loss, parts, preds = model._test_batch(xs, ys)
    per = [None] * len(ys)
    if len(ys) == 1:
        per[0] = float(loss)
    else:
        for (_, _, i), value in zip(_outputs(model, ys), parts):
            per[i] = float(value)
    return float(loss), per, preds


def _classes_and_expected_loss(loss_name, y_pred):
    """(C, expected initial loss, how it is written) for the cross-entropies, else None."""
    name = (loss_name or "").lower()
    C = y_pred.shape[-1]
    if "sparse_categorical" in name or "categorical_crossentropy" in name:
        return C, _math.log(C), f"ln({C}) = {_math.log(C):.4g}"
    if "binary" in name or "multilabel" in name:
        per = _math.log(2) * (C if "multilabel" in name else 1)
        return C, per, ("ln 2 = 0.6931" if "binary" in name
                        else f"{C}·ln 2 = {per:.4g}")
    return None


def _is_classification(loss_name):
    name = (loss_name or "").lower()
    return "crossentropy" in name or "hinge" in name


def _accuracy(y, y_pred):
    y, y_pred = _np.asarray(y), _np.asarray(y_pred)
    if y_pred.shape[-1] == 1:
        return float(_np.mean((y_pred.reshape(-1) > 0.5) == (y.reshape(-1) > 0.5)))
    labels = y.argmax(-1) if y.ndim == y_pred.ndim else y.reshape(-1)
    return float(_np.mean(y_pred.argmax(-1) == labels))


def _kernels(model):
    """Trainable weights with a norm worth comparing (kernels, not zero-started biases)."""
    return [w for w in model.trainable_weights if w.ndim >= 2]


def _weight_name(model, w):
    for layer in model.layers:
        for lw in getattr(layer, "weights", []):
            if lw is w:
                return w.name or layer.name
    return w.name or "weight"


class _Restore:
    """Weights and optimizer put back as they were, whatever the checks did."""

    def __init__(self, model):
        self.model = model

    def __enter__(self):
        self.weights = self.model.get_weights()
        self.optimizer = self.model.optimizer
        fresh = _copy.copy(self.optimizer)             # same hyperparameters, no state
        fresh._slots, fresh.iterations = {}, 0
        self.model.optimizer = fresh
        return self

    def __exit__(self, *exc):
        self.model.set_weights(self.weights)
        self.model.optimizer = self.optimizer
        for w in self.model.trainable_weights:
            w.grad = None
        return False


def _activation_kind(layer):
    config = layer.get_config() if hasattr(layer, "get_config") else {}
    kind = type(layer).__name__
    act = config.get("activation")
    if kind == "Activation" or act in ("relu", "sigmoid", "tanh"):
        return act
    if kind == "ReLU":
        return "relu"
    return None


# ---- the checks --------------------------------------------------------------------------

def _check_initial_loss(model, xs, ys):
    total, per, preds = _evaluate(model, xs, ys)
    outputs = _outputs(model, ys)
    several = len(ys) > 1
    if not _math.isfinite(total):
        bad = [name for name, _, i in outputs if per[i] is not None and
               not _math.isfinite(per[i])] if several else []
        where = f" (output {', '.join(bad)})" if bad else ""
        return [Finding("initial loss", "problem", f"the loss is {total}{where} before any "
                        f"training: look for NaN/Inf in the inputs or weights", total)]
    findings = []
    for name, loss_name, i in outputs:
        loss = per[i]
        who = f"output {name!r}: " if several else ""
        expected = _classes_and_expected_loss(loss_name, preds[i])
        if expected is None:
            findings.append(Finding("initial loss", "ok", f"{who}{loss:.4g} (no reference "
                                    f"value for the loss {loss_name!r})", loss))
            continue
        C, value, written = expected
        if abs(loss - value) <= 0.25 * value + 0.05:
            findings.append(Finding("initial loss", "ok", f"{who}{loss:.4g} ≈ {written}, what "
                                    f"an untrained network guessing uniformly gives", loss))
            continue
        hint = ("the output layer's weights or biases start too large (the network is "
                "confidently wrong before it has learned anything), or the loss does not "
                "fit the output" if loss > value else
                "lower than chance before training: are the labels leaking into the inputs, "
                "or is the model already trained?")
        what = (f"{C}-class network" if "categorical" in loss_name.lower() else
                "network's binary output" if C == 1 else f"network's {C} binary outputs")
        findings.append(Finding("initial loss", "problem", f"{who}{loss:.4g}, but an untrained "
                                f"{what} should give {written}: {hint}", loss))
    return findings


def _fitted(model, xs, ys, first_parts):
    """(every output fitted, [what each output reached])."""
    _, per, preds = _evaluate(model, xs, ys)
    done, parts = True, []
    for name, loss_name, i in _outputs(model, ys):
        if _is_classification(loss_name):
            acc = _accuracy(ys[i], preds[i])
            done = done and acc == 1.0
            parts.append((name, f"accuracy {acc:.0%}", acc))
        else:                                   # a regression output: its loss near 0
            start = first_parts[i] if first_parts[i] else 1.0
            ratio = per[i] / start if start else 0.0
            done = done and ratio <= 0.05
            parts.append((name, f"loss {per[i]:.3g} ({ratio:.0%} of its start)", ratio))
    return done, parts


def _check_overfit(model, xs, ys, steps):
    n = min(20, len(xs[0]))
    xs, ys = [x[:n] for x in xs], [y[:n] for y in ys]
    several = len(ys) > 1
    _, first_parts, _ = _evaluate(model, xs, ys)
    first = last = None
    for step in range(1, steps + 1):
        loss = _train_step(model, xs, ys)
        first = loss if first is None else first
        last = loss
        if not _math.isfinite(loss):
            break
        if step % 5 == 0 or step == steps:
            done, _ = _fitted(model, xs, ys, first_parts)
            if done:
                what = ("100% training accuracy" if all(
                    _is_classification(ln) for _, ln, _ in _outputs(model, ys))
                    else "every output fitted")
                return Finding("overfit 20 examples", "ok", f"{what} on {n} examples after "
                               f"{step} steps (loss {first:.4g} → {last:.4g})", step)
    _, parts = _fitted(model, xs, ys, first_parts)
    if several:
        reached = "; ".join(f"output {name!r} {text}" for name, text, _ in parts)
    else:
        reached = parts[0][1] if parts else ""
    value = min((v for _, t, v in parts if t.startswith("accuracy")), default=None)
    if value is None:
        value = max((v for _, _, v in parts), default=float("nan"))
    return Finding("overfit 20 examples", "problem", f"could not fit {n} examples in {steps} "
                   f"steps: loss {first:.4g} → {last:.4g}, {reached}. A network that cannot "
                   f"memorise 20 examples has a bug: the labels, the loss, dead units, or a "
                   f"learning rate far too small", value)


def _check_update_ratio(model, xs, ys):
    kernels = _kernels(model)
    before = [_np.array(w.numpy(), dtype=_np.float64) for w in kernels]
    _train_step(model, xs, ys)
    findings = []
    ratios = []
    for w, w0 in zip(kernels, before):
        norm = _np.linalg.norm(w0)
        ratio = _np.linalg.norm(_np.asarray(w.numpy(), _np.float64) - w0) / norm if norm else 0.0
        ratios.append((_weight_name(model, w), ratio))
    for name, ratio in ratios:
        if not _math.isfinite(ratio):
            findings.append(Finding("update/weight ratio", "problem", f"{name}: the update "
                                    f"is not finite", ratio))
        elif ratio > RATIO_HIGH:
            findings.append(Finding("update/weight ratio", "warning", f"{name}: ‖Δw‖/‖w‖ = "
                                    f"{ratio:.2g} after one step, well above ~1e-3: the "
                                    f"learning rate is probably too high", ratio))
        elif ratio < RATIO_LOW:
            findings.append(Finding("update/weight ratio", "warning", f"{name}: ‖Δw‖/‖w‖ = "
                                    f"{ratio:.2g} after one step, well below ~1e-3: the "
                                    f"learning rate is probably too low (or no gradient "
                                    f"reaches this layer)", ratio))
    if not findings and ratios:
        text = ", ".join(f"{n} {r:.1e}" for n, r in ratios)
        findings.append(Finding("update/weight ratio", "ok", f"‖Δw‖/‖w‖ after one step: "
                                f"{text} (about 1e-3 is healthy)",
                                float(_np.median([r for _, r in ratios]))))
    return findings


def _layer_outputs(model, xs):
    """[(row name, layer, output array)] of every layer call (nested models' layers
    included, a shared layer once per call), from one traced forward pass."""
    from .arithmetic import _call_names
    from .cost import trace_calls
    tensors = [_core.tensor(x) for x in xs]
    calls = trace_calls(model, tensors, keep_outputs=True)
    names = _call_names(calls)
    out = []
    for i, c in enumerate(calls):
        if any(k.parent == i for k in calls[i + 1:]) or not c.outputs:
            continue                                # a nested model: its layers speak
        out.append((names[i], c.layer, _np.asarray(c.outputs[0].numpy())))
    return out


def _check_activations(model, xs):
    findings = []
    x = xs[0]
    for name, layer, out in _layer_outputs(model, xs):
        if not _np.all(_np.isfinite(out)):
            bad = int(_np.size(out) - _np.count_nonzero(_np.isfinite(out)))
            findings.append(Finding("NaN/Inf", "problem", f"{name}'s output holds "
                                    f"{bad} NaN/Inf values (of {out.size})", bad))
            continue
        kind = _activation_kind(layer)
        if kind == "relu":
            units = out.reshape(-1, out.shape[-1])           # examples × positions, units
            dead = int(_np.sum(_np.all(units <= 0, axis=0)))
            frac = dead / units.shape[1]
            status = "problem" if frac > DEAD_LIMIT else "ok"
            what = "channels" if out.ndim == 4 else "units"
            message = (f"{name}: {dead} of {units.shape[1]} ReLU {what} ({frac:.0%}) "
                       f"output 0 for all {len(x)} examples")
            if status == "problem":
                message += (": dead ReLUs get no gradient and cannot recover (a large "
                            "negative bias, or too high a learning rate earlier)")
            findings.append(Finding("dead ReLUs", status, message, frac))
        elif kind in ("sigmoid", "tanh"):
            edge = (_np.abs(out - 0.5) > 0.49) if kind == "sigmoid" else (_np.abs(out) > 0.99)
            frac = float(_np.mean(edge))
            status = "problem" if frac > SATURATION_LIMIT else "ok"
            message = (f"{name}: {frac:.0%} of the {kind} outputs are within 0.01 of "
                       f"{'0 or 1' if kind == 'sigmoid' else '±1'}")
            if status == "problem":
                message += (f": saturated units pass almost no gradient ({kind}'(z) ≈ 0); "
                            f"scale the inputs or the initial weights down")
            findings.append(Finding("saturation", status, message, frac))
    return findings


def _check_gradients(model, xs, ys):
    weights = model.trainable_weights
    for w in weights:
        w.grad = None
    loss, _ = model._total_loss(ys, model._forward(xs, training=True))
    loss.backward()
    norms = []
    for w in weights:
        g = None if w.grad is None else _np.asarray(w.grad.numpy(), _np.float64)
        norms.append((_weight_name(model, w), 0.0 if g is None else float(_np.linalg.norm(g)),
                      g is not None and not _np.all(_np.isfinite(g))))
        w.grad = None
    findings = []
    if any(bad for _, _, bad in norms) or not all(_math.isfinite(n) for _, n, _ in norms):
        names = [n for n, v, bad in norms if bad or not _math.isfinite(v)]
        findings.append(Finding("NaN/Inf", "problem", f"the gradients of {', '.join(names)} "
                                f"hold NaN/Inf", len(names)))
        return findings
    largest = max((v for _, v, _ in norms), default=0.0)
    text = ", ".join(f"{n} {v:.2g}" for n, v, _ in norms)
    vanishing = [(n, v) for n, v, _ in norms if largest > 0 and v < 1e-4 * largest]
    if largest == 0:
        findings.append(Finding("gradient norms", "problem", f"every gradient is 0: nothing "
                                f"will learn ({text})", 0.0))
    elif largest > 1e3:
        findings.append(Finding("gradient norms", "problem", f"the largest gradient norm is "
                                f"{largest:.3g}: exploding gradients ({text})", largest))
    elif vanishing and vanishing[0][1] == 0:
        names = ", ".join(n for n, v in vanishing if v == 0)
        findings.append(Finding("gradient norms", "problem", f"no gradient at all reaches "
                                f"{names} (‖∇‖ = 0): these weights cannot learn ({text})", 0.0))
    elif vanishing:
        n, v = vanishing[0]
        findings.append(Finding("gradient norms", "warning", f"{n}'s gradient ({v:.2g}) is "
                                f"{v / largest:.1e} of the largest: vanishing gradients reach "
                                f"it ({text})", v / largest))
    else:
        findings.append(Finding("gradient norms", "ok", f"‖∇‖ per weight: {text}", largest))
    return findings


def _check_weights(model):
    bad = [_weight_name(model, w) for w in model.weights
           if not _np.all(_np.isfinite(_np.asarray(w.numpy())))]
    if bad:
        return [Finding("NaN/Inf", "problem", f"the weights of {', '.join(bad)} hold NaN/Inf",
                        len(bad))]
    return []


def diagnose(model, x, y, overfit=True, overfit_steps=150, batch_size=64):
    """Run every check on (a sample of) ``x``, ``y``; returns a ``Diagnosis`` (its repr
    lists each finding in plain words with its number). ``x`` and ``y`` as ``fit``
    takes them: a model with several inputs or outputs takes lists (or dicts by name),
    and its initial-loss and overfit findings name the output. The model must be
    compiled; its weights and optimizer are restored afterwards."""
    model._check_compiled("diagnose")
    xs, ys = model._as_xy(x, y, "diagnose")
    if len(xs[0]) == 0:
        raise ValueError("diagnose: no examples")
    if len(ys) != len(model._outputs_spec(len(ys))):
        raise ValueError(f"diagnose: {model.name} has {len(model._outputs_spec(len(ys)))} "
                         f"outputs but {len(ys)} targets were given")
    bx, by = [a[:batch_size] for a in xs], [a[:batch_size] for a in ys]
    findings = _check_weights(model)
    with _Restore(model):
        findings += _check_initial_loss(model, bx, by)
        findings += _check_activations(model, bx)
        findings += _check_gradients(model, bx, by)
    with _Restore(model):
        findings += _check_update_ratio(model, bx, by)
    if overfit:
        with _Restore(model):
            findings.append(_check_overfit(model, xs, ys, overfit_steps))
    if not any(f.check == "NaN/Inf" for f in findings):
        findings.append(Finding("NaN/Inf", "ok", "no NaN or Inf in the weights, the "
                                "activations, the loss or the gradients"))
    return Diagnosis(findings)
