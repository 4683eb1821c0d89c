"""A busy broker: what bounded queues and catalogs cannot keep is counted and shown, never lost silently."""

import threading

import viewer.live.catalog
import viewer.live.inbox
from tests.conftest import wait_until
from tests.viewer.test_sparkplug import GROUP, NODE, EdgeNode
from viewer.live.feed import LiveFeed
from viewer.live.catalog import TopicCatalog
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
    monkeypatch.setattr(viewer.live.inbox, "ORDERED_MAX", 5)
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
        received, dropped = source.received, source.dropped  # probes may have filled the queue too
        for value in range(12):
            publisher.send(*edge.ndata(value=float(value)))
        wait_until(lambda: source.received == received + 12)
        decoded = feed.step()
        reason = f"{SPB_PREFIX}/{GROUP}/NDATA/{NODE}: 7 Sparkplug messages dropped: the viewer fell behind"
        assert [(e.signal, e.reason) for e in decoded.errors] == [("heat", reason), ("speed", reason)]
        assert [topic for topic, _ in decoded.commands] == [f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}"]  # rebirth
        assert [u.value for u in decoded.updates] == [7.0, 8.0, 9.0, 10.0, 11.0]  # what was kept, in order
        assert (state.signals["heat"].last_error, state.signals["heat"].value) == (reason, 11.0)
        assert source.dropped == dropped + 7
        publisher.send(*edge.ndata(value=12.0))
        wait_until(lambda: state.signals["heat"].value == 12.0, step=feed.step)
        assert state.signals["heat"].errors == 1  # the next message is no new sequence gap
    finally:
        source.stop()


def test_the_topic_catalog_keeps_at_most_its_limits_and_counts_the_rest(mosquitto, publisher, monkeypatch):
    monkeypatch.setattr(viewer.live.catalog, "MAX_TOPICS", 5)
    monkeypatch.setattr(viewer.live.catalog, "MAX_METRICS", 4)
    catalog = TopicCatalog(mosquitto, ["t/#", f"{SPB_PREFIX}/#"])
    catalog.start()
    try:
        wait_until(lambda: catalog.status.state == "live")
        wait_until(lambda: "t/probe" in catalog.snapshot()[0], step=lambda: publisher.send("t/probe", b""))
        edge = EdgeNode()
        topics = [(f"t/{i}", b"x") for i in range(9)]

        def send(*messages):
            end = f"end of {messages[0][0]}".encode()  # delivered in order: the last says all came
            for message in (*messages, ("t/probe", end)):
                publisher.send(*message)
            wait_until(lambda: catalog.snapshot()[0]["t/probe"].payload == end)

        send(edge.nbirth(), edge.dbirth("press"), *topics[:6], ("t/5", b"y"))
        stats, metrics = catalog.snapshot()
        # 9 topics (probe, NBIRTH, DBIRTH, t/0..t/5) and 5 metrics (bdSeq, temperature, running, speed, count)
        assert (len(stats), len(metrics)) == (5, 4)
        assert set(stats) == {"t/probe", f"{SPB_PREFIX}/{GROUP}/NBIRTH/{NODE}",
                              f"{SPB_PREFIX}/{GROUP}/DBIRTH/{NODE}/press", "t/0", "t/1"}
        assert catalog.unshown() == (4, 1)  # t/5 twice is one topic
        send(*topics[6:])
        assert catalog.unshown() == (5, 1)  # the count stops at the limit too: memory stays bounded
        assert (len(catalog.stats), len(catalog.metrics)) == (5, 4)
    finally:
        catalog.stop()


def test_decoding_sparkplug_never_keeps_the_ui_waiting(mosquitto, publisher, monkeypatch):
    catalog = TopicCatalog(mosquitto, [f"{SPB_PREFIX}/#"])
    decoding, done = threading.Event(), threading.Event()
    feed = catalog._host.feed

    def slow_feed(*args):  # a payload that takes long to decode
        decoding.set()
        done.wait(10)
        return feed(*args)

    monkeypatch.setattr(catalog._host, "feed", slow_feed)
    catalog.start()
    try:
        wait_until(lambda: catalog.status.state == "live")
        wait_until(decoding.is_set, step=lambda: publisher.send(*EdgeNode().nbirth()))
        ui = threading.Thread(target=catalog.snapshot)
        ui.start()
        ui.join(2)
        assert not ui.is_alive()  # the snapshot did not wait for the decoding
    finally:
        done.set()
        catalog.stop()
