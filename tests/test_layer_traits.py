"""What a layer class carries for the rest of pycnn (pycnn/layers/core.py lists the traits):
its Keras arguments, its cost, its receptive-field rule, its activation and whether it
converts unbuilt. keras_format, cost, arithmetic and interop.plan read them from the class,
so a new layer is one place: shown here with a layer defined in this file only."""
import numpy as np
import pytest

import pycnn
from pycnn import _core, arithmetic, cost, keras_format
from pycnn import layers as L
from pycnn.interop import ConversionError, plan
from pycnn.models import Sequential

pytest.importorskip("h5py")

_RULES = {"pointwise", "whole", "merge", "kernel", "transpose", "upsample", "pad", "crop"}


def _layer_classes():
    return {name: getattr(L, name) for name in L.__all__
            if isinstance(getattr(L, name), type) and issubclass(getattr(L, name), L.Layer)
            and getattr(L, name) is not L.Layer}


def test_every_layer_class_has_a_cost_formula_and_a_known_field_rule():
    classes = _layer_classes()
    assert len(classes) > 40
    # TensorOp records arithmetic on symbolic tensors: its cost depends on the op ("?")
    missing = sorted(n for n, cls in classes.items() if getattr(cls, "_macs", None) is None)
    assert missing == ["TensorOp"]
    bad = {n: cls._field_rule for n, cls in classes.items()
           if getattr(cls, "_field_rule", None) not in _RULES | {None}}
    assert bad == {}


def test_the_converters_registries_are_what_plan_converts():
    from pycnn.interop import keras as k, onnx as o, torch as t
    assert plan.target_kinds("Keras") is k.KINDS
    assert plan.target_kinds("PyTorch") is t.KINDS and plan.target_kinds("ONNX") is o.KINDS
    classes = _layer_classes()
    for registry in (k.KINDS, t.KINDS, o.KINDS):
        assert registry <= set(classes)          # only pycnn's own layer classes


class Blur2D(L.Layer):
    """A layer no converter knows, defined here only: the 3×3 mean around each pixel."""

    _keras_build_config = True
    _field_rule = "kernel"

    def __init__(self, size=3, **kwargs):
        super().__init__(**kwargs)
        self.size = int(size)

    def call(self, x):
        return _core.avg_pool2d(x, (self.size, self.size), (1, 1), "same")

    def get_config(self):
        return {**super().get_config(), "size": self.size, "kernel_size": (self.size,) * 2,
                "strides": (1, 1), "padding": "same"}

    def _macs(self, ins, outs):
        y = outs[0]
        return int(np.prod(y)), f"{'·'.join(map(str, y))} (·1/{self.size}² per output)"

    @staticmethod
    def _keras_config(config):
        return {"size": config["size"]}

    @staticmethod
    def _from_keras_config(config, where):
        return {"size": int(config["size"])}


@pytest.fixture
def blur(monkeypatch):
    """Blur2D exported by pycnn.layers, as a new layer file would be."""
    monkeypatch.setattr(L, "Blur2D", Blur2D, raising=False)
    monkeypatch.setattr(L, "__all__", L.__all__ + ["Blur2D"])
    pycnn.clear_session()
    model = Sequential([L.Conv2D(2, 3, input_shape=(8, 8, 1)), Blur2D(), L.Flatten(),
                        L.Dense(3)])
    model.build((None, 8, 8, 1))
    return model


def test_a_new_layer_is_written_to_and_read_from_a_keras_file(blur, tmp_path):
    path = tmp_path / "blur.keras"
    keras_format.save_keras(blur, path)
    loaded = keras_format.load_keras(path)
    assert [type(layer).__name__ for layer in loaded.layers] == ["Conv2D", "Blur2D", "Flatten",
                                                                 "Dense"]
    assert loaded.layers[1].size == 3
    x = np.random.default_rng(0).standard_normal((2, 8, 8, 1)).astype(np.float32)
    np.testing.assert_array_equal(np.asarray(loaded(x)), np.asarray(blur(x)))


def test_a_new_layer_has_its_cost_and_receptive_field(blur):
    macs = cost.layer_macs(blur.layers[1], (None, 6, 6, 2), (None, 6, 6, 2))
    assert int(macs) == 72 and repr(macs) == "6·6·2 (·1/3² per output) = 72"
    field = arithmetic.receptive_field(blur)
    assert field.layer is blur.layers[1] and field.size == (5, 5)   # 3 + (3 − 1)·1


@pytest.mark.parametrize("target", ["PyTorch", "ONNX"])
def test_a_new_layer_is_refused_by_name_by_the_converters_that_do_not_know_it(blur, target):
    with pytest.raises(ConversionError, match=f"'blur2d_1' \\(Blur2D\\) to {target}: "
                                              f"{target} has no Blur2D counterpart"):
        plan._plan(blur, target)


def test_a_layer_that_carries_no_keras_arguments_is_refused_by_name_in_a_keras_file(tmp_path):
    pycnn.clear_session()
    model = Sequential([L.Maxout(3, 2, input_shape=(4,))])
    with pytest.raises(ConversionError, match=r"\(Maxout\) to Keras: Keras has no Maxout layer"):
        keras_format.save_keras(model, tmp_path / "x.keras")
    assert not (tmp_path / "x.keras").exists()


