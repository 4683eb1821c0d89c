"""Sparkplug B: the payload codec and the host-application rules, driven by a scripted edge node."""

import math

import pytest

from viewer.live.sparkplug import (
    SPB_PREFIX,
    DataType,
    HostEvents,
    SparkplugError,
    SparkplugHost,
    SpTopic,
    decode_payload,
    encode_payload,
    metric_value,
    parse_topic,
)

GROUP, NODE = "plant", "edge1"
T0 = 1_700_000_000.0  # wall-clock seconds


class EdgeNode:
    """A scripted edge node: the topics and payloads a real one publishes, in order."""

    NODE_METRICS = [("temperature", 1, DataType.Double, 21.5), ("running", 2, DataType.Boolean, True)]
    DEVICE_METRICS = {"press": [("speed", 10, DataType.Float, 1.5), ("count", 11, DataType.Int32, -3)],
                      "oven": [("heat", 20, DataType.Double, 180.0)]}

    def __init__(self, bd_seq=0):
        self.bd_seq = bd_seq
        self.seq = 0

    def _seq(self):
        seq, self.seq = self.seq, (self.seq + 1) % 256
        return seq

    @staticmethod
    def topic(kind, device=None):
        return f"{SPB_PREFIX}/{GROUP}/{kind}/{NODE}" + (f"/{device}" if device else "")

    def nbirth(self):
        self.seq = 0
        metrics = [{"name": "bdSeq", "datatype": DataType.UInt64, "value": self.bd_seq}]
        metrics += [{"name": n, "alias": a, "datatype": t, "value": v} for n, a, t, v in self.NODE_METRICS]
        return self.topic("NBIRTH"), encode_payload(metrics, self._seq(), 1000)

    def dbirth(self, device="press"):
        metrics = [{"name": n, "alias": a, "datatype": t, "value": v} for n, a, t, v in self.DEVICE_METRICS[device]]
        return self.topic("DBIRTH", device), encode_payload(metrics, self._seq(), 1000)

    def ndata(self, alias=1, value=22.0, datatype=DataType.Double, seq=None):
        metric = {"alias": alias, "datatype": datatype, "value": value}
        return self.topic("NDATA"), encode_payload([metric], self._seq() if seq is None else seq, 2000)

    def ddata(self, device="press", alias=10, value=2.5, datatype=DataType.Float):
        metric = {"alias": alias, "datatype": datatype, "value": value}
        return self.topic("DDATA", device), encode_payload([metric], self._seq(), 2000)

    def ndeath(self, bd_seq=None):
        metric = {"name": "bdSeq", "datatype": DataType.UInt64, "value": self.bd_seq if bd_seq is None else bd_seq}
        return self.topic("NDEATH"), encode_payload([metric], None)

    def ddeath(self, device="press"):
        return self.topic("DDEATH", device), encode_payload([], self._seq(), 3000)


def key(name, device=None):
    return (GROUP, NODE, device, name)


def born_host(edge, *devices, **kwargs):
    host = SparkplugHost(**kwargs)
    host.feed(*edge.nbirth(), T0)
    for device in devices:
        host.feed(*edge.dbirth(device), T0)
    return host


def decoded_value(datatype, value):
    payload = decode_payload(encode_payload([{"name": "m", "datatype": datatype, "value": value}], 0))
    return payload.metrics[0]


@pytest.mark.parametrize("datatype, value", [
    (DataType.Int8, -128), (DataType.Int8, 127), (DataType.Int16, -32768), (DataType.Int32, -2**31),
    (DataType.Int64, -2**63), (DataType.Int64, 2**63 - 1), (DataType.UInt8, 255), (DataType.UInt16, 65535),
    (DataType.UInt32, 2**32 - 1), (DataType.UInt64, 2**64 - 1), (DataType.Float, -0.25),
    (DataType.Double, 3.141592653589793), (DataType.Boolean, True), (DataType.Boolean, False),
    (DataType.String, "héllo"), (DataType.Text, "long text"), (DataType.DateTime, 1_700_000_000_123),
    (DataType.Double, None),
])
def test_round_trip_of_every_datatype(datatype, value):
    metric = decoded_value(datatype, value)
    assert metric.datatype == datatype
    assert metric_value(metric) == value
    assert type(metric_value(metric)) is type(value)


def test_signed_ints_are_stored_twos_complement():
    assert decoded_value(DataType.Int8, -1).int_value == 0xFF
    assert decoded_value(DataType.Int32, -2).int_value == 0xFFFFFFFE
    assert decoded_value(DataType.Int64, -1).long_value == 2**64 - 1


