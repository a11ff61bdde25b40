"""Metrics of point regression (facial landmarks, pose keypoints): PCK and the mean
point error. Re-exported by ``pycnn.metrics``.

Points come as (N, M, 2) arrays — M points (x, y) per sample — or flattened as
(N, 2M) ``(x_1, y_1, …, x_M, y_M)``, the layout the lecture's regression head outputs.
A true point given as NaN is not visible (an occluded joint): it is left out.
"""
import numpy as np

__all__ = ["pck", "mean_point_error"]


def _points(true_points, pred_points, op):
    t = np.asarray(true_points, dtype=np.float64)
    p = np.asarray(pred_points, dtype=np.float64)
    if t.shape != p.shape:
        raise ValueError(f"{op}: true_points shape {t.shape} does not match pred_points shape "
                         f"{p.shape}")
    if t.ndim == 2 and t.shape[1] % 2 == 0:
        t, p = t.reshape(len(t), -1, 2), p.reshape(len(p), -1, 2)
    if t.ndim != 3 or t.shape[2] != 2:
        raise ValueError(f"{op}: points must have shape (N, M, 2) or (N, 2M), got {t.shape}")
    if np.any(np.isnan(p) & ~np.isnan(t)):
        raise ValueError(f"{op}: pred_points holds NaN where the true point is known")
    return t, p


def _distances(t, p):
    """(N, M) Euclidean distances and the (N, M) mask of visible true points."""
    visible = ~np.any(np.isnan(t), axis=2)
    d = np.sqrt(np.sum(np.square(np.where(visible[..., None], p - t, 0.0)), axis=2))
    return d, visible


def pck(true_points, pred_points, threshold=0.1, reference=None):
    """Percentage of Correct Keypoints: the fraction of points within
    ``threshold × reference`` of the truth (distance <= the radius).

    Args:
        true_points, pred_points: (N, M, 2) or (N, 2M).
        threshold: the fraction of the reference length (PCK@0.1 is 0.1).
        reference: the length per sample — a number or an (N,) array; default: the
            diagonal of the bounding box of that sample's visible true points.

    Returns:
        A float in [0, 1] (NaN when no true point is visible).
    """
    op = "pck"
    t, p = _points(true_points, pred_points, op)
    d, visible = _distances(t, p)
    if reference is None:
        lo = np.where(visible[..., None], t, np.inf).min(axis=1)      # (N, 2)
        hi = np.where(visible[..., None], t, -np.inf).max(axis=1)
        size = np.where(visible.any(axis=1)[:, None], hi - lo, 0.0)
        reference = np.sqrt(np.sum(np.square(size), axis=1))
    reference = np.asarray(reference, dtype=np.float64)
    if reference.ndim == 0:
        reference = np.full(len(t), float(reference))
    if reference.shape != (len(t),):
        raise ValueError(f"{op}: reference must be a number or one length per sample "
                         f"({len(t)}), got shape {reference.shape}")
    if np.any(~np.isfinite(reference)) or np.any(reference < 0):
        raise ValueError(f"{op}: reference lengths must be finite and >= 0")
    if not np.isfinite(threshold) or threshold < 0:
        raise ValueError(f"{op}: threshold must be a finite number >= 0, got {threshold!r}")
    correct = (d <= threshold * reference[:, None]) & visible
    n = int(visible.sum())
    return float(correct.sum() / n) if n else float("nan")


def mean_point_error(true_points, pred_points):
    """The mean Euclidean distance between predicted and true points, in the points'
    units (pixels for pixel coordinates); NaN true points are left out (NaN when no
    point is visible)."""
    t, p = _points(true_points, pred_points, "mean_point_error")
    d, visible = _distances(t, p)
    n = int(visible.sum())
    return float(d[visible].sum() / n) if n else float("nan")
