"""Twin files: a good file loads; every mistake is reported at once with its line."""

import json
import subprocess
import sys
import textwrap

import pytest

from tests.viewer.test_connection import pki  # noqa: F401 (a fixture: real certificates)
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
    assert list(twin.assembly.parts) == ["rig", "base", "bearing", "arm", "tip"]  # the file's order
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
    assert kinds == {"colour", "rotate", "translate", "spin", "label", "field"}


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
        (5, "1 binding names a part that could not be checked: missing.glb and ../outside.glb did not load"),
        (6, "leaves the twin's folder"),
        (8, "only these functions may be called"),
        (9, "bad field path 'a[x]'"),
        (11, "unknown signal 'tmep' (did you mean 'temp'?)"),
        (12, "unknown colour map 'nosuchmap'"),
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
    assert (3, "parts item 1 (name: a): unknown key 'colour'") in problems
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


def test_check_command_reads_a_mesh_file_and_says_what_it_holds(rig_twin, capsys):
    assert main(["check", str(rig_twin.parent / "rig.glb")]) == 0
    out = capsys.readouterr().out
    assert "rig.glb: units meters (from file), 48 triangles" in out and "OK: 5 parts" in out
    (rig_twin.parent / "junk.step").write_text("not a STEP file\n")
    assert main(["check", str(rig_twin.parent / "junk.step")]) == 1
    assert "junk.step: not a STEP file" in capsys.readouterr().err


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


# -- input limits: a hostile or broken file is refused with a line, quickly -----------


def _problems_within(path, seconds=30):
    """``_problems``, in a child process that is ended after ``seconds``: a regression
    (a file that expands without end) fails the test instead of hanging it."""
    code = ("import json, sys\nfrom viewer.twin.loader import TwinError, load_twin\n"
            "try:\n    load_twin(sys.argv[1])\nexcept TwinError as exc:\n"
            "    print(json.dumps([(p.line, p.message) for p in exc.problems]))\n")
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True,
                          timeout=seconds)
    assert done.returncode == 0, done.stderr
    return [tuple(p) for p in json.loads(done.stdout)]


def test_aliases_that_expand_beyond_the_limit_are_refused_unexpanded(tmp_path):
    # "Billion laughs": 10 lines that expand to 9**9 values.
    lines = ["twin: Laughs", "parts: [{name: a, mesh: a.stl}]", "x0: &a0 [lol]"]
    lines += [f"x{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 9)}]" for i in range(1, 10)]
    path = tmp_path / "twin.yaml"
    path.write_text("\n".join(lines) + "\n")
    [(line, message)] = _problems_within(path)
    assert line == 8  # x5: the first anchor whose value expands beyond the limit
    assert message.startswith("aliases expand to more than 100,000 values: ")


def test_an_alias_inside_its_own_anchor_is_refused(tmp_path):
    path = _write(tmp_path, "twin: Loop\nparts: &p [{name: a, mesh: a.stl}, *p]\n")
    assert _problems(path) == [(2, "an alias refers to a list or mapping that contains it: it never ends")]


