import os

import numpy as np
import pytest

# The Keras 3 oracle runs on its torch backend in every test: set before keras is imported
os.environ.setdefault("KERAS_BACKEND", "torch")


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture(scope="module")
def torch():
    """The PyTorch oracle (skips where it is not installed)."""
    return pytest.importorskip("torch", reason="PyTorch is optional: pip install torch==2.13.0")


@pytest.fixture(scope="module")
def keras(torch):
    """The Keras 3 oracle on its torch backend (KERAS_BACKEND=torch before keras is imported)."""
    os.environ.setdefault("KERAS_BACKEND", "torch")
    keras = pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")
    yield keras
    keras.backend.clear_session()   # Keras' automatic names (seed_generator_3...) restart


@pytest.fixture(scope="module")
def ort():
    """onnxruntime, the ONNX oracle (skips where onnx or onnxruntime is not installed)."""
    pytest.importorskip("onnx", reason="onnx is optional: pip install pycnn[interop]")
    return pytest.importorskip("onnxruntime", reason="optional: pip install pycnn[interop]")


@pytest.fixture
def fresh_session():
    """A new naming session (dense_1, ...) and pycnn.set_seed(0) around the test."""
    import pycnn
    pycnn.clear_session()
    pycnn.set_seed(0)
    yield
    pycnn.clear_session()
