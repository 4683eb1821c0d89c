"""The service report as a PDF: :func:`viewer.report.report_html` printed through Qt.

``QTextDocument`` lays the HTML out on A4 pages (every step on its own page) and
``QPdfWriter`` writes them; the screenshots reach the document as image resources, so
the HTML names them and the PDF embeds them once, at their full resolution.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QFile, QIODevice, QMarginsF, QUrl
from PySide6.QtGui import QImage, QPageLayout, QPageSize, QPdfWriter, QTextDocument

from viewer.report import report_html

#: The writer's resolution: the same as the document's layout (CSS pixels), so the
#: document prints at the size it was laid out in, text in points and images in pixels.
RESOLUTION = 96
#: Page margins, in millimetres.
MARGIN_MM = 15.0


def write_report_pdf(walkthrough, path) -> int:
    """Write the service report of ``walkthrough`` to ``path`` as an A4 PDF.

    Needs a ``QGuiApplication`` (for fonts and images).

    Parameters
    ----------
    walkthrough : viewer.walkthrough.Walkthrough
        The run to report.
    path : str or Path
        The PDF file, replaced if it is there.

    Returns
    -------
    int
        Its number of pages: a summary page, then one per step (more if a step overflows).

    Raises
    ------
    OSError
        If the file cannot be written.
    """
    path = Path(path)
    file = QFile(str(path))  # opened here: QPdfWriter on a path fails with only a console warning
    if not file.open(QIODevice.OpenModeFlag.WriteOnly | QIODevice.OpenModeFlag.Truncate):
        raise OSError(f"cannot write {path}: {file.errorString()}")
    writer = QPdfWriter(file)
    writer.setResolution(RESOLUTION)
    writer.setTitle(f"Service report: {walkthrough.procedure.title} on {walkthrough.asset}")
    writer.setCreator("TwinView")
    writer.setPageLayout(QPageLayout(QPageSize(QPageSize.PageSizeId.A4), QPageLayout.Orientation.Portrait,
                                     QMarginsF(MARGIN_MM, MARGIN_MM, MARGIN_MM, MARGIN_MM),
                                     QPageLayout.Unit.Millimeter))

    document = QTextDocument()
    for i, record in enumerate(walkthrough.records):
        if record.screenshot is not None:
            image = QImage.fromData(record.screenshot, "PNG")
            if not image.isNull():  # an unreadable screenshot leaves an empty frame, not a failed report
                document.addResource(QTextDocument.ResourceType.ImageResource, QUrl(f"step-{i + 1}.png"), image)
    document.setHtml(report_html(walkthrough, images="resources"))
    # Laid out on the writer's printable area: the document's pages are the PDF's.
    document.setPageSize(writer.pageLayout().paintRectPixels(RESOLUTION).size().toSizeF())
    document.print_(writer)
    del writer  # the PDF's end is written when its writer goes, before the file closes
    file.close()
    if file.error() != QFile.FileError.NoError:
        raise OSError(f"cannot write {path}: {file.errorString()}")
    return document.pageCount()
