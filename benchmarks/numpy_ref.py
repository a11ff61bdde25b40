"""The baseline a student writes: plain-NumPy layers in the classic course style.

Forward/backward pairs as in the well-known course assignments (cs231n's ``layers.py``
and ``im2col.py``): NCHW, im2col by fancy indexing with precomputed index arrays,
col2im by ``np.add.at``, 2×2 max pooling by reshaping, softmax cross-entropy on logits,
plain SGD. Nothing here is tuned; it is what pycnn is measured against as "what you
would have written yourself". Tested against finite differences in
``tests/test_benchmarks.py``.

Shapes: x (N, C, H, W), w (F, C, HH, WW), b (F,); dense x (N, D), w (D, M), b (M,).
"""
import numpy as np

# ---- im2col ---------------------------------------------------------------------


def im2col_indices(x_shape, field_height, field_width, padding=1, stride=1):
    """Index arrays (k, i, j) that gather every receptive field of x into a column."""
    N, C, H, W = x_shape
    out_height = (H + 2 * padding - field_height) // stride + 1
    out_width = (W + 2 * padding - field_width) // stride + 1
    i0 = np.repeat(np.arange(field_height), field_width)
    i0 = np.tile(i0, C)
    i1 = stride * np.repeat(np.arange(out_height), out_width)
    j0 = np.tile(np.arange(field_width), field_height * C)
    j1 = stride * np.tile(np.arange(out_width), out_height)
    i = i0.reshape(-1, 1) + i1.reshape(1, -1)
    j = j0.reshape(-1, 1) + j1.reshape(1, -1)
    k = np.repeat(np.arange(C), field_height * field_width).reshape(-1, 1)
    return k, i, j


def im2col(x, field_height, field_width, padding=1, stride=1):
    """x (N, C, H, W) -> cols (C·HH·WW, OH·OW·N)"""
    p = padding
    x_padded = np.pad(x, ((0, 0), (0, 0), (p, p), (p, p)), mode="constant")
    k, i, j = im2col_indices(x.shape, field_height, field_width, padding, stride)
    cols = x_padded[:, k, i, j]
    C = x.shape[1]
    return cols.transpose(1, 2, 0).reshape(field_height * field_width * C, -1)


def col2im(cols, x_shape, field_height, field_width, padding=1, stride=1):
    """The adjoint of im2col: scatter-add columns back into an image."""
    N, C, H, W = x_shape
    H_padded, W_padded = H + 2 * padding, W + 2 * padding
    x_padded = np.zeros((N, C, H_padded, W_padded), dtype=cols.dtype)
    k, i, j = im2col_indices(x_shape, field_height, field_width, padding, stride)
    cols_reshaped = cols.reshape(C * field_height * field_width, -1, N)
    cols_reshaped = cols_reshaped.transpose(2, 0, 1)
    np.add.at(x_padded, (slice(None), k, i, j), cols_reshaped)
    if padding == 0:
        return x_padded
    return x_padded[:, :, padding:-padding, padding:-padding]


# ---- layers: forward returns (out, cache); backward(dout, cache) returns grads ---


def conv_forward(x, w, b, pad=1, stride=1):
    """out (N, F, OH, OW) = w ⋆ x + b  via one matrix product over im2col columns"""
    N, C, H, W = x.shape
    F, _, HH, WW = w.shape
    out_height = (H + 2 * pad - HH) // stride + 1
    out_width = (W + 2 * pad - WW) // stride + 1
    x_cols = im2col(x, HH, WW, pad, stride)
    res = w.reshape(F, -1) @ x_cols + b.reshape(-1, 1)
    out = res.reshape(F, out_height, out_width, N).transpose(3, 0, 1, 2)
    return out, (x, w, b, pad, stride, x_cols)


