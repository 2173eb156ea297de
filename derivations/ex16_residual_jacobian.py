"""Exercise 16: the Jacobian of a residual block is the branch's Jacobian plus the identity."""

from symconv import Equation, Exercise, Table, Text, Worked, derive
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
    deepest = params["depths"][-1]
    count = derive(expansion_terms, deepest, lhs="terms", unit="")
    return Worked(
        blocks=(
            Text(
                "Take a concrete branch on a {size}-dimensional input: $F(x) = W_2 \\tanh(W_1 x)$ with symbolic "
                "weight matrices $W_1 = (w_{ij})$ and $W_2 = (v_{ij})$, tanh applied entry by entry, and the "
                "block $y = F(x) + x$.",
                {"size": size},
            ),
            Equation("F(x)", branch.tolist()),
            Text(
                "sympy differentiates every output with respect to every input. Writing the pre-activations "
                "$h = W_1 x$ as $h_i$ for short, the entries of the Jacobian $J = \\partial y/\\partial x$ are"
            ),
            *(Equation(f"J[{i},{j}]", shorthand[i, j]) for i in range(size) for j in range(size)),
            Text(
                "Subtracting the Jacobian of the branch alone and the identity leaves nothing, and the branch's "
                "Jacobian is the chain rule $W_2 D W_1$ with $D = \\mathrm{diag}(1 - \\tanh^2(W_1 x))$:"
            ),
            Equation("J - dF/dx - I", plus_identity_gap.tolist()),
            Equation("dF/dx - W2 D W1", chain_rule_gap.tolist()),
            Text(
                "So $J = \\partial F/\\partial x + I$: the shortcut contributes the identity whatever the "
                "weights. Stacking $L$ blocks multiplies their Jacobians (chain rule, last block on the left); "
                "with $J_l$ the branch Jacobian of block $l$ and $I$ written as 1:"
            ),
            Table(("blocks $L$", "$(I + J_L) \\ldots (I + J_1)$ multiplied out", "terms", "bare identity present"), tuple(rows)),
            count,
            Text(
                "Among the {terms} products one is the bare identity: the gradient reaching the input always "
                "contains the upstream gradient itself, unchanged, however small the branch Jacobians become. "
                "A plain stack has only the last product $J_L \\ldots J_1$, which shrinks geometrically when "
                "each factor is small; that is why very deep residual networks still train.",
                {"terms": count.value},
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
            "$J = \\partial F/\\partial x + I$; for $L$ stacked blocks the product has $2^L$ terms, one of "
            "them the bare identity, so gradients always have a direct path to early layers."
        ),
    )


EXERCISE = Exercise(
    number=16,
    title="Jacobian of a residual block",
    question=(
        "A residual block computes $y = F(x) + x$. For the branch $F(x) = W_2 \\tanh(W_1 x)$ with symbolic "
        "{size}×{size} weights, compute the Jacobian $\\partial y/\\partial x$ and show that it is "
        "$\\partial F/\\partial x + I$. Multiply out the Jacobian of $L$ stacked blocks for each $L$ in "
        "{depths} and point out the term that explains why residual networks keep their gradients."
    ),
    defaults={"size": 2, "depths": (2, 3)},
    solve=solve,
    topics=("backpropagation", "residual connection", "Jacobian"),
    domains={"size": Choice(2, 3), "depths": Choice((2, 3), (2, 4), (3, 4), (3, 5))},
    main_answer=MainAnswer("stacked_terms", "the number of terms of the multiplied-out product, for each $L$ in the order given"),
)
