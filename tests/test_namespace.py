"""The Keras namespace: `import pycnn as keras` finds Keras' top-level names, and every pycnn
module shows only its public API (no stdlib or NumPy modules, no names leaked by imports)."""
import importlib
import os
import pkgutil
import types

os.environ["KERAS_BACKEND"] = "torch"

import numpy as np
import pytest

import pycnn

PUBLIC_MODULES = sorted(m.name for m in pkgutil.walk_packages(pycnn.__path__, "pycnn.")
                        if not any(part.startswith("_") for part in m.name.split(".")))
KERAS_NAMES = ["Sequential", "layers", "models", "utils", "callbacks", "optimizers", "losses",
               "metrics", "initializers", "regularizers", "datasets", "ops", "random",
               "saving", "activations"]


def _import(name):
    """The module, or a skip when it needs an optional library (torch for
    pycnn.interop.torch_modules) that is not installed."""
    try:
        return importlib.import_module(name)
    except ImportError as e:
        pytest.skip(f"{name} needs an optional library: {e}")


def _is_pycnn_module(value):
    return isinstance(value, types.ModuleType) and value.__name__.split(".")[0] == "pycnn"


@pytest.mark.parametrize("name", ["pycnn"] + PUBLIC_MODULES)
def test_no_module_attribute_is_a_foreign_module(name):
    module = _import(name)
    foreign = {k: v.__name__ for k, v in vars(module).items()
               if not k.startswith("_") and isinstance(v, types.ModuleType) and
               not _is_pycnn_module(v)}
    assert foreign == {}, f"{name} exposes modules {foreign}; import them as _name"


@pytest.mark.parametrize("name", PUBLIC_MODULES)
def test_every_public_name_is_the_modules_own_or_exported(name):
    """A public name that came in by import (a class or function defined elsewhere) must be
    in __all__: otherwise dir() shows another module's internals. The files inside a
    subpackage (pycnn.interop.keras, ...) may share names with their siblings."""
    module = _import(name)
    exported = set(getattr(module, "__all__", ()))
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names missing attributes: {missing}"
    is_package = hasattr(module, "__path__")
    siblings = name.rsplit(".", 1)[0] + "." if name.count(".") >= 2 and not is_package \
        else None

    def shared(origin):
        return siblings is not None and origin.startswith(siblings)
    leaked = [k for k, v in vars(module).items()
              if not k.startswith("_") and k not in exported and not _is_pycnn_module(v)
              and getattr(v, "__module__", name) not in (name, None)
              and not shared(getattr(v, "__module__", ""))]
    if name == "pycnn.demo":        # a script: `python -m pycnn.demo`, not an API
        return
    assert leaked == [], f"{name} shows imported names {leaked}; add them to __all__ or import " \
                         f"them as _name"


def test_dir_of_layers_is_its_public_api():
    public = {n for n in dir(pycnn.layers) if not n.startswith("_")}
    assert public == set(pycnn.layers.__all__)
    assert not hasattr(pycnn.layers, "inspect")


@pytest.mark.parametrize("name", KERAS_NAMES)
def test_keras_top_level_names_exist(name):
    assert hasattr(pycnn, name)


def test_keras_modules_match_their_keras_namesakes():
    keras = pytest.importorskip("keras", reason="Keras 3 is optional")
    for ours, theirs in ((pycnn.regularizers, keras.regularizers),
                         (pycnn.initializers, keras.initializers),
                         (pycnn.ops, keras.ops), (pycnn.random, keras.random)):
        missing = [n for n in ours.__all__ if not hasattr(theirs, n)]
        assert missing == [], f"{ours.__name__} exports names Keras lacks: {missing}"
    for name in ("to_categorical", "normalize", "set_random_seed"):
        assert hasattr(keras.utils, name) and hasattr(pycnn.utils, name)


def test_import_pycnn_as_keras_runs_keras_code():
    """A few lines of Keras 3 code, as written, with only the import changed."""
    import pycnn as keras
    from pycnn import layers, ops
    keras.utils.set_random_seed(0)
    x = keras.random.uniform((64, 8), seed=1).numpy()
    y = keras.utils.to_categorical((x.sum(axis=1) > 4).astype(int), 2)
    model = keras.Sequential([
        layers.Dense(16, activation="relu", input_shape=(8,),
                     kernel_initializer=keras.initializers.HeNormal(seed=1)),
        layers.Dense(2, activation="softmax",
                     kernel_initializer=keras.initializers.GlorotUniform(seed=2)),
    ])
    model.compile(optimizer="adam", loss="categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(x, y, epochs=3, batch_size=16, verbose=0)
    assert len(history.history["loss"]) == 3
    probs = ops.convert_to_numpy(ops.softmax(ops.log(model.predict(x, verbose=0))))
    np.testing.assert_allclose(probs.sum(axis=-1), 1.0, rtol=1e-5)
    penalty = keras.regularizers.L2(0.01)(model.layers[0].kernel)
    assert penalty.item() > 0


def test_utils_normalize_matches_keras():
    keras = pytest.importorskip("keras", reason="Keras 3 is optional")
    x = np.array([[3.0, 4.0], [0.0, 0.0], [1.0, -1.0]])
    for order in (1, 2):
        np.testing.assert_allclose(pycnn.utils.normalize(x, -1, order),
                                   keras.utils.normalize(x, -1, order))
    # axis=0: Keras' NumPy path turns axis 0 into -1 (`axis or -1`) and fails to broadcast
    np.testing.assert_allclose(pycnn.utils.normalize(x, 0),
                               x / np.linalg.norm(x, axis=0, keepdims=True))
    t = pycnn.tensor(x[[0, 2]])
    np.testing.assert_allclose(pycnn.utils.normalize(t).numpy(),
                               keras.utils.normalize(x[[0, 2]]), rtol=1e-12)
    assert pycnn.gradcheck(pycnn.utils.normalize, [x[[0, 2]].copy()])
    assert pycnn.gradcheck(lambda a: pycnn.utils.normalize(a, order=1), [x[[0, 2]].copy()])
    with pytest.raises(ValueError, match="order must be a number >= 1"):
        pycnn.utils.normalize(t, order=0.5)


def test_set_random_seed_seeds_python_numpy_and_pycnn():
    import random
    pycnn.utils.set_random_seed(5)
    first = (random.random(), np.random.rand(), pycnn.random.normal((3,)).numpy(),
             pycnn._core.initialize("he_normal", (2, 2)))
    pycnn.utils.set_random_seed(5)
    second = (random.random(), np.random.rand(), pycnn.random.normal((3,)).numpy(),
              pycnn._core.initialize("he_normal", (2, 2)))
    for a, b in zip(first, second):
        np.testing.assert_array_equal(a, b)
    with pytest.raises(ValueError, match="seed must be an int"):
        pycnn.utils.set_random_seed(1.5)


def test_readme_keras_namespace_example_runs():
    """The README's `import pycnn as keras` block, executed as written."""
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    text = open(os.path.join(root, "README.md"), encoding="utf-8").read()
    section = text.split("## `import pycnn as keras`", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    scope = {}
    exec(compile(code, "README.md", "exec"), scope)
    assert tuple(scope["y"].shape) == (8, 4)
    assert scope["loss"].shape == () and scope["penalty"].item() > 0
