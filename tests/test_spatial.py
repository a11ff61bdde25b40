"""GlobalAveragePooling2D, GlobalMaxPooling2D, ZeroPadding2D, Cropping2D (kernels/spatial.c,
autograd/ops_spatial.c, py/spatial.c): NumPy twins, float64 gradchecks, Keras 3 and torch on
the same input, configs, saving, summary, interop and the errors."""
import numpy as np
import pytest

import pycnn
from pycnn.layers import (Conv2D, Cropping2D, Dense, GlobalAveragePooling2D, GlobalMaxPooling2D,
                          SpatialDropout2D, UpSampling2D, ZeroPadding2D)
from pycnn.models import Sequential

import reference
from helpers import KERAS_LAYER_MARKS, assert_round_trips, check_op

pytestmark = KERAS_LAYER_MARKS


def global_pool_case(kind, keepdims):
    """GlobalAveragePooling2D ("avg") or GlobalMaxPooling2D ("max"); keepdims=False is the
    default, so the constructor is then called without it."""
    cls, reduce = {"avg": (GlobalAveragePooling2D, "mean"),
                   "max": (GlobalMaxPooling2D, "amax")}[kind]
    kwargs = {"keepdims": True} if keepdims else {}
    return (lambda: cls(**kwargs),
            lambda x: reference.global_pool2d(x, kind, keepdims),
            lambda kl: getattr(kl, cls.__name__)(**kwargs),
            lambda t: getattr(t, reduce)(dim=(1, 2), keepdim=keepdims))


# (layer factory, NumPy twin, Keras factory, torch function on NHWC)
CASES = {
    **{f"g{kind[0]}p{'_keepdims' * keep}": global_pool_case(kind, keep)
       for kind in ("avg", "max") for keep in (False, True)},
    "pad": (lambda: ZeroPadding2D(((1, 2), (0, 3))),
            lambda x: reference.zero_padding2d(x, ((1, 2), (0, 3))),
            lambda kl: kl.ZeroPadding2D(((1, 2), (0, 3))),
            lambda t: __import__("torch").nn.functional.pad(t, (0, 0, 0, 3, 1, 2))),
    "pad_default": (lambda: ZeroPadding2D(),
                    lambda x: reference.zero_padding2d(x, ((1, 1), (1, 1))),
                    lambda kl: kl.ZeroPadding2D(),
                    lambda t: __import__("torch").nn.functional.pad(t, (0, 0, 1, 1, 1, 1))),
    "crop": (lambda: Cropping2D(((1, 0), (2, 1))),
             lambda x: reference.cropping2d(x, ((1, 0), (2, 1))),
             lambda kl: kl.Cropping2D(((1, 0), (2, 1))),
             lambda t: t[:, 1:, 2:-1, :]),
    "crop_pair": (lambda: Cropping2D((1, 2)),
                  lambda x: reference.cropping2d(x, ((1, 1), (2, 2))),
                  lambda kl: kl.Cropping2D((1, 2)),
                  lambda t: t[:, 1:-1, 2:-2, :]),
}


@pytest.mark.parametrize("case", CASES)
def test_forward_and_gradcheck_against_reference(case):
    make, ref, _, _ = CASES[case]
    layer = make()
    check_op(lambda x: layer(x), ref, [(3, 5, 6, 4)], rng=np.random.default_rng(1))


@pytest.mark.parametrize("case", CASES)
def test_matches_keras_and_torch_forward_and_backward(case, keras, torch):
    make, _, make_keras, torch_fn = CASES[case]
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 7, 6, 5)).astype(np.float32)
    layer = make()
    px = pycnn.tensor(x, requires_grad=True)
    y = layer(px)
    dy = rng.normal(size=y.shape).astype(np.float32)
    y.backward(dy)
    k = keras.ops.convert_to_numpy(make_keras(keras.layers)(x))
    assert np.abs(y.numpy() - k).max() < 1e-6
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch_fn(tx)
    ty.backward(torch.from_numpy(dy))
    assert np.abs(y.numpy() - ty.detach().numpy()).max() < 1e-6
    assert np.abs(px.grad.numpy() - tx.grad.numpy()).max() < 1e-6
    assert tuple(layer.compute_output_shape((None, 7, 6, 5))) == (None,) + y.shape[1:]


def test_global_max_gradient_goes_to_the_first_maximum_and_nan_wins():
    x = np.zeros((1, 2, 2, 2), np.float64)
    x[0, 0, 1, 0] = x[0, 1, 0, 0] = 3.0          # a tie in channel 0
    x[0, 1, 1, 1] = np.nan
    t = pycnn.tensor(x, requires_grad=True)
    y = GlobalMaxPooling2D()(t)
    assert y.numpy()[0, 0] == 3.0 and np.isnan(y.numpy()[0, 1])
    y.backward(np.ones((1, 2)))
    g = t.grad.numpy()
    assert g[0, 0, 1, 0] == 1 and g[0, 1, 0, 0] == 0 and g[0, 1, 1, 1] == 1
    assert g.sum() == 2


