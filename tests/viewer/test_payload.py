"""Payload decoding: plain numbers, JSON field paths, and clear reasons for bad input."""

import pytest

from viewer.live.ingest import Ingest
from viewer.live.payload import PayloadError, extract, parse_json, set_path
from viewer.twin.fields import FieldPathError, parse_field_path
from viewer.twin.expr import Expression
from viewer.twin.loader import Signal
from viewer.twin.schema import SignalSpec


def test_field_paths_split_into_keys_and_indices():
    assert parse_field_path("temperature") == ("temperature",)
    assert parse_field_path("a.b[0].c") == ("a", "b", 0, "c")
    assert parse_field_path("channels[1][2]") == ("channels", 1, 2)


@pytest.mark.parametrize("path", ["", ".a", "a..b", "a[x]", "a[0", "a.b."])
def test_bad_field_paths_are_refused(path):
    with pytest.raises(FieldPathError):
        parse_field_path(path)


def test_nested_keys_and_list_indices_are_followed():
    doc = parse_json(b'{"bearings": [{"temp": 41.5}, {"temp": 43}], "ok": true}')
    assert extract(doc, ("bearings", 1, "temp")) == 43.0
    assert extract(doc, ("ok",)) == 1.0


@pytest.mark.parametrize(
    "payload, keys, reason",
    [
        (b"{not json", ("a",), "not JSON"),
        (b'{"a": "hot"}', ("a",), "not a number"),
        (b'{"a": null}', ("a",), "expected a number"),
        (b'{"a": [1]}', ("b",), "no field b"),
        (b'{"a": NaN}', ("a",), "not a finite number"),
        (b"\xff\xfe", ("a",), "not UTF-8"),
    ],
)
def test_bad_payloads_give_a_reason(payload, keys, reason):
    with pytest.raises(PayloadError, match=reason):
        extract(parse_json(payload), keys)


def test_set_path_builds_what_extract_reads():
    doc = {}
    set_path(doc, ("channels", 1, "rms"), 2.5)
    set_path(doc, ("channels", 0, "rms"), 1.5)
    assert doc == {"channels": [{"rms": 1.5}, {"rms": 2.5}]}


def _signal(name, topic, field=None, expr=None):
    signal = Signal(name, SignalSpec(topic=topic, field=field, expr=expr))
    signal.expr = Expression(expr) if expr else None
    return signal


def test_one_topic_feeds_several_signals_and_keeps_good_ones_on_error():
    ingest = Ingest({
        "a": _signal("a", "t/1", "x"),
        "b": _signal("b", "t/1", "y", "value * 2"),
        "c": _signal("c", "t/2"),
    })
    out = ingest.decode({"t/1": (b'{"x": 1, "y": "oops"}', 5.0, False), "t/2": (b"7.5", 6.0, True)})
    assert {(u.signal, u.value, u.retained) for u in out.updates} == {("a", 1.0, False), ("c", 7.5, True)}
    assert [(e.signal, "not a number" in e.reason) for e in out.errors] == [("b", True)]


def test_unsubscribed_topics_are_ignored():
    ingest = Ingest({"a": _signal("a", "t/1")})
    out = ingest.decode({"other": (b"1", 0.0, False)})
    assert (out.updates, out.errors, out.availability) == ([], [], {})


def _spec_signal(name, **spec):
    return Signal(name, SignalSpec(**spec))


def test_arrays_of_samples_give_the_last_and_text_states_map_to_numbers():
    ingest = Ingest({
        "v": _spec_signal("v", topic="d", field="samples"),
        "mode": _spec_signal("mode", topic="m", map={"STOPPED": 0, "RUNNING": 1}),
        "json_mode": _spec_signal("json_mode", topic="d", field="state", map={"IDLE": 0, "RUNNING": 1}),
    })
    out = ingest.decode({"d": (b'{"samples": [1, 2, 3.5], "state": "RUNNING"}', 1.0, False),
                         "m": (b"RUNNING", 1.0, False)})
    assert {u.signal: u.value for u in out.updates} == {"v": 3.5, "mode": 1.0, "json_mode": 1.0}
    out = ingest.decode({"m": (b"EXPLODED", 2.0, False)})
    assert "not one of STOPPED, RUNNING" in out.errors[0].reason


def test_a_time_field_dates_the_sample_seconds_or_milliseconds():
    ingest = Ingest({"t": _spec_signal("t", topic="x", field="v", time_field="ts")})
    [u] = ingest.decode({"x": (b'{"v": 1, "ts": 1700000000123}', 99.0, False)}).updates
    assert (u.time, u.received) == (1700000000.123, 99.0)


def test_availability_topics_set_online_and_offline():
    ingest = Ingest({"t": _spec_signal("t", topic="x", availability={"topic": "dev/status"})})
    assert "dev/status" in ingest.topics
    assert ingest.decode({"dev/status": (b"offline", 1.0, True)}).availability == {"t": False}
    out = ingest.decode({"dev/status": (b"maybe", 1.0, False)})
    assert out.availability == {} and "neither 'online' nor 'offline'" in out.errors[0].reason