def conv_backward(dout, cache):
    x, w, b, pad, stride, x_cols = cache
    F, _, HH, WW = w.shape
    db = np.sum(dout, axis=(0, 2, 3))
    dout_reshaped = dout.transpose(1, 2, 3, 0).reshape(F, -1)
    dw = (dout_reshaped @ x_cols.T).reshape(w.shape)
    dx_cols = w.reshape(F, -1).T @ dout_reshaped
    dx = col2im(dx_cols, x.shape, HH, WW, pad, stride)
    return dx, dw, db


def grouped_conv_forward(x, w, b, groups, pad=1, stride=1):
    """Conv2D(groups=G) as a student writes it: conv_forward on each group's channels and
    filters (w (F, C/G, HH, WW)); G = C is a depthwise convolution."""
    cg, fg = x.shape[1] // groups, w.shape[0] // groups
    outs, caches = [], []
    for g in range(groups):
        out, cache = conv_forward(x[:, g * cg:(g + 1) * cg], w[g * fg:(g + 1) * fg],
                                  b[g * fg:(g + 1) * fg], pad, stride)
        outs.append(out)
        caches.append(cache)
    return np.concatenate(outs, axis=1), caches


def grouped_conv_backward(dout, caches):
    fg = dout.shape[1] // len(caches)
    grads = [conv_backward(dout[:, g * fg:(g + 1) * fg], cache) for g, cache in enumerate(caches)]
    return tuple(np.concatenate(parts, axis=axis) for parts, axis in zip(zip(*grads), (1, 0, 0)))


