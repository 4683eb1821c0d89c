"""Glyphs for the labels: which font draws a character, and an atlas texture that
draws each character once (see :mod:`overlays.labels` for the labels themselves).

A character is drawn in DejaVu Sans or, for what DejaVu Sans lacks (CJK, for one), in a
system font that has it; a character no installed font has is drawn as an empty box.
"""

from __future__ import annotations

import functools
import unicodedata
from pathlib import Path

import matplotlib
import numpy as np
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageDraw, ImageFont
from vtkmodules.util.numpy_support import numpy_to_vtk

from overlays import vtk_classes as vtk
from overlays.palette import SEVERITY_RGB

_CHARSET = "".join(chr(c) for c in range(32, 127)) + "°²³µ·±—…ΩΔ×÷≤≥←→"  # drawn up front
_FONT = Path(matplotlib.get_data_path()) / "fonts" / "ttf" / "DejaVuSans.ttf"
_TEXT_RGB = (255, 255, 255)
BOX_RGBA = (31, 36, 46, 220)  # a label's box (and a legend's panel)
_ATLAS_WIDTH = 1024  # pixels; the atlas grows by rows this wide
_NOT_DRAWN = -2  # in the cell table: a character no text needed yet
_LEADER_RGB = (225, 230, 240)  # a pushed label's leader line, with dark edges (reads on light parts too)
DOT_PX = 7  # the dot that ends a leader on the anchor


@functools.cache
def font_for(char: str) -> Path | None:
    """The font file that draws a character.

    Parameters
    ----------
    char : str
        One character.

    Returns
    -------
    Path or None
        DejaVu Sans if it has the character, else the first system font that has it
        (regular sans faces first), None if no installed font has it or it is a control
        character or a line break (no place on a one-line label).
    """
    if unicodedata.category(char) in ("Cc", "Zl", "Zp"):
        return None
    if ord(char) in charmap(str(_FONT)):
        return _FONT  # without asking for the system's fonts: listing them costs 0.2 s
    for path in _system_fonts():
        if ord(char) in charmap(path):
            return Path(path)
    return None


@functools.cache
def _system_fonts() -> tuple[str, ...]:
    """Installed font files, plain faces first: a fallback glyph should look like DejaVu Sans."""
    from matplotlib import font_manager  # here: importing it loads (or first builds) its font list

    def plainness(path):
        name = Path(path).stem.lower()
        return sum(w in name for w in ("bold", "italic", "oblique", "light", "mono", "serif", "condensed")), path

    return tuple(sorted(font_manager.findSystemFonts(), key=plainness))


@functools.cache
def _pil_font(path: str, size: int) -> ImageFont.FreeTypeFont:
    # One glyph at a time: nothing to shape, so no need for raqm (which fails on some).
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


@functools.cache
def charmap(path: str) -> frozenset[int]:
    """Code points a font file has glyphs for (from its cmap; none if FreeType cannot read it)."""
    try:
        return frozenset(FT2Font(path).get_charmap())
    except (OSError, RuntimeError):
        return frozenset()


