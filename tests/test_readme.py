"""The README's twin file examples stay true to the schema."""

import re
from pathlib import Path

import pytest
import yaml

from viewer.samples import SAMPLES
from viewer.twin.loader import load_twin
from viewer.twin.procedure import load_procedures
from viewer.twin.scenario import ScenarioSpec
from viewer.twin.yaml_lines import Lines
from viewer.twin.schema import BindingSpec, BrokerSpec, MarkerSpec, SignalSpec, SimulatedTopic, TwinSpec

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: ",".join(b))
def test_every_yaml_example_in_the_readme_is_valid(block):
    if "twin" in block:
        TwinSpec.model_validate(block)
        return
    if "scenario" in block:
        ScenarioSpec.model_validate(block)
        return
    if "procedure" in block:  # written as if beside the demo pump's procedure: its names and pictures
        pump = load_twin(SAMPLES["pump"])
        at = SAMPLES["pump"].parent / "procedures" / "readme.yaml"
        procedures, problems = load_procedures([block], at, Lines(), set(pump.assembly.parts), pump.signals)
        assert problems == [] and len(procedures) == 1
        return
    parts = {"broker": BrokerSpec.model_validate, "markers": lambda v: [MarkerSpec.model_validate(m) for m in v], "signals": lambda v: [SignalSpec.model_validate(s) for s in v.values()],
             "bindings": lambda v: [BindingSpec.model_validate(b) for b in v],
             "simulate": lambda v: [SimulatedTopic.model_validate(s) for s in v]}
    for key, value in block.items():
        parts[key](value)


def test_the_readmes_mosquitto_pub_line_reaches_the_example_twin(rig_twin, mosquitto):
    """The documented way to try a twin by hand: the README's command, run as written
    (but for the port), arrives in the README's example twin (the test rig)."""
    import json
    import shlex
    import subprocess
    import sys

    [line] = [line for block in re.findall(r"```bash\n(.*?)```", README, re.S)
              for line in block.splitlines() if line.startswith("mosquitto_pub")]
    command = shlex.split(line.replace("-p 1883", f"-p {mosquitto.rsplit(':', 1)[1]}"))
    watch = subprocess.Popen([sys.executable, "-m", "viewer.cli", "watch", str(rig_twin), "--broker", mosquitto,
                              "--json", "--seconds", "4"], stdout=subprocess.PIPE, text=True)
    with watch:
        while "live" not in json.loads(watch.stdout.readline()).get("connection", ""):
            pass
        subprocess.run(command, check=True)
        updates = [json.loads(l) for l in watch.stdout if '"value"' in l]
    assert [(u["signal"], u["value"]) for u in updates] == [("temp", 87.5)]
