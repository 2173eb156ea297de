"""The one exception type symconv raises for bad input."""


class SymconvError(ValueError):
    """Invalid input: the message names the argument, its value and the rule broken."""


def invalid(argument: str, value: object, rule: str) -> SymconvError:
    """Build the standard one-line error: ``kernel_size=0: must be at least 1``."""
    return SymconvError(f"{argument}={value!r}: {rule}")
