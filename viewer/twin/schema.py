"""The twin file schema (pydantic): structure and per-field rules.

Cross references (part and signal names, mesh files, colour maps, expressions) are
checked by :mod:`viewer.twin.loader`, which also turns every problem into a
``FILE:LINE: message`` line.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator, model_validator

from overlays.label_rule import LabelRule
from viewer.twin.url import is_tls_url, parse_broker_url

Vec3 = tuple[float, float, float]
#: Seconds without an update: a positive number, or ``never``.
StaleAfter = Annotated[float, Field(gt=0)] | Literal["never"]
#: A topic signal that has not been updated for this long is drawn stale (Sparkplug metrics
#: are reported on change, and their births and deaths say whether they are current).
DEFAULT_STALE_AFTER = 30.0
Units = Literal["m", "mm", "cm", "in", "ft"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartSpec(_Strict):
    """A part: a mesh file to load, or joint settings for a part loaded from a file.

    With ``mesh``, the file is loaded; a file with a single top node becomes this
    part, otherwise this part groups the file's top nodes, and every node becomes a
    part named after the node. Without ``mesh``, ``name`` must be such a node.
    """

    name: Annotated[str, Field(min_length=1)]
    mesh: str | None = None
    units: Units | None = None
    parent: str | None = None
    origin: Vec3 | None = None
    rotation: Vec3 | None = None  # degrees about X, then Y, then Z
    pivot: Vec3 = (0.0, 0.0, 0.0)  # in the part's own frame
    axis: Vec3 = (0.0, 0.0, 1.0)  # in the part's own frame

    @field_validator("name")
    @classmethod
    def _one_word(cls, name: str) -> str:
        if any(c.isspace() or c in "{}" for c in name):  # label texts use {} for fields
            raise ValueError(f"part name {name!r} has spaces or braces")
        return name

    @model_validator(mode="after")
    def _placement_needs_mesh(self):
        if self.mesh is None and (self.units or self.origin or self.rotation or self.parent):
            raise ValueError("units, parent, origin and rotation need a mesh")
        if not any(self.axis):
            raise ValueError("axis must not be zero")
        return self


class AvailabilitySpec(_Strict):
    """A device's availability (or Last Will) topic, as Home Assistant knows them."""

    topic: Annotated[str, Field(min_length=1)]
    online: str = "online"
    offline: str = "offline"


class SparkplugSpec(_Strict):
    """A Sparkplug B metric, by group, edge node, optional device and metric name."""

    group: Annotated[str, Field(min_length=1)]
    node: Annotated[str, Field(min_length=1)]
    device: str | None = None
    metric: Annotated[str, Field(min_length=1)]


#: A limit: a number in the signal's unit, or a quantity with its own ("95 degC", "7.1 mm/s").
Limit = float | str
#: A state that raises an alarm: a text the signal's ``map`` knows, a number or a boolean.
State = str | float | bool
Severity = Literal["info", "warning", "alarm"]


class LimitsSpec(_Strict):
    """When a signal is in alarm or warning (see :mod:`viewer.alarms`).

    A high limit is exceeded above it and clears below ``limit - deadband``; a low
    limit mirrors that. ``on_delay``/``off_delay``: seconds a condition must hold before
    it raises / clears. ``alarm_when``/``warn_when``: states that raise (enumerated and
    boolean signals). ``on_stale``/``on_offline``: the severity raised while the signal is
    stale / offline (none unless given).
    """

    alarm_low: Limit | None = None
    warn_low: Limit | None = None
    warn_high: Limit | None = None
    alarm_high: Limit | None = None
    deadband: Limit = 0.0
    on_delay: Annotated[float, Field(ge=0)] = 0.0
    off_delay: Annotated[float, Field(ge=0)] = 0.0
    alarm_when: State | list[State] | None = None
    warn_when: State | list[State] | None = None
    on_stale: Severity | None = None
    on_offline: Severity | None = None


#: A behaviour model's state: at most one per model signal (a chain is a model of a model).
MODEL_STATE = ("lag", "average", "rate", "integrate")


