"""pycnn.interop: round trips to Keras 3, PyTorch and ONNX, the refusals, and DDP scale-out.

Keras runs on its torch backend (set below, before keras is imported anywhere), so no second
framework is needed. A test is skipped only when its optional library is missing.
"""
import json
import os
import subprocess
import sys

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn import interop
from pycnn.interop import ConversionError
from pycnn.layers import (ELU, Activation, AveragePooling2D, Conv2D, Dense, Dropout, Flatten,
                          LeakyReLU, Maxout, MaxPooling2D, Reshape, Softmax, UpSampling2D)
from pycnn.models import Sequential

pytestmark = pytest.mark.filterwarnings(  # Keras 3.15 on torch calls np.array(tensor)
    "ignore:__array__ implementation doesn.t accept a copy keyword:DeprecationWarning")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ATOL = 1e-5  # float32 agreement asked of every converter


def lecture_mlp():
    """The lecture's MLP, exactly as typed in class."""
    pycnn.clear_session()
    pycnn.set_seed(1)
    model = Sequential(name="lecture_mlp")
    model.add(Dense(512, activation="relu", input_shape=(784,)))
    model.add(Dropout(0.2))
    model.add(Dense(512, activation="relu"))
    model.add(Dropout(0.2))
    model.add(Dense(10, activation="softmax"))
    return model


def every_layer_cnn():
    """A small CNN holding every convertible layer; ends in logits so differences show."""
    pycnn.clear_session()
    pycnn.set_seed(2)
    return Sequential([
        # 'same' with stride (2, 1) on 12×10 pads 0 top / 1 bottom and 0 left / 1 right
        Conv2D(4, (3, 2), strides=(2, 1), padding="same", activation="relu",
               input_shape=(12, 10, 3)),
        Conv2D(6, 3, padding="valid", activation="leaky_relu"),
        MaxPooling2D(2, strides=1, padding="same"),
        Conv2D(5, 2, strides=2, padding="same", activation="elu"),
        AveragePooling2D(3, strides=1, padding="same"),
        UpSampling2D(2),
        Conv2D(4, 3, padding="same", activation="swish"),
        AveragePooling2D(2),
        Activation("tanh"),
        LeakyReLU(alpha=0.1),
        ELU(alpha=1.0),
        Softmax(axis=-1),
        UpSampling2D((2, 1)),  # this one on NHWC data, the first on NCHW (inside ONNX)
        Flatten(),
        Dropout(0.5),
        Dense(12, activation="sigmoid"),
        Reshape((3, 4)),
        Activation("softmax"),
        Reshape((12,)),
        Dense(10),
    ], name="every_layer_cnn")


def padded_pools():
    """'same' pools whose padding is asymmetric: 7×6 with window 3, stride 2 pads (1, 1) rows and
    (0, 1) columns; window 2 stride 1 pads only the bottom/right."""
    pycnn.clear_session()
    return Sequential([
        MaxPooling2D(3, strides=2, padding="same", input_shape=(7, 6, 2)),
        AveragePooling2D(2, strides=1, padding="same"),
        AveragePooling2D(3, strides=2, padding="same"),
    ], name="padded_pools")


MODELS = {"mlp": (lecture_mlp, (784,)), "cnn": (every_layer_cnn, (12, 10, 3))}


def batch(shape, n=5, seed=0):
    return np.random.default_rng(seed).standard_normal((n,) + shape).astype(np.float32)


def predict(model, x):
    return np.asarray(model.predict(x, batch_size=len(x), verbose=0))


def max_diff(a, b):
    return float(np.max(np.abs(np.asarray(a, np.float64) - np.asarray(b, np.float64))))


# ---------------------------------------------------------------- import hygiene
def test_import_pycnn_imports_no_optional_library():
    code = ("import sys, pycnn, pycnn.interop, pycnn.layers, pycnn.models\n"
            "bad = {'keras', 'torch', 'onnx', 'onnxruntime'} & set(sys.modules)\n"
            "assert not bad, bad\n")
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


