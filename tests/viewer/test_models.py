"""Behaviour models: signals computed from other signals, with state where physics needs it."""

import json
import math
import subprocess
import sys

import numpy as np
import pytest

from tests.conftest import make_test_machine
from viewer.live.ingest import Ingest
from viewer.live.models import Models
from viewer.live.simulator import Simulator
from viewer.live.updates import Update
from viewer.samples import SAMPLES
from viewer.state import TwinAlarms, TwinState
from viewer.twin.expr import Expression
from viewer.twin.loader import TwinError, load_twin
from viewer.twin.models import ModelDef

TWIN = """\
twin: Bearing model
parts:
  - {name: rig, mesh: rig.glb}
signals:
  ambient: {topic: rig/ambient, unit: °C}
  speed: {topic: rig/speed, unit: rpm}
  bearing: {topic: rig/bearing, field: temperature, unit: °C}
  expected: {model: "ambient + 0.9e-5 * speed**2", lag: 300, unit: °C}
  excess:
    model: "bearing - expected"
    unit: K
    limits: {warn_high: 5, alarm_high: 10}
bindings:
  - {label: bearing, text: "{bearing:.1f} °C {excess:+.1f} K"}
"""


def model(source: str, kind=None, seconds=None, inputs=("u",)) -> Models:
    return Models({"y": ModelDef(Expression(source, names=inputs), tuple(inputs), kind, seconds)})


def run(models: Models, times, inputs: dict) -> np.ndarray:
    """The model's value after each sample time (inputs: name -> function of t)."""
    out = []
    for t in times:
        derived, errors = models.derive([Update(n, f(t), t) for n, f in inputs.items()], t)
        assert not errors
        out.append(derived[0].value if derived else math.nan)
    return np.array(out)


def test_a_lag_follows_a_ramp_exactly_at_any_sample_rate():
    tau = 30.0
    rng = np.random.default_rng(1)
    times = np.cumsum(rng.uniform(0.1, 20.0, 200))  # irregular: a lossy link, a slow device
    times -= times[0]
    y = run(model("u", "lag", tau), times, {"u": lambda t: 2.0 * t})
    # a ramp of slope 2 from a lag at rest: y = 2 (t - tau (1 - exp(-t / tau)))
    assert y == pytest.approx(2.0 * (times - tau * (1 - np.exp(-times / tau))), abs=1e-6)


def test_a_lag_answers_a_step_as_the_exponential_does():
    tau, dt = 10.0, 0.1
    times = np.arange(0, 60, dt)
    y = run(model("u", "lag", tau), times, {"u": lambda t: 0.0 if t == 0 else 1.0})
    # the step is taken as a ramp over the first sample interval: within dt / tau of exact
    assert y == pytest.approx(1 - np.exp(-times / tau), abs=dt / tau)
    assert y[np.searchsorted(times, tau)] == pytest.approx(1 - 1 / math.e, abs=0.01)  # 63 % after one tau


def test_a_lag_starts_where_its_input_is():
    y = run(model("u", "lag", 100.0), [0.0, 1.0], {"u": lambda t: 55.0})
    assert list(y) == [55.0, 55.0]  # a machine already running, not one warming from zero


def test_an_integrator_sums_the_area_under_its_input():
    times = np.linspace(0, 100, 51)
    assert run(model("u", "integrate"), times, {"u": lambda t: 3.0})[-1] == pytest.approx(300.0)
    assert run(model("u", "integrate"), times, {"u": lambda t: t})[-1] == pytest.approx(100 ** 2 / 2)


def test_a_moving_average_weights_by_time_over_its_window():
    times = np.arange(0, 200, 0.5)
    y = run(model("u", "average", 60.0), times, {"u": lambda t: 10.0 + 3 * math.sin(2 * math.pi * t / 20)})
    assert y[times >= 60] == pytest.approx(10.0, abs=0.05)  # three whole periods: the wave averages out
    step = run(model("u", "average", 60.0), times, {"u": lambda t: 0.0 if t < 100 else 6.0})
    assert step[times == 130][0] == pytest.approx(3.0, abs=0.1)  # half the window after the step
    assert step[times == 170][0] == pytest.approx(6.0)


def test_a_rate_is_the_slope_over_its_window_not_the_noise():
    noise = np.random.default_rng(2).normal(0, 0.5, 2000)
    times = np.arange(2000) * 0.25
    y = run(model("u", "rate", 120.0), times, {"u": lambda t: 20 + 0.05 * t + noise[int(t * 4)]})
    assert y[times >= 120] == pytest.approx(0.05, abs=0.01)  # noise of 0.5 per sample: a difference would be ±2/s
    assert math.isnan(y[0])  # no rate from one sample


