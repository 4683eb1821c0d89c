"""A colour legend drawn as an image: its title, bar, round ticks, limit marks and the
caret sprites of its bound values, at an exact pixel size (see :mod:`overlays.legend`
for how the panels are shown).

Panels are drawn with PIL in DejaVu Sans, and for characters it lacks in a system font
that has them, as the labels are; titles and units are written as people write them.
"""

from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass, field
from pathlib import Path

import matplotlib
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from overlays.colormap import ColourRule
from overlays.glyphs import BOX_RGBA, charmap, font_for  # the panels look like the label boxes
from overlays.palette import SEVERITY_RGB


_FONTS = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
_REGULAR, _BOLD = _FONTS / "DejaVuSans.ttf", _FONTS / "DejaVuSans-Bold.ttf"
_TITLE_RGB = (240, 242, 246)
_TICK_RGB = (200, 205, 214)
_FRAME_RGB = (120, 128, 142)  # around the bar: inferno's black end still shows where it starts
_DARK = (16, 19, 26)  # outlines of marks and carets: they read on any map colour
_CARET_RGB = (250, 250, 250)
_BAR_PX = 220  # bar length at scale 1
#: Abbreviations in signal names, written out in titles (the rest is only capitalised).
WORDS = {"temp": "temperature", "vib": "vibration", "pos": "position", "press": "pressure",
         "de": "DE", "nde": "NDE", "rms": "RMS", "rpm": "speed"}


@dataclass
class LegendSpec:
    """What one legend shows.

    Parameters
    ----------
    rule : ColourRule
        The colour map and range.
    title : str
        Display name, without the unit.
    unit : str
        Unit as people write it (``°C``, ``m³/h``), or "".
    limits : list of (float, int)
        Limit values in the legend's unit and their severity (2 warning, 3 alarm).
    markers : list of str
        One entry per bound value shown with a caret: its tag ("" when the legend shows
        one value, which needs none).
    """

    rule: ColourRule
    title: str
    unit: str = ""
    limits: list[tuple[float, int]] = field(default_factory=list)
    markers: list[str] = field(default_factory=lambda: [""])

    @property
    def heading(self) -> str:
        """Title and unit, e.g. ``"Bearing temperature (°C)"``."""
        return f"{self.title} ({self.unit})" if self.unit else self.title


# -- pure rules: names, ticks ----------------------------------------------------------

def humanise(name: str) -> str:
    """A signal name as a title: ``bearing_de_temp`` -> ``"Bearing DE temperature"``."""
    words = [WORDS.get(w.lower(), w) for w in re.split(r"[_\s]+", name) if w]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def legend_title(signals: list[str], names: list[str]) -> str:
    """The title of a legend shared by ``signals``, given each binding's display name.

    One name for all: that name. Otherwise the words the signal names share
    (``bearing_de_temp`` and ``bearing_nde_temp``: "Bearing temperature"), else the
    names joined.
    """
    names = [n[:1].upper() + n[1:] for n in dict.fromkeys(names) if n]
    if len(names) == 1:
        return names[0]
    split = [name.split("_") for name in signals]
    common = [w for w in split[0] if all(w in words for words in split[1:])]
    return humanise("_".join(common)) if common else " / ".join(names or map(humanise, signals))


def marker_tags(signals: list[str]) -> list[str]:
    """A short tag per caret of a legend showing several signals: the words of each
    name the others lack (``bearing_de_temp``, ``bearing_nde_temp``: "DE", "NDE");
    "" for a legend with one signal."""
    if len(signals) < 2:
        return [""] * len(signals)
    split = [name.split("_") for name in signals]
    common = {w for w in split[0] if all(w in words for words in split[1:])}
    return [humanise("_".join(w for w in words if w not in common) or name) for words, name in zip(split, signals)]


def nice_ticks(low: float, high: float, most: int = 6) -> tuple[np.ndarray, float]:
    """At most ``most`` ticks at multiples of a 1-2-5 step inside ``[low, high]``.

    Returns
    -------
    values : numpy.ndarray
        The tick values.
    step : float
        The step between them (what their precision is derived from).
    """
    span = high - low
    step = 10.0 ** math.floor(math.log10(span / max(most, 1)))
    while True:
        for factor in (1, 2, 5):
            first, last = math.ceil(low / (step * factor) - 1e-9), math.floor(high / (step * factor) + 1e-9)
            if last - first + 1 <= most:
                return np.arange(first, last + 1) * step * factor, step * factor
        step *= 10


def tick_texts(values, step: float) -> list[str]:
    """Tick values with the same decimals, the fewest that show ``step`` (0.5: one; 20:
    none), and a real minus sign."""
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    texts = [f"{v:.{decimals}f}" for v in values]
    return [t.replace("-", "−") if any(c in t for c in "123456789") else t.lstrip("-") for t in texts]


# -- drawing ---------------------------------------------------------------------------

