"""Convolution and pooling on sympy matrices, forward and backward, exactly: the algebra behind gradients.

Every function takes matrices (sympy matrices, nested lists or numpy arrays; entries symbols or
numbers) and returns a sympy ``Matrix``, so one helper serves a symbolic derivation and a numeric
check alike. Layout and conventions follow PyTorch's ``conv2d``/``max_pool2d``/``avg_pool2d`` on a
single channel: rows are the first axis, windows start at multiples of the stride in the zero-padded
input, a dilated window takes every ``dilation``-th entry. Output sizes come from
``symconv.formulas.layers``. sympy is imported inside the functions: importing this module is free.
"""

from __future__ import annotations

from typing import Any

from symconv.core.errors import invalid
from symconv.formulas.layers import (
    conv_output_size,
    effective_kernel_size,
    pool_output_size,
)

Position = tuple[int, int]


def symbol_matrix(name: str, rows: int, cols: int) -> Any:
    """The matrix of real symbols ``name_ij`` (``x_00``, ``x_01``, …); from index 10 on, ``x_10_3``."""
    import sympy

    if not name.isidentifier():
        raise invalid("name", name, "must be a Python identifier, the stem of each entry's symbol")
    for argument, size in (("rows", rows), ("cols", cols)):
        if not isinstance(size, int) or size < 1:
            raise invalid(argument, size, "must be an integer of at least 1")

    def entry(i: int, j: int) -> Any:
        index = f"{i}{j}" if i < 10 and j < 10 else f"{i}_{j}"
        return sympy.Symbol(f"{name}_{index}", real=True)

    return sympy.Matrix(rows, cols, entry)


def rot180(matrix: Any) -> Any:
    """The matrix turned half a circle: entry (i, j) moves to (rows - 1 - i, cols - 1 - j)."""
    matrix = _matrix(matrix, "matrix")
    return matrix.extract(list(range(matrix.rows))[::-1], list(range(matrix.cols))[::-1])


def zero_insert(matrix: Any, factor: int) -> Any:
    """``factor - 1`` zeros between neighbouring entries along both axes (a stride undone, a kernel dilated)."""
    import sympy

    matrix = _matrix(matrix, "matrix")
    _require_positive("factor", factor)
    spread = sympy.zeros((matrix.rows - 1) * factor + 1, (matrix.cols - 1) * factor + 1)
    for i in range(matrix.rows):
        for j in range(matrix.cols):
            spread[i * factor, j * factor] = matrix[i, j]
    return spread


def pad(matrix: Any, padding: int) -> Any:
    """``padding`` rows and columns of zeros on every side."""
    _require_nonnegative("padding", padding)
    return _pad(_matrix(matrix, "matrix"), padding, padding, padding, padding)


def cross_correlate(x: Any, kernel: Any, stride: int = 1, padding: int = 0, dilation: int = 1) -> Any:
    """What deep-learning libraries call convolution: Y[i, j] = Σ_mn X_pad[s i + d m, s j + d n] K[m, n]."""
    return _slide(x, kernel, stride, padding, dilation, flipped=False)


def convolve(x: Any, kernel: Any, stride: int = 1, padding: int = 0, dilation: int = 1) -> Any:
    """Convolution as signal processing defines it, the kernel index running against the input's.

    Y[i, j] = Σ_mn X_pad[s i + d (K_h - 1 - m), s j + d (K_w - 1 - n)] K[m, n], at the positions
    where the whole kernel lies inside the padded input.
    """
    return _slide(x, kernel, stride, padding, dilation, flipped=True)


def full_cross_correlate(x: Any, kernel: Any, dilation: int = 1) -> Any:
    """Cross-correlation over every overlap: the input zero-padded by the kernel's span minus one."""
    x, kernel = _matrix(x, "x"), _matrix(kernel, "kernel")
    _require_positive("dilation", dilation)
    rows = effective_kernel_size(kernel.rows, dilation) - 1
    cols = effective_kernel_size(kernel.cols, dilation) - 1
    return cross_correlate(_pad(x, rows, rows, cols, cols), kernel, dilation=dilation)


def conv_input_gradient(
    upstream: Any, kernel: Any, input_shape: Position, stride: int = 1, padding: int = 0, dilation: int = 1
) -> Any:
    """∂L/∂X for Y = cross_correlate(X, K, s, p, d) and L = Σ G ⊙ Y, as a transposed convolution.

    Undo the stride by zero insertion (s - 1 zeros between the entries of G), full-correlate with
    the kernel turned 180° at the same dilation, give the rows and columns no window reached (the
    floor dropped them) a zero gradient, then crop the padding away.
    """
    upstream, kernel = _matrix(upstream, "upstream"), _matrix(kernel, "kernel")
    rows, cols = _shape(input_shape)
    forward = (
        conv_output_size(rows, kernel.rows, stride, padding, dilation),
        conv_output_size(cols, kernel.cols, stride, padding, dilation),
    )
    if upstream.shape != forward:
        raise invalid("upstream", upstream.shape, f"must have the shape {forward} of the forward output")
    full = full_cross_correlate(zero_insert(upstream, stride), rot180(kernel), dilation)
    unreached = _pad(full, 0, rows + 2 * padding - full.rows, 0, cols + 2 * padding - full.cols)
    return unreached[padding : padding + rows, padding : padding + cols]


