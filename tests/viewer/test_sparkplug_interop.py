"""Sparkplug B from an independent edge node implementation: payloads captured byte for byte
(tests/data/sparkplug, see its README), read by the host alone and through a real broker."""

import json
import time
from pathlib import Path

from tests.conftest import wait_until
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.live.sparkplug import SPB_PREFIX, SparkplugHost, decode_payload, parse_topic
from viewer.state import TwinState
from viewer.twin.loader import Signal
from viewer.twin.schema import SignalSpec

DATA = Path(__file__).parents[1] / "data" / "sparkplug"
EXPECTED = json.loads((DATA / "expected.json").read_text())
MESSAGES = [(m["topic"], (DATA / m["file"]).read_bytes(), m) for m in EXPECTED["messages"]]
GROUP, NODE, DEVICE = EXPECTED["group"], EXPECTED["node"], EXPECTED["device"]
BIRTHS = {parse_topic(m["topic"]).device: m["metrics"] for _, _, m in MESSAGES if "BIRTH" in m["topic"]}
T0 = 1_700_000_000.0


def kind(topic):
    return parse_topic(topic).message_type


def test_the_captured_payloads_are_what_the_fixture_says():
    """Alias-only data really comes without name and datatype, so the host must use the birth's."""
    for topic, payload, expected in MESSAGES:
        metrics = decode_payload(payload).metrics
        if "aliases" in expected:
            assert {m.name: m.alias for m in metrics if m.HasField("alias")} == expected["aliases"]
        if "by alias" in expected.get("how", ""):
            [metric] = metrics
            assert not metric.name and not metric.HasField("datatype") and metric.HasField("alias")


def test_the_host_reads_every_captured_message_as_expected():
    host = SparkplugHost()
    online = {}
    for i, (topic, payload, expected) in enumerate(MESSAGES):
        events = host.feed(topic, payload, T0 + i)
        assert (events.problems, events.commands) == ([], [])
        where = parse_topic(topic)
        assert {key[:3] for key, _, _ in events.values} <= {(where.group, where.node, where.device)}
        values = {key[3]: value for key, value, _ in events.values if key[3] != "bdSeq"}
        assert values == {name: float(value) for name, value in expected.get("metrics", {}).items()}
        if kind(topic) == "DDEATH":
            assert events.online == {(GROUP, NODE, DEVICE, n): False for n in BIRTHS[DEVICE]}
        elif kind(topic) == "NDEATH":
            assert events.online == {(GROUP, NODE, None, n): False for n in [*BIRTHS[None], "bdSeq"]}
        else:
            assert set(events.online.values()) <= {True}
        online |= events.online
    assert len(online) == 7 and not any(online.values())
    last_data = MESSAGES[-3]
    assert host.feed(*last_data[:2], T0 + 100).values == []  # nothing is taken from the dead node


def _signals():
    """A signal per metric of the births, named after it."""
    return {name: Signal(name, SignalSpec(sparkplug={"group": GROUP, "node": NODE, "device": device, "metric": name}))
            for device, metrics in BIRTHS.items() for name in metrics}


def test_a_twin_shows_the_captured_values_through_a_real_broker(mosquitto, publisher):
    signals = _signals()
    state, ingest = TwinState(signals), Ingest(signals)
    source = MqttSource(mosquitto, ingest.subscriptions)
    feed = LiveFeed(source, ingest, state)
    expected = {name: [] for name in signals}
    for _, _, m in MESSAGES:
        for name, value in m.get("metrics", {}).items():
            expected[name].append(float(value))
    deaths = [(topic, payload) for topic, payload, _ in MESSAGES if "DEATH" in topic]
    feed.start()
    try:
        wait_until(lambda: source.status.state == "live")
        # The subscription may still be on its way: a command (no data for a host) until one arrives.
        wait_until(lambda: source.received > 0, step=lambda: publisher.send(f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}", b""))
        for topic, payload, _ in MESSAGES[:-2]:
            publisher.send(topic, payload)
        s = state.signals
        wait_until(lambda: all(s[n].updates == len(v) for n, v in expected.items()))
        assert {n: state.history(n).value.tolist() for n in signals} == expected
        assert {n: (s[n].value, s[n].errors) for n in ("Counter", "Level", "Running")} == {
            "Counter": (-14.0, 0), "Level": (-1004.0, 0), "Running": (1.0, 0)}
        assert set(state.qualities(time.time()).values()) == {"live"}
        publisher.send(*deaths[0])  # DDEATH: the device's signals only
        wait_until(lambda: all(s[n].quality(time.time()) == "offline" for n in BIRTHS[DEVICE]))
        assert all(s[n].quality(time.time()) == "live" for n in BIRTHS[None])
        publisher.send(*deaths[1])  # NDEATH (the Last Will): the node's too
        wait_until(lambda: set(state.qualities(time.time()).values()) == {"offline"})
        assert sum(st.errors for st in s.values()) == 0
        assert s["Level"].value == -1004.0  # the last good value stays, shown as offline
    finally:
        feed.stop()