def test_ordinary_anchors_aliases_and_merge_keys_still_work(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Shared
        parts: [{name: rig, mesh: rig.glb}]
        signals:
          temp: &bearing {topic: rig/bearing, field: temperature, unit: degC, qos: 1}
          temp2: {<<: *bearing, field: t2}
          temp3:
            <<: *bearing
            qos: 2
        bindings:
          - {colour: bearing, signal: temp, range: &span [20, 100]}
          - {colour: base, signal: temp2, range: *span}
        """)
    twin = load_twin(path)
    assert (twin.signals["temp2"].spec.topic, twin.signals["temp2"].spec.field) == ("rig/bearing", "t2")
    assert (twin.signals["temp3"].spec.field, twin.signals["temp3"].spec.qos) == ("temperature", 2)
    assert twin.bindings[1].range == (20, 100)


@pytest.mark.parametrize("parts, line", [
    ("[" * 100_000 + "]" * 100_000, 2),  # beyond Python's recursion limit
    ("{a: " * 60 + "1" + "}" * 60, 2),
    ("\n" + "\n".join("  " * i + f"- k{i}:" for i in range(60)) + " 1", 27),  # 2 levels a line
])
def test_deep_nesting_is_refused_with_a_line_not_a_traceback(tmp_path, parts, line):
    path = tmp_path / "twin.yaml"
    path.write_text(f"twin: Deep\nparts: {parts}\n")
    assert _problems(path) == [(line, "nested deeper than 50 levels")]


def test_nesting_made_deep_by_aliases_is_refused_too(tmp_path):
    lines = ["twin: Deep", "a0: &a0 " + "[" * 45 + "1" + "]" * 45]
    lines += [f"a{i}: &a{i} " + "[" * 40 + f"*a{i - 1}" + "]" * 40 for i in range(1, 30)]
    path = tmp_path / "twin.yaml"
    path.write_text("\n".join(lines) + "\n")
    assert _problems(path) == [(3, "nested deeper than 50 levels, aliases expanded")]


def test_a_file_larger_than_10_mb_is_refused_unread(tmp_path):
    path = tmp_path / "twin.yaml"
    path.write_text("twin: Big\n" + ("#" * 99 + "\n") * 100_000)
    assert _problems(path) == [(0, "larger than 10 MB: a twin file is a few kB (its meshes are separate files)")]


def test_a_value_yaml_cannot_construct_is_a_problem_with_its_line(tmp_path):
    path = _write(tmp_path, "twin: Dates\nparts: [{name: a, mesh: a.stl}]\nstale_after: 2001-02-30\n")
    assert _problems(path) == [(3, "not valid YAML: cannot read '2001-02-30': day is out of range for month")]


def test_repeated_keys_are_reported_with_both_lines(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Repeated
        parts:
          - {name: rig, mesh: rig.glb, name: rig2}
        signals:
          temp: {topic: rig/t, unit: degC}
          temp:
            topic: rig/t2
            topic: rig/t3
        """)
    assert _problems(path) == [
        (3, "duplicate key 'name' (first at line 3): a key may appear once"),
        (6, "duplicate key 'temp' (first at line 5): a key may appear once"),
        (8, "duplicate key 'topic' (first at line 7): a key may appear once"),
    ]


# -- messages in the words of the file ------------------------------------------------


def test_schema_messages_name_the_item_and_say_what_was_expected(tmp_path):
    path = _write(tmp_path, """\
        twin: Messages
        stale_after: soon
        parts:
          - {name: rig, mesh: rig.glb}
          - {mesh: arm.glb, axis: [0, 1]}
          - {name: pump, mesh: 5, units: km}
        signals:
          temp: {topic: rig/t, qos: 3, stale_after: -1}
          state: {topic: rig/s, map: {OFF: 0, RUNNING: 1}}
        bindings:
          - {rotate: arm, signal: temp, scale: fast}
        """)
    assert _problems(path) == [
        (2, "stale_after: must be a number or 'never', not 'soon'"),
        (5, "parts item 2 (mesh: arm.glb): missing key 'name'"),
        (5, "parts item 2 (mesh: arm.glb).axis: needs 3 values, not 2"),
        (6, "parts item 3 (name: pump).mesh: must be text, not 5 (write it in quotes)"),
        (6, "parts item 3 (name: pump).units: must be 'm', 'mm', 'cm', 'in' or 'ft', not 'km'"),
        (8, "signals.temp.qos: must be 0, 1 or 2, not 3"),
        (8, "signals.temp.stale_after: must be a number above 0 or 'never', not -1"),
        (9, "signals.state.map: key false must be text (write it in quotes)"),  # YAML reads OFF as false
        (11, "bindings item 1 (rotate: arm).scale: must be a number, not 'fast'"),
    ]


