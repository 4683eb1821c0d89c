"""What an alarm is: severities, ISA-18.2 states, a signal's alarm spec, an alarm as
the book has it now, and the events of its life (see :mod:`viewer.alarms` for the book
that keeps them). Plain values, no clock.
"""

from __future__ import annotations

import enum
import math
from dataclasses import dataclass


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
