"""Safe arithmetic expressions for twin files.

An expression such as ``value * 9 / 5 + 32`` is parsed with :mod:`ast` and checked
against an allow-list (numbers, names, arithmetic, comparisons, a few math
functions). Anything else is rejected when the twin loads; nothing is ever passed to
``eval``: the checked tree is evaluated by a small interpreter.

Every number is a float, so no evaluation can be slow: Python's integers grow without
bound (``((10**64)**64)**64`` would run for minutes), floats overflow at once. Parts
without names are computed when the twin loads (``2 * pi`` becomes a number), so a
constant that cannot be computed is a load error.
"""

from __future__ import annotations

import ast
import difflib
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
    "abs": (abs, 1, 1), "min": (min, 2, 8), "max": (max, 2, 8),
    "round": (lambda x, digits=0: float(round(x, int(digits))), 1, 2),  # a float: see the module docstring
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
_MAX_LENGTH = 500  # characters: with floats, this bounds the cost of one evaluation


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
        self.used_names: set[str] = set()
        self._check(tree.body)
        self.tree = self._fold(tree.body)
        """The checked tree, constant parts computed (read it, never change it)."""

    def _check(self, node: ast.AST) -> None:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise ExpressionError(f"only numbers are allowed, not {node.value!r}")
            try:
                node.value = float(node.value)
            except OverflowError:
                raise ExpressionError(f"number too large: {str(node.value)[:20]}…") from None
        elif isinstance(node, ast.Name):
            if node.id not in self._names and node.id not in CONSTANTS:
                raise ExpressionError(f"unknown name {node.id!r}{_known(node.id, self._names)}")
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

    def _fold(self, node: ast.AST) -> ast.AST:
        """``node`` with every part that names no signal replaced by its value."""
        for name, value in ast.iter_fields(node):
            if isinstance(value, ast.expr):
                setattr(node, name, self._fold(value))
            elif isinstance(value, list):
                setattr(node, name, [self._fold(v) if isinstance(v, ast.expr) else v for v in value])
        children = node.args if isinstance(node, ast.Call) else [
            c for c in ast.iter_child_nodes(node) if isinstance(c, ast.expr)]
        constant = isinstance(node, ast.Name) and node.id in CONSTANTS and node.id not in self._names
        constant |= (not isinstance(node, (ast.Name, ast.Constant)) and all(isinstance(c, ast.Constant) for c in children)
                     and not (isinstance(node, ast.Call) and node.func.id not in FUNCTIONS))  # noise() is not constant
        if not constant:
            return node
        try:
            value = self._eval(node, {})
        except OverflowError:
            raise ExpressionError(f"{ast.unparse(node)} is too large to compute") from None
        except (ArithmeticError, ValueError, TypeError) as exc:
            raise ExpressionError(f"{ast.unparse(node)} cannot be computed ({exc})") from None
        if isinstance(value, complex):
            raise ExpressionError(f"{ast.unparse(node)} is not a real number")
        return ast.Constant(float(value))

    def __call__(self, names: Mapping[str, float]) -> float:
        """Evaluate with ``names``; raises ``ArithmeticError``/``ValueError`` on bad maths."""
        result = self._eval(self.tree, names)
        if isinstance(result, complex):  # (-8) ** 0.5
            raise ValueError("the result is not a real number")
        return float(result)

    def _eval(self, node, names):
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.Name):
            return names[node.id] if node.id in names else CONSTANTS[node.id]
        if isinstance(node, ast.BinOp):
            return _BINARY[type(node.op)](self._eval(node.left, names), self._eval(node.right, names))
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


def _known(name: str, names: set[str]) -> str:
    """`` (did you mean 'a'?)`` for a close name, else `` (known: a, b)`` if there are few."""
    close = difflib.get_close_matches(name, sorted(names), n=1)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return f" (known: {', '.join(sorted(names)) or 'none'})" if len(names) <= 6 else ""
