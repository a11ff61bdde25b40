"""Keras' files for real: pycnn writes .keras / .h5 / .weights.h5 that Keras 3 opens, and
reads the ones Keras wrote. Round trips pycnn -> file -> Keras 3 (torch backend) -> file ->
pycnn give bit-identical weights and equal predictions; Keras' own predictions on the same
weights agree to float32 rounding."""
import json
import os
import sys
import zipfile

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn
from pycnn.layers import Conv2D, Dense, Dropout, Flatten, MaxPooling2D
from pycnn import interop
from pycnn.models import Sequential, load_model

h5py = pytest.importorskip("h5py", reason="Keras files need h5py: pip install pycnn[hdf5]")


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch", reason="Keras runs on torch here: pip install torch==2.13.0")
    return pytest.importorskip("keras", reason="Keras 3 is optional: pip install pycnn[interop]")


def lecture_mlp(seed=0):
    pycnn.set_seed(seed)
    return Sequential([Dense(512, activation="relu", input_shape=(784,)), Dropout(0.2),
                       Dense(512, activation="relu"), Dropout(0.2),
                       Dense(10, activation="softmax")])


def lecture_cnn(seed=1):
    pycnn.set_seed(seed)
    return Sequential([Conv2D(32, 3, activation="relu", input_shape=(8, 8, 1)), MaxPooling2D(),
                       Conv2D(64, 3, activation="relu", padding="same"), MaxPooling2D(),
                       Flatten(), Dropout(0.2), Dense(10, activation="softmax")])


def _x(model, n=6):
    return np.random.default_rng(3).random((n,) + tuple(model.input_shape[1:]),
                                           dtype=np.float32)


def _same_weights(a, b):
    wa, wb = a.get_weights(), b.get_weights()
    assert len(wa) == len(wb)
    for u, v in zip(wa, wb):
        assert u.dtype == v.dtype and u.shape == v.shape
        assert u.tobytes() == v.tobytes()


@pytest.mark.parametrize("build", [lecture_mlp, lecture_cnn], ids=["mlp", "cnn"])
@pytest.mark.parametrize("ext", [".keras", ".h5"])
def test_round_trip_through_keras(keras, tmp_path, build, ext):
    model = build()
    model.compile("adam", "categorical_crossentropy", metrics=["accuracy"])
    x = _x(model)
    first = tmp_path / f"pycnn{ext}"
    model.save(first)
    kmodel = keras.saving.load_model(first)
    assert [l.name for l in kmodel.layers] == [l.name for l in model.layers]
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-6)
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    second = tmp_path / f"keras{ext}"
    kmodel.save(second)
    back = load_model(second)
    _same_weights(back, model)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert back.get_config()["layers"] == model.get_config()["layers"]
    assert back.loss == "categorical_crossentropy" and back.metrics_names == ["loss", "accuracy"]
    assert type(back.optimizer).__name__ == "Adam"


def test_trained_optimizer_state_travels_both_ways(keras, tmp_path):
    model = lecture_cnn()
    model.compile(pycnn.optimizers.Adam(0.01), "categorical_crossentropy")
    x, y = _x(model, 16), np.eye(10, dtype=np.float32)[np.arange(16) % 10]
    model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    model.save(tmp_path / "a.keras")
    kmodel = keras.saving.load_model(tmp_path / "a.keras")
    assert int(kmodel.optimizer.iterations) == model.optimizer.iterations == 4
    kvars = kmodel.optimizer.variables
    assert np.asarray(kvars[2]).tobytes() == \
        model.optimizer.get_slots(model.trainable_weights[0])["m"].tobytes()
    kmodel.save(tmp_path / "b.keras")
    back = load_model(tmp_path / "b.keras")
    assert back.optimizer.iterations == 4
    for a, b in zip(model.trainable_weights, back.trainable_weights):
        for slot in ("m", "v"):
            np.testing.assert_array_equal(back.optimizer.get_slots(b)[slot],
                                          model.optimizer.get_slots(a)[slot])
    for m in (model, back):          # the same next step from the same state
        pycnn.set_seed(9)
        m.train_on_batch(x[:8], y[:8])
    _same_weights(back, model)


