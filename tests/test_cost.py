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