def test_a_model_has_no_value_until_every_input_has_one_and_then_follows_either():
    models = model("a - b", inputs=("a", "b"))
    assert models.derive([Update("a", 5.0, 0.0)], 0.0) == ([], [])
    [y], _ = models.derive([Update("b", 2.0, 1.0)], 1.0)
    assert (y.signal, y.value, y.time) == ("y", 3.0, 1.0)
    [y], _ = models.derive([Update("a", 7.0, 2.0)], 2.0)
    assert y.value == 5.0


def test_a_failing_model_is_an_error_and_keeps_its_last_good_value(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace('"bearing - expected"', '"sqrt(bearing - expected)"')
                                          .replace("unit: K\n", "unit: ''\n"))
    twin = load_twin(tmp_path / "m.twin.yaml")
    ingest, state = Ingest(twin.signals), TwinState.for_twin(twin)
    for topic, payload in [("rig/ambient", b"20"), ("rig/speed", b"1000"), ("rig/bearing", b'{"temperature": 38}')]:
        state.apply_decoded(ingest.decode({topic: (payload, 1.0, False)}, now=1.0))
    assert state.values()["excess"] == pytest.approx(3.0)  # sqrt(38 - 29)
    state.apply_decoded(ingest.decode({"rig/bearing": (b'{"temperature": 20}', 2.0, False)}, now=2.0))
    excess = state.snapshot(["excess"])["excess"]
    assert excess.value == pytest.approx(3.0) and excess.errors == 1
    assert "model failed: math domain error" in excess.last_error


def test_a_model_is_as_live_as_its_worst_input(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace("  ambient: {topic: rig/ambient, unit: °C}",
                                                       "  ambient: {topic: rig/ambient, unit: °C, stale_after: 10}"))
    twin = load_twin(tmp_path / "m.twin.yaml")
    state, ingest = TwinState.for_twin(twin), Ingest(twin.signals)
    assert twin.signals["excess"].stale_after is None  # its inputs' say
    for topic, payload in [("rig/ambient", b"20"), ("rig/speed", b"1000"), ("rig/bearing", b'{"temperature": 38}')]:
        state.apply_decoded(ingest.decode({topic: (payload, 100.0, False)}, now=100.0))
    assert state.qualities(101.0, ["expected", "excess"]) == {"expected": "live", "excess": "live"}
    q = state.qualities(115.0)  # ambient has gone quiet: what is computed from it, directly or not, is stale
    assert (q["ambient"], q["speed"], q["bearing"], q["expected"], q["excess"]) == (
        "stale", "live", "live", "stale", "stale")
    state.apply([], availability={"ambient": False})
    assert state.qualities(101.0, ["expected", "excess"]) == {"expected": "offline", "excess": "offline"}


def test_models_load_with_their_units_checked_and_converted(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace("signals:\n", """signals:
  flow: {topic: rig/flow, unit: m³/h}
  total: {model: flow, integrate: true, unit: m³}
  rise: {model: bearing, rate: 60, unit: K/min}
"""))
    twin = load_twin(tmp_path / "m.twin.yaml")
    assert twin.signals["rise"].model.scale == pytest.approx(60.0)  # °C/s -> K/min
    assert twin.signals["total"].model.scale == pytest.approx(1 / 3600)  # m³/h · s -> m³
    assert twin.signals["excess"].model.scale == 1.0  # °C - °C is a difference: K
    assert twin.signals["expected"].model.inputs == ("ambient", "speed")
    assert "rig/flow" in Ingest(twin.signals).topics and len(Ingest(twin.signals).topics) == 4  # models: no topic


@pytest.mark.parametrize("model, unit, message", [
    ("bearing - speed", "°C", "bearing (°C) and speed (rpm) are in different units (in bearing - speed)"),
    ("exp(bearing)", "", "exp() of bearing in °C: exp takes a plain number"),
    ("bearing", "bar", "the model gives °C, not bar"),
    ("bearing", "°F", "the model gives °C, not °F: convert in the model"),
    ("max(bearing, ambient, speed)", "°C", "are in different units"),
    ("bearing ** speed", "°C", "the power speed is in rpm"),
    ("bearng + 1", "°C", "unknown name 'bearng' (did you mean 'bearing'?)"),
])
def test_a_model_in_the_wrong_units_is_a_load_error_at_its_line(tmp_path, model, unit, message):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace('model: "bearing - expected"\n    unit: K',
                                                       f'model: "{model}"\n    unit: "{unit}"'))
    with pytest.raises(TwinError) as err:
        load_twin(tmp_path / "m.twin.yaml")
    [problem] = err.value.problems
    assert problem.line == 10 and message in problem.message, str(problem)


def test_a_cycle_of_models_is_a_load_error_with_file_and_line(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace('model: "ambient + 0.9e-5 * speed**2"',
                                                       'model: "ambient + 0.01 * excess"'))
    with pytest.raises(TwinError) as err:
        load_twin(tmp_path / "m.twin.yaml")
    [problem] = err.value.problems
    assert str(problem).startswith(f"{tmp_path / 'm.twin.yaml'}:8: signal expected: models read each other "
                                   "in a cycle (expected -> excess -> expected)")


