"""Limits in the twin file: checked with FILE:LINE, turned into alarms that follow live data
through a real broker, printed by `watch` and listed by `alarms`."""

import json
import subprocess
import sys
import textwrap

import pytest
import pyvista as pv

from tests.conftest import make_test_machine, wait_until
from viewer.alarm_types import AlarmState, Severity
from viewer.cli import main
from viewer.session import Session
from viewer.twin.loader import TwinError, load_twin

TWIN = """\
twin: Limits rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp:
    topic: rig/bearing
    field: temperature
    unit: degC
    limits: {warn_high: 85, alarm_high: 203 degF, deadband: 2 K}
  state:
    topic: rig/state
    map: {STOPPED: 0, RUNNING: 1, FAULT: 2}
    limits: {alarm_when: FAULT, warn_when: [STOPPED]}
  speed: {topic: rig/speed, unit: rpm}
bindings:
  - {colour: bearing, signal: temp, cmap: inferno, range: [20, 100]}
  - {label: base, text: "{state}"}
  - {colour: arm, signal: speed, range: [0, 3000], limits: {alarm_high: 1800}}
  - {colour: tip, signal: speed, range: [0, 3000]}
"""


@pytest.fixture
def limits_twin(tmp_path):
    make_test_machine(tmp_path)
    path = tmp_path / "limits.twin.yaml"
    path.write_text(TWIN)
    return path


def _problems(tmp_path, text):
    make_test_machine(tmp_path)
    path = tmp_path / "t.twin.yaml"
    path.write_text(textwrap.dedent(text))
    with pytest.raises(TwinError) as info:
        load_twin(path)
    return [(p.line, p.message) for p in info.value.problems]


def test_limits_become_alarms_in_the_signals_unit_shown_on_the_parts_bound_to_them(limits_twin):
    alarms = {a.id: a for a in load_twin(limits_twin).alarms}
    assert set(alarms) == {"temp", "state", "speed@arm"}
    temp = alarms["temp"]
    assert (temp.spec.warn_high, temp.spec.alarm_high) == (85, pytest.approx(95))  # 203 degF
    assert temp.spec.deadband == pytest.approx(2)  # a difference: 2 K is 2 degC, not -271
    assert temp.parts == ("bearing",)
    assert alarms["state"].spec.alarm_when == {2.0} and alarms["state"].spec.warn_when == {0.0}
    assert alarms["state"].parts == ("base",)  # the label that shows it
    assert alarms["speed@arm"].spec.alarm_high == 1800 and alarms["speed@arm"].parts == ("arm",)
    assert alarms["temp"].spec.on_stale is None  # quality alarms only when asked for


def test_limit_mistakes_are_reported_with_their_line_and_a_way_out(tmp_path):
    problems = _problems(tmp_path, """\
        twin: Bad limits
        parts:
          - {name: rig, mesh: rig.glb}
        signals:
          temp:
            topic: a
            unit: degC
            limits: {warn_high: 95, alarm_high: 85}
          vib:
            topic: b
            unit: mm/s
            limits:
              alarm_high: 7.1 bar
          state:
            topic: c
            map: {RUNNING: 1, FAULT: 2}
            limits: {alarm_when: FALT}
          plain: {topic: d, limits: {alarm_high: 3 degC}}
        bindings:
          - {colour: bearing, signal: vib, range: [0, 5]}
          - {spin: arm, signal: plain, limits: {alarm_high: 1}}
        """)
    assert problems == [
        (8, "signal temp limits: warn_high 95.0 must be below alarm_high 85.0"),
        (13, "signal vib alarm_high: '7.1 bar' cannot be compared with the signal's unit 'mm/s'"),
        (17, "signal state alarm_when: 'FALT' is not in the signal's map (did you mean 'FAULT'?)"),
        (18, "signal plain alarm_high: '3 degC' has a unit, but the signal has none: give a plain number "
             "or set the signal's unit"),
        (21, "only a colour binding has limits of its own; put them on the signal 'plain'"),
    ]


def test_a_colour_range_must_reach_the_limits_it_shows(tmp_path):
    problems = _problems(tmp_path, """\
        twin: Short range
        parts:
          - {name: rig, mesh: rig.glb}
        signals:
          temp: {topic: a, unit: degC, limits: {warn_high: 85, alarm_high: 95}}
        bindings:
          - {colour: bearing, signal: temp, range: [20, 90]}
          - {colour: base, signal: temp, range: [68, 212], unit: degF}
        """)
    assert problems == [(7, "range [20, 90] does not reach alarm_high 95 of temp: its colour could not show the "
                            "limit (e.g. range: [20, 100])")]  # in degF, 95 degC is 203: within reach


