"""The augmentation layers (kernels/augment.c, autograd/ops_augment.c, py/augment*.c):
NumPy twins of the transforms, Keras 3 on the same (deterministic) factors, the random
draws, float64 gradchecks, configs, seeds, interop and the errors."""
import math

import numpy as np
import pytest

import pycnn
from pycnn.layers import (Conv2D, Flatten, RandomContrast, RandomCrop, RandomFlip,
                          RandomRotation, RandomTranslation, RandomZoom, UpSampling2D)
from pycnn.models import Sequential

import reference
from helpers import KERAS_LAYER_MARKS, assert_round_trips

pytestmark = KERAS_LAYER_MARKS

FILLS = ["reflect", "wrap", "nearest", "constant"]


def images(n=2, h=7, w=9, c=3, seed=0):
    return np.random.default_rng(seed).uniform(0, 255, (n, h, w, c)).astype(np.float32)


def rotation_t(angle_deg, h, w):
    """Keras' rotation matrix about ((W − 1)/2, (H − 1)/2)."""
    a = math.radians(angle_deg)
    c, s = math.cos(a), math.sin(a)
    cx, cy = 0.5 * (w - 1), 0.5 * (h - 1)
    return [c, -s, cx - cx * c + cy * s, s, c, cy - cx * s - cy * c]


# (pycnn layer, its transform per image (h, w), Keras layer) with factors fixed: lower = upper
FIXED = {
    "rotation": (lambda **k: RandomRotation((0.1, 0.1), **k),
                 lambda h, w: rotation_t(36.0, h, w),
                 lambda kl, **k: kl.RandomRotation((0.1, 0.1), **k)),
    "rotation_negative": (lambda **k: RandomRotation((-0.3, -0.3), **k),
                          lambda h, w: rotation_t(-108.0, h, w),
                          lambda kl, **k: kl.RandomRotation((-0.3, -0.3), **k)),
    "translation": (lambda **k: RandomTranslation((0.3, 0.3), (-0.25, -0.25), **k),
                    lambda h, w: [1, 0, 0.25 * w, 0, 1, -0.3 * h],
                    lambda kl, **k: kl.RandomTranslation((0.3, 0.3), (-0.25, -0.25), **k)),
    "zoom": (lambda **k: RandomZoom((0.3, 0.3), **k),
             lambda h, w: [1.3, 0, (w - 1) / 2 * -0.3, 0, 1.3, (h - 1) / 2 * -0.3],
             lambda kl, **k: kl.RandomZoom((0.3, 0.3), **k)),
    "zoom_two": (lambda **k: RandomZoom((-0.4, -0.4), (0.2, 0.2), **k),
                 lambda h, w: [1.2, 0, (w - 1) / 2 * -0.2, 0, 0.6, (h - 1) / 2 * 0.4],
                 lambda kl, **k: kl.RandomZoom((-0.4, -0.4), (0.2, 0.2), **k)),
}


@pytest.mark.parametrize("case", FIXED)
@pytest.mark.parametrize("fill_mode", FILLS)
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_fixed_transforms_match_reference_and_keras(case, fill_mode, interpolation, keras):
    make, transform, make_keras = FIXED[case]
    kwargs = dict(fill_mode=fill_mode, interpolation=interpolation, fill_value=7.0)
    x = images()
    y = make(**kwargs)(x, training=True).numpy()
    t = np.array([transform(7, 9)] * 2)
    want = reference.affine_transform(x, t, interpolation, fill_mode, 7.0)
    if interpolation == "bilinear":
        np.testing.assert_allclose(y, want, atol=2e-3)      # float32 of values up to 255
        k = keras.ops.convert_to_numpy(make_keras(keras.layers, **kwargs)(x, training=True))
        assert np.abs(y - k).max() < 2e-3
    else:   # a coordinate may sit on a rounding boundary: compare where it does not
        assert np.mean(np.isclose(y, want, atol=1e-3)) > 0.97


