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

import copy
import math
import threading
from collections import deque
from dataclasses import dataclass, replace

from viewer.alarm_types import Alarm, AlarmEvent, AlarmSpec, AlarmState, Condition, Severity

EVENTS_KEPT = 10_000  # undrained events kept; older ones are dropped (and counted)


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

    def __deepcopy__(self, memo):
        """A copy with a lock of its own (a replay's snapshot)."""
        with self._lock:
            new = copy.copy(self)
            new.__dict__.update({k: copy.deepcopy(v, memo) for k, v in self.__dict__.items() if k != "_lock"})
        new._lock = threading.Lock()
        return new

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