@pytest.fixture
def session(limits_twin, mosquitto):
    plotter = pv.Plotter(off_screen=True, window_size=(300, 200))
    s = Session(load_twin(limits_twin), plotter, mosquitto)
    s.start()
    wait_until(lambda: s.tick() is not None and s.status.state == "live")
    yield s
    s.close()
    plotter.close()


def _alarm(session, id_):
    session.tick()
    return session.alarms.book.get(id_)


def test_live_values_raise_alarms_that_return_and_are_acknowledged(session, publisher):
    publisher.send("rig/bearing", {"temperature": 90})
    wait_until(lambda: _alarm(session, "temp").state == AlarmState.ACTIVE_UNACKED)
    assert _alarm(session, "temp").severity == Severity.WARNING
    publisher.send("rig/bearing", {"temperature": 97.5})
    wait_until(lambda: _alarm(session, "temp").severity == Severity.ALARM)
    assert session.acknowledge() == ["temp"]
    assert _alarm(session, "temp").state == AlarmState.ACTIVE_ACKED
    publisher.send("rig/bearing", {"temperature": 83.5})  # inside the deadband of warn_high: still a warning
    wait_until(lambda: _alarm(session, "temp").severity == Severity.WARNING)
    assert _alarm(session, "temp").active
    publisher.send("rig/bearing", {"temperature": 60})
    wait_until(lambda: _alarm(session, "temp").state == AlarmState.NORMAL)  # acknowledged: straight to normal


def test_a_state_raises_its_alarm_and_a_part_has_its_own_limits(session, publisher):
    publisher.send("rig/state", "FAULT")
    publisher.send("rig/speed", "2000")
    wait_until(lambda: _alarm(session, "state").active and _alarm(session, "speed@arm").active)
    assert [a.signal for a in session.alarms.book.active()][:2] in (["state", "speed@arm"], ["speed@arm", "state"])
    publisher.send("rig/speed", "1500")
    wait_until(lambda: _alarm(session, "speed@arm").state == AlarmState.RETURNED_UNACKED)


def test_watch_prints_alarm_transitions_as_json(limits_twin, mosquitto, publisher):
    proc = subprocess.Popen([sys.executable, "-m", "viewer.cli", "watch", str(limits_twin), "--broker", mosquitto,
                             "--json", "--seconds", "3"], stdout=subprocess.PIPE, text=True)
    lines = []
    with proc:
        while not any(line.get("connection", "").startswith("live") for line in lines):
            lines.append(json.loads(proc.stdout.readline()))
        publisher.send("rig/bearing", {"temperature": 99})
        lines += [json.loads(line) for line in proc.stdout]
    [raised] = [line for line in lines if "alarm" in line]
    assert {k: raised[k] for k in ("signal", "alarm", "state", "severity", "condition", "value")} == {
        "signal": "temp", "alarm": "raised", "state": "active unacknowledged", "severity": "alarm",
        "condition": "alarm_high", "value": 99}
    assert raised["limit"] == pytest.approx(95)


def test_the_alarms_command_lists_what_is_active_and_says_so_in_its_exit_status(limits_twin, mosquitto, publisher,
                                                                               capsys):
    publisher.send("rig/bearing", {"temperature": 88}, retain=True)
    assert main(["alarms", str(limits_twin), "--broker", mosquitto, "--seconds", "1"]) == 4  # a warning
    assert "WARNING  temp" in capsys.readouterr().out
    publisher.send("rig/state", "FAULT", retain=True)
    assert main(["alarms", str(limits_twin), "--broker", mosquitto, "--seconds", "1"]) == 5
    out = capsys.readouterr().out
    assert "alarm_when: FAULT," in out  # the state's name, as the plant says it
    assert "warn_high: 88 degC (limit 85 degC)" in out
    assert main(["alarms", str(limits_twin), "--broker", mosquitto, "--seconds", "1", "--json"]) == 5
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(r["alarm"], r["severity"], r["condition"], r["parts"]) for r in rows] == [
        ("state", "alarm", "alarm_when", "base"), ("temp", "warning", "warn_high", "bearing")]
    assert main(["alarms", str(limits_twin), "--broker", "mqtt://127.0.0.1:1", "--seconds", "0.5"]) == 3
