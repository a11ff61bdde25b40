"""Per-class precision, recall and F1 for multi-label targets with unknown labels.
Re-exported by ``pycnn.metrics``.

Targets are (N, K) arrays of 1 (present), 0 (absent) or NaN (unknown, the lecture's
"?"); an unknown entry is left out of every count of its class.
"""
import numpy as np

__all__ = ["multilabel_precision_recall_f1"]


def multilabel_precision_recall_f1(y_true, y_pred, threshold=0.5):
    """Per class k over the samples whose label k is known, with ŷ = [y_pred > threshold]:

        precision_k = TP / (TP + FP),  recall_k = TP / (TP + FN),
        F1_k = 2 · precision · recall / (precision + recall)

    A ratio 0/0 is 0 (scikit-learn's ``zero_division=0``).

    Returns:
        ``(precision, recall, f1, support)``, each of shape (K,); support counts the
        known positive labels of each class.
    """
    t = np.asarray(y_true, dtype=np.float64)
    p = np.asarray(y_pred, dtype=np.float64)
    if t.shape != p.shape or t.ndim != 2:
        raise ValueError(f"multilabel_precision_recall_f1: y_true shape {t.shape} and y_pred "
                         f"shape {p.shape} must both be (N, K)")
    known = ~np.isnan(t)
    if np.any(np.isnan(p) & known):
        raise ValueError("multilabel_precision_recall_f1: y_pred holds NaN where the label "
                         "is known")
    if np.any(known & (t != 0) & (t != 1)):
        raise ValueError("multilabel_precision_recall_f1: known labels must be 0 or 1")
    truth = known & (t == 1)
    guess = known & (p > threshold)
    tp = np.sum(truth & guess, axis=0)
    fp = np.sum(~truth & guess, axis=0)
    fn = np.sum(truth & ~guess, axis=0)

    def ratio(a, b):
        return np.divide(a, b, out=np.zeros(a.shape), where=b > 0)

    precision, recall = ratio(tp, tp + fp), ratio(tp, tp + fn)
    f1 = ratio(2 * precision * recall, precision + recall)
    return precision, recall, f1, truth.sum(axis=0)
