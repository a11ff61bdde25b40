"""Cost per layer: multiply-adds and activation memory in the summary, the profile."""
import numpy as np
import pytest

import pycnn
from pycnn import layers as L
from pycnn.cost import activation_memory, layer_macs


@pytest.fixture
def fresh_session():
    pycnn.clear_session()                  # layer names from dense_1 again
    yield
    pycnn.clear_session()


def lecture_mlp():
    return pycnn.models.Sequential([L.Dense(512, activation="relu", input_shape=(784,)),
                                    L.Dense(512, activation="relu"),
                                    L.Dense(10, activation="softmax")])


def test_the_lecture_mlp_costs_784x512_plus_512x512_plus_512x10(fresh_session):
    lines = []
    model = lecture_mlp()
    model.summary(show_flops=True, show_memory=True, print_fn=lines.append)
    assert f"Total mult-adds per example: {784 * 512 + 512 * 512 + 512 * 10:,}" in lines
    assert lines[2].split() == ["Layer", "(type)", "Output", "Shape", "Param", "#",
                                "Mult-adds", "Activation", "memory"]
    assert lines[4].rstrip().endswith("784·512 = 401,408  512 · 4 B = 2 KiB")
    assert lines[8].rstrip().endswith("512·10 = 5,120     10 · 4 B = 40 B")
    assert f"Activation memory per example: {(512 + 512 + 10) * 4:,} B" in lines[-2]
    assert len({len(line) for line in lines[1:10]}) == 1        # every row as wide
    # the default table is untouched: byte for byte what it was
    plain, again = [], []
    model.summary(print_fn=plain.append)
    from pycnn.summary import summary_lines
    assert plain == summary_lines(model)
    model.summary(show_arithmetic=True, print_fn=again.append)
    assert "Mult-adds" not in again[2]


def test_convolution_counts_every_output_position(fresh_session):
    conv = L.Conv2D(32, 3, input_shape=(28, 28, 1))
    model = pycnn.models.Sequential([conv, L.MaxPooling2D(2), L.Flatten(), L.Dense(10)])
    macs = layer_macs(conv, (None, 28, 28, 1), (None, 26, 26, 32))
    assert macs == 26 * 26 * 32 * 3 * 3 * 1 and repr(macs) == "26·26·32 · (3·3·1) = 194,688"
    assert layer_macs(model.layers[1], (None, 26, 26, 32), (None, 13, 13, 32)) == 0
    mem = activation_memory((None, 26, 26, 32), "float64")
    assert mem == 26 * 26 * 32 * 8 and repr(mem) == "26·26·32 · 8 B = 169 KiB"
    lines = []
    model.summary(show_flops=True, print_fn=lines.append)
    assert f"Total mult-adds per example: {194688 + 13 * 13 * 32 * 10:,}" in lines


def test_profile_times_every_layer_and_places_it_against_the_peak(fresh_session):
    model = pycnn.models.Sequential([L.Conv2D(4, 3, activation="relu", input_shape=(8, 8, 1)),
                                     L.Flatten(), L.Dense(3)])
    x = np.random.default_rng(0).standard_normal((5, 8, 8, 1))
    weights = model.get_weights()
    p = model.profile(x, repeats=1, peak=100.0)
    assert [r["name"] for r in p.rows] == [l.name for l in model.layers]
    assert all(r["forward"] > 0 and r["backward"] > 0 for r in p.rows)
    conv = p.rows[0]
    assert conv["macs"] == 5 * 6 * 6 * 4 * 9
    assert conv["of_peak"] == conv["gflops"] / 100.0
    assert p.rows[1]["macs"] == 0 and "—" in repr(p).splitlines()[3]
    assert repr(p).startswith("profile of one batch of 5; GEMM peak 100.0 GFLOP/s")
    for a, b in zip(weights, model.get_weights()):             # profiling trains nothing
        np.testing.assert_array_equal(a, b)
    assert all(w.grad is None for w in model.trainable_weights)
    assert pycnn.cost.gemm_peak(n=64, repeats=1) > 0


def _branchy_model():
    """Two branches, an Add, BatchNorm, a layer shared by two calls, a nested model with
    a Conv2DTranspose, two outputs."""
    i = pycnn.Input((8, 8, 3))
    a = L.Conv2D(4, 3, padding="same", activation="relu", name="wide")(i)
    b = L.Conv2D(4, 1, name="narrow")(i)
    o = L.BatchNormalization(name="bn")(L.Add(name="add")([a, b]))
    shared = L.Conv2D(4, 3, padding="same", name="shared")
    o = shared(shared(o))
    ii = pycnn.Input((8, 8, 4))
    inner = pycnn.Model(ii, L.Conv2DTranspose(2, 3, strides=2, padding="same",
                                              name="up")(ii), name="inner")
    f = L.GlobalAveragePooling2D(name="gap")(inner(o))
    m = L.Multiply(name="mul")([f, f])
    return pycnn.Model(i, [L.Dense(10, activation="softmax", name="cls")(f),
                           L.Dense(1, name="reg")(m)])


