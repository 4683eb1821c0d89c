"""Under a flood only the newest payload of a topic is kept: the older ones are dropped
on arrival, counted, and never decoded; Sparkplug messages are still queued in order."""

import json

import pytest

from tests.conftest import wait_until
from tests.viewer.test_sparkplug import GROUP, NODE, EdgeNode
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import READ_SIZE, MqttSource, _ReadAhead
from viewer.live.sparkplug import SPB_PREFIX
from viewer.state import TwinState
from viewer.twin.loader import Signal
from viewer.twin.schema import BrokerSpec, SignalSpec

FLOOD = 300  # QoS 0 messages per topic: well within what Mosquitto queues for one client


def _live(source, publisher):
    """Wait until the broker delivers to ``source`` (its subscription may still be on its way)."""
    wait_until(lambda: source.status.state == "live")
    wait_until(lambda: source.received > 0, step=lambda: publisher.send("rig/probe", b""))
    publisher.send("rig/probe", b"last")  # delivered in order: once it is in, no probe is on its way
    wait_until(lambda: source._latest.get("rig/probe", (b"",))[0] == b"last")
    source.drain()
    return source.received, source.superseded


def _flood(publisher, messages):
    """Publish ``messages`` at QoS 0, as fast as paho can, and wait until all left."""
    for topic, payload in messages:
        info = publisher.client.publish(topic, payload, qos=0)
    info.wait_for_publish(5)


def test_a_flood_keeps_one_payload_per_topic_and_counts_the_superseded(mosquitto, publisher):
    source = MqttSource(mosquitto, ["rig/#", f"{SPB_PREFIX}/#"])
    source.start()
    try:
        received, superseded = _live(source, publisher)
        edge = EdgeNode()
        births = [edge.nbirth(), edge.dbirth("press")]
        data = [edge.ndata(value=float(i)) for i in range(5)]
        _flood(publisher, births + [(f"rig/{t}", f"{t}{i}") for i in range(FLOOD) for t in "abc"] + data)
        wait_until(lambda: source.received == received + 3 * FLOOD + 7)
        assert source.pending() == 3  # whatever the flood, one payload per topic waits
        assert source.superseded == superseded + 3 * (FLOOD - 1)
        latest = source.drain()
        assert {t: p for t, (p, _, _) in latest.items()} == {f"rig/{t}": f"{t}{FLOOD - 1}".encode() for t in "abc"}
        # Sparkplug messages are neither superseded nor kept as the newest: all of them, in order
        assert [(t, p) for t, p, _ in source.drain_ordered()] == [(t, bytes(p)) for t, p in births + data]
        assert source.pending() == 0 and source.drain() == {}
    finally:
        source.stop()


def test_the_feed_decodes_only_the_newest_value_of_a_flooded_topic(mosquitto, publisher):
    signals = {"level": Signal("level", SignalSpec(topic="rig/a", field="v"))}
    state, ingest = TwinState(signals), Ingest(signals)
    source = MqttSource(mosquitto, ["rig/#"])
    feed = LiveFeed(source, ingest, state)
    source.start()  # the feed is stepped by hand: a viewer busy elsewhere during the flood
    try:
        received, superseded = _live(source, publisher)
        _flood(publisher, [("rig/a", json.dumps({"v": i})) for i in range(FLOOD)])
        wait_until(lambda: source.received == received + FLOOD)
        assert len(feed.step().updates) == 1
        level = state.signals["level"]
        assert (level.value, level.updates) == (FLOOD - 1, 1)  # one decode for the whole flood
        assert source.superseded - superseded == FLOOD - 1
        assert feed.take() == {"level"}
    finally:
        source.stop()


def test_a_limited_drain_takes_the_topics_waiting_longest_with_their_newest_payloads(mosquitto, publisher):
    source = MqttSource(mosquitto, ["rig/#"])
    source.start()
    try:
        received, superseded = _live(source, publisher)
        for topic, payload in [("rig/a", "a1"), ("rig/b", "b1"), ("rig/c", "c1"), ("rig/a", "a2")]:
            publisher.send(topic, payload)
        wait_until(lambda: source.received == received + 4)
        first = source.drain(2)
        assert {t: p for t, (p, _, _) in first.items()} == {"rig/a": b"a2", "rig/b": b"b1"}
        assert source.pending() == 1 and source.superseded == superseded + 1
        publisher.send("rig/a", "a3")  # drained, so it queues again, behind rig/c
        wait_until(lambda: source.pending() == 2)
        assert list(source.drain(5)) == ["rig/c", "rig/a"]
    finally:
        source.stop()


@pytest.mark.parametrize("protocol", ["3.1.1", "5"])
def test_every_kind_of_message_arrives_whole_through_the_read_ahead(mosquitto, publisher, protocol):
    big = bytes(range(256)) * (READ_SIZE // 256 + 100)  # longer than one read of the socket
    publisher.send("rig/kept", "retained", retain=True)
    source = MqttSource(mosquitto, {"rig/#": 0, "rig1/#": 1}, BrokerSpec(url=mosquitto, protocol=protocol))
    source.start()
    try:
        wait_until(lambda: "rig/kept" in source._latest)  # retained: delivered once subscribed
        received = source.received
        messages = [("rig/small", b"1"), ("rig/empty", b""), ("rig/big", big), ("rig1/acked", b"q1"),
                    ("rig/é", "unicode".encode())]
        for topic, payload in messages:
            publisher.send(topic, payload)
        wait_until(lambda: source.received == received + len(messages))
        latest = source.drain()
        assert {t: p for t, (p, _, _) in latest.items()} == {**dict(messages), "rig/kept": b"retained"}
        assert [t for t, (_, _, retained) in latest.items() if retained] == ["rig/kept"]
    finally:
        source.stop()


def _publish_packet(topic: str, payload: bytes, header: int = 0x30) -> bytes:
    body = len(topic.encode()).to_bytes(2, "big") + topic.encode() + (b"\x00\x01" if header & 0x06 else b"") + payload
    length, size = b"", len(body)
    while True:
        size, digit = divmod(size, 128)
        length += bytes([digit | (128 if size else 0)])
        if not size:
            return bytes([header]) + length + body


class _Socket:
    def __init__(self, data: bytes):
        self.data = data

    def recv(self, size: int) -> bytes:
        data, self.data = self.data[:size], self.data[size:]
        return data


def test_the_read_ahead_takes_whole_qos0_publishes_and_leaves_the_rest_to_paho():
    long = b"x" * 300  # a remaining length of two bytes
    qos1 = _publish_packet("t/q1", b"ack me", 0x32)
    data = (_publish_packet("t/a", b"1") + _publish_packet("t/r", long, 0x31) + qos1
            + _publish_packet("t/b", b"2") + _publish_packet("t/cut", b"cut off")[:-3])
    sock = _ReadAhead(_Socket(data))
    assert sock.recv(1) == b"\x30"  # paho reads a packet's first byte: the rest is buffered
    sock._pos = 0  # as if paho had not started that packet
    assert sock.take_publishes() == [("t/a", b"1", False), ("t/r", long, True)]
    assert sock.take_publishes() == []  # a QoS 1 publish is paho's (it must be acknowledged)
    assert sock.recv(len(qos1)) == qos1
    assert sock.take_publishes() == [("t/b", b"2", False)]
    assert sock.take_publishes() == [] and sock.buffered() == len(_publish_packet("t/cut", b"cut off")) - 3
