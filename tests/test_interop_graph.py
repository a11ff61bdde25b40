"""pycnn.interop on functional models: a residual block, two inputs and two outputs, a shared
layer and a nested model, each compared on the same input with Keras 3 (torch backend), the
torch module and onnxruntime; and pycnn -> Keras -> pycnn with bit-identical weights."""
import os

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import interop
from pycnn.interop import ConversionError
from pycnn.layers import (Add, Average, Concatenate, Conv2D, Dense, Flatten, Maximum,
                          MaxPooling2D, Minimum, Multiply, Subtract)

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")

ATOL = 1e-5


def residual():
    """Conv -> Conv + skip (Add) -> pool -> Dense: the convolutions stay NCHW in ONNX."""
    pycnn.clear_session()
    pycnn.set_seed(3)
    x = pycnn.Input((8, 8, 3), name="image")
    h = Conv2D(4, 3, padding="same", activation="relu", name="stem")(x)
    r = Conv2D(4, 3, padding="same", name="branch")(h)
    y = Add(name="skip")([h, r])
    y = MaxPooling2D(2, name="pool")(y)
    y = Flatten(name="flat")(y)
    y = Dense(5, name="logits")(y)
    return pycnn.Model(x, y, name="residual"), [_data((2, 8, 8, 3), 1)]


def two_in_two_out():
    """Two inputs concatenated (feature axis, and a channel axis after convolutions), every
    elementwise merge, two outputs."""
    pycnn.clear_session()
    pycnn.set_seed(4)
    a = pycnn.Input((6, 6, 2), name="a")
    b = pycnn.Input((6, 6, 2), name="b")
    ca = Conv2D(3, 3, padding="same", name="conv_a")(a)
    cb = Conv2D(3, 3, padding="same", name="conv_b")(b)
    joined = Concatenate(axis=-1, name="join_channels")([ca, cb])      # NCHW in ONNX: axis 1
    pooled = Flatten(name="flat")(MaxPooling2D(2, name="pool")(joined))
    fa, fb = Flatten(name="flat_a")(a), Flatten(name="flat_b")(b)
    merged = [Subtract(name="sub")([fa, fb]), Multiply(name="mul")([fa, fb]),
              Average(name="avg")([fa, fb, fa]), Maximum(name="max")([fa, fb]),
              Minimum(name="min")([fa, fb])]
    features = Concatenate(name="join_features")([pooled] + merged)
    out1 = Dense(4, activation="softmax", name="class")(features)
    out2 = Dense(1, name="value")(Add(name="add3")([fa, fb, fa]))
    return pycnn.Model([a, b], [out1, out2], name="two_two"), \
        [_data((3, 6, 6, 2), 2), _data((3, 6, 6, 2), 3)]


def shared():
    """One Dense and one Conv2D called twice each (a siamese pair)."""
    pycnn.clear_session()
    pycnn.set_seed(5)
    a = pycnn.Input((5, 5, 1), name="left")
    b = pycnn.Input((5, 5, 1), name="right")
    conv = Conv2D(2, 3, activation="tanh", name="shared_conv")
    dense = Dense(3, activation="relu", name="shared_dense")
    flat = Flatten(name="flat")
    ea, eb = dense(flat(conv(a))), dense(flat(conv(b)))
    out = Dense(1, name="head")(Concatenate(name="pair")([ea, eb]))
    return pycnn.Model([a, b], out, name="siamese"), [_data((2, 5, 5, 1), 4),
                                                       _data((2, 5, 5, 1), 5)]


def _data(shape, seed):
    return np.random.default_rng(seed).standard_normal(shape).astype(np.float32)


MODELS = [residual, two_in_two_out, shared]


def _list(out):
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


def _report(label, ref, got, rtol=0.0):
    diffs = [float(np.max(np.abs(r - g))) for r, g in zip(ref, got)]
    print(f"{label}: max abs diff {max(diffs):.2e}")
    assert len(ref) == len(got)
    for r, g in zip(ref, got):
        assert r.shape == g.shape
        np.testing.assert_allclose(g, r, atol=ATOL, rtol=rtol)


@pytest.mark.parametrize("make", MODELS)
def test_keras_matches_and_round_trips(keras, make):
    model, xs = make()
    ref = _list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    kmodel = interop.to_keras(model)
    assert isinstance(kmodel, keras.Model) and not isinstance(kmodel, keras.Sequential)
    assert [layer.name for layer in kmodel.layers] == [layer.name for layer in model.layers]
    _report(f"{model.name} keras", ref, _list(kmodel.predict(xs if len(xs) > 1 else xs[0], verbose=0)))
    back = interop.from_keras(kmodel)
    assert [layer.name for layer in back.layers] == [layer.name for layer in model.layers]
    for mine, theirs in zip(model.layers, back.layers):
        assert type(mine) is type(theirs)
        for w0, w1 in zip(mine.get_weights(), theirs.get_weights()):
            np.testing.assert_array_equal(np.asarray(w0), np.asarray(w1))
    assert len(back.get_weights()) == len(model.get_weights())
    _report(f"{model.name} keras->pycnn", ref,
            _list(back.predict(xs if len(xs) > 1 else xs[0], verbose=0)))


