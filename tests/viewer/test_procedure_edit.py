"""Authoring procedures: edits saved into the file, everything else kept as it was written."""

import shutil
import textwrap
from pathlib import Path

import pytest

from viewer.twin.loader import load_twin
from viewer.twin.problems import TwinError
from viewer.twin.procedure_edit import ProcedureDocument

PUMP = Path(__file__).parents[2] / "resources" / "machines" / "pump"

TWIN = """\
# Test rig: one valve, one gauge.
twin: Test rig
parts:
  - {name: rig, mesh: rig.glb}    # not loaded: the checks run without geometry

signals:
  pressure: {topic: rig/pressure, unit: bar}
  valve: {topic: rig/valve, unit: "%"}

# Service procedures
procedures:
  - seal.yaml   # the only one so far
"""

PROCEDURE = """\
# Seal replacement, after the maintenance manual (section 4.3).
procedure: Seal replacement
description: |
  Replace the seal.
  Tools: spanners, a new seal.

steps:
  # Make it safe first
  - title: Isolate
    text: Close the valve.
    highlight: [valve]   # the hand wheel
    condition: {holds: "pressure < 0.5 and valve < 2", for: 5}

  # Then open it
  - title: Open the casing
    camera: {position: [1, 2, 3], focal_point: [0, 0, 0.5]}
    text: |
      Remove the bolts.
      Keep them with the cover.
  - title: Refit
    note: Serial number of the new seal
"""

CAMERA = {"position": [1.234567, -2.0000001, 0.5], "focal_point": [0.0, 0.1, -0.0], "up": [0.0, 0.0, 1.0]}


@pytest.fixture
def rig(tmp_path):
    """A twin and its procedure file; returns (twin path, procedure path)."""
    twin, procedure = tmp_path / "rig.twin.yaml", tmp_path / "seal.yaml"
    twin.write_text(TWIN)
    procedure.write_text(PROCEDURE)
    return twin, procedure


def test_added_and_moved_steps_load_in_their_new_order(rig):
    twin, procedure = rig
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    assert doc.add_step("Check the seal faces", "Look for cracks.\nWipe them clean.", camera=CAMERA,
                        highlight=["casing"], index=2) == 2
    doc.move_step(0, 3)
    doc.save()

    steps = load_twin(twin, geometry=False).procedures[0].steps
    assert [s.title for s in steps] == ["Open the casing", "Check the seal faces", "Refit", "Isolate"]
    added = steps[1].spec
    assert added.text == "Look for cracks.\nWipe them clean.\n"
    assert added.camera.position == (1.2346, -2.0, 0.5)
    assert added.camera.focal_point == (0.0, 0.1, 0.0)
    assert added.highlight == ["casing"]
    assert steps[3].spec.condition.holds == "pressure < 0.5 and valve < 2"
    text = procedure.read_text()
    assert "    camera: {position: [1.2346, -2, 0.5], focal_point: [0, 0.1, 0], up: [0, 0, 1]}\n" in text
    assert "    text: |\n      Look for cracks.\n      Wipe them clean.\n" in text


def test_a_moved_step_takes_the_comment_above_it(rig):
    twin, procedure = rig
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    doc.move_step(0, 2)
    doc.save()

    text = procedure.read_text()
    assert "  # Make it safe first\n  - title: Isolate\n" in text
    assert text.index("title: Refit") < text.index("# Make it safe first")
    assert [s.title for s in load_twin(twin, geometry=False).procedures[0].steps] == \
        ["Open the casing", "Refit", "Isolate"]


