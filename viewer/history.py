"""A signal's past, bounded in memory whatever its rate: the latest samples as they
came, then buckets of min, max and mean that get coarser with age.

A sample leaves the raw level when :data:`RAW` newer ones have come; it is folded into
10-second buckets, which are kept for an hour and then folded into 5-minute buckets,
kept for a day (:data:`TIERS`). A bucket keeps its minimum and maximum, so a spike
still shows in a trend a day later; its mean is what a fit or a plot line uses.

At most about 29 kB per signal, an idle one a few hundred bytes: 10,000 signals
busy for a day hold about 290 MB, against 14 GB for every sample of a day at 1 Hz
(``bench/history.py`` measures it). Not thread-safe on its own:
:class:`~viewer.state.TwinState` holds its lock around every call.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

RAW = 512  # latest samples kept as they came
TIERS = ((10.0, 360), (300.0, 288))  # (bucket seconds, buckets kept): an hour at 10 s, a day at 5 min
_FIRST = 8  # raw capacity of a new history; doubles up to RAW


@dataclass
class Series:
    """A stretch of history, oldest first: raw samples, or buckets at their centre time
    (``low`` and ``high`` equal ``value`` for a raw sample)."""

    t: np.ndarray
    value: np.ndarray
    low: np.ndarray
    high: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


class _Buckets:
    """Buckets of ``width`` seconds, at most ``size`` of them, newest kept."""

    def __init__(self, width: float, size: int):
        self.width, self.size = width, size
        self.no = np.empty(0, np.int64)  # bucket number: start time / width
        self.low = np.empty(0, np.float32)
        self.high = np.empty(0, np.float32)
        self.total = np.empty(0, np.float64)
        self.count = np.empty(0, np.int32)

    def fold(self, t, low, high, total, count) -> tuple | None:
        """Add samples or finer buckets (starting at times ``t``) to these; return what
        no longer fits, oldest first, in the same form."""
        keys, inverse = np.unique(np.r_[self.no, np.floor(t / self.width).astype(np.int64)], return_inverse=True)
        lows = np.full(len(keys), np.inf, np.float32)
        np.minimum.at(lows, inverse, np.r_[self.low, low])
        highs = np.full(len(keys), -np.inf, np.float32)
        np.maximum.at(highs, inverse, np.r_[self.high, high])
        totals = np.bincount(inverse, np.r_[self.total, total], len(keys))
        counts = np.bincount(inverse, np.r_[self.count, count], len(keys)).astype(np.int32)
        cut = max(len(keys) - self.size, 0)
        gone = (keys[:cut] * self.width, lows[:cut], highs[:cut], totals[:cut], counts[:cut]) if cut else None
        self.no, self.low, self.high, self.total, self.count = keys[cut:], lows[cut:], highs[cut:], totals[cut:], counts[cut:]
        return gone

    def series(self, before: float) -> Series:
        """Buckets that start before ``before``, at their centres (never past ``before``)."""
        keep = self.no * self.width < before
        t = np.minimum((self.no[keep] + 0.5) * self.width, before)
        low, high = self.low[keep].astype(float), self.high[keep].astype(float)
        mean = np.clip(self.total[keep] / self.count[keep], low, high)  # min and max are float32: keep inside
        return Series(t, mean, low, high)


class History:
    """One signal's history (see the module's description)."""

    __slots__ = ("t", "v", "n", "tiers")

    def __init__(self):
        self.t = np.empty(_FIRST)
        self.v = np.empty(_FIRST)
        self.n = 0
        self.tiers = [_Buckets(width, size) for width, size in TIERS]

    def add(self, t: float, value: float) -> None:
        """Append one sample (times should mostly increase; a late one is kept in order
        of arrival at the raw level and in its own bucket beyond)."""
        if self.n == len(self.t):
            self._make_room()
        self.t[self.n], self.v[self.n] = t, value
        self.n += 1

    def extend(self, t, values) -> None:
        """Append many samples at once (a replay, a broker's retained history)."""
        t, values = np.asarray(t, float), np.asarray(values, float)
        for start in range(0, len(t), RAW // 2):
            chunk = slice(start, start + RAW // 2)
            k = len(t[chunk])
            while len(self.t) - self.n < k:
                self._make_room()
            self.t[self.n:self.n + k], self.v[self.n:self.n + k] = t[chunk], values[chunk]
            self.n += k

    def _make_room(self) -> None:
        if len(self.t) < RAW:  # grow: a slow signal never pays for a fast one's buffer
            size = min(2 * len(self.t), RAW)
            self.t, self.v = np.resize(self.t, size), np.resize(self.v, size)
            return
        half = self.n // 2  # the older half leaves for the buckets
        self._fold(self.t[:half], self.v[:half])
        keep = self.n - half
        self.t[:keep], self.v[:keep] = self.t[half:self.n].copy(), self.v[half:self.n].copy()
        self.n = keep

    def _fold(self, t: np.ndarray, v: np.ndarray) -> None:
        gone = (t, v.astype(np.float32), v.astype(np.float32), v, np.ones(len(v), np.int32))
        for tier in self.tiers:  # each level passes on what it cannot keep; the last lets it go
            gone = tier.fold(*gone)
            if gone is None:
                return

    @property
    def latest(self) -> Series:
        """The samples still kept as they came."""
        t, v = self.t[:self.n].copy(), self.v[:self.n].copy()
        return Series(t, v, v, v)

    def series(self, since: float | None = None) -> Series:
        """Everything kept, or from ``since`` (epoch seconds) on, oldest first."""
        parts = [self.latest]
        for tier in self.tiers:
            before = parts[0].t[0] if len(parts[0]) else np.inf
            parts.insert(0, tier.series(before))
        out = Series(*(np.concatenate([getattr(p, f) for p in parts]) for f in ("t", "value", "low", "high")))
        if since is not None:
            keep = out.t >= since
            out = Series(out.t[keep], out.value[keep], out.low[keep], out.high[keep])
        return out

    @property
    def nbytes(self) -> int:
        """Memory held by the arrays."""
        return self.t.nbytes + self.v.nbytes + sum(
            a.nbytes for tier in self.tiers for a in (tier.no, tier.low, tier.high, tier.total, tier.count))