def test_float64_transform_equals_the_reference_exactly_enough():
    x = images().astype(np.float64)
    for fill in FILLS:
        y = RandomRotation((0.07, 0.07), fill_mode=fill, fill_value=-1.0)(x, training=True)
        t = np.array([rotation_t(0.07 * 360, 7, 9)] * 2)
        np.testing.assert_allclose(y.numpy(), reference.affine_transform(x, t, "bilinear", fill,
                                                                         -1.0), atol=1e-9)


def test_inference_returns_the_input_unchanged():
    x = images()
    for layer in (RandomFlip(), RandomTranslation(0.2, 0.2), RandomRotation(0.2),
                  RandomZoom(0.2), RandomCrop(3, 4), RandomContrast(0.5)):
        np.testing.assert_array_equal(layer(x).numpy(), x)
        np.testing.assert_array_equal(layer(x, training=False).numpy(), x)


@pytest.mark.parametrize("mode, flips", [("horizontal", lambda x: x[:, ::-1]),
                                         ("vertical", lambda x: x[::-1]),
                                         ("horizontal_and_vertical", lambda x: x[::-1, ::-1])])
def test_random_flip_flips_about_half_the_images(mode, flips):
    x = images(n=200, h=3, w=4, c=2)
    y = RandomFlip(mode, seed=3)(x, training=True).numpy()
    flipped = [np.array_equal(y[i], flips(x[i])) for i in range(200)]
    kept = [np.array_equal(y[i], x[i]) for i in range(200)]
    assert all(f or k for f, k in zip(flipped, kept))
    assert 70 < sum(flipped) < 130


def test_random_draws_stay_in_range_and_seeds_repeat():
    x = np.zeros((300, 5, 5, 1), np.float32)
    x[:, 2, 2, 0] = 1.0                   # a dot at the centre moves by the translation
    y = RandomTranslation((0.2, 0.2), (-0.4, 0.4), fill_mode="constant",
                          interpolation="nearest", seed=1)(x, training=True).numpy()
    rows, cols = np.nonzero(y[..., 0].reshape(300, -1) > 0.5)[1] // 5, None
    assert set(rows) == {3}               # +0.2·5 = 1 row down, always
    cols = np.array([np.nonzero(y[i, 3, :, 0] > 0.5)[0][0] for i in range(300)])
    assert set(cols) <= {0, 1, 2, 3, 4} and len(set(cols)) >= 4
    a = RandomRotation(0.5, seed=11)(images(), training=True).numpy()
    b = RandomRotation(0.5, seed=11)(images(), training=True).numpy()
    np.testing.assert_array_equal(a, b)
    pycnn.set_seed(5)
    c = RandomZoom(0.5)(images(), training=True).numpy()
    pycnn.set_seed(5)
    np.testing.assert_array_equal(RandomZoom(0.5)(images(), training=True).numpy(), c)
    assert not np.array_equal(RandomZoom(0.5)(images(), training=True).numpy(), c)


def test_random_crop_training_window_is_one_for_the_batch():
    x = images(n=4, h=8, w=10)
    y = RandomCrop(3, 4, seed=2)(x, training=True).numpy()
    assert y.shape == (4, 3, 4, 3)
    hits = [(i, j) for i in range(6) for j in range(7)
            if np.array_equal(x[:, i:i + 3, j:j + 4], y)]
    assert len(hits) == 1


@pytest.mark.parametrize("target", [(3, 4), (7, 9), (9, 4), (10, 12)])
def test_random_crop_inference_returns_the_input_as_keras_does(target, keras):
    """Keras 3 (3.15) RandomCrop.transform_images crops only when training: at inference the
    input comes back unchanged, at its own size, although compute_output_shape reports
    (batch, height, width, channels) for either mode. pycnn does both the same."""
    x = images(h=7, w=9)
    layer, k_layer = RandomCrop(*target), keras.layers.RandomCrop(*target)
    y = layer(x, training=False).numpy()
    k = keras.ops.convert_to_numpy(k_layer(x, training=False))
    assert k.shape == x.shape and y.shape == x.shape
    np.testing.assert_array_equal(y, k)
    assert tuple(layer.compute_output_shape((None, 7, 9, 3))) == \
        tuple(k_layer.compute_output_shape((None, 7, 9, 3))) == (None, *target, 3)


