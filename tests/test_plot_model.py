"""pycnn.utils.plot_model: the graph of layers drawn by pycnn's own layout."""
import xml.etree.ElementTree as ET

import matplotlib
import pytest

import pycnn
from pycnn import layers as L
from pycnn.utils import model_graph, plot_model

matplotlib.use("Agg")
NS = "{http://www.w3.org/2000/svg}"


def _cnn():
    return pycnn.models.Sequential([L.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
                                    L.MaxPooling2D(2), L.Flatten(),
                                    L.Dense(10, activation="softmax")])


def _texts(svg):
    return [t.text for t in ET.fromstring(svg).iter(NS + "text")]


def test_sequential_is_a_chain_with_its_shapes(tmp_path):
    m = _cnn()
    picture = plot_model(m)
    texts = _texts(picture._repr_svg_())
    names = [layer.name for layer in m.layers]
    assert texts[0].startswith("input") and texts[0].endswith(" (InputLayer)")
    assert texts[1] == "output: (None, 28, 28, 1)"
    assert f"{names[0]} (Conv2D)" in texts and "output: (None, 26, 26, 8)" in texts
    assert f"{names[3]} (Dense)" in texts and "input:  (None, 1352)" in texts
    ys = [b.y for b in picture.layout.boxes]
    assert ys == sorted(ys) and len(set(ys)) == 5             # top to bottom, one per layer
    bare = _texts(plot_model(m, show_shapes=False, show_layer_names=False).svg())
    assert bare == ["InputLayer", "Conv2D", "MaxPooling2D", "Flatten", "Dense"]
    assert texts.count("output: (None, 13, 13, 8)") == 1
    plot_model(m, to_file=tmp_path / "m.png")
    assert (tmp_path / "m.png").read_bytes()[:4] == b"\x89PNG"
    plot_model(m, to_file=str(tmp_path / "m.svg"))
    assert _texts((tmp_path / "m.svg").read_text()) == texts
    up = plot_model(m, rankdir="BT").layout.boxes
    assert up[0].y > up[-1].y


def test_unbuilt_model_and_bad_options_say_so():
    with pytest.raises(ValueError, match="not built"):
        plot_model(pycnn.models.Sequential([L.Dense(3)]))
    with pytest.raises(ValueError, match="rankdir"):
        plot_model(_cnn(), rankdir="LR")


class _Op:
    def __init__(self, name, kind):
        self.name = name
        self.kind = kind


class _Node:
    """The graph-of-layers protocol plot_model reads: operation, parent_nodes, shapes."""

    def __init__(self, op, parents, shape_in, shape_out):
        self.operation, self.parent_nodes = op, parents
        self.input_shapes, self.output_shape = shape_in, shape_out


def test_branches_and_merges_are_laid_out_in_layers():
    def node(name, parents, out=(None, 8)):
        op = type(name.split("_")[0].title(), (_Op,), {})(name, None)
        return _Node(op, parents, [p.output_shape for p in parents], out)
    x = node("input_1", [])
    a = node("dense_a", [x])
    b = node("dense_b", [a])
    skip = node("add_1", [b, x])                   # a residual connection: x skips a and b
    out = node("dense_out", [skip], (None, 2))
    model = type("M", (), {"_nodes": [x, a, b, skip, out], "name": "residual"})()
    boxes, edges = model_graph(model)
    assert [b_[1] for b_ in boxes] == ["input_1", "dense_a", "dense_b", "add_1", "dense_out"]
    assert sorted(edges) == [(0, 1), (0, 3), (1, 2), (2, 3), (3, 4)]
    assert boxes[3][3] == [(None, 8), (None, 8)]            # a merge has two inputs
    lay = plot_model(model).layout
    y = {bx.key: bx.y for bx in lay.boxes}
    assert y[0] < y[1] < y[2] < y[3] < y[4]                 # the longest path sets layers
    long = next(p for p, e in zip(lay.paths, lay.edges) if e == (0, 3))
    assert len(long) == 4                                   # routed past dense_a, dense_b
    assert "input:  (None, 8), (None, 8)" in _texts(lay.svg())


def test_a_functional_residual_block_branches_and_merges():
    x = pycnn.Input((16, 16, 1))
    c1 = L.Conv2D(8, 3, padding="same", activation="relu")(x)
    c2 = L.Conv2D(8, 3, padding="same")(c1)
    merged = pycnn.layers.add([c1, c2])
    out = L.Dense(10, activation="softmax")(L.Flatten()(merged))
    model = pycnn.Model(x, out)
    boxes, edges = model_graph(model)
    kinds = [b[2] for b in boxes]
    assert kinds == ["InputLayer", "Conv2D", "Conv2D", "Add", "Flatten", "Dense"]
    assert sorted(edges) == [(0, 1), (1, 2), (1, 3), (2, 3), (3, 4), (4, 5)]
    assert boxes[3][3] == [(None, 16, 16, 8), (None, 16, 16, 8)]
    lay = plot_model(model).layout
    y = {b.key: b.y for b in lay.boxes}
    assert y[1] < y[2] < y[3]                       # the skip from conv 1 passes conv 2
    assert "input:  (None, 16, 16, 8), (None, 16, 16, 8)" in _texts(lay.svg())
