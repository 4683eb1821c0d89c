"""A walkthrough: one run of a service procedure on the twin, step by step.

Pure state, no drawing: the window feeds it the twin's values and active alarms every
frame (:meth:`Walkthrough.update`), the technician completes or skips steps, and what
happened is kept for the service report (:mod:`viewer.report`). Times are the
session's clock: the wall clock live, the recording's time on a replay.

A step's live condition must have held for its ``for`` seconds before the step can be
completed; while the step is the current one, a condition that stops holding sends it
back to waiting and is written down (a trainer wants to know).
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass, field
from pathlib import Path

from viewer.alarm_types import AlarmState
from viewer.live.replay import ReplaySource
from viewer.twin.procedure import ACTIVE_ALARMS, Procedure, Step

#: Alarm states in which the condition is there (acknowledged or not).
_ACTIVE = (AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED)


class StepState(enum.StrEnum):
    """Where a step is."""

    PENDING = "pending"
    CURRENT = "current"  # the one to do now, nothing to wait for
    WAITING = "waiting"  # the one to do now, its condition does not hold (long enough) yet
    DONE = "done"
    SKIPPED = "skipped"


class StepRefused(ValueError):
    """A step cannot be completed (yet); the message says why."""


@dataclass
class ConditionStatus:
    """How a step's condition stands now."""

    holds: bool = False  # at this moment
    held_for: float = 0.0  # seconds, without a break
    needed: float = 0.0  # seconds it must hold
    text: str = ""  # what it reads now, for the panel and the report

    @property
    def ready(self) -> bool:
        """Held long enough: the step may be completed."""
        return self.holds and self.held_for >= self.needed


@dataclass
class StepRecord:
    """What happened to one step."""

    state: StepState = StepState.PENDING
    started: float | None = None  # when it became the one to do
    finished: float | None = None  # done or skipped
    reason: str = ""  # why it was skipped
    measurement: float | None = None
    note: str = ""
    condition: str = ""  # its condition, as it read when the step was completed
    values: dict[str, tuple[float | None, str, str]] = field(default_factory=dict)
    """Signal -> (value, unit, quality) when the step was completed."""
    screenshot: bytes | None = None  # PNG of the twin at completion
    refused: int = 0  # attempts to complete it that were refused
    broken: int = 0  # times its condition stopped holding while it was current


@dataclass(frozen=True)
class Event:
    """One thing that happened, for the training record."""

    t: float
    step: int  # index, -1 for the whole walkthrough
    kind: str  # started, done, skipped, refused, condition met, condition lost, finished, abandoned
    text: str = ""


