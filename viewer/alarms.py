"""Alarms: limits with hysteresis and delays, and the ISA-18.2 life cycle, per signal.

Pure: no clock, no I/O. Every call takes the time ``t`` (seconds, float; epoch or
monotonic, as long as one book sees one kind), so the same inputs always give the same
alarms and events, whatever the frame or tick rate.

One alarm per signal, carrying the worst condition the signal is in now (a limit, a
state such as ``alarm_when``, or its quality). A signal is one measurement of one
thing, drawn as one part with one badge; its warning and its alarm are the same
trouble getting worse, so escalating re-annunciates the alarm (it needs a new
acknowledge) instead of adding a second row the operator must acknowledge separately.

Severities are three levels, ``alarm`` > ``warning`` > ``info``, rather than ISA-18.2's
response priorities: they are what the twin file says (``warn_high``, ``alarm_high``)
and what the scene draws (a red or an amber badge); a twin author sets limits, not the
outcome of an alarm rationalisation.
"""

from __future__ import annotations

import enum
import math
import threading
from collections import deque
from dataclasses import dataclass, replace

EVENTS_KEPT = 10_000  # undrained events kept; older ones are dropped (and counted)


class Severity(enum.IntEnum):
    """How bad a condition is; compares as a number, worst highest."""

    INFO = 1
    WARNING = 2
    ALARM = 3

    def __str__(self) -> str:
        return self.name.lower()


class AlarmState(enum.StrEnum):
    """The ISA-18.2 states of an alarm (shelving is kept beside, see :class:`Alarm`)."""

    NORMAL = "normal"
    ACTIVE_UNACKED = "active unacknowledged"
    ACTIVE_ACKED = "active acknowledged"
    RETURNED_UNACKED = "returned unacknowledged"


@dataclass(frozen=True, slots=True)
class Condition:
    """One thing that can put a signal in alarm.

    ``name`` is the spec field that raised it (``alarm_high``, ``warn_low``,
    ``alarm_when``, ``stale``, ``offline``, ...), ``limit`` the number crossed (None for
    states and qualities).
    """

    name: str
    severity: Severity
    limit: float | None = None


def _value_set(values) -> frozenset:
    """A scalar or a collection of values as a frozenset (a string is one value)."""
    if values is None:
        return frozenset()
    if isinstance(values, (set, frozenset, list, tuple)):
        return frozenset(values)
    return frozenset((values,))


_LIMIT_ORDER = ("alarm_low", "warn_low", "warn_high", "alarm_high")


@dataclass(frozen=True, slots=True)
class AlarmSpec:
    """What raises a signal's alarm.

    Parameters
    ----------
    alarm_low, warn_low, warn_high, alarm_high : float, optional
        Limits in the signal's unit (``lo_lo`` / ``hi_hi`` in other tools). A high
        limit is exceeded when the value is above it and stays so until the value is
        below ``limit - deadband``; a low limit mirrors that.
    deadband : float
        Hysteresis, in the signal's unit, so a noisy value near a limit does not
        flicker.
    on_delay, off_delay : float
        Seconds a limit or state must hold continuously before it raises / clears.
    alarm_when, warn_when : value or collection of values
        States that raise (for boolean and enumerated signals): the signal's value is
        compared with ``==``, so ``True`` also matches ``1.0``.
    on_stale, on_offline : Severity, its name or None
        Severity raised while the signal's quality is ``stale`` / ``offline`` (None:
        no alarm). Lower than an alarm by default: the process may be fine, only the
        view of it is lost. No delays apply: staleness already has ``stale_after``.

    Raises
    ------
    ValueError
        Listing every problem at once: limits not rising, a negative or non-finite
        deadband or delay, a deadband wider than the gap between a low and a high
        limit (the value could then be both too high and too low).
    """

    alarm_low: float | None = None
    warn_low: float | None = None
    warn_high: float | None = None
    alarm_high: float | None = None
    deadband: float = 0.0
    on_delay: float = 0.0
    off_delay: float = 0.0
    alarm_when: frozenset = frozenset()
    warn_when: frozenset = frozenset()
    on_stale: Severity | None = Severity.WARNING
    on_offline: Severity | None = Severity.WARNING

    def __post_init__(self):
        object.__setattr__(self, "alarm_when", _value_set(self.alarm_when))
        object.__setattr__(self, "warn_when", _value_set(self.warn_when))
        problems = []
        for name in ("on_stale", "on_offline"):
            severity = getattr(self, name)
            if isinstance(severity, str):  # as a twin file writes it
                try:
                    object.__setattr__(self, name, Severity[severity.upper()])
                except KeyError:
                    problems.append(f"{name} {severity!r} is none of {', '.join(map(str, Severity))}")
        limits = [(name, getattr(self, name)) for name in _LIMIT_ORDER if getattr(self, name) is not None]
        problems += [f"{name} {value} is not a finite number" for name, value in limits if not math.isfinite(value)]
        problems += [f"{lo} {a} must be below {hi} {b}" for (lo, a), (hi, b) in zip(limits, limits[1:]) if a >= b]
        for name in ("deadband", "on_delay", "off_delay"):
            value = getattr(self, name)
            if not (math.isfinite(value) and value >= 0):
                problems.append(f"{name} {value} must be a number >= 0")
        lows = [(n, v) for n, v in limits if n.endswith("_low")]
        highs = [(n, v) for n, v in limits if n.endswith("_high")]
        if lows and highs and self.deadband > highs[0][1] - lows[-1][1]:
            problems.append(f"deadband {self.deadband} is wider than the gap from {lows[-1][0]} "
                            f"{lows[-1][1]} to {highs[0][0]} {highs[0][1]}")
        if problems:
            raise ValueError("; ".join(problems))


