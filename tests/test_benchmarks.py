"""The benchmark suite measures what it says: its NumPy reference is a correct
network (finite differences), its harness reports medians, its report computes ratios."""
import numpy as np
import pytest

from benchmarks import harness, report, rows
from benchmarks import numpy_ref as ref
from pycnn.autograd import numerical_grad


def test_im2col_col2im_are_adjoint(rng):
    x = rng.standard_normal((2, 3, 5, 4))
    cols = ref.im2col(x, 3, 3, 1, 1)
    c = rng.standard_normal(cols.shape)
    # <im2col(x), c> == <x, col2im(c)>
    assert np.isclose(np.sum(cols * c), np.sum(x * ref.col2im(c, x.shape, 3, 3, 1, 1)))


def test_conv_matches_direct_convolution(rng):
    x = rng.standard_normal((2, 3, 5, 4))
    w = rng.standard_normal((4, 3, 3, 3))
    b = rng.standard_normal(4)
    out, _ = ref.conv_forward(x, w, b)
    xp = np.pad(x, ((0, 0), (0, 0), (1, 1), (1, 1)))
    direct = np.zeros_like(out)
    for i in range(5):
        for j in range(4):
            direct[:, :, i, j] = np.einsum("nchw,fchw->nf", xp[:, :, i:i + 3, j:j + 3], w) + b
    np.testing.assert_allclose(out, direct, rtol=1e-12, atol=1e-12)


def test_conv_backward_matches_finite_differences(rng):
    x = rng.standard_normal((2, 2, 4, 4))
    w = rng.standard_normal((3, 2, 3, 3))
    b = rng.standard_normal(3)
    dout = rng.standard_normal((2, 3, 4, 4))
    _, cache = ref.conv_forward(x, w, b)
    dx, dw, db = ref.conv_backward(dout, cache)
    loss = lambda: np.sum(ref.conv_forward(x, w, b)[0] * dout)   # noqa: E731
    for got, arr in ((dx, x), (dw, w), (db, b)):
        np.testing.assert_allclose(got, numerical_grad(loss, arr), rtol=1e-6, atol=1e-8)


def test_pool_and_affine_and_relu_backward(rng):
    x = rng.standard_normal((2, 3, 4, 6))
    dout = rng.standard_normal((2, 3, 2, 3))
    _, cache = ref.max_pool_forward(x)
    dx = ref.max_pool_backward(dout, cache)
    loss = lambda: np.sum(ref.max_pool_forward(x)[0] * dout)      # noqa: E731
    np.testing.assert_allclose(dx, numerical_grad(loss, x), rtol=1e-6, atol=1e-8)

    a, w, b = rng.standard_normal((3, 5)), rng.standard_normal((5, 4)), rng.standard_normal(4)
    dout = rng.standard_normal((3, 4))
    _, cache = ref.affine_forward(a, w, b)
    grads = ref.affine_backward(dout, cache)
    loss = lambda: np.sum(ref.affine_forward(a, w, b)[0] * dout)  # noqa: E731
    for got, arr in zip(grads, (a, w, b)):
        np.testing.assert_allclose(got, numerical_grad(loss, arr), rtol=1e-6, atol=1e-8)
    x = rng.standard_normal((4, 5))
    np.testing.assert_array_equal(ref.relu_backward(np.ones_like(x), x), (x > 0) * 1.0)


