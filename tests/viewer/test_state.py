"""TwinState: latest value, history ring, errors keep the last good value."""

import numpy as np

from viewer.live.ingest import DecodeError, Update
from viewer.state import HISTORY, TwinState


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


def test_history_is_a_bounded_ring_oldest_first():
    state = TwinState(["t"])
    for i in range(HISTORY + 5):
        state.apply([Update("t", float(i), float(i))])
    times, values = state.history("t")
    assert len(values) == HISTORY
    assert values[0] == 5.0 and values[-1] == HISTORY + 4
    assert np.all(np.diff(times) > 0)
