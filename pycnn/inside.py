"""A trained model opened up: every layer's output, saliency, Grad-CAM, mistakes.

The numbers (``viz`` draws them):

``layer_outputs(model, x)``           {layer name: its output for x}, every layer in order
``saliency_map(model, x, c)``         |∂ score_c / ∂x|, the largest over the channels
``grad_cam_map(model, x, layer, c)``  ReLU(Σ_k α_k A_k), α_k = mean over (i, j) of ∂score_c/∂A_k,
                                      upsampled to the image
``most_confident_mistakes(model, x, y, n)``  the wrong predictions the model was surest of

"score_c" is the model's output for class c (the softmax probability when the last layer
is a softmax). Works on any model (Sequential, functional, subclassed): one forward pass is traced
layer call by layer call, so every layer's output comes from it and its gradient from
one backward.
"""
import numpy as _np

from . import _core
from .autograd import keep_grads as _keep_grads, no_grad as _no_grad

__all__ = ["layer_outputs", "saliency_map", "grad_cam_map", "most_confident_mistakes",
           "model_layers"]


def model_layers(model):
    """The layers that compute something, in order (InputLayers left out)."""
    return [layer for layer in model.layers if type(layer).__name__ != "InputLayer"]


def _as_batch(model, x, who):
    x = _np.asarray(x.numpy() if isinstance(x, _core.Tensor) else x)
    shape = getattr(model, "input_shape", None)
    if shape is not None and isinstance(shape, tuple) and x.ndim == len(shape) - 1:
        x = x[None]                                  # one example without its batch axis
    if x.ndim < 2:
        raise ValueError(f"{who}: expected a batch of inputs, got shape {x.shape}")
    return x


def _dtype(model):
    weights = getattr(model, "weights", [])
    return weights[0].dtype if weights else _np.float32


def _forward(model, x, wanted, requires_grad=False):
    """(outputs of the ``wanted`` layers, the model's output, the input leaf), from one
    forward pass traced call by call (pycnn.cost.trace_calls), so any model works:
    Sequential, functional (a shared layer gives its last call's output) and
    subclassed. With ``requires_grad`` the input is a leaf that requires grad and every
    tensor of the pass keeps its graph."""
    from .cost import trace_calls
    t = _core.tensor(_np.asarray(x, dtype=_dtype(model)))
    if requires_grad:
        t.requires_grad = True
    if hasattr(model, "_ensure_built"):
        model._ensure_built([x])
    calls = trace_calls(model, [t], grad=requires_grad, keep_outputs=True)
    found = {}
    for c in calls:
        if c.outputs:
            found[id(c.layer)] = c.outputs[0]
    out = calls.output
    out = out[0] if isinstance(out, (list, tuple)) else out
    missing = [layer.name for layer in wanted if id(layer) not in found]
    if missing:
        raise ValueError(f"{model.name}: {', '.join(missing)} never ran in a forward pass")
    return [found[id(layer)] for layer in wanted], out, t


def _layer(model, layer):
    if isinstance(layer, (str, int)):
        return model.get_layer(name=layer) if isinstance(layer, str) else model.layers[layer]
    if layer not in model.layers:
        raise ValueError(f"{getattr(layer, 'name', layer)!r} is not a layer of {model.name}")
    return layer


def layer_outputs(model, x):
    """{layer name: output array} for every layer, for the batch (or one example) x."""
    x = _as_batch(model, x, "layer_outputs")
    layers = model_layers(model)
    with _no_grad():
        outs, _, _ = _forward(model, x, layers)
    return {layer.name: _np.asarray(o.numpy()).copy() for layer, o in zip(layers, outs)}


def _class_index(out, class_index):
    scores = out.numpy()[0]
    if class_index is None:
        return int(_np.argmax(scores))
    if not 0 <= int(class_index) < scores.shape[-1]:
        raise ValueError(f"class_index {class_index} is outside the model's "
                         f"{scores.shape[-1]} outputs")
    return int(class_index)