def test_softmax_loss_gradient(rng):
    z = rng.standard_normal((4, 5))
    y = np.array([0, 3, 4, 1])
    loss, dz = ref.softmax_loss(z, y)
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    assert np.isclose(loss, -np.mean(np.log(p[np.arange(4), y])))
    np.testing.assert_allclose(dz, numerical_grad(lambda: ref.softmax_loss(z, y)[0], z),
                               rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("Model, shape", [(ref.MLP, (8, 784)), (ref.CNN, (4, 1, 28, 28))])
def test_reference_models_learn(Model, shape, rng):
    """A few SGD steps on one batch lower its loss: the reference is a working network."""
    net = Model(dtype=np.float64)
    x, y = rng.random(shape), rng.integers(0, 10, shape[0])
    first = net.loss(x, y)[0]
    for _ in range(5):
        ref.sgd_epoch(net, x, y, batch_size=shape[0], lr=0.1)
    assert net.loss(x, y)[0] < first


def test_measure_reports_medians_per_callable():
    calls = []
    res = harness.measure({"a": lambda: calls.append(1), "b": lambda: None}, reps=5, warmup=1,
                          min_block=0.001)
    assert set(res) == {"a", "b"}
    assert len(res["a"]["reps"]) == 5 and res["a"]["median"] > 0
    assert res["a"]["cpu_median"] >= 0
    assert len(calls) >= 5 * res["a"]["calls"]


def test_machine_info_names_cpu_and_versions():
    info = harness.machine_info()
    assert info["cores"] >= 1 and info["cpu"] and info["numpy"] == np.__version__
    import pycnn
    assert info["pycnn_threads"]["default"] == pycnn.get_num_threads()
    assert all(lib["internal_api"] != "pycnn" for lib in info["blas"])   # not a BLAS


def _fake_results():
    layer = {"per_op": {"title": "per-op", "flops": 0.0, "missing": {},
                        "times": {"pycnn": 1.0, "torch": 4.0, "numpy_ref": 0.5}},
             "conv": {"title": "conv", "flops": 0.0, "missing": {},
                      "times": {"pycnn": 3.0, "torch": 4.0, "torch_cl": 2.0, "numpy_ref": 30.0},
                      "cpu_times": {"pycnn": 1.0, "torch": 3.0, "torch_cl": 2.0}},
             "pool": {"title": "pool", "flops": 0.0, "missing": {"pycnn": "not landed"},
                      "times": {"torch": 1.0, "numpy_ref": 9.0}}}
    gemm = {"g": {"title": "dense fwd", "flops": 2e9, "missing": {},
                  "times": {"pycnn": 0.02, "torch": 0.02, "numpy_matmul": 0.019}}}
    train = {"cnn/pycnn/1": {"epoch_s": 1.0, "peak_rss_mib": 100.0},
             "cnn/torch/1": {"epoch_s": 2.0, "peak_rss_mib": 300.0},
             "cnn/numpy_ref/1": {"epoch_s": 12.0, "peak_rss_mib": 120.0}}
    return {"machine": harness.machine_info(), "started": "t0", "finished": "t1",
            "threads": [1], "reps": 5, "train_reps": 5, "load_note": "busy",
            "in_process": {1: {"layers": layer, "gemm": gemm}}, "training": train}


def test_report_computes_ratios_and_targets():
    text = report.render(_fake_results())
    assert "| per-op | 1 | 1000.0 | 4000.0 | — | 500.0 | 0.25 | 2.00 | — |" in text
    # against the faster PyTorch layout (channels-last 2.0): 3.0 / 2.0
    assert "| conv | 1 | 3000.0 | 4000.0 | 2000.0 | 30000.0 | 1.50 | 0.10 | 0.50 |" in text
    assert "n/a¹" in text and "**Load:** busy" in text
    assert "per-op overhead ≤ 0.5× PyTorch: 0.25 → met" in text
    assert "**missed** on conv (1.50; CPU time 0.50)" in text
    assert "| dense fwd | 1 | 100.0 | 105.3 | 0.95 | 100.0 | — |" in text
    assert "CNN epoch ≥ 10× faster than the NumPy reference: 12.0× → met" in text
    assert "CNN peak RSS ≤ PyTorch's: 100 vs 300 MiB → met" in text
    assert "| pycnn's own threads | pthreads pool" in text


def test_per_op_row_runs_every_column(rng):
    torch = pytest.importorskip("torch")
    import pycnn
    row = rows.row_per_op(pycnn, torch, rng)
    assert set(row.impls) == {"pycnn", "torch", "numpy_ref"}
    for fn in row.impls.values():
        fn()


def test_grouped_reference_matches_pycnn(rng):
    """The course-style grouped convolution (numpy_ref) the depthwise/grouped rows compare
    with computes what pycnn does: forward and all three gradients."""
    import pycnn
    x = rng.standard_normal((2, 4, 6, 6))                     # NCHW
    w, b = rng.standard_normal((8, 2, 3, 3)), rng.standard_normal(8)
    dout = rng.standard_normal((2, 8, 6, 6))
    out, caches = ref.grouped_conv_forward(x, w, b, 2)
    dx, dw, db = ref.grouped_conv_backward(dout, caches)
    xt = pycnn.tensor(x.transpose(0, 2, 3, 1), requires_grad=True)
    wt = pycnn.tensor(w.transpose(2, 3, 1, 0), requires_grad=True)
    bt = pycnn.tensor(b, requires_grad=True)
    y = pycnn.conv2d(xt, wt, bt, padding="same", groups=2)
    y.backward(dout.transpose(0, 2, 3, 1))
    np.testing.assert_allclose(out, y.numpy().transpose(0, 3, 1, 2), atol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy().transpose(0, 3, 1, 2), atol=1e-12)
    np.testing.assert_allclose(dw, wt.grad.numpy().transpose(3, 2, 0, 1), atol=1e-12)
    np.testing.assert_allclose(db, bt.grad.numpy(), atol=1e-12)


@pytest.mark.parametrize("make", [
    lambda p, t, r: rows.row_depthwise(p, t, r, 2, 6, 4),
    lambda p, t, r: rows.row_depthwise(p, t, r, 2, 6, 4, strides=2),
    lambda p, t, r: rows.row_separable(p, t, r, 2, 6, 4, 8),
    lambda p, t, r: rows.row_grouped_conv(p, t, r, 2, 6, 4, 8, 2),
    lambda p, t, r: rows.row_conv1d(p, t, r, 2, 10, 4, 6)], ids=["dw", "dw_s2", "sep", "grp", "1d"])
def test_mobilenet_rows_run_every_column_once(rng, make):
    torch = pytest.importorskip("torch")
    import pycnn
    row = make(pycnn, torch, rng)
    assert all(callable(fn) for fn in row.impls.values()), row.impls
    for fn in row.impls.values():
        fn()


# ---- the shape sweep (benchmarks/sweep.py): its machinery on tiny rows, nothing timed ----

def test_sweep_grid_covers_the_axes_issue_17_names():
    from benchmarks import sweep
    grid = sweep.conv_grid()
    assert {c.k for c in grid} >= {1, 3, 5, 7}
    assert {c.stride for c in grid} == {1, 2} and {c.dilation for c in grid} == {1, 2}
    assert {c.padding for c in grid} == {"same", "valid"}
    assert min(c.c for c in grid) == 1 and max(c.c for c in grid) == 256
    assert min(c.hw for c in grid) == 7 and max(c.hw for c in grid) == 224
    assert min(c.n for c in grid) == 1 and max(c.n for c in grid) == 256
    assert len({c.key for c in grid}) == len(grid)
    keys = [k for k, *_ in sweep.all_rows()]
    assert {"lenet5/step", "vgg/step", "resnet/step", "vgg/predict"} <= set(keys)
    assert {k.split("/")[-1] for k in keys if k.startswith("conv")} == set(sweep.MODES)
    assert set(sweep.conv_grid(quick=True)) and len(sweep.all_rows(quick=True)) < len(keys)


@pytest.mark.parametrize("case", [
    dict(n=2, hw=7, c=3, f=4, k=3, stride=2, padding="same"),
    dict(n=1, hw=9, c=2, f=3, k=5, dilation=2, padding="valid")])
@pytest.mark.parametrize("mode", ["fwd", "train", "train_nodx"])
def test_sweep_conv_row_columns_compute_the_same_convolution(case, mode, rng):
    """pycnn and both PyTorch layouts get the same x, weights and seed: equal outputs
    (where Keras' 'same' padding is symmetric), the pass count in the FLOPs"""
    torch = pytest.importorskip("torch")
    import pycnn
    from benchmarks import sweep
    c = sweep.ConvCase(**case)
    cols = sweep.conv_columns(pycnn, torch, c, mode, rng)
    assert set(cols) == {"pycnn", "torch", "torch_cl"}
    outs = {k: fn() for k, fn in cols.items()}
    o = c.out_hw()
    y = np.asarray(outs["pycnn"].numpy())
    assert y.shape == (c.n, o, o, c.f)
    for k in ("torch", "torch_cl"):
        yt = outs[k].detach().numpy().transpose(0, 2, 3, 1)
        assert yt.shape == y.shape
        if c.pad_total() % 2 == 0:
            np.testing.assert_allclose(yt, y, rtol=1e-4, atol=1e-4)
    assert c.flops(mode) == 2.0 * c.n * o * o * c.k * c.k * c.c * c.f * sweep.MODES[mode]


def test_sweep_net_rows_run_and_the_section_renders(rng):
    torch = pytest.importorskip("torch")
    import dataclasses
    import pycnn
    from benchmarks import sweep
    for name, kind in [(n, "step") for n in sweep.NETS] + [("lenet5", "predict")]:
        net = dataclasses.replace(sweep.NETS[name], batch=2)
        if name != "lenet5":            # its Dense sizes need 28×28; the others any size
            net = dataclasses.replace(net, input_shape=(8, 8, 3))
        cols = sweep.net_columns(pycnn, torch, net, kind, rng, predict_images=3)
        assert set(cols) == {"pycnn", "torch", "torch_cl"}
        for fn in cols.values():
            fn()
    base = dataclasses.asdict(sweep.ConvCase(4, 28, 32, 32))
    row = lambda pc, flops, images=0: {       # noqa: E731
        "title": "t", "kind": "conv", "mode": "fwd", "flops": flops, "images": images,
        "times": {"pycnn": pc, "torch": 2e-3, "torch_cl": 1e-3}, "medians": {}, "load": 0.5,
        "case": base if flops else None}
    results = {"reps": 3, "load_start": 0.1, "load_end": 0.2, "by_threads": {
        1: {"sgemm_gflops": 100.0, "rows": {"a/fwd": row(2e-3, 1e8), "b/fwd": row(0.5e-3, 0),
                                             "c/predict": row(1e-3, 0, 64)}}}}
    text = "\n".join(sweep.render(results))
    assert "| t | fwd | 1 | 2.000 | 2.000 | 1.000 | 2.00 | 50.0 | 0.50 | 0.5 |" in text
    assert "64000 img/s" in text
    # geometric mean of 2, 0.5 and 1
    assert "geometric mean pycnn / PyTorch 1.00 over 3 rows; worst: a/fwd 2.00" in text
    assert "| 4 | 28×28 | fwd | 1 | 20.00 | 10.00 |" in text     # ms per GFLOP


# ---- the issue-16 layer rows (benchmarks/canon.py): every column computes the same thing ----

def _canon_tiny(canon):
    """each deterministic row of canon_rows, on a tiny input of the same kind"""
    return [(canon.row_layernorm, (2, 5, 6)), (canon.row_global_max_pool, (2, 4, 5)),
            (canon.row_zero_padding, (2, 4, 3)), (canon.row_cropping, (2, 7, 3)),
            (canon.row_upsampling, (2, 3, 4, "nearest")),
            (canon.row_upsampling, (2, 3, 4, "bilinear")),
            (canon.row_rescaling, (2, 5, 1)), (canon.row_normalization, (2, 5, 2)),
            (canon.row_conv_transpose, (2, 4, 3, 5, 2)),
            (canon.row_conv_transpose, (2, 5, 3, 4, 3)),
            (canon.row_dilated_conv, (2, 6, 3, 4))] + [
        (canon.row_activation, (2, 4, 3, a)) for a in canon.ACTIVATIONS] + [
        (canon.row_augmentation, (2, 6, 2, kind, (f, f)))        # the draw pinned
        for kind, f in (("translation", 0.2), ("rotation", 0.1), ("zoom", -0.3),
                        ("zoom", 0.25))]


def _canon_outputs(row):
    """{column: NHWC (or 2-D) output}: one forward + backward of each column"""
    assert set(row.impls) == {"pycnn", "torch", "torch_cl"}
    assert all(callable(f) for f in row.impls.values()), row.impls
    out = {}
    for k, fn in row.impls.items():
        y = fn()
        y = np.asarray(y.numpy()) if k == "pycnn" else y.detach().numpy()
        out[k] = y.transpose(0, 2, 3, 1) if k != "pycnn" and y.ndim == 4 else y
    return out


def test_canon_rows_columns_compute_the_same_layer(rng):
    torch = pytest.importorskip("torch")
    import pycnn
    from benchmarks import canon
    for make, args in _canon_tiny(canon):
        row = make(pycnn, torch, rng, *args)
        out = _canon_outputs(row)
        for k in ("torch", "torch_cl"):
            assert out[k].shape == out["pycnn"].shape, (row.key, k)
            np.testing.assert_allclose(out[k], out["pycnn"], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{row.key} {k}")


def test_canon_random_rows_draw_the_same_kind_of_output(rng):
    """dropout, flip and contrast keep their randomness: each column's output is one of
    the outputs the layer can give (dropped or scaled, flipped or not, one contrast factor
    per image in the range)"""
    torch = pytest.importorskip("torch")
    import pycnn
    from benchmarks import canon
    for spatial in (False, True):
        row = canon.row_dropout(pycnn, torch, rng, 4, 6, 8, rate=0.5, spatial=spatial)
        for k, y in _canon_outputs(row).items():
            kept = y != 0
            assert 0 < kept.mean() < 1, (row.key, k)
            if spatial:                 # one draw per (image, channel)
                assert np.all(kept == kept[:, :1, :1, :]), k
    for k, y in _canon_outputs(canon.row_dropout(pycnn, torch, np.random.default_rng(3),
                                                 2, 4, 3, rate=0.5)).items():
        x, _ = canon._data(np.random.default_rng(3), (2, 4, 4, 3), (2, 4, 4, 3))
        np.testing.assert_allclose(y[y != 0], 2 * x[y != 0], rtol=1e-6, err_msg=k)

    x, _ = canon._data(np.random.default_rng(5), (16, 5, 5, 2), (16, 5, 5, 2))
    for k, y in _canon_outputs(canon.row_augmentation(pycnn, torch, np.random.default_rng(5),
                                                      16, 5, 2, "flip")).items():
        flipped = [np.array_equal(y[i], x[i, :, ::-1]) for i in range(16)]
        same = [np.array_equal(y[i], x[i]) for i in range(16)]
        assert all(f or s for f, s in zip(flipped, same)) and any(flipped) and any(same), k

    x, _ = canon._data(np.random.default_rng(6), (8, 6, 6, 2), (8, 6, 6, 2), uniform=True)
    row = canon.row_augmentation(pycnn, torch, np.random.default_rng(6), 8, 6, 2, "contrast",
                                 factor=(0.5, 0.5))
    for k, y in _canon_outputs(row).items():
        m = x.mean(axis=(1, 2), keepdims=True)
        inside = (y > 0) & (y < 1)                       # not clipped
        f = np.where(inside, (y - m) / (x - m), np.nan).reshape(8, -1)
        lo, hi = np.nanmin(f, axis=1), np.nanmax(f, axis=1)
        assert np.all(hi - lo < 1e-3) and np.all((lo > 0.5 - 1e-4) & (hi < 1.5 + 1e-4)), k
        assert hi.max() - lo.min() > 1e-2, k             # the factor differs between images


def test_canon_rows_are_in_the_bench_with_one_key_each():
    torch = pytest.importorskip("torch")
    import pycnn
    from benchmarks import canon
    keys = [r.key for r in canon.canon_rows(pycnn, torch, np.random.default_rng(0), quick=True)]
    assert len(keys) == len(set(keys)) and all(k.startswith("canon_") for k in keys)
    assert len(keys) == 14 + len(canon.ACTIVATIONS) + len(canon.AUGMENTATIONS)
    import inspect
    from benchmarks import run
    assert "canon.canon_rows" in inspect.getsource(run.run_in_process)
