"""Merge layers: several tensors in, one out, each composed of pycnn's C ops (whose
backward is the C op's), with Keras' names and functional forms.

    Add()([a, b, ...])           a + b + ...              (pycnn.add)
    Subtract()([a, b])           a - b                    (pycnn.subtract)
    Multiply()([a, b, ...])      a · b · ...              (pycnn.multiply, element-wise)
    Average()([a, b, ...])       (a + b + ...) / n
    Maximum()([a, b, ...])       max(a, b, ...)           (pycnn.maximum; ties: first)
    Minimum()([a, b, ...])       min(a, b, ...)
    Concatenate(axis=-1)([...])  joined along axis        (pycnn.concat)

and the lowercase forms ``add([a, b])``, ``concatenate([a, b], axis=-1)``, ... that make
the layer and call it. Shapes must agree (Concatenate: everywhere but along axis);
otherwise ValueError naming the layer and the shapes, raised when the graph is built.
"""
from .. import _core
from ..cost import free as _free
from .base import Layer

__all__ = ["Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum", "Concatenate",
           "add", "subtract", "multiply", "average", "maximum", "minimum", "concatenate",
           "TensorOp"]


def _fmt(shapes):
    return ", ".join(str(tuple(s)) for s in shapes)


def _size(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _dots(shape):
    return "·".join(str(d) for d in shape) or "1"


class _Merge(Layer):
    """Elementwise merges: inputs of one shape (batch dims may be unknown)."""

    _min_inputs = 2
    _max_inputs = None
    _pycnn_native = True
    _field_rule = "merge"       # a unit sees the union of what its inputs' units see

    def __init__(self, **kwargs):
        super().__init__(**kwargs)

    def _check_inputs(self, shapes):
        if not isinstance(shapes, (list, tuple)) or not shapes or \
                not isinstance(shapes[0], (list, tuple)):
            raise ValueError(f"{self.name}: a {type(self).__name__} layer takes a list of "
                             f"inputs, got one input of shape {shapes}")
        n = len(shapes)
        if n < self._min_inputs or (self._max_inputs is not None and n > self._max_inputs):
            want = (f"exactly {self._min_inputs}" if self._max_inputs == self._min_inputs
                    else f"at least {self._min_inputs}")
            raise ValueError(f"{self.name}: a {type(self).__name__} layer takes {want} "
                             f"inputs, got {n}")

    def build(self, input_shape):
        self._check_inputs(input_shape)
        self._check_shapes(input_shape)

    def _check_shapes(self, shapes):
        first = tuple(shapes[0])
        for s in shapes[1:]:
            s = tuple(s)
            ok = len(s) == len(first) and all(a is None or b is None or a == b
                                              for a, b in zip(first, s))
            if not ok:
                raise ValueError(f"{self.name}: a {type(self).__name__} layer needs inputs "
                                 f"of the same shape, got shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        self._check_shapes(input_shape)
        return tuple(next((d for d in dims if d is not None), None)
                     for dims in zip(*input_shape))

    def call(self, inputs):
        self._check_inputs([tuple(x.shape) for x in inputs])
        return self._merge(list(inputs))

    def get_config(self):
        return _core.Layer.get_config(self)


def _fold(op, xs):
    """op(...op(op(x0, x1), x2)..., xn): one C node per input after the first."""
    y = xs[0]
    for x in xs[1:]:
        y = op(y, x)
    return y


class Add(_Merge):
    """Add()([a, b, ...]) = a + b + ...; every input gets the whole gradient."""

    _macs = _free("additions")

    def _merge(self, xs):
        return _fold(_core.add, xs)


class Subtract(_Merge):
    """Subtract()([a, b]) = a - b."""

    _max_inputs = 2
    _macs = _free("subtractions")

    def _merge(self, xs):
        return _core.subtract(xs[0], xs[1])


class Multiply(_Merge):
    """Multiply()([a, b, ...]) = a · b · ... element-wise."""

    def _macs(self, ins, outs):
        """(k − 1) products per value for k inputs."""
        if len(ins) < 2:
            return None
        y = outs[0] if outs else ()
        return (len(ins) - 1) * _size(y), f"{len(ins) - 1} · {_dots(y)}"

    def _merge(self, xs):
        return _fold(_core.multiply, xs)


class Average(_Merge):
    """Average()([a, b, ...]) = (a + b + ...) / n."""

    def _macs(self, ins, outs):
        """One ·1/k per value."""
        if not ins:
            return None
        y = outs[0] if outs else ()
        return _size(y), f"{_dots(y)} (·1/{len(ins)} per value)"

    def _merge(self, xs):
        return _core.multiply(_fold(_core.add, xs), 1.0 / len(xs))


class Maximum(_Merge):
    """Maximum()([a, b, ...]) = element-wise max; the gradient goes to the larger input."""

    _macs = _free("comparisons")

    def _merge(self, xs):
        return _fold(_core.maximum, xs)


class Minimum(_Merge):
    """Minimum()([a, b, ...]) = element-wise min."""

    _macs = _free("comparisons")

    def _merge(self, xs):
        return _fold(_core.minimum, xs)


class Concatenate(_Merge):
    """Concatenate(axis=-1)([a, b, ...]): joined along axis; the other sizes must agree."""

    _macs = _free("a copy")

    def __init__(self, axis=-1, **kwargs):
        super().__init__(**kwargs)
        if isinstance(axis, bool) or not isinstance(axis, int):
            raise ValueError(f"Concatenate: axis must be an int, got {axis!r}")
        self.axis = axis

    def _axis(self, ndim):
        axis = self.axis + ndim if self.axis < 0 else self.axis
        if not 0 <= axis < ndim:
            raise ValueError(f"{self.name}: axis {self.axis} is out of range for inputs of "
                             f"rank {ndim}")
        return axis

    def _check_shapes(self, shapes):
        ranks = {len(s) for s in shapes}
        if len(ranks) != 1:
            raise ValueError(f"{self.name}: a Concatenate layer needs inputs of the same rank, "
                             f"got shapes {_fmt(shapes)}")
        axis = self._axis(ranks.pop())
        first = tuple(shapes[0])
        for s in shapes[1:]:
            for i, (a, b) in enumerate(zip(first, s)):
                if i != axis and a is not None and b is not None and a != b:
                    raise ValueError(
                        f"{self.name}: a Concatenate layer (axis={self.axis}) needs inputs "
                        f"whose shapes agree except along the axis, got shapes {_fmt(shapes)}")

    def compute_output_shape(self, input_shape):
        self._check_inputs(input_shape)
        self._check_shapes(input_shape)
        axis = self._axis(len(input_shape[0]))
        out = list(super().compute_output_shape(
            [tuple(d if i != axis else 0 for i, d in enumerate(s)) for s in input_shape]))
        sizes = [s[axis] for s in input_shape]
        out[axis] = None if any(d is None for d in sizes) else sum(sizes)
        return tuple(out)

    def _merge(self, xs):
        return _core.concat(xs, axis=self._axis(len(xs[0].shape)))

    def get_config(self):
        return {**_core.Layer.get_config(self), "axis": self.axis}


class TensorOp(Layer):
    """What arithmetic on symbolic tensors records: ``x + y``, ``2 * x``, ``x @ w``
    (Keras 3 records its ops the same way). op: add, subtract, multiply, divide, matmul;
    a number operand is kept in the config."""

    _pycnn_native = True
    _OPS = {"add": _core.add, "subtract": _core.subtract, "multiply": _core.multiply,
            "divide": _core.divide, "matmul": _core.matmul}

    def __init__(self, op, **kwargs):
        if op not in self._OPS:
            raise ValueError(f"TensorOp: unknown op {op!r}; known: {sorted(self._OPS)}")
        super().__init__(**kwargs)
        self.op = op

    def call(self, a, b):
        return self._OPS[self.op](a, b)

    def get_config(self):
        return {**_core.Layer.get_config(self), "op": self.op}


def _functional(cls, doc):
    def merge(inputs, **kwargs):
        return cls(**kwargs)(inputs)
    merge.__name__ = merge.__qualname__ = cls.__name__.lower()
    merge.__doc__ = doc
    return merge


add = _functional(Add, "add(inputs, **kwargs) = Add(**kwargs)(inputs)")
subtract = _functional(Subtract, "subtract(inputs, **kwargs) = Subtract(**kwargs)(inputs)")
multiply = _functional(Multiply, "multiply(inputs, **kwargs) = Multiply(**kwargs)(inputs)")
average = _functional(Average, "average(inputs, **kwargs) = Average(**kwargs)(inputs)")
maximum = _functional(Maximum, "maximum(inputs, **kwargs) = Maximum(**kwargs)(inputs)")
minimum = _functional(Minimum, "minimum(inputs, **kwargs) = Minimum(**kwargs)(inputs)")


def concatenate(inputs, axis=-1, **kwargs):
    """concatenate(inputs, axis=-1, **kwargs) = Concatenate(axis, **kwargs)(inputs)"""
    return Concatenate(axis=axis, **kwargs)(inputs)
