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


def test_graphviz_draws_when_asked_and_installed(graph, tmp_path, monkeypatch):
    """A stand-in `dot` echoes what it was asked; the real one, when installed, draws."""
    e = graph[0]
    if shutil.which("dot") is not None:
        assert "<svg" in graph[1].pipe("svg").decode()
    fake = tmp_path / "dot"
    fake.write_text('#!/bin/sh\necho "<svg>$1 $(wc -l)</svg>"\n')
    fake.chmod(0o755)
    monkeypatch.setattr(shutil, "which", lambda name: str(fake) if name == "dot" else None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    lines = graph[1].source.count("\n")
    by_dot = draw_graph(e, engine="graphviz")
    assert by_dot._repr_svg_().split() == ["<svg>-Tsvg", f"{lines}</svg>"]
    assert graph[1].pipe("png").startswith(b"<svg>-Tpng")
    assert graph[1]._repr_svg_() == graph[1].svg()           # the default is pycnn's own
    with pytest.raises(ValueError, match="engine"):
        draw_graph(e, engine="neato")


def test_pycnn_draws_the_svg_without_graphviz(graph, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.setitem(__import__("sys").modules, "graphviz", None)
    svg = draw_graph(graph[0], engine="graphviz")._repr_svg_()    # falls back to pycnn's
    assert svg.startswith("<svg") and svg.rstrip().endswith("</svg>")
    import xml.etree.ElementTree as ET
    root = ET.fromstring(svg)
    ns = "{http://www.w3.org/2000/svg}"
    texts = [t.text for t in root.iter(ns + "text")]
    for line in ["e = add", "c = mul", "a (parameter)", "value [3, -2]", "shape (2,)"]:
        assert line in texts
    assert len(root.findall(f"{ns}g[@class='pycnn-node']")) == 5
    assert len(root.findall(f"{ns}path")) == 5                # five arrows
    with pytest.raises(RuntimeError, match="dot"):
        graph[1].pipe()


def test_layout_puts_every_parent_below_its_child_without_overlaps(graph):
    lay = graph[1].layout()
    box = {b.key: b for b in lay.boxes}
    for parent, child in graph[1].edges:
        assert box[parent].y > box[child].y                     # the loss on top
    boxes = list(box.values())
    for i, a in enumerate(boxes):
        for b in boxes[i + 1:]:
            apart_x = abs(a.x - b.x) >= (a.w + b.w) / 2
            apart_y = abs(a.y - b.y) >= (a.h + b.h) / 2
            assert apart_x or apart_y, f"boxes {a.key} and {b.key} overlap"
        assert a.x - a.w / 2 >= 0 and a.x + a.w / 2 <= lay.width
        assert a.y - a.h / 2 >= 0 and a.y + a.h / 2 <= lay.height


def test_layout_refuses_a_cycle_and_routes_long_edges_through_waypoints():
    from pycnn.layout import Box, layered
    with pytest.raises(ValueError, match="cycle"):
        layered([Box(0, ["a"]), Box(1, ["b"])], [(0, 1), (1, 0)])
    lay = layered([Box(k, [f"n{k}"]) for k in range(4)], [(0, 1), (1, 2), (2, 3), (0, 3)])
    long = next(p for p, e in zip(lay.paths, lay.edges) if e == (0, 3))
    assert len(long) == 4                          # tail, two waypoints, head


def test_save_writes_svg_and_png(graph, tmp_path):
    graph[1].save(tmp_path / "g.svg")
    assert (tmp_path / "g.svg").read_text().startswith("<svg")
    graph[1].save(tmp_path / "g.png")
    assert (tmp_path / "g.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_every_node_shows_its_gradient_when_kept():
    a = pycnn.tensor([1.0, 2.0], requires_grad=True, name="a")
    e = (pycnn.sigmoid(a * 3.0) + a).sum()
    e.backward(retain_grads=True)
    g = draw_graph(e)
    assert all(n.grad is not None for n in g.nodes if n.kind != "constant")


def test_gradcheck_overlay_colours_leaves_by_relative_error():
    from pycnn.viz import relative_error
    w = pycnn.tensor([0.5, -1.5], dtype="float64", requires_grad=True, name="w")
    x = pycnn.tensor([2.0, 3.0], dtype="float64", name="x")

    def loss():
        return (pycnn.tanh(w * x) * w).sum()
    g = draw_graph(loss(), gradcheck=loss)
    node = {n.label: n for n in g.nodes}
    assert node["w"].error < 1e-7 and node["w"].fill() == "#a8dba8"
    assert "gradcheck" in " ".join(node["w"].lines()) and node["x"].error is None
    # a planted wrong gradient: the recomputation differs from the graph (w·2 vs w·x)
    wrong = draw_graph(loss(), gradcheck=lambda: (pycnn.tanh(w * 2.0) * w).sum())
    bad = {n.label: n for n in wrong.nodes}["w"]
    assert bad.error > 1e-2 and bad.fill() == "#f4a6a6" and "(wrong)" in bad.lines()[-1]
    assert relative_error([1.0, 0.0], [1.0, 0.0]) == 0.0
    assert relative_error([1.0], [1.1]) == pytest.approx(0.1 / 1.1)
    w32 = pycnn.tensor([1.0], requires_grad=True)
    with pytest.raises(TypeError, match="float64"):
        draw_graph((w32 * w32).sum(), gradcheck=lambda: (w32 * w32).sum())


def test_step_graph_outlines_the_node_and_its_parents():
    from pycnn.explain.backward import backward_steps
    from pycnn.viz import backward_step_graph
    a = pycnn.tensor([1.0, 2.0], requires_grad=True, name="a")
    h = a * a
    h.name = "h"
    e = h.sum()
    steps = backward_steps(e)
    g = backward_step_graph(e, steps, 1)                    # h adds into a
    node = {n.label: n for n in g.nodes}
    assert node["h"].key in g.highlight and node["a"].key in g.marked
    assert node["a"].grad == "[2, 4]" and node["h"].grad == "[1, 1]"
    e.backward(retain_grads=True)                           # .grad everywhere now, but
    first = {n.label: n for n in backward_step_graph(e, steps, 0).nodes}
    assert first["a"].grad is None                          # step 1 has not reached a
    assert 'stroke="#d62728"' in g.svg()


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