@dataclass(slots=True)
class Alarm:
    """A signal's alarm: one row of the alarm list.

    ``condition`` is the worst condition while active, and the last one after it has
    returned (so a returned-unacknowledged row still says what happened);
    ``raised_at`` / ``returned_at`` are the exact instants the delays elapsed.
    """

    signal: str
    state: AlarmState = AlarmState.NORMAL
    condition: Condition | None = None
    value: object = None  # the last value seen, whatever the state
    quality: str | None = None
    raised_at: float | None = None
    returned_at: float | None = None
    acked_by: str = ""
    acked_at: float | None = None
    shelved_until: float | None = None
    shelved_by: str = ""
    shelve_reason: str = ""

    @property
    def severity(self) -> Severity | None:
        """Severity of :attr:`condition` (None: never raised)."""
        return None if self.condition is None else self.condition.severity

    @property
    def limit(self) -> float | None:
        """The limit crossed (None for states and qualities)."""
        return None if self.condition is None else self.condition.limit

    @property
    def active(self) -> bool:
        """Whether the condition holds now (acknowledged or not)."""
        return self.state in (AlarmState.ACTIVE_UNACKED, AlarmState.ACTIVE_ACKED)

    @property
    def shelved(self) -> bool:
        """Whether it is hidden from the alarm list until :attr:`shelved_until`."""
        return self.shelved_until is not None

    def duration(self, now: float) -> float:
        """Seconds from being raised to returning, or to ``now`` while active."""
        if self.raised_at is None:
            return 0.0
        return (self.returned_at if self.returned_at is not None else now) - self.raised_at


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """One timestamped change of an alarm.

    ``kind`` is one of ``raised``, ``escalated``, ``deescalated``, ``changed`` (another
    condition of the same severity), ``returned``, ``acknowledged``, ``shelved``,
    ``unshelved``, ``shelf expired``; ``state`` and ``severity`` are those after it.
    """

    time: float
    signal: str
    kind: str
    state: AlarmState
    severity: Severity | None
    condition: str | None
    value: object
    limit: float | None
    who: str = ""
    note: str = ""  # the shelving reason

    def as_dict(self) -> dict:
        """Plain types, for ``watch --json`` and a history log."""
        return {"time": self.time, "signal": self.signal, "alarm": self.kind, "state": str(self.state),
                "severity": None if self.severity is None else str(self.severity),
                "condition": self.condition, "value": self.value, "limit": self.limit,
                "who": self.who, "note": self.note}


@dataclass(slots=True)
class _Trigger:
    """A limit or state with its own hysteresis and delay timer."""

    condition: Condition
    test: str  # "above", "below" or "in"
    values: frozenset = frozenset()
    exceeded: bool = False
    since: float | None = None  # when the value started asking for the other side

    def wants(self, value, deadband: float) -> bool:
        """Whether ``value`` keeps (or puts) this trigger exceeded."""
        limit = self.condition.limit
        if self.test == "above":
            return value >= limit - deadband if self.exceeded else value > limit
        if self.test == "below":
            return value <= limit + deadband if self.exceeded else value < limit
        return value in self.values


