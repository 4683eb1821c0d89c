"""Service procedures: loaded and checked with the twin, walked through step by step."""

import textwrap
import time

import numpy as np
import pytest
import pyvista as pv

from tests.conftest import make_test_machine, wait_until
from viewer.samples import SAMPLES
from viewer.history import Series
from viewer.live.ingest import Ingest
from viewer.live.recorder import Recorder
from viewer.live.replay import ReplaySource
from viewer.session import Session
from viewer.twin.loader import TwinError, load_twin
from viewer.twin.scenario import load_scenario
from viewer.walkthrough import StepRefused, StepState, Walkthrough

TWIN = """\
twin: Service rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
  - {name: arm, axis: [0, 1, 0]}
signals:
  pressure: {topic: rig/pressure, unit: bar, stale_after: 30}
  temp: {topic: rig/bearing, field: temperature, unit: °C, limits: {alarm_high: 90}}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {label: bearing, text: "T {temp:.1f} °C"}
procedures:
  - service.yaml
"""

PROCEDURE = """\
procedure: Bearing service
description: Replace the bearing.
poses:
  arm_up: [{part: arm, by: [0, 0, 0.2]}]
steps:
  - title: Vent the rig
    highlight: [bearing]
    condition: {holds: "pressure < 0.5", for: 2}
  - title: Check the bearing is cool and not in alarm
    condition: {holds: "temp < 40", no_alarm: [bearing]}
  - title: Measure the play
    pose: arm_up
    measure: {name: play, unit: mm, range: [0, 0.1]}
  - title: Sign off
    note: Work order number
"""


def _twin(tmp_path, procedure: str = PROCEDURE, twin: str = TWIN, geometry: bool = True):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(twin)
    (tmp_path / "service.yaml").write_text(textwrap.dedent(procedure))
    return load_twin(tmp_path / "rig.twin.yaml", geometry=geometry)


def _problems(tmp_path, procedure: str, twin: str = TWIN) -> list[str]:
    with pytest.raises(TwinError) as caught:
        _twin(tmp_path, procedure, twin)
    return [str(p) for p in caught.value.problems]


LIVE = {"pressure": "live", "temp": "live"}


# -- loading -----------------------------------------------------------------------------

def test_a_procedure_file_loads_with_the_twin_its_steps_resolved(tmp_path):
    twin = _twin(tmp_path)
    [procedure] = twin.procedures
    assert procedure.title == "Bearing service"
    assert [s.title for s in procedure.steps][:2] == ["Vent the rig", "Check the bearing is cool and not in alarm"]
    assert procedure.steps[2].moves[0].part == "arm" and procedure.moved_parts == {"arm"}
    assert procedure.steps[0].condition.used_names == {"pressure"}


def test_every_mistake_in_a_procedure_is_reported_with_its_file_and_line(tmp_path):
    bad = PROCEDURE.replace("highlight: [bearing]", "highlight: [bearnig]") \
        .replace('"pressure < 0.5"', '"presure < 0.5"') \
        .replace("pose: arm_up", "pose: arm_upp\n    images: [missing.png]") \
        .replace("unit: mm", "unit: mmm")
    problems = _problems(tmp_path, bad)
    path = tmp_path / "service.yaml"
    assert problems == [
        f"{path}:7: steps item 1: unknown part 'bearnig' (did you mean 'bearing'?)",
        f"{path}:8: steps item 1: condition: unknown name 'presure' (did you mean 'pressure'?)",
        f"{path}:12: steps item 3: unknown pose 'arm_upp' (did you mean 'arm_up'?)",
        f"{path}:13: steps item 3: image not found: missing.png (looked for {tmp_path / 'missing.png'})",
        f"{path}:14: steps item 3: measure: unknown unit 'mmm'",
    ]


def test_a_malformed_step_says_which_key_and_where(tmp_path):
    bad = PROCEDURE.replace("condition: {holds: \"pressure < 0.5\", for: 2}",
                            "condition: {holds: \"pressure < 0.5\", fro: 2}")
    assert _problems(tmp_path, bad) == [
        f"{tmp_path / 'service.yaml'}:8: steps item 1.condition: unknown key 'fro' (did you mean 'for'?)"]


