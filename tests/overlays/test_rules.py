"""Pure overlay rules: value -> colour, value -> joint matrix, values -> text."""

import numpy as np
import pytest

from overlays import motion
from overlays.colormap import NO_DATA_RGB, ColourRule, known_colormap
from overlays.label_rule import NO_VALUE, LabelRule
from overlays.legend import lookup_table


def test_colour_rule_clamps_to_the_map_ends_and_greys_out_no_data():
    rule = ColourRule("inferno", 20, 100)
    assert tuple(rule.rgb(100)) == tuple(rule.table[-1]) == tuple(rule.rgb(1e9))
    assert tuple(rule.rgb(20)) == tuple(rule.table[0]) == tuple(rule.rgb(-5))
    assert tuple(rule.rgb(None)) == tuple(NO_DATA_RGB) == tuple(rule.rgb(float("nan")))
    assert rule.rgb(100)[0] > 200 and rule.rgb(20).max() < 30  # inferno: black -> pale yellow


def test_colour_rule_lookup_table_matches_the_rule():
    rule = ColourRule("viridis", 0, 1)
    lut = lookup_table(rule)
    assert lut.GetRange() == (0.0, 1.0)
    rgb = [0.0, 0.0, 0.0]
    lut.GetColor(1.0, rgb)
    assert np.allclose(np.array(rgb) * 255, rule.rgb(1.0), atol=1)


def test_known_colormaps():
    assert known_colormap("turbo") and not known_colormap("rainbow-unicorn")


def test_rotate_turns_about_the_pivot():
    m = motion.rotate(9, axis=(0, 0, 1), pivot=(1, 0, 0), scale=10)  # 90 degrees
    assert np.allclose(m @ [1, 0, 0, 1], [1, 0, 0, 1])  # the pivot stays
    assert np.allclose(m @ [2, 0, 0, 1], [1, 1, 0, 1])


def test_translate_moves_along_the_axis():
    m = motion.translate(50, axis=(0, 0, 2), scale=0.001, offset=0.01)
    assert np.allclose(m[:3, 3], [0, 0, 0.06])


def test_spin_integrates_speed_over_time_and_stops_without_data():
    spin = motion.Spin(axis=(1, 0, 0), pivot=(0, 0, 0))
    spin.advance(60, 0.25)  # 60 rpm = 360 deg/s
    assert spin.angle == pytest.approx(90)
    spin.advance(None, 10)
    assert spin.angle == pytest.approx(90)


def test_label_rule_formats_values_and_shows_missing_ones():
    rule = LabelRule("DE {t:.1f} °C, {rpm:.0f} rpm")
    assert rule.names == {"t", "rpm"}
    assert rule.text({"t": 71.234, "rpm": 1480.4}) == "DE 71.2 °C, 1480 rpm"
    assert rule.text({"t": None}) == f"DE {NO_VALUE} °C, {NO_VALUE} rpm"


def test_label_layer_lays_out_each_text_once_and_centres_it(tmp_path):
    import pyvista as pv

    from overlays.labels import LabelLayer

    plotter = pv.Plotter(off_screen=True, window_size=(200, 100))
    layer = LabelLayer(plotter.renderer, 2)
    try:
        layer.set_many([0, 1], np.zeros((2, 3)), ["T 1.0", "T 1000.0 °C ☃"])
        box = layer._offsets[0]
        assert box[:, 0].min() == pytest.approx(-box[:, 0].max(), abs=1)  # centred on the anchor
        wide = layer._offsets[1 + layer.max_chars]
        assert np.ptp(wide[:, 0]) > np.ptp(box[:, 0])  # a longer text gets a longer box
        snowman, question = layer.atlas.cells_of(np.array([ord("☃"), ord("?")]))
        assert snowman != question  # drawn as itself (tests/overlays/test_labels.py looks at it)
    finally:
        layer.close()
        plotter.close()