@dataclass(slots=True)
class _Tracker:
    spec: AlarmSpec
    alarm: Alarm
    triggers: list[_Trigger]
    quality_conditions: dict[str, Condition]
    quality: str | None = None

    def delay(self, trigger: _Trigger) -> float:
        return self.spec.off_delay if trigger.exceeded else self.spec.on_delay

    def next_due(self) -> float | None:
        """The earliest instant a delay elapses or the shelf expires."""
        due = [t.since + self.delay(t) for t in self.triggers if t.since is not None]
        if self.alarm.shelved_until is not None:
            due.append(self.alarm.shelved_until)
        return min(due, default=None)


def _tracker(signal: str, spec: AlarmSpec) -> _Tracker:
    triggers = []
    for name, severity in (("alarm_high", Severity.ALARM), ("alarm_low", Severity.ALARM),
                           ("warn_high", Severity.WARNING), ("warn_low", Severity.WARNING)):
        limit = getattr(spec, name)
        if limit is not None:
            triggers.append(_Trigger(Condition(name, severity, limit), "above" if name.endswith("high") else "below"))
    for name, severity in (("alarm_when", Severity.ALARM), ("warn_when", Severity.WARNING)):
        if getattr(spec, name):
            triggers.append(_Trigger(Condition(name, severity), "in", getattr(spec, name)))
    quality = {q: Condition(q, severity) for q, severity in (("stale", spec.on_stale), ("offline", spec.on_offline))
               if severity is not None}
    return _Tracker(spec, Alarm(signal), triggers, quality)