def test_a_functional_model_counts_every_layer_kind(fresh_session):
    model = _branchy_model()
    lines = []
    model.summary(show_flops=True, show_memory=True, line_length=200, print_fn=lines.append)
    text = "\n".join(lines)
    wide = 8 * 8 * 4 * 3 * 3 * 3
    narrow = 8 * 8 * 4 * 1 * 1 * 3
    shared = 8 * 8 * 4 * 3 * 3 * 4
    up = 8 * 8 * 4 * 3 * 3 * 2          # every input value meets the whole kernel
    expected = {"wide": f"8·8·4 · (3·3·3) = {wide:,}", "narrow": f"= {narrow:,}",
                "add": "0 (additions)", "bn": f"8·8·4 (a·x + b per value at inference) = 256",
                "shared": f"2 calls: {shared:,} + {shared:,} = {2 * shared:,}",
                "inner": f"Σ of its 1 layer calls = {up:,}",
                "gap": "2 (·1/(H·W) per channel) = 2", "mul": "1 · 2 = 2",
                "cls": "2·10 = 20", "reg": "2·1 = 2"}
    for name, formula in expected.items():
        row = next(line for line in lines if line.startswith(f"│ {name} "))
        assert formula in row, (name, row)
    total = wide + narrow + 256 + 2 * shared + up + 2 + 2 + 20 + 2
    assert f"Total mult-adds per example: {total:,}" in text
    assert "not counted" not in text
    memory = (3 + 4 + 4 + 4 + 4 + 2 * 4) * 8 * 8 * 4 + 16 * 16 * 2 * 4 + (2 + 2 + 10 + 1) * 4
    assert f"Activation memory per example: {memory:,} B" in text
    # expanded, the nested model's layer has its own row and the totals do not change
    nested = []
    model.summary(show_flops=True, expand_nested=True, line_length=200,
                  print_fn=nested.append)
    assert any("└ up" in line and f"8·8·4 · (3·3·2) = {up:,}" in line for line in nested)
    assert f"Total mult-adds per example: {total:,}" in "\n".join(nested)


def test_a_layer_without_a_formula_says_so_and_is_not_counted_as_zero(fresh_session):
    class Doubler(pycnn.layers.Layer):
        def call(self, x):
            return x * 2.0
    i = pycnn.Input((4,))
    model = pycnn.Model(i, L.Dense(3, name="d")(Doubler(name="twice")(i)))
    lines = []
    model.summary(show_flops=True, line_length=160, print_fn=lines.append)
    row = next(line for line in lines if line.startswith("│ twice"))
    assert "? (no formula for Doubler)" in row
    assert ("Total mult-adds per example: 12 (not counted, no formula: twice (Doubler))"
            in "\n".join(lines))

    class Scaled(Doubler):                      # a class that gives its own count
        def _macs(self, input_shapes, output_shapes):
            n = int(np.prod(output_shapes[0]))
            return n, f"{n} (x·2)"
    j = pycnn.Input((4,))
    model = pycnn.Model(j, L.Dense(3, name="d2")(Scaled(name="scaled")(j)))
    lines = []
    model.summary(show_flops=True, line_length=160, print_fn=lines.append)
    assert "4 (x·2) = 4" in next(line for line in lines if line.startswith("│ scaled"))
    assert "Total mult-adds per example: 16" in "\n".join(lines)


def test_a_subclassed_model_is_traced_for_its_costs(fresh_session):
    class Net(pycnn.Model):
        def __init__(self):
            super().__init__()
            self.conv, self.flat, self.out = L.Conv2D(3, 3), L.Flatten(), L.Dense(2)

        def call(self, x):
            return self.out(self.flat(self.conv(x)))
    net = Net()
    net(np.zeros((1, 6, 6, 1), np.float32))
    lines = []
    net.summary(show_flops=True, show_memory=True, print_fn=lines.append, line_length=150)
    assert f"Total mult-adds per example: {4 * 4 * 3 * 9 + 48 * 2:,}" in "\n".join(lines)
    assert type(net.conv).__name__ == "Conv2D" and type(net.conv) is L.Conv2D  # untouched
    p = net.profile(np.zeros((2, 6, 6, 1)), repeats=1, peak=1.0)
    assert [r["name"] for r in p.rows] == [net.conv.name, net.flat.name, net.out.name]
    assert p.rows[0]["macs"] == 2 * 4 * 4 * 3 * 9


