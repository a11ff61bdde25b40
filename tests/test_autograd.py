"""The graph of tensors: Backward(θ) = Σ over children, accumulation, freeing, limits."""
import gc

import numpy as np
import pytest

import pycnn


def test_tensor_with_two_children_gets_both_contributions():
    x = pycnn.tensor([3.0], requires_grad=True)
    (x * x).backward()                       # d(x²)/dx = 2x: x is both parents
    assert x.grad.numpy()[0] == 6.0


def test_diamond_and_three_children_gradcheck(rng):
    def diamond(x):
        a = pycnn.sigmoid(x)
        b = pycnn.exp(x) * 0.5
        return a * b + a

    def three_children(x):
        return pycnn.tanh(x) * x + pycnn.square(x) - x / 3.0

    assert pycnn.gradcheck(diamond, [rng.standard_normal((3, 4))])
    assert pycnn.gradcheck(three_children, [rng.standard_normal((3, 4))])


def test_three_children_sum_exactly():
    x = pycnn.tensor([2.0], dtype="float64", requires_grad=True)
    y = x * 3.0 + x * x + pycnn.exp(x)       # 3 + 2x + e^x
    y.backward()
    assert x.grad.numpy()[0] == pytest.approx(3 + 4 + np.exp(2.0))


def test_leaf_grad_accumulates_until_reset():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    for _ in range(3):
        (x * 2.0).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [6.0, 6.0])
    x.grad = None
    (x * 2.0).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [2.0, 2.0])


def test_second_backward_through_freed_graph_raises():
    x = pycnn.tensor([1.0], requires_grad=True)
    y = pycnn.exp(x) * 2.0
    y.backward()
    with pytest.raises(RuntimeError, match="already freed"):
        y.backward()


def test_retain_graph_allows_second_backward():
    x = pycnn.tensor([1.0], requires_grad=True)
    y = pycnn.exp(x)
    y.backward(retain_graph=True)
    y.backward()
    assert x.grad.numpy()[0] == pytest.approx(2 * np.e, rel=1e-6)


def test_backward_needs_grad_for_non_scalar():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    with pytest.raises(RuntimeError, match=r"shape \(2,\)"):
        (x * 2.0).backward()
    with pytest.raises(ValueError, match=r"grad has shape \(3,\) but the tensor has shape \(2,\)"):
        (x * 2.0).backward(np.ones(3))


def test_no_grad_records_nothing_and_detach_cuts():
    x = pycnn.tensor([1.0], requires_grad=True)
    with pycnn.no_grad():
        y = x * 2.0
    assert y.op is None and not y.requires_grad
    assert pycnn.is_grad_enabled()
    z = x.detach() * 2.0
    assert z.op is None and not z.requires_grad
    assert np.shares_memory(x.detach().numpy(), x.numpy())


def test_op_and_parents_record_the_graph():
    a = pycnn.tensor([1.0], requires_grad=True, name="a")
    b = pycnn.tensor([2.0])
    c = a * b
    assert c.op == "mul" and a.op is None
    assert c.parents[0] is a and c.parents[1] is b
    assert not c.is_leaf and a.is_leaf
    with pytest.raises(RuntimeError, match="leaf"):
        c.requires_grad = False


def test_chain_of_100000_ops_backpropagates():
    x = pycnn.tensor([1.0], dtype="float64", requires_grad=True)
    y = x
    for _ in range(100_000):
        y = y * 1.0
    y.backward()
    assert x.grad.numpy()[0] == 1.0


def test_dropping_a_chain_of_1000000_ops_does_not_crash():
    x = pycnn.tensor([1.0], requires_grad=True)
    y = x
    for _ in range(1_000_000):
        y = y + 0.0
    del y
    gc.collect()
    assert x.grad is None


def test_grad_of_non_leaf_is_released_unless_retained():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    h = x * 3.0
    k = x * 4.0
    k.retain_grad()
    (h + k).backward(np.ones(2))
    assert h.grad is None
    np.testing.assert_array_equal(k.grad.numpy(), [1.0, 1.0])
    np.testing.assert_array_equal(x.grad.numpy(), [7.0, 7.0])


def test_gradcheck_reports_a_wrong_gradient():
    # detach hides a dependency from autograd, so the analytic gradient is wrong
    with pytest.raises(pycnn.GradcheckError, match=r"input 0 \(shape \(3,\)\), element"):
        pycnn.gradcheck(lambda a: a * a.detach(), [np.array([1.0, 2.0, 3.0])])


def test_gradcheck_requires_float64():
    with pytest.raises(TypeError, match="float64"):
        pycnn.gradcheck(lambda a: a * 2.0, [pycnn.tensor([1.0, 2.0])])


def test_assigned_grad_is_copied_so_backward_never_writes_into_the_callers_array():
    x = pycnn.tensor([1.0, 2.0], requires_grad=True)
    mine = np.array([10.0, 10.0], dtype=np.float32)
    other = pycnn.tensor([5.0, 5.0])
    x.grad = mine
    (x * 2.0).backward(np.ones(2))
    np.testing.assert_array_equal(x.grad.numpy(), [12.0, 12.0])
    np.testing.assert_array_equal(mine, [10.0, 10.0])
    x.grad = other
    (x * 2.0).backward(np.ones(2))
    np.testing.assert_array_equal(other.numpy(), [5.0, 5.0])


