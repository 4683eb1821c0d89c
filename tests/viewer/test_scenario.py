"""Scenarios: virtual faults on what the viewer shows, never on the machine."""

import json
import subprocess
import sys
import time

import numpy as np
import pytest

from tests.conftest import make_test_machine
from viewer.live.faults import Faults
from viewer.live.ingest import Ingest
from viewer.live.updates import Decoded, Update
from viewer.samples import SAMPLES
from viewer.state import TwinState
from viewer.twin.loader import TwinError, load_twin
from viewer.twin.scenario import load_scenario

TWIN = """\
twin: Faulted rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: °C, stale_after: 5}
  flow: {topic: rig/flow, unit: m³/h}
bindings:
  - {label: bearing, text: "T {temp:.1f} °C"}
"""


@pytest.fixture
def twin(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(TWIN)
    return load_twin(tmp_path / "rig.twin.yaml")


def _scenario(tmp_path, twin, faults: str):
    (tmp_path / "s.yaml").write_text(f"scenario: test\nfaults:\n{faults}")
    return load_scenario(tmp_path / "s.yaml", twin.signals)


def _run(faults: Faults, signal: str, values, times, t0=1000.0):
    """The values shown for ``values`` sent at ``times`` (scenario seconds); None: dropped."""
    shown = []
    faults.apply(Decoded(), t0)  # the scenario starts
    for v, t in zip(values, times):
        out = Decoded(updates=[Update(signal, v, t0 + t)])
        faults.apply(out, t0 + t)
        shown.append(out.updates[0].value if out.updates else None)
    return shown


@pytest.mark.parametrize("fault, expected", [
    ("{signal: temp, ramp: 6, start: 10}", [50, 50, 50.5, 51.5, 53]),  # 6 per minute from 10 s: 0.1 a second
    ("{signal: temp, step: 4, start: 10, duration: 15}", [50, 50, 54, 50, 50]),  # back after its window
    ("{signal: temp, oscillate: {amplitude: 2, period: 20}, start: 10}", [50, 50, 52, 48, 50]),
    ("{signal: temp, override: 'value + t', start: 10}", [50, 50, 55, 65, 80]),
    ("{signal: temp, freeze: true, start: 10, duration: 15}", [50, 50, None, 50, 50]),
])
def test_each_fault_changes_the_values_as_it_says(twin, tmp_path, fault, expected):
    faults = Faults(_scenario(tmp_path, twin, f"  - {fault}\n"))
    assert _run(faults, "temp", [50.0] * 5, [0, 5, 15, 25, 40]) == pytest.approx(expected, abs=1e-9)
    assert ("temp" in faults.acted) == (expected != [50] * 5)


def test_noise_has_the_spread_it_says_and_repeats_with_its_seed(twin, tmp_path):
    scenario = _scenario(tmp_path, twin, "  - {signal: temp, noise: 2, start: 0}\n")
    first = _run(Faults(scenario), "temp", [50.0] * 2000, np.arange(2000) * 0.1)
    assert np.std(first) == pytest.approx(2.0, rel=0.1) and np.mean(first) == pytest.approx(50, abs=0.2)
    assert _run(Faults(scenario), "temp", [50.0] * 2000, np.arange(2000) * 0.1) == first


def test_a_frozen_signal_turns_stale_and_a_dropout_goes_offline_then_back(twin, tmp_path):
    scenario = _scenario(tmp_path, twin, "  - {signal: temp, freeze: true, start: 10}\n"
                                         "  - {signal: flow, dropout: true, start: 10, duration: 20}\n")
    ingest, state = Ingest(twin.signals, scenario), TwinState.for_twin(twin)
    t0 = 1000.0
    for t in range(0, 41):
        state.apply_decoded(ingest.decode({"rig/bearing": (b'{"temperature": 50}', t0 + t, False),
                                           "rig/flow": (b"120", t0 + t, False)}, now=t0 + t))
        q = state.qualities(t0 + t)
        if t == 9:
            assert q == {"temp": "live", "flow": "live"}
        if t == 20:
            assert q == {"temp": "stale", "flow": "offline"}  # no update for 10 s (stale after 5); offline
    assert state.qualities(t0 + 40) == {"temp": "stale", "flow": "live"}  # the dropout is over
    assert ingest.faults.acted == {"temp", "flow"}


def test_a_scenario_s_mistakes_are_load_errors_with_lines(twin, tmp_path):
    with pytest.raises(TwinError) as err:
        _scenario(tmp_path, twin, "  - {signal: tmp, ramp: 1}\n"
                                  "  - {signal: flow, override: 'import os'}\n")
    assert [str(p).split(":", 1)[1] for p in err.value.problems] == [
        "3: unknown signal 'tmp' (did you mean 'temp'?)", "4: override: cannot parse expression 'import os': invalid syntax"]
    with pytest.raises(TwinError) as err:
        _scenario(tmp_path, twin, "  - {signal: temp, ramp: 1}\n  - {signal: temp, ramp: 1, step: 2}\n")
    assert ":4: faults item 2: a fault needs exactly one of" in str(err.value)


def test_the_demo_s_scenarios_load_and_touch_what_they_name():
    pump = load_twin(SAMPLES["pump"], geometry=False)
    folder = SAMPLES["pump"].parent / "scenarios"
    names = sorted(p.stem for p in folder.glob("*.yaml"))
    assert names == ["bearing_overheating", "cavitation", "seal_service", "sensor_failure"]
    kinds = {f.kind for name in names for f in load_scenario(folder / f"{name}.yaml", pump.signals).spec.faults}
    assert {"ramp", "step", "oscillate", "noise", "freeze", "dropout", "override"} <= kinds


def test_watch_marks_what_a_scenario_changed_and_nothing_is_published(twin, tmp_path, mosquitto, publisher):
    (tmp_path / "s.yaml").write_text("scenario: hot\nfaults:\n  - {signal: temp, step: 30}\n")
    seen = []
    publisher.client.subscribe("#")
    publisher.client.on_message = lambda client, userdata, message: seen.append(message.topic)
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "watch", str(twin.path), "--broker", mosquitto,
                             "--json", "--seconds", "3", "--scenario", str(tmp_path / "s.yaml")],
                            stdout=subprocess.PIPE, text=True)
    lines = []
    with proc:
        while not any(line.get("connection", "").startswith("live") for line in lines):
            lines.append(json.loads(proc.stdout.readline()))
        time.sleep(0.3)
        publisher.send("rig/bearing", {"temperature": 50})
        publisher.send("rig/flow", "120")
        lines += [json.loads(line) for line in proc.stdout]
    values = {line["signal"]: line for line in lines if "value" in line}
    assert values["temp"]["value"] == 80 and values["temp"]["simulated"] is True
    assert values["flow"]["value"] == 120 and "simulated" not in values["flow"]
    assert sorted(set(seen)) == ["rig/bearing", "rig/flow"]  # only what the test published: the viewer sent nothing


