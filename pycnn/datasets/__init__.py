"""Teaching data sets, loaded like ``keras.datasets``: ``(x_train, y_train), (x_test, y_test)``.

- ``digits``: the 1,797 real 8×8 handwritten digits that scikit-learn ships — offline;
  the default of the demo, the notebooks and the tests.
- ``mnist``: real MNIST, offline: Keras' 60,000 / 10,000 from the standard files (IDX,
  gzipped or not, or Keras' ``mnist.npz``) when you have them, else the 10,000 official
  test images that ship inside pycnn, split 8,000 / 2,000; nothing is ever downloaded.
- ``shapes``: synthetic, deterministic images of simple shapes with their bounding boxes in
  the YOLO target layout and per-pixel class masks.
"""
from . import digits, mnist, shapes

__all__ = ["digits", "mnist", "shapes"]
