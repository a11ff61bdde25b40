"""The receptive field on graphs: exact along every path of a DAG (branches, merges,
shared layers, nested and subclassed models), and the effective field measured by
backpropagation lying inside the theoretical one."""
import numpy as np
import pytest

import pycnn
from pycnn import layers as L
from pycnn.arithmetic import receptive_field


@pytest.fixture(autouse=True)
def fresh_session():
    pycnn.clear_session()
    yield
    pycnn.clear_session()


def _support(erf):
    rows, cols = np.nonzero(erf > 1e-12)
    return (rows.min(), rows.max()), (cols.min(), cols.max())


def _assert_measured_inside(rf, exact=True, samples=3):
    """The pixels whose gradient is not 0 lie in the centre unit's theoretical field
    (and, for layers without pooling or ReLU, fill it)."""
    erf = rf.effective(samples=samples)
    (top, bottom), (left, right) = _support(erf)
    (t, b), (le, r) = rf.centre_bounds()
    assert t <= top and bottom <= b and le <= left and right <= r, \
        (rf.layer.name, (top, bottom, left, right), rf.centre_bounds())
    if exact:
        assert (top, bottom, left, right) == (t, b, le, r), rf.layer.name


def test_three_3x3_convolutions_as_a_functional_model_see_7():
    i = pycnn.Input((16, 16, 1))
    x = i
    for k in range(3):
        x = L.Conv2D(2, 3, name=f"c{k}")(x)
    rf = receptive_field(pycnn.Model(i, x))
    assert rf.size == (7, 7) and rf.stride == (1, 1) and rf.offset == (3.0, 3.0)
    assert rf.notes == []
    _assert_measured_inside(rf)


def test_a_residual_block_sees_the_longer_path():
    i = pycnn.Input((16, 16, 1))
    a = L.Conv2D(2, 3, padding="same", name="c1")(i)
    b = L.Conv2D(2, 3, padding="same", name="c2")(a)
    r = L.Add(name="add")([a, b])                   # 3 ∪ 5 = 5, both centred alike
    o = L.Conv2D(2, 3, strides=2, name="c3")(r)     # 5 + 2·1 = 7, jump 2, start 1
    model = pycnn.Model(i, o)
    add = receptive_field(model, "add")
    assert add.size == (5, 5) and add.offset == (0.0, 0.0) and "∪(3, 5) = 5" in repr(add)
    assert add.bounds == ((-2.0, 2.0), (-2.0, 2.0))
    rf = receptive_field(model, "c3")
    assert rf.size == (7, 7) and rf.stride == (2, 2) and rf.offset == (1.0, 1.0)
    assert [row["name"] for row in rf.rows] == ["c1", "c2", "add", "c3"]
    _assert_measured_inside(add)
    _assert_measured_inside(rf)


def test_an_inception_block_takes_the_union_of_its_branches():
    # by hand: 1×1 → 1, 5×5 same → 5 (pixels −2..2), 3×3 max-pool same → 3; the concat
    # sees −2..2 (5); a 3×3 stride-2 valid conv then 5 + 2·1 = 7, jump 2, its first
    # unit centred on pixel 1 (pixels −2..4).
    i = pycnn.Input((20, 20, 1))
    a = L.Conv2D(2, 1, name="b1")(i)
    b = L.Conv2D(2, 5, padding="same", name="b5")(i)
    c = L.MaxPooling2D(3, strides=1, padding="same", name="pool")(i)
    d = L.Conv2D(2, 3, padding="same", name="b3")(L.Conv2D(2, 1, name="reduce")(i))
    cat = L.Concatenate(name="cat")([a, b, c, d])
    o = L.Conv2D(2, 3, strides=2, name="after")(cat)
    model = pycnn.Model(i, o)
    rf = receptive_field(model, "after")
    assert rf.size == (7, 7) and rf.stride == (2, 2) and rf.offset == (1.0, 1.0)
    assert rf.bounds == ((-2.0, 4.0), (-2.0, 4.0))
    cat_rf = receptive_field(model, "cat")
    assert "∪(1, 5, 3, 3) = 5" in repr(cat_rf)
    _assert_measured_inside(rf)


def test_paths_that_disagree_on_the_offset_are_reported():
    i = pycnn.Input((16, 16, 1))
    a = L.Conv2D(2, 3, name="valid")(i)                                   # starts at 1
    b = L.Cropping2D(1, name="crop")(L.Conv2D(2, 1, name="one")(i))       # starts at 1
    c = L.Cropping2D(((0, 2), (0, 2)), name="shifted")(L.Conv2D(2, 1, name="one_b")(i))
    merged = L.Add(name="add")([a, b, c])
    rf = receptive_field(pycnn.Model(i, merged), "add")
    # pixels 0..2 ∪ 1 ∪ 0: the union 0..2
    assert rf.size == (3, 3) and rf.bounds == ((0.0, 2.0), (0.0, 2.0))
    assert any("not centred alike" in n for n in rf.notes)
    _assert_measured_inside(rf)


