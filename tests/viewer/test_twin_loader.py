"""Twin files: a good file loads; every mistake is reported at once with its line."""

import textwrap

import pytest

from viewer.cli import main
from viewer.samples import SAMPLES
from viewer.twin.loader import TwinError, load_twin


def _write(folder, text):
    path = folder / "twin.yaml"
    path.write_text(textwrap.dedent(text))
    return path


def _problems(path, **kw):
    with pytest.raises(TwinError) as info:
        load_twin(path, **kw)
    return [(p.line, p.message) for p in info.value.problems]


def test_the_test_rig_loads_with_its_tree_and_joints(rig_twin):
    twin = load_twin(rig_twin)
    assert list(twin.assembly.parts) == ["rig", "arm", "bearing", "base", "tip"]
    assert twin.assembly["tip"].parent == "arm"
    assert twin.joints["arm"].axis == (0, 1, 0)
    assert [b.kind for b in twin.bindings] == ["colour", "rotate", "label"]


@pytest.mark.parametrize("name", sorted(SAMPLES))
def test_sample_twins_load_with_signals_and_a_simulation(name):
    twin = load_twin(SAMPLES[name])
    assert len(twin.signals) >= 6
    assert twin.spec.simulate


def test_samples_cover_every_binding_kind():
    kinds = {b.kind for path in SAMPLES.values() for b in load_twin(path).bindings}
    assert kinds == {"colour", "rotate", "translate", "spin", "label"}


BROKEN = """\
twin: Broken
parts:
  - {name: rig, mesh: rig.glb}
  - {name: armm, axis: [0, 1, 0]}
  - {name: extra, mesh: missing.glb}
  - {name: escape, mesh: ../outside.glb}
signals:
  temp: {topic: rig/t, field: temperature, expr: "__import__('os')"}
  speed: {topic: rig/s, field: "a[x]"}
bindings:
  - {colour: bearing, signal: tmep, cmap: inferno, range: [0, 1]}
  - {colour: bearing, signal: temp, cmap: nosuchmap, range: [0, 1]}
  - {rotate: nowhere, signal: speed}
  - {label: base, text: "{temp.__class__}"}
  - {label: base, text: "{pressure:.1f}"}
"""


def test_every_problem_is_reported_with_its_line(rig_twin):
    path = _write(rig_twin.parent, BROKEN)
    problems = _problems(path)
    expected = [
        (4, "unknown part 'armm'"),
        (5, "mesh file not found: missing.glb"),
        (6, "leaves the twin's folder"),
        (8, "only these functions may be called"),
        (9, "bad field path 'a[x]'"),
        (11, "unknown signal 'tmep' (did you mean 'temp'?)"),
        (12, "unknown colour map 'nosuchmap'"),
        (13, "unknown part 'nowhere'"),
        (14, "must be a signal name"),
        (15, "unknown signal 'pressure'"),
    ]
    assert len(problems) == len(expected)
    for (line, message), (want_line, want) in zip(problems, expected):
        assert line == want_line and want in message, (line, message)


def test_structure_errors_name_the_key_and_line(tmp_path):
    path = _write(tmp_path, """\
        twin: Bad
        parts:
          - {name: a, mesh: a.stl, colour: red}
        bindings:
          - {spin: a}
          - {colour: a, signal: s, range: [5, 1]}
          - {rotate: a, label: a, signal: s}
        """)
    problems = _problems(path)
    assert (3, "unknown key 'colour'") in problems
    lines = {line for line, _ in problems}
    assert {5, 6, 7} <= lines
    messages = " ".join(m for _, m in problems)
    assert "needs a signal" in messages and "low < high" in messages and "exactly one of" in messages


def test_yaml_syntax_error_has_a_line(tmp_path):
    path = _write(tmp_path, "twin: x\nparts: [\n  {name: a\n")
    [(line, message)] = _problems(path)
    assert line >= 2 and "not valid YAML" in message


def test_mesh_outside_the_folder_is_allowed_when_asked(rig_twin, tmp_path_factory):
    other = tmp_path_factory.mktemp("twin")
    path = _write(other, f"""\
        twin: Outside
        parts:
          - {{name: rig, mesh: {rig_twin.parent / 'rig.glb'}}}
        """)
    assert _problems(path)[0][1].endswith("(allow it with --allow-outside)")
    assert "rig" in load_twin(path, allow_outside=True).assembly


def test_check_command_prints_file_line_messages_and_exits_1(rig_twin, capsys):
    path = _write(rig_twin.parent, BROKEN)
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0].startswith(f"{path}:4: unknown part 'armm'")
    assert err[-1] == "10 problem(s) found"


def test_check_command_accepts_a_good_twin(rig_twin, capsys):
    assert main(["check", str(rig_twin)]) == 0
    assert "OK: 5 parts, 2 signals, 3 bindings" in capsys.readouterr().out


def test_a_bad_broker_url_is_a_problem_of_the_file(tmp_path):
    path = _write(tmp_path, """\
        twin: Bad broker
        broker: http://plant
        parts:
          - {name: a, mesh: a.stl}
        """)
    problems = _problems(path)
    assert (2, "broker.url: bad broker URL 'http://plant' (expected mqtt://host:port or mqtts://host:port)") in problems


def test_a_file_that_is_not_utf8_is_reported_not_raised(tmp_path):
    path = tmp_path / "twin.yaml"
    path.write_bytes(b"twin: \xff\xfe\n")
    assert "not UTF-8" in _problems(path)[0][1]


def test_units_are_checked_and_conversions_must_make_sense(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Units
        parts:
          - {name: rig, mesh: rig.glb}
        signals:
          temp: {topic: t, unit: zorg}
          pressure: {topic: p, unit: bar}
        bindings:
          - {colour: bearing, signal: pressure, range: [0, 10], unit: degC}
          - {label: base, text: "{pressure:.0f} kPa", units: {pressure: kPa}}
        """)
    problems = _problems(path)
    assert [line for line, _ in problems] == [5, 8]
    assert "unknown unit 'zorg'" in problems[0][1]
    assert "cannot convert 'bar' to 'degC'" in problems[1][1]