class GlyphAtlas:
    """Glyphs drawn into one RGBA image as texts need them, each once, in rows of cells.

    A cell is a character's advance plus a pixel each side, one line high, its alpha the
    glyph's coverage. Cells never move: characters not seen before go after the last cell,
    and on a new row below when the row is full, which changes only the image height (what
    texture coordinates are relative to). Cell 0 is a block of the label box colour, used
    for the backgrounds; :attr:`marks` holds the cells of borders, leaders and dots.

    Parameters
    ----------
    size : int
        Text size in pixels.
    """

    def __init__(self, size: int):
        self.size = size
        self.ascent, descent = _pil_font(str(_FONT), size).getmetrics()
        self.height = self.ascent + descent
        self.image = np.zeros((0, _ATLAS_WIDTH, 4), dtype=np.uint8)
        self._x = 0  # where the next cell of the last row starts
        self._data = vtk.vtkImageData()
        box_left, box_top = self._allocate(6)
        self.image[box_top:box_top + self.height, box_left:box_left + 6] = BOX_RGBA
        self.box = 0
        self.left, self.top, self.span = np.array([box_left]), np.array([box_top]), np.array([6])
        self.advance = np.array([0.0])
        self._cell_of = np.full(1, _NOT_DRAWN, dtype=np.int32)  # by code point
        self._cell_of[0] = -1  # NUL pads texts to a common length
        #: ``(kind, severity) -> (left, top, width)`` of the cells of the "border" (solid),
        #: "leader" (a strip across the line: dark, light, dark) and "dot" of each severity
        #: (0: none, the neutral look).
        self.marks = {}
        for severity in (0, *SEVERITY_RGB):
            rgb = tuple(int(c) for c in SEVERITY_RGB[severity]) if severity else _LEADER_RGB
            left, top = self._allocate(3)
            self.image[top:top + self.height, left:left + 3] = BOX_RGBA
            self.image[top:top + self.height, left + 1] = (*rgb, 255)
            self.marks["leader", severity] = (left, top, 3)
            self.marks["border", severity] = (left + 1, top, 1)
            left, top = self._allocate(DOT_PX)
            yy, xx = np.mgrid[:DOT_PX, :DOT_PX] - (DOT_PX - 1) / 2
            r = np.hypot(yy, xx)
            dot = np.zeros((DOT_PX, DOT_PX, 4), np.uint8)
            dot[r <= DOT_PX / 2] = BOX_RGBA[:3] + (255,)
            dot[r <= DOT_PX / 2 - 1.5] = (*rgb, 255)
            self.image[top:top + DOT_PX, left:left + DOT_PX] = dot
            self.marks["dot", severity] = (left, top, DOT_PX)
        self._draw(_CHARSET)

    def texture(self) -> vtk.vtkTexture:
        """The atlas as a VTK texture, updated as glyphs are added (nearest sampling keeps
        text crisp)."""
        texture = vtk.vtkTexture()
        texture.SetInputData(self._data)
        texture.InterpolateOff()
        return texture

    def cells_of(self, codes: np.ndarray) -> np.ndarray:
        """Atlas cells of an array of code points, -1 for NUL (padding); characters not
        drawn yet are drawn first, all in one go."""
        self._cover(int(codes.max(initial=0)))
        cells = self._cell_of[codes]
        new = cells == _NOT_DRAWN
        if new.any():
            self._draw("".join(map(chr, np.unique(codes[new]).tolist())))
            cells = self._cell_of[codes]
        return cells

    def _draw(self, chars: str) -> None:
        """Draw ``chars`` into new cells, in the font that has each, and update the texture."""
        cells = []  # left, top, span, advance of each
        for char in chars:
            path = font_for(char)
            font = _pil_font(str(path), self.size) if path else None
            advance = font.getlength(char) if font else round(0.6 * self.size)
            span = int(np.ceil(advance)) + 2
            left, top = self._allocate(span)
            glyph = Image.new("L", (span, self.height))
            if font:
                ImageDraw.Draw(glyph).text((1, self.ascent), char, font=font, fill=255, anchor="ls")
            else:  # no installed font has it: an empty box says so, a "?" would say nothing
                box_top = self.ascent - round(0.7 * self.size)
                ImageDraw.Draw(glyph).rectangle([2, box_top, span - 3, self.ascent - 1], outline=255)
            self.image[top:top + self.height, left:left + span, 3] = np.asarray(glyph)
            cells.append((left, top, span, advance))
        codes = [ord(c) for c in chars]
        self._cover(max(codes))
        self._cell_of[codes] = np.arange(len(self.left), len(self.left) + len(chars))
        left, top, span, advance = map(np.array, zip(*cells))
        self.left, self.top = np.r_[self.left, left], np.r_[self.top, top]
        self.span, self.advance = np.r_[self.span, span], np.r_[self.advance, advance]
        flipped = np.ascontiguousarray(self.image[::-1]).reshape(-1, 4)  # VTK rows go up
        self._data.SetDimensions(_ATLAS_WIDTH, self.image.shape[0], 1)
        self._data.GetPointData().SetScalars(numpy_to_vtk(flipped, deep=True, array_type=vtk.VTK_UNSIGNED_CHAR))
        self._data.Modified()

    def _allocate(self, width: int) -> tuple[int, int]:
        """Left and top pixel of a new cell: after the last one, or on a new row."""
        if not self.image.shape[0] or self._x + width > _ATLAS_WIDTH:
            row = np.zeros((self.height, _ATLAS_WIDTH, 4), dtype=np.uint8)
            row[..., :3] = _TEXT_RGB  # transparent text colour: a glyph is its alpha
            self.image, self._x = np.concatenate([self.image, row]), 0
        self._x += width
        return self._x - width, self.image.shape[0] - self.height

    def _cover(self, code: int) -> None:
        """Make the cell table long enough to look ``code`` up."""
        if code >= len(self._cell_of):
            more = np.full(code + 1 - len(self._cell_of), _NOT_DRAWN, dtype=np.int32)
            self._cell_of = np.concatenate([self._cell_of, more])
