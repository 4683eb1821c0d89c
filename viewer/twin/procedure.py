"""Service procedures: step-by-step walkthroughs on the twin, checked when it loads.

A twin lists its procedures under ``procedures:``, each a file beside it (a path) or a
mapping written in the twin file itself:

```yaml
procedure: Mechanical seal replacement
description: Replace the pump's mechanical seal.   # Markdown
poses:                                              # named part moves, for any step
  coupling_out: [{part: coupling, by: [0, 0, 0.35]}]   # metres, in the machine's frame
steps:
  - title: Check the pressure is down
    text: The discharge gauge must read **below 0.5 bar**.
    camera: {fit: [pressure_gauge_discharge], view: front}
    highlight: [pressure_gauge_discharge]
    condition: {holds: "discharge_pressure < 0.5", for: 5}
  - title: Measure the shaft run-out
    measure: {name: run-out, unit: mm, range: [0, 0.05]}
```

A step is completed by the technician; what it needs first is its live ``condition``
(an expression of the twin's signals that must hold ``for`` seconds, and/or
``no_alarm`` on parts), its ``measure``-ment (a number in its accepted range) and its
``note``. Every problem is reported at once as ``FILE:LINE: message``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from viewer.twin.expr import Expression, ExpressionError
from viewer.twin.messages import schema_problems
from viewer.twin.problems import Problem, suggest
from viewer.twin.units import UnitError, check_unit
from viewer.twin.yaml_lines import Lines, YamlLimitError, load_with_lines, read_limited

Vec3 = tuple[float, float, float]
#: Image files a step may show (what Qt reads without plug-ins).
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".gif", ".bmp")
#: Named views a step's camera may look from (as the View menu's).
VIEW_NAMES = ("iso", "front", "side", "top")
#: The number of active alarms in the twin: a name every condition may use.
ACTIVE_ALARMS = "active_alarms"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


class CameraSpec(_Strict):
    """Where a step looks from: a camera (``position``, ``focal_point``, ``up``) or the
    parts to ``fit`` in view (from a named ``view``, else the direction it looks from)."""

    position: Vec3 | None = None
    focal_point: Vec3 | None = None
    up: Vec3 = (0.0, 0.0, 1.0)
    fit: list[str] | None = None
    view: Literal["iso", "front", "side", "top"] | None = None

    @model_validator(mode="after")
    def _one_way(self):
        placed = self.position is not None or self.focal_point is not None
        if placed == (self.fit is not None):
            raise ValueError("a camera has either position and focal_point, or fit (the parts to frame)")
        if placed and (self.position is None or self.focal_point is None):
            raise ValueError("a camera placed by position needs a focal_point too (and the other way round)")
        if placed and self.view is not None:
            raise ValueError("view goes with fit; a placed camera has its own direction")
        return self


class MoveSpec(_Strict):
    """A part (and what rides on it) moved ``by`` metres in the machine's frame."""

    part: Annotated[str, Field(min_length=1)]
    by: Vec3


class ConditionSpec(_Strict):
    """What must hold, for ``for`` seconds, before a step can be completed."""

    holds: Annotated[str, Field(min_length=1)] | None = None  # an expression of the twin's signals
    no_alarm: list[str] | None = None  # parts with no active alarm on them (or under them)
    for_: Annotated[float, Field(ge=0, alias="for")] = 0.0

    @model_validator(mode="after")
    def _something(self):
        if self.holds is None and not self.no_alarm:
            raise ValueError("a condition needs holds (an expression), no_alarm (parts), or both")
        return self


class MeasureSpec(_Strict):
    """A number the technician types in: accepted only inside ``range``."""

    name: Annotated[str, Field(min_length=1)]
    unit: str = ""
    range: tuple[float, float] | None = None

    @field_validator("range")
    @classmethod
    def _ordered(cls, value):
        if value is not None and value[0] > value[1]:
            raise ValueError(f"range must go from low to high, not {value[0]:g} to {value[1]:g}")
        return value


class NoteSpec(_Strict):
    """A note the technician writes: ``prompt`` says what about."""

    prompt: Annotated[str, Field(min_length=1)]
    required: bool = True