def test_int8_sign_extended_to_32_bits_reads_signed():
    metric = decoded_value(DataType.UInt32, 0xFFFFFFFE)  # how some producers send an Int8 of -2
    metric.datatype = DataType.Int8
    assert metric_value(metric) == -2


@pytest.mark.parametrize("datatype, value", [(DataType.Int8, 128), (DataType.UInt8, -1), (DataType.Int32, 1.5),
                                             (DataType.String, 3), (DataType.Float, "x")])
def test_encode_refuses_values_that_do_not_fit(datatype, value):
    with pytest.raises(SparkplugError):
        encode_payload([{"name": "m", "datatype": datatype, "value": value}], 0)


def test_encode_refuses_seq_outside_0_to_255():
    with pytest.raises(SparkplugError):
        encode_payload([], 256)


def test_payload_timestamp_and_seq_round_trip():
    payload = decode_payload(encode_payload([], 7, 1234))
    assert (payload.seq, payload.timestamp) == (7, 1234)


@pytest.mark.parametrize("topic, expected", [
    ("spBv1.0/plant/NDATA/edge1", SpTopic("plant", "NDATA", "edge1")),
    ("spBv1.0/plant/DBIRTH/edge1/press", SpTopic("plant", "DBIRTH", "edge1", "press")),
    ("spBv1.0/STATE/scada1", SpTopic("", "STATE", "scada1")),
    ("spBv1.0/plant/NDATA/edge1/press", None),
    ("spBv1.0/plant/DDATA/edge1", None),
    ("spBv1.0/plant/XDATA/edge1", None),
    ("spAv1.0/plant/NDATA/edge1", None),
    ("spBv1.0//NDATA/edge1", None),
])
def test_parse_topic(topic, expected):
    assert parse_topic(topic) == expected


def test_births_put_metrics_online_with_their_values():
    edge = EdgeNode()
    host = SparkplugHost()
    events = host.feed(*edge.nbirth(), T0)
    assert events.online == {key("bdSeq"): True, key("temperature"): True, key("running"): True}
    assert (key("running"), 1.0, 1.0) in events.values
    events = host.feed(*edge.dbirth("press"), T0)
    assert events.online == {key("speed", "press"): True, key("count", "press"): True}
    assert (key("count", "press"), -3.0, 1.0) in events.values
    assert events.problems == []


def test_data_by_alias_resolves_to_names():
    edge = EdgeNode()
    host = born_host(edge, "press", "oven")
    assert host.feed(*edge.ndata(alias=1, value=23.25), T0).values == [(key("temperature"), 23.25, 2.0)]
    assert host.feed(*edge.ddata("press", alias=11, value=-7, datatype=DataType.Int32), T0).values == [
        (key("count", "press"), -7.0, 2.0)]
    events = host.feed(*edge.ddata("oven", alias=20, value=200.0, datatype=DataType.Double), T0)
    assert events.values == [(key("heat", "oven"), 200.0, 2.0)]
    assert events.problems == []


def untyped(topic, payload):
    """A data message as many edge nodes send it: no datatype, the birth gave it (spec)."""
    message = decode_payload(payload)
    for metric in message.metrics:
        metric.ClearField("datatype")
    return topic, message.SerializeToString()


@pytest.mark.parametrize("datatype, value", [(DataType.Int8, -100), (DataType.Int16, -1000),
                                             (DataType.Int32, -100_000), (DataType.Int64, -1000),
                                             (DataType.Int64, -2**63)])
def test_signed_data_without_a_datatype_is_read_with_the_births(datatype, value):
    host = SparkplugHost()
    birth = [{"name": "bdSeq", "datatype": DataType.UInt64, "value": 0},
             {"name": "m", "alias": 5, "datatype": datatype, "value": 0}]
    host.feed(EdgeNode.topic("NBIRTH"), encode_payload(birth, 0), T0)
    for seq, by in enumerate(({"alias": 5}, {"name": "m"}), start=1):
        data = encode_payload([{**by, "datatype": datatype, "value": value}], seq)
        assert host.feed(*untyped(EdgeNode.topic("NDATA"), data), T0).values == [(key("m"), float(value), T0)]


def test_a_rebirth_replaces_the_datatypes_of_the_birth_before():
    edge = EdgeNode()
    host = born_host(edge, "press")  # count: Int32
    data = untyped(*edge.ddata("press", alias=11, value=-1, datatype=DataType.Int32))
    assert host.feed(*data, T0).values[0][1] == -1
    edge.DEVICE_METRICS = {"press": [("count", 11, DataType.UInt32, 0)]}
    host.feed(*edge.dbirth("press"), T0)
    data = untyped(*edge.ddata("press", alias=11, value=2**32 - 1, datatype=DataType.UInt32))
    assert host.feed(*data, T0).values[0][1] == 2**32 - 1
    edge.NODE_METRICS = [("temperature", 1, DataType.Int8, 0)]
    host.feed(*edge.nbirth(), T0)
    assert host.feed(*untyped(*edge.ndata(alias=1, value=-2, datatype=DataType.Int8)), T0).values[0][1] == -2