def test_results_do_not_depend_on_the_thread_count():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(64, 28, 28, 16)).astype(np.float32)
    previous = pycnn.get_num_threads()
    out = []
    try:
        for threads in (1, 2):
            pycnn.set_num_threads(threads)
            row = []
            for layer in (GlobalAveragePooling2D(), GlobalMaxPooling2D(), ZeroPadding2D(2),
                          Cropping2D(3), UpSampling2D(2), SpatialDropout2D(0.3, seed=7)):
                t = pycnn.tensor(x, requires_grad=True)
                y = layer(t, training=True)
                y.backward(np.ones(y.shape, np.float32))
                row += [y.numpy(), t.grad.numpy()]
            out.append(row)
    finally:
        pycnn.set_num_threads(previous)
    for a, b in zip(*out):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make", [GlobalAveragePooling2D, GlobalMaxPooling2D,
                                  lambda: ZeroPadding2D(((1, 2), (0, 3))),
                                  lambda: Cropping2D(((1, 0), (2, 1))), lambda: UpSampling2D((2, 3)),
                                  lambda: SpatialDropout2D(0.5, seed=2)])
@pytest.mark.parametrize("shape", [(3, 5, 7, 3), (40, 9, 11, 37)])   # one block, many
def test_backward_writes_a_fresh_gradient_then_adds_into_it(make, shape):
    """x used twice: the first backward writes x.grad (a buffer that held garbage), the
    second adds into it; on ones with a ones seed both terms are exact"""
    x = pycnn.tensor(np.ones(shape, np.float32), requires_grad=True)
    layer = make()
    y1, y2 = layer(x, training=True), layer(x, training=True)
    (y1 + y2).backward(np.ones(y1.shape, np.float32))
    t = pycnn.tensor(np.ones(shape, np.float32), requires_grad=True)
    once = []
    for y in (y1, y2):
        t.grad = None
        z = y.numpy()                                           # the forward of each use
        if isinstance(layer, SpatialDropout2D):                 # dx = dy · m = y on ones
            once.append(z)
        else:
            layer(t, training=True).backward(np.ones(z.shape, np.float32))
            once.append(t.grad.numpy())
    np.testing.assert_array_equal(x.grad.numpy(), once[0] + once[1])


def border_model():
    return Sequential([ZeroPadding2D(1, input_shape=(6, 6, 2)), Conv2D(3, 3), Cropping2D(1),
                       GlobalMaxPooling2D(keepdims=True), GlobalAveragePooling2D(), Dense(2)])


def test_summary_config_and_saving(tmp_path):
    from pycnn.saving import load_model, save_model
    model = border_model()
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "(None, 8, 8, 2)" in text and "(None, 4, 4, 3)" in text and "(None, 1, 1, 3)" in text
    assert "Total params: 65" in text            # conv (9·2 + 1)·3 = 57, dense 3·2 + 2 = 8
    for layer in model.layers:
        config = layer.get_config()
        assert type(layer).from_config(config).get_config() == config
    assert model.layers[0].get_config()["padding"] == ((1, 1), (1, 1))
    assert model.layers[2].get_config()["cropping"] == ((1, 1), (1, 1))
    model.compile(optimizer="sgd", loss="mse")
    x = np.random.default_rng(0).normal(size=(4, 6, 6, 2)).astype(np.float32)
    model.fit(x, np.ones((4, 2), np.float32), epochs=1, verbose=0)
    save_model(model, tmp_path / "b.pycnn")
    loaded = load_model(tmp_path / "b.pycnn")
    np.testing.assert_array_equal(loaded.predict(x, verbose=0), model.predict(x, verbose=0))


def test_interop_keras_torch_onnx(tmp_path, keras, torch):
    model = border_model()
    x = np.random.default_rng(1).normal(size=(3, 6, 6, 2)).astype(np.float32)
    _, _, back = assert_round_trips(model, x, tmp_path, torch=torch, saving=False,
                                    opsets=(17, 18))
    assert [l.get_config() for l in back.layers] == [l.get_config() for l in model.layers]


@pytest.mark.parametrize("make, match", [
    (lambda: ZeroPadding2D(-1), "padding must be a non-negative int"),
    (lambda: ZeroPadding2D((1, 2, 3)), "padding must be a non-negative int"),
    (lambda: Cropping2D(((1, 2), (3,))), "cropping must be a non-negative int"),
    (lambda: Cropping2D("a"), "cropping must be"),
    (lambda: GlobalAveragePooling2D(data_format="channels_first"), "channels_last"),
])
def test_bad_arguments(make, match):
    with pytest.raises(ValueError, match=match):
        make()


def test_bad_inputs_name_the_layer_and_numbers():
    with pytest.raises(ValueError, match=r"gap: expected a 4-D input .* got shape \(2, 3\)"):
        GlobalAveragePooling2D(name="gap")(np.zeros((2, 3), np.float32))
    with pytest.raises(ValueError, match=r"gmp: expected a 4-D input .* \(2, 0, 3, 1\)"):
        GlobalMaxPooling2D(name="gmp")(np.zeros((2, 0, 3, 1), np.float32))
    with pytest.raises(ValueError, match="crop: cropping 2 \\+ 2 leaves nothing from 4 rows"):
        Cropping2D(2, name="crop")(np.zeros((1, 4, 9, 1), np.float32))
    with pytest.raises(ValueError, match="crop2: cropping 3 \\+ 3 leaves nothing from 5 columns"):
        Cropping2D((0, 3), name="crop2").compute_output_shape((None, 9, 5, 1))
