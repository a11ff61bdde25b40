"""pycnn.metrics: per-sample metric functions, running means, and what 'accuracy' means."""
import numpy as np
import pytest

import pycnn
from pycnn import metrics


def test_accuracies_per_sample():
    probs = np.array([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6], [0.2, 0.5, 0.3]])
    labels = np.array([1, 1, 2, 0])
    onehot = np.eye(3)[labels]
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels, probs),
                                  [1, 0, 1, 0])
    np.testing.assert_array_equal(metrics.sparse_categorical_accuracy(labels[:, None], probs),
                                  [1, 0, 1, 0])
    np.testing.assert_array_equal(metrics.categorical_accuracy(onehot, probs), [1, 0, 1, 0])
    np.testing.assert_array_equal(
        metrics.sparse_top_k_categorical_accuracy(labels, probs, k=2), [1, 1, 1, 0])
    np.testing.assert_array_equal(metrics.top_k_categorical_accuracy(onehot, probs, k=2),
                                  [1, 1, 1, 0])
    p = np.array([[0.9], [0.2], [0.6]])
    np.testing.assert_array_equal(metrics.binary_accuracy(np.array([1, 1, 0]), p), [1, 0, 0])
    np.testing.assert_array_equal(metrics.binary_accuracy([[1, 0]], [[0.7, 0.7]]), [0.5])
    nan = float("nan")
    np.testing.assert_allclose(metrics.binary_accuracy([[1, 1, nan, 0]], [[0.9, 0.2, 0.9, 0.1]]),
                               [2 / 3])
    np.testing.assert_allclose(metrics.mean_squared_error([[1.0, 3.0]], [[0.0, 1.0]]), [2.5])
    np.testing.assert_allclose(metrics.mean_absolute_error([[1.0, 3.0]], [[0.0, 1.0]]), [1.5])


def test_metrics_take_tensors_and_pixelwise_predictions(rng):
    probs = rng.random((2, 4, 4, 3)).astype(np.float32)
    labels = rng.integers(0, 3, (2, 4, 4))
    got = metrics.sparse_categorical_accuracy(labels, pycnn.tensor(probs))
    assert got.shape == (2, 4, 4)
    np.testing.assert_array_equal(got, np.argmax(probs, -1) == labels)


def test_sparse_labels_of_wrong_shape():
    with pytest.raises(ValueError, match="labels of shape \\(3,\\) do not fit predictions of "
                                         "shape \\(2, 5\\)"):
        metrics.sparse_categorical_accuracy(np.zeros(3), np.zeros((2, 5)))
    with pytest.raises(ValueError, match="integer labels\\? use sparse"):
        metrics.categorical_accuracy(np.zeros(2), np.zeros((2, 5)))


def test_running_mean_weights_every_sample_equally():
    m = metrics.SparseCategoricalAccuracy()
    m.update_state([0, 1], [[0.9, 0.1], [0.8, 0.2]])         # 1 of 2
    m.update_state([1], [[0.1, 0.9]])                        # 1 of 1
    assert m.result() == pytest.approx(2 / 3)
    assert m.name == "sparse_categorical_accuracy"
    m.reset_state()
    assert m.result() == 0.0
    mean = metrics.Mean()
    mean.update_state(2.0, sample_weight=3)
    mean.update_state(6.0, sample_weight=1)
    assert mean.result() == pytest.approx(3.0)
    assert metrics.TopKCategoricalAccuracy(k=1).get_config() == {
        "name": "top_k_categorical_accuracy", "k": 1}


@pytest.mark.parametrize("loss,expected", [
    ("binary_crossentropy", metrics.binary_accuracy),
    ("multilabel_crossentropy", metrics.binary_accuracy),
    ("categorical_crossentropy", metrics.categorical_accuracy),
    ("sparse_categorical_crossentropy", metrics.sparse_categorical_accuracy)])
def test_accuracy_follows_the_loss(loss, expected):
    m = metrics.get("accuracy", loss_name=loss)
    assert m.fn is expected and m.name == "accuracy"
    assert metrics.get("acc", loss_name=loss).name == "acc"


def test_accuracy_from_shapes_for_other_losses():
    assert metrics.resolve_accuracy("mse", (8,), (8, 1)) is metrics.binary_accuracy
    assert metrics.resolve_accuracy("mse", (8,), (8, 10)) is metrics.sparse_categorical_accuracy
    assert metrics.resolve_accuracy("mse", (8, 1), (8, 10)) \
        is metrics.sparse_categorical_accuracy
    assert metrics.resolve_accuracy("mse", (8, 10), (8, 10)) is metrics.categorical_accuracy


def test_get_by_name_function_and_object():
    assert metrics.get("sparse_categorical_accuracy").name == "sparse_categorical_accuracy"
    assert metrics.get("mae").fn is metrics.mean_absolute_error

    def my_metric(y_true, y_pred):
        return np.zeros(len(y_true))
    assert metrics.get(my_metric).name == "my_metric"
    m = metrics.CategoricalAccuracy()
    assert metrics.get(m) is m
    with pytest.raises(ValueError, match="unknown metric 'f1'"):
        metrics.get("f1")
    with pytest.raises(TypeError, match="expected a name, a function or a Metric"):
        metrics.get(3)