class AlarmBook:
    """The alarms of a twin: one per signal with an :class:`AlarmSpec`.

    Thread-safe: the feed thread may :meth:`update` while the UI acknowledges and
    reads. Readers get copies of the alarms.

    Parameters
    ----------
    specs : mapping of str to AlarmSpec
        Signal name -> what raises its alarm. Other signals are ignored.
    """

    def __init__(self, specs):
        self._lock = threading.Lock()
        self._trackers = {signal: _tracker(signal, spec) for signal, spec in specs.items()}
        self._listed: set[str] = set()  # not normal, or shelved: all that active()/shelved() look at
        self._timed: set[str] = set()  # a delay running or a shelf to expire: all that tick() looks at
        self._events: deque[AlarmEvent] = deque(maxlen=EVENTS_KEPT)
        self.events_dropped = 0

    @property
    def signals(self) -> frozenset[str]:
        """The signals that have an alarm."""
        return frozenset(self._trackers)

    # -- input -------------------------------------------------------------------------

    def update(self, signal: str, value, quality: str | None, t: float) -> bool:
        """Take a signal's new value and/or quality at time ``t``.

        Parameters
        ----------
        signal : str
            Signal name; one without a spec is ignored.
        value : float, bool, str or None
            The new value; None keeps the limits as they are (a quality change only,
            or no data).
        quality : str or None
            The signal's quality (``live``, ``stale``, ``offline``, ...); None keeps
            the last one given.
        t : float
            Time of the update, seconds; never earlier than the last one.

        Returns
        -------
        bool
            Whether the alarm's state or condition changed (its look needs a redraw).
        """
        tracker = self._trackers.get(signal)
        if tracker is None:
            return False
        with self._lock:
            alarm = tracker.alarm
            before = (alarm.state, alarm.condition, alarm.shelved_until)
            self._advance(tracker, t)  # delays that elapsed under the previous value
            if value is not None:
                alarm.value = value
                deadband = tracker.spec.deadband
                for trigger in tracker.triggers:
                    if trigger.wants(value, deadband) == trigger.exceeded:
                        trigger.since = None  # not continuous: the delay starts over
                    elif trigger.since is None:
                        trigger.since = t
                    if trigger.since is not None and tracker.delay(trigger) == 0:
                        trigger.exceeded, trigger.since = not trigger.exceeded, None
            if quality is not None:
                alarm.quality = quality
            self._evaluate(tracker, t)  # once, so a jump past two limits raises once
            self._index(tracker)
            return (alarm.state, alarm.condition, alarm.shelved_until) != before

    def tick(self, t: float) -> list[str]:
        """Let time pass to ``t`` with no new values: delays elapse, shelves expire.

        Costs nothing for alarms with no timer running. Returns the signals whose alarm
        changed.
        """
        changed = []
        with self._lock:
            for signal in list(self._timed):
                tracker = self._trackers[signal]
                alarm = tracker.alarm
                before = (alarm.state, alarm.condition, alarm.shelved_until)
                self._advance(tracker, t)
                if (alarm.state, alarm.condition, alarm.shelved_until) != before:
                    changed.append(signal)
                self._index(tracker)
        return changed

    # -- operator actions ----------------------------------------------------------------

    def acknowledge(self, signal: str, who: str, t: float) -> bool:
        """An operator acknowledges a signal's alarm.

        Active-unacknowledged becomes active-acknowledged; returned-unacknowledged
        becomes normal. Returns False (and records nothing) in any other state.

        Raises
        ------
        ValueError
            No ``who``: an acknowledge is an operator's, on record.
        """
        if not who.strip():
            raise ValueError("an acknowledge needs who acknowledges")
        with self._lock:
            tracker = self._trackers[signal]
            self._advance(tracker, t)  # acknowledge what the operator sees at t
            alarm = tracker.alarm
            if alarm.state is AlarmState.ACTIVE_UNACKED:
                alarm.state = AlarmState.ACTIVE_ACKED
            elif alarm.state is AlarmState.RETURNED_UNACKED:
                alarm.state = AlarmState.NORMAL
            else:
                return False
            alarm.acked_by, alarm.acked_at = who, t
            self._emit(alarm, t, "acknowledged", who=who)
            self._index(tracker)
            return True

    def acknowledge_all(self, who: str, t: float, signals=None) -> list[str]:
        """Acknowledge ``signals`` (e.g. the rows visible; default: every alarm in
        :meth:`active`); return those that were acknowledged."""
        if signals is None:
            signals = [a.signal for a in self.active()]
        return [s for s in signals if self.acknowledge(s, who, t)]

    def shelve(self, signal: str, seconds: float, reason: str, who: str, t: float) -> None:
        """Hide a signal's alarm from :meth:`active` for ``seconds`` from ``t``.

        Its life cycle goes on underneath (events still say what happens). When the
        shelf expires or is removed, an alarm still active comes back unacknowledged
        and one that has returned becomes normal (ISA-18.2). Shelving again replaces the
        shelf.

        Raises
        ------
        ValueError
            ``seconds`` not above 0, or no ``reason`` or ``who``.
        """
        if not (seconds > 0 and math.isfinite(seconds)):
            raise ValueError(f"shelve for a positive number of seconds, not {seconds}")
        if not reason.strip() or not who.strip():
            raise ValueError("shelving needs a reason and who shelves")
        with self._lock:
            tracker = self._trackers[signal]
            self._advance(tracker, t)
            alarm = tracker.alarm
            alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason = t + seconds, who, reason
            self._emit(alarm, t, "shelved", who=who, note=reason)
            self._index(tracker)

    def unshelve(self, signal: str, who: str, t: float) -> bool:
        """Remove a shelf before it expires; False if the alarm was not shelved."""
        with self._lock:
            tracker = self._trackers[signal]
            self._advance(tracker, t)
            if tracker.alarm.shelved_until is None:
                return False
            self._unshelve(tracker.alarm, t, "unshelved", who)
            self._index(tracker)
            return True

    # -- views -----------------------------------------------------------------------------

    def get(self, signal: str) -> Alarm:
        """A copy of a signal's alarm."""
        with self._lock:
            return replace(self._trackers[signal].alarm)

    def active(self) -> list[Alarm]:
        """The alarm list: alarms active or unacknowledged, not shelved; copies, worst
        severity first, then newest first."""
        with self._lock:
            rows = [replace(a) for a in (self._trackers[s].alarm for s in self._listed)
                    if a.state is not AlarmState.NORMAL and a.shelved_until is None]
        rows.sort(key=lambda a: (-a.severity, -a.raised_at, a.signal))
        return rows

    def shelved(self) -> list[Alarm]:
        """Copies of the shelved alarms, soonest expiry first."""
        with self._lock:
            rows = [replace(a) for a in (self._trackers[s].alarm for s in self._listed) if a.shelved_until is not None]
        rows.sort(key=lambda a: (a.shelved_until, a.signal))
        return rows

    def counts(self) -> dict[Severity, int]:
        """How many alarms are active now (not shelved, acknowledged or not), per
        severity; for the status bar. Returned-unacknowledged ones are not counted."""
        counts = dict.fromkeys(Severity, 0)
        with self._lock:
            for alarm in (self._trackers[s].alarm for s in self._listed):
                if alarm.active and alarm.shelved_until is None:
                    counts[alarm.severity] += 1
        return counts

    def drain_events(self) -> list[AlarmEvent]:
        """The events since the last drain, oldest first; the book forgets them."""
        with self._lock:
            events = sorted(self._events, key=lambda e: e.time)  # a tick may report a delay that elapsed earlier
            self._events.clear()
        return events

    # -- inside ----------------------------------------------------------------------------

    def _advance(self, tracker: _Tracker, t: float) -> None:
        """Apply, in time order, the delays that elapse and the shelf expiring up to
        ``t``, each at its exact instant."""
        while (due := tracker.next_due()) is not None and due <= t:
            for trigger in tracker.triggers:
                if trigger.since is not None and trigger.since + tracker.delay(trigger) == due:
                    trigger.exceeded, trigger.since = not trigger.exceeded, None
            self._evaluate(tracker, due)
            if tracker.alarm.shelved_until == due:
                self._unshelve(tracker.alarm, due, "shelf expired", "")

    def _evaluate(self, tracker: _Tracker, t: float) -> None:
        """Move the life cycle to the worst condition the signal is in at ``t``."""
        worst = None
        for trigger in tracker.triggers:  # ties: the first wins, limits before states
            if trigger.exceeded and (worst is None or trigger.condition.severity > worst.severity):
                worst = trigger.condition
        by_quality = tracker.quality_conditions.get(tracker.alarm.quality)
        if by_quality is not None and (worst is None or by_quality.severity > worst.severity):
            worst = by_quality  # the process condition wins a tie: it is what to act on
        alarm = tracker.alarm
        if worst is None:
            if alarm.active:
                alarm.state = (AlarmState.RETURNED_UNACKED if alarm.state is AlarmState.ACTIVE_UNACKED
                               else AlarmState.NORMAL)
                alarm.returned_at = t
                self._emit(alarm, t, "returned")
        elif not alarm.active:
            alarm.state, alarm.condition = AlarmState.ACTIVE_UNACKED, worst
            alarm.raised_at, alarm.returned_at = t, None
            alarm.acked_by, alarm.acked_at = "", None
            self._emit(alarm, t, "raised")
        elif worst is not alarm.condition:
            if worst.severity > alarm.condition.severity:
                kind = "escalated"
                alarm.state = AlarmState.ACTIVE_UNACKED  # worse than what was acknowledged
                alarm.acked_by, alarm.acked_at = "", None
            else:
                kind = "deescalated" if worst.severity < alarm.condition.severity else "changed"
            alarm.condition = worst
            self._emit(alarm, t, kind)

    def _unshelve(self, alarm: Alarm, t: float, kind: str, who: str) -> None:
        alarm.shelved_until, alarm.shelved_by, alarm.shelve_reason = None, "", ""
        if alarm.active:
            alarm.state = AlarmState.ACTIVE_UNACKED  # nobody saw it while shelved
        elif alarm.state is AlarmState.RETURNED_UNACKED:
            alarm.state = AlarmState.NORMAL  # nothing left to act on
        self._emit(alarm, t, kind, who=who)

    def _index(self, tracker: _Tracker) -> None:
        signal, alarm = tracker.alarm.signal, tracker.alarm
        if alarm.state is AlarmState.NORMAL and alarm.shelved_until is None:
            self._listed.discard(signal)
        else:
            self._listed.add(signal)
        if tracker.next_due() is None:
            self._timed.discard(signal)
        else:
            self._timed.add(signal)

    def _emit(self, alarm: Alarm, t: float, kind: str, who: str = "", note: str = "") -> None:
        if len(self._events) == self._events.maxlen:
            self.events_dropped += 1
        self._events.append(AlarmEvent(t, alarm.signal, kind, alarm.state, alarm.severity,
                                       None if alarm.condition is None else alarm.condition.name,
                                       alarm.value, alarm.limit, who, note))