def upstream_loss(upstream: Any, output: Any) -> Any:
    """L = Σ G ⊙ Y: the scalar whose gradient with respect to Y is G, whatever Y depends on."""
    upstream, output = _matrix(upstream, "upstream"), _matrix(output, "output")
    if upstream.shape != output.shape:
        raise invalid("upstream", upstream.shape, f"must have the output's shape {output.shape}")
    import sympy

    return sympy.Add(*upstream.multiply_elementwise(output))


def gradient(scalar: Any, variables: Any) -> Any:
    """∂scalar/∂v for every symbol v of the matrix ``variables``, in its shape."""
    import sympy

    variables = _matrix(variables, "variables")
    _require_symbols("variables", variables)
    scalar = sympy.sympify(scalar)
    if not isinstance(scalar, sympy.Add):
        return sympy.Matrix(variables.rows, variables.cols, lambda i, j: sympy.diff(scalar, variables[i, j]))
    # A sum's derivative is the sum of its terms' (sympy's own rule for Add, zeros dropped), so each
    # variable differentiates only the terms holding it: the same matrix, without a loss over every
    # output differentiated by every variable.
    holding: dict[Any, list[Any]] = {variable: [] for variable in variables}
    for term in scalar.args:
        for variable in term.free_symbols & holding.keys():
            holding[variable].append(term)
    return sympy.Matrix(
        variables.rows,
        variables.cols,
        lambda i, j: sympy.Add(*(sympy.diff(term, variables[i, j]) for term in holding[variables[i, j]])),
    )


def jacobian(outputs: Any, inputs: Any) -> Any:
    """∂vec(outputs)/∂vec(inputs), both matrices read row by row (one row per output entry)."""
    import sympy

    outputs, inputs = _matrix(outputs, "outputs"), _matrix(inputs, "inputs")
    _require_symbols("inputs", inputs)
    return sympy.Matrix(list(outputs)).jacobian(sympy.Matrix(list(inputs)))


def max_pool(x: Any, kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1) -> Any:
    """The largest entry of each window (sympy ``Max`` on symbols); padding never wins."""
    import sympy

    x = _matrix(x, "x")
    shape, windows = _windows(x.shape, kernel_size, stride, padding, dilation)
    return sympy.Matrix(*shape, [_largest([x[position] for position in window]) for window in windows])


def _largest(entries: list[Any]) -> Any:
    """``Max`` of a window; distinct symbols cannot be ordered, so their comparison search is skipped."""
    import sympy

    distinct_symbols = all(entry.is_Symbol for entry in entries) and len(set(entries)) == len(entries)
    return sympy.Max(*entries, evaluate=not distinct_symbols)


def max_pool_indices(
    x: Any, kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1
) -> list[list[Position]]:
    """Position (row, col) in X of each window's maximum: the first one in row-major scan order on a tie."""
    x = _matrix(x, "x")
    if not all(entry.is_comparable for entry in x):
        raise invalid("x", x.tolist(), "must hold numbers: which entry wins depends on the values")
    (rows, cols), windows = _windows(x.shape, kernel_size, stride, padding, dilation)
    winners = []
    for window in windows:
        best = window[0]
        for position in window[1:]:
            if x[position] > x[best]:  # strictly larger: an equal later entry does not take over
                best = position
        winners.append(best)
    return [winners[row * cols : (row + 1) * cols] for row in range(rows)]


def max_pool_backward(
    x: Any, upstream: Any, kernel_size: int, stride: int | None = None, padding: int = 0, dilation: int = 1
) -> Any:
    """∂L/∂X of max pooling: each upstream entry goes whole to its window's (first) maximum; overlaps add."""
    import sympy

    x, upstream = _matrix(x, "x"), _matrix(upstream, "upstream")
    winners = max_pool_indices(x, kernel_size, stride, padding, dilation)
    _require_shape("upstream", upstream, (len(winners), len(winners[0])))
    routed = sympy.zeros(x.rows, x.cols)
    for i, row in enumerate(winners):
        for j, winner in enumerate(row):
            routed[winner] += upstream[i, j]
    return routed


def avg_pool(x: Any, kernel_size: int, stride: int | None = None, padding: int = 0) -> Any:
    """The mean of each window, padding counted as zeros in the divisor K² (``count_include_pad=True``, no ceil_mode)."""
    import sympy

    x = _matrix(x, "x")
    shape, windows = _windows(x.shape, kernel_size, stride, padding, 1)
    return sympy.Matrix(*shape, [sympy.Add(*(x[position] for position in window)) / kernel_size**2 for window in windows])


