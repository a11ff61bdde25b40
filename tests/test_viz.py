"""pycnn.viz: the graph of tensors (DOT, SVG, text tree) and the plot helpers."""
import re
import shutil

import matplotlib
import numpy as np
import pytest

import pycnn
from pycnn.viz import (activation_curve, draw_boxes, draw_graph, feature_maps, filter_grid,
                       image_grid, plot_activation, plot_activations)

matplotlib.use("Agg")


@pytest.fixture
def graph():
    """e = σ(c) + c with c = a · b: c has two children (sigmoid and add)."""
    a = pycnn.tensor([1.0, 2.0], requires_grad=True, name="a")
    b = pycnn.tensor([3.0, -1.0], name="b")
    c = a * b
    c.name = "c"
    c.retain_grad()
    e = pycnn.sigmoid(c) + c
    e.name = "e"
    e.backward(np.ones(2))
    return e, draw_graph(e)


def test_every_node_and_edge_is_listed(graph):
    e, g = graph
    labels = [n.label for n in g.nodes]
    assert labels[0] == "e" and sorted(labels[1:]) == sorted(["a", "b", "c", "t1"])
    kinds = {n.label: n.kind for n in g.nodes}
    assert kinds == {"e": "add", "t1": "sigmoid", "c": "mul", "a": "parameter", "b": "constant"}
    by_label = {n.label: n.key for n in g.nodes}
    named = sorted((g.nodes[p].label, g.nodes[c].label) for p, c in g.edges)
    assert named == [("a", "c"), ("b", "c"), ("c", "e"), ("c", "t1"), ("t1", "e")]
    dot = g.source
    assert dot.startswith("digraph") and dot.rstrip().endswith("}")
    for p, c in g.edges:
        assert f"n{p} -> n{c};" in dot
    assert len(re.findall(r"->", dot)) == 5
    assert f'n{by_label["a"]} [label="a (parameter)' in dot


def test_values_shapes_and_gradients(graph):
    e, g = graph
    node = {n.label: n for n in g.nodes}
    # c = [3, -2]; de/dc = 1 + σ'(c); de/da = de/dc · b
    s = 1 / (1 + np.exp(-np.array([3.0, -2.0])))
    dc = 1 + s * (1 - s)
    assert node["c"].value == "[3, -2]" and node["c"].shape == (2,)
    assert node["c"].grad == "[" + ", ".join(f"{v:.4g}" for v in dc) + "]"
    assert node["a"].grad == "[" + ", ".join(f"{v:.4g}" for v in dc * [3, -1]) + "]"
    assert node["b"].grad is None and node["e"].grad is None     # spent non-leaf grad
    assert "grad —" in " ".join(node["b"].lines())
    assert "value [3, -2]" in g.source and "shape (2,)" in g.source


def test_text_tree(graph):
    e, g = graph
    text = str(g)
    assert text == repr(g)
    lines = text.splitlines()
    assert lines[0].startswith("e = add  shape (2,)")
    assert lines[1].startswith("├── t1 = sigmoid")
    assert lines[2].startswith("│   └── c = mul")
    assert lines[3].startswith("│       ├── a (parameter)")
    assert lines[4].startswith("│       └── b (constant)")
    assert lines[5] == "└── c (shown above)"


def test_large_tensors_show_a_norm_and_options_hide_numbers():
    x = pycnn.tensor(np.full((3, 4), 2.0), requires_grad=True)
    y = pycnn.relu(x)
    y.backward(np.ones((3, 4)))
    g = draw_graph(y)
    assert "‖·‖ = 6.928 (mean 2)" in g.nodes[0].value
    bare = draw_graph(y, show_values=False, show_grads=False)
    assert "value" not in bare.source and "grad" not in bare.source
    with pytest.raises(TypeError, match="expected a pycnn Tensor"):
        draw_graph(np.zeros(3))


def test_input_used_twice_gives_two_edges_and_deep_graphs_do_not_recurse():
    a = pycnn.tensor([2.0], requires_grad=True, name="a")
    g = draw_graph(a * a)
    assert g.edges == [(1, 0), (1, 0)]
    t = a
    for _ in range(3000):
        t = t + 1.0
    assert len(draw_graph(t, show_values=False).nodes) == 6001


