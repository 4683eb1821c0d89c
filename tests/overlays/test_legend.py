"""Colour legends on rendered frames: inside the view, readable titles, round ticks,
limit marks and value carets where the range puts them."""

import shutil
from pathlib import Path

import numpy as np
import pytest
import pyvista as pv

from overlays.colormap import ColourRule
from overlays.legend_panel import _elide, humanise, legend_title, marker_tags, nice_ticks, text_width, tick_texts
from overlays.palette import SEVERITY_RGB
from tests.conftest import make_test_machine
from tests.pixels import colour_at, near
from viewer.legends import MAX_CARETS
from viewer.scene import LABEL_PERIOD_S, Scene
from viewer.twin.loader import load_twin

PUMP = "resources/machines/pump"
RIG_TWIN = """\
twin: Legend rig
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/bearing, field: temperature, unit: degC, limits: {warn_high: 80, alarm_high: 90}}
  flow_rate: {topic: rig/flow, unit: m**3/h}
  angle: {topic: rig/arm/angle, unit: deg}
bindings:
  - {colour: bearing, signal: temp, cmap: viridis, range: [20, 100], title: Drive-end bearing}
  - {colour: tip, signal: flow_rate, cmap: viridis, range: [0, 1]}
  - {rotate: arm, signal: angle}
"""


def _frame(plotter) -> np.ndarray:
    plotter.render()
    return plotter.screenshot(return_img=True)[..., :3].astype(int)


@pytest.fixture
def rig(tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "rig.twin.yaml").write_text(RIG_TWIN)
    plotter = pv.Plotter(off_screen=True, window_size=(640, 400))
    scene = Scene(plotter, load_twin(tmp_path / "rig.twin.yaml"))
    yield scene
    scene.close()
    plotter.close()


def _pump_without_labels(tmp_path):
    """The demo pump's colour bindings and legends (its labels taken out: they would change
    the frame too)."""
    shutil.copy(f"{PUMP}/pump_skid.glb", tmp_path)
    shutil.copytree(f"{PUMP}/procedures", tmp_path / "procedures", dirs_exist_ok=True)
    lines = Path(PUMP, "pump.twin.yaml").read_text().splitlines()
    (tmp_path / "pump.twin.yaml").write_text("\n".join(l for l in lines if "{label:" not in l) + "\n")
    twin = load_twin(tmp_path / "pump.twin.yaml")
    twin.bindings = [b for b in twin.bindings if b.kind != "label"]  # nor the motor's sensors' labels
    return twin


def _row(plotter, y: float) -> int:
    """Image row of the renderer pixel whose bottom edge is at ``y`` (origin bottom left)."""
    return plotter.window_size[1] - 1 - int(y)


def test_ticks_sit_at_round_numbers_with_the_same_decimals():
    cases = {(20, 110): ["20", "40", "60", "80", "100"], (0, 6): ["0", "2", "4", "6"],
             (0, 1): ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"], (-5, 5): ["−4", "−2", "0", "2", "4"],
             (0, 3000): ["0", "1000", "2000", "3000"], (0.12, 0.2): ["0.12", "0.14", "0.16", "0.18", "0.20"]}
    for (low, high), expected in cases.items():
        assert tick_texts(*nice_ticks(low, high, 6)) == expected, (low, high)
    assert tick_texts(*nice_ticks(0, 6, 7)) == ["0", "1", "2", "3", "4", "5", "6"]


def test_titles_are_names_people_read():
    assert humanise("bearing_de_temp") == "Bearing DE temperature"
    assert legend_title(["bearing_de_temp"], ["drive-end bearing temperature"]) == "Drive-end bearing temperature"
    # two signals on one legend: the words their names share
    assert legend_title(["bearing_de_temp", "bearing_nde_temp"], ["drive-end", "non-drive-end"]) == \
        "Bearing temperature"
    assert legend_title(["a", "b"], ["Bearings", "Bearings"]) == "Bearings"
    assert marker_tags(["bearing_de_temp", "bearing_nde_temp"]) == ["DE", "NDE"]
    assert marker_tags(["temp"]) == [""]


def test_a_legend_is_titled_with_the_bindings_title_and_the_unit_as_written(rig):
    specs = rig.legends.specs
    assert [s.heading for s in specs] == ["Drive-end bearing (°C)", "Flow rate (m³/h)"]
    _frame(rig.plotter)
    panel = rig.legends.panels[0]
    assert panel.title == "Drive-end bearing (°C)"
    assert panel.ticks == ["20", "40", "60", "80", "100"]
    assert rig.legends.panels[1].ticks == ["0.0", "0.2", "0.4", "0.6", "0.8", "1.0"]


def test_limit_marks_and_the_value_caret_are_drawn_where_the_range_puts_them(rig):
    plotter, legends = rig.plotter, rig.legends
    rig.sync({"temp": 40.0}, {"temp"}, dt=LABEL_PERIOD_S)
    image = _frame(plotter)
    x0, y0, x1, y1 = legends.bar_box(0)
    assert x1 - x0 == 220  # pixels at the plain screen's scale, whatever the view's size
    middle = _row(plotter, (y0 + y1) / 2)
    rule = ColourRule("viridis", 20, 100)
    assert near(image[middle, int(x0)], rule.rgb(20), 20) and near(image[middle, int(x1) - 1], rule.rgb(100), 20)

    def at(value):  # where the range puts a value on the drawn bar
        return int(x0 + (value - 20) / 80 * (x1 - x0))

    for value, severity in ((80, 2), (90, 3)):  # warn_high and alarm_high of temp, in °C
        x = at(value)
        assert x == int(legends.x_of(0, value))
        assert near(image[middle, x], SEVERITY_RGB[severity], 40), (value, image[middle, x])
        below = _row(plotter, y0 - 4)  # the triangle under the bar
        assert near(colour_at(image, (below, x), 0), SEVERITY_RGB[severity], 60)
    above = _row(plotter, y1 + 3)  # the caret's tip touches the bar from above
    caret = at(40.0)
    assert near(colour_at(image, (above, caret), 1), (250, 250, 250), 40)
    assert not near(colour_at(image, (above, at(70.0)), 1), (250, 250, 250), 120)

    rig.sync({"temp": 70.0}, {"temp"}, dt=LABEL_PERIOD_S)  # the caret follows the value
    image = _frame(plotter)
    assert near(colour_at(image, (above, at(70.0)), 1), (250, 250, 250), 40)
    assert not near(colour_at(image, (above, caret), 1), (250, 250, 250), 120)


