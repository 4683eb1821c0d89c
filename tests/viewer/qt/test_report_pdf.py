"""The service report as a PDF: a summary page, then one A4 page per step, read back with pypdf."""

import unicodedata

import pytest
from pypdf import PdfReader
from PySide6.QtCore import QBuffer, QIODevice, Qt
from PySide6.QtGui import QColor, QImage, QPainter

from tests.viewer.test_report import TITLES, run_walkthrough
from viewer.qt.report_pdf import write_report_pdf

A4_POINTS = (595, 842)


def screenshot(width: int, height: int, colour: str) -> bytes:
    """A PNG as the viewer grabs one: a QImage of the twin's size, saved by Qt."""
    image = QImage(width, height, QImage.Format.Format_RGB32)
    image.fill(QColor("#e9edf2"))
    painter = QPainter(image)
    painter.fillRect(width // 4, height // 4, width // 2, height // 2, QColor(colour))
    painter.setPen(Qt.GlobalColor.black)
    painter.drawText(10, 20, "P-101")
    painter.end()
    buffer = QBuffer()
    buffer.open(QIODevice.OpenModeFlag.WriteOnly)
    assert image.save(buffer, "PNG")
    return bytes(buffer.data())


def _text(page) -> str:
    """A page's text with its words separated by single spaces and its ligatures (ﬀ) undone."""
    return " ".join(unicodedata.normalize("NFKC", page.extract_text()).split())


@pytest.fixture
def pdf(qapp, tmp_path):
    # A tall and a wide screenshot: both drawn 480 px wide, each still fits its step's page.
    shots = {0: screenshot(1280, 960, "#c0392b"), 1: screenshot(1600, 700, "#2f6fb0")}
    path = tmp_path / "service.pdf"
    pages = write_report_pdf(run_walkthrough(tmp_path, shots), path)
    return pages, PdfReader(path)


def test_the_pdf_has_a_summary_page_then_one_a4_page_per_step(pdf):
    pages, reader = pdf
    assert pages == len(reader.pages) == 1 + len(TITLES)
    for page in reader.pages:
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == A4_POINTS


def test_the_summary_page_names_the_run_and_its_training_record(pdf):
    text = _text(pdf[1].pages[0])
    for expected in ("Pump skid P-101", "A. Tech", "replay of p101-2025-06-14.mcap", "completed",
                     "3 of 4 steps done, 1 skipped", "Training record", "refused"):
        assert expected in text


def test_each_step_page_shows_its_title_and_what_was_recorded(pdf):
    texts = [_text(page) for page in pdf[1].pages[1:]]
    for title, text in zip(TITLES, texts):
        assert title in text
    assert "discharge_pressure" in texts[0] and "0.21" in texts[0] and "bar" in texts[0]
    assert "suction_pressure" in texts[0] and "1.1" in texts[0]
    assert "0.03 mm" in texts[1] and "0 – 0.05 mm" in texts[1]
    assert "PTW-2291" in texts[2]
    assert "guard left off for the alignment check" in texts[3]


def test_the_screenshots_are_embedded_on_their_steps_pages(pdf):
    sizes = [[(image.image.width, image.image.height) for image in page.images] for page in pdf[1].pages]
    assert sizes == [[], [(1280, 960)], [(1600, 700)], [], []]


def test_a_pdf_that_cannot_be_written_raises_oserror(qapp, tmp_path):
    with pytest.raises(OSError, match="cannot write .*service.pdf"):
        write_report_pdf(run_walkthrough(tmp_path, {}), tmp_path / "missing" / "service.pdf")