def test_a_layer_converts_only_once_built_when_its_class_says_so():
    pycnn.clear_session()
    with pytest.raises(ValueError, match="has no weights yet"):
        plan._plan(Sequential([L.LayerNormalization()]), "ONNX", (4, 3))
    assert [s.kind for s in plan._plan(Sequential([L.Flatten()]), "ONNX", (4, 3))] == ["Flatten"]


# One example of every layer class a converter's registry (KINDS) lists: each converts and
# computes what pycnn computes, so a registry cannot name a layer its code does not build.
_IMAGE = (6, 6, 3)
_EXAMPLES = {
    "Dense": (lambda: L.Dense(4, activation="tanh"), (5,)),
    "Maxout": (lambda: L.Maxout(3, 2), (5,)),
    "Conv1D": (lambda: L.Conv1D(4, 3, padding="causal"), (10, 3)),
    "Conv2D": (lambda: L.Conv2D(4, 3, padding="same", strides=2), _IMAGE),
    "Conv2DTranspose": (lambda: L.Conv2DTranspose(2, 3, strides=2, padding="same"), _IMAGE),
    "DepthwiseConv2D": (lambda: L.DepthwiseConv2D(3, depth_multiplier=2), _IMAGE),
    "SeparableConv2D": (lambda: L.SeparableConv2D(4, 3, padding="same"), _IMAGE),
    "MaxPooling2D": (lambda: L.MaxPooling2D(2), _IMAGE),
    "AveragePooling2D": (lambda: L.AveragePooling2D(3, strides=1, padding="valid"), _IMAGE),
    "Dropout": (lambda: L.Dropout(0.3), _IMAGE),
    "SpatialDropout2D": (lambda: L.SpatialDropout2D(0.3), _IMAGE),
    "Flatten": (lambda: L.Flatten(), _IMAGE),
    "Reshape": (lambda: L.Reshape((36, 3)), _IMAGE),
    "Activation": (lambda: L.Activation("sigmoid"), _IMAGE),
    "LeakyReLU": (lambda: L.LeakyReLU(0.3), _IMAGE),
    "ELU": (lambda: L.ELU(0.5), _IMAGE),
    "Softmax": (lambda: L.Softmax(), _IMAGE),
    "UpSampling2D": (lambda: L.UpSampling2D(2), _IMAGE),
    "BatchNormalization": (lambda: L.BatchNormalization(), _IMAGE),
    "LayerNormalization": (lambda: L.LayerNormalization(), _IMAGE),
    "Normalization": (lambda: L.Normalization(mean=0.5, variance=2.0), _IMAGE),
    "Rescaling": (lambda: L.Rescaling(0.5, offset=0.25), _IMAGE),
    "GlobalAveragePooling2D": (lambda: L.GlobalAveragePooling2D(), _IMAGE),
    "GlobalMaxPooling2D": (lambda: L.GlobalMaxPooling2D(keepdims=True), _IMAGE),
    "ZeroPadding2D": (lambda: L.ZeroPadding2D(((1, 2), (0, 1))), _IMAGE),
    "Cropping2D": (lambda: L.Cropping2D(((1, 2), (0, 1))), _IMAGE),
    "RandomFlip": (lambda: L.RandomFlip(seed=1), _IMAGE),
    "RandomTranslation": (lambda: L.RandomTranslation(0.1, 0.1, seed=1), _IMAGE),
    "RandomRotation": (lambda: L.RandomRotation(0.1, seed=1), _IMAGE),
    "RandomZoom": (lambda: L.RandomZoom(0.1, seed=1), _IMAGE),
    "RandomCrop": (lambda: L.RandomCrop(6, 6, seed=1), _IMAGE),
    "RandomContrast": (lambda: L.RandomContrast(0.2, seed=1), _IMAGE),
}


def _one_layer(kind):
    assert kind in _EXAMPLES, f"{kind} is in a converter's registry: give it an example here"
    make, shape = _EXAMPLES[kind]
    pycnn.clear_session()
    model = Sequential([make()])
    model.build((None,) + shape)
    x = np.random.default_rng(1).standard_normal((2,) + shape).astype(np.float32)
    return model, x, np.asarray(model(x, training=False))


def _registry(target):
    return sorted(plan.target_kinds(target))


@pytest.mark.parametrize("kind", _registry("PyTorch"))
def test_every_kind_the_torch_registry_lists_converts(torch, kind):
    from pycnn.interop import to_torch
    model, x, want = _one_layer(kind)
    module = to_torch(model).eval()
    with torch.no_grad():
        got = module(torch.from_numpy(x)).numpy()
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", _registry("ONNX"))
def test_every_kind_the_onnx_registry_lists_converts(ort, tmp_path, kind):
    from pycnn.interop import to_onnx
    model, x, want = _one_layer(kind)
    to_onnx(model, tmp_path / "m.onnx")
    session = ort.InferenceSession(str(tmp_path / "m.onnx"), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(session.run(None, {"input": x})[0], want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("kind", _registry("Keras"))
def test_every_kind_the_keras_registry_lists_converts(keras, kind):
    from pycnn.interop import to_keras
    model, x, want = _one_layer(kind)
    got = keras.ops.convert_to_numpy(to_keras(model)(x, training=False))
    np.testing.assert_allclose(got, want, rtol=1e-4, atol=1e-5)
