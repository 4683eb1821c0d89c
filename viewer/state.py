"""TwinState: the latest value, a short history and the health of every signal."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from viewer.live.ingest import DecodeError, Update

HISTORY = 600  # samples kept per signal


@dataclass
class SignalState:
    """What is known of one signal."""

    value: float | None = None  # last good value
    time: float | None = None  # when it arrived (seconds, epoch)
    updates: int = 0
    errors: int = 0
    last_error: str = ""
    history_t: np.ndarray = field(default_factory=lambda: np.full(HISTORY, np.nan))
    history_v: np.ndarray = field(default_factory=lambda: np.full(HISTORY, np.nan))

    @property
    def quality(self) -> str:
        """``"no data"`` until a first value arrives, then ``"live"``."""
        return "no data" if self.value is None else "live"


class TwinState:
    """Signal states, changed only through :meth:`apply`.

    Parameters
    ----------
    names : iterable of str
        Signal names.
    """

    def __init__(self, names):
        self.signals = {name: SignalState() for name in names}
        self._latest: dict[str, float | None] = {name: None for name in self.signals}

    def apply(self, updates: list[Update], errors: list[DecodeError] = ()) -> set[str]:
        """Take new values and decode errors; return the names whose value changed."""
        dirty = set()
        for u in updates:
            s = self.signals[u.signal]
            slot = s.updates % HISTORY
            s.history_t[slot], s.history_v[slot] = u.time, u.value
            s.value, s.time = u.value, u.time
            s.updates += 1
            self._latest[u.signal] = u.value
            dirty.add(u.signal)
        for e in errors:
            s = self.signals[e.signal]
            s.errors += 1
            s.last_error = e.reason  # the last good value stays
        return dirty

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