def test_svg_comes_from_the_dot_program(graph, tmp_path, monkeypatch):
    """A stand-in `dot` echoes what it was asked; the real one, when installed, draws."""
    if shutil.which("dot") is not None:
        assert "<svg" in graph[1]._repr_svg_()
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg>$1 $(wc -l)</svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake) if name == "dot" else None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    lines = graph[1].source.count("\n")
    assert graph[1]._repr_svg_().split() == ["<svg>-Tsvg", f"{lines}</svg>"]
    assert graph[1].pipe("png").startswith(b"<svg>-Tpng")


def test_no_svg_without_graphviz(graph, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    assert graph[1]._repr_svg_() is None
    with pytest.raises(RuntimeError, match="dot"):
        graph[1].pipe()


def test_activation_curve_derivative_is_autograd():
    x = np.linspace(-3, 3, 13)
    y, dy = activation_curve(pycnn.sigmoid, x)
    s = 1 / (1 + np.exp(-x))
    np.testing.assert_allclose(y, s, rtol=1e-12)
    np.testing.assert_allclose(dy, s * (1 - s), rtol=1e-12)
    y, dy = activation_curve(pycnn.relu, x)
    np.testing.assert_array_equal(dy, (x > 0).astype(float))
    with pytest.raises(ValueError, match="same shape"):
        activation_curve(lambda t: t.parents, x)


def test_plots_draw_what_they_are_given():
    ax = plot_activation(pycnn.tanh, np.linspace(-2, 2, 5))
    assert len(ax.lines) >= 2
    np.testing.assert_allclose(ax.lines[1].get_ydata(), 1 - np.tanh(np.linspace(-2, 2, 5)) ** 2)
    fig = plot_activations({"sigmoid": pycnn.sigmoid, "relu": pycnn.relu, "tanh": pycnn.tanh},
                           ncols=2)
    assert [a.get_title() for a in fig.axes[:3]] == ["sigmoid", "relu", "tanh"]
    fig = image_grid(np.zeros((5, 4, 4, 1)), titles=list("abcde"), ncols=3)
    assert len(fig.axes) == 6 and sum(bool(a.images) for a in fig.axes) == 5
    fig = feature_maps(np.random.default_rng(0).random((1, 6, 6, 4)))
    assert sum(bool(a.images) for a in fig.axes) == 4
    fig = feature_maps(np.array([[[-1.0, 0.5]]]), symmetric=True)
    assert fig.axes[1].images[0].get_clim() == (-1.0, 1.0)
    fig = filter_grid(np.random.default_rng(0).standard_normal((3, 3, 1, 8)))
    vmin, vmax = fig.axes[0].images[0].get_clim()
    assert vmin == -vmax
    import matplotlib.pyplot as plt
    plt.close("all")


def test_boxes_are_drawn_in_pixels():
    ax = draw_boxes(np.zeros((20, 40)), [[0.5, 0.5, 0.5, 0.2]], labels=["cat"])
    (rect,) = ax.patches
    assert rect.get_xy() == (10 - 0.5, 8 - 0.5)
    assert (rect.get_width(), rect.get_height()) == (20, 4)
    assert ax.texts[0].get_text() == "cat"
    ax = draw_boxes(np.zeros((10, 10, 1)), [[1, 2, 5, 7]], box_format="xyxy", normalized=False)
    assert (ax.patches[0].get_width(), ax.patches[0].get_height()) == (4, 5)
    with pytest.raises(ValueError, match="box_format"):
        draw_boxes(np.zeros((4, 4)), [[0, 0, 1, 1]], box_format="xywh")
    with pytest.raises(ValueError, match="2 boxes but 1 labels"):
        draw_boxes(np.zeros((4, 4)), [[0, 0, 1, 1]] * 2, labels=["a"])
    with pytest.raises(ValueError, match="images"):
        image_grid(np.zeros((4, 4)))
    import matplotlib.pyplot as plt
    plt.close("all")
