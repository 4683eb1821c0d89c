"""LabelLayer on real rendered frames: every character is drawn as itself, in any script."""

import numpy as np
import pytest
import pyvista as pv
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageDraw, ImageFont

from overlays.labels import _PAD_X, LabelLayer, font_for
from tests.pixels import pixel_of

SIZE = 15
WHERE = [(0, 1.5, 0), (0, 0, 0), (0, -1.5, 0)]  # three labels, one above the other


@pytest.fixture
def plotter():
    plotter = pv.Plotter(off_screen=True, window_size=(600, 300))
    plotter.set_background("black")
    plotter.camera.position, plotter.camera.focal_point, plotter.camera.up = (0, 0, 10), (0, 0, 0), (0, 1, 0)
    yield plotter
    plotter.close()


@pytest.fixture
def layer(plotter):
    layer = LabelLayer(plotter.renderer, len(WHERE), font_size=SIZE)
    yield layer
    layer.close()


def _shot(plotter) -> np.ndarray:
    plotter.render()
    return plotter.screenshot(return_img=True)


def _ink(shot: np.ndarray) -> np.ndarray:
    """How much white text covers each pixel of a label drawn alone on black (0 to 1)."""
    grey = shot[..., :3].mean(axis=-1)
    box = np.median(grey[grey > 5])  # the label box is most of what is not background
    return np.clip((grey - box) / (255 - box), 0, 1)


def _reference(text: str) -> np.ndarray:
    """``text`` drawn by PIL on black, each character in the font the labels use for it."""
    fonts = [ImageFont.truetype(str(font_for(c)), SIZE) for c in text]
    image = Image.new("L", (SIZE * (len(text) + 2), 3 * SIZE))
    draw, x = ImageDraw.Draw(image), float(SIZE)
    for char, font in zip(text, fonts):
        draw.text((x, 2 * SIZE), char, font=font, fill=255, anchor="ls")
        x += font.getlength(char)
    return np.asarray(image) / 255


def _similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Correlation of two ink images cropped to their ink, best over shifts of up to 2 pixels
    (where rounding puts a glyph may differ by one)."""
    def crop(ink):
        rows, cols = np.nonzero(ink > 0.25)
        return ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1]

    a, b = crop(a), crop(b)
    shape = np.maximum(a.shape, b.shape) + 4
    pa, pb = np.zeros(shape), np.zeros(shape)
    pa[2:2 + a.shape[0], 2:2 + a.shape[1]] = a
    pb[2:2 + b.shape[0], 2:2 + b.shape[1]] = b
    return max(np.corrcoef(pa.ravel(), np.roll(pb, (dy, dx), axis=(0, 1)).ravel())[0, 1]
               for dy in range(-2, 3) for dx in range(-2, 3))


def _as_question_marks(text: str) -> str:
    return "".join(c if c.isascii() else "?" for c in text)


@pytest.mark.parametrize("text", ["⚠ stale", "Ö", "é", "‰", "温度", "Привет"])
def test_labels_draw_every_character_not_a_question_mark(plotter, layer, text):
    layer.set(1, WHERE[1], text)
    ink = _ink(_shot(plotter))
    drawn, wrong = _similarity(ink, _reference(text)), _similarity(ink, _reference(_as_question_marks(text)))
    assert drawn > 0.9, f"{text!r} does not look like itself ({drawn:.2f})"
    assert wrong < drawn - 0.1, f"{text!r} looks like {_as_question_marks(text)!r} ({wrong:.2f} vs {drawn:.2f})"


def test_characters_dejavu_lacks_come_from_a_system_font_that_has_them():
    dejavu = font_for("a")
    assert font_for("Ö") == font_for("⚠") == dejavu
    cjk = font_for("温")
    assert cjk is not None, "no CJK font installed (scripts/setup.sh installs fonts-droid-fallback)"
    assert cjk != dejavu and ord("温") in FT2Font(str(cjk)).get_charmap()


def test_wide_characters_get_their_own_width_and_the_box_fits_them(plotter, layer):
    layer.set(1, WHERE[1], "温度")
    cols = np.nonzero(_shot(plotter)[..., :3].max(axis=(0, 2)) > 5)[0]
    advance = sum(ImageFont.truetype(str(font_for(c)), SIZE).getlength(c) for c in "温度")
    assert advance >= 1.8 * SIZE  # a CJK ideograph is about a square
    assert abs((cols.max() + 1 - cols.min()) - (advance + 2 * _PAD_X)) <= 1


def test_a_character_no_font_has_is_drawn_as_a_box_not_a_question_mark(plotter, layer):
    unassigned = "\u0378"  # a code point Unicode has not assigned yet
    assert font_for(unassigned) is None
    layer.set(1, WHERE[1], unassigned)
    ink = _ink(_shot(plotter))
    assert ink.max() > 0.9
    assert _similarity(ink, _reference("?")) < 0.6


def test_new_characters_grow_the_atlas_and_leave_other_labels_as_they_were(plotter, layer):
    layer.set_many([0, 1, 2], WHERE, ["Pump 12.5 °C", "Flow 3 m³/h", "abc"])
    before = _shot(plotter)
    above_last = pixel_of(plotter, WHERE[2])[0] - 40  # image rows of the first two labels
    rows = layer.atlas.image.shape[0]
    ideographs = [chr(c) for c in range(0x6C34, 0x6C34 + 240)]  # none drawn yet: new atlas rows
    for start in range(0, len(ideographs), 12):
        layer.set(2, WHERE[2], "".join(ideographs[start:start + 12]))
        shot = _shot(plotter)
        assert np.array_equal(shot[:above_last], before[:above_last])
    assert layer.atlas.image.shape[0] > rows
    assert _similarity(_ink(shot[above_last:]), _reference("".join(ideographs[-12:]))) > 0.9
    layer.set(2, WHERE[2], "abc")
    assert np.array_equal(_shot(plotter), before)
