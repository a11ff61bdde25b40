"""Keras' own files, written and read for real: ``.keras`` (Keras 3), ``.h5`` (Keras' legacy
HDF5 model and weights files) and ``.weights.h5`` (Keras 3's weights files).

    model.save("digits.keras")                  # keras.saving.load_model opens it
    model = pycnn.models.load_model("digits.keras")     # ... and files Keras wrote
    model.save("digits.h5")                     # the legacy HDF5 model file
    model.save_weights("digits.weights.h5")     # keras_model.load_weights reads it

The formats, as Keras 3 writes them:

    x.keras             a zip: metadata.json {"keras_version", "date_saved"}, config.json
                        {"module": "keras", "class_name": "Sequential", "config": {"layers":
                        [InputLayer, Dense, ...]}, "compile_config": ...}, and model.weights.h5;
                        a functional model's config is {"class_name": "Functional", "config":
                        {"layers": [each with "name" and "inbound_nodes"], "input_layers",
                        "output_layers"}} (pycnn's Functional.get_config with Keras' layers)
    model.weights.h5    HDF5: layers/<snake_case(class)>[_n]/vars/<i> per layer in model order
                        (dense, dense_1, ...: numbered per class, never by layer name), each
                        `vars` group naming its layer; a functional model's InputLayers and
                        merge layers take their paths too (input_layer, add, ...), a shared
                        layer one; vars/ (the model's), optimizer/vars/
    x.h5 (legacy)       HDF5: attrs model_config (JSON) and training_config; model_weights/
                        with attrs layer_names, and per layer <layer>/<model>/<layer>/kernel
                        listed in its group's attr weight_names

Layers both libraries have convert (Dense, Conv2D, the pools, Dropout, Flatten, Reshape,
Activation, LeakyReLU, ELU, Softmax, UpSampling2D; see pycnn.interop), in Sequential models
and in functional ones (several inputs and outputs, the merge layers Add, Concatenate, ...,
shared layers) in .keras and .weights.h5 files; a nested model, arithmetic on symbolic
tensors (TensorOp) or a legacy .h5 of a functional model is refused by name before anything
is written (a multi-output model's losses stay behind: compile it again). Weights are the same
arrays in the same layout, copied bit for bit. A compiled model's optimizer (SGD, Adam,
RMSprop) travels in .keras and .weights.h5 files as Keras keeps it: iterations, learning
rate and every slot array (Adam's momentum and velocity, ...); the legacy .h5 carries the
compile settings but starts the optimizer afresh.

Reading trusts nothing in the file (as pycnn.saving does for its own): config JSON is
size- and depth-limited, class names resolve only through the table of Keras layers pycnn
has (a Lambda layer, which holds Python bytecode, is refused whatever ``safe_mode`` says:
pycnn never runs code from a file), every dataset's shape and dtype is checked against the
architecture before it is read, and the weights entry may be no larger than the weights it
must hold. Every damaged or hostile file raises ValueError naming the file and the entry.
Needs h5py (``pip install pycnn[hdf5]``, also in ``[interop]``).
"""
import datetime as _datetime
import io as _io
import json as _json
import os as _os
import re as _re
from types import SimpleNamespace as _SimpleNamespace
import zipfile as _zipfile

import numpy as _np

from . import saving
from .interop.plan import (ConversionError as _ConversionError, _plan,
                           hooked_kinds as _hooked_kinds, layer_hook as _layer_hook)

__all__ = ["save_keras", "load_keras", "save_h5", "load_h5", "save_weights_h5",
           "load_weights_h5", "KERAS_FORMAT_VERSION"]

KERAS_FORMAT_VERSION = "3.15.1"     # the Keras release these files are checked against
CONFIG, METADATA, WEIGHTS = "config.json", "metadata.json", "model.weights.h5"
# the HDF5 file around the arrays: superblock, groups, attributes (Keras' are ~2 KB a layer)
_H5_OVERHEAD = 1 << 20
_H5_PER_LAYER = 64 << 10


def _h5py():
    from ._optional import require
    return require("h5py", "reading or writing a Keras file (.keras, .h5)")


def _snake(name):
    """Keras' naming.to_snake_case: 'MaxPooling2D' -> 'max_pooling2d', 'LeakyReLU' ->
    'leaky_re_lu'."""
    name = _re.sub(r"\W+", "", name)
    name = _re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _state_paths(class_names):
    """The weights-file path of each layer: layers/dense, layers/dense_1, ... (Keras'
    _get_unique_name over snake_case class names, in model order)."""
    used, paths = {}, []
    for name in class_names:
        base = _snake(name)
        if base in used:
            used[base] += 1
            paths.append(f"layers/{base}_{used[base]}")
        else:
            used[base] = 0
            paths.append(f"layers/{base}")
    return paths


# ---- pycnn -> Keras config ----------------------------------------------------------------

def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


def _keras_activation(spec):
    name, parameter = spec.activation
    if name == "leaky_relu":
        # Keras' 'leaky_relu' string means slope 0.2; pycnn's (the lecture's) is 0.1
        raise _ConversionError(f"cannot save layer '{spec.name}' ({spec.kind}) to a Keras file: "
                              f"its activation leaky_relu has slope 0.1, which Keras can only "
                              f"name with code of its own; use a LeakyReLU layer instead")
    return name


