"""Notebook 09's two segmentation nets, outside the notebook and at a small size: the
tiny U-Net (functional API, Conv2DTranspose + Concatenate) builds with the shapes and
the parameter count worked out by hand, and with the same width, data, loss, optimizer
and epochs it beats the one-pooling-step fully convolutional net on mean IoU.

The models are the notebook's own code: the cells that define them are taken from
``notebooks/src/09_segmentation.py`` and run here, so the test and the lecture cannot
drift apart."""
import io
import pathlib
import sys
from contextlib import redirect_stdout

import numpy as np
import pytest

import pycnn
from pycnn import metrics
from pycnn.datasets import shapes
from pycnn.losses import SparseCategoricalCrossentropy
from pycnn.optimizers import Adam

NOTEBOOKS = pathlib.Path(__file__).resolve().parent.parent / "notebooks"
K = 1 + len(shapes.CLASSES)
SIZE = 24


@pytest.fixture(scope="module")
def notebook():
    """The notebook's imports and its two model cells run in one namespace, which then
    holds the notebook's ``fcn_net`` and ``tiny_unet``."""
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        import build
    finally:
        sys.path.remove(str(NOTEBOOKS))
    code = [body for kind, body in
            build.cells_of((NOTEBOOKS / "src" / "09_segmentation.py").read_text("utf-8"))
            if kind == "code"]

    def cell(marker):
        found = [body for body in code if marker in body]
        assert len(found) == 1, f"notebook 09: expected one cell with {marker!r}"
        return found[0]

    ns = {}
    exec(code[0], ns)                                   # the imports
    ns.update(K=K, SIZE=SIZE)
    with redirect_stdout(io.StringIO()):                # the cells print their summaries
        exec(cell("def fcn_net("), ns)
        exec(cell("def tiny_unet("), ns)
    return ns


def hand_count(f):
    """Parameters of tiny_unet(filters=f): (k·k·C_in + 1)·C_out per (transposed) convolution;
    the concatenations double the decoder convolutions' input channels."""
    encoder = (9 * 1 + 1) * f + (9 * f + 1) * 2 * f + (9 * 2 * f + 1) * 4 * f
    decoder = ((4 * 4 * f + 1) * 2 * f + (9 * (2 * f + 2 * f) + 1) * 2 * f
               + (4 * 2 * f + 1) * f + (9 * (f + f) + 1) * f)
    return encoder + decoder + (f + 1) * K


@pytest.mark.parametrize("f", [4, 16])
def test_tiny_unet_builds_with_the_hand_counted_parameters(notebook, f):
    pycnn.clear_session()
    model = notebook["tiny_unet"](filters=f, size=16)
    assert hand_count(16) == 56740                      # the notebook's markdown
    assert model.count_params() == hand_count(f)
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert f"Total params: {hand_count(f):,}" in text
    concat = [layer for layer in model.layers if type(layer).__name__ == "Concatenate"]
    assert [tuple(c.output.shape) for c in concat] == [(None, 8, 8, 4 * f), (None, 16, 16, 2 * f)]
    assert model.predict(np.zeros((2, 16, 16, 1), np.float32), verbose=0).shape == (2, 16, 16, K)


def test_unet_beats_the_fcn_on_mean_iou(notebook):
    seed = 0       # seeds 1 and 2 give the same order; the margin is about 0.1 or more
    data = dict(n_train=128, n_test=64, image_size=SIZE, grid_size=2, max_objects=4,
                target="mask")
    (x_train, m_train), (x_test, m_test) = shapes.load_data(**data, ignore_border=1)
    scores = {}
    for name in ("FCN", "U-Net"):
        pycnn.clear_session()
        pycnn.set_seed(seed)
        np.random.seed(seed)
        model = notebook["fcn_net" if name == "FCN" else "tiny_unet"](filters=8)
        model.compile(optimizer=Adam(learning_rate=0.01),
                      loss=SparseCategoricalCrossentropy(ignore_index=shapes.IGNORE))
        model.fit(x_train, m_train, batch_size=16, epochs=20, verbose=0, validation_split=0.125)
        miou = metrics.MeanIoU(K, ignore_class=shapes.IGNORE)
        miou.update_state(m_test, model.predict(x_test, verbose=0).argmax(axis=-1))
        scores[name] = miou.result()
    assert scores["U-Net"] > scores["FCN"], scores
