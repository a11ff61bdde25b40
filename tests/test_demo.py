"""`python -m pycnn.demo` (make demo) runs end to end: every section, the figures."""
import matplotlib
import pytest

from pycnn import demo

matplotlib.use("Agg")


def test_demo_runs_every_section_and_saves_its_figures(tmp_path, capsys):
    """Few epochs, so it is quick: the accuracy targets are tested in test_models."""
    demo.main(["--output", str(tmp_path), "--mnist-epochs", "1", "--mlp-epochs", "2",
               "--cnn-epochs", "1"])
    out = capsys.readouterr().out
    for heading in ("1. Tensors", "2. The lecture's MLP", "3. An MLP", "4. A CNN", "Results"):
        assert heading in out
    assert "∂e/∂a = c + a        = [[4.0, 4.0], [12.0, 14.0]]" in out
    assert "dense_1 (Dense)              (None, 512)               401920    (784 + 1) · 512 = " \
           "401920" in out
    assert "(3·3·1 + 1) · 32 = 320" in out
    assert "Epoch 2/2" in out and "MLP test accuracy: " in out and "Whole demo: " in out
    assert "Lecture MLP on MNIST test accuracy: " in out
    assert "MNIST: 8,000 training and 2,000 test images of 28×28 pixels (the official test " \
           "set bundled with pycnn" in out or "MNIST: 60,000 training" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "learning_curves_cnn.png", "learning_curves_mlp.png", "learning_curves_mnist_mlp.png",
        "sobel_feature_maps.png"]
    assert all(p.stat().st_size > 10_000 for p in tmp_path.iterdir())


def test_upsample_is_bilinear():
    import numpy as np
    image = np.array([[0.0, 1.0], [2.0, 3.0]])
    up = demo.upsample(image, 2)
    assert up.shape == (4, 4)
    np.testing.assert_allclose(up[0], [0.0, 0.25, 0.75, 1.0])
    np.testing.assert_allclose(up[:, 0], [0.0, 0.5, 1.5, 2.0])
    assert up.mean() == pytest.approx(image.mean())