def test_strings_give_no_number():
    host = SparkplugHost()
    metrics = [{"name": "bdSeq", "datatype": DataType.UInt64, "value": 0},
               {"name": "mode", "datatype": DataType.String, "value": "auto"}]
    events = host.feed(EdgeNode.topic("NBIRTH"), encode_payload(metrics, 0), T0)
    assert (key("mode"), None, T0) in events.values


def test_sample_time_prefers_metric_then_payload_timestamp_then_now():
    edge = EdgeNode()
    host = born_host(edge)

    def sample_time(metric_ms, payload_ms, now):
        metric = {"alias": 1, "datatype": DataType.Double, "value": 1.0, "timestamp": metric_ms}
        return host.feed(edge.topic("NDATA"), encode_payload([metric], edge._seq(), payload_ms), now).values[0][2]

    assert sample_time(5500, 2000, T0) == 5.5
    assert sample_time(None, 2000, T0) == 2.0
    assert sample_time(None, None, T0 + 1) == T0 + 1


def test_data_before_birth_gives_no_values_a_problem_and_a_rebirth_request():
    host = SparkplugHost()
    events = host.feed(*EdgeNode().ndata(), T0)
    assert events.values == [] and events.online == {}
    assert any("data before birth" in p for p in events.problems)
    [(topic, payload)] = events.commands
    assert topic == f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}"
    [metric] = decode_payload(payload).metrics
    assert (metric.name, metric.datatype, metric_value(metric)) == ("Node Control/Rebirth", DataType.Boolean, True)


def test_device_data_before_its_dbirth_is_refused():
    edge = EdgeNode()
    host = born_host(edge)
    events = host.feed(*edge.ddata("press"), T0)
    assert events.values == []
    assert any("data before birth" in p for p in events.problems)
    assert len(events.commands) == 1


def test_rebirth_requests_are_not_repeated_while_one_is_pending():
    host = SparkplugHost(rebirth_after=2.0)
    edge = EdgeNode()
    assert len(host.feed(*edge.ndata(), T0).commands) == 1
    assert host.feed(*edge.ndata(), T0 + 0.5).commands == []


def test_seq_wrap_from_255_to_0_is_no_problem():
    edge = EdgeNode()
    host = born_host(edge)
    problems = [p for _ in range(300) for p in host.feed(*edge.ndata(), T0).problems]
    assert edge.seq == 301 % 256
    assert problems == []


def test_sequence_gap_gives_a_problem_then_one_rebirth_request():
    edge = EdgeNode()
    host = born_host(edge, rebirth_after=2.0)
    edge._seq()  # seq 1 is lost
    events = host.feed(*edge.ndata(), T0 + 0.1)
    assert events.problems == [f"{edge.topic('NDATA')}: sequence gap (expected 1, got 2)"]
    assert events.values and events.commands == []
    assert host.tick(T0 + 1.0).commands == []
    assert len(host.tick(T0 + 2.2).commands) == 1
    assert host.tick(T0 + 5.0).commands == []
    assert host.feed(*edge.ndata(), T0 + 6.0).commands == []


def test_late_message_within_reorder_window_is_no_rebirth():
    edge = EdgeNode()
    host = born_host(edge, rebirth_after=2.0)
    late = edge.ndata()  # seq 1, delivered after seq 2
    assert len(host.feed(*edge.ndata(), T0).problems) == 1
    assert host.feed(*late, T0 + 0.5).problems == []
    assert host.tick(T0 + 3.0).commands == []


def test_reorder_timeout_is_also_checked_when_data_arrives():
    edge = EdgeNode()
    host = born_host(edge, rebirth_after=2.0)
    edge._seq()
    host.feed(*edge.ndata(), T0)
    assert len(host.feed(*edge.ndata(), T0 + 2.5).commands) == 1


