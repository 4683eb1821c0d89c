"""The service report of a walkthrough, as HTML: a real procedure run on the pump twin."""

import base64
import struct
import time
import zlib
from pathlib import Path

import lxml.html
import pytest

from viewer.report import IMAGE_WIDTH, report_html, write_report_html
from viewer.twin.loader import load_twin
from viewer.twin.procedure import load_procedures
from viewer.twin.yaml_lines import Lines
from viewer.walkthrough import StepRefused, Walkthrough

PUMP = Path(__file__).resolve().parents[2] / "resources" / "machines" / "pump" / "pump.twin.yaml"
T0 = 1_750_000_000.0  # 2025-06-15, on the session's clock

PROCEDURE = """\
procedure: Coupling inspection <script>alert('title')</script>
description: Inspect the coupling of P-101. **Lock out** the motor first.
steps:
  - title: Check the pressure is down
    text: The discharge gauge must read **below 0.5 bar**.
    condition: {holds: "discharge_pressure < 0.5", for: 0}
    signals: [suction_pressure]
  - title: Measure the shaft run-out
    text: "Dial gauge on the coupling hub. <script>alert('step')</script>"
    measure: {name: run-out, unit: mm, range: [0, 0.05]}
  - title: Write the permit
    note: "Permit number"
  - title: Refit the coupling guard
"""
TITLES = ["Check the pressure is down", "Measure the shaft run-out", "Write the permit", "Refit the coupling guard"]


