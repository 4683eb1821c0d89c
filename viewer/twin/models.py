"""Behaviour models in a twin file: signals computed from other signals.

A model signal has an expression of other signals (``model``) and at most one kind of
state: a first-order ``lag``, a moving ``average``, a ``rate`` of change or an
``integrate``-or. Here they are checked when the twin loads: names, the order they are
computed in (a cycle is a load error) and units (:func:`model_unit`).

Units are checked where signals meet signals. A plain number carries whatever unit its
place needs (in ``ambient + 0.9e-5 * rpm**2`` the 0.9e-5 is in °C/rpm²), so a product
with a number has no unit to check; a sum, difference, comparison or ``min``/``max`` of
signals must be in one unit, the argument of ``exp``, ``log`` or ``sin`` must have none,
and the result must be in the signal's declared unit (or one it converts to by a factor:
K/s as K/min).
"""

from __future__ import annotations

import ast
import dataclasses
import math
from dataclasses import dataclass

import pint

from viewer.twin.expr import Expression
from viewer.twin.units import UnitError, registry

@dataclass(frozen=True)
class ModelDef:
    """A model signal, checked: what the runtime (:mod:`viewer.live.models`) computes.

    ``value = state(expr(inputs)) * scale``, where ``state`` is ``kind`` over ``seconds``.
    """

    expr: Expression
    inputs: tuple[str, ...]  # the signals the expression names
    kind: str | None = None  # lag, average, rate, integrate (schema.MODEL_STATE), or None: the expression as it is
    seconds: float | None = None  # the lag's time constant, the average's or rate's window
    scale: float = 1.0  # into the declared unit (K/s -> K/min: 60)


def evaluation_order(inputs: dict[str, tuple[str, ...]]) -> tuple[list[str], list[list[str]]]:
    """Models in an order where each comes after the models it reads, and the cycles.

    Parameters
    ----------
    inputs : dict of str to tuple of str
        Each model signal's inputs (which may be measured signals or models).

    Returns
    -------
    order : list of str
        The models not in a cycle, inputs first.
    cycles : list of list of str
        Each cycle once, as the path that closes it (``[a, b, a]``).
    """
    order, cycles, done, path = [], [], set(), []

    def visit(name: str) -> None:
        if name in done:
            return
        if name in path:
            cycle = path[path.index(name):] + [name]
            if not any(set(cycle) == set(c) for c in cycles):
                cycles.append(cycle)
            return
        path.append(name)
        for used in inputs[name]:
            if used in inputs:
                visit(used)
        path.pop()
        done.add(name)
        if not any(name in c for c in cycles):
            order.append(name)

    for name in inputs:
        visit(name)
    # a model downstream of a cycle has no value either; it is left out, not computed
    cyclic = {n for c in cycles for n in c}
    order = [n for n in order if not _reads_any(n, cyclic, inputs)]
    return order, cycles


def _reads_any(name: str, names: set[str], inputs: dict) -> bool:
    seen, todo = set(), [name]
    while todo:
        for used in inputs.get(todo.pop(), ()):
            if used in names:
                return True
            if used not in seen:
                seen.add(used)
                todo.append(used)
    return False


@dataclass(frozen=True)
class _Unit:
    """A unit met in an expression; None in its place means any unit (a plain number)."""

    unit: pint.Unit
    text: str
    difference: bool = False  # of two temperatures on an offset scale (°C - °C): a size in K
    @property
    def root(self) -> tuple[float, pint.Unit]:
        return registry().get_root_units(self.unit)

    def same_size(self, other: _Unit) -> bool:
        """Whether values in the two can be added as numbers (°C and K, not °C and °F)."""
        (f, a), (g, b) = self.root, other.root
        return a == b and math.isclose(f, g, rel_tol=1e-9)

    def times(self, other: _Unit, power: float = 1.0) -> _Unit:
        return _Unit(self.unit * other.unit ** power, f"{self.text}·{other.text}" if power > 0 else f"{self.text}/{other.text}")

    def power(self, n: float) -> _Unit:
        return _Unit(self.unit ** n, f"({self.text})^{n:g}")

    @property
    def dimensionless(self) -> bool:
        return self.root[1].dimensionless or self.root[1] == registry().Unit("radian")


_DIMENSIONLESS_FUNCTIONS = {"exp", "log", "log10", "sin", "cos", "tan"}
_SAME_UNIT_FUNCTIONS = {"abs", "round", "min", "max", "clamp"}