def _keras_layer_config(spec):
    """(class_name, config) of the Keras layer for one pycnn layer (interop's _Spec): the
    layer class's own Keras arguments (its ``_keras_config``; the Keras class has the pycnn
    class's name), the activation, when it has one, as the plan resolved it."""
    c = spec.config
    out = {"name": spec.name, "trainable": bool(c.get("trainable", True)),
           "dtype": _policy(c.get("dtype", "float32"))}
    kind = spec.kind
    hook = _layer_hook(kind, "_keras_config")
    if hook is None:
        raise _ConversionError(f"cannot save layer '{spec.name}' ({kind}) to a Keras file: "
                              f"pycnn.keras_format does not write {kind} yet")
    out.update(hook(c))
    if _layer_hook(kind, "_keras_trainable") is False:
        del out["trainable"]
    if "activation" in out:
        out["activation"] = _keras_activation(spec)
    return kind, out


def _layer_entry(class_name, config, in_shape, legacy):
    if legacy:
        return {"class_name": class_name, "config": config}
    return {"module": "keras.layers", "class_name": class_name, "config": config,
            "registered_name": None, "build_config": {"input_shape": [None, *in_shape]}}


_KERAS_OPTIMIZERS = {"SGD": ("learning_rate", "momentum", "nesterov"),
                     "Adam": ("learning_rate", "beta_1", "beta_2", "epsilon", "amsgrad"),
                     "RMSprop": ("learning_rate", "rho", "momentum", "epsilon", "centered")}


def _keras_compile_config(model):
    """Keras' compile_config for the model, or None when Keras could not rebuild it (a loss
    or metric of your own, an optimizer Keras lacks)."""
    from . import losses
    if not getattr(model, "compiled", False) or model.optimizer is None:
        return None
    opt = model.optimizer.get_config()
    kind = type(model.optimizer).__name__
    if kind not in _KERAS_OPTIMIZERS:
        return None
    loss = model.loss
    if isinstance(loss, losses.Loss):
        loss = losses.serialize(loss)
        default = type(model.loss)().get_config()
        if loss["config"] != default:
            return None                      # a configured loss object: no Keras string for it
        loss = _snake(type(model.loss).__name__)
    if not isinstance(loss, str) or loss not in losses._FUNCTIONS:
        return None
    metrics = [m for m in model._metric_ids]
    if not all(isinstance(m, str) for m in metrics):
        return None
    config = {k: opt[k] for k in _KERAS_OPTIMIZERS[kind] if k in opt}
    config.update(name=kind.lower(), weight_decay=None, clipnorm=opt.get("clipnorm"),
                  global_clipnorm=opt.get("global_clipnorm"), clipvalue=opt.get("clipvalue"),
                  use_ema=False, ema_momentum=0.99, ema_overwrite_frequency=None,
                  loss_scale_factor=None, gradient_accumulation_steps=None)
    return {"optimizer": {"module": "keras.optimizers", "class_name": kind, "config": config,
                          "registered_name": None},
            "loss": loss, "loss_weights": None, "metrics": metrics or None,
            "weighted_metrics": None, "run_eagerly": False, "steps_per_execution": 1,
            "jit_compile": False}


def _merge_config(layer, kind):
    """Keras' config of a merge layer (Add, Concatenate, ...)."""
    out = {"name": layer.name, "trainable": bool(layer.trainable),
           "dtype": _policy(layer.get_config().get("dtype", "float32"))}
    if kind == "Concatenate":
        out["axis"] = int(layer.axis)
    return out


def _functional_config(model):
    """Keras' config of a functional model (Keras 3's Functional: the layers in model
    order, each with its inbound nodes) and the plan in that order: one entry per layer,
    InputLayers and merges included (each takes a layers/<path> of the weights file)."""
    from .interop.graph import MERGE_KINDS, graph_plan
    from .models.graph import flatten
    steps = graph_plan(model, "Keras")       # every node checked before anything is written
    for step in steps:
        if step.kind == "Model":
            raise _ConversionError(f"cannot save layer '{step.layer.name}' (a nested model) "
                                   f"to a Keras file: pycnn writes functional models of "
                                   f"layers; build the outer model from the inner one's layers")
    first = {}
    for node in model._nodes:
        first.setdefault(id(node.operation), node)
    specs = {id(s.layer): s for s in steps if s.call == 0}
    own = model.get_config()
    layers, plan = [], []
    for op, mine in zip(model._graph.layers, own["layers"]):
        step = specs.get(id(op))
        if step is None:                     # an InputLayer
            kind, config = "InputLayer", dict(mine["config"])
            entry = {"module": "keras.layers", "class_name": kind, "config": config,
                     "registered_name": None}
            plan.append(_SimpleNamespace(kind=kind, name=op.name, weights=[]))
        else:
            shapes = [list(t.shape) for t in flatten(first[id(op)].arguments[0])]
            if step.kind in MERGE_KINDS:
                kind, config = step.kind, _merge_config(op, step.kind)
                plan.append(_SimpleNamespace(kind=kind, name=op.name, weights=[]))
            else:
                kind, config = _keras_layer_config(step.spec)
                plan.append(step.spec)
                shapes = shapes[:1]
            entry = {"module": "keras.layers", "class_name": kind, "config": config,
                     "registered_name": None,
                     "build_config": {"input_shape": shapes if step.kind in MERGE_KINDS
                                      else shapes[0]}}
        entry.update(name=op.name, inbound_nodes=mine["inbound_nodes"])
        layers.append(entry)
    config = {"name": model.name, "trainable": bool(model.trainable), "layers": layers,
              "input_layers": own["input_layers"], "output_layers": own["output_layers"]}
    return {"module": "keras.src.models.functional", "class_name": "Functional",
            "config": config, "registered_name": "Functional",
            "build_config": {"input_shape": None}}, plan


