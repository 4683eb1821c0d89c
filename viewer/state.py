"""TwinState: the latest value, a short history and the quality of every signal.

Quality, worst first: ``offline`` (its device's availability topic says so),
``no data`` (nothing yet), ``stale`` (no update within ``stale_after``), ``last known``
(only the broker's retained copy so far), ``live``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.live.ingest import Decoded, DecodeError, Update

HISTORY = 600  # samples kept per signal


@dataclass
class SignalState:
    """What is known of one signal."""

    value: float | None = None  # last good value
    time: float | None = None  # the sample's time (seconds, epoch)
    received: float | None = None  # when it arrived
    retained: bool = False  # the value is the broker's retained copy
    online: bool | None = None  # from the availability topic; None: not known
    stale_after: float | None = None  # seconds
    updates: int = 0
    errors: int = 0
    last_error: str = ""
    history_t: np.ndarray = field(default_factory=lambda: np.full(HISTORY, np.nan))
    history_v: np.ndarray = field(default_factory=lambda: np.full(HISTORY, np.nan))

    def quality(self, now: float) -> str:
        """The signal's quality at time ``now`` (epoch seconds)."""
        if self.online is False:
            return "offline"
        if self.value is None:
            return "no data"
        if self.stale_after is not None and now - self.received > self.stale_after:
            return "stale"
        return "last known" if self.retained else "live"


class TwinState:
    """Signal states, changed only through :meth:`apply`.

    Parameters
    ----------
    names : iterable of str
        Signal names.
    """

    def __init__(self, names, stale_after: dict[str, float | None] | None = None):
        stale_after = stale_after or {}
        self.signals = {name: SignalState(stale_after=stale_after.get(name)) for name in names}
        self._latest: dict[str, float | None] = {name: None for name in self.signals}

    def apply(self, updates: list[Update], errors: list[DecodeError] = (),
              availability: dict[str, bool] | None = None) -> set[str]:
        """Take new values, decode errors and availability; return the names whose value
        or availability changed."""
        dirty = set()
        for name, online in (availability or {}).items():
            if self.signals[name].online != online:
                self.signals[name].online = online
                dirty.add(name)
        for u in updates:
            s = self.signals[u.signal]
            slot = s.updates % HISTORY
            s.history_t[slot], s.history_v[slot] = u.time, u.value
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

    def qualities(self, now: float) -> dict[str, str]:
        """Quality of every signal at ``now``."""
        return {name: s.quality(now) for name, s in self.signals.items()}

    def values(self) -> dict[str, float | None]:
        """Latest value per signal (None: no data yet): a live, read-only mapping.

        Not a copy, so a frame costs nothing per signal; single reads of it are safe
        while the feed thread applies updates.
        """
        return self._latest

    def history(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """Times and values of a signal's recent samples, oldest first."""
        s = self.signals[name]
        n = min(s.updates, HISTORY)
        order = (np.arange(n) + (s.updates - n)) % HISTORY
        return s.history_t[order], s.history_v[order]
