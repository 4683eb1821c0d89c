"""Scenario files: virtual faults over time, for training and "what if".

A scenario changes what the viewer shows of named signals, from a time after it starts
and for a while: a drift (``ramp``, units per minute), a ``step``, added ``noise``, an
``oscillate``-ion, a ``freeze`` (the value stops updating and turns stale), a
``dropout`` (the device goes offline) or an ``override`` (a curve replaces the value).
It never publishes anything (:mod:`viewer.live.faults` applies it to decoded values).

```yaml
scenario: DE bearing overheating
description: lubrication failure on the drive-end bearing
faults:
  - {signal: bearing_de_temp, ramp: 1.5, start: 60}          # +1.5 °C a minute from 1 min on
  - {signal: vibration, step: 1.2, start: 300, duration: 600}
```
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from viewer.twin.expr import Expression, ExpressionError
from viewer.twin.loader import Problem, TwinError, suggest
from viewer.twin.yaml_lines import YamlLimitError, load_with_lines, read_limited

#: The kinds of fault, one per entry.
KINDS = ("ramp", "step", "noise", "oscillate", "freeze", "dropout", "override")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Oscillation(_Strict):
    """A sine added to the value."""

    amplitude: float
    period: Annotated[float, Field(gt=0)]  # seconds


class FaultSpec(_Strict):
    """One virtual fault on one signal, from ``start`` seconds after the scenario starts,
    for ``duration`` seconds (none: to the end)."""

    signal: Annotated[str, Field(min_length=1)]
    start: Annotated[float, Field(ge=0)] = 0.0
    duration: Annotated[float, Field(gt=0)] | None = None
    ramp: float | None = None  # per minute, in the signal's unit
    step: float | None = None
    noise: Annotated[float, Field(gt=0)] | None = None  # standard deviation
    oscillate: Oscillation | None = None
    freeze: bool = False
    dropout: bool = False
    override: str | None = None  # an expression of t (seconds into the fault) and value

    @property
    def kind(self) -> str:
        """Which fault this is: one of :data:`KINDS`."""
        return next(k for k in KINDS if getattr(self, k) not in (None, False))

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in KINDS if getattr(self, k) not in (None, False)]
        if len(kinds) != 1:
            raise ValueError(f"a fault needs exactly one of {', '.join(KINDS)}; found {', '.join(kinds) or 'none'}")
        return self


class ScenarioSpec(_Strict):
    """A scenario file."""

    scenario: Annotated[str, Field(min_length=1)]
    description: str = ""
    faults: list[FaultSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Scenario:
    """A checked scenario: its spec, and each override's compiled expression (by fault index)."""

    name: str
    path: Path
    spec: ScenarioSpec
    overrides: dict[int, Expression]


def load_scenario(path, signals, text: str | None = None) -> Scenario:
    """Load and check a scenario for a twin with ``signals`` (name -> Signal); ``text``
    is the file's content when it does not come from ``path`` (a recording's copy).

    Raises
    ------
    TwinError
        Listing every problem as ``FILE:LINE: message``.
    """
    path, label = Path(path), str(path)
    try:
        data, lines = load_with_lines(read_limited(path) if text is None else text)
    except YamlLimitError as exc:
        raise TwinError([Problem(label, exc.line, str(exc))]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise TwinError([Problem(label, 0, f"cannot read scenario file: {getattr(exc, 'strerror', None) or exc}")]) from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise TwinError([Problem(label, mark.line + 1 if mark else 0, f"not valid YAML: {exc}")]) from None
    try:
        spec = ScenarioSpec.model_validate(data)
    except ValidationError as exc:
        raise TwinError([Problem(label, lines.line(tuple(e["loc"])), f"{_where(e['loc'])}: "
                                 f"{e['msg'].removeprefix('Value error, ')}") for e in exc.errors()]) from None
    problems, overrides = [], {}
    for i, fault in enumerate(spec.faults):
        if fault.signal not in signals:
            problems.append(Problem(label, lines.line(("faults", i, "signal")),
                                    f"unknown signal {fault.signal!r}{suggest(fault.signal, signals)}"))
        if fault.override is not None:
            try:
                overrides[i] = Expression(fault.override, names=("t", "value"))
            except ExpressionError as exc:
                problems.append(Problem(label, lines.line(("faults", i, "override")), f"override: {exc}"))
    if problems:
        raise TwinError(problems)
    return Scenario(spec.scenario, path, spec, overrides)


def _where(loc: tuple) -> str:
    """``faults item 2 start``: a location as the file reads, items counted from 1."""
    return " ".join(f"item {k + 1}" if isinstance(k, int) else str(k) for k in loc) or "scenario"
