"""Plain-NumPy twins of pycnn's ops: the references the C kernels are tested against.
Each topic keeps its own section."""
import math

import numpy as np

# ---- core: element-wise ----------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


def softplus(x):
    return np.log1p(np.exp(x))


_erf = np.vectorize(math.erf, otypes=[float])


def gelu(x):
    return 0.5 * x * (1.0 + _erf(np.asarray(x, dtype=np.float64) / math.sqrt(2.0)))


def softsign(x):
    return x / (1.0 + np.abs(x))


def hard_sigmoid(x):
    return np.minimum(np.maximum(x + 3.0, 0.0), 6.0) / 6.0


def relu6(x):
    return np.minimum(np.maximum(x, 0.0), 6.0)


def selu(x):
    alpha, scale = 1.6732632423543772848170429916717, 1.0507009873554804934193349852946
    return scale * np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0.0)) - 1.0))


def prelu(x, alpha):
    """PReLU: x where x > 0, else alpha · x (alpha broadcasts against x)."""
    return np.where(x > 0, x, alpha * x)


# Every element-wise op of ops.def by its name there (tests/test_op_registry.py runs each
# against its twin; an op missing here fails that test), and those whose inputs must be
# positive (both inputs, for the binary ones).
ELEMENTWISE = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide,
    "pow": np.power, "maximum": np.maximum, "minimum": np.minimum,
    "neg": np.negative, "abs": np.abs, "exp": np.exp, "log": np.log, "sqrt": np.sqrt,
    "square": np.square, "sigmoid": sigmoid, "tanh": np.tanh, "relu": relu,
    "softplus": softplus, "gelu": gelu, "softsign": softsign, "hard_sigmoid": hard_sigmoid,
    "relu6": relu6, "selu": selu, "prelu": prelu,
}
POSITIVE = {"div", "pow", "log", "sqrt"}


# ---- layers: convolution and pooling -----------------------------------------------------
# Written from the definitions, one output pixel at a time: slow, obvious, independent of
# the C path (no im2col, no GEMM).


def same_padding(n, k, s):
    """Keras 'same': out = ceil(n / s); the odd extra padding goes after (bottom/right)."""
    out = -(-n // s)
    total = max((out - 1) * s + k - n, 0)
    return out, total // 2, total - total // 2


def _geometry(h, w, kh, kw, strides, padding):
    sh, sw = strides
    if padding == "same":
        oh, pt, pb = same_padding(h, kh, sh)
        ow, pl, pr = same_padding(w, kw, sw)
    else:
        oh, ow, pt, pb, pl, pr = (h - kh) // sh + 1, (w - kw) // sw + 1, 0, 0, 0, 0
    return oh, ow, (pt, pb), (pl, pr)


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid", dilation_rate=(1, 1),
           groups=1):
    """y[n, i, j, f] = b[f] + Σ x[n, i·sh − pt + a, j·sw − pl + c, ch] · kernel[a, c, ch, f];
    a dilated kernel is the kernel with dilation_rate − 1 zero rows/columns between taps.
    groups = G: filter group j (F/G filters) sees channel group j (C/G channels) only."""
    if groups > 1:
        cg, fg = x.shape[-1] // groups, kernel.shape[-1] // groups
        y = np.concatenate([conv2d(x[..., j * cg:(j + 1) * cg],
                                   kernel[..., j * fg:(j + 1) * fg], None, strides, padding,
                                   dilation_rate) for j in range(groups)], axis=-1)
        return y if bias is None else y + bias
    dh, dw = dilation_rate
    if (dh, dw) != (1, 1):
        kh, kw, c, f = kernel.shape
        spread = np.zeros(((kh - 1) * dh + 1, (kw - 1) * dw + 1, c, f))
        spread[::dh, ::dw] = kernel
        kernel = spread
    n, h, w, _ = x.shape
    kh, kw, _, f = kernel.shape
    oh, ow, ph, pw = _geometry(h, w, kh, kw, strides, padding)
    xp = np.pad(x, ((0, 0), ph, pw, (0, 0)))
    y = np.zeros((n, oh, ow, f))
    for i in range(oh):
        for j in range(ow):
            patch = xp[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw, :]
            y[:, i, j, :] = np.tensordot(patch, kernel, axes=([1, 2, 3], [0, 1, 2]))
    return y if bias is None else y + bias