def test_lines_outside_the_edited_step_are_unchanged(rig):
    twin, procedure = rig
    original = procedure.read_text().splitlines(True)
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    doc.set_camera(1, CAMERA)
    doc.set_text(1, "Remove the six bolts.")
    doc.set_title(1, "Open the pump casing")
    doc.save()

    saved = procedure.read_text().splitlines(True)
    start, end = original.index("  - title: Open the casing\n"), original.index("  - title: Refit\n")
    # the header comment, the description, the comments and flow mappings of the other steps
    assert saved[:start] == original[:start]
    assert saved[-(len(original) - end):] == original[end:]
    assert saved[start:len(saved) - (len(original) - end)] == [
        "  - title: Open the pump casing\n",
        "    camera: {position: [1.2346, -2, 0.5], focal_point: [0, 0.1, 0], up: [0, 0, 1]}\n",
        "    text: Remove the six bolts.\n",
    ]


def test_a_step_added_and_one_removed_keep_the_other_lines(rig):
    twin, procedure = rig
    original = procedure.read_text().splitlines(True)
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    doc.remove_step(2)
    doc.add_step("Test run", "Start the pump.")
    doc.save()

    saved = procedure.read_text().splitlines(True)
    start = original.index("  - title: Refit\n")
    assert saved[:start] == original[:start]
    # set off by a blank line, as the step before it is
    assert saved[start:] == ["\n", "  - title: Test run\n", "    text: Start the pump.\n"]


def test_an_inline_procedure_in_the_pump_twin_is_saved_into_it(tmp_path):
    twin = tmp_path / "pump.twin.yaml"
    shutil.copy(PUMP / "pump_skid.glb", tmp_path)
    if (PUMP / "procedures").is_dir():  # the files the twin's other procedures are in
        shutil.copytree(PUMP / "procedures", tmp_path / "procedures")
    inline = textwrap.indent(textwrap.dedent("""\
        # Written in the twin itself: a short check.
        - procedure: Gauge check
          steps:
            - title: Read the gauges
              camera: {fit: [skid], view: front}   # both gauges in view
            - title: Compare them
              text: The two must agree within 0.1 bar.
        """), "  ")
    text = (PUMP / "pump.twin.yaml").read_text()
    if "\nprocedures:\n" in text:  # the inline one first, then the twin's own
        head, rest = text.split("\nprocedures:\n")
        text = f"{head}\nprocedures:\n{inline}{rest}"
    else:
        text += f"\nprocedures:\n{inline}"
    twin.write_text(text)
    original = text.splitlines(True)
    index = [p.title for p in load_twin(twin, geometry=False).procedures].index("Gauge check")
    procedure = load_twin(twin, geometry=False).procedures[index]

    doc = ProcedureDocument.open(procedure.source, procedure.at, twin_path=twin)
    assert doc.title == "Gauge check" and [s["title"] for s in doc.steps] == ["Read the gauges", "Compare them"]
    doc.add_step("Note the readings", camera=CAMERA, index=1)
    doc.move_step(2, 0)
    doc.save()

    saved = twin.read_text().splitlines(True)
    start = original.index("  - procedure: Gauge check\n")
    end = next((i for i in range(start + 1, len(original)) if not original[i].startswith("    ")), len(original))
    assert saved[:start] == original[:start]  # every line before the procedure, flow mappings and all
    assert saved[len(saved) - (len(original) - end):] == original[end:]
    steps = load_twin(twin, geometry=False).procedures[index].steps
    assert [s.title for s in steps] == ["Compare them", "Read the gauges", "Note the readings"]
    assert "      - title: Read the gauges\n        camera: {fit: [skid], view: front}   # both gauges in view\n" \
        in "".join(saved)


