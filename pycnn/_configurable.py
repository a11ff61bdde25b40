"""What Keras' configurable objects (initializers, regularizers, losses) share: rebuilding
from a config, a repr that shows it, and Keras' snake-case names."""
import re as _re


class Configurable:
    """Subclasses define ``get_config()``; ``from_config(get_config())`` makes an equal
    object and the repr shows the settings: ``L2(l2=0.01)`` (all but those in ``_NOT_SHOWN``)."""

    _NOT_SHOWN = ()

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not define get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items()
                         if k not in self._NOT_SHOWN)
        return f"{type(self).__name__}({args})"


def deserialize_from(config, classes, custom_objects, where, kind, known):
    """The object a serialized dict (or a bare {'class_name', 'config'}) describes, its class
    looked up in ``classes`` and then ``custom_objects``; ``where`` and ``kind`` name the
    caller and what it makes in the messages, ``known`` lists what it knows."""
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"{where}: expected a dict with 'class_name', got {config!r}")
    classes = {**classes, **(custom_objects or {})}
    name = config["class_name"]
    if name not in classes:
        raise ValueError(f"{where}: unknown {kind} {name!r}; known: {known}")
    return classes[name].from_config(config.get("config") or {})


def snake_case(name):
    """Keras' to_snake_case: 'CustomMSE' → 'custom_mse', 'GlorotUniform' → 'glorot_uniform'."""
    name = _re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