class StepSpec(_Strict):
    """One step of a procedure."""

    title: Annotated[str, Field(min_length=1)]
    text: str = ""  # Markdown
    images: list[str] = []
    camera: CameraSpec | None = None
    highlight: list[str] = []
    isolate: list[str] = []  # the parts to keep; the others are dimmed or hidden
    others: Literal["dim", "hide"] = "dim"
    move: list[MoveSpec] = []
    pose: str | None = None  # a name in the procedure's poses
    condition: ConditionSpec | None = None
    measure: MeasureSpec | None = None
    note: NoteSpec | None = None
    signals: list[str] = []  # recorded in the report with the step, beside the condition's and the parts'

    @model_validator(mode="after")
    def _hide_what(self):
        if self.others == "hide" and not self.isolate:
            raise ValueError("others: hide hides what is not isolated: list the parts to keep in isolate")
        return self

    @field_validator("condition", mode="before")
    @classmethod
    def _condition_text(cls, value):
        return {"holds": value} if isinstance(value, str) else value

    @field_validator("note", mode="before")
    @classmethod
    def _note_text(cls, value):
        return {"prompt": value} if isinstance(value, str) else value


class ProcedureSpec(_Strict):
    """A procedure file, or one mapping of a twin's ``procedures``."""

    procedure: Annotated[str, Field(min_length=1)]
    description: str = ""
    poses: dict[str, list[MoveSpec]] = {}
    steps: list[StepSpec] = Field(min_length=1)


@dataclass(frozen=True)
class Step:
    """A checked step: its spec, with what the checks resolved."""

    spec: StepSpec
    condition: Expression | None  # ``condition.holds``, compiled
    moves: tuple[MoveSpec, ...]  # its own and its pose's
    images: tuple[Path, ...]  # absolute
    line: int  # where it starts in its file

    @property
    def title(self) -> str:
        return self.spec.title


@dataclass(frozen=True)
class Procedure:
    """A checked procedure of a twin.

    ``source`` is the file it is written in and ``at`` its place there (``()``: the whole
    file; ``("procedures", 2)``: inline in a twin file), for authoring to save back to.
    """

    spec: ProcedureSpec
    steps: tuple[Step, ...]
    source: Path
    at: tuple = ()
    moved_parts: frozenset[str] = field(default_factory=frozenset)

    @property
    def title(self) -> str:
        return self.spec.procedure


def load_procedures(entries: list, twin_path: Path, twin_lines: Lines, parts, signals,
                    alarmed=None) -> tuple[list[Procedure], list[Problem]]:
    """Load and check a twin's ``procedures`` entries.

    Parameters
    ----------
    entries : list
        Paths (relative to the twin file) and inline mappings, as written.
    twin_path : Path
        The twin file; ``twin_lines`` its lines, for the inline ones.
    parts : collection of str or None
        The twin's part names (None: not known, when the meshes were not loaded).
    signals : collection of str
        The twin's signal names.
    alarmed : collection of str, optional
        The parts with an alarm on them or under them (None: not known): a ``no_alarm``
        part without one would hold for ever, and is a problem.

    Returns
    -------
    (procedures, problems)
        The procedures that have no problem, and every problem found.
    """
    procedures, problems = [], []
    for i, entry in enumerate(entries):
        if isinstance(entry, str):
            path = (twin_path.parent / entry)
            label = str(path)
            try:
                data, lines = load_with_lines(read_limited(path))
            except YamlLimitError as exc:
                problems.append(Problem(label, exc.line, str(exc)))
                continue
            except (OSError, UnicodeDecodeError) as exc:
                why = getattr(exc, "strerror", None) or str(exc)
                problems.append(Problem(str(twin_path), twin_lines.line(("procedures", i)),
                                        f"procedures item {i + 1}: cannot read {entry}: {why}"))
                continue
            except yaml.YAMLError as exc:
                mark = getattr(exc, "problem_mark", None)
                problems.append(Problem(label, mark.line + 1 if mark else 0, f"not valid YAML: {exc}"))
                continue
            problems += [Problem(label, line, message) for line, message in lines.duplicates]
            found, more = _check(data, path, lines, (), parts, signals, alarmed)
        elif isinstance(entry, dict):
            found, more = _check(entry, twin_path, twin_lines, ("procedures", i), parts, signals, alarmed)
        else:
            problems.append(Problem(str(twin_path), twin_lines.line(("procedures", i)), f"procedures item {i + 1}: "
                                    "a procedure is a file name or a mapping with procedure and steps"))
            continue
        problems += more
        if found is not None:
            procedures.append(found)
    titles = [p.title for p in procedures]
    for p in procedures:
        if titles.count(p.title) > 1:
            problems.append(Problem(str(p.source), _line(p), f"two procedures are called {p.title!r}: "
                                    "a walkthrough is chosen by its title"))
            break
    return procedures, problems


