"""Precision, Recall, AUC, F1Score/FBetaScore (pycnn/_classification_metrics.py) and the
Keras signatures of TopKCategoricalAccuracy and MeanAbsoluteError (pycnn/metrics.py):
batch after batch against keras.metrics (Keras 3, torch backend) on the same arrays, with
and without sample weights; then their names and values in a fit's History."""
import os

import numpy as np
import pytest

import pycnn
from pycnn import metrics
from pycnn.layers import Dense
from pycnn.models import Sequential

os.environ.setdefault("KERAS_BACKEND", "torch")
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")   # Keras on torch

BATCHES = 4
DIFFS = {}                  # case -> max abs difference from Keras over every batch


@pytest.fixture(scope="module")
def keras():
    pytest.importorskip("torch")
    return pytest.importorskip("keras")


def binary_batches(rng, shape=(32,), weighted=False):
    out = []
    for _ in range(BATCHES):
        y = (rng.random(shape) < 0.4).astype(np.float32)
        p = np.clip(0.35 * y + 0.65 * rng.random(shape), 0, 1).astype(np.float32)
        p[rng.random(shape) < 0.05] = 0.5                   # ties at the default threshold
        w = rng.random(shape[0]).astype(np.float32) if weighted else None
        out.append((y, p, w))
    return out


def multiclass_batches(rng, n=24, classes=5, weighted=False):
    out = []
    for _ in range(BATCHES):
        labels = rng.integers(0, classes, n)
        y = np.eye(classes, dtype=np.float32)[labels]
        logits = rng.standard_normal((n, classes)) + 1.5 * y
        p = (np.exp(logits) / np.exp(logits).sum(1, keepdims=True)).astype(np.float32)
        w = rng.random(n).astype(np.float32) if weighted else None
        out.append((y, p, w))
    return out


def compare(keras, name, ours, theirs, batches, tol=2e-6):
    diff = 0.0
    for y, p, w in batches:
        ours.update_state(y, p, sample_weight=w)
        theirs.update_state(y, p, sample_weight=w)
        got = np.asarray(ours.result(), dtype=np.float64)
        want = np.asarray(keras.ops.convert_to_numpy(theirs.result()), dtype=np.float64)
        assert got.shape == want.shape, name
        diff = max(diff, float(np.max(np.abs(got - want))))
    DIFFS[name] = diff
    assert diff < tol, f"{name}: max abs difference {diff:.2e} from Keras"
    ours.reset_state()
    theirs.reset_state()
    y, p, w = batches[0]
    ours.update_state(y, p, sample_weight=w)
    theirs.update_state(y, p, sample_weight=w)
    np.testing.assert_allclose(ours.result(), keras.ops.convert_to_numpy(theirs.result()),
                               atol=tol, err_msg=f"{name} after reset_state")


PR_CASES = [dict(), dict(thresholds=[0.2, 0.5, 0.8]), dict(thresholds=0.3),
            dict(thresholds=[0.0, 0.5, 1.0])]


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
@pytest.mark.parametrize("case", range(len(PR_CASES)))
@pytest.mark.parametrize("weighted", [False, True])
def test_precision_recall_binary_match_keras(keras, rng, cls, case, weighted):
    kwargs = PR_CASES[case]
    compare(keras, f"{cls}{kwargs} w={weighted}", getattr(metrics, cls)(**kwargs),
            getattr(keras.metrics, cls)(**kwargs), binary_batches(rng, weighted=weighted))


@pytest.mark.parametrize("cls", ["Precision", "Recall"])
@pytest.mark.parametrize("kwargs", [dict(top_k=2), dict(class_id=3), dict(top_k=1, class_id=2),
                                    dict(thresholds=[0.1, 0.6], class_id=0)])
def test_precision_recall_top_k_and_class_id_match_keras(keras, rng, cls, kwargs):
    compare(keras, f"{cls}{kwargs}", getattr(metrics, cls)(**kwargs),
            getattr(keras.metrics, cls)(**kwargs), multiclass_batches(rng, weighted=True))


AUC_CASES = [dict(), dict(curve="PR"), dict(num_thresholds=13, summation_method="minoring"),
             dict(curve="PR", summation_method="majoring"), dict(curve="PRGAIN"),
             dict(thresholds=[0.1, 0.35, 0.5, 0.9]), dict(from_logits=True),
             dict(label_weights=[0.2, 1.0, 0.5, 2.0, 1.0])]


@pytest.mark.parametrize("case", range(len(AUC_CASES)))
@pytest.mark.parametrize("weighted", [False, True])
def test_auc_matches_keras(keras, rng, case, weighted):
    kwargs = AUC_CASES[case]
    batches = (multiclass_batches(rng, weighted=weighted) if "label_weights" in kwargs
               else binary_batches(rng, weighted=weighted))
    if kwargs.get("from_logits"):
        batches = [(y, np.log(p + 1e-3) - np.log1p(1e-3 - p), w) for y, p, w in batches]
    compare(keras, f"AUC{kwargs} w={weighted}", metrics.AUC(**kwargs),
            keras.metrics.AUC(**kwargs), batches, tol=5e-6)


@pytest.mark.parametrize("kwargs", [dict(multi_label=True), dict(multi_label=True, curve="PR"),
                                    dict(multi_label=True, num_labels=5,
                                         label_weights=[0.2, 1.0, 0.5, 2.0, 1.0]),
                                    dict(multi_label=True, thresholds=[0.3, 0.6])])