def _model_config(model, legacy=False):
    """Keras' config of a Sequential or functional model and the plan (layers with their
    weights)."""
    from .interop.graph import is_functional
    from .models import Sequential
    if is_functional(model) and not legacy:
        return _functional_config(model)
    if not isinstance(model, Sequential):
        raise _ConversionError(f"cannot save model '{getattr(model, 'name', '?')}' "
                               f"({type(model).__name__}) to a legacy Keras .h5 file: pycnn "
                               f"writes those of Sequential models (save a functional model as "
                               f".keras or .pycnn)" if legacy or is_functional(model) else
                               f"cannot save model '{getattr(model, 'name', '?')}' "
                               f"({type(model).__name__}) to a Keras file: pycnn writes Keras "
                               f"files of Sequential and functional models (save a subclassed "
                               f"model as .pycnn)")
    plan = _plan(model, "Keras")
    first = plan[0]
    dtype = first.config.get("dtype", "float32")
    batch_shape = [None, *first.in_shape]
    layers = [{"class_name": "InputLayer",
               "config": {"batch_shape": batch_shape, "dtype": dtype, "sparse": False,
                          "ragged": False, "name": "input_layer", "optional": False}}]
    if not legacy:
        layers[0].update(module="keras.layers", registered_name=None)
    for spec in plan:
        kind, config = _keras_layer_config(spec)
        layers.append(_layer_entry(kind, config, spec.in_shape, legacy))
    config = {"name": model.name, "trainable": True, "dtype": _policy(dtype),
              "layers": layers, "build_input_shape": batch_shape}
    top = {"class_name": "Sequential", "config": config}
    if not legacy:
        top = {"module": "keras", **top, "registered_name": None,
               "build_config": {"input_shape": batch_shape}}
    return top, plan


def _slot_order(optimizer, n):
    """(trainable weight index, pycnn slot name) of each Keras optimizer variable after
    iterations and learning_rate, in Keras' order (Adam interleaves momentum and velocity per
    weight, then the amsgrad maxima; RMSprop lists each kind for all weights in turn)."""
    kind = type(optimizer).__name__
    if kind == "Adam":
        order = [(i, slot) for i in range(n) for slot in ("m", "v")]
        return order + ([(i, "vhat") for i in range(n)] if optimizer.amsgrad else [])
    if kind == "SGD":
        return [(i, "momentum") for i in range(n)] if optimizer.momentum != 0 else []
    if kind == "RMSprop":
        names = ["velocity"] + (["momentum"] if optimizer.momentum > 0 else []) + (
            ["average_gradient"] if optimizer.centered else [])
        return [(i, slot) for slot in names for i in range(n)]
    return None


def _write_state(h5, plan, model):
    """Keras 3's weights file: layers/<path>/vars/<i>, vars/, and optimizer/vars/ (iterations,
    learning rate, then the slot arrays in Keras' order) when the model is compiled."""
    for path, spec in zip(_state_paths([s.kind for s in plan]), plan):
        group = h5.create_group(path).create_group("vars")
        group.attrs["name"] = spec.name
        for i, w in enumerate(spec.weights):
            group.create_dataset(str(i), data=w)
    h5.create_group("vars").attrs["name"] = model.name
    optimizer = model.optimizer if getattr(model, "compiled", False) else None
    trainable = model.trainable_weights
    order = None if optimizer is None else _slot_order(optimizer, len(trainable))
    if order is None:
        return
    group = h5.create_group("optimizer").create_group("vars")
    group.attrs["name"] = type(optimizer).__name__.lower()
    group.create_dataset("0", data=_np.asarray(optimizer.iterations, _np.int64))
    group.create_dataset("1", data=_np.asarray(optimizer.learning_rate, _np.float32))
    for k, (i, slot) in enumerate(order, start=2):
        value = optimizer.get_slots(trainable[i]).get(slot)
        group.create_dataset(str(k), data=_np.zeros_like(_np.asarray(trainable[i]))
                             if value is None else value)


