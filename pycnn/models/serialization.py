"""Classes by name, for configs and files: the registry, and models to and from JSON.

A class name in a config resolves ONLY through, in order: the ``custom_objects`` given to
the call, the ``custom_object_scope``\\ s entered, the classes registered with
``register_pycnn_serializable`` (alias ``register_keras_serializable``, Keras' name) or
put in ``get_custom_objects()``, and pycnn's own layers and models. Never ``getattr`` on a
module: a file cannot name an arbitrary attribute of pycnn.

    >>> @pycnn.saving.register_pycnn_serializable(package="my_package")
    ... class Scale(pycnn.layers.Layer): ...
    >>> Scale._registered_name
    'my_package>Scale'
"""
import json as _json

__all__ = ["register_pycnn_serializable", "register_keras_serializable", "get_custom_objects",
           "custom_object_scope", "get_registered_name", "get_registered_object",
           "serialize_layer", "deserialize_layer", "model_to_json", "model_from_json",
           "clone_model"]

_GLOBAL_CUSTOM_OBJECTS = {}
_SCOPES = []


def register_pycnn_serializable(package="Custom", name=None):
    """Decorator: registers a class (or function) as '<package>><name>' (name defaults to
    the class name) so that saved configs can name it."""
    def decorator(obj):
        key = f"{package}>{name or obj.__name__}"
        if not hasattr(obj, "get_config") and isinstance(obj, type):
            raise ValueError(f"register_pycnn_serializable: {obj.__name__} has no get_config()")
        _GLOBAL_CUSTOM_OBJECTS[key] = obj
        if isinstance(obj, type):
            obj._registered_name = key
        return obj
    return decorator


register_keras_serializable = register_pycnn_serializable


def get_custom_objects():
    """The global dict of registered objects (name -> class); may be edited directly."""
    return _GLOBAL_CUSTOM_OBJECTS


class custom_object_scope:
    """``with custom_object_scope({'Scale': Scale}):`` — those names resolve inside."""

    def __init__(self, *dicts):
        self.objects = {}
        for d in dicts:
            self.objects.update(d or {})

    def __enter__(self):
        _SCOPES.append(self.objects)
        return self

    def __exit__(self, *exc):
        _SCOPES.remove(self.objects)
        return False


def get_registered_name(obj):
    """'<package>><name>' for a registered class, else its name."""
    cls = obj if isinstance(obj, type) else type(obj)
    key = cls.__dict__.get("_registered_name")
    return key if key is not None and _GLOBAL_CUSTOM_OBJECTS.get(key) is cls else cls.__name__


def _builtin_classes():
    from .. import layers
    from .functional import Functional
    from .model import Model
    from .sequential import Sequential
    table = {name: getattr(layers, name) for name in layers.__all__
             if isinstance(getattr(layers, name), type)
             and issubclass(getattr(layers, name), layers.Layer)
             and getattr(layers, name) is not layers.Layer}     # the base builds nothing
    table.update({"Sequential": Sequential, "Functional": Functional, "Model": Model})
    return table


def get_registered_object(name, custom_objects=None, registered_name=None):
    """The class a config names, or None."""
    for table in [custom_objects or {}] + list(reversed(_SCOPES)) + [_GLOBAL_CUSTOM_OBJECTS]:
        for key in (registered_name, name):
            if key is not None and key in table:
                return table[key]
    return _builtin_classes().get(name)


def serialize_layer(layer):
    """{'module', 'class_name', 'config', 'registered_name'} (Keras 3's keys), plus the
    input shape a subclassed layer or model was built for ('build_config')."""
    cls = type(layer)
    builtin = _builtin_classes().get(cls.__name__) is cls
    entry = {"module": "pycnn.layers" if builtin else cls.__module__,
             "class_name": cls.__name__, "config": layer.get_config(),
             "registered_name": None if builtin else get_registered_name(cls)}
    shape = layer.__dict__.get("_build_input_shape")
    if shape is not None and getattr(cls, "_keras_build_config", True):
        entry["build_config"] = {"input_shape": _jsonable_shape(shape)}
    return entry


def _jsonable_shape(shape):
    if isinstance(shape, dict):
        return {k: _jsonable_shape(v) for k, v in shape.items()}
    if isinstance(shape, (list, tuple)) and shape and isinstance(shape[0], (list, tuple, dict)):
        return [_jsonable_shape(s) for s in shape]
    return None if shape is None else [None if d is None else int(d) for d in shape]


def _as_shape(spec):
    if isinstance(spec, dict):
        return {k: _as_shape(v) for k, v in spec.items()}
    if isinstance(spec, list) and spec and isinstance(spec[0], (list, dict)):
        return [_as_shape(s) for s in spec]
    return tuple(spec)


def deserialize_layer(entry, custom_objects=None, where="deserialize"):
    """The layer (or model) an entry of serialize_layer describes, with fresh weights."""
    if not isinstance(entry, dict) or not isinstance(entry.get("class_name"), str):
        raise ValueError(f"deserialize: expected {{'class_name': ..., 'config': ...}}, got "
                         f"{entry!r:.200}")
    name = entry["class_name"]
    cls = get_registered_object(name, custom_objects, entry.get("registered_name"))
    if cls is None:                 # pycnn.saving's message, naming the known classes
        from ..saving import _resolve_class
        _resolve_class("layer", name, custom_objects, where)
    config = entry.get("config") or {}
    from .model import Model
    if isinstance(cls, type) and issubclass(cls, Model) and \
            "custom_objects" in _from_config_params(cls):
        obj = cls.from_config(config, custom_objects=custom_objects)
    else:
        obj = cls.from_config(config)
    build = entry.get("build_config")
    if build and build.get("input_shape") is not None and not obj.built:
        shape = _as_shape(build["input_shape"])
        with custom_object_scope(custom_objects or {}):
            obj.build(shape)
            obj.built = True
        obj.__dict__["_build_input_shape"] = shape
    return obj


def _from_config_params(cls):
    import inspect
    try:
        return inspect.signature(cls.from_config).parameters
    except (TypeError, ValueError):
        return {}


def model_to_json(model, **kwargs):
    """The architecture as JSON: {'module', 'class_name', 'config', 'registered_name'}."""
    return _json.dumps(serialize_layer(model), **kwargs)


def model_from_json(json_string, custom_objects=None):
    """The model (fresh weights) that model.to_json() described."""
    try:
        entry = _json.loads(json_string)
    except (TypeError, _json.JSONDecodeError) as e:
        raise ValueError(f"model_from_json: not JSON ({e})") from None
    return deserialize_layer(entry, custom_objects)


def clone_model(model, input_tensors=None, clone_function=None):
    """A new model of the same architecture with fresh weights (Keras' clone_model): its
    layers are new layers made from each one's config."""
    if input_tensors is not None or clone_function is not None:
        raise ValueError("clone_model: input_tensors and clone_function are not supported")
    return deserialize_layer(serialize_layer(model))