def test_auc_multi_label_matches_keras(keras, rng, kwargs):
    compare(keras, f"AUC{kwargs}", metrics.AUC(**kwargs), keras.metrics.AUC(**kwargs),
            multiclass_batches(rng, weighted=True), tol=5e-6)


@pytest.mark.parametrize("cls,kwargs", [
    ("F1Score", dict()), ("F1Score", dict(average="micro")), ("F1Score", dict(average="macro")),
    ("F1Score", dict(average="weighted", threshold=0.3)),
    ("FBetaScore", dict(beta=2.0, average="macro")), ("FBetaScore", dict(beta=0.5))])
@pytest.mark.parametrize("weighted", [False, True])
def test_f_scores_match_keras(keras, rng, cls, kwargs, weighted):
    compare(keras, f"{cls}{kwargs} w={weighted}", getattr(metrics, cls)(**kwargs),
            getattr(keras.metrics, cls)(**kwargs), multiclass_batches(rng, weighted=weighted))


@pytest.mark.parametrize("weighted", [False, True])
def test_top_k_and_mean_absolute_error_match_keras(keras, rng, weighted):
    batches = multiclass_batches(rng, weighted=weighted)
    for k in (1, 2, 3):
        compare(keras, f"TopKCategoricalAccuracy(k={k}) w={weighted}",
                metrics.TopKCategoricalAccuracy(k), keras.metrics.TopKCategoricalAccuracy(k),
                batches)
    compare(keras, f"MeanAbsoluteError w={weighted}", metrics.MeanAbsoluteError(),
            keras.metrics.MeanAbsoluteError(), batches)
    column = [(y[:, :1], p[:, 0], w) for y, p, w in batches]      # (n, 1) against (n,)
    compare(keras, f"MeanAbsoluteError ranks w={weighted}", metrics.MeanAbsoluteError(),
            keras.metrics.MeanAbsoluteError(), column)


def test_names_configs_and_get(keras):
    for ident in ("precision", "recall", "auc", "f1_score", "top_k_categorical_accuracy",
                  "mean_absolute_error"):
        keras.backend.clear_session()           # Keras numbers repeated default names
        ours, theirs = metrics.get(ident), keras.metrics.get(ident)
        assert ours.name == theirs.name == ident
    assert metrics.AUC(curve="pr").get_config()["curve"] == "PR"
    assert metrics.Precision(thresholds=[0.3], top_k=2).get_config() == {
        "name": "precision", "dtype": "float32", "thresholds": [0.3], "top_k": 2,
        "class_id": None}
    assert "beta" not in metrics.F1Score().get_config()
    assert metrics.TopKCategoricalAccuracy(3).k == 3
    assert np.shape(metrics.F1Score().result()) == ()         # before any update: 0


def test_bad_arguments_and_inputs():
    with pytest.raises(ValueError, match="threshold values must be in \\[0, 1\\], got \\[1.5\\]"):
        metrics.Precision(thresholds=[0.5, 1.5])
    with pytest.raises(ValueError, match="AUC: num_thresholds must be an integer > 1"):
        metrics.AUC(num_thresholds=1)
    with pytest.raises(ValueError, match="AUC: invalid curve 'XY'"):
        metrics.AUC(curve="XY")
    with pytest.raises(ValueError, match="num_labels is needed only when multi_label"):
        metrics.AUC(num_labels=3)
    with pytest.raises(ValueError, match="F1Score: invalid average 'mean'"):
        metrics.F1Score(average="mean")
    with pytest.raises(ValueError, match="beta must be a Python float > 0, got 2"):
        metrics.FBetaScore(beta=2)
    with pytest.raises(ValueError, match="expects 2D inputs"):
        metrics.F1Score().update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="labels of shape \\(3,\\) do not fit predictions of "
                                         "shape \\(4,\\)"):
        metrics.Recall().update_state(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="with class_id, y_pred must be"):
        metrics.Recall(class_id=1).update_state(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="top_k=3 needs at least 3 predictions per row"):
        metrics.Precision(top_k=3).update_state(np.ones((2, 2)), np.ones((2, 2)))
    with pytest.raises(ValueError, match="k must be an integer >= 1"):
        metrics.TopKCategoricalAccuracy(0)


def test_stateful_metrics_in_fit_history(rng):
    x = rng.standard_normal((96, 6)).astype(np.float32)
    labels = (x[:, 0] + 0.5 * x[:, 1] > 0).astype(np.int64) + (x[:, 2] > 1)
    y = np.eye(3, dtype=np.float32)[labels]
    pycnn.set_seed(0)
    model = Sequential([Dense(3, activation="softmax", input_shape=(6,))])
    model.compile("adam", "categorical_crossentropy", metrics=[
        "accuracy", "precision", metrics.Recall(), metrics.AUC(), metrics.F1Score("macro"),
        metrics.TopKCategoricalAccuracy(k=2), "mean_absolute_error"])
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, validation_data=(x, y))
    for name in ("precision", "recall", "auc", "f1_score", "top_k_categorical_accuracy",
                 "mean_absolute_error"):
        assert len(history.history[name]) == 2 and len(history.history["val_" + name]) == 2
    # the epoch value is the metric over the whole epoch, not a mean of batch values
    p = model.predict(x)
    whole = metrics.AUC()
    whole.update_state(y, p)
    assert history.history["val_auc"][-1] == pytest.approx(whole.result(), abs=1e-6)
    assert 0.5 < history.history["val_auc"][-1] <= 1.0