def _score(out, c):
    mask = _np.zeros(out.shape, dtype=out.dtype)
    mask.reshape(out.shape[0], -1)[0, c] = 1
    return (out * _core.tensor(mask)).sum()


def saliency_map(model, x, class_index=None):
    """|∂ score_c / ∂x| for one example, the largest over the channels: (H, W) (or the
    input's shape without channels). ``class_index=None`` takes the predicted class.
    Returns ``(map, class_index)``."""
    x = _as_batch(model, x, "saliency")[:1]
    _, out, t = _forward(model, x, [], requires_grad=True)
    c = _class_index(out, class_index)
    _score(out, c).backward()
    g = _np.abs(t.grad.numpy()[0])
    return (g.max(axis=-1) if g.ndim == 3 else g), c


def grad_cam_map(model, x, layer, class_index=None):
    """Grad-CAM (Selvaraju et al. 2017) for one example: the ``layer``'s feature maps
    A_k (h, w, K) weighted by α_k = mean over (i, j) of ∂score_c/∂A_k(i, j), summed,
    ReLU'd, scaled to [0, 1] and upsampled (bilinear) to the input's height and width.
    Returns ``(heatmap (H, W), coarse map (h, w), class_index)``."""
    layer = _layer(model, layer)
    x = _as_batch(model, x, "grad_cam")[:1]
    with _keep_grads():
        (A,), out, _ = _forward(model, x, [layer], requires_grad=True)
        if A.ndim != 4:
            raise ValueError(f"grad_cam: {layer.name} gives shape {tuple(A.shape)}; Grad-CAM "
                             f"needs a layer with feature maps (batch, h, w, channels)")
        A.retain_grad()
        c = _class_index(out, class_index)
        _score(out, c).backward()
    a, g = A.numpy()[0].astype(_np.float64), A.grad.numpy()[0].astype(_np.float64)
    alpha = g.mean(axis=(0, 1))
    cam = _np.maximum((a * alpha).sum(axis=-1), 0)
    if cam.max() > 0:
        cam = cam / cam.max()
    return _resize(cam, x.shape[1], x.shape[2]), cam, c


def _resize(m, H, W):
    """Bilinear resize of a 2-D map to (H, W), pixel centres aligned."""
    h, w = m.shape
    ys = _np.clip((_np.arange(H) + 0.5) * h / H - 0.5, 0, h - 1)
    xs = _np.clip((_np.arange(W) + 0.5) * w / W - 0.5, 0, w - 1)
    y0, x0 = _np.floor(ys).astype(int), _np.floor(xs).astype(int)
    y1, x1 = _np.minimum(y0 + 1, h - 1), _np.minimum(x0 + 1, w - 1)
    fy, fx = (ys - y0)[:, None], (xs - x0)[None, :]
    top = m[y0][:, x0] * (1 - fx) + m[y0][:, x1] * fx
    bottom = m[y1][:, x0] * (1 - fx) + m[y1][:, x1] * fx
    return top * (1 - fy) + bottom * fy


def most_confident_mistakes(model, x, y, n=8):
    """The ``n`` wrong predictions with the highest predicted probability:
    ``(indices, true labels, predicted labels, their probabilities)``. ``y`` holds
    class indices or one-hot rows."""
    y = _np.asarray(y)
    labels = y.argmax(axis=-1) if y.ndim == 2 and y.shape[1] > 1 else y.reshape(-1)
    probs = _np.asarray(model.predict(x))
    if probs.shape[0] != labels.shape[0]:
        raise ValueError(f"mistakes: {probs.shape[0]} predictions but {labels.shape[0]} labels")
    pred = probs.argmax(axis=-1)
    wrong = _np.flatnonzero(pred != labels)
    confidence = probs[wrong, pred[wrong]]
    order = wrong[_np.argsort(-confidence, kind="stable")][:n]
    return order, labels[order], pred[order], probs[order, pred[order]]