def _read_optimizer_state(h5, model, where):
    """Keras' optimizer variables into the compiled model's optimizer: iterations and, when
    Keras had built its optimizer (it had trained), every slot array, each checked first."""
    optimizer = model.optimizer
    trainable = model.trainable_weights
    order = _slot_order(optimizer, len(trainable))
    if order is None or "optimizer/vars" not in h5:
        return
    group = h5["optimizer/vars"]
    if len(group) not in (2, 2 + len(order)):
        raise where.error(f"{len(group)} optimizer variables; a {type(optimizer).__name__} of "
                          f"this model has 2 (not yet built) or {2 + len(order)}")
    iterations = group["0"]
    if iterations.shape != () or iterations.dtype.kind not in "iu":
        raise where.error("the iteration count is not an integer scalar")
    slots = [{} for _ in trainable]
    for k, (i, slot) in enumerate(order, start=2):
        if len(group) > 2:
            slots[i][slot] = _check_and_read(group[str(k)], _np.asarray(trainable[i]),
                                             where.at(f"{where.entry}/{k}"))
    state = {"iterations": max(int(iterations[()]), 0), "slots": slots}
    optimizer.set_state(trainable, state)


def _h5_bytes(write):
    h5py = _h5py()
    buffer = _io.BytesIO()
    with h5py.File(buffer, "w") as h5:
        write(h5)
    return buffer.getvalue()