def test_a_procedure_written_in_the_twin_file_is_checked_at_its_lines_there(tmp_path):
    inline = TWIN.replace("  - service.yaml\n", "  - procedure: Inline\n    steps:\n"
                                                  "      - {title: Look, camera: {fit: [bearng]}}\n"
                                                  "      - {title: Wait, condition: \"pressure <\"}\n")
    problems = _problems(tmp_path, PROCEDURE, inline)
    twin_file = tmp_path / "rig.twin.yaml"
    assert problems[0] == f"{twin_file}:15: procedures item 1 steps item 1: unknown part 'bearng' " \
                          "(did you mean 'bearing'?)"
    assert problems[1].startswith(f"{twin_file}:16: procedures item 1 steps item 2: condition: cannot parse")


def test_a_missing_procedure_file_is_a_problem_at_the_line_that_names_it(tmp_path):
    problems = _problems(tmp_path, PROCEDURE, TWIN.replace("service.yaml", "gone.yaml"))
    assert problems == [f"{tmp_path / 'rig.twin.yaml'}:13: procedures item 1: cannot read gone.yaml: "
                        "No such file or directory"]


def test_the_demo_pump_s_procedure_loads_and_uses_every_kind_of_step():
    [procedure] = load_twin(SAMPLES["pump"]).procedures
    specs = [s.spec for s in procedure.steps]
    assert any(s.note for s in specs) and any(s.measure for s in specs) and any(s.images for s in specs)
    assert any(s.condition and s.condition.for_ > 0 for s in specs)
    assert any(s.condition and s.condition.no_alarm for s in specs)
    assert any(s.camera and s.camera.fit for s in specs) and any(s.camera and s.camera.position for s in specs)
    assert any(s.isolate and s.others == "hide" for s in specs) and any(s.isolate and s.others == "dim" for s in specs)
    assert any(s.pose for s in specs) and all(img.is_file() for s in procedure.steps for img in s.images)


# -- the rules of a walkthrough --------------------------------------------------------------

def _walk(tmp_path, **kwargs) -> Walkthrough:
    twin = _twin(tmp_path, geometry=False)
    return Walkthrough(twin.procedures[0], twin, "A. Tech", now=1000.0, **kwargs)


def test_a_condition_must_hold_for_its_time_before_the_step_completes(tmp_path):
    w = _walk(tmp_path)
    assert w.records[0].state is StepState.WAITING
    w.update({"pressure": 0.3}, LIVE, set(), 1000.0)
    with pytest.raises(StepRefused, match="held for 0.0 s of the 2 s"):
        w.complete()
    w.update({"pressure": 0.3}, LIVE, set(), 1002.0)
    assert w.records[0].state is StepState.CURRENT and w.status.ready
    w.complete()
    assert w.records[0].state is StepState.DONE and w.records[0].values["pressure"] == (0.3, "bar", "live")
    assert w.active == w.index == 1


def test_a_condition_on_a_value_that_is_not_live_does_not_hold(tmp_path):
    w = _walk(tmp_path)
    w.update({"pressure": 0.1}, {"pressure": "stale"}, set(), 1000.0)
    w.update({"pressure": 0.1}, {"pressure": "stale"}, set(), 1010.0)
    assert not w.status.holds and "not live: pressure stale" in w.status.text


def test_an_active_alarm_on_a_part_keeps_its_step_waiting(tmp_path):
    w = _walk(tmp_path)
    w.update({"pressure": 0.1}, LIVE, set(), 1000.0)
    w.update({"pressure": 0.1}, LIVE, set(), 1003.0)
    w.complete()
    w.update({"pressure": 0.1, "temp": 30.0}, LIVE, {"temp"}, 1004.0)
    assert not w.status.holds and "alarm on bearing: temp" in w.status.text
    w.update({"pressure": 0.1, "temp": 30.0}, LIVE, set(), 1005.0)
    assert w.status.ready
    w.complete()


def test_a_measurement_outside_its_range_and_a_missing_note_are_refused_and_written_down(tmp_path):
    w = _walk(tmp_path, training=True)
    for t in (1000.0, 1003.0):
        w.update({"pressure": 0.1, "temp": 30.0}, LIVE, set(), t)
    w.complete()
    w.update({"pressure": 0.1, "temp": 30.0}, LIVE, set(), 1004.0)
    w.complete()
    with pytest.raises(StepRefused, match="type the play"):
        w.complete()
    with pytest.raises(StepRefused, match=r"play 0.3 mm is outside the accepted 0–0.1 mm"):
        w.complete(measurement=0.3)
    w.complete(measurement=0.04)
    with pytest.raises(StepRefused, match="write the note: Work order number"):
        w.complete(note="  ")
    w.complete(note="WO-1234")
    w.finish()
    assert w.outcome == "completed" and w.records[2].measurement == 0.04 and w.records[3].note == "WO-1234"
    assert [(e.step, e.kind) for e in w.mistakes()] == [(2, "refused"), (2, "refused"), (3, "refused")]