class SignalSpec(_Strict):
    """A value: where it comes from (a topic, a Sparkplug metric or a behaviour model of
    other signals) and how it is decoded.

    A model signal's ``model`` is an expression of other signals; ``lag`` (a first-order
    lag's time constant), ``average`` (a moving average's window), ``rate`` (change per
    second over a window; seconds all three) or ``integrate`` give it state.
    """

    topic: Annotated[str, Field(min_length=1)] | None = None
    sparkplug: SparkplugSpec | None = None  # instead of topic
    model: Annotated[str, Field(min_length=1)] | None = None  # instead of topic: e.g. "a - b"
    lag: Annotated[float, Field(gt=0)] | None = None
    average: Annotated[float, Field(gt=0)] | None = None
    rate: Annotated[float, Field(gt=0)] | None = None
    integrate: bool = False
    field: str | None = None  # JSON path: a.b[0].c; None = the whole payload
    expr: str | None = None  # e.g. "value * 9 / 5 + 32"
    map: dict[str, float] | None = None  # enum-like text -> number, e.g. {RUNNING: 1}
    qos: Literal[0, 1, 2] = 0
    time_field: str | None = None  # JSON path of the sample time (epoch s or ms)
    stale_after: StaleAfter | None = None  # seconds or "never"; default: the twin's
    availability: AvailabilitySpec | None = None
    unit: str = ""
    description: str = ""
    limits: LimitsSpec | None = None

    @model_validator(mode="after")
    def _one_source(self):
        sources = [k for k in ("topic", "sparkplug", "model") if getattr(self, k) is not None]
        if len(sources) != 1:
            raise ValueError(f"a signal needs one of topic, sparkplug or model; found {_listed(sources)}")
        state = [k for k in MODEL_STATE if getattr(self, k)]
        if self.model is None and state:
            raise ValueError(f"{_listed(state)} {'needs' if len(state) == 1 else 'need'} a model")
        if len(state) > 1:
            raise ValueError(f"a model has at most one of {', '.join(MODEL_STATE)}: make a model of the model "
                             f"for more; found {_listed(state)}")
        if self.model is not None:
            decoding = [k for k in ("field", "time_field", "map", "expr", "availability", "stale_after")
                        if getattr(self, k) is not None] + (["qos"] if self.qos else [])
            if decoding:
                raise ValueError(f"a model signal has no {_listed(decoding)}: it is computed from its inputs "
                                 "(the model is the expression), and is as live as they are")
        if self.topic is not None and ("+" in self.topic or "#" in self.topic):
            raise ValueError("a signal topic names one topic: no + or # wildcards")
        if self.sparkplug is not None and (self.field or self.time_field or self.map or self.availability):
            raise ValueError("a sparkplug signal has no field, time_field, map or availability: the metric "
                             "is the value, and births and deaths say whether it is online")
        return self


def _listed(keys: list[str]) -> str:
    return " and ".join(", ".join(keys).rsplit(", ", 1)) if keys else "none"


_KINDS = ("colour", "rotate", "translate", "spin", "label", "field")


class SensorSpec(_Strict):
    """A point sensor of a field: its signal and where it sits, in the part's own frame
    (metres, as the part's ``pivot``)."""

    signal: Annotated[str, Field(min_length=1)]
    at: Vec3


class BindingSpec(_Strict):
    """One rule from signals to appearance; exactly one of the kind keys is set.

    ``colour``: the part's colour from ``signal`` through ``cmap`` over ``range``.
    ``rotate``: angle in degrees = value * scale + offset, about the part's axis.
    ``translate``: distance in metres = value * scale + offset, along the axis.
    ``spin``: turns continuously at value * scale rev/min about the axis.
    ``label``: ``text`` with ``{signal}`` or ``{signal:.1f}`` fields, at the part (or ``at``).
    ``field``: the part's surface coloured from point ``sensors`` by inverse-distance
    weighting (``power``), through ``cmap`` over ``range``.
    """

    colour: str | None = Field(None, validation_alias=AliasChoices("colour", "color"))
    rotate: str | None = None
    translate: str | None = None
    spin: str | None = None
    label: str | None = None
    field: str | None = None
    signal: str | None = None
    sensors: list[SensorSpec] | None = None  # field: the point sensors
    power: Annotated[float, Field(gt=0, le=8)] = 2.0  # field: weights fall as 1 / distance ** power
    at: Vec3 | None = None  # label: where it sits, in the part's frame (default: the top of the part)
    cmap: str = "inferno"
    range: tuple[float, float] | None = None
    scale: float = 1.0
    offset: float = 0.0
    axis: Vec3 | None = None  # overrides the part's axis
    pivot: Vec3 | None = None  # overrides the part's pivot
    text: str | None = None
    unit: str | None = None  # convert the signal to this unit first (e.g. degF)
    units: dict[str, str] | None = None  # label: signal -> unit to show it in
    limits: LimitsSpec | None = None  # colour: this part's own limits for the signal
    title: str | None = None  # colour: the legend's title (default: the signal's description or name)

    @property
    def kind(self) -> str:
        """The binding kind: colour, rotate, translate, spin or label."""
        return next(k for k in _KINDS if getattr(self, k) is not None)

    @property
    def part(self) -> str:
        """The part the binding acts on."""
        return getattr(self, self.kind)

    @property
    def signals(self) -> list[str]:
        """The signals the binding shows: its signal, a label's fields, a field's sensors."""
        if self.kind == "field":
            return [sensor.signal for sensor in self.sensors]
        if self.kind != "label":
            return [self.signal]
        try:
            return sorted(LabelRule(self.text).names)
        except ValueError:  # reported by the loader
            return []

    @model_validator(mode="after")
    def _one_kind(self):
        kinds = [k for k in _KINDS if getattr(self, k) is not None]
        if len(kinds) != 1:
            raise ValueError(f"a binding needs exactly one of {', '.join(_KINDS)}; found {kinds or 'none'}")
        kind = kinds[0]
        if kind == "label":
            if self.text is None:
                raise ValueError("a label binding needs text")
        elif kind == "field":
            if not self.sensors or self.signal is not None:
                raise ValueError("a field binding needs sensors: [{signal, at: [x, y, z]}, ...], and no signal")
        elif self.signal is None:
            raise ValueError(f"a {kind} binding needs a signal")
        if self.at is not None and kind != "label":
            raise ValueError("only a label binding has at (a field's sensors have their own)")
        if self.sensors is not None and kind != "field":
            raise ValueError("only a field binding has sensors")
        if kind in ("colour", "field"):
            if self.range is None:
                raise ValueError(f"a {kind} binding needs range: [low, high]")
            if self.range[0] >= self.range[1]:
                raise ValueError("range must be [low, high] with low < high")
        if self.axis is not None and not any(self.axis):
            raise ValueError("axis must not be zero")
        return self