def test_layer_formulas_for_the_other_kinds():
    bn = L.BatchNormalization()
    bn.build((None, 5, 5, 3))
    assert repr(layer_macs(bn, (None, 5, 5, 3), (None, 5, 5, 3))) == \
        "5·5·3 (a·x + b per value at inference) = 75"
    up = L.Conv2DTranspose(6, 3, strides=2)
    up.build((None, 4, 4, 2))
    assert layer_macs(up, (None, 4, 4, 2), (None, 9, 9, 6)) == 4 * 4 * 2 * 3 * 3 * 6
    assert layer_macs(L.Average(), [(None, 7), (None, 7), (None, 7)], (None, 7)) == 7
    assert layer_macs(L.Multiply(), [(None, 7), (None, 7), (None, 7)], (None, 7)) == 14
    assert repr(layer_macs(L.Concatenate(), [(None, 2), (None, 3)], (None, 5))) == "0 (a copy)"
    assert layer_macs(L.UpSampling2D(interpolation="bilinear"), (None, 2, 2, 1),
                      (None, 4, 4, 1)) == 4 * 16
    ln = L.LayerNormalization()
    ln.build((None, 6))
    assert layer_macs(ln, (None, 6), (None, 6)) == 18
    assert repr(layer_macs(L.PReLU(), (None, 4, 4, 2), (None, 4, 4, 2))) == \
        "4·4·2 (α·x where x < 0) = 32"
    assert layer_macs(L.Layer(), (None, 6), (None, 6)) is None


def test_profile_runs_a_graph_model_call_by_call(fresh_session):
    model = _branchy_model()
    x = np.random.default_rng(0).standard_normal((3, 8, 8, 3))
    weights = model.get_weights()
    p = model.profile(x, repeats=1, peak=50.0)
    names = [r["name"] for r in p.rows]
    assert names == ["wide", "narrow", "add", "bn", "shared", "shared (call 2)", "inner",
                     "gap", "mul", "cls", "reg"]
    assert all(r["forward"] > 0 and r["backward"] > 0 for r in p.rows)
    assert p.rows[names.index("inner")]["macs"] == 3 * 8 * 8 * 4 * 3 * 3 * 2
    for a, b in zip(weights, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_a_failing_trace_leaves_every_layer_its_own_class(fresh_session):
    class Boom(pycnn.layers.Layer):
        armed = False

        def call(self, x):
            if Boom.armed:
                raise ValueError("boom: planted")
            return x
    dense, boom = L.Dense(3), Boom()
    model = pycnn.models.Sequential([L.Input((4,)), dense, boom])
    Boom.armed = True
    with pytest.raises(ValueError, match="boom: planted"):
        pycnn.cost.trace_calls(model, np.zeros((1, 4), np.float32))
    assert type(dense) is L.Dense and type(boom) is Boom
    np.testing.assert_array_equal(dense(np.ones((1, 4), np.float32)).numpy().shape, (1, 3))


def test_depthwise_separable_grouped_and_1d_convolutions(fresh_session):
    from pycnn.summary import layer_arithmetic
    cases = [(L.DepthwiseConv2D(3, depth_multiplier=2), (8, 8, 3), "(3·3 + 1) · 3·2 = 60",
              6 * 6 * 6 * 9),
             (L.SeparableConv2D(5, 3, depth_multiplier=2), (8, 8, 3),
              "3·3·3·2 + 3·2·5 + 5 = 89", 6 * 6 * 6 * 9 + 6 * 6 * 5 * 6),
             (L.Conv2D(6, 3, groups=3), (8, 8, 3), "(3·3·1 + 1) · 6 = 60 (3 groups of 1 "
              "channels)", 6 * 6 * 6 * 9)]
    if hasattr(L, "Conv1D"):               # its own branch; the formula is ready for it
        cases.append((L.Conv1D(4, 3), (10, 2), "(3·2 + 1) · 4 = 28", 8 * 4 * 3 * 2))
    for layer, shape, params, macs in cases:
        out = layer(np.zeros((1,) + shape, np.float32))
        assert layer_arithmetic(layer, (None,) + shape) == params
        assert int(params.split(" = ")[1].split()[0]) == layer.count_params()
        assert layer_macs(layer, (None,) + shape, (None,) + tuple(out.shape[1:])) == macs
