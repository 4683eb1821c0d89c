"""LabelLayer on real rendered frames: every character is drawn as itself, in any script;\ncrowded labels never overlap, pushed ones have leaders, severities and limits show."""

import numpy as np
import pytest
import pyvista as pv
from matplotlib.ft2font import FT2Font
from PIL import Image, ImageDraw, ImageFont
from scipy import ndimage

from overlays import declutter, palette
from overlays.label_rule import LabelRule, limit_mark
from overlays.badges import BADGE_PX
from overlays.glyphs import BOX_RGBA, font_for
from overlays.labels import _PAD_X, LabelLayer
from tests.pixels import pixel_of
from viewer.scene import Scene
from viewer.twin.loader import load_twin

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
    fonts = [ImageFont.truetype(str(font_for(c)), SIZE, layout_engine=ImageFont.Layout.BASIC) for c in text]
    image = Image.new("L", (SIZE * (len(text) + 2), 3 * SIZE))
    draw, x = ImageDraw.Draw(image), float(SIZE)
    for char, font in zip(text, fonts):
        draw.text((round(x), 2 * SIZE), char, font=font, fill=255, anchor="ls")  # whole pixels, as the atlas
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


# -- decluttering, severity and limit marks -------------------------------------------

CROWD = 12
BOX_RGB = np.array(BOX_RGBA[:3]) * BOX_RGBA[3] / 255  # the box drawn over black