def png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    """A real PNG of one colour, written by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    rows = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))  # filter 0 per row
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)  # 8-bit RGB
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b"")


def run_walkthrough(folder: Path, screenshots: dict[int, bytes], training: bool = False) -> Walkthrough:
    """The procedure above, run to the end: step 1 refused once (the pressure still up),
    then done; run-out measured; the permit noted; the last step skipped."""
    twin = load_twin(PUMP, geometry=False)
    path = folder / "coupling.procedure.yaml"
    path.write_text(PROCEDURE)
    procedures, problems = load_procedures([str(path)], PUMP, Lines(), None, twin.signals)
    assert problems == []
    values = {"discharge_pressure": 3.2, "suction_pressure": 1.1}
    qualities = {name: "live" for name in values}
    w = Walkthrough(procedures[0], twin, "A. Tech", now=T0, data="replay of p101-2025-06-14.mcap", training=training)
    w.update(values, qualities, set(), T0 + 5)
    with pytest.raises(StepRefused):
        w.complete()  # the pressure is not down yet
    values["discharge_pressure"] = 0.21
    w.update(values, qualities, set(), T0 + 42)
    w.complete()
    w.update(values, qualities, set(), T0 + 200)
    w.complete(measurement=0.03)
    w.update(values, qualities, set(), T0 + 260)
    w.complete(note="PTW-2291")
    w.update(values, qualities, set(), T0 + 300)
    w.skip("guard left off for the alignment check")
    for i, data in screenshots.items():
        w.records[i].screenshot = data
    w.finish()
    return w


@pytest.fixture
def shots():
    return {0: png(64, 48, (200, 30, 30)), 1: png(40, 30, (30, 90, 200))}


@pytest.fixture
def page(tmp_path, shots):
    return lxml.html.fromstring(report_html(run_walkthrough(tmp_path, shots)))


def _steps(page) -> list:
    return page.xpath("//div[@class='step']")


def _text(element) -> str:
    return " ".join(element.text_content().split())


def _facts(element) -> dict[str, str]:
    """The first label/value table in ``element`` (a pair or two a row): label -> value."""
    table = element.xpath(".//table[@class='facts']")[0]
    return {_text(th): _text(td) for row in table.xpath("tr") for th, td in zip(row.xpath("th"), row.xpath("td"))}


def _stamp(t: float) -> str:
    return time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _clock(t: float) -> str:
    return time.strftime("%H:%M:%S", time.localtime(t))


def test_the_summary_names_asset_procedure_technician_data_times_outcome_and_progress(page):
    facts = _facts(page)
    assert facts["Asset"] == "Pump skid P-101"
    assert facts["Procedure"] == "Coupling inspection <script>alert('title')</script>"
    assert facts["Technician"] == "A. Tech"
    assert facts["Data"] == "replay of p101-2025-06-14.mcap"
    assert facts["Training"] == "no"
    assert (facts["Started"], facts["Ended"]) == (_stamp(T0), _stamp(T0 + 300))
    assert facts["Duration"] == "5 min 00 s"
    assert facts["Outcome"] == "completed"
    assert facts["Progress"] == "3 of 4 steps done, 1 skipped"
    assert "Lock out" in _text(page.xpath("//strong")[0])  # the description's Markdown


def test_every_step_has_a_section_with_its_title_state_time_and_duration(page):
    sections = _steps(page)
    assert [_text(s.xpath("h2")[0]) for s in sections] == [f"{i + 1}. {t}" for i, t in enumerate(TITLES)]
    states = [_facts(s)["State"] for s in sections]
    assert states == [f"done at {_clock(T0 + 42)}", f"done at {_clock(T0 + 200)}", f"done at {_clock(T0 + 260)}",
                      f"skipped at {_clock(T0 + 300)}"]
    assert [_facts(s)["Duration"] for s in sections] == ["42 s", "2 min 38 s", "1 min 00 s", "40 s"]
    assert _facts(sections[3])["Skipped because"] == "guard left off for the alignment check"


def test_the_condition_and_the_live_values_are_recorded_with_units_and_quality(page):
    first = _steps(page)[0]
    facts = _facts(first)
    assert facts["Condition"] == "discharge_pressure < 0.5"
    assert facts["As read"] == "discharge_pressure = 0.21 bar"
    rows = [[_text(td) for td in tr.xpath("td")] for tr in first.xpath(".//table[not(@class)]/tr[td]")]
    assert rows == [["discharge_pressure", "0.21", "bar", "live"], ["suction_pressure", "1.1", "bar", "live"]]
    assert (facts["Refused attempts"], facts["Condition lost"]) == ("1", "0")


def test_the_measurement_shows_with_its_unit_and_accepted_range(page):
    assert _facts(_steps(page)[1])["run-out"] == "0.03 mm (accepted 0 – 0.05 mm)"


def test_the_note_shows_beside_its_prompt(page):
    assert _facts(_steps(page)[2])["Permit number"] == "PTW-2291"


def test_screenshots_are_inline_data_uris_of_the_png_given(page, shots):
    sections = _steps(page)
    for i, section in enumerate(sections):
        sources = section.xpath(".//img/@src")
        if i in shots:
            assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
            assert base64.b64decode(sources[0].split(",", 1)[1]) == shots[i]
            assert section.xpath(".//img/@width") == [str(IMAGE_WIDTH)]
        else:
            assert sources == []


def test_for_the_pdf_screenshots_are_named_resources_and_each_step_starts_a_page(tmp_path, shots):
    html = report_html(run_walkthrough(tmp_path, shots), images="resources")
    page = lxml.html.fromstring(html)
    assert page.xpath("//img/@src") == ["step-1.png", "step-2.png"]
    assert len(_steps(page)) == 4
    assert ".step { page-break-before: always; }" in html
    assert "data:" not in html


def test_html_in_the_procedure_is_shown_as_text_never_run(page):
    assert page.xpath("//script") == []
    assert "<script>alert('step')</script>" in _text(_steps(page)[1])
    assert "<script>alert('title')</script>" in _text(page.xpath("//h1")[0])


def test_a_refused_attempt_and_a_skip_are_in_the_training_record(tmp_path, shots):
    page = lxml.html.fromstring(report_html(run_walkthrough(tmp_path, shots, training=True)))
    heading = page.xpath("//h3[text()='Training record']")
    assert heading, "mistakes were made: the trainer sees them"
    assert "2 mistakes: 1 refused attempt, 1 step skipped." in _text(page)
    rows = [[_text(td) for td in tr.xpath("td")] for tr in page.xpath("//tr[@class='mistake']")]
    assert [r[1:3] for r in rows] == [["1", "refused"], ["4", "skipped"]]
    assert "the condition does not hold" in rows[0][3]


def test_a_clean_live_run_has_no_training_record(tmp_path):
    twin = load_twin(PUMP, geometry=False)
    path = tmp_path / "p.yaml"
    path.write_text("procedure: Look\nsteps:\n  - title: Look at the pump\n")
    procedures, _ = load_procedures([str(path)], PUMP, Lines(), None, twin.signals)
    w = Walkthrough(procedures[0], twin, "B. Tech", now=T0)
    w.complete()
    w.finish()
    page = lxml.html.fromstring(report_html(w))
    assert page.xpath("//h3[text()='Training record']") == []
    assert page.xpath("//*[@class='banner']") == []


def test_a_training_run_is_marked_and_lists_every_event(tmp_path, shots):
    page = lxml.html.fromstring(report_html(run_walkthrough(tmp_path, shots, training=True)))
    assert "TRAINING RUN on replay of p101-2025-06-14.mcap" in _text(page.xpath("//*[@class='banner']")[0])
    kinds = [_text(tr.xpath("td")[2]) for tr in page.xpath("//h3[text()='Training record']/following-sibling::table[1]/tr[td]")]
    assert kinds[0] == "started" and kinds[-1] == "completed"
    assert kinds.count("done") == 3 and "condition met" in kinds


def test_an_abandoned_walkthrough_says_why_and_leaves_its_steps_pending(tmp_path):
    twin = load_twin(PUMP, geometry=False)
    path = tmp_path / "p.yaml"
    path.write_text("procedure: Look\nsteps:\n  - title: One\n  - title: Two\n")
    procedures, _ = load_procedures([str(path)], PUMP, Lines(), None, twin.signals)
    w = Walkthrough(procedures[0], twin, "B. Tech", now=T0)
    w.update({}, {}, set(), T0 + 10)
    w.complete()
    w.abandon("seal kit missing")
    page = lxml.html.fromstring(report_html(w))
    assert _facts(page)["Outcome"] == "abandoned: seal kit missing"
    assert _facts(page)["Progress"] == "1 of 2 steps done, 0 skipped"
    assert _facts(_steps(page)[1])["State"] == "pending"


def test_a_completed_walkthrough_shows_no_abandon_reason_given_after_it_ended(tmp_path):
    w = run_walkthrough(tmp_path, {})
    w.abandon("too late")  # ignored: the walkthrough has ended
    assert _facts(lxml.html.fromstring(report_html(w)))["Outcome"] == "completed"


def test_the_html_file_is_written_utf8_and_stands_alone(tmp_path, shots):
    w = run_walkthrough(tmp_path, shots)
    path = write_report_html(w, tmp_path / "report.html")
    assert path == tmp_path / "report.html"
    assert path.read_text(encoding="utf-8") == report_html(w)


def test_an_unknown_image_mode_is_refused(tmp_path):
    with pytest.raises(ValueError, match="inline, resources"):
        report_html(run_walkthrough(tmp_path, {}), images="files")