def test_dropped_messages_are_a_problem_and_a_rebirth_request_at_once():
    edge = EdgeNode()
    host = born_host(edge, rebirth_after=2.0)
    for _ in range(3):
        edge._seq()  # dropped before the host saw them
    events = host.lost(edge.topic("NDATA"), 3, T0)
    assert events.problems == [f"{edge.topic('NDATA')}: 3 Sparkplug messages dropped: the viewer fell behind"]
    assert len(events.commands) == 1
    events = host.feed(*edge.ndata(), T0 + 0.1)  # no gap to wait for: they are known to be lost
    assert events.values and (events.problems, events.commands) == ([], [])
    assert host.tick(T0 + 5.0).commands == []
    assert host.lost(edge.topic("NCMD"), 1, T0 + 5.0) == HostEvents()  # commands carry no state


def test_unknown_alias_and_unborn_metric_are_problems():
    edge = EdgeNode()
    host = born_host(edge, "press")
    events = host.feed(*edge.ndata(alias=99), T0)
    assert events.values == [] and any("unknown alias 99" in p for p in events.problems)
    events = host.feed(*edge.ddata("press", alias=1), T0)  # the node's alias, not the device's
    assert events.values == [] and any("unknown alias 1" in p for p in events.problems)
    metric = {"name": "pressure", "datatype": DataType.Double, "value": 1.0}
    events = host.feed(edge.topic("NDATA"), encode_payload([metric], edge._seq()), T0)
    assert events.values == [] and any("'pressure'" in p for p in events.problems)


def test_ndeath_with_old_bdseq_is_ignored():
    edge = EdgeNode(bd_seq=1)
    host = born_host(edge, "press")
    events = host.feed(*edge.ndeath(bd_seq=0), T0)
    assert events.online == {}
    assert events.problems == [f"{edge.topic('NDEATH')}: stale NDEATH (bdSeq 0, current 1) ignored"]
    assert host.feed(*edge.ndata(), T0).values


def test_ndeath_with_current_bdseq_takes_node_and_device_metrics_offline():
    edge = EdgeNode(bd_seq=4)
    host = born_host(edge, "press", "oven")
    events = host.feed(*edge.ndeath(), T0)
    assert events.online == {key(n): False for n in ("bdSeq", "temperature", "running")} | {
        key("speed", "press"): False, key("count", "press"): False, key("heat", "oven"): False}
    assert events.problems == []


def test_ddeath_takes_only_that_device_offline():
    edge = EdgeNode()
    host = born_host(edge, "press", "oven")
    events = host.feed(*edge.ddeath("press"), T0)
    assert events.online == {key("speed", "press"): False, key("count", "press"): False}
    assert host.feed(*edge.ddata("oven", alias=20, datatype=DataType.Double), T0).values
    assert host.feed(*edge.ddata("press"), T0).values == []


def test_new_nbirth_after_death_is_online_again():
    edge = EdgeNode(bd_seq=0)
    host = born_host(edge, "press")
    host.feed(*edge.ndeath(), T0)
    assert host.feed(*edge.ndata(), T0 + 1).values == []
    edge.bd_seq = 1
    events = host.feed(*edge.nbirth(), T0 + 5)
    assert events.online[key("temperature")] is True
    assert host.feed(*edge.ndata(), T0 + 6).values[0][0] == key("temperature")


@pytest.mark.parametrize("garbage", [b"not a protobuf", b"\x00\x01\x02", bytes(range(256)), b"\xff" * 12,
                                     b"\x0a\x05abc"])
def test_garbage_bytes_are_refused(garbage):
    with pytest.raises(SparkplugError, match="not a Sparkplug B payload"):
        decode_payload(garbage)


def test_garbage_payload_is_a_problem_and_nothing_else():
    edge = EdgeNode()
    host = born_host(edge)
    events = host.feed(edge.topic("NDATA"), b"\x00garbage", T0)
    assert events.values == [] and events.online == {} and events.commands == []
    assert len(events.problems) == 1 and "undecodable payload" in events.problems[0]
    assert host.feed(*edge.ndata(), T0).problems == []  # the garbage did not count as a sequence number


SP_TWIN = f"""\
twin: Sparkplug rig
parts:
  - {{name: rig, mesh: rig.glb}}
signals:
  speed: {{sparkplug: {{group: {GROUP}, node: {NODE}, device: press, metric: speed}}, unit: m/s}}
  heat: {{sparkplug: {{group: {GROUP}, node: {NODE}, metric: temperature}}, unit: degC}}
bindings:
  - {{label: bearing, text: "{{speed:.1f}} m/s {{heat:.1f}} degC"}}
"""


