"""Optional dependencies: imported when first needed, or an ImportError naming the extra
that installs them.

The core install (``pip install pycnn``) needs only NumPy. The extras:

    pycnn[notebook]   matplotlib, scikit-learn, ipywidgets, JupyterLab, h5py: the notebooks,
                      the README's snippets, plots (History.plot, pycnn.viz), the digits
                      data, model.save("x.keras")
    pycnn[demo]       matplotlib and scikit-learn: what ``python -m pycnn.demo`` imports
    pycnn[hdf5]       h5py: Keras' files (.keras, .h5, .weights.h5)
    pycnn[interop]    Keras 3 with its torch backend, h5py, ONNX: pycnn.interop
"""
import importlib

EXTRAS = {"matplotlib": "notebook", "sklearn": "notebook", "ipywidgets": "notebook",
          "h5py": "hdf5", "keras": "interop", "torch": "interop", "onnx": "interop",
          "onnxruntime": "interop"}
DISTRIBUTIONS = {"sklearn": "scikit-learn"}


def require(module, purpose):
    """The module (e.g. 'matplotlib.pyplot'), or ImportError: '<purpose> needs <package>,
    which is not installed: pip install pycnn[<extra>]'."""
    top = module.split(".")[0]
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name not in (top, module):
            raise                       # the package is there but broken: its own error
        raise ImportError(f"{purpose} needs {DISTRIBUTIONS.get(top, top)}, which is not "
                          f"installed: pip install pycnn[{EXTRAS[top]}]") from exc
