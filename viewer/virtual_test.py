"""``twinview test-scenario``: what a scenario would do to a twin, faster than real time.

The twin's own simulator (its ``simulate`` section) is stepped through simulated time
with no broker and no window; each step's payloads go through the live path's decoding,
the scenario's faults, the behaviour models, the state, the alarms and the forecasts, at
the step's simulated time. What comes out: when each alarm changes, when each limit is
first crossed, and when each prediction first appears, as JSON and as a short HTML
summary with trend plots. This is how a planner asks "if this bearing degrades like
last time, how long do we have".
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass, field

from viewer.live.ingest import Ingest
from viewer.live.simulator import Simulator
from viewer.state import TwinAlarms, TwinForecasts, TwinState
from viewer.twin.loader import Twin
from viewer.twin.scenario import Scenario

STEP_S = 1.0  # simulated seconds between two steps (each topic's payload at that instant)
FORECAST_EVERY_S = 60.0  # simulated seconds between two rounds of forecasts
TRACE_EVERY_S = 10.0  # simulated seconds between two points of a report's trend
EPOCH = 1_700_000_000.0  # the simulated clock starts here: any fixed epoch would do


@dataclass
class Report:
    """What happened in simulated time (seconds from the start)."""

    twin: str
    scenario: str
    simulated_s: float
    wall_s: float = 0.0
    alarms: list[dict] = field(default_factory=list)  # each change: t_s, signal, alarm, severity, ...
    crossings: list[dict] = field(default_factory=list)  # first time each limit is passed: t_s, signal, limit, level
    predictions: list[dict] = field(default_factory=list)  # first forecast of each crossing: t_s, signal, limit, in_s
    traces: dict[str, dict] = field(default_factory=dict)  # signal -> {t, value, unit, limits}

    @property
    def speedup(self) -> float:
        """Simulated seconds per second of the run."""
        return self.simulated_s / self.wall_s if self.wall_s else math.inf

    def as_dict(self) -> dict:
        """Plain types, for JSON."""
        return {**asdict(self), "speedup": round(self.speedup, 1)}


def run_scenario(twin: Twin, scenario: Scenario | None, until_s: float, seed: int = 7) -> Report:
    """Run ``twin``'s simulator with ``scenario`` for ``until_s`` simulated seconds.

    Raises
    ------
    ValueError
        If the twin has no ``simulate`` section.
    """
    if not twin.spec.simulate:
        raise ValueError(f"{twin.path} has no simulate section: nothing to run the scenario on")
    started = time.perf_counter()
    simulator = Simulator("mqtt://127.0.0.1:1", twin.spec.simulate, seed=seed)  # never connects
    ingest = Ingest(twin.signals, scenario)
    state, alarms, forecasts = TwinState.for_twin(twin), TwinAlarms(twin.alarms), TwinForecasts(twin.alarms)
    report = Report(twin.name, scenario.name if scenario else "", until_s)
    limits = {a.signal: a.limits for a in twin.alarms if a.id == a.signal}
    crossed, predicted = set(), set()
    report.traces = {n: {"t": [], "value": [], "unit": twin.signals[n].unit, "limits": limits[n]} for n in limits}
    steps = int(until_s / STEP_S)
    for k in range(steps + 1):
        t = k * STEP_S
        now = EPOCH + t
        latest = {topic: (payload, now, False) for topic, payload in simulator.payloads(t).items()}
        changed = state.apply_decoded(ingest.decode(latest, now=now))
        qualities = state.qualities(now)
        values = state.values()
        alarms.update(changed, values, qualities, now)
        for event in alarms.book.drain_events():
            report.alarms.append({"t_s": t, **{k: v for k, v in event.as_dict().items() if k not in ("time", "who", "note")}})
        for name, table in limits.items():
            value = values.get(name)
            for limit, level in table.items():
                beyond = value is not None and (value > level if limit.endswith("high") else value < level)
                if beyond and (name, limit) not in crossed:
                    crossed.add((name, limit))
                    report.crossings.append({"t_s": t, "signal": name, "limit": limit, "level": level})
        if t % FORECAST_EVERY_S == 0:
            forecasts.update(state, qualities, now)
            for name, forecast in forecasts.latest.items():
                for c in forecast.crossings:
                    if (name, c.limit) not in predicted and (name, c.limit) not in crossed:
                        predicted.add((name, c.limit))
                        report.predictions.append({"t_s": t, "signal": name, "limit": c.limit, "level": c.level,
                                                   "in_s": round(c.eta), "low_s": round(c.low), "high_s": round(c.high),
                                                   "model": forecast.model})
        if t % TRACE_EVERY_S == 0:
            for name, trace in report.traces.items():
                if values.get(name) is not None:
                    trace["t"].append(t)
                    trace["value"].append(round(values[name], 4))
    report.wall_s = time.perf_counter() - started
    return report


def html(report: Report) -> str:
    """A short HTML summary: the alarms, crossings and first predictions, and a trend per
    signal with limits (inline SVG: the file stands alone)."""
    from jinja2 import Environment

    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(r=report, plots={n: _svg(tr) for n, tr in report.traces.items() if tr["t"]},
                                             clock=_clock)


def _clock(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _svg(trace: dict, width: int = 640, height: int = 140) -> dict:
    """Polyline points and limit lines of one trend, scaled into a width x height box."""
    t, v = trace["t"], trace["value"]
    levels = list(trace["limits"].values())
    low, high = min(v + levels), max(v + levels)
    span_t, span_v = (t[-1] - t[0]) or 1.0, (high - low) or 1.0

    def x(ti):
        return round(4 + (ti - t[0]) / span_t * (width - 8), 1)

    def y(vi):
        return round(height - 4 - (vi - low) / span_v * (height - 8), 1)

    return {"points": " ".join(f"{x(a)},{y(b)}" for a, b in zip(t, v)), "width": width, "height": height,
            "limits": [(name, level, y(level), "#c0392b" if name.startswith("alarm") else "#c98a12")
                       for name, level in trace["limits"].items()], "unit": trace["unit"],
            "low": f"{low:.4g}", "high": f"{high:.4g}", "start": _clock(t[0]), "end": _clock(t[-1])}


_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>{{ r.scenario or "No scenario" }} on {{ r.twin }}</title>
<style>body{font-family:sans-serif;margin:2em;color:#222} table{border-collapse:collapse;margin-bottom:1.5em}
td,th{border-bottom:1px solid #ddd;padding:3px 10px;text-align:left} .sim{color:#b3261e;font-weight:bold}
svg{background:#fafafa;border:1px solid #ddd}</style></head><body>
<h1>{{ r.scenario or "No scenario" }} on {{ r.twin }}</h1>
<p class="sim">SIMULATED: the twin's simulator with virtual faults, not the machine.</p>
<p>{{ clock(r.simulated_s) }} simulated in {{ "%.1f"|format(r.wall_s) }} s ({{ "%.0f"|format(r.speedup) }}x real time).</p>
<h2>Alarms</h2>
{% if r.alarms %}<table><tr><th>time</th><th>signal</th><th>change</th><th>severity</th><th>condition</th><th>value</th></tr>
{% for a in r.alarms %}<tr><td>{{ clock(a.t_s) }}</td><td>{{ a.signal }}</td><td>{{ a.alarm }}</td><td>{{ a.severity }}</td>
<td>{{ a.condition }}</td><td>{{ a.value }}</td></tr>{% endfor %}</table>{% else %}<p>None.</p>{% endif %}
<h2>First predictions</h2>
{% if r.predictions %}<table><tr><th>time</th><th>signal</th><th>limit</th><th>expected in</th><th>range</th></tr>
{% for p in r.predictions %}<tr><td>{{ clock(p.t_s) }}</td><td>{{ p.signal }}</td><td>{{ p.limit }} {{ p.level }}</td>
<td>{{ clock(p.in_s) }}</td><td>{{ clock(p.low_s) }} – {{ clock(p.high_s) }}</td></tr>{% endfor %}</table>
{% else %}<p>None.</p>{% endif %}
<h2>Trends</h2>
{% for name, p in plots.items() %}<h3>{{ name }} ({{ p.unit }})</h3>
<svg width="{{ p.width }}" height="{{ p.height + 16 }}" font-size="11">{% for limit, level, y, colour in p.limits %}
<line x1="0" x2="{{ p.width }}" y1="{{ y }}" y2="{{ y }}" stroke="{{ colour }}" stroke-dasharray="4 3"/>
<text x="{{ p.width - 4 }}" y="{{ y - 3 }}" fill="{{ colour }}" text-anchor="end">{{ limit }} {{ level }}</text>
{% endfor %}<polyline fill="none" stroke="#2f6fb0" stroke-width="1.5" points="{{ p.points }}"/>
<text x="4" y="12">{{ p.high }} {{ p.unit }}</text><text x="4" y="{{ p.height - 6 }}">{{ p.low }} {{ p.unit }}</text>
<text x="4" y="{{ p.height + 13 }}">{{ p.start }}</text>
<text x="{{ p.width - 4 }}" y="{{ p.height + 13 }}" text-anchor="end">{{ p.end }}</text></svg>
{% endfor %}</body></html>
"""