VIRTUAL = """\
twin: Virtual rig
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: °C, limits: {warn_high: 60, alarm_high: 70}}
simulate:
  - topic: rig/bearing
    fields: {temperature: "50 + noise(0.2)"}
    period: 1.0
"""


def test_a_virtual_test_reports_alarms_and_predictions_when_the_scenario_s_ramp_implies(tmp_path):
    from viewer.virtual_test import run_scenario

    make_test_machine(tmp_path)
    (tmp_path / "v.twin.yaml").write_text(VIRTUAL)
    twin = load_twin(tmp_path / "v.twin.yaml", geometry=False)
    scenario = _scenario(tmp_path, twin, "  - {signal: temp, ramp: 2, start: 0}\n")
    report = run_scenario(twin, scenario, until_s=3600)
    # 50 °C (and noise of 0.2) + 2 °C a minute: the warning limit (60) at 300 s, the alarm limit (70) at 600 s
    raised = {(a["alarm"], a["severity"]): a["t_s"] for a in report.alarms}
    assert abs(raised[("raised", "warning")] - 300) <= 8 and abs(raised[("escalated", "alarm")] - 600) <= 8
    assert {c["limit"]: abs(c["t_s"] - 300 * (c["level"] - 50) / 10) <= 8 for c in report.crossings} == {
        "warn_high": True, "alarm_high": True}
    first = {p["limit"]: p for p in report.predictions}
    for limit, when in (("warn_high", 300), ("alarm_high", 600)):  # foreseen before, within 10 % of the time to it
        p = first[limit]
        assert p["t_s"] < when and abs(p["t_s"] + p["in_s"] - when) <= 0.1 * (when - p["t_s"]), p
    assert report.speedup > 100  # an hour in well under 36 s