def avg_pool_backward(upstream: Any, input_shape: Position, kernel_size: int, stride: int | None = None, padding: int = 0) -> Any:
    """∂L/∂X of average pooling: every entry of a window receives its upstream entry over K²; overlaps add."""
    import sympy

    upstream = _matrix(upstream, "upstream")
    rows, cols = _shape(input_shape)
    shape, windows = _windows((rows, cols), kernel_size, stride, padding, 1)
    _require_shape("upstream", upstream, shape)
    spread = sympy.zeros(rows, cols)
    for share, window in zip(upstream, windows):
        for position in window:
            spread[position] += share / kernel_size**2
    return spread


def syntax(value: Any) -> Any:
    """sympy syntax of an expression, or of each entry of a matrix as nested lists: "g_00/4", "0".

    For answers that are expressions: the string is exact and reads back with ``sympy.sympify``,
    where a number would reach JSON as a float (1/4 as 0.25).
    """
    import sympy

    if isinstance(value, sympy.MatrixBase):
        return [[str(entry) for entry in row] for row in value.tolist()]
    return str(sympy.sympify(value))


def _slide(x: Any, kernel: Any, stride: int, padding: int, dilation: int, flipped: bool) -> Any:
    import sympy

    x, kernel = _matrix(x, "x"), _matrix(kernel, "kernel")
    rows = conv_output_size(x.rows, kernel.rows, stride, padding, dilation)
    cols = conv_output_size(x.cols, kernel.cols, stride, padding, dilation)
    padded = _pad(x, padding, padding, padding, padding)

    def tap(index: int, size: int) -> int:
        """Offset of kernel index ``index`` inside the window: reversed for a true convolution."""
        return dilation * (size - 1 - index if flipped else index)

    def entry(i: int, j: int) -> Any:
        products = (
            padded[stride * i + tap(m, kernel.rows), stride * j + tap(n, kernel.cols)] * kernel[m, n]
            for m in range(kernel.rows)
            for n in range(kernel.cols)
        )
        return sympy.Add(*products)

    return sympy.Matrix(rows, cols, entry)


def _windows(
    shape: Position, kernel_size: int, stride: int | None, padding: int, dilation: int
) -> tuple[Position, list[list[Position]]]:
    """The pooled output's shape, and for each output (row-major) the input positions under its window.

    A window's positions run row by row; those in the padding are left out (they never win a max
    and add nothing to a sum).
    """
    stride = kernel_size if stride is None else stride
    rows = pool_output_size(shape[0], kernel_size, stride, padding, dilation)
    cols = pool_output_size(shape[1], kernel_size, stride, padding, dilation)
    windows = []
    for i in range(rows):
        for j in range(cols):
            top, left = stride * i - padding, stride * j - padding
            taps = ((top + dilation * m, left + dilation * n) for m in range(kernel_size) for n in range(kernel_size))
            window = [(row, col) for row, col in taps if 0 <= row < shape[0] and 0 <= col < shape[1]]
            if not window:
                rule = f"puts the dilated window of output ({i}, {j}) wholly in the padding; pooling is undefined there"
                raise invalid("padding", padding, rule)
            windows.append(window)
    return (rows, cols), windows


def _pad(matrix: Any, top: int, bottom: int, left: int, right: int) -> Any:
    import sympy

    padded = sympy.zeros(matrix.rows + top + bottom, matrix.cols + left + right)
    padded[top : top + matrix.rows, left : left + matrix.cols] = matrix
    return padded


def _matrix(value: Any, argument: str) -> Any:
    import sympy

    try:
        matrix = sympy.Matrix(value)
    except (TypeError, ValueError, sympy.SympifyError):
        raise invalid(argument, value, "must be a 2-D matrix (sympy Matrix, nested lists or numpy array)") from None
    if matrix.rows == 0 or matrix.cols == 0:
        raise invalid(argument, value, "must be a non-empty 2-D matrix")
    return matrix


def _shape(shape: Any) -> Position:
    if not (isinstance(shape, (tuple, list)) and len(shape) == 2 and all(isinstance(size, int) and size >= 1 for size in shape)):
        raise invalid("input_shape", shape, "must be (rows, cols), two integers of at least 1")
    return shape[0], shape[1]


def _require_shape(argument: str, matrix: Any, shape: Position) -> None:
    if matrix.shape != shape:
        raise invalid(argument, matrix.shape, f"must have the shape {shape} of the pooled output")


def _require_symbols(argument: str, matrix: Any) -> None:
    if not all(entry.is_Symbol for entry in matrix):
        raise invalid(argument, matrix.tolist(), "must hold symbols only: one derivative per symbol")


def _require_positive(argument: str, value: Any) -> None:
    if not isinstance(value, int) or value < 1:
        raise invalid(argument, value, "must be an integer of at least 1")


def _require_nonnegative(argument: str, value: Any) -> None:
    if not isinstance(value, int) or value < 0:
        raise invalid(argument, value, "must be an integer of at least 0")
