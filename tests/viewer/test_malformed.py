"""Malformed payloads never stop the live path: counted, the last good value kept."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from viewer.live.ingest import Ingest
from viewer.state import TwinState
from viewer.twin.loader import Signal
from viewer.twin.schema import SignalSpec

SIGNALS = {
    "plain": Signal("plain", SignalSpec(topic="p")),
    "field": Signal("field", SignalSpec(topic="j", field="a.b[0]")),
}

junk = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=40).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.text(max_size=5) | st.floats(allow_nan=True),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                 max_leaves=8).map(lambda v: json.dumps(v).encode()),
    st.just(b"NaN"), st.just(b"1e999"), st.just(b'{"a": {"b": ["x"]}}'), st.just(b"9" * 400_000),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "j"]), junk), min_size=1, max_size=20))
def test_any_stream_of_payloads_is_counted_and_never_raises(stream):
    ingest, state = Ingest(SIGNALS), TwinState(SIGNALS)
    good = {"p": b"7.5", "j": b'{"a": {"b": [2.5]}}'}
    expected_errors = {"plain": 0, "field": 0}
    for topic, payload in stream:
        decoded = ingest.decode({topic: (payload, 1.0, False)})
        state.apply_decoded(decoded)
        name = "plain" if topic == "p" else "field"
        expected_errors[name] += len(decoded.errors)
        assert len(decoded.updates) + len(decoded.errors) == 1  # every message is one or the other
        state.apply_decoded(ingest.decode({topic: (good[topic], 2.0, False)}))  # a valid one in between
        assert state.values()[name] == (7.5 if name == "plain" else 2.5)  # applied; good value kept
    assert {n: s.errors for n, s in state.signals.items()} == expected_errors