def test_mistyped_keys_and_units_get_a_suggestion(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Typos
        parts: [{name: rig, mesh: rig.glb}]
        signals:
          temp: {topc: rig/t, unit: degc}
          flow: {topic: rig/f, unit: m3/h}
        bindings:
          - {colr: bearing, signal: temp, range: [0, 1]}
        """)
    problems = _problems(path)
    assert (4, "signals.temp: unknown key 'topc' (did you mean 'topic'?)") in problems
    assert (7, "bindings item 1: unknown key 'colr' (did you mean 'color'?)") in problems
    path.write_text(path.read_text().replace("topc", "topic").replace("colr", "colour"))
    assert _problems(path) == [(4, "signal temp: unknown unit 'degc' (did you mean 'degC'?)"),
                               (5, "signal flow: unknown unit 'm3/h' (did you mean 'm³/h'?)")]


def test_a_mesh_that_did_not_load_does_not_cascade_into_unknown_parts(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Cascade
        parts:
          - {name: rig, mesh: rig.glb}
          - {name: pump, mesh: pump.glb}
          - {name: impeller, axis: [1, 0, 0]}
        bindings:
          - {spin: impeller, signal: speed}
          - {colour: casing, signal: speed, range: [0, 1]}
          - {colour: bearing, signal: speed, range: [0, 1]}
        signals:
          speed: {topic: pump/speed}
        """)
    assert _problems(path) == [
        (4, "mesh file not found: pump.glb"),
        (4, "1 joint entry and 2 bindings name parts that could not be checked: pump.glb did not load"),
    ]


def test_unknown_parts_are_reported_when_every_mesh_loaded(rig_twin):
    path = _write(rig_twin.parent, """\
        twin: Unknown
        parts:
          - {name: rig, mesh: rig.glb}
          - {name: impeller, axis: [1, 0, 0]}
        bindings:
          - {colour: bearng, signal: speed, range: [0, 1]}
        signals:
          speed: {topic: pump/speed}
        """)
    assert _problems(path) == [
        (4, "unknown part 'impeller': not a node of a mesh loaded above"),
        (6, "unknown part 'bearng' (did you mean 'bearing'?)"),
    ]


# -- TLS files are tried when the twin loads -------------------------------------------


@pytest.mark.parametrize("tls, line, message", [
    ("{ca: ca.pem}", None, None),
    ("{ca: ca.pem, cert: client.pem, key: client.key}", None, None),
    ("{ca: junk.pem}", 4, "broker.tls.ca: junk.pem is not a PEM certificate: no certificate or crl found"),
    ("{ca: client.key}", 4, "broker.tls.ca: client.key is not a PEM certificate: no certificate or crl found"),
    ("{cert: client.key, key: client.key}", 4,
     "broker.tls.cert: client.key is not a PEM certificate: no certificate or crl found"),
    ("{cert: client.pem}", 4, "broker.tls.cert: client.pem holds no private key: give tls.key too"),
    ("{cert: client.pem, key: server.key}", 4,
     "broker.tls.key: server.key is not the key of the certificate in tls.cert"),
    ("{cert: client.pem, key: junk.pem}", 4, "broker.tls.key: junk.pem is not a PEM private key"),
    ("{ca: nowhere.pem}", 4, "broker.tls.ca: file not found: nowhere.pem"),
])
def test_tls_files_that_cannot_be_used_are_problems_of_the_twin_file(rig_twin, pki, tls, line, message):  # noqa: F811
    folder = rig_twin.parent
    for name in ("ca", "client_cert", "client_key", "key"):  # pki wrote them beside the twin
        assert (folder / pki[name].rsplit("/", 1)[1]).is_file()
    (folder / "junk.pem").write_text("not a certificate\n")
    path = _write(folder, f"""\
        twin: TLS
        broker:
          url: mqtts://localhost:8883
          tls: {tls}
        parts: [{{name: rig, mesh: rig.glb}}]
        """)
    if message is None:
        assert load_twin(path).broker.tls.ca.endswith("ca.pem")
    else:
        assert _problems(path) == [(line, message)]


def test_the_mqtt_source_refuses_a_tls_file_that_changed_after_the_twin_loaded(rig_twin, pki):  # noqa: F811
    from viewer.live.mqtt import MqttSource, SourceError

    path = _write(rig_twin.parent, """\
        twin: TLS
        broker: {url: "mqtts://localhost:8883", tls: {ca: ca.pem}}
        parts: [{name: rig, mesh: rig.glb}]
        """)
    twin = load_twin(path)
    (rig_twin.parent / "ca.pem").write_text("not a certificate any more\n")
    with pytest.raises(SourceError, match=r"TLS ca .*ca\.pem is not a PEM certificate"):
        MqttSource(twin.broker_url, ["t"], twin.broker)