@pytest.mark.parametrize("missing, call, pattern", [
    ("keras", lambda m: interop.to_keras(m), r"pip install pycnn\[interop\]"),
    ("keras", lambda m: interop.from_keras(object()), r"pip install pycnn\[interop\]"),
    ("torch", lambda m: interop.to_torch(m), r"pip install pycnn\[interop\] torch==2\.13\.0"),
    ("torch", lambda m: interop.load_torch_state(m, {}), r"torch==2\.13\.0"),
    ("onnx", lambda m: interop.to_onnx(m, "never.onnx"), r"pip install pycnn\[interop\]"),
])
def test_missing_library_raises_import_error_naming_pip(monkeypatch, tmp_path, missing, call,
                                                        pattern):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setitem(sys.modules, missing, None)  # `import <missing>` now fails
    with pytest.raises(ImportError, match=pattern):
        call(lecture_mlp())
    assert not os.path.exists(tmp_path / "never.onnx")


def test_keras_without_its_backend_says_how_to_choose_one(keras):
    code = ("import sys; sys.modules['jax'] = None\n"  # as if jax were not installed
            "import pycnn.interop as interop\n"
            "try:\n    interop.to_keras(None)\n"
            "except ImportError as e:\n    print(e)\n")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                         env=dict(os.environ, KERAS_BACKEND="jax"), check=True)
    assert "backend" in run.stdout and "KERAS_BACKEND=torch" in run.stdout, run.stdout


# ---------------------------------------------------------------- Keras 3
@pytest.mark.parametrize("which", sorted(MODELS))
def test_keras_round_trip(keras, which):
    make, shape = MODELS[which]
    model, x = make(), batch(MODELS[which][1])
    kmodel = interop.to_keras(model)
    assert isinstance(kmodel, keras.Sequential) and kmodel.name == model.name
    assert [(l.name, type(l).__name__) for l in kmodel.layers] == \
           [(l.name, type(l).__name__) for l in model.layers]
    assert kmodel.count_params() == model.count_params()
    assert max_diff(kmodel.predict(x, verbose=0), predict(model, x)) <= ATOL

    back = interop.from_keras(kmodel)
    assert back.name == model.name
    for a, b in zip(model.layers, back.layers):
        assert type(a) is type(b) and a.get_config() == b.get_config()
        for wa, wb in zip(a.get_weights(), b.get_weights(), strict=True):
            assert wa.dtype == wb.dtype and np.array_equal(wa, wb)  # bit-identical
    np.testing.assert_array_equal(predict(back, x), predict(model, x))


def test_float64_models_keep_their_dtype(keras, torch):
    pycnn.clear_session()
    model = Sequential([Conv2D(3, 3, padding="same", activation="tanh", input_shape=(6, 6, 2),
                               dtype="float64"),
                        MaxPooling2D(dtype="float64"), Flatten(dtype="float64"),
                        Dense(4, dtype="float64")])
    back = interop.from_keras(interop.to_keras(model))
    for a, b in zip(model.get_weights(), back.get_weights(), strict=True):
        assert a.dtype == b.dtype == np.float64 and np.array_equal(a, b)
    x = np.random.default_rng(5).standard_normal((3, 6, 6, 2))
    with torch.no_grad():
        got = interop.to_torch(model)(torch.from_numpy(x)).numpy()
    assert got.dtype == np.float64 and max_diff(got, predict(model, x)) <= 1e-12