@pytest.mark.parametrize("make", MODELS)
def test_torch_matches(torch, make):
    model, xs = make()
    ref = _list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    module = interop.to_torch(model).eval()
    with torch.no_grad():
        got = module(*[torch.from_numpy(x) for x in xs])
    _report(f"{model.name} torch", ref, [g.numpy() for g in (got if isinstance(got, tuple)
                                                            else [got])])
    # one module per layer: a shared layer's weights appear once
    distinct = {id(layer) for layer in model.layers if layer.get_weights()}
    assert sum(1 for k in module.state_dict() if k.endswith("weight")) == len(distinct)
    # trained weights come back
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05)
    interop.load_torch_state(model, module)
    with torch.no_grad():
        got = module(*[torch.from_numpy(x) for x in xs])
    _report(f"{model.name} torch after load_torch_state",
            [g.numpy() for g in (got if isinstance(got, tuple) else [got])],
            _list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0)), rtol=1e-5)


@pytest.mark.parametrize("make", MODELS)
def test_onnx_matches(ort, tmp_path, make):
    model, xs = make()
    ref = _list(model.predict(xs if len(xs) > 1 else xs[0], verbose=0))
    path = tmp_path / "m.onnx"
    proto = interop.to_onnx(model, path)
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    if len(xs) > 1:
        assert names == model.input_names
    got = session.run(None, dict(zip(names, xs)))
    _report(f"{model.name} onnxruntime", ref, got)
    # a shared layer's weights are stored once
    inits = [i.name for i in proto.graph.initializer]
    assert len(inits) == len(set(inits))


def test_onnx_concat_axis_follows_the_layout(ort, tmp_path):
    """Concatenate(-1) of two convolutions' outputs is an NCHW Concat along axis 1."""
    model, xs = two_in_two_out()
    proto = interop.to_onnx(model, tmp_path / "m.onnx")
    concat = [n for n in proto.graph.node if n.name.startswith("join_channels")]
    assert [n.op_type for n in concat] == ["Concat"]
    assert concat[0].attribute[0].i == 1


def test_keras_shared_layer_is_one_layer_called_twice(keras):
    model, _ = shared()
    kmodel = interop.to_keras(model)
    conv = kmodel.get_layer("shared_conv")
    assert len(conv._inbound_nodes) == 2
    back = interop.from_keras(kmodel)
    assert len(back.get_layer("shared_dense")._inbound_nodes) == 2


def test_nested_model_to_keras_and_refused_by_torch(keras, torch):
    pycnn.clear_session()
    pycnn.set_seed(6)
    inner_in = pycnn.Input((4,), name="inner_in")
    inner = pycnn.Model(inner_in, Dense(3, activation="tanh", name="inner_dense")(inner_in),
                        name="inner")
    x = pycnn.Input((4,), name="x")
    y = Dense(2, name="outer_dense")(Add(name="both")([inner(x), Dense(3, name="side")(x)]))
    model = pycnn.Model(x, y, name="outer")
    data = _data((3, 4), 7)
    kmodel = interop.to_keras(model)
    _report("nested keras", _list(model.predict(data, verbose=0)),
            _list(kmodel.predict(data, verbose=0)))
    back = interop.from_keras(kmodel)
    _report("nested keras->pycnn", _list(model.predict(data, verbose=0)),
            _list(back.predict(data, verbose=0)))
    with pytest.raises(ConversionError, match="'inner'.*nested model converts to Keras only"):
        interop.to_torch(model)


def test_keras_functional_to_pycnn(keras):
    """A functional model written in Keras (its own leaky_relu, slope 0.2, splits off)."""
    a = keras.Input((6,), name="ka")
    b = keras.Input((6,), name="kb")
    d = keras.layers.Dense(4, activation="leaky_relu", name="kd")
    y = keras.layers.Concatenate(name="kc")([d(a), d(b)])
    kmodel = keras.Model([a, b], keras.layers.Dense(2, name="ko")(y))
    xs = [_data((2, 6), 8), _data((2, 6), 9)]
    model = interop.from_keras(kmodel)
    _report("keras functional -> pycnn", _list(kmodel.predict(xs, verbose=0)),
            _list(model.predict(xs, verbose=0)))


def test_unconvertible_node_is_refused_before_building(keras, ort, tmp_path):
    pycnn.clear_session()
    x = pycnn.Input((4,))
    y = Dense(2, name="d")(x)
    model = pycnn.Model(x, y * 2.0)
    with pytest.raises(ConversionError, match="TensorOp"):
        interop.to_keras(model)
    with pytest.raises(ConversionError, match="TensorOp"):
        interop.to_torch(model)
    with pytest.raises(ConversionError, match="TensorOp"):
        interop.to_onnx(model, tmp_path / "m.onnx")
    assert list(tmp_path.iterdir()) == []