class Walkthrough:
    """One run of ``procedure`` on ``twin``.

    Parameters
    ----------
    procedure : Procedure
        What to walk through.
    twin : viewer.twin.loader.Twin
        Its signals (units), alarms and bindings (the signals each step records).
    technician : str
        Who does it; written in the report.
    now : float
        Start time, on the session's clock.
    data : str
        Where the values come from: ``live``, or a description of a replay or scenario.
    training : bool
        A training run (replay or scenario): the report is written for the trainer.
    """

    def __init__(self, procedure: Procedure, twin, technician: str, now: float, data: str = "live",
                 training: bool = False):
        self.procedure = procedure
        self.asset = twin.name
        self.technician = technician
        self.data = data
        self.training = training
        self.started = now
        self.ended: float | None = None
        self.outcome: str | None = None  # completed or abandoned, once ended
        self.abandon_reason = ""
        self.records = [StepRecord() for _ in procedure.steps]
        self.events: list[Event] = []
        self.index = 0  # the step shown
        self.active = 0  # the step to do: the first neither done nor skipped
        self.status = ConditionStatus()  # the active step's condition
        self._units = {name: s.unit for name, s in twin.signals.items()}
        self._alarms_on = _alarms_by_part(twin)
        self._alarm_signal = {a.id: a.signal for a in twin.alarms}
        self._recorded = [_recorded_signals(step, twin) for step in procedure.steps]
        self._values: dict[str, float | None] = {}
        self._qualities: dict[str, str] = {}
        self._held_since: float | None = None
        self._last: float | None = None  # the time of the last update
        self._was_ready = False
        self._now = now
        self._begin(0, now)

    @classmethod
    def on_session(cls, procedure: Procedure, session, technician: str) -> Walkthrough:
        """A walkthrough of ``procedure`` on a running :class:`~viewer.session.Session`, now:
        a training run when it plays a recording or a scenario fakes faults."""
        source, faults = session.source, session.ingest.faults
        replay = isinstance(source, ReplaySource)
        data = f"replay of {Path(source.path).name}" if replay else "live"
        if faults is not None:
            data += f", scenario {faults.scenario.name!r} (simulated faults)"
        return cls(procedure, session.twin, technician, session.clock(), data, training=replay or faults is not None)

    def follow(self, session) -> bool:
        """:meth:`update` with the session's twin as it is now."""
        now = session.clock()
        return self.update(session.state.values(), session.state.qualities(now),
                           active_alarm_ids(session.alarms.book, session.alarms.defs), now, session.state.history)

    # -- the clock and the data ----------------------------------------------------------

    @property
    def step(self) -> Step:
        """The step shown."""
        return self.procedure.steps[self.index]

    @property
    def running(self) -> bool:
        return self.outcome is None

    def update(self, values: dict, qualities: dict[str, str], active_alarms: set[str], now: float,
               history=None) -> bool:
        """Evaluate the active step's condition on the twin as it is at ``now``.

        Parameters
        ----------
        values, qualities : dict
            Every signal's latest value and quality (``live``, ``stale``, ...).
        active_alarms : set of str
            Ids of the twin's alarms that are active now (see :func:`active_alarm_ids`).
        now : float
            The session's clock.
        history : callable, optional
            ``history(name, since)`` -> a :class:`~viewer.history.Series` of the signal's
            samples (``TwinState.history``). With it, every sample since the last update
            is judged, so a condition that broke between two updates (a pressure spike, a
            replay played fast or sought forward) does not count as held.

        Returns
        -------
        bool
            Whether a step changed state (the panel redraws its list).
        """
        before, last = self._values, self._last
        self._values, self._qualities, self._now, self._last = values, qualities, now, now
        if not self.running or self.active >= len(self.records):
            return False
        step, record = self.procedure.steps[self.active], self.records[self.active]
        if step.spec.condition is None:
            self.status = ConditionStatus(holds=True)
            return False
        holds, text = self._evaluate(step, values, active_alarms)
        if last is not None and now < last:  # the clock went back (a replay sought back): count again
            self._held_since, self._was_ready = None, False
        elif history is not None and last is not None and step.condition is not None:
            self._held_since = self._held_through(step, before, last, now, history, len(active_alarms))
        if not holds:
            self._held_since = None
        elif self._held_since is None:
            self._held_since = now
        needed = step.spec.condition.for_
        self.status = ConditionStatus(holds, max(0.0, now - self._held_since) if holds else 0.0, needed, text)
        ready, was = self.status.ready, self._was_ready
        self._was_ready = ready
        if ready and not was:
            self.events.append(Event(now, self.active, "condition met", text))
        elif was and not ready:
            record.broken += 1
            self.events.append(Event(now, self.active, "condition lost", text))
        state = StepState.CURRENT if ready else StepState.WAITING
        changed, record.state = record.state is not state, state
        return changed

    def _held_through(self, step: Step, before: dict, since: float, now: float, history, alarms: int) -> float | None:
        """When the condition's expression began to hold without a break, judged at every
        sample of its signals after ``since`` up to ``now`` (values as they were then:
        ``before``, then each sample as it came), None if it did not hold at the last."""
        names = self._signals_in(step)
        series = {n: history(n, since) for n in names}
        times = sorted({float(t) for s in series.values() for t in s.t if since < t <= now})
        held, values, seen = self._held_since, dict(before), dict.fromkeys(names, 0)
        for t in times:
            for n, s in series.items():  # each signal's value as of t
                while seen[n] < len(s) and s.t[seen[n]] <= t:
                    if s.t[seen[n]] > since:
                        values[n] = float(s.value[seen[n]])
                    seen[n] += 1
            if self._expression_holds(step, values, alarms):
                held = t if held is None else held
            else:
                held = None
        return held

    def _expression_holds(self, step: Step, values: dict, alarms: int) -> bool:
        try:
            result = step.condition({**values, ACTIVE_ALARMS: float(alarms)})
        except (ArithmeticError, ValueError, TypeError):  # a value missing, a division by zero: not safe
            return False
        return bool(result) and not math.isnan(result)

    def _signals_in(self, step: Step) -> list[str]:
        """The signals a step's expression reads (not ``pi``, not ``active_alarms``)."""
        return sorted(step.condition.used_names & self._units.keys()) if step.condition is not None else []

    def _evaluate(self, step: Step, values: dict, active_alarms: set[str]) -> tuple[bool, str]:
        """Whether the step's condition holds now, and the readings it was judged on. Every
        value it relies on must be live: a signal it reads, and each signal with an alarm
        that its ``no_alarm`` parts (or ``active_alarms``) count on, for an alarm that
        cannot be raised says nothing about safety."""
        holds, parts = True, []
        names = self._signals_in(step)
        parts += [self._reading(n) for n in names]
        relied = set(names)
        if step.condition is not None and ACTIVE_ALARMS in step.condition.used_names:
            relied |= set(self._alarm_signal.values())
        for part in step.spec.condition.no_alarm or ():
            relied |= {self._alarm_signal[i] for i in self._alarms_on.get(part, ())}
        not_live = sorted(n for n in relied if self._qualities.get(n, "no data") != "live")
        if not_live:  # a value that is not live never confirms that it is safe
            holds = False
            parts.append("not live: " + ", ".join(f"{n} {self._qualities.get(n, 'no data')}" for n in not_live))
        elif step.condition is not None:
            holds = self._expression_holds(step, values, len(active_alarms))
        for part in step.spec.condition.no_alarm or ():
            on = sorted(active_alarms & self._alarms_on.get(part, set()))
            holds = holds and not on
            parts.append(f"alarm on {part}: {', '.join(on)}" if on else f"no alarm on {part}")
        return holds, "; ".join(parts)

    def _reading(self, name: str) -> str:
        value = self._values.get(name)
        unit = self._units.get(name, "")
        return f"{name} = {'—' if value is None else f'{value:.4g}'}{f' {unit}' if unit else ''}"

    # -- the technician's actions ----------------------------------------------------------

    def complete(self, measurement: float | None = None, note: str = "") -> None:
        """Complete the active step (the one shown), with its measurement and note.

        Raises
        ------
        StepRefused
            If it is not the step to do, its condition is not ready, its measurement is
            missing or out of range, or its note is required and empty. The attempt is
            written down (a wrong step, in a training run).
        """
        if not self.running:
            raise StepRefused("the walkthrough has ended")
        i, step, record = self.index, self.step, self.records[self.index]
        if i != self.active:
            raise StepRefused(f"step {i + 1} is {record.state}: the step to do is {self.active + 1}"
                              if i < self.active else f"step {self.active + 1} comes first")
        reason = self._not_ready(step, measurement, note)
        if reason:
            record.refused += 1
            self.events.append(Event(self._now, i, "refused", reason))
            raise StepRefused(reason)
        measure = step.spec.measure
        record.measurement = measurement if measure is not None else None
        record.note = note.strip()
        self._finish(i, StepState.DONE, "" if record.measurement is None else f"{measurement:g} {measure.unit}")

    def _not_ready(self, step: Step, measurement: float | None, note: str) -> str:
        """Why the step cannot be completed now ("" if it can)."""
        if step.spec.condition is not None and not self.status.ready:
            if self.status.holds:
                return (f"the condition has held for {self.status.held_for:.1f} s of the "
                        f"{self.status.needed:g} s it needs")
            return f"the condition does not hold: {self.status.text}"
        measure = step.spec.measure
        if measure is not None:
            if measurement is None or not math.isfinite(measurement):
                return f"type the {measure.name} measured"
            if measure.range is not None and not measure.range[0] <= measurement <= measure.range[1]:
                unit = f" {measure.unit}" if measure.unit else ""
                return (f"{measure.name} {measurement:g}{unit} is outside the accepted "
                        f"{measure.range[0]:g}–{measure.range[1]:g}{unit}: check it, or skip the step and say why")
        if step.spec.note is not None and step.spec.note.required and not note.strip():
            return f"write the note: {step.spec.note.prompt}"
        return ""

    def skip(self, reason: str) -> None:
        """Skip the active step (the one shown), saying why.

        Raises
        ------
        StepRefused
            Without a reason, or if the step shown is not the one to do.
        """
        if not self.running or self.index != self.active:
            raise StepRefused("only the step to do can be skipped")
        if not reason.strip():
            raise StepRefused("say why the step is skipped")
        self.records[self.index].reason = reason.strip()
        self._finish(self.index, StepState.SKIPPED, reason.strip())  # with the readings: what it was skipped on

    def go(self, index: int) -> None:
        """Show step ``index``: any done or skipped step, or the one to do."""
        self.index = max(0, min(index, self.active, len(self.records) - 1))

    def previous(self) -> None:
        self.go(self.index - 1)

    def next(self) -> None:
        self.go(self.index + 1)

    def finish(self) -> None:
        """End the walkthrough: completed when every step is done or skipped.

        Raises
        ------
        StepRefused
            If steps are left.
        """
        if self.active < len(self.records):
            raise StepRefused(f"{len(self.records) - self.active} steps are left: complete or skip them, "
                              "or abandon the walkthrough")
        self._end("completed")

    def abandon(self, reason: str) -> None:
        """End the walkthrough before its steps are done, saying why.

        Raises
        ------
        StepRefused
            Without a reason.
        """
        if not reason.strip():
            raise StepRefused("say why the walkthrough is abandoned")
        if self.running:
            self.abandon_reason = reason.strip()
            self._end("abandoned", self.abandon_reason)

    # -- summaries -----------------------------------------------------------------------

    @property
    def done(self) -> int:
        """Steps done or skipped."""
        return sum(r.state in (StepState.DONE, StepState.SKIPPED) for r in self.records)

    def mistakes(self) -> list[Event]:
        """What a trainer looks at: refused attempts, conditions lost, and in a training
        run skipped steps (on the real machine a skip with its reason is a decision)."""
        kinds = ("refused", "condition lost", "skipped") if self.training else ("refused", "condition lost")
        return [e for e in self.events if e.kind in kinds]

    # -- inside ---------------------------------------------------------------------------

    def _begin(self, i: int, now: float) -> None:
        self.active = i
        self._held_since, self._was_ready = None, False
        self.status = ConditionStatus()
        if i < len(self.records):
            record = self.records[i]
            record.started = now
            record.state = StepState.CURRENT if self.procedure.steps[i].spec.condition is None else StepState.WAITING
            self.events.append(Event(now, i, "started"))
            self.index = i

    def _finish(self, i: int, state: StepState, text: str) -> None:
        record = self.records[i]
        record.state, record.finished = state, self._now
        record.condition = self.status.text if self.procedure.steps[i].spec.condition is not None else ""
        record.values = {n: (self._values.get(n), self._units.get(n, ""), self._qualities.get(n, "no data"))
                         for n in self._recorded[i]}
        self.events.append(Event(self._now, i, str(state), text))
        self._begin(i + 1, self._now)

    def _end(self, outcome: str, text: str = "") -> None:
        if self.running:
            self.outcome, self.ended = outcome, self._now
            if self.active < len(self.records):  # abandoned: the step that was on was not done
                self.records[self.active].state = StepState.PENDING
            self.events.append(Event(self._now, -1, outcome, text))


def active_alarm_ids(book, ids) -> set[str]:
    """The ``ids`` of ``book`` (an :class:`~viewer.alarms.AlarmBook`) whose condition is
    there now, acknowledged or not, shelved or not: a shelved alarm is still a hazard."""
    return {i for i in ids if book.get(i).state in _ACTIVE}


def _alarms_by_part(twin) -> dict[str, set[str]]:
    """Part -> ids of the alarms shown on it or on any part under it."""
    found: dict[str, set[str]] = {}
    for alarm in twin.alarms:
        for part in alarm.parts:
            owners = [part, *(twin.assembly.ancestors(part) if part in twin.assembly else ())]
            for owner in owners:
                found.setdefault(owner, set()).add(alarm.id)
    return found


def _recorded_signals(step: Step, twin) -> list[str]:
    """The signals a step records: its condition's, its own list's, and those bound to the
    parts it highlights, in that order, once each."""
    names = sorted(step.condition.used_names & twin.signals.keys()) if step.condition is not None else []
    names += step.spec.signals
    shown = set(step.spec.highlight)
    names += [s for b in twin.bindings if b.part in shown for s in b.signals if s in twin.signals]
    return list(dict.fromkeys(names))
