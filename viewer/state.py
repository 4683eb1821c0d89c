"""TwinState: the latest value, the history and the quality of every signal.

Quality, worst first: ``offline`` (its device's availability topic says so),
``no data`` (nothing yet), ``stale`` (no update within ``stale_after``, or no broker
connection right now), ``last known`` (only the broker's retained copy, or a value from
before the current connection), ``live``. A model signal is as good as its worst input:
a model of a stale value is stale.

The feed thread writes and the UI thread reads: every write and every read of more
than one field holds :attr:`TwinState.lock`, so the UI never sees a half-applied update.
"""

from __future__ import annotations

import copy
import threading
from collections import deque
from dataclasses import dataclass, field

from viewer.alarms import AlarmBook
from viewer.history import History, Series
from viewer.live.updates import Decoded, DecodeError, Update
from viewer.predict import WINDOW_S, Forecast, forecast
from viewer.twin.limits import AlarmDef

FORECAST_PERIOD_S = 5.0  # a signal's forecast is fitted again at most this often
#: Qualities, best first.
QUALITIES = ("live", "last known", "stale", "no data", "offline")


@dataclass
class SignalState:
    """What is known of one signal."""

    value: float | None = None  # last good value
    time: float | None = None  # the sample's time (seconds, epoch)
    received: float | None = None  # when it arrived
    retained: bool = False  # the value is the broker's retained copy
    online: bool | None = None  # from the availability topic; None: not known
    stale_after: float | None = None  # seconds; None: never
    updates: int = 0
    errors: int = 0
    last_error: str = ""
    past: History = field(default_factory=History, repr=False)

    def quality(self, now: float, link_since: float | None = None, link_up: bool = True) -> str:
        """The signal's quality at time ``now`` (epoch seconds).

        ``link_up`` says whether the broker connection is up now, ``link_since`` since
        when (epoch seconds; None: unknown).
        """
        if self.online is False:
            return "offline"
        if self.value is None:
            return "no data"
        if not link_up:  # nothing can be live without a connection, whatever its age
            return "stale"
        if self.stale_after is not None and now - self.received > self.stale_after:
            return "stale"
        if self.retained or (link_since is not None and self.received < link_since):
            return "last known"
        return "live"


class TwinState:
    """Signal states, changed only through :meth:`apply`.

    Parameters
    ----------
    names : iterable of str
        Signal names.
    stale_after : dict of str to float or None, optional
        Seconds without an update before a signal is stale (None: never).
    """

    def __init__(self, names, stale_after: dict[str, float | None] | None = None,
                 inputs: dict[str, tuple[str, ...]] | None = None):
        stale_after = stale_after or {}
        self.lock = threading.Lock()
        self.signals = {name: SignalState(stale_after=stale_after.get(name)) for name in names}
        self._latest: dict[str, float | None] = {name: None for name in self.signals}
        self.link_up, self.link_since = True, None
        self.inputs = inputs or {}  # model signal -> the signals it is computed from

    def __deepcopy__(self, memo):
        """A copy with a lock of its own (a replay's snapshot)."""
        with self.lock:
            new = copy.copy(self)
            new.__dict__.update({k: copy.deepcopy(v, memo) for k, v in self.__dict__.items() if k != "lock"})
        new.lock = threading.Lock()
        return new

    @classmethod
    def for_twin(cls, twin) -> TwinState:
        """The state of a loaded twin's signals (a :class:`~viewer.twin.loader.Twin`)."""
        return cls(twin.signals, {n: s.stale_after for n, s in twin.signals.items()},
                   {n: s.model.inputs for n, s in twin.signals.items() if s.model is not None})

    def set_link(self, up: bool, since: float | None) -> None:
        """Tell the state whether the broker connection is up, and since when (epoch)."""
        self.link_up, self.link_since = up, since

    def apply(self, updates: list[Update], errors: list[DecodeError] = (),
              availability: dict[str, bool] | None = None) -> set[str]:
        """Take new values, decode errors and availability; return the names whose value
        or availability changed."""
        dirty = set()
        with self.lock:
            for name, online in (availability or {}).items():
                if self.signals[name].online != online:
                    self.signals[name].online = online
                    dirty.add(name)
            for u in updates:
                s = self.signals[u.signal]
                s.past.add(u.time, u.value)
                s.value, s.time = u.value, u.time
                s.received = u.received if u.received is not None else u.time
                s.retained = u.retained
                s.updates += 1
                self._latest[u.signal] = u.value
                dirty.add(u.signal)
            for e in errors:
                s = self.signals[e.signal]
                s.errors += 1
                s.last_error = e.reason  # the last good value stays
        return dirty

    def apply_decoded(self, decoded: Decoded) -> set[str]:
        """:meth:`apply` for what :class:`~viewer.live.ingest.Ingest` decoded."""
        return self.apply(decoded.updates, decoded.errors, decoded.availability)

    def qualities(self, now: float, names=None) -> dict[str, str]:
        """Quality of the signals ``names`` (default: all) at ``now``."""
        found: dict[str, str] = {}
        with self.lock:
            return {name: self._quality(name, now, found) for name in (self.signals if names is None else names)}

    def _quality(self, name: str, now: float, found: dict[str, str]) -> str:
        if name not in found:
            own = self.signals[name].quality(now, self.link_since, self.link_up)
            if name in self.inputs and own != "no data":  # a model is no better than its worst input
                found[name] = own  # (a cycle cannot load; this only guards the recursion)
                own = max([own, *(self._quality(i, now, found) for i in self.inputs[name])], key=QUALITIES.index)
            found[name] = own
        return found[name]

    def snapshot(self, names=None) -> dict[str, SignalState]:
        """Consistent copies of the states of ``names`` (default: all), for display.
        The copies share the history: read it through :meth:`history`."""
        with self.lock:
            return {name: copy.copy(self.signals[name]) for name in (self.signals if names is None else names)}

    def values(self) -> dict[str, float | None]:
        """Latest value per signal (None: no data yet): a live, read-only mapping.

        Not a copy, so a frame costs nothing per signal; single reads of it are safe
        while the feed thread applies updates.
        """
        return self._latest

    def history(self, name: str, since: float | None = None) -> Series:
        """A signal's history (see :mod:`viewer.history`), or its part from ``since`` on."""
        with self.lock:
            return self.signals[name].past.series(since)