def test_backward_never_writes_into_the_seed_and_kept_gradients_accumulate():
    seed = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    before = seed.copy()
    x = pycnn.tensor(np.zeros((2, 2)), requires_grad=True)
    for _ in range(2):                      # a fresh graph each time: the root's gradient
        (x * 2.0).backward(seed)            # is dropped after its backward
    np.testing.assert_array_equal(x.grad.numpy(), 4 * before)
    y = x * 3.0
    y.retain_grad()                         # kept: later backwards add into it
    y.backward(seed, retain_graph=True)
    y.backward(seed)
    np.testing.assert_array_equal(y.grad.numpy(), 2 * before)
    leaf = pycnn.tensor(np.zeros((2, 2)), requires_grad=True)
    leaf.backward(seed)                     # a leaf root keeps its gradient
    leaf.backward(seed)
    np.testing.assert_array_equal(leaf.grad.numpy(), 2 * before)
    with pycnn.keep_grads():
        z = x * 1.0
        z.backward(seed)
        z.backward(seed)
    np.testing.assert_array_equal(z.grad.numpy(), 2 * before)
    np.testing.assert_array_equal(seed, before)


def _two_backwards(lib, retain, keep):
    """x.grad and the kept gradient (y's when retain == 'root', else t's) after two
    backward calls through y = 3 · tanh(x) @ w, in pycnn or torch (lib)."""
    rng = np.random.default_rng(3)
    x0, w0, s0 = (rng.standard_normal(s) for s in ((3, 4), (4, 2), (3, 2)))
    if lib == "torch":
        import torch
        x = torch.tensor(x0, requires_grad=True)
        w, seed = torch.tensor(w0), torch.tensor(s0)
    else:
        x, w, seed = pycnn.tensor(x0, requires_grad=True), pycnn.tensor(w0), s0
    with keep():
        t = x.tanh()
        y = (t @ w) * 3.0
        kept = y if retain == "root" else t
        if retain is not None:
            kept.retain_grad()
        y.backward(seed, retain_graph=True)
        y.backward(seed)
    as_array = (lambda g: g.detach().numpy()) if lib == "torch" else (lambda g: g.numpy())
    return as_array(x.grad), as_array(kept.grad)


@pytest.mark.parametrize("retain", ["root", "inner", "keep_grads"])
def test_a_second_backward_sends_on_only_its_own_gradient_as_torch_does(retain):
    """Kept gradients of non-leaves add up over backward calls, but each backward sends
    on only its own ∂E/∂t, as torch's retain_grad does: x.grad after two calls is twice
    one call's, whichever gradient is kept (keep_grads keeps them all)."""
    pytest.importorskip("torch", reason="the oracle: pip install torch==2.13.0")
    import contextlib
    if retain == "keep_grads":
        ours = _two_backwards("pycnn", None, pycnn.keep_grads)
        theirs = _two_backwards("torch", "inner", contextlib.nullcontext)
    else:
        ours = _two_backwards("pycnn", retain, contextlib.nullcontext)
        theirs = _two_backwards("torch", retain, contextlib.nullcontext)
    for a, b in zip(ours, theirs):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_seed_that_is_a_gradient_the_backward_adds_into_is_read_before_it_changes():
    x = pycnn.tensor(np.zeros((2, 2)), requires_grad=True)
    x.grad = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    g = x.grad.numpy()                      # x.grad's own memory
    x.transpose(1, 0).backward(g)           # x.grad += gᵀ, g read as it was
    np.testing.assert_array_equal(x.grad.numpy(), [[2.0, 5.0], [5.0, 8.0]])


# ---- every reduction, structure op and matrix product of the op registry (ops.def) --------

def _registry_ops(*families):
    return [op["name"] for op in pycnn._core.op_registry() if op["family"] in families]


CORE_STRUCTURE_CASES = {                 # op name -> (fn, input shapes)
    "sum": (lambda x: x.sum(axis=(0, 2)), [(2, 3, 2)]),
    "mean": (lambda x: pycnn.mean(x, axis=-1, keepdims=True), [(3, 4)]),
    "max": (lambda x: x.max(axis=0), [(4, 3)]),
    "reshape": (lambda x: x.reshape(3, -1), [(2, 3)]),
    "flatten": (pycnn.flatten, [(2, 2, 2)]),
    "transpose": (lambda x: x.transpose(2, 0, 1), [(2, 3, 4)]),
    "concat": (lambda a, b: pycnn.concat([a, b, a], axis=1), [(2, 1), (2, 3)]),
    "stack": (lambda a, b: pycnn.stack([b, a], axis=-1), [(2, 3), (2, 3)]),
    "getitem": (lambda x: x[1:, [0, 0, 2]], [(3, 4)]),
    "matmul": (lambda a, b: a @ b, [(2, 3, 4), (4, 2)]),
}


@pytest.mark.parametrize("name", _registry_ops("reduction", "shape", "matmul"))
def test_every_core_structure_op_records_itself_and_passes_gradcheck(name, rng):
    assert name in CORE_STRUCTURE_CASES, f"op {name!r} of ops.def has no gradcheck case"
    fn, shapes = CORE_STRUCTURE_CASES[name]
    xs = [rng.standard_normal(s) for s in shapes]
    out = fn(*[pycnn.tensor(x, requires_grad=True) for x in xs])
    assert out.op == name
    assert pycnn.gradcheck(fn, xs)
