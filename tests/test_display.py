"""pycnn.display: tensors as LaTeX matrices in Jupyter, large ones summarised."""
import numpy as np
import pytest

import pycnn
from pycnn.display import fmt, matrix_latex, summary_text, tensor_latex


def test_small_matrix_is_a_bmatrix_with_every_number():
    t = pycnn.tensor([[1, 2], [3, 4.5]])
    assert t._repr_latex_() == tensor_latex(t)
    assert tensor_latex(t) == (r"$$\begin{bmatrix} 1 & 2 \\ 3 & 4.5 \end{bmatrix}"
                               r"\quad {\scriptstyle 2 \times 2}$$")


def test_scalar_vector_and_name():
    assert tensor_latex(pycnn.tensor(0.5)) == "$$0.5$$"
    latex = tensor_latex(pycnn.tensor([1, -1, 2], name="z_1"))
    assert latex.startswith(r"$$\mathrm{z\_1} = \begin{bmatrix} 1 & -1 & 2 \end{bmatrix}")


def test_large_matrix_keeps_its_corners():
    a = np.arange(400.0).reshape(20, 20)
    latex = tensor_latex(pycnn.tensor(a))
    for corner in ("0", "19", "380", "399"):
        assert f" {corner} " in latex
    assert " 200 " not in latex
    assert latex.count(r"\cdots") == 6 and latex.count(r"\ddots") == 1
    assert latex.count(r"\vdots") == 6
    assert r"20 \times 20" in latex


def test_image_shows_one_matrix_per_channel():
    x = np.arange(12.0).reshape(2, 3, 2)             # H, W, C
    latex = tensor_latex(pycnn.tensor(x))
    assert r"[:, :, 0] = \begin{bmatrix} 0 & 2 & 4 \\ 6 & 8 & 10 \end{bmatrix}" in latex
    assert r"[:, :, 1] = \begin{bmatrix} 1 & 3 & 5 \\ 7 & 9 & 11 \end{bmatrix}" in latex


def test_large_batch_is_summarised():
    x = np.zeros((2, 28, 28, 1), dtype=np.float32)
    x[0, 0, 0, 0] = 1
    latex = tensor_latex(pycnn.tensor(x))
    assert "bmatrix" not in latex
    assert "shape (2, 28, 28, 1), float32" in latex and "max 1" in latex


def test_numbers_and_summary_text():
    assert [fmt(v) for v in (1.0, -0.5, 0.51082562, 1e9, np.inf, np.nan)] == \
        ["1", "-0.5", "0.5108", "1e+09", "inf", "nan"]
    assert matrix_latex([1e9]) == r"\begin{bmatrix} 1 \times 10^{9} \end{bmatrix}"
    assert summary_text(np.array([1.0, np.inf, 3.0])) == \
        "shape (3,), float64: min 1, max 3, mean 2, std 1, 1 non-finite"
    with pytest.raises(ValueError, match="at most 2 dimensions"):
        matrix_latex(np.zeros((2, 2, 2)))