def _line(procedure: Procedure) -> int:
    return procedure.steps[0].line if procedure.steps else 1


def _check(data, path: Path, lines: Lines, at: tuple, parts, signals, alarmed) -> tuple[Procedure | None,
                                                                                       list[Problem]]:
    """Validate one procedure (``data`` at ``at`` in the file ``path``) and check its names."""
    label = str(path)
    problems: list[Problem] = []

    def error(loc: tuple, message: str, depth: int = 2) -> None:
        """``message`` about ``loc``, said to be in the step (the first ``depth`` keys of ``loc``)."""
        where = " ".join(f"item {k + 1}" if isinstance(k, int) else str(k) for k in at + loc[:depth])
        problems.append(Problem(label, lines.line(at + loc), f"{where}: {message}" if where else message))

    if not isinstance(data, dict):
        error((), "a procedure is a mapping with procedure (its title) and steps")
        return None, problems
    try:
        spec = ProcedureSpec.model_validate(data)
    except ValidationError as exc:
        for loc, message in schema_problems(exc.errors(), data, root=ProcedureSpec):
            error(loc, message, depth=0)  # the message says where
        return None, problems

    def known_part(loc: tuple, name: str) -> None:
        if parts is not None and name not in parts:
            error(loc, f"unknown part {name!r}{suggest(name, parts)}")

    for name, moves in spec.poses.items():
        for j, move in enumerate(moves):
            known_part(("poses", name, j, "part"), move.part)
    names = (*signals, ACTIVE_ALARMS)
    steps = []
    for i, step in enumerate(spec.steps):
        loc = ("steps", i)
        for key in ("highlight", "isolate"):
            for j, name in enumerate(getattr(step, key)):
                known_part(loc + (key, j), name)
        for j, name in enumerate(step.camera.fit or () if step.camera else ()):
            known_part(loc + ("camera", "fit", j), name)
        for j, move in enumerate(step.move):
            known_part(loc + ("move", j, "part"), move.part)
        moves = list(step.move)
        if step.pose is not None:
            if step.pose in spec.poses:
                moves += spec.poses[step.pose]
            else:
                error(loc + ("pose",), f"unknown pose {step.pose!r}{suggest(step.pose, spec.poses)}"
                      + ("" if spec.poses else " (the procedure has no poses)"))
        condition = None
        if step.condition is not None:
            if step.condition.holds is not None:
                try:
                    condition = Expression(step.condition.holds, names=names)
                except ExpressionError as exc:
                    error(loc + ("condition", "holds"), f"condition: {exc}")
            for j, name in enumerate(step.condition.no_alarm or ()):
                if parts is not None and name in parts and alarmed is not None and name not in alarmed:
                    error(loc + ("condition", "no_alarm", j), f"no_alarm: no alarm can show on {name} (no "
                          "signal with limits is bound to it or to a part under it): the condition would always hold")
                else:
                    known_part(loc + ("condition", "no_alarm", j), name)
        if step.measure is not None:
            try:
                check_unit(step.measure.unit)
            except UnitError as exc:
                error(loc + ("measure", "unit"), f"measure: {exc}")
        for j, name in enumerate(step.signals):
            if name not in signals:
                error(loc + ("signals", j), f"unknown signal {name!r}{suggest(name, signals)}")
        images = []
        for j, name in enumerate(step.images):
            image = (path.parent / name).resolve()
            if image.suffix.lower() not in IMAGE_SUFFIXES:
                error(loc + ("images", j), f"image {name}: not one of {', '.join(IMAGE_SUFFIXES)}")
            elif not image.is_file():
                error(loc + ("images", j), f"image not found: {name} (looked for {image})")
            images.append(image)
        steps.append(Step(step, condition, tuple(moves), tuple(images), lines.line(at + loc)))
    if problems:
        return None, problems
    moved = frozenset(m.part for s in steps for m in s.moves)
    return Procedure(spec, tuple(steps), path, at, moved), problems