def test_create_writes_a_procedure_file_listed_in_the_twin(rig):
    twin, _ = rig
    (twin.parent / "bearing-check.yaml").write_text("# someone else's file\n")
    original = twin.read_text()

    doc = ProcedureDocument.create(twin, "Bearing check")
    assert doc.path == twin.parent / "bearing-check-2.yaml"
    assert (twin.parent / "bearing-check.yaml").read_text() == "# someone else's file\n"
    assert twin.read_text() == original + "  - bearing-check-2.yaml\n"
    assert doc.path.read_text() == "procedure: Bearing check\nsteps:\n  - title: New step\n"
    procedures = load_twin(twin, geometry=False).procedures
    assert [(p.title, [s.title for s in p.steps]) for p in procedures] == \
        [("Seal replacement", ["Isolate", "Open the casing", "Refit"]), ("Bearing check", ["New step"])]

    doc.set_title(0, "Measure the bearing temperature")
    doc.save()
    assert load_twin(twin, geometry=False).procedures[1].steps[0].title == "Measure the bearing temperature"


def test_create_adds_the_procedures_section_when_the_twin_has_none(rig):
    twin, _ = rig
    original = TWIN.split("\n# Service procedures")[0]
    twin.write_text(original + "\n# end of the twin\n")
    expected = original + "\nprocedures:\n  - start.yaml\n\n# end of the twin\n"  # the file's last comment stays last

    doc = ProcedureDocument.create(twin, "Pump: start-up (after service)", file_name="start.yaml")
    assert doc.path.name == "start.yaml"
    assert twin.read_text() == expected
    assert [p.title for p in load_twin(twin, geometry=False).procedures] == ["Pump: start-up (after service)"]
    with pytest.raises(FileExistsError):
        ProcedureDocument.create(twin, "Another", file_name="start.yaml")
    assert twin.read_text() == expected


def test_create_that_would_break_the_twin_changes_nothing(rig):
    twin, _ = rig
    original = twin.read_text()
    with pytest.raises(TwinError, match="two procedures are called 'Seal replacement'"):
        ProcedureDocument.create(twin, "Seal replacement")
    assert twin.read_text() == original
    assert sorted(p.name for p in twin.parent.iterdir()) == ["rig.twin.yaml", "seal.yaml"]


def test_an_invalid_save_is_refused_and_the_file_left_as_it_was(rig):
    twin, procedure = rig
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    doc.steps[0]["condition"]["holds"] = "presure < 0.5"
    with pytest.raises(TwinError, match="presure") as info:
        doc.save()
    assert info.value.problems[0].file == str(procedure)
    for index in (2, 1, 0):
        doc.remove_step(index)
    with pytest.raises(TwinError, match="steps"):
        doc.save()
    assert procedure.read_text() == PROCEDURE
    assert sorted(p.name for p in procedure.parent.iterdir()) == ["rig.twin.yaml", "seal.yaml"]  # no temporary


def test_an_invalid_inline_procedure_is_refused_by_the_twin_checks(rig):
    twin, _ = rig
    inline = TWIN + "  - procedure: Quick look\n    steps:\n      - title: Look\n"
    twin.write_text(inline)
    doc = ProcedureDocument.open(twin, ("procedures", 1))
    doc.set_camera(0, {"position": [1, 2, 3]})  # no focal point
    with pytest.raises(TwinError, match="focal_point"):
        doc.save()
    assert twin.read_text() == inline


def test_titles_the_loader_would_read_as_other_values_are_quoted(rig):
    twin, procedure = rig
    doc = ProcedureDocument.open(procedure, twin_path=twin)
    doc.set_title(0, "No")
    doc.add_step("1.5", "yes")
    doc.save()
    assert [s.title for s in load_twin(twin, geometry=False).procedures[0].steps] == \
        ["No", "Open the casing", "Refit", "1.5"]
    assert "  - title: 'No'\n" in procedure.read_text()


def test_a_procedure_file_without_its_twin_is_checked_by_the_schema(rig):
    _, procedure = rig
    doc = ProcedureDocument.open(procedure)
    doc.set_highlight(2, ["casing", "seal"])
    doc.save()
    assert "    highlight: [casing, seal]\n" in procedure.read_text()
    doc.set_title(2, "")
    with pytest.raises(TwinError, match="title"):
        doc.save()
    assert "  - title: Refit\n" in procedure.read_text()