def depthwise_conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid",
                     dilation_rate=(1, 1)):
    """Keras' DepthwiseConv2D: y[..., c·M + m] = Σ x[..., c] ⋆ kernel[:, :, c, m], channel by
    channel (kernel (kh, kw, C, M))."""
    kh, kw, c, m = kernel.shape
    y = np.concatenate([conv2d(x[..., ch:ch + 1], kernel[:, :, ch:ch + 1, :], None, strides,
                               padding, dilation_rate) for ch in range(c)], axis=-1)
    return y if bias is None else y + bias


def separable_conv2d(x, depthwise_kernel, pointwise_kernel, bias=None, strides=(1, 1),
                     padding="valid", dilation_rate=(1, 1)):
    """Keras' SeparableConv2D: the depthwise convolution, then a 1×1 convolution (bias once,
    at the end)."""
    z = depthwise_conv2d(x, depthwise_kernel, None, strides, padding, dilation_rate)
    return conv2d(z, pointwise_kernel, bias)


def conv1d(x, kernel, bias=None, strides=1, padding="valid", dilation_rate=1, groups=1):
    """Keras' Conv1D on (N, steps, C), kernel (k, C/G, F): a conv2d over one row; 'causal'
    pads (k − 1)·d zeros on the left and is then 'valid'."""
    if padding == "causal":
        x = np.pad(x, ((0, 0), ((kernel.shape[0] - 1) * dilation_rate, 0), (0, 0)))
        padding = "valid"
    y = conv2d(x[:, None], kernel[None], bias, (1, strides), padding, (1, dilation_rate),
               groups)
    return y[:, 0]