def test_weights_files_both_ways(keras, tmp_path):
    model = lecture_cnn()
    kmodel = interop.to_keras(lecture_cnn(seed=2))     # other weights, same layers
    assert kmodel.get_weights()[0].tobytes() != model.get_weights()[0].tobytes()
    model.save_weights(tmp_path / "p.weights.h5")
    kmodel.load_weights(tmp_path / "p.weights.h5")
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    kother = interop.to_keras(lecture_mlp(seed=3))
    kother.save_weights(tmp_path / "k.weights.h5")
    fresh = lecture_mlp(seed=4)
    fresh.load_weights(tmp_path / "k.weights.h5")
    for kw, w in zip(kother.get_weights(), fresh.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    model.save_weights(tmp_path / "legacy.h5")                 # Keras 2's weights file
    with pytest.raises(ValueError):
        kother.load_weights(tmp_path / "legacy.h5")            # another model: Keras refuses
    kcnn = interop.to_keras(lecture_cnn(seed=5))
    kcnn.load_weights(tmp_path / "legacy.h5")
    for kw, w in zip(kcnn.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    again = lecture_cnn(seed=6)
    again.load_weights(tmp_path / "legacy.h5")
    _same_weights(again, model)
    with pytest.raises(ValueError, match=r"legacy.h5: model_weights/conv2d_\d+/\S+/kernel: holds "
                                         r"float32 \(3, 3, 1, 32\), the architecture needs "
                                         r"float32 \(784, 512\)"):
        lecture_mlp().load_weights(tmp_path / "legacy.h5")


def test_files_keras_wrote_load_with_keras_predictions(keras, tmp_path):
    """A model built in Keras (not converted from pycnn): its layers, Keras' leaky_relu
    string (slope 0.2, split into a LeakyReLU layer), a ReLU layer, same padding."""
    L = keras.layers
    kmodel = keras.Sequential([
        keras.Input((10, 10, 3)), L.Conv2D(6, 3, padding="same", activation="leaky_relu"),
        L.ReLU(), L.AveragePooling2D(2), L.Conv2D(4, (2, 3), strides=2, activation="tanh"),
        L.Flatten(), L.Dense(7, activation="sigmoid"), L.LeakyReLU(negative_slope=0.05),
        L.Dense(3), L.Softmax()], name="from_keras")
    x = np.random.default_rng(0).random((4, 10, 10, 3), dtype=np.float32)
    for ext in (".keras", ".h5"):
        path = tmp_path / f"k{ext}"
        kmodel.save(path)
        model = load_model(path, compile=False)
        assert model.name == "from_keras"
        assert type(model.layers[1]).__name__ == "LeakyReLU"
        np.testing.assert_allclose(model.predict(x, verbose=0), kmodel.predict(x, verbose=0),
                                   rtol=1e-5, atol=1e-6)


def test_keras_layers_pycnn_lacks_are_refused_naming_file_and_layer(keras, tmp_path):
    L = keras.layers
    kmodel = keras.Sequential([keras.Input((4,)), L.Dense(3), L.GaussianNoise(0.1)])
    kmodel.save(tmp_path / "noise.keras")
    with pytest.raises(ValueError, match="noise.keras: config.json: layers\\[1\\]: Keras layer "
                                         "class 'GaussianNoise' has no pycnn counterpart"):
        load_model(tmp_path / "noise.keras")
    lam = keras.Sequential([keras.Input((4,)), L.Lambda(lambda t: t * 2)])
    lam.save(tmp_path / "lambda.keras")
    for safe_mode in (True, False):
        with pytest.raises(ValueError, match="lambda.keras: config.json: layers\\[0\\]: a "
                                             "Lambda layer holds Python code"):
            load_model(tmp_path / "lambda.keras", safe_mode=safe_mode)
    with pytest.raises(interop.ConversionError, match="slope 0.1"):
        Sequential([Dense(3, activation="leaky_relu", input_shape=(2,))]).save(
            tmp_path / "leaky.keras")
    assert not (tmp_path / "leaky.keras").exists()


def _rewrite(src, dst, entry, change):
    with zipfile.ZipFile(src) as z, zipfile.ZipFile(dst, "w") as out:
        for info in z.infolist():
            data = z.read(info.filename)
            out.writestr(info.filename, change(data) if info.filename == entry else data)


def test_damaged_and_hostile_keras_files_raise_value_error(tmp_path):
    import io
    model = lecture_cnn()
    good = tmp_path / "good.keras"
    model.save(good)
    cases = {}
    cases["truncated"] = (good.read_bytes()[:400], "not a Keras model file, or truncated")

    def big_kernel(data):               # the first kernel declared (100000, 100000)
        bio = io.BytesIO(data)
        with h5py.File(bio, "a") as h5:
            del h5["layers/conv2d/vars/0"]
            h5["layers/conv2d/vars"].create_dataset("0", shape=(100000, 100000),
                                                    dtype="f4", chunks=(1000, 1000),
                                                    compression="gzip")
        return bio.getvalue()
    for name, entry, change, says in (
            ("big", "model.weights.h5", big_kernel,
             r"model.weights.h5: layers/conv2d/vars/0: holds float32 \(100000, 100000\)"),
            ("padded", "model.weights.h5", lambda d: d + bytes(50 << 20), "more than the"),
            ("garbage", "model.weights.h5", lambda d: b"x" * len(d), "model.weights.h5"),
            ("deep", "config.json", lambda d: b"[" * 100000 + b"]" * 100000,
             "config.json nests deeper"),
            ("functional", "config.json",
             lambda d: json.dumps({**json.loads(d), "class_name": "os"}).encode(),
             "model class 'os'"),
            ("layer", "config.json", lambda d: d.replace(b'"Dense"', b'"__import__"'),
             "'__import__' has no pycnn counterpart")):
        path = tmp_path / f"{name}.keras"
        _rewrite(good, path, entry, change)
        cases[name] = (path, says)
    (tmp_path / "truncated.keras").write_bytes(cases["truncated"][0])
    cases["truncated"] = (tmp_path / "truncated.keras", cases["truncated"][1])
    for name, (path, says) in cases.items():
        with pytest.raises(ValueError, match=str(path)) as info:
            load_model(path)
        assert __import__("re").search(says, str(info.value)), (name, str(info.value))


def test_other_extensions_are_refused_naming_the_supported_ones(tmp_path):
    model = lecture_mlp()
    for bad in ("m.npz", "m", "m.json", "m.keras.zip"):
        with pytest.raises(ValueError, match=r"\.pycnn, \.keras, \.h5"):
            model.save(tmp_path / bad)
        with pytest.raises(ValueError, match=r"\.pycnn, \.weights\.h5, \.h5"):
            model.save_weights(tmp_path / bad)
    assert os.listdir(tmp_path) == []


def test_missing_h5py_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    with pytest.raises(ImportError, match=r"pip install pycnn\[hdf5\]"):
        lecture_mlp().save(tmp_path / "m.keras")


def test_every_layer_both_have_round_trips_through_keras(keras, tmp_path):
    """The normalisation, padding, global pooling, rescaling and augmentation layers too."""
    from pycnn import layers as L
    pycnn.set_seed(4)
    model = Sequential([
        L.Rescaling(1 / 255.0, offset=-0.5, input_shape=(12, 12, 3)), L.RandomFlip(seed=3),
        L.RandomTranslation(0.1, 0.1, seed=4), L.RandomRotation(0.1, seed=5),
        L.RandomZoom(0.1, seed=6), L.RandomContrast(0.2, seed=7),
        L.ZeroPadding2D(((1, 2), (0, 1))), L.Conv2D(4, 3, activation="relu"),
        L.BatchNormalization(momentum=0.9, epsilon=1e-3), L.Cropping2D(1),
        L.LayerNormalization(epsilon=1e-4), L.AveragePooling2D(2, padding="same"),
        L.GlobalMaxPooling2D(keepdims=True), L.Flatten(), L.Dense(6), L.ELU(0.5),
        L.LeakyReLU(0.2), L.Dense(3), L.Softmax()])
    x = np.random.default_rng(0).random((5, 12, 12, 3), dtype=np.float32) * 255
    bn = model.layers[8]
    bn.set_weights([w + np.arange(w.size, dtype=w.dtype).reshape(w.shape) / 7
                    for w in bn.get_weights()])                 # non-trivial moving stats
    model.save(tmp_path / "all.keras")
    kmodel = keras.saving.load_model(tmp_path / "all.keras")
    assert [type(l).__name__ for l in kmodel.layers] == [type(l).__name__ for l in model.layers]
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-4, atol=1e-5)
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    kmodel.save(tmp_path / "back.keras")
    back = load_model(tmp_path / "back.keras")
    _same_weights(back, model)
    np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]