def test_a_twin_follows_a_sparkplug_edge_node_through_a_real_broker(tmp_path, mosquitto, publisher):
    """Data before birth stays unknown and asks for a rebirth; births and data by alias
    arrive as values; DDEATH turns the device's signal offline."""
    import time

    import paho.mqtt.client as mqtt
    import pyvista as pv

    from tests.conftest import make_test_machine, wait_until
    from viewer.session import Session
    from viewer.twin.loader import load_twin

    make_test_machine(tmp_path)
    (tmp_path / "sp.twin.yaml").write_text(SP_TWIN)
    commands = []
    watcher = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    watcher.on_message = lambda c, u, m: commands.append(m.topic)
    host, port = mosquitto.removeprefix("mqtt://").split(":")
    watcher.connect(host, int(port))
    watcher.subscribe(f"{SPB_PREFIX}/{GROUP}/NCMD/#")
    watcher.loop_start()
    plotter = pv.Plotter(off_screen=True, window_size=(200, 150))
    session = Session(load_twin(tmp_path / "sp.twin.yaml"), plotter, mosquitto)
    session.start()
    edge = EdgeNode()
    state = session.state.signals
    try:
        wait_until(lambda: session.status.state == "live")
        publisher.send(*edge.ndata(alias=1, value=99.0, seq=5))  # before any birth: unknown
        wait_until(lambda: commands == [f"{SPB_PREFIX}/{GROUP}/NCMD/{NODE}"])  # rebirth asked for
        assert state["heat"].value is None and state["heat"].errors == 1
        for message in (edge.nbirth(), edge.dbirth("press"), edge.ddata("press", alias=10, value=3.25)):
            publisher.send(*message)
        wait_until(lambda: state["speed"].value == 3.25 and state["heat"].value == 21.5)
        publisher.send(*edge.ddeath("press"))
        wait_until(lambda: state["speed"].quality(time.time()) == "offline")
        assert state["heat"].quality(time.time()) == "live"  # the node itself is alive
    finally:
        session.close()
        plotter.close()
        watcher.loop_stop()
        watcher.disconnect()


def _ingest(*signals):
    from viewer.live.ingest import Ingest
    from viewer.twin.loader import Signal
    from viewer.twin.schema import SignalSpec
    from viewer.twin.expr import Expression

    out = {}
    for name, node, metric, expr in signals:
        sig = Signal(name, SignalSpec(sparkplug={"group": GROUP, "node": node, "metric": metric}, expr=expr))
        sig.expr = Expression(expr) if expr else None
        out[name] = sig
    return Ingest(out)


def test_sparkplug_signals_apply_their_expression_and_problems_stay_with_their_node():
    ingest = _ingest(("heat_f", NODE, "temperature", "value * 9 / 5 + 32"), ("other", "edge2", "temperature", None))
    edge = EdgeNode()
    out = ingest.decode({}, [(*edge.nbirth(), T0)], now=T0)
    assert [(u.signal, u.value) for u in out.updates] == [("heat_f", pytest.approx(70.7))]
    out = ingest.decode({}, [(*edge.ndata(seq=9), T0 + 1)], now=T0 + 1)  # a gap on edge1 only
    assert {e.signal for e in out.errors} == {"heat_f"} and "sequence gap" in out.errors[0].reason


def test_a_sparkplug_signal_refuses_keys_that_mean_nothing_for_it():
    from pydantic import ValidationError

    from viewer.twin.schema import SignalSpec

    with pytest.raises(ValidationError, match="births and deaths"):
        SignalSpec(sparkplug={"group": "g", "node": "n", "metric": "m"}, map={"ON": 1})


def test_ssl_urls_mean_tls_and_an_override_to_plain_mqtt_does_not():
    from viewer.live.mqtt import MqttSource
    from viewer.twin.schema import BrokerSpec

    assert BrokerSpec(url="ssl://plant:8883").uses_tls
    options = BrokerSpec(url="mqtts://plant")
    assert MqttSource("ssl://plant:8883", ["t"], options)._tls is not None
    assert MqttSource("mqtt://127.0.0.1:1883", ["t"], options)._tls is None


@pytest.mark.parametrize("datatype", [DataType.Float, DataType.Double])
def test_nan_and_infinite_metric_values_are_errors_and_the_last_good_value_stays(datatype):
    from viewer.state import TwinState

    ingest = _ingest(("heat", NODE, "temperature", None))
    state = TwinState(ingest.signals)
    edge = EdgeNode()
    state.apply_decoded(ingest.decode({}, [(*edge.nbirth(), T0)], now=T0))
    for bad in (math.nan, math.inf, -math.inf):
        decoded = ingest.decode({}, [(*edge.ndata(value=bad, datatype=datatype), T0)], now=T0)
        state.apply_decoded(decoded)
        assert decoded.updates == [] and [e.reason for e in decoded.errors] == [f"not a finite number: {bad}"]
    assert (state.signals["heat"].value, state.signals["heat"].errors) == (21.5, 3)
