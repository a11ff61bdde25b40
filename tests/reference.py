"""Plain-NumPy twins of pycnn's ops: the references the C kernels are tested against.
Each topic keeps its own section."""
import numpy as np

# ---- core: element-wise ----------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)


# ---- layers: convolution and pooling (issue 4) ---------------------------------------------
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


def conv2d(x, kernel, bias=None, strides=(1, 1), padding="valid"):
    """y[n, i, j, f] = b[f] + Σ x[n, i·sh − pt + a, j·sw − pl + c, ch] · kernel[a, c, ch, f]."""
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
