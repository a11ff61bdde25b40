"""Which layer converts where, and how close the real thing computes it: one table.

    python tools/interop_matrix.py [--dtype float32|float64]   (prints a Markdown table)

For each layer of the CNN canon (one layer after an Input, random weights, biases and
BatchNorm statistics moved off their initial values), the model goes through
pycnn.interop.to_keras, to_torch and to_onnx; each converted model runs on the same input in
inference, and the table gives the largest absolute difference from pycnn's prediction, or
the ConversionError's message where pycnn refuses the conversion by name. The Keras column
also converts the Keras model back (from_keras) and says whether the weights came back
bit-identical. A row that raises anything else is a bug and stops the run.

Needs the interop extras: `pip install pycnn[interop]` (Keras 3 with the torch backend,
onnx, onnxruntime).
"""
import argparse
import os
import sys
import tempfile
import warnings

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402

import pycnn  # noqa: E402
from pycnn import interop  # noqa: E402
from pycnn import layers as L  # noqa: E402


def _rows():
    """(title, input shape, layer factory)"""
    image = (12, 12, 4)
    rows = [
        ("BatchNormalization", image, lambda: L.BatchNormalization()),
        ("LayerNormalization", image, lambda: L.LayerNormalization()),
        ("GlobalAveragePooling2D", image, lambda: L.GlobalAveragePooling2D()),
        ("GlobalMaxPooling2D(keepdims=True)", image,
         lambda: L.GlobalMaxPooling2D(keepdims=True)),
        ("ZeroPadding2D(((1, 2), (0, 1)))", image, lambda: L.ZeroPadding2D(((1, 2), (0, 1)))),
        ("Cropping2D(((1, 2), (0, 1)))", image, lambda: L.Cropping2D(((1, 2), (0, 1)))),
        ("SpatialDropout2D(0.3)", image, lambda: L.SpatialDropout2D(0.3)),
        ("Dropout(0.3, noise_shape=(None, 1, 1, 4))", image,
         lambda: L.Dropout(0.3, noise_shape=(None, 1, 1, 4))),
        ("UpSampling2D(2, 'nearest')", image, lambda: L.UpSampling2D(2)),
        ("UpSampling2D(2, 'bilinear')", image,
         lambda: L.UpSampling2D(2, interpolation="bilinear")),
        ("Rescaling(1/255, offset=-0.5)", image, lambda: L.Rescaling(1 / 255, offset=-0.5)),
        ("Normalization (adapted)", image, None),
        ("Conv2D(6, 3, strides=2, 'same')", image,
         lambda: L.Conv2D(6, 3, strides=2, padding="same")),
        ("Conv2D(6, 3, dilation_rate=2)", image, lambda: L.Conv2D(6, 3, dilation_rate=2)),
        ("Conv2D(6, 3, groups=2, 'same')", image, lambda: L.Conv2D(6, 3, groups=2, padding="same")),
        ("Conv2DTranspose(5, 3, strides=2, 'same')", image,
         lambda: L.Conv2DTranspose(5, 3, strides=2, padding="same")),
        ("Conv2DTranspose(5, 3, strides=2, output_padding=1)", image,
         lambda: L.Conv2DTranspose(5, 3, strides=2, output_padding=1)),
        ("DepthwiseConv2D(3, depth_multiplier=2)", image,
         lambda: L.DepthwiseConv2D(3, depth_multiplier=2)),
        ("SeparableConv2D(6, 3, 'same')", image, lambda: L.SeparableConv2D(6, 3, padding="same")),
        ("Conv1D(6, 3, padding='causal', dilation_rate=2)", (20, 4),
         lambda: L.Conv1D(6, 3, padding="causal", dilation_rate=2)),
    ]
    for name in ("gelu", "softplus", "softsign", "hard_sigmoid", "silu", "relu6", "selu",
                 "exponential", "linear"):
        rows.append((f"Dense(5, activation='{name}')", (6,),
                     lambda name=name: L.Dense(5, activation=name)))
    for title, make in (("RandomFlip()", lambda: L.RandomFlip(seed=1)),
                        ("RandomTranslation(0.2, 0.2)", lambda: L.RandomTranslation(0.2, 0.2, seed=1)),
                        ("RandomRotation(0.1)", lambda: L.RandomRotation(0.1, seed=1)),
                        ("RandomZoom(0.2)", lambda: L.RandomZoom(0.2, seed=1)),
                        ("RandomCrop(8, 8)", lambda: L.RandomCrop(8, 8, seed=1)),
                        ("RandomContrast(0.3)", lambda: L.RandomContrast(0.3, seed=1))):
        rows.append((title + " (inference)", image, make))
    return rows


def _model(shape, make, dtype, rng):
    pycnn.clear_session()
    pycnn.set_seed(3)
    if make is None:                       # Normalization, adapted to data
        layer = L.Normalization(dtype=dtype)
        layer.adapt(rng.standard_normal((64,) + shape).astype(dtype) * 3.0 + 1.0)
    else:
        layer = make()
    model = pycnn.models.Sequential([pycnn.Input(shape, dtype=dtype), layer])
    weights = [w + rng.uniform(0.1, 0.5, w.shape).astype(w.dtype) if w.ndim == 1 and
               w.size and "variance" not in getattr(v, "name", "") else w
               for w, v in zip(model.get_weights(), model.weights)]
    model.set_weights(weights)
    return model


def _diff(a, b):
    return float(np.max(np.abs(np.asarray(a, dtype=np.float64) - np.asarray(b, np.float64))))


def _try(fn):
    try:
        return fn()
    except interop.ConversionError as e:
        return "refused: " + str(e).split("\n")[0]


def measure(dtype="float32"):
    import onnxruntime
    import torch
    rng = np.random.default_rng(0)
    out = []
    for title, shape, make in _rows():
        model = _model(shape, make, dtype, rng)
        x = rng.standard_normal((3,) + shape).astype(dtype)
        y = np.asarray(model.predict(x, verbose=0))

        def keras():
            kmodel = interop.to_keras(model)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                got = np.asarray(kmodel.predict(x, verbose=0))
            back = interop.from_keras(kmodel)
            same = all(a.tobytes() == b.tobytes()
                       for a, b in zip(back.get_weights(), model.get_weights()))
            return f"{_diff(got, y):.1e}" + ("" if same else " (weights changed on the way back)")

        def torch_():
            module = interop.to_torch(model).eval()
            if dtype == "float64":
                module = module.double()
            with torch.no_grad():
                got = module(torch.from_numpy(x)).numpy()
            return f"{_diff(got, y):.1e}"

        def onnx():
            with tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "m.onnx")
                interop.to_onnx(model, path)
                session = onnxruntime.InferenceSession(path)
                got = session.run(None, {"input": x.astype(np.float32)})[0]
            return f"{_diff(got, y):.1e}"

        out.append((title, _try(keras), _try(torch_),
                    _try(onnx) if dtype == "float32" else "—"))
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    args = p.parse_args(argv)
    rows = measure(args.dtype)
    print(f"| layer ({args.dtype}) | Keras 3 (torch backend) | PyTorch | ONNX Runtime |")
    print("|---|---|---|---|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