def test_paths_that_disagree_on_the_jump_are_reported():
    i = pycnn.Input((16, 16, 1))
    down = L.Conv2D(2, 3, strides=2, padding="same", name="down")(i)      # jump 2
    up = L.UpSampling2D(2, name="up")(down)                               # back to 1
    fine = L.Conv2D(2, 3, padding="same", name="fine")(i)
    rf = receptive_field(pycnn.Model(i, L.Concatenate(name="cat")([up, fine])), "cat")
    assert any("position modulo 2" in n for n in rf.notes)
    _assert_measured_inside(rf, exact=False)
    # two branches that keep different jumps up to a merge
    i = pycnn.Input((16, 16, 1))
    s2 = L.Conv2D(2, 3, strides=2, padding="same", name="s2")(i)
    s1 = L.MaxPooling2D(2, name="p")(L.Conv2D(2, 1, name="o1")(i))
    r = receptive_field(pycnn.Model(i, L.Add(name="add")([s2, s1])), "add")
    # same padding of 16 by 3 with stride 2 pads 0 before: pixels 0..2 (start 1); the
    # pooled 1×1 conv sees 0..1 (start 0.5): same jump, offsets that differ
    assert r.stride == (2, 2) and r.bounds == ((0.0, 2.0), (0.0, 2.0))
    assert len(r.notes) == 1 and "starts 0.5 vs 1" in r.notes[0]
    i = pycnn.Input((8, 8, 1))
    a = L.Conv2D(2, 1, strides=2, name="j2")(L.Conv2D(2, 1, name="pre")(i))
    b = L.Conv2D(2, 1, name="j1")(L.Cropping2D(((0, 4), (0, 4)), name="crop")(i))
    r = receptive_field(pycnn.Model(i, L.Add(name="mix")([a, b])), "mix")
    assert any("disagree on the jump" in n for n in r.notes)


def test_transposed_convolution_and_upsampling_fields_hold_every_unit():
    i = pycnn.Input((12, 12, 1))
    x = L.Conv2D(2, 3, strides=2, padding="same", name="down")(i)
    x = L.Conv2DTranspose(2, 3, strides=2, padding="same", name="up")(x)
    x = L.Conv2D(2, 3, padding="same", name="after")(x)
    model = pycnn.Model(i, x)
    for name in ("up", "after"):
        rf = receptive_field(model, name)
        assert rf.stride == (1, 1)
        _assert_measured_inside(rf, exact=False)
        # every unit's measured field inside its bounds, not only the centre's
        for q in range(3, 9):
            erf = _unit_field(model, name, q)
            (top, bottom), _ = _support(erf)
            lo, hi = rf.bounds[0]
            assert lo + q <= top and bottom <= hi + q, (name, q)


def _unit_field(model, name, q):
    from pycnn import _core
    from pycnn.cost import trace_calls
    rng = np.random.default_rng(q)
    t = _core.tensor(rng.standard_normal((1,) + tuple(model.input_shape[1:])).astype(np.float32))
    t.requires_grad = True
    calls = trace_calls(model, [t], grad=True)
    out = next(c for c in calls if c.layer.name == name).outputs[0]
    mask = np.zeros(out.shape, np.float32)
    mask[0, q, q, :] = 1
    (out * _core.tensor(mask)).sum().backward()
    return np.abs(t.grad.numpy()[0]).sum(-1)


def test_shared_layers_and_nested_models():
    shared = L.Conv2D(1, 3, padding="same", name="shared")
    ii = pycnn.Input((16, 16, 1))
    inner = pycnn.Model(ii, L.Conv2D(1, 5, padding="same", name="five")(ii), name="inner")
    i = pycnn.Input((16, 16, 1))
    x = shared(shared(i))                           # 3, then 5
    y = inner(x)                                    # 5 + 4 = 9
    model = pycnn.Model(i, L.Conv2D(1, 3, name="last")(y))
    assert receptive_field(model, "shared").size == (5, 5)     # its last call
    rf = receptive_field(model, "inner")
    assert rf.size == (9, 9)
    assert [r["name"] for r in rf.rows] == ["shared", "shared (call 2)", "inner/five"]
    assert receptive_field(model, inner.get_layer("five")).size == (9, 9)   # inside it
    with pytest.raises(ValueError, match="no call of it"):
        receptive_field(model, L.Conv2D(1, 3))
    last = receptive_field(model, "last")
    assert last.size == (11, 11) and last.offset == (1.0, 1.0)
    _assert_measured_inside(rf)
    _assert_measured_inside(last)


