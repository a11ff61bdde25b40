"""Plain-NumPy twins of pycnn's ops: the references the C kernels are tested against.
Each topic keeps its own section."""
import numpy as np

# ---- core: element-wise ----------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)

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