def max_pool_forward(x):
    """2×2 stride-2 max pooling by reshaping (H and W even)."""
    N, C, H, W = x.shape
    x_reshaped = x.reshape(N, C, H // 2, 2, W // 2, 2)
    out = x_reshaped.max(axis=3).max(axis=4)
    return out, (x, x_reshaped, out)


def max_pool_backward(dout, cache):
    x, x_reshaped, out = cache
    dx_reshaped = np.zeros_like(x_reshaped)
    out_newaxis = out[:, :, :, np.newaxis, :, np.newaxis]
    mask = x_reshaped == out_newaxis
    dout_newaxis = dout[:, :, :, np.newaxis, :, np.newaxis]
    dout_broadcast, _ = np.broadcast_arrays(dout_newaxis, dx_reshaped)
    dx_reshaped[mask] = dout_broadcast[mask]
    dx_reshaped /= np.sum(mask, axis=(3, 5), keepdims=True)
    return dx_reshaped.reshape(x.shape)


def affine_forward(x, w, b):
    """out (N, M) = x (N, D) · w (D, M) + b"""
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.sum(dout, axis=0)
    return dx, dw, db


def spatial_batchnorm_forward(x, gamma, beta, eps=1e-3):
    """Training-mode batch norm of x (N, C, H, W) over N, H, W per channel (the course code)."""
    mu = x.mean(axis=(0, 2, 3), keepdims=True)
    var = x.var(axis=(0, 2, 3), keepdims=True)
    inv = 1.0 / np.sqrt(var + eps)
    xhat = (x - mu) * inv
    return gamma.reshape(1, -1, 1, 1) * xhat + beta.reshape(1, -1, 1, 1), (xhat, inv, gamma)


def spatial_batchnorm_backward(dout, cache):
    xhat, inv, gamma = cache
    n = dout.size // dout.shape[1]
    dbeta = dout.sum(axis=(0, 2, 3))
    dgamma = (dout * xhat).sum(axis=(0, 2, 3))
    g = gamma.reshape(1, -1, 1, 1) * inv / n
    dx = g * (n * dout - dbeta.reshape(1, -1, 1, 1) - xhat * dgamma.reshape(1, -1, 1, 1))
    return dx, dgamma, dbeta


def global_avg_pool_forward(x):
    """x (N, C, H, W) -> (N, C)"""
    return x.mean(axis=(2, 3)), x.shape


def global_avg_pool_backward(dout, shape):
    return np.broadcast_to(dout[:, :, None, None] / (shape[2] * shape[3]), shape).copy()


def relu_forward(x):
    return np.maximum(0, x), x


def relu_backward(dout, x):
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx


def softmax_loss(x, y):
    """mean cross-entropy of softmax(x) against integer labels y; returns (loss, dx)"""
    shifted_logits = x - np.max(x, axis=1, keepdims=True)
    Z = np.sum(np.exp(shifted_logits), axis=1, keepdims=True)
    log_probs = shifted_logits - np.log(Z)
    probs = np.exp(log_probs)
    N = x.shape[0]
    loss = -np.sum(log_probs[np.arange(N), y]) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx


# ---- the two benchmark models ------------------------------------------------------


def _init(rng, fan_in, shape, dtype):
    """Glorot-uniform-like weights, as Keras would start them"""
    limit = np.sqrt(6.0 / (fan_in + shape[-1]))
    return rng.uniform(-limit, limit, size=shape).astype(dtype)


class MLP:
    """784 → 512 → 512 → 10, ReLU, softmax cross-entropy; x (N, 784)"""

    def __init__(self, sizes=(784, 512, 512, 10), seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        self.params = []
        for d_in, d_out in zip(sizes[:-1], sizes[1:]):
            self.params.append([_init(rng, d_in, (d_in, d_out), dtype),
                                np.zeros(d_out, dtype)])

    def loss(self, x, y):
        caches, relus = [], []
        h = x
        for k, (w, b) in enumerate(self.params):
            h, cache = affine_forward(h, w, b)
            caches.append(cache)
            if k < len(self.params) - 1:
                h, rc = relu_forward(h)
                relus.append(rc)
        loss, dh = softmax_loss(h, y)
        grads = [None] * len(self.params)
        for k in reversed(range(len(self.params))):
            if k < len(self.params) - 1:
                dh = relu_backward(dh, relus[k])
            dh, dw, db = affine_backward(dh, caches[k])
            grads[k] = (dw, db)
        return loss, grads


class CNN:
    """conv 3×3 ×32 'same' → relu → pool 2 → conv 3×3 ×64 → relu → pool 2 → dense 10.
    x (N, 1, 28, 28) NCHW, the course's layout."""

    def __init__(self, in_shape=(1, 28, 28), seed=0, dtype=np.float32):
        rng = np.random.default_rng(seed)
        C, H, W = in_shape
        flat = 64 * (H // 4) * (W // 4)
        self.params = [
            [_init(rng, C * 9, (32, C, 3, 3), dtype), np.zeros(32, dtype)],
            [_init(rng, 32 * 9, (64, 32, 3, 3), dtype), np.zeros(64, dtype)],
            [_init(rng, flat, (flat, 10), dtype), np.zeros(10, dtype)],
        ]

    def loss(self, x, y):
        (w1, b1), (w2, b2), (w3, b3) = self.params
        h, c1 = conv_forward(x, w1, b1)
        h, r1 = relu_forward(h)
        h, p1 = max_pool_forward(h)
        h, c2 = conv_forward(h, w2, b2)
        h, r2 = relu_forward(h)
        h, p2 = max_pool_forward(h)
        scores, c3 = affine_forward(h, w3, b3)
        loss, d = softmax_loss(scores, y)
        d, dw3, db3 = affine_backward(d, c3)
        d = max_pool_backward(d, p2)
        d = relu_backward(d, r2)
        d, dw2, db2 = conv_backward(d, c2)
        d = max_pool_backward(d, p1)
        d = relu_backward(d, r1)
        _, dw1, db1 = conv_backward(d, c1)
        return loss, [(dw1, db1), (dw2, db2), (dw3, db3)]


def sgd_epoch(model, x, y, batch_size, lr=0.01, rng=None):
    """One epoch of minibatch SGD over (x, y), shuffled when rng is given."""
    order = rng.permutation(len(x)) if rng is not None else np.arange(len(x))
    loss = 0.0
    for start in range(0, len(x), batch_size):
        idx = order[start:start + batch_size]
        loss, grads = model.loss(x[idx], y[idx])
        for (w, b), (dw, db) in zip(model.params, grads):
            w -= lr * dw
            b -= lr * db
    return loss