@pytest.mark.parametrize("target", [(9, 4), (3, 12), (7, 9), (7, 5), (10, 10), (2, 9)])
def test_random_crop_centred_and_resized_path_matches_keras(target, keras):
    x = images()
    y = RandomCrop(*target)(x, training=True).numpy()
    k = keras.ops.convert_to_numpy(keras.layers.RandomCrop(*target)(x, training=True))
    assert y.shape == k.shape and np.abs(y - k).max() < 1e-3


def test_resize_matches_reference_and_torch(torch):
    x = images(h=5, w=7).astype(np.float64)
    y = RandomCrop(11, 3)(x, training=True).numpy()          # crop (5, 3) from column 3, then resize
    want = reference.resize_bilinear(x[:, :, 3:6], 11, 3)
    np.testing.assert_allclose(y, want, atol=1e-9)
    t = torch.nn.functional.interpolate(torch.from_numpy(x[:, :, 3:6]).permute(0, 3, 1, 2),
                                        size=(11, 3), mode="bilinear").permute(0, 2, 3, 1)
    assert np.abs(y - t.numpy()).max() < 1e-9


def test_random_contrast_matches_the_formula_and_keras(keras, torch):
    x = images(n=50)
    layer = RandomContrast((0.3, 0.2), value_range=(-500, 1000), seed=4)  # no clipping
    y = layer(x, training=True).numpy().astype(np.float64)
    xm = x.astype(np.float64)
    f = (y - y.mean(axis=(1, 2), keepdims=True)).std(axis=(1, 2, 3)) / \
        (xm - xm.mean(axis=(1, 2), keepdims=True)).std(axis=(1, 2, 3))
    # the pair is sorted to (0.2, 0.3): f ~ U(1 − 0.2, 1 + 0.3)
    assert f.min() >= 0.8 - 1e-5 and f.max() <= 1.3 + 1e-5 and f.std() > 0.05
    np.testing.assert_allclose(y, reference.contrast(x, f, -500, 1000), atol=2e-3)
    k = keras.layers.RandomContrast((0.3, 0.2), value_range=(-500, 1000))
    kt = k.transform_images(torch.from_numpy(x), {"contrast_factor": torch.from_numpy(
        f.reshape(-1, 1, 1, 1).astype(np.float32))}, training=True)
    assert np.abs(y - keras.ops.convert_to_numpy(kt)).max() < 2e-3
    clipped = RandomContrast((0.0, 1.0), seed=1)(x, training=True).numpy()
    assert clipped.min() >= 0 and clipped.max() <= 255
    assert RandomContrast(0.4).get_config()["factor"] == (0.0, 0.4)     # Keras' rule


@pytest.mark.parametrize("make", [
    lambda: RandomRotation(0.3, seed=1, dtype="float64"),
    lambda: RandomRotation(0.3, fill_mode="constant", fill_value=2.0, seed=1, dtype="float64"),
    lambda: RandomZoom(0.3, seed=2, fill_mode="wrap", dtype="float64"),
    lambda: RandomTranslation(0.3, 0.3, seed=3, fill_mode="nearest", dtype="float64"),
    lambda: RandomFlip(seed=4, dtype="float64"),
    lambda: RandomContrast(0.5, value_range=(0, 0.8), seed=5, dtype="float64"),
    lambda: RandomCrop(2, 3, seed=6, dtype="float64"),
    lambda: RandomCrop(5, 5, seed=6, dtype="float64"),
])
def test_gradcheck(make):
    x = images(n=2, h=4, w=5, c=2).astype(np.float64) / 255
    config = make().get_config()

    def f(x):       # the same draws on every call: a fresh layer with the same seed
        return type(make()).from_config(config)(x, training=True)
    assert pycnn.gradcheck(f, [x])