def test_the_test_scenario_command_writes_json_and_a_summary_with_trends(tmp_path):
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "test-scenario", str(SAMPLES["pump"]), "--scenario",
                             str(SAMPLES["pump"].parent / "scenarios" / "bearing_overheating.yaml"), "--until", "20m",
                             "-o", str(tmp_path / "bearing")], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["scenario"] == "DE bearing overheating" and summary["simulated_s"] == 1200
    first = min(summary["alarms"], key=lambda a: a["t_s"])
    assert first["signal"] == "bearing_de_excess"  # the model's residual sees it first
    # the bearing itself: 52 °C warm + the scenario's 1.5 °C a minute from 60 s + the simulator's own
    # fault 50 ((t - 60) / 1200)² reach the 82 °C warning at 697 s
    [crossed] = [c for c in summary["crossings"] if (c["signal"], c["limit"]) == ("bearing_de_temp", "warn_high")]
    assert abs(crossed["t_s"] - 697) <= 10, crossed
    report = json.loads((tmp_path / "bearing.json").read_text())
    assert len(report["traces"]["bearing_de_temp"]["t"]) == 121
    page = (tmp_path / "bearing.html").read_text()
    assert "SIMULATED" in page and page.count("<polyline") == len(report["traces"])
    assert "DE bearing overheating on Pump skid P-101" in page


def test_simulate_publishes_any_twin_s_simulator_to_the_broker_named(tmp_path, mosquitto, publisher):
    make_test_machine(tmp_path)
    (tmp_path / "v.twin.yaml").write_text(VIRTUAL)
    heard = []
    publisher.client.subscribe("rig/#")
    publisher.client.on_message = lambda client, userdata, message: heard.append((message.topic, message.payload))
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "simulate", str(tmp_path / "v.twin.yaml"),
                             "--broker", mosquitto, "--seconds", "2.5", "--speed", "10"],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert f"simulating Virtual rig on {mosquitto} at 10x" in result.stderr
    assert len(heard) >= 2 and all(topic == "rig/bearing" for topic, _ in heard)
    assert 49 < json.loads(heard[-1][1])["temperature"] < 51


def test_simulate_can_put_a_scenario_into_what_it_publishes(tmp_path, mosquitto, publisher):
    make_test_machine(tmp_path)
    (tmp_path / "v.twin.yaml").write_text(VIRTUAL.replace("noise(0.2)", "0"))
    (tmp_path / "s.yaml").write_text("scenario: hot\nfaults:\n  - {signal: temp, step: 30}\n")
    heard = []
    publisher.client.subscribe("rig/#")
    publisher.client.on_message = lambda client, userdata, message: heard.append(json.loads(message.payload))
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "simulate", str(tmp_path / "v.twin.yaml"),
                             "--broker", mosquitto, "--seconds", "2.5", "--scenario", str(tmp_path / "s.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "SIMULATED faults: scenario 'hot'" in result.stderr, result.stderr
    assert heard and all(h == {"temperature": 80.0} for h in heard)  # what every viewer sees: 50 + 30

    (tmp_path / "c.twin.yaml").write_text(VIRTUAL.replace("unit: °C,", "unit: °C, expr: 'value * 2',"))
    result = subprocess.run([sys.executable, "-m", "viewer.cli", "simulate", str(tmp_path / "c.twin.yaml"),
                             "--broker", mosquitto, "--seconds", "1", "--scenario", str(tmp_path / "s.yaml")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 1 and "temp: computed from what is published" in result.stderr


def test_in_the_view_a_faulted_value_s_label_says_sim_and_the_session_says_simulated(twin, tmp_path):
    import pyvista as pv

    from tests.viewer.test_replay import _synthetic
    from viewer.live.replay import ReplaySource
    from viewer.session import Session

    t0 = time.time()
    recording = _synthetic(tmp_path / "r.mcap", twin, [("rig/bearing", b'{"temperature": 50}', t0 + i) for i in range(5)])
    scenario = _scenario(tmp_path, twin, "  - {signal: temp, step: 30}\n")
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    session = Session(twin, plotter, source=ReplaySource(recording, speed=float("inf")), scenario=scenario)
    try:
        session.start()
        deadline = time.monotonic() + 5
        while not (session.source.ended and not session.source.pending()) and time.monotonic() < deadline:
            session.tick()
            time.sleep(0.01)
        time.sleep(0.2)
        session.tick()
        assert session.state.values()["temp"] == 80.0
        assert session.scene.label_texts() == ["T 80.0 °C SIM"]
        assert any(p.startswith("SIMULATED: scenario 'test'") for p in session.problems)
    finally:
        session.close()
        plotter.close()
