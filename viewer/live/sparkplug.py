"""Sparkplug B (``spBv1.0``): topics, payloads and the host-application rules of Sparkplug 3.0.

An edge node announces its metrics in birth certificates (NBIRTH, DBIRTH), then reports
changes (NDATA, DDATA), often by numeric alias only. Its death certificates (NDEATH, the MQTT
will, and DDEATH) take metrics offline. :class:`SparkplugHost` applies those rules to a message
stream and says what to show, what looks wrong, and what to publish back (rebirth requests).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum

from google.protobuf import descriptor_pb2, descriptor_pool, message_factory, unknown_fields
from google.protobuf.message import DecodeError

SPB_PREFIX = "spBv1.0"
_NODE_TYPES = frozenset({"NBIRTH", "NDEATH", "NDATA", "NCMD"})
_DEVICE_TYPES = frozenset({"DBIRTH", "DDEATH", "DDATA", "DCMD"})
REBIRTH_METRIC = "Node Control/Rebirth"

# The schema is written from the sparkplug_b.proto structure given in the Sparkplug 3.0
# specification (proto2, package org.eclipse.tahu.protobuf), so no protoc step is needed.
# Message name -> (fields, first number of "extensions N to max" or None). Messages other than
# Payload are nested in it, as in the specification. Template parameters, DataSet rows and nested
# property sets are left out: the viewer reads scalars, and protobuf keeps omitted fields as
# unknown fields instead of failing.
_SCHEMA = {
    "Payload": ("optional uint64 timestamp = 1; repeated Metric metrics = 2; optional uint64 seq = 3;"
                "optional string uuid = 4; optional bytes body = 5", 6),
    "Template": ("optional string version = 1; repeated Metric metrics = 2; optional string template_ref = 4;"
                 "optional bool is_definition = 5", 6),
    "DataSet": ("optional uint64 num_of_columns = 1; repeated string columns = 2; repeated uint32 types = 3", 5),
    "PropertyValue": ("optional uint32 type = 1; optional bool is_null = 2; oneof uint32 int_value = 3;"
                      "oneof uint64 long_value = 4; oneof float float_value = 5; oneof double double_value = 6;"
                      "oneof bool boolean_value = 7; oneof string string_value = 8", None),
    "PropertySet": ("repeated string keys = 1; repeated PropertyValue values = 2", 3),
    "MetaData": ("optional bool is_multi_part = 1; optional string content_type = 2; optional uint64 size = 3;"
                 "optional uint64 seq = 4; optional string file_name = 5; optional string file_type = 6;"
                 "optional string md5 = 7; optional string description = 8", 9),
    "MetricValueExtension": ("", 1),
    "Metric": ("optional string name = 1; optional uint64 alias = 2; optional uint64 timestamp = 3;"
               "optional uint32 datatype = 4; optional bool is_historical = 5; optional bool is_transient = 6;"
               "optional bool is_null = 7; optional MetaData metadata = 8; optional PropertySet properties = 9;"
               "oneof uint32 int_value = 10; oneof uint64 long_value = 11; oneof float float_value = 12;"
               "oneof double double_value = 13; oneof bool boolean_value = 14; oneof string string_value = 15;"
               "oneof bytes bytes_value = 16; oneof DataSet dataset_value = 17;"
               "oneof Template template_value = 18; oneof MetricValueExtension extension_value = 19", None),
}
_PACKAGE = "org.eclipse.tahu.protobuf"
_F = descriptor_pb2.FieldDescriptorProto


def _message_proto(name: str, fields: str, extensions_from: int | None) -> descriptor_pb2.DescriptorProto:
    msg = descriptor_pb2.DescriptorProto(name=name)
    if "oneof " in fields:
        msg.oneof_decl.add(name="value")  # the only oneof in the schema
    for decl in filter(None, (d.strip() for d in fields.split(";"))):
        label, ftype, fname, _, number = decl.split()
        f = msg.field.add(name=fname, number=int(number),
                          label=_F.LABEL_REPEATED if label == "repeated" else _F.LABEL_OPTIONAL)
        if ftype in _SCHEMA:
            f.type, f.type_name = _F.TYPE_MESSAGE, f".{_PACKAGE}.Payload.{ftype}"
        else:
            f.type = _F.Type.Value(f"TYPE_{ftype.upper()}")
        if label == "oneof":
            f.oneof_index = 0
    if extensions_from is not None:  # "extensions N to max"; the end is exclusive
        msg.extension_range.add(start=extensions_from, end=536870912)
    return msg


def _payload_class():
    fdp = descriptor_pb2.FileDescriptorProto(name="sparkplug_b.proto", package=_PACKAGE, syntax="proto2")
    top = fdp.message_type.add()
    top.CopyFrom(_message_proto("Payload", *_SCHEMA["Payload"]))
    top.nested_type.extend(_message_proto(n, *spec) for n, spec in _SCHEMA.items() if n != "Payload")
    # A private pool: Tahu's generated sparkplug_b_pb2, if also imported, would clash on the
    # file name in the default pool.
    pool = descriptor_pool.DescriptorPool()
    pool.Add(fdp)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(f"{_PACKAGE}.Payload"))


_Payload = _payload_class()


class SparkplugError(ValueError):
    """A Sparkplug payload cannot be decoded or encoded; the message says why."""


# The functional form keeps the table short; array, DataSet and Template types are not handled.
DataType = IntEnum("DataType", [
    ("Unknown", 0), ("Int8", 1), ("Int16", 2), ("Int32", 3), ("Int64", 4), ("UInt8", 5), ("UInt16", 6),
    ("UInt32", 7), ("UInt64", 8), ("Float", 9), ("Double", 10), ("Boolean", 11), ("String", 12),
    ("DateTime", 13), ("Text", 14), ("UUID", 15), ("Bytes", 17)])
DataType.__doc__ = "Sparkplug metric datatype numbers (Sparkplug 3.0, section 6.4.16)."

_BITS = {DataType.Int8: 8, DataType.Int16: 16, DataType.Int32: 32, DataType.Int64: 64,
         DataType.UInt8: 8, DataType.UInt16: 16, DataType.UInt32: 32, DataType.UInt64: 64,
         DataType.DateTime: 64}
_SIGNED = {DataType.Int8, DataType.Int16, DataType.Int32, DataType.Int64}
_LONG = {DataType.Int64, DataType.UInt64, DataType.DateTime}  # carried in long_value (uint64)


@dataclass(frozen=True)
class SpTopic:
    """A parsed Sparkplug topic. For ``STATE`` the host id is in ``node`` and ``group`` is ``""``."""

    group: str
    message_type: str
    node: str
    device: str | None = None


def parse_topic(topic: str) -> SpTopic | None:
    """Parse ``spBv1.0/<group>/<type>/<node>[/<device>]`` or ``spBv1.0/STATE/<host>``.

    Returns
    -------
    SpTopic or None
        None if the topic is not a well-formed Sparkplug B topic.
    """
    parts = topic.split("/")
    if len(parts) < 3 or parts[0] != SPB_PREFIX or not all(parts):
        return None
    if len(parts) == 3 and parts[1] == "STATE":
        return SpTopic("", "STATE", parts[2])
    kind = parts[2] if len(parts) > 3 else ""
    if (len(parts) == 4 and kind in _NODE_TYPES) or (len(parts) == 5 and kind in _DEVICE_TYPES):
        return SpTopic(parts[1], kind, parts[3], parts[4] if len(parts) == 5 else None)
    return None


_FIELDS = {DataType.Float: "float_value", DataType.Double: "double_value", DataType.Boolean: "boolean_value",
           DataType.String: "string_value", DataType.Text: "string_value", DataType.UUID: "string_value",
           DataType.Bytes: "bytes_value"}


def _set_value(metric, datatype: int, value) -> None:
    if value is None:
        metric.is_null = True
    elif datatype in _BITS:
        bits, signed = _BITS[datatype], datatype in _SIGNED
        low, high = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)
        if not isinstance(value, int) or not low <= value <= high:
            raise SparkplugError(f"{value!r} is not a {DataType(datatype).name}")
        # The spec stores signed values as two's complement in the unsigned field.
        setattr(metric, "long_value" if datatype in _LONG else "int_value", value & ((1 << bits) - 1))
    elif datatype in _FIELDS:
        if datatype == DataType.Boolean and isinstance(value, (int, float)):
            value = bool(value)  # 0/1 from PLC-style sources
        setattr(metric, _FIELDS[datatype], value)  # protobuf rejects other Python types
    else:
        raise SparkplugError(f"cannot encode datatype {datatype}")


def encode_payload(metrics: list[dict], seq: int | None, timestamp_ms: int | None = None) -> bytes:
    """Encode a Sparkplug B payload.

    Parameters
    ----------
    metrics
        Dicts with ``name`` and ``alias`` (either may be None), ``datatype`` (:class:`DataType`),
        ``value`` (None sets ``is_null``) and optionally ``timestamp`` (ms since the epoch).
    seq
        Sequence number 0..255, or None to leave it out (NDEATH, NCMD).
    timestamp_ms
        Payload timestamp in ms since the epoch, or None.

    Raises
    ------
    SparkplugError
        If a value does not fit its datatype or ``seq`` is out of range.
    """
    payload = _Payload()
    if seq is not None and not 0 <= seq <= 255:
        raise SparkplugError(f"seq {seq} is outside 0..255")
    for attr, value in (("timestamp", timestamp_ms), ("seq", seq)):
        if value is not None:
            setattr(payload, attr, value)
    for spec in metrics:
        metric = payload.metrics.add(datatype=int(spec["datatype"]))
        for attr in ("name", "alias", "timestamp"):
            if spec.get(attr) is not None:
                setattr(metric, attr, spec[attr])
        try:
            _set_value(metric, metric.datatype, spec.get("value"))
        except (TypeError, ValueError) as exc:  # protobuf's own type checks included
            raise SparkplugError(f"metric {spec.get('name') or spec.get('alias')!r}: {exc}") from exc
    return payload.SerializeToString()


def decode_payload(data: bytes):
    """Decode a Sparkplug B payload into an ``org.eclipse.tahu.protobuf.Payload`` message.

    Raises
    ------
    SparkplugError
        If the bytes are not a Sparkplug B payload.
    """
    try:
        payload = _Payload.FromString(bytes(data))
    except (DecodeError, TypeError) as exc:
        raise SparkplugError(f"not a Sparkplug B payload ({exc})") from exc
    # Protobuf accepts many random byte strings: a known field number with the wrong wire type
    # becomes an unknown field rather than an error. The spec fixes fields 1-5 of Payload and
    # 1-19 of Metric, so such leftovers mean garbage, as does a payload with nothing known in it.
    checks = [(payload, 5)] + [(m, 19) for m in payload.metrics]
    for msg, last in checks:
        for unknown in unknown_fields.UnknownFieldSet(msg):
            if unknown.field_number <= last:
                raise SparkplugError(f"not a Sparkplug B payload (field {unknown.field_number} "
                                     f"of {msg.DESCRIPTOR.name} has the wrong wire type)")
    if data and not payload.ListFields():
        raise SparkplugError("not a Sparkplug B payload (no Sparkplug fields)")
    return payload


def metric_value(metric, datatype: int | None = None):
    """The value of a decoded metric with signed integers restored; None if null or absent.

    DataSet and Template values are returned as their protobuf messages.

    Parameters
    ----------
    metric
        A decoded ``Payload.Metric``.
    datatype
        The datatype its birth announced, for a metric that carries none: data messages may
        leave it out, since the specification makes the birth's datatype the metric's.
    """
    which = metric.WhichOneof("value")
    if metric.is_null or which is None:
        return None
    raw = getattr(metric, which)
    datatype = metric.datatype or datatype  # 0 when absent
    bits = _BITS.get(datatype)
    if bits and which in ("int_value", "long_value"):
        # Producers differ: some sign-extend an Int8 to 32 bits, some wrap it to 8. Masking to
        # the datatype's width reads both the same.
        raw &= (1 << bits) - 1
        if datatype in _SIGNED and raw >> (bits - 1):
            raw -= 1 << bits
    return raw


MetricKey = tuple[str, str, str | None, str]  # (group, node, device or None, metric name)


@dataclass
class HostEvents:
    """What one message (or tick) means for the viewer and what to publish back."""

    values: list[tuple[MetricKey, float | None, float]] = field(default_factory=list)
    online: dict[MetricKey, bool] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)
    commands: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass
class _Node:
    bd_seq: int | None
    expected_seq: int | None
    # One alias space per edge node, shared by its devices (spec): alias -> (device, name).
    aliases: dict[int, tuple[str | None, str]] = field(default_factory=dict)
    # device (None: the node) -> metric name -> datatype, as the current birth announced them
    born: dict[str | None, dict[str, int]] = field(default_factory=dict)
    missing: set[int] = field(default_factory=set)  # sequence numbers skipped, still awaited
    gap_deadline: float | None = None


def _as_float(value) -> float | None:
    return float(value) if isinstance(value, (bool, int, float)) else None  # text: nothing to plot


def _bd_seq(payload) -> int | None:
    return next((metric_value(m) for m in payload.metrics if m.name == "bdSeq"), None)


class SparkplugHost:
    """Sparkplug host-application state: births, aliases, sequence numbers and deaths.

    Parameters
    ----------
    rebirth_after
        Seconds to wait for a missing sequence number (the reorder timeout) before asking the
        node to rebirth; also the least time between two rebirth requests to one node.
    """

    def __init__(self, rebirth_after: float = 2.0) -> None:
        self.rebirth_after = rebirth_after
        self._nodes: dict[tuple[str, str], _Node] = {}  # only nodes whose NBIRTH is current
        self._last_rebirth: dict[tuple[str, str], float] = {}

    def feed(self, topic: str, payload: bytes, now: float) -> HostEvents:
        """Apply one received message; ``now`` is the wall-clock time in seconds."""
        events = self.tick(now)  # reorder timeouts are checked on every message too
        t = parse_topic(topic)
        if t is None or t.message_type in ("STATE", "NCMD", "DCMD"):  # presence, commands: no data
            if t is None and topic.startswith(SPB_PREFIX + "/"):
                events.problems.append(f"{topic}: not a Sparkplug B topic")
            return events
        try:
            msg = decode_payload(payload)
        except SparkplugError as exc:
            events.problems.append(f"{topic}: undecodable payload: {exc}")
            return events
        nid, kind, device = (t.group, t.node), t.message_type, t.device
        node = self._nodes.get(nid)
        if kind == "NBIRTH":
            self._nbirth(nid, node, msg, now, events, topic)
        elif kind == "NDEATH":
            self._ndeath(nid, node, msg, events, topic)
        elif node is None or (kind != "DBIRTH" and device not in node.born):
            if kind != "DDEATH":  # the death of something never born changes nothing
                events.problems.append(f"{topic}: data before birth, values ignored")
                self._request_rebirth(nid, now, events)
            if node is not None:
                self._check_seq(node, msg, now, events, topic)
        else:
            self._check_seq(node, msg, now, events, topic)
            if kind == "DBIRTH":
                self._birth(nid, node, device, msg, now, events, topic)
            elif kind == "DDEATH":
                self._offline(nid, node, device, events)
            else:
                self._data(nid, node, device, msg, now, events, topic)
        return events

    def lost(self, topic: str, count: int, now: float) -> HostEvents:
        """Note ``count`` messages on ``topic`` that were dropped before the host saw them.

        A gap no late arrival will fill: sequence tracking starts again from the next message
        and a rebirth is requested at once, since births or aliases may be among the lost.
        """
        events = self.tick(now)
        t = parse_topic(topic)
        if t is None or t.message_type in ("STATE", "NCMD", "DCMD"):  # nothing a host tracks
            return events
        events.problems.append(f"{topic}: {count} Sparkplug message{'s' if count > 1 else ''} dropped: "
                               "the viewer fell behind")
        node = self._nodes.get((t.group, t.node))
        if node is not None:
            node.expected_seq, node.gap_deadline = None, None
            node.missing.clear()
        self._request_rebirth((t.group, t.node), now, events)
        return events

    def tick(self, now: float) -> HostEvents:
        """Request a rebirth from nodes whose missing sequence numbers did not come in time."""
        events = HostEvents()
        for nid, node in self._nodes.items():
            if node.gap_deadline is not None and now >= node.gap_deadline:
                node.missing.clear()
                node.gap_deadline = None
                events.problems.append(f"{nid[0]}/{nid[1]}: missing messages did not arrive "
                                       f"within {self.rebirth_after:g} s, requesting rebirth")
                self._request_rebirth(nid, now, events)
        return events

    def _nbirth(self, nid, old, msg, now, events, where) -> None:
        if old is not None:  # a new session: what the old one announced is no longer vouched for
            self._all_offline(nid, old, events)
        node = _Node(_bd_seq(msg), (msg.seq + 1) % 256 if msg.HasField("seq") else None)
        for what, missing in (("sequence number", node.expected_seq is None), ("bdSeq", node.bd_seq is None)):
            if missing:  # both are required; without them gaps and stale deaths cannot be told
                events.problems.append(f"{where}: NBIRTH without {what}")
        self._nodes[nid] = node
        self._last_rebirth.pop(nid, None)  # the node answered; a later gap may ask again
        self._birth(nid, node, None, msg, now, events, where)

    def _birth(self, nid, node, device, msg, now, events, where) -> None:
        if device in node.born:  # a device rebirth replaces its earlier announcement
            self._offline(nid, node, device, events)
        names = node.born.setdefault(device, {})
        for m in msg.metrics:
            if not m.name:
                events.problems.append(f"{where}: birth metric without a name")
                continue
            names[m.name] = m.datatype
            if m.HasField("alias"):
                if node.aliases.get(m.alias, (device, m.name)) != (device, m.name):
                    events.problems.append(f"{where}: alias {m.alias} reused for {m.name!r}")
                node.aliases[m.alias] = (device, m.name)
            key = (*nid, device, m.name)
            events.online[key] = True
            self._emit(key, m, msg, now, events)

    def _data(self, nid, node, device, msg, now, events, where) -> None:
        for m in msg.metrics:
            if m.name:
                name = m.name if m.name in node.born[device] else None
                what = f"metric {m.name!r}"
            else:
                entry = node.aliases.get(m.alias) if m.HasField("alias") else None
                name = entry[1] if entry is not None and entry[0] == device else None
                what = f"unknown alias {m.alias}" if m.HasField("alias") else "metric without name"
            if name is None:
                events.problems.append(f"{where}: {what} not in birth, ignored")
                continue
            self._emit((*nid, device, name), m, msg, now, events, node.born[device][name])

    def _ndeath(self, nid, node, msg, events, where) -> None:
        if node is None:
            return  # the death of a node never born here changes nothing
        bd_seq = _bd_seq(msg)
        if node.bd_seq is not None and bd_seq != node.bd_seq:
            # The broker may deliver an old session's will after the node has come back.
            events.problems.append(f"{where}: stale NDEATH (bdSeq {bd_seq}, current {node.bd_seq}) ignored")
            return
        self._all_offline(nid, node, events)
        del self._nodes[nid]

    def _all_offline(self, nid, node, events) -> None:
        for device in list(node.born):
            self._offline(nid, node, device, events)

    def _offline(self, nid, node, device, events) -> None:
        for name in node.born.pop(device, ()):
            events.online[(*nid, device, name)] = False
        node.aliases = {a: e for a, e in node.aliases.items() if e[0] != device}

    def _check_seq(self, node, msg, now, events, where) -> None:
        if not msg.HasField("seq"):
            events.problems.append(f"{where}: no sequence number")
            return
        got, expected = msg.seq, node.expected_seq
        if expected is None or got == expected:
            node.expected_seq = (got + 1) % 256
        elif got in node.missing:  # a late arrival within the reorder window fills its gap
            node.missing.discard(got)
            if not node.missing:
                node.gap_deadline = None
        else:
            events.problems.append(f"{where}: sequence gap (expected {expected}, got {got})")
            node.missing.update((expected + i) % 256 for i in range((got - expected) % 256))
            if node.gap_deadline is None:
                node.gap_deadline = now + self.rebirth_after
            node.expected_seq = (got + 1) % 256

    def _emit(self, key, metric, msg, now, events, datatype=None) -> None:
        source = metric if metric.HasField("timestamp") else msg if msg.HasField("timestamp") else None
        stamp = source.timestamp / 1000 if source is not None else now
        events.values.append((key, _as_float(metric_value(metric, datatype)), stamp))

    def _request_rebirth(self, nid, now, events) -> None:
        last = self._last_rebirth.get(nid)
        if last is not None and now - last < self.rebirth_after:
            return  # one request is in flight; repeating it would only make the node rebirth twice
        self._last_rebirth[nid] = now
        payload = encode_payload([{"name": REBIRTH_METRIC, "datatype": DataType.Boolean, "value": True}],
                                 seq=None, timestamp_ms=int(now * 1000))
        events.commands.append((f"{SPB_PREFIX}/{nid[0]}/NCMD/{nid[1]}", payload))
