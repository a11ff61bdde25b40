"""The five parts of the YOLO v1 loss as metrics, so ``fit`` logs each of them per
epoch into the History (and ``History.plot`` draws their curves). Re-exported by
``pycnn.metrics``.

    >>> model.compile(optimizer='adam', loss=YoloLoss(S=4, B=2, C=3),
    ...               metrics=yolo_loss_parts(S=4, B=2, C=3))
    >>> history.history['coord_xy']          # one value per epoch
"""
from .autograd import no_grad
from .metrics import MeanMetricWrapper

__all__ = ["YoloLossPart", "yolo_loss_parts", "YOLO_PARTS"]

YOLO_PARTS = ("coord_xy", "coord_wh", "obj", "noobj", "cls")


class YoloLossPart(MeanMetricWrapper):
    """The running mean over images of one part of ``pycnn.losses.yolo_loss``
    (``'coord_xy'``, ``'coord_wh'``, ``'obj'``, ``'noobj'`` or ``'cls'``), computed with
    the loss's own C kernel; its name (the History key) is the part's."""

    def __init__(self, part, S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5, name=None):
        if part not in YOLO_PARTS:
            raise ValueError(f"YoloLossPart: part must be one of {YOLO_PARTS}, got {part!r}")
        self.part = part
        super().__init__(self._values, name=name or part, S=int(S), B=int(B), C=int(C),
                         lambda_coord=float(lambda_coord), lambda_noobj=float(lambda_noobj))

    def _values(self, y_true, y_pred, **settings):
        from .losses import yolo_loss
        with no_grad():
            _, parts = yolo_loss(y_true, y_pred, return_parts=True, reduction="none", **settings)
        return parts[self.part].numpy()

    def get_config(self):
        return {"part": self.part, **super().get_config()}


def yolo_loss_parts(S=7, B=2, C=20, lambda_coord=5.0, lambda_noobj=0.5):
    """The five YoloLossPart metrics, in the loss's order, for ``compile(metrics=...)``."""
    return [YoloLossPart(part, S, B, C, lambda_coord, lambda_noobj) for part in YOLO_PARTS]