def _transpose_axis(n, k, s, padding, op):
    """Keras 3's transposed-conv axis (backend_utils, JAX's form): the full output
    (n − 1)·s + k is padded by k − 1 − left on the left; returns (out, start) where
    out = (n − 1)·s + k + op (valid) or n·s / (n − 1)·s + k % 2 + op (same) and start the
    full output's index of out's first element."""
    if padding == "valid":
        op = max(k, s) - k if op is None else op
        return (n - 1) * s + k + op, 0
    total = s + k - 2 if op is None else k + k % 2 - 2 + op
    left = min(total // 2 + total % 2, k - 1)
    out = n * s if op is None else (n - 1) * s + k % 2 + op
    return out, k - 1 - left


def conv2d_transpose(x, kernel, bias=None, strides=(1, 1), padding="valid", output_padding=None):
    """Scatter form: x[n, i, j, :] · kernel[a, c, f, :] lands at (i·sh + a, j·sw + c) of the
    full output; the window Keras keeps is then cut out of it (zeros past its end)."""
    n, h, w, _ = x.shape
    kh, kw, f, _ = kernel.shape
    op = (None, None) if output_padding is None else output_padding
    oh, top = _transpose_axis(h, kh, strides[0], padding, op[0])
    ow, left = _transpose_axis(w, kw, strides[1], padding, op[1])
    full = np.zeros((n, max((h - 1) * strides[0] + kh, top + oh),
                     max((w - 1) * strides[1] + kw, left + ow), f))
    for i in range(h):
        for j in range(w):
            full[:, i * strides[0]:i * strides[0] + kh, j * strides[1]:j * strides[1] + kw] += \
                np.einsum("nc,abfc->nabf", x[:, i, j], kernel)
    y = full[:, top:top + oh, left:left + ow]
    return y if bias is None else y + bias


def pool2d(x, pool_size, strides=None, padding="valid", mode="max"):
    """Max or average over each window; 'same' windows ignore the padding (TensorFlow's rule:
    the average divides by the number of real pixels in the window)."""
    strides = strides or pool_size
    n, h, w, c = x.shape
    kh, kw = pool_size
    oh, ow, ph, pw = _geometry(h, w, kh, kw, strides, padding)
    y = np.zeros((n, oh, ow, c))
    for i in range(oh):
        for j in range(ow):
            r0, c0 = i * strides[0] - ph[0], j * strides[1] - pw[0]
            win = x[:, max(r0, 0):min(r0 + kh, h), max(c0, 0):min(c0 + kw, w), :]
            y[:, i, j, :] = win.max(axis=(1, 2)) if mode == "max" else win.mean(axis=(1, 2))
    return y


def upsampling2d(x, size):
    return x.repeat(size[0], axis=1).repeat(size[1], axis=2)
# ---- core: reductions, structure, matrix products ---------------------------------


def max_grad(x, axis=None, keepdims=False):
    """d max(x, axis) / dx: one at the FIRST maximal element of each group (C order)."""
    x = np.asarray(x)
    axes = tuple(range(x.ndim)) if axis is None else tuple(sorted(np.atleast_1d(axis) % max(x.ndim, 1)))
    kept = [d for d in range(x.ndim) if d not in axes]
    moved = np.moveaxis(x, kept + list(axes), range(x.ndim))
    groups = moved.reshape(moved.shape[:len(kept)] + (-1,))
    first = np.argmax(groups, axis=-1)             # argmax returns the first maximum
    mask = np.zeros_like(groups)
    np.put_along_axis(mask, first[..., None], 1.0, axis=-1)
    return np.moveaxis(mask.reshape(moved.shape), range(x.ndim), kept + list(axes))
# ---- activations and losses ------------------------------------------------------


def leaky_relu(x, alpha=0.1):
    return np.where(x > 0, x, alpha * x)


def elu(x, alpha=1.0):
    return np.where(x > 0, x, alpha * (np.exp(np.minimum(x, 0)) - 1))


def swish(x, beta=1.0):
    return x * sigmoid(beta * x)


def softmax(z, axis=-1):
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(z, axis=-1):
    m = z.max(axis=axis, keepdims=True)
    return z - m - np.log(np.exp(z - m).sum(axis=axis, keepdims=True))


def naive_normalize(z, axis=-1):
    return z / z.sum(axis=axis, keepdims=True)


def maxout(x, pieces, axis=-1):
    axis = axis % x.ndim
    shape = x.shape[:axis] + (x.shape[axis] // pieces, pieces) + x.shape[axis + 1:]
    return x.reshape(shape).max(axis=axis + 1)


PROB_EPSILON = 1e-7      # Keras' backend.epsilon()


def _clip(p):
    return np.clip(p, PROB_EPSILON, 1 - PROB_EPSILON)


def reduce_loss(per, reduction, count=None):
    if reduction == "none":
        return per
    total = per.sum()
    if reduction == "sum":
        return total
    count = per.size if count is None else count
    return total / count if count else 0.0 * total


def squared_error(y, p, reduction="mean"):
    d2 = 0.5 * (p - y) ** 2
    return reduce_loss(d2.reshape(len(d2), -1).sum(axis=1), reduction)


def mean_squared_error(y, p, reduction="mean"):
    return reduce_loss(((p - y) ** 2).mean(axis=-1), reduction)


def categorical_crossentropy(y, p, from_logits=False, reduction="mean"):
    if from_logits:
        logp = log_softmax(p)
    else:
        logp = np.log(_clip(p / p.sum(axis=-1, keepdims=True)))
    return reduce_loss(-(y * logp).sum(axis=-1), reduction)


def sparse_categorical_crossentropy(labels, p, from_logits=False, ignore_index=None,
                                    reduction="mean"):
    labels = np.asarray(labels).reshape(p.shape[:-1])
    keep = np.ones(labels.shape, bool) if ignore_index is None else labels != ignore_index
    onehot = np.eye(p.shape[-1])[np.where(keep, labels, 0).astype(int)]
    per = categorical_crossentropy(onehot, p, from_logits, reduction="none") * keep
    return reduce_loss(per, reduction, count=int(keep.sum()))


def _binary_terms(y, p, from_logits):
    if from_logits:
        return np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
    q = _clip(p)
    return -y * np.log(q) - (1 - y) * np.log(1 - q)


def binary_crossentropy(y, p, from_logits=False, reduction="mean"):
    return reduce_loss(_binary_terms(y, p, from_logits).mean(axis=-1), reduction)


def multilabel_crossentropy(y, p, from_logits=False, reduction="mean"):
    known = ~np.isnan(y)
    terms = np.where(known, _binary_terms(np.where(known, y, 0), p, from_logits), 0)
    return reduce_loss(terms.sum(axis=-1), reduction)
# ---- models: optimizer steps (Keras' formulas, keras/src/optimizers/*.py) ----------


def sgd_step(w, g, m, lr, momentum=0.0, nesterov=False):
    """Returns the new (w, m)."""
    if momentum == 0.0:
        return w - g * lr, m
    m = m * momentum - g * lr
    return (w + (m * momentum - g * lr) if nesterov else w + m), m


def adam_step(w, g, m, v, t, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7, vhat=None):
    """Returns the new (w, m, v, vhat); t counts steps from 1."""
    alpha = lr * np.sqrt(1 - beta_2 ** t) / (1 - beta_1 ** t)
    m = m + (g - m) * (1 - beta_1)
    v = v + (g * g - v) * (1 - beta_2)
    second = v
    if vhat is not None:
        vhat = np.maximum(vhat, v)
        second = vhat
    return w - (m * alpha) / (np.sqrt(second) + epsilon), m, v, vhat


def rmsprop_step(w, g, v, lr, rho=0.9, epsilon=1e-7, momentum=0.0, m=None, centered=False,
                 mg=None):
    """Returns the new (w, v, m, mg)."""
    v = rho * v + (1 - rho) * g * g
    if centered:
        mg = rho * mg + (1 - rho) * g
        denominator = v - mg * mg + epsilon
    else:
        denominator = v + epsilon
    increment = lr * g / np.sqrt(denominator)
    if momentum > 0:
        m = momentum * m + increment
        return w - m, v, m, mg
    return w - increment, v, m, mg


def nadam_step(w, g, m, v, t, u_product, lr, beta_1=0.9, beta_2=0.999, epsilon=1e-7):
    """Returns the new (w, m, v, u_product); u_product = Π_{s<t} u_s before the step."""
    u_t = beta_1 * (1 - 0.5 * 0.96 ** t)
    u_next = beta_1 * (1 - 0.5 * 0.96 ** (t + 1))
    u_product = u_product * u_t
    m = beta_1 * m + (1 - beta_1) * g
    v = beta_2 * v + (1 - beta_2) * g * g
    m_hat = u_next * m / (1 - u_product * u_next) + (1 - u_t) * g / (1 - u_product)
    v_hat = v / (1 - beta_2 ** t)
    return w - lr * m_hat / (np.sqrt(v_hat) + epsilon), m, v, u_product


def adagrad_step(w, g, acc, lr, epsilon=1e-7):
    """Returns the new (w, acc)."""
    acc = acc + g * g
    return w - lr * g / np.sqrt(acc + epsilon), acc


def adadelta_step(w, g, ag, ad, lr, rho=0.95, epsilon=1e-7):
    """Returns the new (w, ag, ad)."""
    ag = rho * ag + (1 - rho) * g * g
    delta = -np.sqrt(ad + epsilon) * g / np.sqrt(ag + epsilon)
    ad = rho * ad + (1 - rho) * delta * delta
    return w + lr * delta, ag, ad


def lion_step(w, g, m, lr, beta_1=0.9, beta_2=0.99):
    """Returns the new (w, m)."""
    w = w - lr * np.sign(beta_1 * m + (1 - beta_1) * g)
    return w, beta_2 * m + (1 - beta_2) * g


def clip_gradients(grads, clipnorm=None, clipvalue=None, global_clipnorm=None):
    """Keras' _clip_gradients: one of the three, on a list of gradients."""
    if clipnorm is not None:
        return [g * clipnorm / max(np.sqrt(np.sum(g * g)), clipnorm) for g in grads]
    if global_clipnorm is not None:
        norm = np.sqrt(sum(np.sum(g * g) for g in grads))
        return [g * global_clipnorm / max(norm, global_clipnorm) for g in grads]
    if clipvalue is not None:
        return [np.clip(g, -clipvalue, clipvalue) for g in grads]
    return list(grads)


# ---- normalisation -------------------------------------------------------------------


def _along(v, ndim, axis):
    shape = [1] * ndim
    shape[axis] = -1
    return np.reshape(v, shape)


def batch_norm(x, gamma=None, beta=None, axis=-1, epsilon=1e-3, mean=None, var=None):
    """y = γ·(x − μ)/√(σ² + ε) + β per feature along `axis`; μ, σ² are the batch's mean and
    BIASED variance over every other axis unless given (the moving statistics)."""
    x = np.asarray(x, np.float64)
    axis %= x.ndim
    others = tuple(d for d in range(x.ndim) if d != axis)
    if mean is None:
        mean, var = x.mean(axis=others), x.var(axis=others)
    y = (x - _along(mean, x.ndim, axis)) / np.sqrt(_along(var, x.ndim, axis) + epsilon)
    if gamma is not None:
        y = y * _along(gamma, x.ndim, axis)
    return y if beta is None else y + _along(beta, x.ndim, axis)


def layer_norm(x, gamma=None, beta=None, axes=(-1,), epsilon=1e-3):
    """y = γ·(x − μ)/√(σ² + ε) + β with μ, σ² (biased) of each sample over `axes`."""
    x = np.asarray(x, np.float64)
    axes = tuple(a % x.ndim for a in axes)
    mean, var = x.mean(axis=axes, keepdims=True), x.var(axis=axes, keepdims=True)
    y = (x - mean) / np.sqrt(var + epsilon)
    y = y if gamma is None else y * gamma
    return y if beta is None else y + beta


def batch_norm_moving(moving_mean, moving_var, x, axis=-1, momentum=0.99):
    """Keras' update: moving = moving·momentum + batch·(1 − momentum), biased batch variance."""
    x = np.asarray(x, np.float64)
    others = tuple(d for d in range(x.ndim) if d != axis % x.ndim)
    return (moving_mean * momentum + x.mean(axis=others) * (1 - momentum),
            moving_var * momentum + x.var(axis=others) * (1 - momentum))


# ---- whole-image pooling, zero padding, cropping ---------------------------------------


def global_pool2d(x, mode="avg", keepdims=False):
    """Mean or max of each channel of x (N, H, W, C) over H and W."""
    x = np.asarray(x, np.float64)
    return x.mean(axis=(1, 2), keepdims=keepdims) if mode == "avg" else \
        x.max(axis=(1, 2), keepdims=keepdims)


def zero_padding2d(x, padding):
    """padding ((top, bottom), (left, right)): zeros around each image."""
    return np.pad(np.asarray(x, np.float64), ((0, 0), padding[0], padding[1], (0, 0)))


def cropping2d(x, cropping):
    (top, bottom), (left, right) = cropping
    x = np.asarray(x, np.float64)
    return x[:, top:x.shape[1] - bottom, left:x.shape[2] - right, :]


# ---- augmentation: affine transform, bilinear resize, contrast ---------------------------


def _fix_index(i, n, mode):
    """SciPy's map_coordinates index rules (as Keras' backends): reflect, wrap, nearest,
    constant (clipped here; the caller masks it)."""
    if mode == "wrap":
        return i % n
    if mode == "reflect":
        s = 2 * n
        return (np.abs((2 * i + 1 + s) % (2 * s) - s) - 1) // 2
    return np.clip(i, 0, n - 1)


def affine_transform(x, t, interpolation="bilinear", fill_mode="reflect", fill_value=0.0):
    """x (N, H, W, C); t (N, 6) = (a0, a1, a2, b0, b1, b2): output (i, j) reads column
    a0·j + a1·i + a2, row b0·j + b1·i + b2."""
    x = np.asarray(x, np.float64)
    n, h, w, c = x.shape
    i, j = np.meshgrid(np.arange(h), np.arange(w), indexing="ij")
    out = np.zeros_like(x)
    for k in range(n):
        a0, a1, a2, b0, b1, b2 = t[k]
        col, row = a0 * j + a1 * i + a2, b0 * j + b1 * i + b2
        if interpolation == "nearest":
            rnodes, cnodes = [(np.round(row), 1.0)], [(np.round(col), 1.0)]
        else:
            r0, c0 = np.floor(row), np.floor(col)
            rnodes = [(r0, 1 - (row - r0)), (r0 + 1, row - r0)]
            cnodes = [(c0, 1 - (col - c0)), (c0 + 1, col - c0)]
        for ri, rw in rnodes:
            for ci, cw in cnodes:
                ri_, ci_ = ri.astype(np.int64), ci.astype(np.int64)
                v = x[k][_fix_index(ri_, h, fill_mode), _fix_index(ci_, w, fill_mode)]
                if fill_mode == "constant":
                    inside = (ri_ >= 0) & (ri_ < h) & (ci_ >= 0) & (ci_ < w)
                    v = np.where(inside[..., None], v, fill_value)
                out[k] += np.asarray(rw * cw)[..., None] * v
    return out


def resize_bilinear(x, oh, ow):
    """torch's interpolate(mode='bilinear', align_corners=False) on NHWC."""
    x = np.asarray(x, np.float64)

    def axis(out, size):
        src = np.maximum((np.arange(out) + 0.5) * size / out - 0.5, 0)
        i0 = np.minimum(np.floor(src).astype(int), size - 1)
        return i0, np.minimum(i0 + 1, size - 1), src - i0

    r0, r1, wr = axis(oh, x.shape[1])
    c0, c1, wc = axis(ow, x.shape[2])
    top = x[:, r0][:, :, c0] * (1 - wc)[:, None] + x[:, r0][:, :, c1] * wc[:, None]
    bottom = x[:, r1][:, :, c0] * (1 - wc)[:, None] + x[:, r1][:, :, c1] * wc[:, None]
    return top * (1 - wr)[:, None, None] + bottom * wr[:, None, None]


def contrast(x, f, lo, hi):
    x = np.asarray(x, np.float64)
    m = x.mean(axis=(1, 2), keepdims=True)
    return np.clip((x - m) * np.reshape(f, (-1, 1, 1, 1)) + m, lo, hi)
