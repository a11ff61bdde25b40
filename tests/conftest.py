import numpy as np
import pytest


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.fixture
def fresh_session():
    """Automatic names (dense_1, sequential_1, ...) counted from 1 inside the test."""
    import pycnn
    pycnn.clear_session()
    yield
    pycnn.clear_session()
