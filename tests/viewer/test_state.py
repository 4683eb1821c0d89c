"""TwinState: latest value, history ring, errors keep the last good value."""

import numpy as np

from viewer.live.ingest import DecodeError, Update
from viewer.history import RAW
from viewer.state import TwinState


def test_no_data_until_a_value_arrives():
    state = TwinState(["t"])
    assert state.signals["t"].quality(0.0) == "no data"
    assert state.apply([Update("t", 20.0, 1.0)]) == {"t"}
    assert state.signals["t"].quality(1.0) == "live"
    assert state.values() == {"t": 20.0}


def test_quality_goes_stale_last_known_and_offline():
    state = TwinState(["t"], stale_after={"t": 5.0})
    state.apply([Update("t", 20.0, 100.0, retained=True)])
    assert state.qualities(101.0) == {"t": "last known"}  # the broker's retained copy
    state.apply([Update("t", 21.0, 102.0)])
    assert state.qualities(106.9) == {"t": "live"}
    assert state.qualities(107.1) == {"t": "stale"}
    assert state.apply([], availability={"t": False}) == {"t"}
    assert state.qualities(103.0) == {"t": "offline"}  # whatever its age
    state.apply([], availability={"t": True})
    assert state.qualities(103.0) == {"t": "live"}


def test_a_bad_payload_is_counted_and_the_last_good_value_kept():
    state = TwinState(["t"])
    state.apply([Update("t", 20.0, 1.0)])
    dirty = state.apply([], [DecodeError("t", "not JSON", 2.0)])
    assert dirty == set()
    s = state.signals["t"]
    assert (s.value, s.errors, s.last_error) == (20.0, 1, "not JSON")


def test_every_update_goes_into_the_signals_history_oldest_first():
    state = TwinState(["t"])
    for i in range(RAW + 5):
        state.apply([Update("t", float(i), float(i))])
    history = state.history("t")
    assert history.value[-1] == RAW + 4 and np.all(np.diff(history.t) >= 0)
    assert history.low.min() == 0.0  # the oldest, in a bucket now
    assert state.history("t", since=RAW).value.tolist() == [RAW, RAW + 1.0, RAW + 2.0, RAW + 3.0, RAW + 4.0]


def test_without_a_connection_nothing_is_live_and_old_values_are_last_known_after_it_returns():
    state = TwinState(["t", "u"], stale_after={"t": None, "u": 30.0})  # t never goes stale by age
    state.apply([Update("t", 20.0, 100.0), Update("u", 5.0, 100.0)])
    state.set_link(True, since=50.0)
    assert state.qualities(101.0) == {"t": "live", "u": "live"}
    state.set_link(False, since=None)  # the broker is gone: at once, whatever stale_after says
    assert state.qualities(101.5) == {"t": "stale", "u": "stale"}
    state.set_link(True, since=110.0)  # back, but these values came before the new connection
    assert state.qualities(111.0) == {"t": "last known", "u": "last known"}
    state.apply([Update("t", 21.0, 112.0)])
    assert state.qualities(112.5) == {"t": "live", "u": "last known"}


def test_readers_never_see_a_half_applied_update():
    import threading

    state = TwinState(["t"])
    stop = threading.Event()

    def feed():
        n = 0
        while not stop.is_set():
            n += 1
            state.apply([Update("t", float(n), float(n))], [DecodeError("t", "bad", float(n))])

    writer = threading.Thread(target=feed)
    writer.start()
    try:
        for _ in range(20_000):
            s = state.snapshot()["t"]
            assert s.updates == s.errors and s.value in (None, float(s.updates))
    finally:
        stop.set()
        writer.join()
