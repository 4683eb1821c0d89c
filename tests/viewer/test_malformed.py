"""Malformed payloads never stop the live path: counted, the last good value kept.

The decoder alone, and the whole path: a real broker, the MQTT source, the feed thread
and the state, exactly as the window runs them.
"""

import json

import paho.mqtt.client as mqtt
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from tests.conftest import start_mosquitto, wait_until
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.state import TwinState
from viewer.twin.expr import Expression
from viewer.twin.loader import Signal
from viewer.twin.schema import SignalSpec

SIGNALS = {
    "plain": Signal("plain", SignalSpec(topic="p")),
    "field": Signal("field", SignalSpec(topic="j", field="a.b[0]")),
    "scaled": Signal("scaled", SignalSpec(topic="j", field="a.b[0]"), Expression("value ** 2 * 10")),
}
TOPIC_SIGNALS = {"p": ["plain"], "j": ["field", "scaled"]}
GOOD = {"p": (b"7.5", {"plain": 7.5}), "j": (b'{"a": {"b": [2.5]}}', {"field": 2.5, "scaled": 62.5})}

#: Payloads seen to break decoders: nesting deeper than Python's recursion limit, integers
#: longer than Python's 4,300-digit conversion limit or beyond a float, non-finite numbers.
HOSTILE = [
    b"[" * 100_000 + b"]" * 100_000,  # 200 kB, under the size limit
    b'{"a": ' * 50_000 + b"1" + b"}" * 50_000,
    b"1" * 4_301, b'{"a": {"b": [' + b"9" * 5_000 + b"]}}", b'{"a": {"b": [' + b"9" * 400 + b"]}}",
    b"NaN", b"-Infinity", b"1e999", b'{"a": {"b": ["x"]}}', b"9" * 400_000, b"\xff\xfe", b"",
]

junk = st.one_of(
    st.binary(max_size=64),
    st.text(max_size=40).map(str.encode),
    st.recursive(st.none() | st.booleans() | st.text(max_size=5) | st.floats(allow_nan=True) | st.integers(),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
                 max_leaves=8).map(lambda v: json.dumps(v).encode()),
    st.integers(min_value=1, max_value=60_000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(min_value=300, max_value=6_000).map(lambda n: b"7" * n),
    st.sampled_from(HOSTILE),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "j"]), junk), min_size=1, max_size=20))
@example([(topic, payload) for payload in HOSTILE for topic in ("p", "j")])
def test_any_stream_of_payloads_is_counted_and_never_raises(stream):
    ingest, state = Ingest(SIGNALS), TwinState(SIGNALS)
    expected_errors = dict.fromkeys(SIGNALS, 0)
    for topic, payload in stream:
        decoded = ingest.decode({topic: (payload, 1.0, False)})
        state.apply_decoded(decoded)
        for e in decoded.errors:
            expected_errors[e.signal] += 1
        # every message gives each of its signals a value or a counted error
        assert sorted([u.signal for u in decoded.updates] + [e.signal for e in decoded.errors]) == \
            sorted(TOPIC_SIGNALS[topic])
        good, values = GOOD[topic]
        state.apply_decoded(ingest.decode({topic: (good, 2.0, False)}))  # a valid one in between
        assert {n: state.values()[n] for n in values} == values  # applied; good value kept
    assert {n: s.errors for n, s in state.snapshot().items()} == expected_errors


@pytest.mark.parametrize("payload, reason", [
    (HOSTILE[0], "nested too deeply"), (HOSTILE[2], "4300 digits"), (HOSTILE[4], "number too large"),
    (b'{"a": {"b": [NaN]}}', "not a finite number"), (b"9" * 400_000, "too large"), (b"\xff\xfe", "not UTF-8"),
])
def test_hostile_payloads_are_counted_with_a_reason(payload, reason):
    decoded = Ingest(SIGNALS).decode({"j": (payload, 1.0, False)})
    assert not decoded.updates and len(decoded.errors) == 2
    assert all(reason in e.reason for e in decoded.errors), decoded.errors


@pytest.fixture(scope="module")
def live_path(tmp_path_factory):
    """A real broker, source, feed thread and state, shared by the examples of one test."""
    url, broker = start_mosquitto(tmp_path_factory.mktemp("broker"))
    state = TwinState(SIGNALS)
    source = MqttSource(url, Ingest(SIGNALS).subscriptions)
    feed = LiveFeed(source, Ingest(SIGNALS), state)
    feed.start()
    wait_until(lambda: source.status.state == "live")
    host, port = url.removeprefix("mqtt://").split(":")
    plant = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="malformed-plant")
    plant.connect(host, int(port))
    plant.loop_start()
    yield state, feed, plant
    plant.disconnect()
    plant.loop_stop()
    feed.stop()
    broker.terminate()
    broker.wait(timeout=5)


def _seen(state, names):
    """Updates + errors so far of ``names``: one more per message that reached them."""
    snap = state.snapshot(names)
    return sum(s.updates + s.errors for s in snap.values())


@settings(max_examples=25, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["p", "j"]), junk), min_size=1, max_size=8))
@example([(topic, payload) for payload in HOSTILE for topic in ("p", "j")])
def test_hostile_payloads_through_the_broker_never_stop_the_feed_thread(live_path, stream):
    state, feed, plant = live_path
    for topic, payload in stream + [(t, GOOD[t][0]) for t in ("p", "j")]:
        names = TOPIC_SIGNALS[topic]
        before = _seen(state, names)
        plant.publish(topic, payload, qos=1).wait_for_publish(5)
        # one message at a time, so none is overwritten by the next before it is decoded
        wait_until(lambda: _seen(state, names) >= before + len(names), timeout=10)
        assert feed.worker.alive and feed.worker.failures == 0
    assert state.values()["plain"] == 7.5 and state.values()["scaled"] == 62.5
    assert all(not s.last_error or "could not decode" not in s.last_error for s in state.snapshot().values())