@pytest.mark.parametrize("entry, message", [
    ("{topic: rig/x, model: a}", "a signal needs one of topic, sparkplug or model; found topic and model"),
    ("{model: bearing, lag: 3, average: 5}", "at most one of lag, average, rate, integrate"),
    ("{model: bearing, field: x}", "a model signal has no field"),
    ("{topic: rig/x, lag: 3}", "lag needs a model"),
    ("{model: bearing, lag: 0}", "must be a number above 0"),
])
def test_a_malformed_model_entry_says_what_is_wrong(tmp_path, entry, message):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN.replace("signals:\n", f"signals:\n  odd: {entry}\n"))
    with pytest.raises(TwinError) as err:
        load_twin(tmp_path / "m.twin.yaml")
    assert any(p.line == 5 and message in p.message for p in err.value.problems), err.value


def test_the_demo_pump_s_fault_is_found_by_its_model_long_before_the_bearing_s_own_limit():
    """The demo's simulator, decoded and alarmed as live (without the broker's time):
    the bearing's excess heat warns minutes before its temperature does."""
    twin = load_twin(SAMPLES["pump"], geometry=False)
    simulator = Simulator("mqtt://localhost:1", twin.spec.simulate, seed=7)
    ingest, state, alarms = Ingest(twin.signals), TwinState.for_twin(twin), TwinAlarms(twin.alarms)
    raised: dict[str, float] = {}
    for t in np.arange(0.0, 1100.0, 0.5):
        latest = {topic: (simulator.payload(exprs, t), t, False)
                  for topic, period, exprs in simulator._jobs if (t / period) % 1 < 1e-9}
        changed = state.apply_decoded(ingest.decode(latest, now=t))
        alarms.update(changed, state.values(), state.qualities(t), t)
        for alarm in alarms.book.drain_events():
            raised.setdefault(f"{alarm.signal} {str(alarm.severity)}", t)
    assert abs(state.values()["bearing_de_excess"] - 50 * ((1100 - 60) / 1200) ** 2) < 1.0  # the fault, measured
    excess, own = raised["bearing_de_excess warning"], raised["bearing_de_temp warning"]
    assert 380 < excess < 440 and 970 < own < 1010, raised  # 4 K excess at 399 s; 82 °C at 990 s
    assert raised["bearing_de_excess alarm"] < own  # even its alarm comes before the bearing's warning
    assert not any(t < 300 for t in raised.values()), raised  # no false alarm in the warm-up


def test_the_readme_s_models_load_and_compute(tmp_path):
    import re
    from pathlib import Path

    import yaml

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    [block] = [b for b in re.findall(r"```yaml\n(.*?)```", readme, re.S) if "expected_de" in b]
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(yaml.safe_dump({"twin": "readme", "parts": [{"name": "rig", "mesh": "rig.glb"}],
                                                          **yaml.safe_load(block)}, allow_unicode=True))
    twin = load_twin(tmp_path / "m.twin.yaml")
    ingest = Ingest(twin.signals)
    for t in range(0, 601, 10):
        decoded = ingest.decode({"plant/hall/temperature": (b"20", t, False), "plant/p101/motor": (b'{"rpm": 1500}', t, False),
                                 "plant/p101/bearing/de": (b'{"temperature": 45}', t, False),
                                 "plant/p101/flow": (b'{"value": 36}', t, False)}, now=t)
    values = {u.signal: u.value for u in decoded.updates}
    assert values["expected_de"] == pytest.approx(20 + 0.9e-5 * 1500 ** 2)  # settled where it started
    assert values["de_residual"] == pytest.approx(45 - 40.25)
    assert values["de_heating"] == pytest.approx(0.0)
    assert values["pumped"] == pytest.approx(36 * 600 / 3600)  # m³


def test_watch_prints_model_signals_computed_from_live_values(tmp_path, mosquitto, publisher):
    make_test_machine(tmp_path)
    (tmp_path / "m.twin.yaml").write_text(TWIN)
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "watch", str(tmp_path / "m.twin.yaml"),
                             "--broker", mosquitto, "--json", "--seconds", "3"], stdout=subprocess.PIPE, text=True)
    lines = []
    with proc:
        while not any(line.get("connection", "").startswith("live") for line in lines):
            lines.append(json.loads(proc.stdout.readline()))
        publisher.send("rig/ambient", "20")
        publisher.send("rig/speed", "1000")
        publisher.send("rig/bearing", {"temperature": 41})
        lines += [json.loads(line) for line in proc.stdout]
    values = {line["signal"]: line for line in lines if "quality" in line and "value" in line}
    assert values["expected"]["value"] == pytest.approx(29.0) and values["expected"]["unit"] == "°C"
    assert values["excess"]["value"] == pytest.approx(12.0) and values["excess"]["quality"] == "live"
    [raised] = [line for line in lines if line.get("alarm") == "raised"]
    assert (raised["signal"], raised["severity"]) == ("excess", "alarm")
