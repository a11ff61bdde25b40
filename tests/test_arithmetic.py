"""pycnn.arithmetic (sizes and counts with their formulas) and pycnn.filters (Sobel)."""
import numpy as np
import pytest

import pycnn
from pycnn.arithmetic import (Count, compare_dense_conv, conv2d_params, conv_output_size,
                              dense_params, same_padding)
from pycnn.filters import sobel_x, sobel_y, to_kernel
from pycnn.layers import Conv2D, Dense, MaxPooling2D


def test_counts_are_ints_with_formulas():
    assert dense_params(784, 512) == 401920
    assert dense_params(512, 512) == 262656
    assert dense_params(512, 10) == 5130
    assert conv2d_params(3, 3, 1, 32) == 320
    assert repr(dense_params(784, 512)) == "(784 + 1) · 512 = 401920"
    assert dense_params(784, 512).formula == "(784 + 1) · 512 = 401920"
    assert repr(conv2d_params(3, 3, 1, 32)) == "(3·3·1 + 1) · 32 = 320"
    assert str(dense_params(784, 512)) == "401920" and f"{conv2d_params(3, 3, 1, 32)}" == "320"
    total = dense_params(784, 512) + dense_params(512, 512) + dense_params(512, 10)
    assert total == 669706 and type(total) is int
    assert isinstance(conv_output_size(28, 3), int) and isinstance(conv_output_size(28, 3), Count)
    assert repr(dense_params(4, 2, use_bias=False)) == "4 · 2 = 8"
    assert "\\cdot" in conv2d_params(3, 3, 1, 32)._repr_latex_()


def test_counts_match_the_layers():
    for n_in, n_out in [(784, 512), (512, 512), (512, 10), (3, 7)]:
        layer = Dense(n_out)
        layer.build((None, n_in))
        assert layer.count_params() == dense_params(n_in, n_out)
    for kh, kw, c, f in [(3, 3, 1, 32), (5, 3, 4, 8)]:
        layer = Conv2D(f, (kh, kw))
        layer.build((None, 9, 9, c))
        assert layer.count_params() == conv2d_params(kh, kw, c, f)


@pytest.mark.parametrize("n,k,s,padding,expected,formula", [
    (28, 3, 1, "valid", 26, "⌊(28 + 2·0 − 3)/1⌋ + 1 = 26"),
    (28, 3, 1, "same", 28, "⌊(28 + 2·1 − 3)/1⌋ + 1 = 28"),
    (28, 2, 2, "valid", 14, "⌊(28 + 2·0 − 2)/2⌋ + 1 = 14"),
    (7, 3, 2, "same", 4, "⌊(7 + 2·1 − 3)/2⌋ + 1 = 4"),
    (6, 3, 2, "same", 3, "⌊(6 + 0 + 1 − 3)/2⌋ + 1 = 3"),     # odd padding: extra at the end
    (5, 3, 1, 1, 5, "⌊(5 + 2·1 − 3)/1⌋ + 1 = 5"),
])
def test_conv_output_size(n, k, s, padding, expected, formula):
    out = conv_output_size(n, k, s, padding)
    assert out == expected and repr(out) == formula


def test_conv_output_size_agrees_with_the_layers(rng):
    for _ in range(30):
        h, w = rng.integers(3, 20, size=2)
        k, s = int(rng.integers(1, 4)), int(rng.integers(1, 4))
        for padding in ("valid", "same"):
            shape = Conv2D(2, k, strides=s, padding=padding).compute_output_shape((None, h, w, 1))
            assert shape[1:3] == (conv_output_size(h, k, s, padding),
                                  conv_output_size(w, k, s, padding))
            pooled = MaxPooling2D(k, s, padding).compute_output_shape((None, h, w, 1))
            assert pooled[1] == conv_output_size(h, k, s, padding)
    assert same_padding(6, 3, 2) == (0, 1)


def test_arithmetic_errors():
    with pytest.raises(ValueError, match="kernel 5 is larger than the padded input 3"):
        conv_output_size(3, 5)
    with pytest.raises(ValueError, match="stride must be positive, got 0"):
        conv_output_size(28, 3, 0)
    with pytest.raises(ValueError, match="padding must be 'valid', 'same' or an int"):
        conv_output_size(28, 3, 1, "full")
    with pytest.raises(ValueError, match="n_out must be positive"):
        dense_params(3, 0)
    with pytest.raises(TypeError, match="filters must be an int"):
        conv2d_params(3, 3, 1, 2.5)


def test_compare_dense_conv_lecture_numbers():
    r = compare_dense_conv(input_shape=(28, 28, 1), filters=32, kernel_size=3)
    assert r.output_shape == (26, 26, 32)
    assert r.conv_params == 320
    assert r.dense_params == (28 * 28 * 1 + 1) * (26 * 26 * 32)
    assert r.conv_inputs_per_output == 9 and r.dense_inputs_per_output == 784
    assert r.conv_weight_uses == 676
    assert r.ratio == pytest.approx(r.dense_params / 320)
    text = repr(r)
    assert "(3·3·1 + 1) · 32 = 320" in text and "28·28·1 = 784" in text
    same = compare_dense_conv((32, 32, 3), filters=16, kernel_size=5, padding="same")
    assert same.output_shape == (32, 32, 16) and same.conv_params == (5 * 5 * 3 + 1) * 16


# ---- Sobel ---------------------------------------------------------------------------------


def test_sobel_kernels():
    np.testing.assert_array_equal(sobel_x(), [[1, 0, -1], [2, 0, -2], [1, 0, -1]])
    np.testing.assert_array_equal(sobel_y(), sobel_x().T)
    assert sobel_x().dtype == np.float32 and sobel_x().shape == (3, 3)
    assert to_kernel(sobel_x(), sobel_y()).shape == (3, 3, 1, 2)


def test_sobel_on_a_synthetic_vertical_edge():
    image = np.zeros((1, 8, 8, 1), np.float32)
    image[:, :, :4, :] = 1.0                       # bright left half, dark right half
    layer = Conv2D(2, 3, use_bias=False)
    layer.build((None, 8, 8, 1))
    layer.set_weights([to_kernel(sobel_x(), sobel_y())])
    out = layer(image).numpy()[0]                  # (6, 6, 2), valid padding
    vertical, horizontal = out[..., 0], out[..., 1]
    # windows starting at columns 2 and 3 straddle the edge (columns 3 | 4): 1+2+1 = 4
    np.testing.assert_array_equal(vertical[:, 2:4], 4.0)
    np.testing.assert_array_equal(np.delete(vertical, [2, 3], axis=1), 0.0)
    np.testing.assert_array_equal(horizontal, 0.0)  # no horizontal edge anywhere
    flipped = pycnn.conv2d(image[:, :, ::-1, :].copy(), to_kernel(sobel_x())).numpy()
    assert flipped.min() == -4.0 and flipped.max() == 0.0   # dark→bright: negative response
    rotated = pycnn.conv2d(np.ascontiguousarray(image.transpose(0, 2, 1, 3)),
                           to_kernel(sobel_y())).numpy()
    assert rotated.max() == 4.0 and np.count_nonzero(rotated) == 12
