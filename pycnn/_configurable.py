"""What Keras' configurable objects (initializers, regularizers, losses) share: rebuilding
from a config, a repr that shows it, and Keras' snake-case names."""
import re as _re


class Configurable:
    """Subclasses define ``get_config()``; ``from_config(get_config())`` makes an equal
    object and the repr shows the settings: ``L2(l2=0.01)``."""

    def get_config(self):
        raise NotImplementedError(f"{type(self).__name__} does not define get_config()")

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({args})"


def snake_case(name):
    """Keras' to_snake_case: 'CustomMSE' → 'custom_mse', 'GlorotUniform' → 'glorot_uniform'."""
    name = _re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return _re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()