def test_bilinear_upsampling_spatial_dropout_and_normalization_travel_through_keras(
        keras, tmp_path):
    """What these layers hold reaches Keras and comes back: UpSampling2D's interpolation,
    SpatialDropout2D (whose Keras class takes no trainable argument), Normalization with
    adapted weights (mean, variance and count, which Keras keeps in int32) or fixed values."""
    from pycnn import layers as L
    pycnn.set_seed(5)
    x = np.random.default_rng(1).random((4, 6, 6, 3), dtype=np.float32) * 3
    adapted = L.Normalization()
    adapted.adapt(x)
    model = Sequential([L.Input((6, 6, 3)), adapted, L.UpSampling2D(2, interpolation="bilinear"),
                        L.SpatialDropout2D(0.3, seed=2),
                        L.Normalization(mean=[1.0, 2.0, 3.0], variance=[1.0, 4.0, 9.0]),
                        L.Conv2D(2, 3)])
    model.save(tmp_path / "m.keras")
    kmodel = keras.saving.load_model(tmp_path / "m.keras")
    assert [type(l).__name__ for l in kmodel.layers] == [type(l).__name__ for l in model.layers]
    assert kmodel.layers[1].get_config()["interpolation"] == "bilinear"
    np.testing.assert_allclose(np.asarray(kmodel.layers[0].count), x.shape[0] * 36)
    np.testing.assert_allclose(kmodel.predict(x, verbose=0), model.predict(x, verbose=0),
                               rtol=1e-5, atol=1e-5)
    kmodel.save(tmp_path / "back.keras")
    for path in ("m.keras", "back.keras"):
        back = load_model(tmp_path / path)
        assert back.layers[1].get_config()["interpolation"] == "bilinear"
        for bw, w in zip(back.get_weights(), model.get_weights()):
            np.testing.assert_array_equal(bw, w)
        np.testing.assert_array_equal(back.predict(x, verbose=0), model.predict(x, verbose=0))


