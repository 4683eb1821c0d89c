"""The demo's simulator bar: pause the simulated sensors, change their speed."""

import time

from tests.conftest import wait_until
from viewer.live.simulator import Simulator
from viewer.qt.simulator_bar import SimulatorBar
from viewer.twin.schema import SimulatedTopic


def test_pausing_stops_publishing_and_simulated_time_and_speed_changes_its_pace(qtbot, mosquitto, publisher):
    heard = []
    publisher.client.subscribe("sim/#")
    publisher.client.on_message = lambda client, userdata, message: heard.append(float(message.payload))
    simulator = Simulator(mosquitto, [SimulatedTopic(topic="sim/t", value="t", period=0.1)]).start()
    bar = SimulatorBar([simulator])
    qtbot.addWidget(bar)
    try:
        wait_until(lambda: len(heard) > 3)
        assert bar.play_button.text() == "❚❚ Pause"
        bar.toggle()
        assert simulator.paused and bar.play_button.text() == "▶ Run"
        time.sleep(0.3)
        count, frozen = len(heard), simulator.sim_time
        time.sleep(0.5)
        assert len(heard) == count and simulator.sim_time == frozen  # nothing published, time stands still
        bar.speed.setCurrentIndex(bar.speed.findText("10x"))
        bar.toggle()
        time.sleep(1.0)
        assert 8 < simulator.sim_time - frozen < 12  # ten simulated seconds in one, from where it stopped
        assert heard[-1] > frozen + 5
    finally:
        simulator.stop()