@pytest.fixture
def crowd(plotter):
    """Twelve labels anchored within a few pixels of one point, in a 600 x 300 view."""
    plotter.window_size = (600, 400)
    layer = LabelLayer(plotter.renderer, CROWD, font_size=SIZE)
    texts = [f"P{i:02d} {10.5 * i:.1f} °C" for i in range(CROWD)]
    layer.set_many(range(CROWD), [(0.02 * (i % 3), 0.02 * (i // 3), 0) for i in range(CROWD)], texts)
    yield layer, texts
    layer.close()


def _rows_cols(plotter, box) -> tuple[slice, slice]:
    """Image rows and columns of a layer box (x0, y0, x1, y1 with y up)."""
    height = plotter.window_size[1]
    x0, y0, x1, y1 = np.asarray(box).astype(int)
    return slice(height - y1, height - y0), slice(x0, x1)


def test_crowded_labels_never_overlap_and_each_reads_as_itself(plotter, crowd):
    layer, texts = crowd
    shot = _shot(plotter)
    boxes = layer.boxes
    assert not np.isnan(boxes).any(), "twelve labels fit around one point in a 600 x 400 view"
    overlap = declutter.overlaps(boxes, boxes)
    np.fill_diagonal(overlap, False)
    assert not overlap.any()
    for box, text in zip(boxes, texts):  # on the frame: each box is whole and shows its own text only
        crop = shot[_rows_cols(plotter, box)][..., :3].astype(float)
        box_or_ink = np.abs(crop - BOX_RGB).sum(axis=2) < 12
        ink = _ink(crop)
        assert (box_or_ink | (ink > 0)).all(), f"{text!r}: something else is drawn in its box"
        assert _similarity(ink, _reference(text)) > 0.9, f"{text!r} is covered by another label"


def test_a_pushed_label_has_a_leader_back_to_its_anchor(plotter, crowd):
    layer, _ = crowd
    _shot(plotter)
    choice = layer._choice.copy()
    shot = _shot(plotter)[..., :3].astype(int)
    drawn = shot.sum(axis=2) > 40  # anything but the black background
    pushed = np.flatnonzero(choice > 0)
    assert len(pushed) >= CROWD - 1  # only one label can sit at home above the point
    starts = np.array([pixel_xy(plotter, a) for a in layer.anchors])
    ends = declutter.leader_ends(starts, layer.boxes)
    # Around one crowded point the leaders of labels stacked above must pass under the label
    # at home; those beside and below show whole.
    clear = [i for i in pushed
             if not declutter._crosses(starts[i][None], ends[i][None], np.delete(layer.boxes, i, axis=0)).any()]
    assert len(clear) >= 4
    for i in clear:
        others = np.zeros_like(drawn)
        for j, box in enumerate(layer.boxes):
            if j != i:
                others[_rows_cols(plotter, box)] = True
        # The leader and the anchor's dot, with the other labels' boxes taken out, join the
        # label's box to its anchor's pixel.
        parts, _ = ndimage.label(drawn & ~others)
        own = parts[_rows_cols(plotter, layer.boxes[i])]
        row, col = pixel_of(plotter, layer.anchors[i])
        assert parts[row, col] and parts[row, col] in own, f"label {i}: no leader to its anchor"


def test_leaders_run_clear_of_the_other_labels_when_there_is_room(plotter):
    layer = LabelLayer(plotter.renderer, 5, font_size=SIZE)
    layer.set_many(range(5), [(0, 0, 0)] * 5, [f"Label {i}" for i in range(5)])
    _shot(plotter)
    starts = np.array([pixel_xy(plotter, a) for a in layer.anchors])
    ends = declutter.leader_ends(starts, layer.boxes)
    assert (layer._choice > 0).sum() == 4
    for i in np.flatnonzero(layer._choice > 0):
        assert not declutter._crosses(starts[i][None], ends[i][None], np.delete(layer.boxes, i, axis=0)).any()
    layer.close()


def pixel_xy(plotter, point) -> np.ndarray:
    row, col = pixel_of(plotter, point)
    return np.array([col, plotter.window_size[1] - 1 - row], float)


def test_labels_keep_their_places_when_nothing_moves(plotter, crowd):
    layer, texts = crowd
    _shot(plotter)
    before = layer.boxes.copy()
    layer.set(5, layer.anchors[5], texts[5].replace("5", "6"))  # same width: nothing to move
    _shot(plotter)
    assert np.array_equal(layer.boxes, before)


def test_a_still_frame_uploads_no_label_again_and_a_pan_or_a_new_text_redraws_them(plotter, layer):
    layer.set_many(range(3), WHERE, ["P1 10.0 °C", "P2 20.0 °C", "P3 30.0 °C"])
    _shot(plotter)
    uploaded, before = layer.polydata.GetMTime(), layer.boxes.copy()
    still = _shot(plotter)
    assert layer.polydata.GetMTime() == uploaded  # nothing moved: the quads are not touched
    plotter.camera.position, plotter.camera.focal_point = (1, 0, 10), (1, 0, 0)  # pan right
    panned = _shot(plotter)
    shift = layer.boxes - before
    assert (shift[:, [0, 2]] < -20).all() and np.allclose(shift, shift[0])  # every label moved left with its anchor
    assert not np.array_equal(panned, still)
    layer.set(1, WHERE[1], "P2 21.5 °C")
    crop = _shot(plotter)[_rows_cols(plotter, layer.boxes[1])][..., :3]
    assert _similarity(_ink(crop.astype(float)), _reference("P2 21.5 °C")) > 0.9


def test_labels_keep_clear_of_obstacles(plotter, crowd):
    layer, _ = crowd
    _shot(plotter)
    badge = layer.boxes[0] + (0, 0, 0, 0)  # where the first label sat: a badge comes there
    layer.obstacles = lambda: (badge[None], np.zeros((0, 4)))
    _shot(plotter)
    assert not declutter.overlaps(layer.boxes, badge[None]).any()


def test_a_label_in_alarm_has_a_border_in_the_alarm_colour(plotter, layer):
    layer.set_many([0, 1], WHERE[:2], ["NDE 60.0 °C", "DE 102.0 °C ▲95"])
    layer.set_severity([1], [3])
    _shot(plotter)  # places the boxes
    red = palette.SEVERITY_RGB[3].astype(int)

    def ring(box):  # the pixels just outside a box, on a new frame
        shot = _shot(plotter)[..., :3].astype(int)
        outer = np.zeros(shot.shape[:2], bool)
        outer[_rows_cols(plotter, np.asarray(box) + (-2, -2, 2, 2))] = True
        outer[_rows_cols(plotter, box)] = False
        return shot[outer]

    assert (np.abs(ring(layer.boxes[1]) - red).sum(axis=1) < 30).mean() > 0.9
    assert not (np.abs(ring(layer.boxes[0]) - red).sum(axis=1) < 30).any()  # no severity: no border
    layer.set_severity([1], [0])
    assert not (np.abs(ring(layer.boxes[1]) - red).sum(axis=1) < 30).any()


def test_the_limit_a_value_passed_is_drawn_after_its_unit(plotter, layer):
    text = LabelRule("DE {t:.1f} °C").text({"t": 102.0}, {"t": {"warn_high": 82, "alarm_high": 95}})
    assert text == "DE 102.0 °C ▲95"
    layer.set(1, WHERE[1], text)
    ink = _ink(_shot(plotter))
    drawn = _similarity(ink, _reference(text))
    assert drawn > 0.9
    assert _similarity(ink, _reference("DE 102.0 °C ?95")) < drawn - 0.05  # the ▲ is a ▲
    assert _similarity(ink, _reference("DE 102.0 °C")) < drawn - 0.1


@pytest.mark.parametrize("value, mark", [(60, ""), (82, "▲95"), (90, "▲95"), (102, "▲95"), (0.7, "▼0.5"),
                                         (0.9, "▼0.8"), (None, "")])
def test_the_mark_shows_the_alarm_limit_once_the_value_passes_the_warning_one(value, mark):
    limits = {"warn_high": 82, "alarm_high": 95, "warn_low": 1.0, "alarm_low": 0.5}
    if value == 0.9:
        limits = {"warn_low": 0.8, "warn_high": 82} | {"warn_low": 1.0}  # no alarm_low: the warning one
        mark = "▼1"
    assert limit_mark(value, limits) == mark


def test_marks_follow_each_value_and_its_unit():
    rule = LabelRule("{s:.0f} rpm  {a:.1f} A")
    limits = {"s": {"warn_high": 1520, "alarm_high": 1560}, "a": {"warn_high": 58}}
    assert rule.text({"s": 1580, "a": 60}, limits) == "1580 rpm ▲1560  60.0 A ▲58"
    assert rule.text({"s": 1480, "a": 50}, limits) == "1480 rpm  50.0 A"
    assert LabelRule("{p:.2f}/{q:.2f} bar").text({"p": 0.4, "q": 1}, {"p": {"alarm_low": 0.5}}) == \
        "0.40 ▼0.5/1.00 bar"


def test_on_the_pump_a_label_in_alarm_shows_its_limit_in_red_and_no_label_covers_a_badge():
    plotter = pv.Plotter(off_screen=True, window_size=(640, 400))
    scene = Scene(plotter, load_twin("resources/machines/pump/pump.twin.yaml"))
    try:
        values = {"bearing_de_temp": 102.0, "bearing_nde_temp": 60.0, "vibration": 7.0, "motor_speed": 1480,
                  "motor_current": 52.0, "flow": 200.0, "suction_pressure": 1.2, "discharge_pressure": 7.6,
                  "bearing_de_excess": 38.0}
        scene.sync(values, set(values), dt=1.0, force=True)
        scene.set_alarms({"bearing_de": (3, False, True), "casing": (3, False, True)})
        shot = _shot(plotter)[..., :3].astype(int)
        texts = scene.label_texts()
        assert "DE 102.0 °C ▲95  +38.0 K ▲8" in texts and "7.00 mm/s ▲4.5" in texts and "NDE 60.0 °C" in texts
        layer = scene.label_layer
        de = texts.index("DE 102.0 °C ▲95  +38.0 K ▲8")
        outer = np.zeros(shot.shape[:2], bool)
        outer[_rows_cols(plotter, layer.boxes[de] + (-2, -2, 2, 2))] = True
        outer[_rows_cols(plotter, layer.boxes[de])] = False
        assert (np.abs(shot[outer] - palette.SEVERITY_RGB[3]).sum(axis=1) < 30).mean() > 0.9
        shown = layer.boxes[~np.isnan(layer.boxes).any(axis=1)]
        machine = [i for i, (b, _) in enumerate(scene.labels) if b.at is None]  # not the motor's sensors
        assert not np.isnan(layer.boxes[machine]).any()  # they come first: a sensor's gives way when space is short
        overlap = declutter.overlaps(shown, shown)
        np.fill_diagonal(overlap, False)
        assert not overlap.any()
        half = BADGE_PX / 2  # the badges where this frame drew them
        drawn = np.c_[scene.badges.centres - half, scene.badges.centres + half]
        assert len(drawn) == 2 and not declutter.overlaps(shown, drawn).any()
    finally:
        scene.close()
        plotter.close()


def test_labels_keep_clear_of_the_legends():
    plotter = pv.Plotter(off_screen=True, window_size=(800, 500))
    scene = Scene(plotter, load_twin("resources/machines/pump/pump.twin.yaml"))
    try:
        values = {"bearing_de_temp": 70.0, "vibration": 2.0}
        scene.sync(values, set(values), dt=1.0, force=True)
        _shot(plotter)
        layer, legend = scene.label_layer, scene.legends.boxes[0]
        # Pan the camera so that the first label's anchor lands in the middle of the first legend.
        renderer, anchor = plotter.renderer, layer.anchors[0]
        renderer.SetWorldPoint(*anchor, 1.0)
        renderer.WorldToDisplay()
        depth = renderer.GetDisplayPoint()[2]
        renderer.SetDisplayPoint((legend[0] + legend[2]) / 2, (legend[1] + legend[3]) / 2, depth)
        renderer.DisplayToWorld()
        there = np.array(renderer.GetWorldPoint()[:3]) / renderer.GetWorldPoint()[3]
        camera = plotter.camera
        camera.position = np.add(camera.position, anchor - there)
        camera.focal_point = np.add(camera.focal_point, anchor - there)
        _shot(plotter)
        shown = layer.boxes[~np.isnan(layer.boxes).any(axis=1)]
        legends = scene.legends.boxes[~np.isnan(scene.legends.boxes).any(axis=1)]
        assert len(shown) and len(legends)
        assert not declutter.overlaps(shown, legends).any()
        scene.set_layer_visible("legends", False)  # hidden legends are no obstacle
        _shot(plotter)
        assert declutter.overlaps(layer.boxes[:1], legends).any()
    finally:
        scene.close()
        plotter.close()


def test_a_rate_follows_the_unit_and_what_comes_next_ends_the_label(plotter, layer):
    text = LabelRule("DE {t:.1f} °C").text({"t": 88.0}, {"t": {"warn_high": 85, "alarm_high": 95}},
                                           {"t": (1.8, "alarm in ~4 min")})
    assert text == "DE 88.0 °C ▲95 ↑1.8 °C/min · alarm in ~4 min"
    layer.set(1, WHERE[1], text)
    ink = _ink(_shot(plotter))
    drawn = _similarity(ink, _reference(text))
    assert drawn > 0.9
    assert _similarity(ink, _reference(text.replace("↑", "?").replace("·", "?"))) < drawn - 0.03  # arrow, dot


def test_rates_follow_each_value_falling_ones_too():
    rule = LabelRule("{s:.0f} rpm  {p:.2f} bar")
    trends = {"s": (None, ""), "p": (-0.05, "warning in ~10 min (9–11)")}
    assert rule.text({"s": 1480, "p": 3.5}, None, trends) == "1480 rpm  3.50 bar ↓0.05 bar/min · warning in ~10 min (9–11)"
    assert LabelRule("{p:.1f}").text({"p": 3.5}, None, {"p": (0.25, "")}) == "3.5 ↑0.25/min"
    assert LabelRule("{s:.0f} rpm").text({"s": 1480}, None, {"s": (1234.5, "")}) == "1480 rpm ↑1234 rpm/min"
