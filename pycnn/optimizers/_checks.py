"""Argument checks shared by the optimizers and the schedules: each names the class, the
argument and the bad value."""

__all__ = ["real", "positive", "non_negative", "unit_interval", "optional"]


def real(name, value, cls):
    if isinstance(value, (str, bytes, bool)) or value is None:
        raise TypeError(f"{cls}: {name} must be a number, got {value!r}")
    try:
        return float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{cls}: {name} must be a number, got {type(value).__name__}") from None


def positive(name, value, cls):
    value = real(name, value, cls)
    if not value > 0:
        raise ValueError(f"{cls}: {name} must be > 0, got {value}")
    return value


def non_negative(name, value, cls):
    value = real(name, value, cls)
    if not value >= 0:
        raise ValueError(f"{cls}: {name} must be >= 0, got {value}")
    return value


def unit_interval(name, value, cls, closed=False):
    value = real(name, value, cls)
    if not (0.0 <= value <= 1.0 if closed else 0.0 <= value < 1.0):
        raise ValueError(f"{cls}: {name} must be in [0, 1{']' if closed else ')'}, got {value}")
    return value


def optional(check, name, value, cls):
    return None if value is None else check(name, value, cls)
