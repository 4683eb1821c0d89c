"""Signal history: the memory of 10,000 signals with a full day each, and what keeping
history adds to taking a sample.

- ``history.memory.10000``: 10,000 histories each filled as a busy signal fills it
  (1 Hz for 25 hours: every level full), measured with ``tracemalloc``; baseline: the
  same day kept as plain float64 time and value arrays (what "keep everything" costs).
- ``history.add``: nanoseconds per ``History.add`` over a million samples (buckets
  folded as they fill); baseline: writing the sample into a preallocated ring of two
  float64 arrays, which is what the state did before it kept a history by time.

Run: ``.venv/bin/python bench/history.py [--quick]`` (``--quick``: 1,000 signals).
Prints a table; adds its figures to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _common import print_table, record  # noqa: E402

from viewer.history import History  # noqa: E402

SIGNALS, QUICK_SIGNALS = 10_000, 1_000
DAY_S = 25 * 3600
SAMPLES = 1_000_000
RUNS = 5


def busy_history() -> History:
    """A history filled at 1 Hz for 25 hours."""
    h = History()
    t = 1.7e9 + np.arange(DAY_S, dtype=float)
    h.extend(t, 50 + 10 * np.sin(t / 600))
    return h


def memory(n: int) -> float:
    """MB held by ``n`` full histories."""
    full = busy_history()
    tracemalloc.start()
    kept = [copy.deepcopy(full) for _ in range(n)]
    size, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    del kept
    return size / 1e6


def add_ns() -> tuple[float, float]:
    """Median ns per sample: History.add, and a two-array ring write."""
    t = 1.7e9 + np.arange(SAMPLES, dtype=float) * 0.1
    v = np.sin(t).tolist()
    t = t.tolist()
    ours, ring = [], []
    for _ in range(RUNS):
        h = History()
        start = time.perf_counter()
        for ti, vi in zip(t, v):
            h.add(ti, vi)
        ours.append((time.perf_counter() - start) / SAMPLES * 1e9)
        rt, rv, size = np.empty(600), np.empty(600), 600
        start = time.perf_counter()
        for i, (ti, vi) in enumerate(zip(t, v)):
            slot = i % size
            rt[slot], rv[slot] = ti, vi
        ring.append((time.perf_counter() - start) / SAMPLES * 1e9)
    return float(np.median(ours)), float(np.median(ring))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="1,000 signals")
    args = parser.parse_args()
    n = QUICK_SIGNALS if args.quick else SIGNALS
    mb = memory(n)
    everything = n * DAY_S * 16 / 1e6
    record(f"history.memory.{n}", mb, "MB", baseline=everything, target=None)
    ours, ring = add_ns()
    record("history.add", ours, "ns", baseline=ring, target=None)
    print_table(["figure", "value", "baseline", "ratio"],
                [[f"memory of {n:,} signals, a full day each (MB)", mb, everything, mb / everything],
                 ["ns per sample taken", ours, ring, ours / ring]])


if __name__ == "__main__":
    main()
