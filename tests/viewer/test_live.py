"""The live path against real brokers: Mosquitto from the tests, the demo's embedded ones."""

import subprocess
import threading
import time

import pytest

from tests.conftest import Publisher, wait_until
from viewer.live.broker import EmbeddedBroker, mosquitto_path, wait_for_port
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.twin.url import BrokerUrlError, parse_broker_url
from viewer.live.simulator import Simulator
from viewer.samples import SAMPLES
from viewer.twin.loader import load_twin


def test_broker_urls_are_parsed_or_refused():
    assert parse_broker_url("mqtt://plant-broker:1884") == ("plant-broker", 1884)
    assert parse_broker_url("localhost") == ("localhost", 1883)
    for bad in ("http://x", "mqtt://", "mqtt://h:notaport"):
        with pytest.raises(BrokerUrlError):
            parse_broker_url(bad)


def test_source_keeps_only_the_newest_payload_per_topic(mosquitto, publisher):
    source = MqttSource(mosquitto, ["rig/#"])
    source.start()
    try:
        wait_until(lambda: source.status.state == "live")
        for i in range(200):
            publisher.send("rig/a", str(i))
        publisher.send("rig/b", "x")
        wait_until(lambda: source.received >= 201)
        latest = source.drain()
        assert latest["rig/a"][:1] == (b"199",) and latest["rig/b"][0] == b"x"
        assert source.drain() == {}
    finally:
        source.stop()
    assert source.status.state == "stopped"


def test_source_shows_a_lost_broker_and_reconnects_when_it_returns(tmp_path):
    conf = tmp_path / "m.conf"
    broker = EmbeddedBroker()
    conf.write_text(f"listener {broker.port} 127.0.0.1\nallow_anonymous true\n")

    def start():
        proc = subprocess.Popen([mosquitto_path(), "-c", str(conf)], stderr=subprocess.DEVNULL)
        wait_for_port(broker.port, process=proc)
        return proc

    proc = start()
    source = MqttSource(broker.url, ["rig/t"])
    source.start()
    try:
        wait_until(lambda: source.status.state == "live")
        proc.terminate()
        proc.wait()
        wait_until(lambda: source.status.state == "reconnecting")
        assert "reconnecting" in str(source.status)
        proc = start()
        wait_until(lambda: source.status.state == "live", timeout=10)  # back-off is capped at 4 s
        pub = Publisher(broker.url)
        pub.send("rig/t", "42")  # the subscription was renewed on reconnect
        wait_until(lambda: "rig/t" in source._latest)
        assert source.drain()["rig/t"][0] == b"42"
        pub.close()
    finally:
        source.stop()
        proc.terminate()
        proc.wait()


def test_unreachable_broker_is_reported_without_blocking():
    started = time.monotonic()
    source = MqttSource("mqtt://127.0.0.1:1", ["x"])
    source.start()
    assert time.monotonic() - started < 0.5  # connecting happens on the network thread
    try:
        wait_until(lambda: source.status.state == "reconnecting" and source.status.attempts >= 1)
    finally:
        source.stop()


@pytest.mark.parametrize("kind", ["mosquitto", "amqtt"])
def test_embedded_broker_and_simulator_deliver_the_demo_signals_then_stop_cleanly(kind):
    twin = load_twin(SAMPLES["pump"])
    threads_before = set(threading.enumerate())
    broker = EmbeddedBroker(prefer=kind).start()
    assert broker.kind == kind and broker.running
    simulator = Simulator(broker.url, twin.spec.simulate).start()
    ingest = Ingest(twin.signals)
    source = MqttSource(broker.url, ingest.topics)
    source.start()
    seen = {}
    try:
        def collect():
            out = ingest.decode(source.drain())
            assert out.errors == []
            seen.update((u.signal, u.value) for u in out.updates)
            return set(seen) == set(twin.signals)
        wait_until(collect, timeout=15)
    finally:
        source.stop()
        simulator.stop()
        broker.stop()
    assert 0 <= seen["motor_speed"] <= 1500  # ramping up to 1480 rpm
    assert 15 < seen["bearing_nde_temp"] < 60  # sent in °F, converted by the twin's expression
    assert not broker.running
    wait_until(lambda: set(threading.enumerate()) <= threads_before, timeout=5)