def model_unit(model: ModelDef, units: dict[str, str], declared: str) -> float:
    """Check the units of ``model``; return the scale from what it computes to ``declared``.

    Parameters
    ----------
    model : ModelDef
        The model (its ``scale`` is not used).
    units : dict of str to str
        Each signal's unit ("" for none: any unit).
    declared : str
        The model signal's unit.

    Raises
    ------
    UnitError
        Saying where signals of different units meet, or that the result is not in
        ``declared``.
    """
    known = {name: _Unit(registry().Unit(u), u) for name, u in units.items() if u}
    result = _UnitWalk(known).unit(model.expr.tree)
    if result is not None and model.kind in ("rate", "integrate"):
        second = _Unit(registry().Unit("s"), "s")
        result = result.times(second, -1.0 if model.kind == "rate" else 1.0)
    if result is None or not declared:
        return 1.0
    want = _Unit(registry().Unit(declared), declared)
    (f, a), (g, b) = result.root, want.root
    if a != b:
        raise UnitError(f"the model gives {_shown(result)}, not {declared}")
    if math.isclose(f, g, rel_tol=1e-9):
        return 1.0
    if _offset(result) or _offset(want):  # °C as °F is not a factor: say so
        raise UnitError(f"the model gives {_shown(result)}, not {declared}: convert in the model")
    return f / g


def _shown(u: _Unit) -> str:
    return u.text if u.text else f"{u.unit:~P}"


def _offset(u: _Unit) -> bool:
    """Whether ``u`` is a point on a scale whose zero is not nothing (°C, °F)."""
    if u.difference or len(u.unit._units) != 1 or next(iter(u.unit._units.values())) != 1:
        return False  # a difference, or °C/s: sizes, converted by a factor
    return abs(registry().Quantity(0.0, u.unit).to_base_units().magnitude) > 0


class _UnitWalk:
    def __init__(self, known: dict[str, _Unit]):
        self.known = known

    def unit(self, node: ast.AST) -> _Unit | None:
        if isinstance(node, ast.Constant):
            return None
        if isinstance(node, ast.Name):
            return self.known.get(node.id)
        if isinstance(node, ast.UnaryOp):
            inner = self.unit(node.operand)
            return None if isinstance(node.op, ast.Not) else inner
        if isinstance(node, ast.BinOp):
            left, right = self.unit(node.left), self.unit(node.right)
            if isinstance(node.op, (ast.Add, ast.Sub, ast.Mod)):
                unit = self.same([node.left, node.right], [left, right], node)
                if isinstance(node.op, ast.Sub) and left is not None and right is not None and _offset(left):
                    return dataclasses.replace(unit, difference=True)
                return unit
            if isinstance(node.op, ast.Pow):
                return self.pow(node, left, right)
            if left is None or right is None:
                return None  # a number's unit is whatever makes the product right
            return left.times(right, 1.0 if isinstance(node.op, ast.Mult) else -1.0)
        if isinstance(node, ast.Compare):
            self.same([node.left, *node.comparators], [self.unit(n) for n in (node.left, *node.comparators)], node)
            return None
        if isinstance(node, ast.BoolOp):
            for value in node.values:
                self.unit(value)
            return None
        if isinstance(node, ast.IfExp):
            self.unit(node.test)
            return self.same([node.body, node.orelse], [self.unit(node.body), self.unit(node.orelse)], node)
        if isinstance(node, ast.Call):
            return self.call(node)
        return None

    def same(self, nodes, units, where) -> _Unit | None:
        """The one unit of ``nodes`` (None if none has one); a UnitError if they differ."""
        found = [(n, u) for n, u in zip(nodes, units) if u is not None]
        for (n, u), (m, w) in zip(found, found[1:]):
            if not u.same_size(w):
                raise UnitError(f"{ast.unparse(n)} ({_shown(u)}) and {ast.unparse(m)} ({_shown(w)}) are in "
                                f"different units (in {ast.unparse(where)}): convert one of them first")
        return found[0][1] if found else None

    def pow(self, node, base: _Unit | None, exponent: _Unit | None) -> _Unit | None:
        if exponent is not None and not exponent.dimensionless:
            raise UnitError(f"the power {ast.unparse(node.right)} is in {_shown(exponent)}: a power has no unit")
        if base is None:
            return None
        if isinstance(node.right, ast.Constant):
            return base.power(node.right.value)
        if not base.dimensionless:
            raise UnitError(f"{ast.unparse(node.left)} in {_shown(base)} to a power that is not a number "
                            f"(in {ast.unparse(node)}): its unit would change with the value")
        return base

    def call(self, node: ast.Call) -> _Unit | None:
        name, args = node.func.id, [self.unit(a) for a in node.args]
        if name in _SAME_UNIT_FUNCTIONS:
            return self.same(node.args[:1] if name == "round" else node.args, args[:1] if name == "round" else args, node)
        if name == "sqrt":
            return None if args[0] is None else args[0].power(0.5)
        if name in _DIMENSIONLESS_FUNCTIONS:
            for arg, u in zip(node.args, args):
                if u is not None and not u.dimensionless:
                    raise UnitError(f"{name}() of {ast.unparse(arg)} in {_shown(u)}: {name} takes a plain "
                                    "number (divide by a reference value first)")
            return None
        if name == "atan2":
            self.same(node.args, args, node)
        return None  # radians(), degrees(), atan2(): plain numbers