def test_carets_change_only_with_colour_bound_values(rig):
    rig.sync({"temp": 50.0, "angle": None}, {"temp"}, dt=0.0)
    assert rig.legends.values == [[50.0], [None]]  # no flow yet: no caret
    rig.sync({"temp": 60.0, "angle": 10.0}, {"angle"}, dt=0.0)  # temp not changed: not looked at
    assert rig.legends.values == [[50.0], [None]]
    assert not rig.legends.set_values(0, [50.0])  # the same value moves nothing


def test_a_legend_over_more_values_than_carets_can_show_has_none_and_an_elided_title(tmp_path):
    n = MAX_CARETS + 1
    lines = ["twin: many", "parts:", "  - {name: rig, mesh: rig.glb}", "signals:"]
    lines += [f"  s{i}: {{topic: t/{i}}}" for i in range(n)]
    lines += ["bindings:"] + [f"  - {{colour: bearing, signal: s{i}, cmap: viridis, range: [0, 1], "
                              f"title: Bearing {i} of a long line of bearings}}" for i in range(n)]
    make_test_machine(tmp_path)
    (tmp_path / "many.twin.yaml").write_text("\n".join(lines) + "\n")
    plotter = pv.Plotter(off_screen=True, window_size=(800, 600))
    scene = Scene(plotter, load_twin(tmp_path / "many.twin.yaml"))
    try:
        scene.sync({f"s{i}": 0.5 for i in range(n)}, {f"s{i}" for i in range(n)}, dt=0.0)
        _frame(plotter)
        assert scene.legends.specs[0].markers == [] and scene.legends.values == [[]]
        title = scene.legends.panels[0].title
        assert title.startswith("Bearing 0 of a long line of bearings / ") and title.endswith("…")
    finally:
        scene.close()
        plotter.close()


@pytest.mark.parametrize("size", [(640, 400), (1920, 1080)])
def test_legends_stay_inside_the_view_with_their_titles_whole(tmp_path, size):
    plotter = pv.Plotter(off_screen=True, window_size=size)
    scene = Scene(plotter, _pump_without_labels(tmp_path))
    try:
        scene.sync({"bearing_de_temp": 102.0, "bearing_nde_temp": 60.0, "vibration": 7.0},
                   {"bearing_de_temp", "bearing_nde_temp", "vibration"}, dt=0.0)
        on = _frame(plotter)
        scene.legends.set_visible(False)  # the layer toggle
        off = _frame(plotter)
        drawn = np.abs(on - off).sum(axis=2) > 24
        rows, cols = np.nonzero(drawn)
        width, height = size
        assert rows.min() > 2 and cols.min() > 2 and rows.max() < height - 3 and cols.max() < width - 3
        box_area = (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)
        assert box_area <= 0.25 * width * height, box_area / (width * height)
        if width >= 1920:
            assert box_area <= 0.06 * width * height  # the size of the screen's text, not of the view

        legends = scene.legends
        assert not np.isnan(legends.boxes).any()  # both legends shown
        for spec, panel, (x0, _, x1, y1) in zip(legends.specs, legends.panels, legends.boxes):
            if width >= 1920:
                assert panel.title == spec.heading  # room for the whole title
            else:
                assert panel.title == spec.heading or panel.title.endswith(f"… ({spec.unit})")
            left, top, right, bottom = panel.title_box
            region = on[height - int(y1) + top:height - int(y1) + bottom, int(x0):int(x1)]
            bright = np.nonzero((region.min(axis=2) > 150).any(axis=0))[0]
            # the text drawn is as wide as the title shown, none of it cut off by the panel
            assert abs((bright.max() - bright.min() + 1) - text_width(panel.title, 14, bold=True)) <= 3
            assert bright.max() < x1 - x0 - 4
    finally:
        scene.close()
        plotter.close()


def test_legends_grow_with_the_screens_dpi(tmp_path):
    widths = []
    for dpi in (72, 144):
        plotter = pv.Plotter(off_screen=True, window_size=(1920, 1080))
        plotter.ren_win.SetDPI(dpi)
        scene = Scene(plotter, _pump_without_labels(tmp_path))
        try:
            _frame(plotter)
            widths.append(scene.legends.bar_box(0)[2] - scene.legends.bar_box(0)[0])
        finally:
            scene.close()
            plotter.close()
    assert widths == [220, 440]


def test_a_long_title_keeps_the_longest_start_that_fits():
    title = "Bearing temperature of the drive end, non-drive end and thrust bearings of pump P-101"
    for room in (80, 150, 260):
        shown = _elide(title, "°C", 14, room)
        kept = shown[:-len("… (°C)")]
        assert shown.endswith("… (°C)") and title.startswith(kept)
        assert text_width(shown, 14, True) <= room
        longer = title[:len(kept) + 1].rstrip() + "… (°C)"
        assert len(title[:len(kept) + 1].rstrip()) == len(kept) or text_width(longer, 14, True) > room