def test_a_functional_model_keeps_out_of_legacy_h5_and_weights_travel(keras, tmp_path):
    model = two_in_two_out()
    for save in (model.save, model.save_weights):
        with pytest.raises(interop.ConversionError, match="legacy Keras .h5"):
            save(tmp_path / "f.h5")
    assert os.listdir(tmp_path) == []
    model.save_weights(tmp_path / "p.weights.h5")         # Keras 3's weights file
    kmodel = interop.to_keras(two_in_two_out(seed=7))
    kmodel.load_weights(tmp_path / "p.weights.h5")
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    kother = interop.to_keras(two_in_two_out(seed=8))
    kother.save_weights(tmp_path / "k.weights.h5")
    model.load_weights(tmp_path / "k.weights.h5")
    for kw, w in zip(kother.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    model.save(tmp_path / "f.pycnn")                        # pycnn's own format keeps it too
    assert load_model(tmp_path / "f.pycnn").get_config() == model.get_config()


# ---- functional models ------------------------------------------------------------------------

def residual_block(seed=5):
    """Conv2D + Add: the residual block, as a functional model."""
    from pycnn.layers import Add
    pycnn.set_seed(seed)
    x = pycnn.Input((8, 8, 3), name="image")
    h = Conv2D(3, 3, padding="same", activation="relu", name="conv_a")(x)
    h = Conv2D(3, 3, padding="same", name="conv_b")(h)
    h = Add(name="residual")([x, h])
    h = MaxPooling2D()(Conv2D(4, 3, activation="relu")(h))
    y = Dense(5, activation="softmax")(Flatten()(h))
    return pycnn.Model(x, y, name="residual_block")


def two_in_two_out(seed=6):
    """Two inputs, two outputs, Concatenate, and a Dense layer shared by three calls."""
    from pycnn.layers import Concatenate
    pycnn.set_seed(seed)
    image, extra = pycnn.Input((6, 6, 1), name="image"), pycnn.Input((4,), name="extra")
    shared = Dense(4, activation="tanh", name="shared")
    h = Flatten()(MaxPooling2D()(Conv2D(2, 3, activation="relu")(image)))
    h = Concatenate(name="join")([h, shared(extra)])
    label = Dense(3, activation="softmax", name="label")(h)
    score = Dense(1, name="score")(shared(shared(extra)))
    return pycnn.Model([image, extra], [label, score], name="two_heads")


def _inputs(model, n=5):
    rng = np.random.default_rng(4)
    return [rng.random((n,) + tuple(t.shape[1:]), dtype=np.float32) for t in model.inputs]


def _predict(model, x):
    out = model.predict(x if len(x) > 1 else x[0], verbose=0)
    return [np.asarray(o) for o in (out if isinstance(out, (list, tuple)) else [out])]


@pytest.mark.parametrize("build", [residual_block, two_in_two_out], ids=["residual", "two_heads"])
def test_functional_round_trip_through_keras(keras, tmp_path, build):
    model = build()
    x = _inputs(model)
    model.save(tmp_path / "pycnn.keras")
    kmodel = keras.saving.load_model(tmp_path / "pycnn.keras")
    assert type(kmodel).__name__ == "Functional"
    assert [l.name for l in kmodel.layers] == [l.name for l in model._graph.layers]
    for k, p in zip(_predict(kmodel, x), _predict(model, x)):
        np.testing.assert_allclose(k, p, rtol=1e-5, atol=1e-6)
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    kmodel.save(tmp_path / "keras.keras")
    back = load_model(tmp_path / "keras.keras")
    assert type(back).__name__ == "Functional" and back.name == model.name
    _same_weights(back, model)
    for b, p in zip(_predict(back, x), _predict(model, x)):
        np.testing.assert_array_equal(b, p)
    assert back.get_config()["layers"] == model.get_config()["layers"]


def test_functional_model_keras_built_reads_with_shared_layer(keras, tmp_path):
    """A model written by Keras itself (not first by pycnn): its weights land on the layers
    its weights file names, the shared layer once."""
    a, b = keras.Input((4, 4, 2), name="a"), keras.Input((3,), name="b")
    s = keras.layers.Add()([a, keras.layers.Conv2D(2, 3, padding="same")(a)])
    d = keras.layers.Dense(3, name="d")
    cat = keras.layers.Concatenate()([keras.layers.Flatten()(s), d(b)])
    kmodel = keras.Model([a, b], [keras.layers.Dense(2)(cat), d(d(b))])
    kmodel.save(tmp_path / "k.keras")
    model = load_model(tmp_path / "k.keras")
    assert len(model.get_layer("d")._inbound_nodes) == 3
    for kw, w in zip(kmodel.get_weights(), model.get_weights()):
        assert np.asarray(kw).tobytes() == w.tobytes()
    x = _inputs(model)
    for k, p in zip(_predict(kmodel, x), _predict(model, x)):
        np.testing.assert_allclose(k, p, rtol=1e-5, atol=1e-6)


def test_functional_refusals_name_the_layer_and_write_nothing(tmp_path):
    x = pycnn.Input((4,), name="x")
    arithmetic = pycnn.Model(x, Dense(2, name="d")(x) * 2.0)
    with pytest.raises(interop.ConversionError,
                       match="'tensor_op_[0-9]+' \\(TensorOp\\) to Keras"):
        arithmetic.save(tmp_path / "op.keras")
    inner = residual_block()
    outer_in = pycnn.Input((8, 8, 3))
    nested = pycnn.Model(outer_in, inner(outer_in), name="outer")
    with pytest.raises(interop.ConversionError, match="residual_block.*nested model"):
        nested.save(tmp_path / "nested.keras")
    with pytest.raises(interop.ConversionError, match="legacy Keras .h5"):
        residual_block().save(tmp_path / "legacy.h5")
    assert os.listdir(tmp_path) == []


def test_functional_hostile_graph_is_refused(keras, tmp_path):
    model = two_in_two_out()
    model.save(tmp_path / "good.keras")
    with zipfile.ZipFile(tmp_path / "good.keras") as z:
        files = {n: z.read(n) for n in z.namelist()}
    config = json.loads(files["config.json"])
    config["config"]["layers"][-1]["inbound_nodes"][0]["args"] = ["import os"]
    bad = tmp_path / "bad.keras"
    with zipfile.ZipFile(bad, "w") as z:
        for n, data in files.items():
            z.writestr(n, json.dumps(config) if n == "config.json" else data)
    with pytest.raises(ValueError, match="bad.keras.*not a Keras tensor"):
        load_model(bad)


def test_functional_compiled_and_trained_state_travels(keras, tmp_path):
    model = residual_block()
    model.compile(pycnn.optimizers.Adam(0.01), "categorical_crossentropy", metrics=["accuracy"])
    x = _inputs(model, 16)[0]
    y = np.eye(5, dtype=np.float32)[np.arange(16) % 5]
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.save(tmp_path / "a.keras")
    kmodel = keras.saving.load_model(tmp_path / "a.keras")
    assert int(kmodel.optimizer.iterations) == 2
    assert np.asarray(kmodel.optimizer.variables[2]).tobytes() == \
        model.optimizer.get_slots(model.trainable_weights[0])["m"].tobytes()
    kmodel.save(tmp_path / "b.keras")
    back = load_model(tmp_path / "b.keras")
    assert back.loss == "categorical_crossentropy" and back.optimizer.iterations == 2
    for a, b in zip(model.trainable_weights, back.trainable_weights):
        for slot in ("m", "v"):
            np.testing.assert_array_equal(back.optimizer.get_slots(b)[slot],
                                          model.optimizer.get_slots(a)[slot])