class TlsSpec(_Strict):
    """TLS settings; the server's certificate and host name are always verified unless
    ``insecure`` is set (and then the status bar says so)."""

    ca: str | None = None  # CA file (relative to the twin); None: the system's CAs
    cert: str | None = None  # client certificate, for brokers that ask for one
    key: str | None = None
    insecure: bool = False


class BrokerSpec(_Strict):
    """Where live data comes from, and how to connect."""

    url: str = "mqtt://localhost:1883"  # mqtts://host:8883 means TLS
    protocol: Literal["3.1.1", "5"] = "3.1.1"
    client_id: str | None = None  # fixed id: the broker keeps our session between connects
    session_expiry: int | None = Field(None, ge=0)  # seconds, MQTT 5: QoS 1 messages wait for us
    tls: TlsSpec | None = None
    username: str | None = None
    password_env: str | None = None  # the password comes from this environment variable
    allow_plain_login: bool = False  # a username over plain TCP is refused unless set

    @model_validator(mode="before")
    @classmethod
    def _from_url(cls, data):
        return {"url": data} if isinstance(data, str) else data

    @field_validator("url")
    @classmethod
    def _valid_url(cls, url: str) -> str:
        parse_broker_url(url)  # raises BrokerUrlError, a ValueError, with the reason
        return url

    @model_validator(mode="after")
    def _consistent(self):
        if self.session_expiry is not None and (self.protocol != "5" or not self.client_id):
            raise ValueError("session_expiry needs protocol: '5' and a client_id")
        if self.username and not self.uses_tls and not self.allow_plain_login:
            raise ValueError("a username over plain TCP would send the password in clear text: "
                             "use TLS (mqtts:// or tls:) or set allow_plain_login: true")
        if (self.tls and self.tls.key) and not self.tls.cert:
            raise ValueError("tls.key needs tls.cert")
        return self

    @property
    def uses_tls(self) -> bool:
        """True for ``mqtts://`` (or ``ssl://``) URLs or when ``tls`` is given."""
        return self.tls is not None or is_tls_url(self.url)


class SimulatedTopic(_Strict):
    """A topic the demo simulator publishes: JSON fields or a plain number."""

    topic: str
    fields: dict[str, str] | None = None  # field -> expression of t (seconds)
    value: str | None = None  # plain numeric payload expression
    period: float = Field(0.2, gt=0)  # seconds between messages

    @model_validator(mode="after")
    def _one_payload(self):
        if (self.fields is None) == (self.value is None):
            raise ValueError("a simulated topic needs either fields or value")
        return self


#: ArUco dictionaries a marker may come from (OpenCV's names without ``DICT_``).
MARKER_DICTIONARIES = ("4X4_50", "4X4_100", "4X4_250", "5X5_50", "5X5_100", "6X6_50", "6X6_250", "7X7_50",
                       "APRILTAG_16h5", "APRILTAG_25h9", "APRILTAG_36h10", "APRILTAG_36h11")


class MarkerSpec(_Strict):
    """A fiducial marker stuck on the machine, for AR registration: the square's centre at
    ``origin`` in the frame of ``parent`` (default: the machine), turned by ``rotation``
    (degrees about X, then Y, then Z); its printed side faces the marker's +Z, its top
    edge towards +Y."""

    id: Annotated[int, Field(ge=0)]
    dictionary: Literal[MARKER_DICTIONARIES] = "4X4_50"
    size: Annotated[float, Field(gt=0)]  # metres, the black square's side
    parent: str | None = None
    origin: Vec3 = (0.0, 0.0, 0.0)
    rotation: Vec3 = (0.0, 0.0, 0.0)


class TwinSpec(_Strict):
    """The whole twin file."""

    twin: Annotated[str, Field(min_length=1)]
    broker: BrokerSpec = BrokerSpec()
    stale_after: StaleAfter | None = None  # seconds without an update -> stale (or "never")
    parts: list[PartSpec] = Field(min_length=1)
    signals: dict[str, SignalSpec] = {}
    bindings: list[BindingSpec] = []
    simulate: list[SimulatedTopic] = []
    procedures: list[str | dict] = []  # files beside the twin, or inline (see viewer.twin.procedure)
    markers: list[MarkerSpec] = []  # for AR registration (see viewer.ar)
