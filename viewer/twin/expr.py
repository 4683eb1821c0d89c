"""Safe arithmetic expressions for twin files.

An expression such as ``value * 9 / 5 + 32`` is parsed with :mod:`ast` and checked
against an allow-list (numbers, names, arithmetic, comparisons, a few math
functions). Anything else is rejected when the twin loads; nothing is ever passed to
``eval``: the checked tree is evaluated by a small interpreter.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping

_BINARY = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY = {ast.USub: operator.neg, ast.UAdd: operator.pos, ast.Not: operator.not_}
_COMPARE = {
    ast.Lt: operator.lt, ast.LtE: operator.le, ast.Gt: operator.gt, ast.GtE: operator.ge,
    ast.Eq: operator.eq, ast.NotEq: operator.ne,
}
#: Functions an expression may call: name -> (function, fewest, most arguments).
FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {
    "abs": (abs, 1, 1), "min": (min, 2, 8), "max": (max, 2, 8), "round": (round, 1, 2),
    "sqrt": (math.sqrt, 1, 1), "exp": (math.exp, 1, 1), "log": (math.log, 1, 2),
    "log10": (math.log10, 1, 1), "sin": (math.sin, 1, 1), "cos": (math.cos, 1, 1),
    "tan": (math.tan, 1, 1), "atan2": (math.atan2, 2, 2),
    "radians": (math.radians, 1, 1), "degrees": (math.degrees, 1, 1),
    "clamp": (lambda x, lo, hi: min(max(x, lo), hi), 3, 3),
}
#: Functions only the simulator has (``noise(sigma)``): here for the twin checker, which
#: needs their names and arity; the simulator supplies the real ``noise``.
SIMULATION_FUNCTIONS: dict[str, tuple[Callable[..., float], int, int]] = {"noise": (lambda sigma: 0.0, 1, 1)}
#: Named constants.
CONSTANTS = {"pi": math.pi, "e": math.e}
_MAX_EXPONENT = 64.0  # refuses 9**9**9 and friends before they hang the UI thread
_MAX_LENGTH = 500


class ExpressionError(ValueError):
    """An expression is not allowed or cannot be parsed."""


class Expression:
    """A checked expression, callable with a mapping of names to numbers.

    Parameters
    ----------
    source : str
        The expression text.
    names : iterable of str
        Names the expression may use (besides ``pi``, ``e`` and the functions).
    functions : mapping, optional
        Extra functions allowed beside :data:`FUNCTIONS`, in the same form
        (e.g. ``noise`` in the simulator).

    Raises
    ------
    ExpressionError
        With a message saying what is not allowed.
    """

    def __init__(self, source: str, names=("value",), functions: Mapping | None = None):
        self.source = source
        self._functions = {**FUNCTIONS, **(functions or {})}
        self._names = set(names)
        if len(source) > _MAX_LENGTH:
            raise ExpressionError(f"expression longer than {_MAX_LENGTH} characters")
        try:
            tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise ExpressionError(f"cannot parse expression {source!r}: {exc.msg}") from None
        self._tree = tree.body
        self.used_names: set[str] = set()
        self._check(self._tree)

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed, not {node.value!r}")
        elif isinstance(node, ast.Name):
            if node.id not in self._names and node.id not in CONSTANTS:
                known = ", ".join(sorted(self._names)) or "none"
                raise ExpressionError(f"unknown name {node.id!r} (known: {known})")
            self.used_names.add(node.id)
        elif isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            self._check(node.left)
            self._check(node.right)
        elif isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            self._check(node.operand)
        elif isinstance(node, ast.BoolOp):
            for value in node.values:
                self._check(value)
        elif isinstance(node, ast.Compare) and all(type(op) in _COMPARE for op in node.ops):
            for child in (node.left, *node.comparators):
                self._check(child)
        elif isinstance(node, ast.IfExp):
            for child in (node.test, node.body, node.orelse):
                self._check(child)
        elif isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in self._functions:
                allowed = ", ".join(sorted(self._functions))
                raise ExpressionError(f"only these functions may be called: {allowed}")
            if node.keywords or any(isinstance(a, ast.Starred) for a in node.args):
                raise ExpressionError("keyword and * arguments are not allowed")
            _, fewest, most = self._functions[node.func.id]
            if not fewest <= len(node.args) <= most:
                count = str(fewest) if fewest == most else f"{fewest} to {most}"
                raise ExpressionError(f"{node.func.id}() takes {count} arguments, not {len(node.args)}")
            for arg in node.args:
                self._check(arg)
        else:
            raise ExpressionError(f"{type(node).__name__} is not allowed in an expression")

    def __call__(self, names: Mapping[str, float]) -> float:
        """Evaluate with ``names``; raises ``ArithmeticError``/``ValueError`` on bad maths."""
        result = self._eval(self._tree, names)
        if isinstance(result, complex):  # (-8) ** 0.5
            raise ValueError("the result is not a real number")
        return float(result)

    def _eval(self, node, names):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id] if node.id in names else CONSTANTS[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, names), self._eval(node.right, names)
            if isinstance(node.op, ast.Pow) and abs(right) > _MAX_EXPONENT:
                raise OverflowError(f"exponent {right} too large")
            return _BINARY[type(node.op)](left, right)
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, names))
        if isinstance(node, ast.BoolOp):
            values = [self._eval(v, names) for v in node.values]
            return all(values) if isinstance(node.op, ast.And) else any(values)
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, names)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, names)
                if not _COMPARE[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            branch = node.body if self._eval(node.test, names) else node.orelse
            return self._eval(branch, names)
        func = self._functions[node.func.id][0]
        return func(*(self._eval(a, names) for a in node.args))

    def __repr__(self) -> str:
        return f"Expression({self.source!r})"