def test_keras_layers_keep_their_configuration(keras):
    kmodel = interop.to_keras(every_layer_cnn())
    conv = kmodel.get_layer("conv2d_1").get_config()
    assert (conv["filters"], conv["kernel_size"], conv["strides"], conv["padding"],
            conv["activation"]) == (4, (3, 2), (2, 1), "same", "relu")
    assert kmodel.get_layer("leaky_re_lu_1").get_config()["negative_slope"] == pytest.approx(0.1)
    assert kmodel.get_layer("dropout_1").get_config()["rate"] == 0.5
    assert kmodel.get_layer("reshape_1").get_config()["target_shape"] == (3, 4)
    assert kmodel.get_layer("up_sampling2d_1").get_config()["size"] == (2, 2)
    # pycnn's leaky_relu is the lecture's slope 0.1 (Keras' own string means 0.2)
    x = np.array([[-10.0, 10.0]], np.float32)
    fn = kmodel.get_layer("conv2d_2").activation
    assert np.allclose(keras.ops.convert_to_numpy(fn(x)), [[-1.0, 10.0]])


def test_from_keras_model_built_in_keras(keras):
    keras.utils.set_random_seed(3)
    kmodel = keras.Sequential([
        keras.Input((8, 8, 1)),
        keras.layers.Conv2D(3, 3, padding="same", activation="leaky_relu"),  # slope 0.2
        keras.layers.ReLU(),
        keras.layers.MaxPooling2D(),
        keras.layers.Flatten(),
        keras.layers.Dense(5, activation="silu"),
        keras.layers.Dense(4, activation="softmax"),
    ], name="made_in_keras")
    model = interop.from_keras(kmodel)
    names = [l.name for l in model.layers]
    conv = kmodel.layers[0].name
    assert names[:2] == [conv, f"{conv}_leaky_relu"]  # Keras' slope-0.2 activation split off
    assert model.layers[1].get_config()["alpha"] == pytest.approx(0.2)
    x = batch((8, 8, 1), n=6)
    assert max_diff(predict(model, x), kmodel.predict(x, verbose=0)) <= ATOL


# ---------------------------------------------------------------- PyTorch
@pytest.mark.parametrize("which", sorted(MODELS))
def test_torch_round_trip(torch, which):
    make, shape = MODELS[which]
    model, x = make(), batch(shape)
    module = interop.to_torch(model).eval()
    assert list(dict(module.named_children())) == [l.name for l in model.layers]
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    assert max_diff(got, predict(model, x)) <= ATOL

    # trained weights come back: perturb torch's, copy them into pycnn, predictions follow
    with torch.no_grad():
        for p in module.parameters():
            p.add_(0.05 * torch.randn_like(p))
        got = module(torch.from_numpy(x)).numpy()
    interop.load_torch_state(model, module)
    assert max_diff(got, predict(model, x)) <= ATOL
    state = module.state_dict()
    for layer in model.layers:
        if isinstance(layer, Dense):
            np.testing.assert_array_equal(layer.get_weights()[0],
                                          state[f"{layer.name}.weight"].numpy().T)


def test_torch_padded_pools_match(torch, ort, tmp_path):
    # Keras' own torch backend averages 'same' pools over replicated edge pixels when the
    # padding is asymmetric (keras-team/keras#19721); pycnn follows TensorFlow/JAX and leaves
    # the padding out, so these are compared with PyTorch and ONNX Runtime only.
    model, x = padded_pools(), batch((7, 6, 2), n=3)
    with torch.no_grad():
        got = interop.to_torch(model)(torch.from_numpy(x)).numpy()
    assert max_diff(got, predict(model, x)) <= ATOL
    interop.to_onnx(model, tmp_path / "pools.onnx")
    got = ort.InferenceSession(str(tmp_path / "pools.onnx")).run(None, {"input": x})[0]
    assert max_diff(got, predict(model, x)) <= ATOL


def test_load_torch_state_checks_everything_before_copying(torch):
    model = lecture_mlp()
    before = [w.copy() for w in model.get_weights()]
    state = interop.to_torch(model).state_dict()
    state["dense_1.weight"] = torch.zeros(512, 784)  # fine: would be copied first ...
    state["dense_3.weight"] = torch.zeros(10, 7)  # ... but this one does not fit
    with pytest.raises(ValueError, match=r"dense_3\.weight.*\(7, 10\).*\(512, 10\)"):
        interop.load_torch_state(model, state)
    del state["dense_3.weight"]
    with pytest.raises(ValueError, match=r"no tensor 'dense_3\.weight'"):
        interop.load_torch_state(model, state)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- ONNX
