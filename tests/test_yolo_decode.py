"""pycnn.utils.yolo_decode and the YOLO loss parts as metrics: decode → encode round trip
with the shapes data set's encoder, hand cases, bad grids, History logging."""
import numpy as np
import pytest

import pycnn
from pycnn import metrics
from pycnn.datasets import shapes
from pycnn.utils import yolo_decode


def test_decode_of_the_encoded_targets_gives_the_boxes_back():
    (_, t), _ = shapes.load_data(n_train=30, n_test=1, target="all", seed=7)
    grid = shapes.encode_yolo(t["boxes"], 4)           # (x, y, w, h, 1, one-hot): B = 1
    boxes, scores, classes = yolo_decode(grid, S=4, B=1, C=3, score_threshold=0.5,
                                         box_format="cxcywh")
    for i in range(30):
        rows = t["boxes"][i][t["boxes"][i][:, 5] == 1]
        order = np.lexsort((rows[:, 2], rows[:, 1]))
        got = np.lexsort((boxes[i][:, 1], boxes[i][:, 0]))
        np.testing.assert_allclose(boxes[i][got], rows[order, 1:5], atol=1e-6)
        assert classes[i][got].tolist() == rows[order, 0].astype(int).tolist()
        assert np.all(scores[i] == 1)
    # and encoding the decoded boxes gives the grid again
    again = np.zeros_like(t["boxes"])
    for i in range(30):
        again[i, :len(boxes[i])] = np.column_stack([classes[i], boxes[i], np.ones(len(boxes[i]))])
    np.testing.assert_allclose(shapes.encode_yolo(again, 4), grid, atol=1e-6)


def test_decode_hand_case_and_xyxy():
    S, B, C = 2, 2, 2
    y = np.zeros((1, S, S, B * 5 + C), np.float32)
    y[0, 1, 0, :5] = [0.5, 0.25, 0.4, 0.2, 0.9]          # cell row 1, col 0, box 0
    y[0, 1, 0, 5:10] = [0.0, 0.0, -0.3, 0.5, 0.5]        # box 1: centre (0, 0.5), width -> 0
    y[0, 1, 0, 10:] = [0.2, 0.8]
    boxes, scores, classes = yolo_decode(y, S, B, C, score_threshold=0.1)
    # centre ((0 + 0.5)/2, (1 + 0.25)/2) = (0.25, 0.625), size (0.4, 0.2)
    np.testing.assert_allclose(boxes[0], [[0.05, 0.525, 0.45, 0.725], [0, 0.25, 0, 0.75]],
                               atol=1e-6)
    np.testing.assert_allclose(scores[0], [0.72, 0.4], atol=1e-6)
    assert classes[0].tolist() == [1, 1]


def test_decode_rejects_a_grid_of_another_size():
    with pytest.raises(ValueError, match=r"shape \(N, 4, 4, 13\) for S=4, B=2, C=3, got "
                                         r"\(2, 7, 7, 13\)"):
        yolo_decode(np.zeros((2, 7, 7, 13)), S=4, B=2, C=3)
    with pytest.raises(ValueError, match=r"got \(1, 4, 4, 8\)"):
        yolo_decode(np.zeros((1, 4, 4, 8)), S=4, B=2, C=3)
    with pytest.raises(ValueError, match="box_format"):
        yolo_decode(np.zeros((1, 4, 4, 13)), S=4, B=2, C=3, box_format="xywh")


def test_yolo_loss_parts_are_logged_per_epoch():
    from pycnn.layers import Conv2D, MaxPooling2D
    from pycnn.models import Sequential
    pycnn.set_seed(0)
    (x, y), _ = shapes.load_data(n_train=32, n_test=1, image_size=16, grid_size=2,
                                 max_objects=2)
    model = Sequential([Conv2D(4, 3, padding="same", activation="relu", input_shape=(16, 16, 1)),
                        MaxPooling2D(8), Conv2D(13, 1, activation="sigmoid")])
    model.compile("adam", pycnn.losses.YoloLoss(S=2, B=2, C=3),
                  metrics=metrics.yolo_loss_parts(S=2, B=2, C=3))
    history = model.fit(x, y, batch_size=32, epochs=2, verbose=0, shuffle=False)
    assert list(history.history) == ["loss", *metrics.YOLO_PARTS]
    # one batch: the parts of the epoch add up to its loss (λ's included in the parts)
    total = sum(history.history[p][0] for p in metrics.YOLO_PARTS)
    assert total == pytest.approx(history.history["loss"][0], rel=1e-5)
    with pytest.raises(ValueError, match="part must be one of"):
        metrics.YoloLossPart("iou")
