"""A signal's history: the latest samples as they came, older ones in min/max/mean
buckets, memory bounded whatever the rate."""

import numpy as np

from viewer.history import RAW, TIERS, History


def _fed(t, v) -> History:
    h = History()
    for ti, vi in zip(t, v):
        h.add(ti, vi)
    return h


def test_the_latest_samples_are_kept_exactly_and_the_rest_in_buckets_oldest_first():
    t = 1_000_000.0 + np.arange(5000) * 0.5  # 2 Hz for 42 minutes
    v = np.sin(t / 60.0)
    h = _fed(t, v)
    latest = h.latest
    assert RAW // 2 <= len(latest) <= RAW
    assert np.array_equal(latest.t, t[-len(latest):]) and np.array_equal(latest.value, v[-len(latest):])
    series = h.series()
    assert np.all(np.diff(series.t) >= 0) and series.t[0] < t[0] + TIERS[0][0]
    width = TIERS[0][0]
    for centre, mean, low, high in list(zip(series.t, series.value, series.low, series.high))[:-len(latest)][::37]:
        inside = (t >= centre - width / 2) & (t < centre + width / 2)
        assert np.isclose(mean, v[inside].mean()) and np.isclose(low, v[inside].min(), atol=1e-6)
        assert np.isclose(high, v[inside].max(), atol=1e-6)
    assert np.all(series.t[:-len(latest)] <= latest.t[0])  # the buckets hold what the raw level let go


def test_a_one_sample_spike_survives_a_day_of_decimation():
    t = np.arange(0, 20 * 3600, 1.0)  # 1 Hz for 20 hours
    v = np.full(len(t), 50.0)
    v[3600] = 140.0  # one sample, 19 hours ago
    h = History()
    h.extend(t, v)
    series = h.series()
    spike = np.flatnonzero(series.high > 100)
    assert len(spike) == 1 and abs(series.t[spike[0]] - 3600) <= TIERS[1][0]
    assert series.value[spike[0]] < 51  # the mean of its 5 minutes barely moves: the max tells
    assert np.all(np.diff(series.t) >= 0)


def test_memory_is_bounded_and_a_day_is_kept_whatever_the_rate():
    h = History()
    t = np.arange(0, 30 * 3600, 0.1)  # 10 Hz for 30 hours
    h.extend(t, np.cos(t))
    bound = RAW * 16 + sum(size * 28 for _, size in TIERS)
    assert h.nbytes <= bound
    series = h.series()
    assert 23 * 3600 < t[-1] - series.t[0] < 25 * 3600  # the last day, no more
    idle = History()
    idle.add(0.0, 1.0)
    assert idle.nbytes < 300


def test_adding_one_by_one_and_in_bulk_keep_the_same_history():
    t = np.cumsum(np.random.default_rng(1).exponential(2.0, 3000))
    v = np.random.default_rng(2).normal(size=3000)
    bulk = History()
    bulk.extend(t, v)
    one, many = _fed(t, v).series(), bulk.series()
    assert np.allclose(one.t, many.t) and np.allclose(one.value, many.value)
    assert np.allclose(one.low, many.low) and np.allclose(one.high, many.high)


def test_a_stretch_since_a_time():
    h = _fed(np.arange(100.0), np.arange(100.0))
    since = h.series(since=90.0)
    assert since.t.tolist() == list(np.arange(90.0, 100.0))