def test_a_subclassed_model_with_a_skip_connection():
    class Block(pycnn.Model):
        def __init__(self):
            super().__init__()
            self.a = L.Conv2D(2, 3, padding="same")
            self.b = L.Conv2D(2, 5, padding="same")
            self.add = L.Add()

        def call(self, x):
            h = self.a(x)
            return self.add([h, self.b(h)])
    model = Block()
    model(np.zeros((1, 16, 16, 1), np.float32))
    rf = receptive_field(model, model.add)
    assert rf.size == (7, 7)
    _assert_measured_inside(rf)


def test_several_inputs_each_measured_on_its_own_grid():
    a_in, b_in = pycnn.Input((10, 10, 1)), pycnn.Input((10, 10, 1))
    a = L.Conv2D(1, 3, padding="same", name="a3")(a_in)
    b = L.Conv2D(1, 5, padding="same", name="b5")(b_in)
    model = pycnn.Model([a_in, b_in], L.Add(name="add")([a, b]))
    rf = receptive_field(model, "add")
    assert rf.size == (5, 5)
    first = rf.effective(samples=2, input_index=0)
    second = rf.effective(samples=2, input_index=1)
    assert _support(first) == ((4, 6), (4, 6)) and _support(second) == ((3, 7), (3, 7))


def test_the_plot_draws_the_theoretical_box_on_a_functional_model():
    import matplotlib
    matplotlib.use("Agg")
    i = pycnn.Input((12, 12, 1))
    x = L.Conv2D(2, 3, name="c")(i)
    rf = receptive_field(pycnn.Model(i, x))
    fig = rf.plot(np.random.default_rng(0).standard_normal((2, 12, 12, 1)))
    box = fig.axes[0].patches[0]
    assert (box.get_x(), box.get_y(), box.get_width()) == (4.5, 4.5, 3)      # unit 5: pixels 5..7


def test_depthwise_and_dilated_convolutions():
    i = pycnn.Input((20, 20, 2))
    x = L.DepthwiseConv2D(3, name="dw")(i)                        # 3
    x = L.Conv2D(2, 3, dilation_rate=2, name="dilated")(x)        # 3 + (5 − 1)·1 = 7
    x = L.SeparableConv2D(2, 3, strides=2, name="sep")(x)         # 7 + 2 = 9, jump 2
    model = pycnn.Model(i, x)
    rf = receptive_field(model, "sep")
    assert rf.size == (9, 9) and rf.stride == (2, 2) and rf.offset == (4.0, 4.0)
    _assert_measured_inside(receptive_field(model, "dilated"), exact=False)
    _assert_measured_inside(rf, exact=False)


def test_a_layer_of_your_own_is_assumed_pointwise_and_the_notes_say_so():
    class Twice(pycnn.layers.Layer):
        def call(self, x):
            return x * 2.0

    class Spread(Twice):
        _field_rule = "whole"
    i = pycnn.Input((10, 10, 1))
    x = Twice(name="twice")(L.Conv2D(1, 3, name="c")(i))
    model = pycnn.Model(i, L.Conv2D(1, 3, name="after")(x))
    rf = receptive_field(model, "after")
    assert rf.size == (5, 5)
    assert any("no receptive-field rule for twice (Twice)" in n for n in rf.notes)
    i = pycnn.Input((10, 10, 1))
    model = pycnn.Model(i, L.Conv2D(1, 3, name="after")(Spread(name="spread")(i)))
    assert receptive_field(model, "after").whole == "spread (Spread)"


def test_a_field_larger_than_the_image_is_drawn_cut_at_its_edges():
    import matplotlib
    matplotlib.use("Agg")
    i = pycnn.Input((6, 6, 1))
    x = i
    for k in range(4):
        x = L.Conv2D(1, 3, padding="same", name=f"c{k}")(x)       # 9 px on a 6-px image
    rf = receptive_field(pycnn.Model(i, x))
    assert rf.size == (9, 9) and rf.centre_bounds() == ((-1.0, 7.0), (-1.0, 7.0))
    fig = rf.plot()
    box = fig.axes[0].patches[0]
    assert (box.get_x(), box.get_y(), box.get_width(), box.get_height()) == (-0.5, -0.5, 6, 6)
    assert box.get_linestyle() == "--" and "past the image" in fig.axes[0].get_title()
