"""from_torch: any torch.nn.Module → the same Report as ``analyze``, with closed forms in H and W.

The module is traced once by torch.export (non-strict, H and W dynamic; see ``torch_trace``), and
the graph is walked node by node: each ATen operator goes through its handler in ``torch_ops``,
which counts with symconv's single-source formulas. Rows are the calls of torch.nn layers, named by
module path (``layer3.1.conv2``; a shared layer's second call is ``name@1``, as torch numbers it),
and the operators called in a model's own ``forward``, named by the module that called them and the
operator (``layer1.0.add``). Parameters are counted once each, at their first use; buffers (batch
norm's running statistics) are not parameters. Operators symconv does not know are rows of kind
``aten.name`` with no MACs, listed in ``report.not_counted``.
"""

from __future__ import annotations

import math
from typing import Any

from symconv.core.errors import invalid
from symconv.core.values import divide, same
from symconv.networks.analyze import CONVENTIONS, Report, Row, assemble
from symconv.networks.fields import Field
from symconv.networks.torch_ops import HANDLERS, Op, Outcome, Value, kind_of
from symconv.render.text import value_text

# Operators that check or constrain sizes and compute nothing.
CHECKS = ("_assert", "sym_constrain", "_check", "sym_size", "sym_numel", "sym_stride", "_local_scalar_dense")
CONTAINERS = ("torch.nn.modules.container.",)
# Higher-order operators that only change a mode (gradients, autocast) around a subgraph: walked through.
WRAPPERS = ("WrapWithSetGradEnabled", "WrapWithAutocast")


def from_torch(
    module: Any, input_shape: tuple[Any, ...] = (3, "H", "W"), convention: str = "macs", sample: tuple[int, ...] | None = None
) -> Report:
    """Shapes, parameters, MACs (under ``convention``) and receptive field of a torch module.

    ``input_shape`` excludes the batch; a string entry is a symbol (the model is traced with that size
    dynamic, at ``sample`` sizes when given). ``report.valid_when`` lists the conditions on the
    symbols under which the trace, and so every formula of the report, holds.
    """
    if convention not in CONVENTIONS:
        raise invalid("convention", convention, f"must be one of {', '.join(CONVENTIONS)}")
    if not isinstance(input_shape, (tuple, list)) or not input_shape:
        raise invalid("input_shape", input_shape, "must be a tuple of sizes such as (3, 224, 224) or (3, 'H', 'W')")
    for entry in input_shape:
        if isinstance(entry, str) and entry.isidentifier():
            continue
        if isinstance(entry, bool) or not isinstance(entry, int) or entry < 1:
            raise invalid("input_shape", tuple(input_shape), "entries must be positive ints or symbol names such as 'H'")
    try:
        import torch
    except ImportError:
        raise invalid("module", type(module).__name__, "from_torch needs torch: pip install 'symconv[torch]'") from None

    from symconv.networks.torch_trace import export

    if not isinstance(module, torch.nn.Module):
        raise invalid("module", type(module).__name__, "must be a torch.nn.Module")
    modes = {submodule: submodule.training for submodule in module.modules()}
    module.eval()  # counts are those of inference: batch norm uses its running statistics
    try:
        trace = export(module, tuple(input_shape), sample)
    finally:
        for submodule, training in modes.items():  # each back to its own mode
            submodule.training = training
    return GraphWalk(trace, convention).report()