def save_keras(model, filepath):
    """Writes model as a Keras 3 ``.keras`` file, atomically."""
    _h5py()
    config, plan = _model_config(model)
    compile_config = _keras_compile_config(model)
    if compile_config is not None:
        config["compile_config"] = compile_config
    weights = _h5_bytes(lambda h5: _write_state(h5, plan, model))
    metadata = {"keras_version": KERAS_FORMAT_VERSION,
                "date_saved": _datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S")}

    def write(f):
        with _zipfile.ZipFile(f, "w", compression=_zipfile.ZIP_STORED) as archive:
            archive.writestr(METADATA, _json.dumps(metadata))
            archive.writestr(CONFIG, _json.dumps(config))
            archive.writestr(WEIGHTS, weights)
    saving.atomic_write(filepath, write)


def save_weights_h5(model, filepath):
    """Writes the weights as Keras 3's ``.weights.h5`` (keras_model.load_weights reads it)."""
    _, plan = _model_config(model)
    data = _h5_bytes(lambda h5: _write_state(h5, plan, model))
    saving.atomic_write(filepath, lambda f: f.write(data))


def _write_legacy(h5, model, plan, include_config):
    """Keras' legacy HDF5 layout (legacy_h5_format.save_model_to_hdf5)."""
    if include_config:
        config, _ = _model_config(model, legacy=True)
        h5.attrs["model_config"] = _json.dumps(config).encode("utf8")
        compile_config = _keras_compile_config(model)
        if compile_config is not None:
            training = {k: v for k, v in compile_config.items() if k != "optimizer"}
            training["optimizer_config"] = {"class_name": compile_config["optimizer"][
                "class_name"], "config": compile_config["optimizer"]["config"]}
            h5.attrs["training_config"] = _json.dumps(training).encode("utf8")
        h5.attrs["backend"] = b"tensorflow"
        h5.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
        group = h5.create_group("model_weights")
    else:
        group = h5
    names = [spec.name for spec in plan]
    group.attrs["layer_names"] = _np.array([n.encode("utf8") for n in names])
    group.attrs["backend"] = b"tensorflow"
    group.attrs["keras_version"] = KERAS_FORMAT_VERSION.encode("utf8")
    for spec in sorted(plan, key=lambda s: s.name):
        layer = group.create_group(spec.name)
        # each weight's own last name: kernel, bias; depthwise_kernel, pointwise_kernel, ...
        weight_names = [f"{model.name}/{spec.name}/{t.name.rsplit('/', 1)[-1]}".encode("utf8")
                        for t in spec.layer.weights[:len(spec.weights)]]
        layer.attrs["weight_names"] = _np.array(weight_names) if weight_names else _np.array([])
        for name, w in zip(weight_names, spec.weights):
            layer.create_dataset(name.decode("utf8"), data=w)
    group.create_group("top_level_model_weights").attrs["weight_names"] = _np.array([])


def save_h5(model, filepath, weights_only=False):
    """Writes Keras' legacy HDF5 model file (or, weights_only, its weights file)."""
    _, plan = _model_config(model, legacy=True)
    data = _h5_bytes(lambda h5: _write_legacy(h5, model, plan, not weights_only))
    saving.atomic_write(filepath, lambda f: f.write(data))


# ---- Keras config -> pycnn ----------------------------------------------------------------
# The Keras layers pycnn reads: a table (pycnn.interop.keras.FROM_KINDS), never a lookup by
# name in a module. Their configs map through pycnn.interop.keras.pycnn_configs, the same
# code from_keras runs on live Keras layers; with them the layers that carry their own
# Keras mapping (pycnn.interop.plan.layer_hook).
def _keras_layers():
    from .interop.keras import FROM_KINDS
    return FROM_KINDS | _hooked_kinds("_from_keras_config")


class _Where:
    """What an error names: the file and the entry."""

    def __init__(self, path, entry):
        self.path, self.entry = path, entry

    def error(self, message):
        return ValueError(f"{self.path}: {self.entry}: {message}")

    def at(self, entry):
        return _Where(self.path, entry)

    def run(self, fn, *args):
        """fn(*args), with whatever a hostile config makes it raise as a ValueError naming
        the file and the entry."""
        try:
            return fn(*args)
        except saving._CONFIG_ERRORS as e:
            if isinstance(e, ValueError) and self.path in str(e):
                raise
            raise self.error(f"not a config pycnn can use ({type(e).__name__}: {e})") from e


def _dtype_name(value, where):
    if isinstance(value, dict):
        value = (value.get("config") or {}).get("name")
    return "float32" if value is None else value


def _pycnn_configs(kind, c, where):
    """pycnn (class name, config) pairs for one Keras layer config (two when Keras' leaky
    relu activation splits off into a LeakyReLU layer)."""
    from .interop.keras import pycnn_configs
    if kind == "Lambda":
        raise where.error("a Lambda layer holds Python code; pycnn never runs code from a "
                          "file (safe_mode or not): rebuild that part of the model in pycnn")
    if kind not in _keras_layers():
        raise where.error(f"Keras layer class {kind!r} has no pycnn counterpart (pycnn reads "
                          f"{', '.join(sorted(_keras_layers()))})")
    if not isinstance(c, dict) or not isinstance(c.get("name"), str):
        raise where.error(f"the {kind} layer's config is not a dict with a name")
    try:
        return pycnn_configs(kind, c, _dtype_name(c.get("dtype"), where), f"layer {c['name']!r}")
    except _ConversionError as e:
        raise where.error(str(e)) from None
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as e:
        raise where.error(f"the {kind} layer's config is not Keras' ({type(e).__name__}: "
                          f"{e})") from None


def _input_shape(config, where):
    """The batch shape a Keras Sequential config declares (InputLayer or build_input_shape)."""
    layers = config.get("layers")
    shape = None
    if layers and isinstance(layers[0], dict) and layers[0].get("class_name") == "InputLayer":
        c = layers[0].get("config") or {}
        shape = c.get("batch_shape") or c.get("batch_input_shape")
    shape = shape or config.get("build_input_shape")
    if (not isinstance(shape, list) or not shape or len(shape) > 8
            or not all(d is None or (type(d) is int and d >= 0) for d in shape[1:])):
        raise where.error(f"the model's input shape {shape!r} is missing or not a batch shape")
    return tuple(shape[1:])


def _build_model(config, where):
    """A pycnn Sequential from Keras' model config, and the weighted layers' order: a list of
    (pycnn layer, number of Keras layers before it) for the Keras layers that hold weights."""
    from .models import Sequential
    if isinstance(config, dict) and config.get("class_name") in ("Functional", "Model"):
        return _build_functional(config, where)
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        kind = config.get("class_name") if isinstance(config, dict) else type(config).__name__
        raise where.error(f"model class {kind!r}: pycnn reads Keras Sequential and "
                          f"functional models")
    inner = config.get("config")
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise where.error("the Sequential config has no layer list")
    input_shape = _input_shape(inner, where)
    entries = [e for e in inner["layers"]
               if not (isinstance(e, dict) and e.get("class_name") == "InputLayer")]
    pieces = []
    for i, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise where.error(f"layers[{i}] is not a layer entry")
        pieces.append((entry.get("class_name"),
                       _pycnn_configs(entry.get("class_name"), entry.get("config"),
                                      where.at(f"{where.entry}: layers[{i}]"))))
    model = Sequential(name=inner.get("name") if isinstance(inner.get("name"), str) else None)
    keras_layers = []
    for kind, configs in pieces:
        first = None
        for pycnn_kind, c in configs:
            try:
                if not model.layers:
                    c = {**c, "input_shape": input_shape}
                layer = saving._resolve_class("layer", pycnn_kind).from_config(c)
                model.add(layer)
            except saving._CONFIG_ERRORS as e:
                if isinstance(e, ValueError) and where.path in str(e):
                    raise
                raise where.error(f"layer {c.get('name')!r} cannot be built "
                                  f"({type(e).__name__}: {e})") from e
            first = first or layer
        keras_layers.append((kind, first))
    if not model.built:
        model.build((None,) + input_shape)
    return model, keras_layers


def _check_tensor_refs(value, where, depth=0):
    """A node argument: a Keras tensor reference or a (short, shallow) list of them."""
    if isinstance(value, dict) and value.get("class_name") == "__keras_tensor__":
        history = (value.get("config") or {}).get("keras_history")
        if not (isinstance(history, list) and len(history) == 3 and isinstance(history[0], str)
                and all(type(k) is int and k >= 0 for k in history[1:])):
            raise where.error(f"keras_history {history!r} is not [layer name, node, tensor]")
        return
    if isinstance(value, list) and depth == 0:
        for v in value:
            _check_tensor_refs(v, where, 1)
        return
    raise where.error(f"a node argument {value!r:.80} is not a Keras tensor or a list of them")


def _build_functional(config, where):
    """A pycnn functional model from Keras' Functional config, and its layers in the
    config's (Keras' model) order as (Keras class name, pycnn layer)."""
    from .interop.graph import MERGE_KINDS
    from .models.functional import Functional
    inner = config.get("config")
    if not isinstance(inner, dict) or not isinstance(inner.get("layers"), list):
        raise where.error("the Functional config has no layer list")
    entries, kinds = [], []
    for i, entry in enumerate(inner["layers"]):
        here = where.at(f"{where.entry}: layers[{i}]")
        if not isinstance(entry, dict) or not isinstance(entry.get("config"), dict):
            raise here.error("not a layer entry")
        kind, c = entry.get("class_name"), entry["config"]
        nodes = entry.get("inbound_nodes") or []
        if not isinstance(nodes, list):
            raise here.error("inbound_nodes is not a list")
        for node in nodes:
            args = node.get("args") if isinstance(node, dict) else None
            kwargs = node.get("kwargs") or {} if isinstance(node, dict) else {}
            if not isinstance(args, list) or len(args) != 1 or not isinstance(kwargs, dict):
                raise here.error("a node is not {'args': [tensors], 'kwargs': {}}")
            if any(v is not None for v in kwargs.values()):
                raise here.error(f"the {kind} layer is called with keyword arguments "
                                 f"{sorted(kwargs)}; pycnn reads calls on tensors only")
            _check_tensor_refs(args[0], here)
        nodes = [{"args": node["args"], "kwargs": {}} for node in nodes]
        if kind == "InputLayer":
            shape = c.get("batch_shape") or c.get("batch_input_shape")
            if (not isinstance(shape, list) or not shape or len(shape) > 8 or not all(
                    d is None or (type(d) is int and d >= 0) for d in shape[1:])):
                raise here.error(f"the input shape {shape!r} is not a batch shape")
            pycnn_kind = kind
            pycnn_config = {"batch_shape": shape, "name": c.get("name"),
                            "dtype": _dtype_name(c.get("dtype"), here)}
        elif kind in MERGE_KINDS:
            pycnn_kind = kind
            pycnn_config = {"name": c.get("name"), "trainable": bool(c.get("trainable", True)),
                            "dtype": _dtype_name(c.get("dtype"), here)}
            if kind == "Concatenate":
                pycnn_config["axis"] = int(c.get("axis", -1))
        elif kind in ("Functional", "Sequential", "Model"):
            raise here.error(f"a nested {kind} model ({c.get('name')!r}): pycnn reads "
                             f"functional models of layers")
        else:
            pieces = _pycnn_configs(kind, c, here)
            if len(pieces) != 1:
                raise here.error(f"the {kind} layer {c.get('name')!r} becomes "
                                 f"{len(pieces)} pycnn layers (its leaky_relu activation); "
                                 f"pycnn reads that in Sequential models only")
            pycnn_kind, pycnn_config = pieces[0]
        if not isinstance(pycnn_config.get("name"), str):
            raise here.error(f"the {kind} layer has no name")
        entries.append({"class_name": pycnn_kind, "config": pycnn_config,
                        "name": pycnn_config["name"], "inbound_nodes": nodes})
        kinds.append(kind)
    own = {"name": inner.get("name") if isinstance(inner.get("name"), str) else None,
           "trainable": bool(inner.get("trainable", True)), "layers": entries,
           "input_layers": inner.get("input_layers"),
           "output_layers": inner.get("output_layers")}
    try:
        model = Functional.from_config(own)
    except saving._CONFIG_ERRORS as e:
        raise where.error(f"the functional graph cannot be built ({type(e).__name__}: "
                          f"{e})") from e
    by_name = {layer.name: layer for layer in model._graph.layers}
    missing = [e["name"] for e in entries if e["name"] not in by_name]
    if missing:
        raise where.error(f"layers {missing} are not part of the graph from the inputs to "
                          f"the outputs")
    return model, [(kind, by_name[e["name"]]) for kind, e in zip(kinds, entries)]


def _compile_from_keras(model, config, custom_objects, where):
    """Compiles model as Keras' compile_config says, when pycnn has what it names."""
    from . import optimizers
    if not isinstance(config, dict):
        return
    opt = config.get("optimizer") or config.get("optimizer_config")
    loss = config.get("loss")
    if isinstance(opt, dict):
        kind = opt.get("class_name")
        if kind not in _KERAS_OPTIMIZERS:
            raise where.error(f"optimizer {kind!r} has no pycnn counterpart; load with "
                              f"compile=False")
        keys = _KERAS_OPTIMIZERS[kind] + ("clipnorm", "clipvalue", "global_clipnorm")
        oc = opt.get("config") if isinstance(opt.get("config"), dict) else {}
        opt = optimizers.deserialize({"class_name": kind,
                                      "config": {k: oc[k] for k in keys if k in oc}})
    else:
        opt = "rmsprop"
    if isinstance(loss, dict):
        name = _snake(str(loss.get("class_name")))
        loss = name if not (loss.get("config") or {}).get("from_logits") else None
    if loss is not None:
        loss = saving._resolve_name("loss", loss, custom_objects, where.path + ": " + where.entry)
    metrics = config.get("metrics") or []
    if not isinstance(metrics, list):
        raise where.error("metrics is not a list")
    metrics = [m if m in ("accuracy", "acc") else
               saving._resolve_name("metric", m, custom_objects, f"{where.path}: {where.entry}")
               for m in metrics if isinstance(m, (str, dict)) and not isinstance(m, dict)]
    model.compile(optimizer=opt, loss=loss, metrics=metrics)


def _check_and_read(dataset, expected, where):
    """The dataset's array, once its shape and dtype are the weight's (nothing read before);
    integers are read as the weight's float dtype (Keras keeps Normalization's count in int32)."""
    shape, dtype = tuple(expected.shape), expected.dtype
    got_dtype = dataset.dtype
    if tuple(dataset.shape) != shape or got_dtype.kind not in "fiu" or \
            got_dtype.itemsize not in ((4, 8) if got_dtype.kind == "f" else (1, 2, 4, 8)):
        raise where.error(f"holds {got_dtype} {tuple(dataset.shape)}, the architecture needs "
                          f"{dtype} {shape}")
    array = _np.empty(shape, dtype=got_dtype)
    dataset.read_direct(array) if array.size else None
    return array.astype(dtype, copy=False)


def _h5_errors():
    """What h5py raises on a damaged file (its own errors derive from these)."""
    return (OSError, KeyError, ValueError, RuntimeError, TypeError, AttributeError)


def _read_state(h5, model, keras_layers, where):
    """Keras 3 weights (layers/<path>/vars/<i>) into model's layers, every dataset checked
    before any layer is set."""
    paths = _state_paths([kind for kind, _ in keras_layers])
    values = []
    for path, (kind, layer) in zip(paths, keras_layers):
        expected = layer.get_weights()
        here = where.at(f"{where.entry}: {path}/vars")
        try:
            group = h5[path + "/vars"] if expected or path + "/vars" in h5 else None
        except _h5_errors() as e:
            raise here.error(f"missing or unreadable ({type(e).__name__}: {e})") from None
        count = len(group) if group is not None else 0
        if count != len(expected):
            raise here.error(f"holds {count} arrays, the {kind} layer {layer.name!r} has "
                             f"{len(expected)}")
        values.append([])
        for i, w in enumerate(expected):
            try:
                dataset = group[str(i)]
                values[-1].append(_check_and_read(dataset, w, here.at(f"{here.entry}/{i}")))
            except _h5_errors() as e:
                if isinstance(e, ValueError) and where.path in str(e):
                    raise
                raise here.error(f"array {i} unreadable ({type(e).__name__}: {e})") from None
    for (kind, layer), arrays in zip(keras_layers, values):
        if arrays:
            layer.set_weights(arrays)


def _weights_budget(model):
    """The most bytes a weights file of this architecture can need: its weights, up to three
    optimizer slots of each (Adam with amsgrad, centered RMSprop with momentum: the most any
    Keras optimizer keeps), and the HDF5 structure."""
    total = sum(int(_np.asarray(w).nbytes) for w in model.get_weights())
    return 4 * total + _H5_OVERHEAD + _H5_PER_LAYER * len(model.layers)


def load_keras(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The pycnn model a ``.keras`` file holds (written by Keras 3 or by pycnn)."""
    h5py = _h5py()
    with saving._Archive(filepath, what="Keras file") as archive:
        path = archive.path
        try:
            data = archive.read_bytes(CONFIG, saving.MAX_MANIFEST_BYTES)
        except KeyError:
            raise ValueError(f"{path}: a zip archive but not a Keras file (no {CONFIG})") \
                from None
        config = saving.parse_json(data, path, CONFIG, what="Keras file")
        where = _Where(path, CONFIG)
        model, keras_layers = where.run(_build_model, config, where)
        if compile and isinstance(config, dict) and config.get("compile_config"):
            here = where.at(f"{CONFIG}: compile_config")
            here.run(_compile_from_keras, model, config["compile_config"], custom_objects, here)
        archive.budget = _weights_budget(model)
        try:
            weights = archive.read_bytes(WEIGHTS, archive.budget)
        except KeyError:
            raise ValueError(f"{path}: a Keras file without {WEIGHTS} (saved with another "
                             f"weights format?)") from None
        try:
            h5 = h5py.File(_io.BytesIO(weights), "r")
        except _h5_errors() as e:
            raise ValueError(f"{path}: corrupted Keras file ({WEIGHTS}: {e})") from None
        with h5:
            _read_state(h5, model, keras_layers, _Where(path, WEIGHTS))
            if model.compiled:
                _read_optimizer_state(h5, model, _Where(path, f"{WEIGHTS}: optimizer/vars"))
    return model


def _open_h5(filepath, budget=None):
    h5py = _h5py()
    path = _os.fspath(filepath)
    if budget is not None and _os.path.getsize(path) > budget:
        raise ValueError(f"{path}: {_os.path.getsize(path)} bytes, more than the {budget} the "
                         f"model's weights and the HDF5 structure around them need")
    try:
        return path, h5py.File(path, "r")
    except FileNotFoundError:
        raise
    except _h5_errors() as e:
        raise ValueError(f"{path}: not an HDF5 file, or truncated ({e})") from None


def _attr_text(group, name, where):
    value = group.attrs.get(name)
    if value is None:
        return None
    if isinstance(value, bytes):
        value = value.decode("utf8", "replace")
    if not isinstance(value, str):
        raise where.error(f"attribute {name} is not text")
    return value


def _attr_list(group, name):
    """An attribute list as Keras writes it (chunked into name0, name1, ... when large)."""
    if name in group.attrs:
        chunks = [group.attrs[name]]
    else:
        chunks, i = [], 0
        while f"{name}{i}" in group.attrs:
            chunks.append(group.attrs[f"{name}{i}"])
            i += 1
    return [v.decode("utf8") if isinstance(v, bytes) else str(v)
            for chunk in chunks for v in _np.atleast_1d(chunk)]


def _read_legacy_weights(group, model, keras_layers, where):
    """Legacy weights (model_weights/<layer>/... listed in weight_names) into model."""
    weighted = [(kind, layer) for kind, layer in keras_layers if layer.get_weights()]
    names = []
    for name in _attr_list(group, "layer_names"):
        if name in group and _attr_list(group[name], "weight_names"):
            names.append(name)
    if len(names) != len(weighted):
        raise where.error(f"{len(names)} layers with weights, the architecture has "
                          f"{len(weighted)}")
    values = []
    for name, (kind, layer) in zip(names, weighted):
        expected = layer.get_weights()
        here = where.at(f"{where.entry}/{name}")
        weight_names = _attr_list(group[name], "weight_names")
        if len(weight_names) != len(expected):
            raise here.error(f"lists {len(weight_names)} weights, the {kind} layer "
                             f"{layer.name!r} has {len(expected)}")
        for weight_name, w in zip(weight_names, expected):
            try:
                values.append(_check_and_read(group[name][weight_name], w,
                                              here.at(f"{here.entry}/{weight_name}")))
            except _h5_errors() as e:
                if isinstance(e, ValueError) and where.path in str(e):
                    raise
                raise here.error(f"weight {weight_name!r} unreadable ({type(e).__name__}: "
                                 f"{e})") from None
    model.set_weights(values)


def load_h5(filepath, custom_objects=None, compile=True, safe_mode=True):
    """The pycnn model a legacy Keras ``.h5`` model file holds."""
    path, h5 = _open_h5(filepath)
    with h5:
        where = _Where(path, "model_config")
        try:
            text = _attr_text(h5, "model_config", where)
        except _h5_errors() as e:
            raise where.error(f"unreadable ({e})") from None
        if text is None:
            raise ValueError(f"{path}: an HDF5 file without a model_config (a weights file? "
                             f"build the model and call load_weights)")
        config = saving.parse_json(text.encode("utf8"), path, "model_config",
                                   what="Keras file")
        model, keras_layers = where.run(_build_model, config, where)
        if _os.path.getsize(path) > _weights_budget(model):
            raise ValueError(f"{path}: {_os.path.getsize(path)} bytes, more than the model's "
                             f"weights and the HDF5 structure around them need")
        if compile:
            training = _attr_text(h5, "training_config", where.at("training_config"))
            if training:
                here = where.at("training_config")
                here.run(_compile_from_keras, model, saving.parse_json(
                    training.encode("utf8"), path, "training_config", what="Keras file"),
                    custom_objects, here)
        try:
            group = h5["model_weights"]
        except _h5_errors():
            raise ValueError(f"{path}: corrupted Keras file (no model_weights)") from None
        _read_legacy_weights(group, model, keras_layers, _Where(path, "model_weights"))
    return model


def load_weights_h5(model, filepath):
    """Reads Keras weights into model: ``.weights.h5`` (Keras 3) or a legacy ``.h5``."""
    if not model.built:
        raise ValueError(f"load_weights: build the model {model.name!r} first (give the "
                         f"first layer an input_shape, or call build())")
    from .interop.graph import is_functional
    functional = is_functional(model)
    if functional:              # Keras' layers of the graph, InputLayers and merges included
        _, plan = _functional_config(model)
        keras_layers = [(spec.kind, layer) for spec, layer in zip(plan, model._graph.layers)]
    else:
        _plan(model, "Keras")   # the layers must be ones Keras has
        keras_layers = [(type(layer).__name__, layer) for layer in model.layers]
    path, h5 = _open_h5(filepath, _weights_budget(model))
    with h5:
        if functional and not ("layers" in h5 or "vars" in h5):
            raise ValueError(f"{path}: not a Keras 3 weights file (layers/...); pycnn reads "
                             f"legacy .h5 weights into Sequential models only")
        if "layers" in h5 or "vars" in h5:
            _read_state(h5, model, keras_layers, _Where(path, "weights"))
            if getattr(model, "compiled", False):
                _read_optimizer_state(h5, model, _Where(path, "optimizer/vars"))
        else:
            group = h5["model_weights"] if "model_weights" in h5 else h5
            _read_legacy_weights(group, model, keras_layers, _Where(path, "model_weights"))
