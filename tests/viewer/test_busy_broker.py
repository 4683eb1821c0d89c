"""A busy broker: what bounded queues and catalogs cannot keep is counted and shown, never lost silently."""

import pytest

import viewer.live.mqtt
from tests.conftest import wait_until
from tests.viewer.test_sparkplug import GROUP, NODE, EdgeNode
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.live.sparkplug import SPB_PREFIX
from viewer.state import TwinState
from viewer.twin.loader import Signal
from viewer.twin.schema import SignalSpec


def _signal(name, metric, device=None):
    return Signal(name, SignalSpec(sparkplug={"group": GROUP, "node": NODE, "device": device, "metric": metric}))


def _subscribed(source, publisher):
    """Wait until the broker delivers to ``source`` (its subscription may still be on its way)."""
    wait_until(lambda: source.status.state == "live")
    wait_until(lambda: source.received > 0, step=lambda: publisher.send(f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}", b""))


def test_sparkplug_messages_dropped_by_a_full_queue_are_errors_and_ask_for_a_rebirth(
        mosquitto, publisher, monkeypatch):
    monkeypatch.setattr(viewer.live.mqtt, "ORDERED_MAX", 5)
    signals = {"heat": _signal("heat", "temperature"), "speed": _signal("speed", "speed", "press")}
    state, ingest = TwinState(signals), Ingest(signals)
    source = MqttSource(mosquitto, ingest.subscriptions)
    feed = LiveFeed(source, ingest, state)
    source.start()  # the feed is stepped by hand: a viewer that falls behind, between two steps
    try:
        _subscribed(source, publisher)
        edge = EdgeNode()
        for message in (edge.nbirth(), edge.dbirth("press")):
            publisher.send(*message)
        wait_until(lambda: state.signals["speed"].value == 1.5, step=feed.step)
        received = source.received
        for value in range(12):
            publisher.send(*edge.ndata(value=float(value)))
        wait_until(lambda: source.received == received + 12)
        decoded = feed.step()
        reason = f"{SPB_PREFIX}/{GROUP}/NDATA/{NODE}: 7 Sparkplug messages dropped: the viewer fell behind"
        assert [(e.signal, e.reason) for e in decoded.errors] == [("heat", reason), ("speed", reason)]
        assert [topic for topic, _ in decoded.commands] == [f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}"]  # rebirth
        assert [u.value for u in decoded.updates] == [7.0, 8.0, 9.0, 10.0, 11.0]  # what was kept, in order
        assert (state.signals["heat"].last_error, state.signals["heat"].value) == (reason, 11.0)
        assert source.dropped == 7
        publisher.send(*edge.ndata(value=12.0))
        wait_until(lambda: state.signals["heat"].value == 12.0, step=feed.step)
        assert state.signals["heat"].errors == 1  # the next message is no new sequence gap
    finally:
        source.stop()
