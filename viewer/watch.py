"""``twinview watch`` and ``twinview alarms``: a twin's signals and alarms as text, for
scripts and SSH sessions."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable

from overlays.label_rule import rate_text
from viewer.alarm_types import Alarm, Severity
from viewer.live.feed import LiveFeed
from viewer.live.ingest import Ingest
from viewer.live.mqtt import MqttSource
from viewer.state import TwinAlarms, TwinForecasts, TwinState
from viewer.twin.loader import Twin

STEP_S = 0.05
FORECASTS_PER_STEP = 4  # fits per step at most: a twin of thousands of limits stays responsive
#: ``twinview alarms`` exit status: nothing active, a warning (or info) active, an alarm
#: active, no broker reached (1 stays "the twin has problems").
EXIT_NORMAL, EXIT_WARNING, EXIT_ALARM, EXIT_NO_BROKER = 0, 4, 5, 3


class _Watcher:
    """The live path without a window: source -> feed -> state -> alarms, stepped here so
    that every update is seen; ``emit(signal, **fields)`` hears of each change."""

    def __init__(self, twin: Twin, broker_url: str | None, password: str | None, emit: Callable, scenario=None):
        self.twin, self.emit = twin, emit
        self.ingest = ingest = Ingest(twin.signals, scenario)
        self.state = TwinState.for_twin(twin)
        self.source = MqttSource(broker_url or twin.broker_url, ingest.subscriptions, twin.broker, password)
        self.feed = LiveFeed(self.source, ingest, self.state)
        self.alarms = TwinAlarms(twin.alarms)
        self.forecasts = TwinForecasts(twin.alarms)
        self.qualities: dict[str, str] = {}
        self.connected = False
        self._status = None

    def run(self, seconds: float | None) -> None:
        self.source.start()
        end = None if seconds is None else time.monotonic() + seconds
        try:
            while end is None or time.monotonic() < end:
                self.step()
                time.sleep(STEP_S)
        except KeyboardInterrupt:
            pass
        finally:
            self.source.stop()

    def step(self) -> None:
        status = self.source.status
        self.connected |= status.state == "live"
        self.state.set_link(status.state == "live", status.since)
        if str(status) != self._status:
            self._status = str(status)
            self.emit(None, connection=self._status)
        decoded = self.feed.step()  # stepped here, not on the feed's thread: every update is printed
        now = time.time()
        changed = set()
        updated = self.state.qualities(now, {u.signal for u in decoded.updates})
        ingest_faults = self.ingest.faults
        for u in decoded.updates:
            q = self.qualities[u.signal] = updated[u.signal]
            changed.add(u.signal)
            simulated = {"simulated": True} if ingest_faults and u.signal in ingest_faults.acted else {}
            self.emit(u.signal, value=u.value, unit=self.twin.signals[u.signal].unit, quality=q, **simulated)
        for e in decoded.errors:
            self.emit(e.signal, error=e.reason, quality=self.qualities.get(e.signal, "no data"))
        for name, q in self.state.qualities(now).items():
            if self.qualities.get(name, "no data") != q:
                self.qualities[name] = q
                changed.add(name)
                self.emit(name, quality=q)
        self.alarms.update(changed, self.state.values(), self.qualities, now)
        for event in self.alarms.book.drain_events():
            self.emit(event.signal, **{k: v for k, v in event.as_dict().items() if k not in ("signal", "time")})
        for name in sorted(self.forecasts.update(self.state, self.qualities, now, FORECASTS_PER_STEP)):
            self.emit(name, forecast=self.forecasts.latest[name])


def watch(twin: Twin, broker_url: str | None = None, as_json: bool = False, seconds: float | None = None,
          out=sys.stdout, password: str | None = None, scenario=None) -> None:
    """Print every signal update, decode error, quality change, alarm change and
    connection change (a value a ``scenario`` changed says ``simulated``).

    Parameters
    ----------
    twin : Twin
        What to watch.
    broker_url : str, optional
        Overrides the twin's broker.
    as_json : bool
        One JSON object per line (time, signal, value, unit, quality, error, or an
        alarm's ``alarm``, ``state``, ``severity``, ``condition``, ``limit``, or a
        ``forecast``: see :meth:`viewer.predict.Forecast.as_dict`) instead of aligned text.
    seconds : float, optional
        Stop after this long (default: until interrupted).
    """
    width = max(map(len, twin.signals), default=6)

    def emit(signal: str | None, **fields) -> None:
        now = time.time()
        if "forecast" in fields:
            f = fields["forecast"]
            fields["forecast"] = f.as_dict() if as_json else _forecast_text(f, twin.signals[signal].unit)
        if as_json:
            print(json.dumps({"time": round(now, 3), "signal": signal, **fields}, ensure_ascii=False), file=out)
        else:
            stamp = time.strftime("%H:%M:%S", time.localtime(now)) + f".{int(now % 1 * 1000):03d}"
            text = " ".join(f"{k}={v}" for k, v in fields.items() if k not in ("value", "unit") and v not in ("", None))
            value = f"{fields['value']:.6g} {fields.get('unit', '')}".strip() if "value" in fields else ""
            print(f"{stamp}  {signal or '-':<{width}}  {value:<16} {text}".rstrip(), file=out)
        out.flush()

    _Watcher(twin, broker_url, password, emit, scenario).run(seconds)


def alarms_now(twin: Twin, broker_url: str | None = None, seconds: float = 3.0,
               password: str | None = None) -> tuple[list[Alarm], bool]:
    """The alarms listed (active or waiting for an acknowledge) after watching the live
    data for ``seconds``, worst first, and whether the broker was reached."""
    watcher = _Watcher(twin, broker_url, password, lambda *a, **k: None)
    watcher.run(seconds)
    return watcher.alarms.book.active(), watcher.connected


def print_alarms(twin: Twin, alarms: list[Alarm], connected: bool, as_json: bool, out=sys.stdout) -> int:
    """Print ``alarms`` (from :func:`alarms_now`); return the exit status of ``twinview alarms``."""
    now, defs = time.time(), {a.id: a for a in twin.alarms}
    for alarm in alarms:
        where = ", ".join(defs[alarm.signal].parts) if alarm.signal in defs else ""
        signal = twin.signals.get(defs[alarm.signal].signal) if alarm.signal in defs else None
        row = {"alarm": alarm.signal, "severity": str(alarm.severity), "state": str(alarm.state),
               "condition": alarm.condition.name if alarm.condition else None, "value": alarm.value,
               "limit": alarm.limit, "raised": alarm.raised_at, "for_s": round(alarm.duration(now), 1),
               "parts": where}
        if as_json:
            print(json.dumps(row, ensure_ascii=False), file=out)
        else:
            unit = f" {signal.unit}" if signal is not None and signal.unit else ""
            limit = f" (limit {alarm.limit:g}{unit})" if alarm.limit is not None else ""
            print(f"{str(alarm.severity).upper():<8} {alarm.signal:<24} {row['condition']}: "
                  f"{_shown(signal, alarm.value, unit)}{limit}, "
                  f"{alarm.state}, for {row['for_s']:g} s{f' on {where}' if where else ''}", file=out)
    if not connected:
        return EXIT_NO_BROKER
    active = [a.severity for a in alarms if a.active]
    return EXIT_ALARM if Severity.ALARM in active else EXIT_WARNING if active else EXIT_NORMAL


def _forecast_text(f, unit: str) -> str:
    """``"alarm in ~35 min (25–50), linear +0.5 °C/min"``, or why there is none."""
    if f.model is None:
        return f"none ({f.reason})"
    trend = f"{f.model} {rate_text(f.rate * 60, unit)}"
    return f"{f.next.describe()}, {trend}" if f.next else f"none ({f.reason}), {trend}"


def _shown(signal, value, unit: str) -> str:
    """A value as the plant names it: the state name of a mapped signal, else number and unit."""
    if signal is not None and signal.spec.map and value is not None:
        names = [name for name, number in signal.spec.map.items() if number == value]
        if names:
            return names[0]
    return "—" if value is None else f"{value:g}{unit}"