@functools.cache
def _font(path: str, size: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(path, size, layout_engine=ImageFont.Layout.BASIC)


def _runs(text: str, base: Path) -> list[tuple[str, Path]]:
    """``text`` in runs of one font each: ``base`` where it has the glyph, else a font that has."""
    runs: list[tuple[str, Path]] = []
    for char in text:
        path = base if ord(char) in charmap(str(base)) else (font_for(char) or base)
        if runs and runs[-1][1] == path:
            runs[-1] = (runs[-1][0] + char, path)
        else:
            runs.append((char, path))
    return runs


def text_width(text: str, size: int, bold: bool = False) -> float:
    """Width in pixels of ``text`` drawn at ``size`` (as :func:`draw_panel` draws it)."""
    base = _BOLD if bold else _REGULAR
    return sum(_font(str(p), size).getlength(run) for run, p in _runs(text, base))


def _draw_text(draw: ImageDraw.ImageDraw, x: float, baseline: float, text: str, size: int, rgb,
               bold: bool = False) -> None:
    base = _BOLD if bold else _REGULAR
    for run, path in _runs(text, base):
        font = _font(str(path), size)
        draw.text((x, baseline), run, font=font, fill=(*rgb, 255), anchor="ls")
        x += font.getlength(run)


def _elide(text: str, unit: str, size: int, room: float) -> str:
    """``text (unit)`` shortened with an ellipsis to fit ``room`` pixels (the unit is kept)."""
    tail = f" ({unit})" if unit else ""
    # Only a prefix of at most ``room`` characters can fit (a glyph is at least a pixel
    # wide): a legend over thousands of signals has a title of tens of thousands.
    text = text if len(text) <= room else text[:int(room) + 1]
    if text_width(text + tail, size, True) <= room:
        return text + tail
    def fits(n: int) -> bool:
        return text_width(text[:n].rstrip() + "…" + tail, size, True) <= room

    low, high = 0, len(text)  # the longest prefix that fits: widths grow with the prefix
    while low < high:
        middle = (low + high + 1) // 2
        low, high = (middle, high) if fits(middle) else (low, middle - 1)
    return text[:low].rstrip() + "…" + tail


def _smooth(size: tuple[int, int], shapes, scale: int = 4) -> Image.Image:
    """Polygons ``[(points, fill, outline, width)]`` drawn ``scale`` times larger and
    scaled down: smooth edges at any size."""
    big = Image.new("RGBA", (size[0] * scale, size[1] * scale), (0, 0, 0, 0))
    draw = ImageDraw.Draw(big)
    for points, fill, outline, width in shapes:
        draw.polygon([(x * scale, y * scale) for x, y in points], fill=fill, outline=outline,
                     width=max(1, round(width * scale)))
    return big.resize(size, Image.LANCZOS)


@dataclass
class Panel:
    """One legend drawn at one size: its image and where things are in it (pixels, rows
    counted from the top)."""

    image: np.ndarray  # (h, w, 4) RGBA
    bar: tuple[int, int, int, int]  # left, top, right, bottom (exclusive)
    title: str  # as shown (elided when too long)
    ticks: list[str]
    title_box: tuple[int, int, int, int] = (0, 0, 0, 0)  # left, top, right, bottom of the title text
    carets: list[np.ndarray] = field(default_factory=list)  # per marker: tag | caret | tag
    spans: list[int] = field(default_factory=list)  # per marker: width of one tag (0: none)
    caret_w: int = 0

    def x_of(self, value: float, rule: ColourRule) -> float:
        """Where ``value`` falls on the bar (clamped to its ends), in the panel's pixels."""
        t = min(max((value - rule.low) / (rule.high - rule.low), 0.0), 1.0)
        return self.bar[0] + t * (self.bar[2] - self.bar[0])


def draw_panel(spec: LegendSpec, scale: float = 1.0, max_width: int | None = None, min_width: int = 0,
               min_left: int = 0) -> Panel:
    """Draw one legend at ``scale`` (1: a 220 pixel bar, 14 pixel title).

    Parameters
    ----------
    spec : LegendSpec
        What the legend shows.
    scale : float
        Size factor (the screen's DPI scale, perhaps shrunk to fit the view).
    max_width : int, optional
        Widest the panel may be, in pixels; a longer title is elided.
    min_width, min_left : int
        Narrowest the panel may be, and the least room left of the bar (panels stacked
        one over another line up).
    """
    def px(v):
        return max(1, round(v * scale))

    title_size, tick_size, tag_size = px(14), px(12), px(11)
    pad, bar_h, tick_len = px(8), px(11), px(4)
    caret_w, caret_h = px(13) | 1, px(9)  # odd: the tip sits on a pixel's centre
    mark_w, mark_h = px(10) | 1, px(7)
    rule = spec.rule
    tags = [t for t in spec.markers if t]
    tag_room = max((text_width(t, tag_size) for t in tags), default=0.0)

    bar_len = px(_BAR_PX)
    title_room = (max_width or 10 ** 6) - 2 * pad
    bar_len = max(px(80), min(bar_len, title_room - 2 * px(6)))
    # Ticks: as many as fit without their texts touching (at least a gap of two digits).
    for most in range(7, 1, -1):
        values, step = nice_ticks(rule.low, rule.high, most)
        texts = tick_texts(values, step)
        widest = max(text_width(t, tick_size) for t in texts)
        if len(values) < 2 or step / (rule.high - rule.low) * bar_len >= widest + px(12):
            break
    side = max(pad, math.ceil(widest / 2) + px(3), min_left)
    right = max(side, math.ceil(caret_w / 2 + px(3) + tag_room) + px(3)) if tags else side
    title = _elide(spec.title, spec.unit, title_size, title_room)
    width = max(side + bar_len + right, math.ceil(text_width(title, title_size, True)) + 2 * pad, min_width)

    title_font, tick_font = _font(str(_BOLD), title_size), _font(str(_REGULAR), tick_size)
    title_asc, title_desc = title_font.getmetrics()
    tick_asc, tick_desc = tick_font.getmetrics()
    top = px(6)
    title_base = top + title_asc
    caret_row = title_base + title_desc + px(3)
    tag_asc, tag_desc = _font(str(_REGULAR), tag_size).getmetrics()
    row_h = max(caret_h, tag_asc + tag_desc if tags else 0)
    bar_top = caret_row + row_h
    bar_bottom = bar_top + bar_h
    tick_base = bar_bottom + max(tick_len, mark_h) + px(2) + tick_asc
    height = tick_base + tick_desc + px(5)

    image = Image.new("RGBA", (width, height), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.rounded_rectangle([0, 0, width - 1, height - 1], radius=px(4), fill=BOX_RGBA)
    _draw_text(draw, pad, title_base, title, title_size, _TITLE_RGB, bold=True)
    x0, x1 = side, side + bar_len
    f = max(1, round(scale))  # frame width
    draw.rectangle([x0 - f, bar_top - f, x1 + f - 1, bar_bottom + f - 1], fill=(*_FRAME_RGB, 255))
    colours = rule.table[np.rint(np.linspace(0, len(rule.table) - 1, bar_len)).astype(int)]
    pixels = np.array(image)
    pixels[bar_top:bar_bottom, x0:x1, :3] = colours[None]
    pixels[bar_top:bar_bottom, x0:x1, 3] = 255
    image = Image.fromarray(pixels)
    draw = ImageDraw.Draw(image)
    panel = Panel(np.zeros(0), (x0, bar_top, x1, bar_bottom), title, texts,
                  (pad, top, pad + math.ceil(text_width(title, title_size, True)), title_base + title_desc))

    line = max(1, round(scale))
    for value, text in zip(values, texts):
        x = round(panel.x_of(value, rule) - line / 2)
        draw.rectangle([x, bar_bottom + f, x + line - 1, bar_bottom + tick_len - 1], fill=(*_TICK_RGB, 255))
        w = text_width(text, tick_size)
        _draw_text(draw, round(panel.x_of(value, rule) - w / 2), tick_base, text, tick_size, _TICK_RGB)

    # Limits: a line across the bar and a triangle under it, in the severity colour with
    # a dark edge (amber reads on inferno's orange only with one).
    shapes = []
    for value, severity in sorted(spec.limits, key=lambda v: v[1]):  # alarms drawn over warnings
        if not rule.low <= value <= rule.high:
            continue  # `twinview check` reports limits the range does not reach
        rgb = tuple(int(c) for c in SEVERITY_RGB[severity])
        x = panel.x_of(value, rule)
        lw = max(2, round(2 * scale))
        left = round(x - lw / 2)
        draw.rectangle([left - 1, bar_top, left + lw, bar_bottom - 1], fill=(*_DARK, 255))
        draw.rectangle([left, bar_top, left + lw - 1, bar_bottom - 1], fill=(*rgb, 255))
        tip = bar_bottom + f - 0.5
        shapes.append(([(x, tip), (x + mark_w / 2, tip + mark_h), (x - mark_w / 2, tip + mark_h)],
                       (*rgb, 255), (*_DARK, 255), 1))
    if shapes:
        image.alpha_composite(_smooth(image.size, shapes))
    panel.image = np.array(image)

    # The caret sprite of each marker: a downward triangle whose tip touches the bar, with
    # its tag on both sides; the layer shows the side that has room (or neither).
    panel.caret_w = caret_w
    for tag in spec.markers:
        span = math.ceil(px(4) + text_width(tag, tag_size)) if tag else 0
        sprite = _caret(span, caret_w, caret_h, row_h).copy()
        if tag:
            draw = ImageDraw.Draw(sprite)
            _draw_text(draw, span + caret_w + px(3), row_h - tag_desc, tag, tag_size, _TITLE_RGB)
            _draw_text(draw, px(1), row_h - tag_desc, tag, tag_size, _TITLE_RGB)
        panel.carets.append(np.array(sprite))
        panel.spans.append(span)
    return panel


@functools.lru_cache(maxsize=64)
def _caret(span: int, caret_w: int, caret_h: int, row_h: int) -> Image.Image:
    """A caret with ``span`` pixels of room each side (drawn once per size: a legend of
    many bound values has many alike)."""
    return _smooth((caret_w + 2 * span, row_h), [([(span + caret_w / 2, row_h), (span + caret_w, row_h - caret_h),
                                                  (span, row_h - caret_h)], (*_CARET_RGB, 255), (*_DARK, 255), 1)])