@pytest.mark.parametrize("which", sorted(MODELS))
def test_onnx_export(ort, tmp_path, which):
    import onnx
    make, shape = MODELS[which]
    model, path = make(), tmp_path / f"{which}.onnx"
    proto = interop.to_onnx(model, path, opset=17)
    loaded = onnx.load(str(path))
    onnx.checker.check_model(loaded, full_check=True)
    assert loaded.opset_import[0].version == 17 and proto.graph.name == model.name
    (inp,), (out,) = loaded.graph.input, loaded.graph.output
    assert (inp.name, out.name) == ("input", "output")
    assert inp.type.tensor_type.shape.dim[0].dim_param == "batch"  # dynamic batch
    session = ort.InferenceSession(str(path))
    for n in (1, 7):  # any batch size runs
        x = batch(shape, n=n, seed=n)
        got = session.run(None, {"input": x})[0]
        assert max_diff(got, predict(model, x)) <= ATOL


# ---------------------------------------------------------------- activations by name
def activation_model(name):
    """Dense(activation=name) then Activation(name): both places a name converts from."""
    pycnn.clear_session()
    pycnn.set_seed(5)
    return Sequential([Dense(6, activation=name, input_shape=(4,)), Activation(name),
                       Dense(3)], name=f"act_{name}")


# every activation name pycnn knows, Keras 3's aliases included (silu = swish, exponential)
NAMED_ACTIVATIONS = sorted(set(pycnn.activations._BY_NAME) | set(pycnn.activations._ALIASES))


@pytest.mark.parametrize("name", NAMED_ACTIVATIONS)
def test_named_activation_converts_everywhere(keras, torch, ort, tmp_path, name):
    model = activation_model(name)
    # wide inputs reach softplus' and gelu's tails; exp of exp stays finite on smaller ones
    x = (0.5 if name == "exponential" else 3.0) * batch((4,), n=7, seed=1)
    want = predict(model, x)
    assert np.all(np.isfinite(want))
    kmodel = interop.to_keras(model)
    assert max_diff(kmodel.predict(x, verbose=0), want) <= ATOL * max(1.0, np.abs(want).max())
    back = interop.from_keras(kmodel)
    assert max_diff(predict(back, x), want) <= ATOL * max(1.0, np.abs(want).max())
    with torch.no_grad():
        got = interop.to_torch(model).eval()(torch.from_numpy(x)).numpy()
    assert max_diff(got, want) <= ATOL * max(1.0, np.abs(want).max())
    path = tmp_path / f"{name}.onnx"
    interop.to_onnx(model, path)
    got = ort.InferenceSession(str(path)).run(None, {"input": x})[0]
    assert max_diff(got, want) <= ATOL * max(1.0, np.abs(want).max())


def test_keras_gelu_means_the_exact_form(keras):
    # Keras' 'gelu' string is x·Φ(x) (approximate=False), as pycnn's; the tanh form differs
    # by up to ~5e-4, so a converter that picked the wrong one fails here
    x = np.linspace(-4, 4, 81).astype(np.float32)
    exact = keras.ops.convert_to_numpy(keras.activations.get("gelu")(x))
    np.testing.assert_allclose(np.asarray(pycnn.activations.get("gelu")(pycnn.Tensor(x))),
                               exact, rtol=0, atol=2e-6)
    approx = keras.ops.convert_to_numpy(keras.activations.gelu(x, approximate=True))
    assert np.abs(approx - exact).max() > 1e-4


# ---------------------------------------------------------------- refusals
def test_maxout_has_no_keras_counterpart(keras):
    pycnn.clear_session()
    model = Sequential([Dense(6, input_shape=(4,)), Maxout(3, pieces=2), Dense(2)])
    with pytest.raises(ConversionError, match=r"'maxout_1' \(Maxout\) to Keras"):
        interop.to_keras(model)


