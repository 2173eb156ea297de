"""Exercise 16: the Jacobian of a residual block is the branch's Jacobian plus the identity."""

from symconv import Equation, Exercise, Table, Text, Worked
from symconv.formulas.gradients import jacobian, symbol_matrix, syntax
from symconv.teaching.domains import Choice, MainAnswer


def expansion_terms(L):
    """Multiplying out L factors (I + J_l) picks I or J_l from each: 2^L products."""
    return 2**L


def stacked_expansion(depth):
    """(I + J_L)…(I + J_1) multiplied out, the J_l non-commuting symbols and I written as 1."""
    import sympy

    product = sympy.Integer(1)
    for layer in range(1, depth + 1):
        product = (1 + sympy.Symbol(f"J_{layer}", commutative=False)) * product
    return sympy.expand(product)


def solve(params):
    import sympy

    size = params["size"]
    x = sympy.Matrix([sympy.Symbol(f"x_{i}", real=True) for i in range(size)])
    first, second = symbol_matrix("w", size, size), symbol_matrix("v", size, size)
    hidden = first * x
    branch = second * hidden.applyfunc(sympy.tanh)
    output = branch + x
    total = jacobian(output, x)
    shorthand = total.xreplace({entry: sympy.Symbol(f"h_{i}", real=True) for i, entry in enumerate(hidden)})
    branch_jacobian = jacobian(branch, x)
    identity = sympy.eye(size)
    slope = sympy.diag(*[1 - sympy.tanh(entry) ** 2 for entry in hidden])
    plus_identity_gap = (total - branch_jacobian - identity).expand()
    chain_rule_gap = (branch_jacobian - second * slope * first).expand()

    rows = []
    expansions = {}
    for depth in params["depths"]:
        expanded = stacked_expansion(depth)
        expansions[depth] = expanded
        rows.append((depth, expanded, expansion_terms(depth), "yes" if sympy.Integer(1) in expanded.args else "no"))
    return Worked(
        blocks=(
            Text(
                "The general result first. Differentiation is linear, so for $y = F(x) + x$ the Jacobian "
                "splits: $\\partial y/\\partial x = \\partial F/\\partial x + \\partial x/\\partial x = J_F + I$, "
                "with $J_F$ the Jacobian of the branch and $I$ the identity matrix. A stack of $L$ blocks, "
                "$x_l = x_{l-1} + F_l(x_{l-1})$ for $l = 1, \\dots, L$, is a composition, and the chain rule "
                "multiplies the blocks' Jacobians, the last block on the left: $\\partial x_L/\\partial x_0 = "
                "(I + J_L) \\cdots (I + J_1)$, where $J_l$ is the branch Jacobian of block $l$ at its own input."
            ),
            Text(
                "The check on a concrete branch on a {size}-dimensional input $x = (x_i)$: $F(x) = W_2 \\mathrm{tanh}(W_1 x)$ "
                "with symbolic weight matrices $W_1 = (w_{ij})$ and $W_2 = (v_{ij})$, tanh applied entry by entry.",
                {"size": size},
            ),
            Equation("F(x)", branch.tolist()),
            Text(
                "Differentiating every output with respect to every input, and writing the pre-activations "
                "$W_1 x$ as $h = (h_i)$ for short, the entries of the Jacobian $J = \\partial y/\\partial x$ are"
            ),
            *(Equation(f"J[{i},{j}]", shorthand[i, j]) for i in range(size) for j in range(size)),
            Text(
                "Subtracting the Jacobian of the branch alone and the identity leaves nothing, and the branch's "
                "Jacobian is the chain rule $W_2 D W_1$ with $D = \\mathrm{diag}(1 - \\tanh^2(W_1 x))$:"
            ),
            Equation("J − ∂F/∂x − I", plus_identity_gap.tolist()),
            Equation("∂F/∂x − W_2·D·W_1", chain_rule_gap.tolist()),
            Text(
                "So $J = \\partial F/\\partial x + I$: the shortcut contributes the identity whatever the "
                "weights. Multiplying out the product for $L$ stacked blocks picks $I$ or $J_l$ from every "
                "factor, $2^L$ products in all; with $I$ written as 1:"
            ),
            Table(("blocks $L$", "$(I + J_L) \\ldots (I + J_1)$ multiplied out", "terms", "bare identity present"), tuple(rows)),
            Text(
                "One of the products is the bare identity. The gradient that reaches the input is the row vector "
                "$\\partial \\text{loss}/\\partial x_L$ times the product $(I + J_L) \\cdots (I + J_1)$, so it "
                "contains the upstream gradient $\\partial \\text{loss}/\\partial x_L$ itself, passed on unchanged, "
                "besides the paths through the branches. "
                "A plain stack has only the last product $J_L \\cdots J_1$, whose norm is at most "
                "$\\|J_L\\| \\cdots \\|J_1\\|$ and shrinks geometrically when every factor is small."
            ),
            Text(
                "This does not guarantee a gradient on its own: the terms can cancel (a branch with $J_l = -I$ "
                "makes its factor zero). What prevents vanishing is a bound on the branch Jacobians. If every "
                "$\\|J_l\\| < 1$, no factor $I + J_l$ can send a vector to zero, and the product keeps at least "
                "the fraction $(1 - \\|J_L\\|) \\cdots (1 - \\|J_1\\|)$ of a gradient's norm; when the branches start "
                "small, as with the last layer of each branch initialised at zero, the product stays close to "
                "$I$. Two details of real networks: where a block changes the resolution or the channel "
                "count, the shortcut is a projection, a 1×1 convolution $W_s$, and that block's Jacobian is "
                "$J_F + W_s$ instead of $J_F + I$ (He et al., 2016, use one at the start of each stage); and the "
                "original block applies a ReLU after the addition, which multiplies the shortcut path by a "
                "diagonal of 0s and 1s. The pre-activation block of He et al.'s follow-up paper "
                "(He et al., 2016, Identity mappings in deep residual networks) moves that ReLU into the branch, so the shortcut is exactly the identity."
            ),
        ),
        answers={
            "jacobian": total,
            "jacobian_is_branch_plus_identity": plus_identity_gap.is_zero_matrix,
            "branch_jacobian_is_chain_rule": chain_rule_gap.is_zero_matrix,
            "stacked_expansion": {depth: syntax(expanded) for depth, expanded in expansions.items()},
            "stacked_terms": {depth: expansion_terms(depth) for depth in params["depths"]},
            "identity_term": all(sympy.Integer(1) in expanded.args for expanded in expansions.values()),
        },
        conclusion=Text(
            "$\\partial y/\\partial x = \\partial F/\\partial x + I$ by linearity of differentiation; for $L$ "
            "stacked blocks the chain rule gives $(I + J_L) \\cdots (I + J_1)$, whose $2^L$ terms include the bare "
            "identity, so the upstream gradient reaches early layers directly instead of only through a product "
            "of small Jacobians. The terms cannot cancel to zero while every branch Jacobian has norm below 1, "
            "and with small branches the product stays close to $I$."
        ),
    )


EXERCISE = Exercise(
    number=16,
    title="Jacobian of a residual block",
    question=(
        "A residual block computes $y = F(x) + x$. Derive $\\partial y/\\partial x$, and check it on the branch "
        "$F(x) = W_2 \\mathrm{tanh}(W_1 x)$ with symbolic {size}×{size} weights. Multiply out the Jacobian of $L$ "
        "stacked blocks for $L$ taking the values {depths}, and explain why the expression keeps gradients from vanishing."
    ),
    defaults={"size": 2, "depths": (2, 3)},
    solve=solve,
    topics=("backpropagation", "residual connection", "Jacobian"),
    domains={"size": Choice(2, 3), "depths": Choice((2, 3), (2, 4), (3, 4), (3, 5))},
    main_answer=MainAnswer("stacked_terms", "the number of terms of the multiplied-out product, for each $L$ in the order given"),
)