def test_skipping_needs_a_reason_and_only_the_step_to_do_can_be_acted_on(tmp_path):
    w = _walk(tmp_path)
    with pytest.raises(StepRefused, match="say why"):
        w.skip("")
    w.skip("vented by operations")
    assert w.records[0].state is StepState.SKIPPED and w.records[0].reason == "vented by operations"
    w.previous()
    assert w.index == 0
    with pytest.raises(StepRefused, match="the step to do is 2"):
        w.complete()
    w.go(3)  # no further than the step to do
    assert w.index == 1
    with pytest.raises(StepRefused, match="3 steps are left"):
        w.finish()
    with pytest.raises(StepRefused, match="say why"):
        w.abandon(" ")
    w.abandon("shift ended")
    assert w.outcome == "abandoned" and w.events[-1].text == "shift ended" and not w.running


class _History:
    """``TwinState.history`` of samples given by hand: name -> [(time, value)]."""

    def __init__(self, samples: dict):
        self.samples = samples

    def __call__(self, name, since=None):
        rows = [(t, v) for t, v in self.samples.get(name, []) if since is None or t >= since]
        t = np.array([r[0] for r in rows], float)
        v = np.array([r[1] for r in rows], float)
        return Series(t, v, v, v)


def test_a_spike_between_two_looks_starts_the_held_time_again(tmp_path):
    w = _walk(tmp_path)
    w.update({"pressure": 0.2}, LIVE, set(), 1000.0, _History({}))
    spike = _History({"pressure": [(1000.5, 0.2), (1001.0, 3.1), (1001.2, 0.2), (1002.5, 0.2)]})
    w.update({"pressure": 0.2}, LIVE, set(), 1002.5, spike)  # 2.5 s after the first look, but it broke at 1001
    assert w.status.holds and w.status.held_for == pytest.approx(1.3)
    with pytest.raises(StepRefused, match="held for 1.3 s of the 2 s"):
        w.complete()
    w.update({"pressure": 0.2}, LIVE, set(), 1003.3, _History({}))
    assert w.status.ready


def test_a_clock_that_goes_back_counts_again_and_is_no_mistake(tmp_path):
    w = _walk(tmp_path)
    for t in (1000.0, 1003.0):
        w.update({"pressure": 0.2}, LIVE, set(), t)
    assert w.status.ready
    w.update({"pressure": 0.2}, LIVE, set(), 990.0)  # a replay sought back
    assert w.status.holds and not w.status.ready and w.status.held_for == 0.0
    assert w.records[0].broken == 0 and [e.kind for e in w.events].count("condition lost") == 0


def test_no_alarm_counts_only_when_the_alarm_s_signal_is_live(tmp_path):
    w = _walk(tmp_path)
    w.skip("vented")
    w.update({"temp": 30.0}, {"temp": "stale"}, set(), 1001.0)
    assert not w.status.holds and "not live: temp stale" in w.status.text


def test_a_condition_may_use_the_constants(tmp_path):
    twin = _twin(tmp_path, PROCEDURE.replace('"pressure < 0.5"', '"pressure < pi / 6"'), geometry=False)
    w = Walkthrough(twin.procedures[0], twin, "A. Tech", now=1000.0)
    w.update({"pressure": 0.4}, LIVE, set(), 1000.0)
    w.update({"pressure": 0.4}, LIVE, set(), 1002.0)
    assert w.status.ready


def test_a_no_alarm_part_without_alarms_and_hiding_without_isolating_are_load_errors(tmp_path):
    bad = PROCEDURE.replace("no_alarm: [bearing]", "no_alarm: [arm]") \
        .replace("  - title: Measure the play\n", "  - title: Measure the play\n    others: hide\n")
    problems = _problems(tmp_path, bad)  # the schema's mistakes first: the names are checked after
    assert len(problems) == 1 and problems[0].endswith("steps item 3: others: hide hides what is not isolated: list the parts to keep "
                                "in isolate")
    fixed = bad.replace("    others: hide\n", "")
    assert [p.split(": ", 1)[1] for p in _problems(tmp_path, fixed)] == [
        "steps item 2: no_alarm: no alarm can show on arm (no signal with limits is bound to it or to a part "
        "under it): the condition would always hold"]