def test_maxout_converts_to_torch_and_onnx(torch, ort, tmp_path):
    pycnn.clear_session()
    pycnn.set_seed(4)
    model = Sequential([Dense(6, input_shape=(4,)), Maxout(3, pieces=2), Dense(2)])
    x = batch((4,), n=6)
    with torch.no_grad():
        assert max_diff(interop.to_torch(model)(torch.from_numpy(x)).numpy(),
                        predict(model, x)) <= ATOL
    for opset in (17, 18):  # ReduceMax takes its axes as an input from opset 18
        interop.to_onnx(model, tmp_path / "maxout.onnx", opset=opset)
        got = ort.InferenceSession(str(tmp_path / "maxout.onnx")).run(None, {"input": x})[0]
        assert max_diff(got, predict(model, x)) <= ATOL


def test_layer_without_counterpart_fails_before_anything_is_written(torch, keras, ort,
                                                                   tmp_path):
    class Doubling(Dense):  # a subclass may compute anything: not convertible
        pass

    def cube(x):
        return x * x * x

    pycnn.clear_session()
    odd = [Sequential([Dense(3, input_shape=(4,)), Activation(cube)], name="custom_activation"),
           Sequential([Doubling(3, input_shape=(4,), name="doubling_1")], name="subclass")]
    path = tmp_path / "model.onnx"
    for model in odd:
        name = model.layers[-1].name
        for target, convert in (("Keras", interop.to_keras), ("PyTorch", interop.to_torch),
                                ("ONNX", lambda m: interop.to_onnx(m, path))):
            with pytest.raises(ConversionError, match=rf"'{name}' .* to {target}"):
                convert(model)
    assert list(tmp_path.iterdir()) == []  # nothing written, not even a temporary file


def test_keras_layer_without_pycnn_counterpart(keras):
    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, name="fine"),
                               keras.layers.Dense(3, activation="mish", name="mish_dense")])
    with pytest.raises(ConversionError, match=r"'mish_dense' \(Dense\) to pycnn.*'mish'"):
        interop.from_keras(kmodel)
    kmodel = keras.Sequential([keras.Input((4,)), keras.layers.GaussianNoise(0.1, name="noise")])
    with pytest.raises(ConversionError, match=r"'noise' \(GaussianNoise\) to pycnn"):
        interop.from_keras(kmodel)


def test_onnx_rejects_unsupported_opset(ort, tmp_path):
    with pytest.raises(ValueError, match="opset 9"):
        interop.to_onnx(lecture_mlp(), tmp_path / "m.onnx", opset=9)
    assert list(tmp_path.iterdir()) == []


# ---------------------------------------------------------------- scale-out
def test_distributed_example_trains_on_two_ranks(torch, tmp_path):
    out = tmp_path / "result.json"
    env = dict(os.environ, PYTHONPATH=ROOT + os.pathsep + os.environ.get("PYTHONPATH", ""))
    run = subprocess.run(
        [sys.executable, os.path.join(ROOT, "examples", "distributed_train.py"),
         "--world-size", "2", "--steps", "16", "--json", str(out)],
        # a hang guard: ~20 s here, several minutes under tools/memcheck.py's ASan build
        cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=600 if os.environ.get("PYCNN_SANITIZE") else 170)
    assert run.returncode == 0, run.stdout + run.stderr
    report = json.loads(out.read_text())
    assert report["world_size"] == 2 and report["steps"] == 16
    assert report["samples_seen"] == 2 * 16 * report["samples_per_rank_step"]
    assert report["last_loss"] < report["first_loss"]
    assert report["rank_weight_max_abs_diff"] == 0.0  # DDP keeps the ranks identical
    assert report["pycnn_test_accuracy"] == report["torch_test_accuracy"]
    assert report["pycnn_test_accuracy"] > 0.3  # well above chance (0.1) after 16 steps
