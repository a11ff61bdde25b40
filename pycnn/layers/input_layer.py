"""InputLayer: where a graph starts. ``pycnn.Input(shape)`` makes one and returns its
symbolic output (a KerasTensor of shape (batch_size,) + shape)."""
from ..cost import free as _free
from .base import Layer

__all__ = ["InputLayer"]


class InputLayer(Layer):
    """InputLayer(shape=None, batch_size=None, dtype=None, name=None, batch_shape=None)

    Has no weights and computes nothing: its one node has no inputs and outputs the
    model's input tensor. Keras config keys: batch_shape, dtype, sparse, ragged, name.
    """

    _pycnn_native = True        # its config is written below, not captured
    _keras_build_config = False
    _macs = _free("the input")
    _field_rule = "pointwise"

    def __init__(self, shape=None, batch_size=None, dtype=None, sparse=None, batch_shape=None,
                 input_tensor=None, name=None, ragged=None, optional=False, **kwargs):
        from ..models.graph import KerasTensor, Node
        if "input_shape" in kwargs:
            shape = kwargs.pop("input_shape")
        if "batch_input_shape" in kwargs:
            batch_shape = kwargs.pop("batch_input_shape")
        kwargs.pop("trainable", None)
        if kwargs:
            raise TypeError(f"InputLayer: unexpected keyword argument(s) {sorted(kwargs)}")
        if sparse or ragged:
            raise ValueError("InputLayer: sparse and ragged inputs are not supported")
        if batch_shape is not None:
            if shape is not None or batch_size is not None:
                raise ValueError("InputLayer: give batch_shape, or shape (and batch_size), "
                                 "not both")
            batch_shape = tuple(batch_shape)
        elif shape is not None:
            if isinstance(shape, int):
                shape = (shape,)
            batch_shape = (batch_size,) + tuple(shape)
        elif input_tensor is not None:
            batch_shape = input_tensor.shape
        else:
            raise ValueError("InputLayer: give the shape of one sample, e.g. "
                             "pycnn.Input(shape=(28, 28, 1))")
        for d in batch_shape:
            if d is not None and (not isinstance(d, int) or isinstance(d, bool) or d < 0):
                raise ValueError(f"InputLayer: the shape {batch_shape} must hold non-negative "
                                 f"ints or None")
        dtype = "float32" if dtype is None else str(dtype)
        float_dtype = dtype if dtype in ("float32", "float64") else None
        super().__init__(name=name, dtype=float_dtype)
        self.__dict__["_batch_shape"] = tuple(batch_shape)
        self.__dict__["_input_dtype"] = dtype
        self.optional = bool(optional)
        tensor = input_tensor if input_tensor is not None else \
            KerasTensor(batch_shape, dtype, name=self.name)
        Node(self, (), {}, tensor)
        self.built = True

    @property
    def batch_shape(self):
        return self.__dict__["_batch_shape"]

    def call(self, inputs=None):
        return inputs

    def compute_output_shape(self, input_shape=None):
        return self.batch_shape

    def get_config(self):
        return {"batch_shape": list(self.batch_shape), "dtype": self.__dict__["_input_dtype"],
                "sparse": False, "ragged": False, "name": self.name,
                "optional": self.optional}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        if config.get("batch_shape") is not None:
            config["batch_shape"] = tuple(config["batch_shape"])
        return cls(**config)