def test_configs_round_trip_and_match_keras_keys(keras):
    pairs = [(RandomFlip("vertical", seed=1), keras.layers.RandomFlip("vertical", seed=1)),
             (RandomTranslation(0.1, (0.1, 0.2)), keras.layers.RandomTranslation(0.1, (0.1, 0.2))),
             (RandomRotation(0.2, fill_mode="constant"),
              keras.layers.RandomRotation(0.2, fill_mode="constant")),
             (RandomZoom(0.2, None, interpolation="nearest"),
              keras.layers.RandomZoom(0.2, None, interpolation="nearest")),
             (RandomCrop(3, 4, seed=9), keras.layers.RandomCrop(3, 4, seed=9)),
             (RandomContrast(0.3), keras.layers.RandomContrast(0.3))]
    for ours, theirs in pairs:
        config = ours.get_config()
        assert type(ours).from_config(config).get_config() == config
        k = theirs.get_config()
        for key in set(k) - {"name", "trainable", "dtype"}:
            got, want = config[key], k[key]
            assert (tuple(got) if isinstance(got, (list, tuple)) else got) == \
                (tuple(want) if isinstance(want, (list, tuple)) else want), key


def augmented_model():
    return Sequential([RandomFlip(input_shape=(8, 8, 2)), RandomRotation(0.1),
                       RandomZoom(0.1), RandomTranslation(0.1, 0.1), RandomContrast(0.2),
                       RandomCrop(8, 8), Conv2D(2, 3), Flatten()])


def test_in_a_model_fit_saving_and_interop(tmp_path, keras):
    from pycnn.interop import ConversionError, to_onnx, to_torch
    model = augmented_model()
    model.compile(optimizer="sgd", loss="mse")
    x = images(n=8, h=8, w=8, c=2) / 255
    model.fit(x, np.zeros((8, 72), np.float32), epochs=1, verbose=0)
    lines = []
    model.summary(print_fn=lines.append)
    assert "Total params: 38" in "\n".join(lines)
    with pytest.raises(ConversionError, match=r"random_flip_1' \(RandomFlip\) to PyTorch: "
                                              r"torch.nn has no RandomFlip"):
        to_torch(model)
    _, _, back = assert_round_trips(model, x, tmp_path)
    assert [type(l).__name__ for l in back.layers] == [type(l).__name__ for l in model.layers]
    cropping = Sequential([RandomCrop(4, 4, input_shape=(8, 8, 2)), Flatten()])
    with pytest.raises(ConversionError, match="RandomCrop.*returns its input"):
        to_onnx(cropping, tmp_path / "c.onnx")
    assert not (tmp_path / "c.onnx").exists()


