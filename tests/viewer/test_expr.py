"""Twin expressions: arithmetic allowed, everything else refused at load."""

import ast
import math
import threading

import pytest

from viewer.twin.expr import Expression, ExpressionError


@pytest.mark.parametrize(
    "source, value, expected",
    [
        ("value * 9 / 5 + 32", 100, 212.0),
        ("(value - 32) * 5 / 9", 212, 100.0),
        ("sqrt(value) + abs(-1)", 16, 5.0),
        ("clamp(value, 0, 10)", 42, 10.0),
        ("1 if value > 3 else 0", 4, 1.0),
        ("value ** 2", 3, 9.0),
        ("-value % 7", 3, 4.0),
        ("pi * 0 + max(1, value)", 2, 2.0),
    ],
)
def test_allowed_expressions_compute(source, value, expected):
    assert Expression(source)({"value": value}) == pytest.approx(expected)


@pytest.mark.parametrize(
    "source",
    [
        "().__class__",
        "__import__('os')",
        "value.__class__",
        "open('/etc/passwd')",
        "[1, 2][0]",
        "'text'",
        "lambda: 1",
        "value if True else os",
        "eval('1')",
        "(x := 1)",
        "[v for v in (1, 2)]",
        "sin(value, key=1)",
        "min(value)",
        "clamp(value)",
        "sqrt(*[1])",
        "import os",
        "x" * 600,
    ],
)
def test_unsafe_expressions_are_refused(source):
    with pytest.raises(ExpressionError):
        Expression(source)


@pytest.mark.parametrize("source", ["9 ** 9 ** 9", "((((10**64)**64)**64)**64)**64", "exp(1000) * value",
                                    "value + log(0)"])
def test_a_constant_that_cannot_be_computed_is_refused_at_load(source):
    with pytest.raises(ExpressionError, match="too large|cannot be computed"):
        Expression(source)


@pytest.mark.parametrize("source", ["value ** value", "(value ** 64) ** 64", "round(value) ** round(value)",
                                    "value ** 9 ** 9"])
def test_no_value_can_make_an_evaluation_slow(source):
    # Evaluated in floats: an overflow is immediate (as integers, these ran for minutes).
    expr = Expression(source)

    def evaluate():
        for value in (1e6, 1e300, 12345678.0):
            with pytest.raises(OverflowError):
                expr({"value": value})

    worker = threading.Thread(target=evaluate, daemon=True)
    worker.start()
    worker.join(timeout=10)  # a hang guard, not a speed test: each evaluation takes microseconds
    assert not worker.is_alive(), "evaluation did not finish"


def test_constant_parts_are_computed_once_at_load():
    expr = Expression("value * 9 / 5 + 32 + 2 * pi - 2 * pi")
    assert expr({"value": 100.0}) == pytest.approx(212.0)
    assert "pi" not in ast.unparse(expr.tree)  # folded to a number


def test_round_keeps_floats():
    assert Expression("round(value, 1)")({"value": 2.345}) == 2.3
    assert isinstance(Expression("round(value)")({"value": 2.5}), float)


def test_unknown_name_is_refused_with_the_known_names():
    with pytest.raises(ExpressionError, match="unknown name 'temp'.*value"):
        Expression("temp * 2")


def test_extra_functions_are_allowed_only_where_given():
    noise = {"noise": (lambda s: s, 1, 1)}
    assert Expression("noise(1) * 0 + t", names=("t",), functions=noise)({"t": 2}) == 2
    with pytest.raises(ExpressionError):
        Expression("noise(1)", names=("t",))


def test_math_errors_surface_as_arithmetic_or_value_errors():
    with pytest.raises(ZeroDivisionError):
        Expression("value / 0")({"value": 1})
    with pytest.raises(ValueError, match="not a real number"):
        Expression("value ** 0.5")({"value": -8})
    assert math.isnan(Expression("value")({"value": float("nan")}))