class GraphWalk:
    """One pass over the exported graph, building rows."""

    def __init__(self, trace: Any, convention: str) -> None:
        self.trace, self.translate, self.convention = trace, trace.translator, convention
        self.rules = CONVENTIONS[convention]
        self.values: dict[str, Any] = {}
        self.groups: dict[str, dict[str, Any]] = {}
        self.counted: set[str] = set()
        self.not_counted: dict[str, int] = {}
        self.names: dict[str, int] = {}
        self.notes: list[str] = []
        self.mixed = False

    def report(self) -> Report:
        program = self.trace.program
        signature = program.graph_signature
        parameters = dict(signature.inputs_to_parameters)
        output = None
        for node in program.graph.nodes:
            if node.op == "placeholder":
                self.values[node] = self._placeholder(node, parameters.get(node.name))
            elif node.op == "call_function":
                self._call(node)
            elif node.op == "output":
                output = next((value for value in _flat_values(self._resolve(node.args[0])) if isinstance(value, Value)), None)
        if not isinstance(output, Value):
            raise invalid("module", "forward", "returns no tensor")
        rows = [self._row(group) for group in self.groups.values()]
        unused = [name for name in parameters.values() if name not in self.counted]
        if unused:
            numel = sum(math.prod(_parameter_shape(program, name)) for name in unused)
            rows.append(Row(f"unused: {', '.join(unused)}", "Parameter", (), numel, 0, None, None))
        return assemble(
            tuple(rows),
            self.trace.input_shape,
            _batchless(output.shape),
            self.convention,
            valid_when=self.trace.conditions,
            not_counted=tuple(self.not_counted.items()),
            field_notes=tuple(self.notes),
        )

    # ---- nodes ------------------------------------------------------------------------------------

    def _placeholder(self, node: Any, parameter: str | None) -> Value:
        shape = tuple(self.translate(size) for size in node.meta["val"].shape)
        if node.name in _user_inputs(self.trace.program):
            shape = (1, *self.trace.input_shape)
            field = Field.input() if len(shape) in (3, 4) else None
            return Value(shape, field, True, None, _expressions(node.meta["val"].shape))
        return Value(shape, None, False, parameter, _expressions(node.meta["val"].shape))

    def _resolve(self, argument: Any) -> Any:
        if isinstance(argument, (list, tuple)):
            return type(argument)(self._resolve(entry) for entry in argument)
        if hasattr(argument, "op") and hasattr(argument, "name"):  # an fx node
            return self.values.get(argument)
        return argument

    def _call(self, node: Any) -> None:
        target = node.target
        value = node.meta.get("val")
        if getattr(target, "__name__", "") == "getitem":
            self.values[node] = self._resolve(node.args[0])[node.args[1]]
            return
        if type(target).__name__ in WRAPPERS:
            self._inline(node)
            return
        if _is_size(value) or value is None:  # Python arithmetic on sizes, checks of sizes
            self.values[node] = self.translate(value) if _is_size(value) else None
            return
        if hasattr(target, "overloadpacket"):
            name, namespace = target.overloadpacket.__name__, target.namespace
        else:  # a higher-order operator (a condition, a loop): its inside is not seen
            name, namespace = getattr(target, "__name__", type(target).__name__), "higher_order"
        if name.startswith(CHECKS):
            self.values[node] = None
            return
        outputs = value if isinstance(value, (tuple, list)) else (value,)
        torch_shapes = [_expressions(tensor.shape) for tensor in outputs if hasattr(tensor, "shape")]
        shapes = [tuple(self.translate(size) for size in shape) for shape in torch_shapes]
        args, kwargs = self._resolve(tuple(node.args)), {key: self._resolve(entry) for key, entry in node.kwargs.items()}
        operation = Op(name, args, kwargs, shapes[0] if shapes else (), torch_shapes[0] if torch_shapes else ())
        handler = HANDLERS.get(name)
        if handler is None:
            key = f"{namespace}.{name}"
            self.not_counted[key] = self.not_counted.get(key, 0) + 1
            outcome = Outcome(field=None)
        else:
            outcome = handler(operation)
        tensors = operation.tensors
        source = any(tensor.source for tensor in tensors)
        results = [self._value(shape, torch_shape, tensors, source) for shape, torch_shape in zip(shapes, torch_shapes)]
        if results:
            first = results[0]
            shape = first.shape if outcome.shape is None else outcome.shape
            field = outcome.field
            if field == "inherit":
                field = next((tensor.field for tensor in tensors if tensor.source), None)
            results[0] = Value(shape, field if source else None, source, None, first.torch_shape)
        self.values[node] = tuple(results) if isinstance(value, (tuple, list)) else (results[0] if results else None)
        if results:
            self._record(node, name, operation, outcome, results[0])

    def _inline(self, node: Any) -> None:
        """A region run under no_grad or autocast is a subgraph: walk it with its inputs bound, as if inline."""
        position = next(index for index, argument in enumerate(node.args) if getattr(argument, "op", None) == "get_attr")
        graph = getattr(self.trace.program.graph_module, node.args[position].target).graph
        operands = iter(node.args[position + 1 :])
        for inner in graph.nodes:
            if inner.op == "placeholder":
                self.values[inner] = self._resolve(next(operands))
            elif inner.op == "call_function":
                self._call(inner)
            elif inner.op == "output":
                self.values[node] = self._resolve(inner.args[0])

    def _value(self, shape: tuple[Any, ...], torch_shape: tuple[Any, ...], tensors: list[Value], source: bool) -> Value:
        """torch's shape, in the closed form of an input of the same shape where there is one (element-wise)."""
        for tensor in tensors:
            if tensor.torch_shape == torch_shape:
                shape = tensor.shape
                break
        return Value(shape, None, source, None, torch_shape)

    # ---- rows ------------------------------------------------------------------------------------------

    def _record(self, node: Any, name: str, operation: Op, outcome: Outcome, result: Value) -> None:
        stack = list((node.meta.get("nn_module_stack") or {}).items())
        owner_key, (owner_path, owner_type) = stack[-1] if stack else ("", ("", ""))
        owner_type = owner_type if isinstance(owner_type, str) else f"{owner_type.__module__}.{owner_type.__qualname__}"
        call = owner_key.rpartition("@")[2] if "@" in owner_key else ""
        if owner_type.startswith("torch.nn.modules.") and not owner_type.startswith(CONTAINERS):
            key, path, kind = owner_key, f"{owner_path}@{call}" if call else owner_path, owner_type.rpartition(".")[2]
        else:
            scope = f"{owner_path}@{call}" if call else owner_path
            count = self.names.get(f"{scope}.{name}", 0)
            self.names[f"{scope}.{name}"] = count + 1
            label = name if count == 0 else f"{name}_{count}"
            key, path, kind = node.name, f"{scope}.{label}" if scope else label, kind_of(name, result.shape)
        group = self.groups.get(key)
        if group is None:
            inputs = [tensor for tensor in operation.tensors if tensor.source] or operation.tensors
            group = self.groups[key] = {
                "path": path,
                "kind": kind,
                "input": inputs[0].shape if inputs else (),
                "params": [],
                "macs": [],
            }
        self._field_notes(path, kind, operation, result)
        group["params"].append(self._parameters(operation, outcome))
        group["macs"].append(outcome.macs)
        group["output"] = result

    def _field_notes(self, path: str, kind: str, operation: Op, result: Value) -> None:
        """Say where the grid is first mixed away, and where joined paths see windows with different centres."""
        fields = [tensor.field for tensor in operation.tensors if tensor.source and tensor.field is not None]
        if fields and result.field is None and not self.mixed:
            self.mixed = True
            self.notes.append(
                f"{path} ({kind}) is the first to mix the whole grid: its units, and all after them, see the whole input"
            )
        if len(fields) < 2 or result.field is None or any(field.period != 1 or field.spans[0] is None for field in fields):
            return
        centres = list(dict.fromkeys(divide(field.spans[0][0] + field.spans[0][1], 2) for field in fields))
        if any(not same(centre, centres[0]) for centre in centres[1:]):
            listed = ", ".join(value_text(centre) for centre in centres)
            self.notes.append(f"{path} joins paths whose fields are centred differently (unit 0 at input pixels {listed})")

    def _parameters(self, operation: Op, outcome: Outcome) -> Any:
        """The formula's count if it claims parameters seen here for the first time; elements of any other new one."""
        fresh = [tensor for tensor in operation.tensors if tensor.parameter and tensor.parameter not in self.counted]
        claimed = [tensor for tensor in outcome.claimed if tensor.parameter]
        if claimed and all(tensor in fresh for tensor in claimed):
            count, rest = outcome.params, [tensor for tensor in fresh if tensor not in claimed]
        else:
            count, rest = 0, fresh
        count += sum(math.prod(tensor.shape) for tensor in rest)
        self.counted.update(tensor.parameter for tensor in fresh if tensor.parameter)
        return count

    def _row(self, group: dict[str, Any]) -> Row:
        output: Value = group["output"]
        shape = _batchless(output.shape)
        macs = _total(group["macs"])
        rule = self.rules.get(group["kind"])
        if rule is not None:
            macs = rule(_batchless(group["input"]), shape)
        field = output.field
        return Row(
            group["path"],
            group["kind"],
            shape,
            _total(group["params"]),
            macs,
            None if field is None else field.size,
            None if field is None else field.jump,
        )


def _total(values: list[Any]) -> Any:
    from symconv.networks.analyze import total

    return total([value for value in values if not (isinstance(value, int) and value == 0)]) if values else 0


def _batchless(shape: tuple[Any, ...]) -> tuple[Any, ...]:
    return tuple(shape[1:]) if shape and shape[0] == 1 else tuple(shape)


def _expressions(shape: Any) -> tuple[Any, ...]:
    """torch's sizes as its sympy expressions: compared as expressions, never through a sample's values
    (comparing SymInts would decide by the sample and record a new guard)."""
    return tuple(size if isinstance(size, int) else size.node.expr for size in shape)


def _is_size(value: Any) -> bool:
    return isinstance(value, (int, float, bool)) or type(value).__name__ in ("SymInt", "SymFloat", "SymBool")


def _flat_values(value: Any) -> list[Any]:
    if isinstance(value, (list, tuple)):
        return [entry for item in value for entry in _flat_values(item)]
    return [value]


def _user_inputs(program: Any) -> set[str]:
    return {spec.arg.name for spec in program.graph_signature.input_specs if spec.kind.name == "USER_INPUT"}


def _parameter_shape(program: Any, name: str) -> tuple[int, ...]:
    return tuple(program.state_dict[name].shape)