@pytest.mark.parametrize("make, error, match", [
    (lambda: RandomRotation(1.5), ValueError, r"RandomRotation: factor must be a number or a "
                                              r"pair of numbers in \[-1, 1\], got 1.5"),
    (lambda: RandomZoom(-1.0), ValueError, r"height_factor must be .* in \(-1, 1\]"),
    (lambda: RandomTranslation(0.1), TypeError, "width_factor"),
    (lambda: RandomTranslation(0.1, (1, 2, 3)), ValueError, "width_factor must be"),
    (lambda: RandomRotation(0.1, fill_mode="mirror"), ValueError,
     "fill_mode must be one of 'reflect', 'wrap', 'nearest', 'constant', got 'mirror'"),
    (lambda: RandomZoom(0.1, interpolation="cubic"), ValueError, "interpolation must be one"),
    (lambda: RandomFlip("diagonal"), ValueError, "mode must be one of 'horizontal'"),
    (lambda: RandomFlip(seed="a"), TypeError, "seed must be an int or None"),
    (lambda: RandomCrop(0, 3), ValueError, "height must be a positive integer"),
    (lambda: RandomContrast(-0.1), ValueError, r"factor must be .* in \[0, 1\]"),
    (lambda: RandomContrast(0.1, value_range=(3, 1)), ValueError, "value_range must be a pair"),
])
def test_bad_arguments(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_bad_inputs_name_the_layer():
    with pytest.raises(ValueError, match=r"rot: expected a 4-D input .* got shape \(3, 4\)"):
        RandomRotation(0.1, name="rot")(np.zeros((3, 4), np.float32), training=True)
    with pytest.raises(ValueError, match="crop: expected a 4-D input"):
        RandomCrop(2, 2, name="crop")(np.zeros((1, 0, 3, 1), np.float32), training=True)


# ---- UpSampling2D(interpolation='bilinear'): the same resize kernel --------------------------


def test_wide_bilinear_upsampling_and_a_gradient_that_exists():
    """more than one block of 128 output columns; x used twice: the first backward writes
    a fresh x.grad, the second adds into it"""
    x = np.random.default_rng(2).normal(size=(1, 2, 70, 2))
    layer = UpSampling2D((1, 2), interpolation="bilinear")
    np.testing.assert_allclose(layer(x).numpy(), reference.resize_bilinear(x, 2, 140), atol=1e-6)
    assert pycnn.gradcheck(lambda x: layer(x) + layer(x) * 3.0, [x])


def _two_thread_counts(step):
    previous = pycnn.get_num_threads()
    try:
        one, two = step(1), step(2)
    finally:
        pycnn.set_num_threads(previous)
    for a, b in zip(one, two):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("make, shape", [
    (lambda: UpSampling2D(2, interpolation="bilinear"), (16, 10, 70, 8)),
    (lambda: RandomRotation(0.3, seed=1), (64, 28, 28, 1)),
    (lambda: RandomRotation(0.3, fill_mode="constant", seed=1), (64, 28, 28, 3)),
], ids=["bilinear_upsampling", "rotation", "rotation_constant"])
def test_resize_and_rotation_are_bit_identical_at_any_thread_count(make, shape):
    x = np.random.default_rng(3).normal(size=shape).astype(np.float32)

    def step(threads):
        pycnn.set_num_threads(threads)
        layer = make()
        t = pycnn.tensor(x, requires_grad=True)
        y = layer(t, training=True)
        dy = np.sin(np.arange(y.numpy().size, dtype=np.float32)).reshape(y.shape)
        y.backward(dy)
        first = t.grad.numpy().copy()
        layer(t, training=True).backward(dy)        # into the gradient that exists
        return [y.numpy().copy(), first, t.grad.numpy().copy()]
    _two_thread_counts(step)


@pytest.mark.parametrize("size", [(2, 2), (3, 1), (1, 4)])
def test_bilinear_upsampling_matches_reference_keras_and_torch(size, keras, torch):
    x = images(h=3, w=4)
    layer = UpSampling2D(size, interpolation="bilinear")
    y = layer(x).numpy()
    want = reference.resize_bilinear(x, 3 * size[0], 4 * size[1])
    np.testing.assert_allclose(y, want, atol=1e-3)
    k = keras.ops.convert_to_numpy(keras.layers.UpSampling2D(size, interpolation="bilinear")(x))
    assert np.abs(y - k).max() < 1e-3
    assert layer.get_config()["interpolation"] == "bilinear"
    assert tuple(layer.compute_output_shape((None, 3, 4, 3))) == (None,) + y.shape[1:]
    assert pycnn.gradcheck(lambda x: UpSampling2D(size, interpolation="bilinear")(x),
                           [x[:1, :, :, :2].astype(np.float64)])
    t = pycnn.tensor(x, requires_grad=True)
    dy = np.random.default_rng(1).normal(size=y.shape).astype(np.float32)
    layer(t).backward(dy)
    tx = torch.from_numpy(x).requires_grad_()
    torch.nn.functional.interpolate(tx.permute(0, 3, 1, 2), size=y.shape[1:3], mode="bilinear"
                                    ).permute(0, 2, 3, 1).backward(torch.from_numpy(dy))
    assert np.abs(t.grad.numpy() - tx.grad.numpy()).max() < 1e-4


def test_bilinear_upsampling_interop(tmp_path, keras, torch):
    model = Sequential([Conv2D(2, 3, input_shape=(5, 5, 1)),
                        UpSampling2D((2, 3), interpolation="bilinear"), Flatten()])
    assert_round_trips(model, images(n=3, h=5, w=5, c=1) / 255, tmp_path, torch=torch,
                       saving=False)


def test_upsampling_refuses_other_interpolations():
    with pytest.raises(ValueError, match="interpolation must be 'nearest' or 'bilinear'"):
        UpSampling2D(interpolation="bicubic")