# -- on a real broker ---------------------------------------------------------------------------

@pytest.fixture
def session(tmp_path, mosquitto):
    _twin(tmp_path)
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    s = Session(load_twin(tmp_path / "rig.twin.yaml"), plotter, mosquitto)
    s.start()
    yield s
    s.close()
    plotter.close()


def _update(session, w: Walkthrough) -> None:
    session.tick(draw=False)
    w.follow(session)


def test_a_step_gated_on_a_live_condition_completes_only_after_the_broker_s_values_hold_long_enough(
        session, publisher):
    wait_until(lambda: session.status.state != "connecting", step=lambda: session.tick(draw=False))
    w = Walkthrough.on_session(session.twin.procedures[0], session, "A. Tech")
    assert w.data == "live" and not w.training
    publisher.send("rig/pressure", "3.2")
    wait_until(lambda: session.state.values()["pressure"] == 3.2, step=lambda: _update(session, w))
    assert w.records[0].state is StepState.WAITING and "pressure = 3.2 bar" in w.status.text
    publisher.send("rig/pressure", "0.2")  # vented: it holds, and must go on holding for 2 s
    wait_until(lambda: w.status.holds, step=lambda: _update(session, w))
    with pytest.raises(StepRefused, match="of the 2 s it needs"):
        w.complete()
    wait_until(lambda: w.status.ready, timeout=5, step=lambda: _update(session, w))
    assert w.records[0].state is StepState.CURRENT
    publisher.send("rig/pressure", "0.9")  # the pressure comes back: the step waits again
    wait_until(lambda: w.records[0].state is StepState.WAITING, step=lambda: _update(session, w))
    assert w.records[0].broken == 1 and w.events[-1].kind == "condition lost"
    with pytest.raises(StepRefused, match="does not hold"):
        w.complete()
    publisher.send("rig/pressure", "0.1")
    held_from = time.monotonic()
    wait_until(lambda: w.status.ready, timeout=5, step=lambda: _update(session, w))
    assert time.monotonic() - held_from >= 1.9  # the 2 s start again from the new value
    w.complete()
    assert w.records[0].state is StepState.DONE and w.records[0].values["pressure"][0] == 0.1
    assert "pressure = 0.1 bar" in w.records[0].condition


def test_on_a_replay_with_a_scenario_the_steps_wait_on_the_recording_s_clock_and_it_is_training(tmp_path):
    """The trainer's set-up: a recording of the rig vented (0.2 bar throughout) and a
    scenario that keeps the pressure up for its first 8 s: the step cannot be done before
    the recording's 8 + 2 s, however fast it plays."""
    twin = _twin(tmp_path)
    recording = tmp_path / "vented.mcap"
    recorder = Recorder(recording, "mqtt://plant:1883", Ingest(twin.signals).subscriptions, twin.path)
    t0 = 1_750_000_000.0
    for i in range(21):
        recorder.add([("rig/pressure", b"0.2", False)], t0 + i)
    recorder.stop()
    (tmp_path / "stuck.yaml").write_text("scenario: Vent valve stuck\n"
                                         "faults: [{signal: pressure, step: 2.0, start: 0, duration: 8}]\n")
    scenario = load_scenario(tmp_path / "stuck.yaml", twin.signals)
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    session = Session(twin, plotter, source=ReplaySource(recording, speed=10.0), scenario=scenario)
    try:
        session.start()
        w = Walkthrough.on_session(twin.procedures[0], session, "Trainee")
        assert w.training and w.data == "replay of vented.mcap, scenario 'Vent valve stuck' (simulated faults)"
        wait_until(lambda: "pressure = 2.2 bar" in w.status.text, step=lambda: _update(session, w))
        assert not w.status.holds
        wait_until(lambda: w.status.ready, timeout=10, step=lambda: _update(session, w))
        w.complete()
        assert t0 + 10 <= w.records[0].finished < t0 + 13  # the recording's time, not the wall clock's
    finally:
        session.close()
        plotter.close()
