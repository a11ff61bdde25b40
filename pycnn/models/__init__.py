"""Models: Sequential, functional ``Model(inputs, outputs)`` and subclassed ``Model``, on
one graph of layers, with Keras' compile / fit / evaluate / predict / save.

- graph.py          KerasTensor, Node, Input, map_graph, GraphRunner: the data structure
                    summary, saving, plot_model and interop read (see its docstring)
- model.py          Model: a Layer whose graph (or call) is the network, for every kind
- trainer.py        compile / fit / evaluate / predict: the one training loop
- functional.py     Functional: Model(inputs, outputs) and its Keras 3 config
- sequential.py     Sequential: the same graph with one path
- serialization.py  class registry, to_json / model_from_json, clone_model
"""
from .graph import Input, KerasTensor, Node
from .model import Model, _seed_shuffle
from .functional import Functional
from .sequential import Sequential
from .serialization import clone_model, model_from_json

__all__ = ["Model", "Sequential", "Functional", "Input", "KerasTensor", "Node", "load_model",
           "clone_model", "model_from_json"]


def _reset_names():
    """Kept for pycnn.clear_session(): model names are counted with the layers' (C)."""


def load_model(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The model that ``model.save(filepath)`` wrote, or a Keras ``.keras`` / ``.h5``
    file (see pycnn.saving.load_model)."""
    from ..saving import load_model as _load
    return _load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)