class TwinAlarms:
    """A twin's alarms (:class:`~viewer.alarms.AlarmBook`), fed with what changed.

    Parameters
    ----------
    alarms : list of AlarmDef
        The twin's (``Twin.alarms``).
    """

    def __init__(self, alarms: list[AlarmDef]):
        self.defs = {a.id: a for a in alarms}
        self.book = AlarmBook({a.id: a.spec for a in alarms})
        self._of: dict[str, list[str]] = {}  # signal -> ids of its alarms
        self._now = float("-inf")
        for a in alarms:
            self._of.setdefault(a.signal, []).append(a.id)

    def update(self, names, values, qualities: dict[str, str], now: float) -> set[str]:
        """Give the alarms the current value and quality of the signals ``names`` (those
        that changed) and let their delays and shelves run to ``now``; return the ids of
        the alarms that changed."""
        now = self._now = max(now, self._now)  # the wall clock may step back; the book's time may not
        changed = set(self.book.tick(now))
        for name in names:
            for id_ in self._of.get(name, ()):
                if self.book.update(id_, values.get(name), qualities.get(name), now):
                    changed.add(id_)
        return changed


class TwinForecasts:
    """When each signal with limits will reach them (:mod:`viewer.predict`), kept fresh.

    A signal is fitted again at most every :data:`FORECAST_PERIOD_S`, and a call fits
    at most ``budget`` signals (the longest waiting first), so a twin of thousands of
    limited signals costs a frame no more than a few fits.

    Parameters
    ----------
    alarms : list of AlarmDef
        The twin's; each signal's own limits (not a colour binding's) are predicted.
    """

    def __init__(self, alarms: list[AlarmDef]):
        self.limits = {a.signal: a.limits for a in alarms if a.id == a.signal and a.limits}
        self.latest: dict[str, Forecast] = {name: Forecast(reason="no data") for name in self.limits}
        self.fitted: dict[str, float] = {}  # when each latest forecast was made (epoch)
        self._due = {name: float("-inf") for name in self.limits}  # when each is fitted next
        self._turn = deque(self.limits)  # round robin: the front was fitted longest ago

    def update(self, state: TwinState, qualities: dict[str, str], now: float, budget: int | None = None) -> set[str]:
        """Fit the signals that are due (at most ``budget``; None: all); return those whose
        forecast changed as shown: another model, limit or reason, or a crossing that
        moved by more than a tenth of the time to it (at least 30 s)."""
        changed = set()
        for _ in range(len(self._turn) if budget is None else min(budget, len(self._turn))):
            name = self._turn[0]
            if self._due[name] > now:
                break  # nor is any behind it
            self._turn.rotate(-1)
            self._due[name] = now + FORECAST_PERIOD_S
            series = state.history(name, since=now - WINDOW_S)
            new = forecast(series.t, series.value, self.limits[name], now, qualities.get(name) == "live")
            old, then = self.latest[name], self.fitted.get(name, now)
            a, b = old.next, new.next
            if (old.model, old.reason, a and a.limit) != (new.model, new.reason, b and b.limit) or (
                    a is not None and abs(then + a.eta - now - b.eta) > max(0.1 * b.eta, 30.0)):
                changed.add(name)
            self.latest[name], self.fitted[name] = new, now
        return changed
