"""Plain-NumPy twins of pycnn's ops: the references the C kernels are tested against.
Each topic keeps its own section."""
import numpy as np

# ---- core: element-wise ----------------------------------------------------------


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))


def relu(x):
    return np.maximum(x, 0.0)
