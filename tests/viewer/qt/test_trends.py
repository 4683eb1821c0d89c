"""The trend panel redraws a curve only when what it draws would change."""

import time
from types import SimpleNamespace

from tests.conftest import make_test_machine
from viewer.live.updates import Update
from viewer.qt.trends import TrendPanel
from viewer.state import TwinForecasts, TwinState
from viewer.twin.loader import load_twin

TWIN = """\
twin: Trend
broker: mqtt://127.0.0.1:1
parts:
  - {name: rig, mesh: rig.glb}
signals:
  temp: {topic: rig/t, unit: °C, limits: {warn_high: 80}}
"""


def test_a_curve_is_drawn_again_once_its_newest_sample_has_moved_a_pixel(qtbot, tmp_path):
    make_test_machine(tmp_path)
    (tmp_path / "t.twin.yaml").write_text(TWIN)
    twin = load_twin(tmp_path / "t.twin.yaml", geometry=False)
    state = TwinState.for_twin(twin)
    panel = TrendPanel()
    qtbot.addWidget(panel)
    panel.resize(800, 300)
    panel.set_signals(SimpleNamespace(twin=twin, state=state, forecasts=TwinForecasts(twin.alarms), clock=time.time), ["temp"])
    panel.show()
    qtbot.waitExposed(panel)
    now = time.time()
    state.apply([Update("temp", 50.0, now - 60), Update("temp", 51.0, now)])
    panel.refresh(now)
    assert list(panel.values_shown("temp")) == [50.0, 51.0]
    pixel_s = panel.plot_of("temp").getViewBox().viewPixelSize()[0]
    assert 0.5 < pixel_s < 2.0  # 15 minutes across some 700 pixels

    state.apply([Update("temp", 52.0, now + 0.2 * pixel_s)])  # a fifth of a pixel later: nothing to see
    panel.refresh(now + 0.2 * pixel_s)
    assert list(panel.values_shown("temp")) == [50.0, 51.0]
    state.apply([Update("temp", 53.0, now + 1.1 * pixel_s)])  # a pixel on: drawn, with what came between
    panel.refresh(now + 1.1 * pixel_s)
    assert list(panel.values_shown("temp")) == [50.0, 51.0, 52.0, 53.0]
