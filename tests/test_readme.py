"""The README's twin file examples stay true to the schema."""

import re
from pathlib import Path

import pytest
import yaml

from viewer.twin.schema import BindingSpec, BrokerSpec, SignalSpec, SimulatedTopic, TwinSpec

README = (Path(__file__).resolve().parent.parent / "README.md").read_text()
BLOCKS = [yaml.safe_load(b) for b in re.findall(r"```yaml\n(.*?)```", README, re.S)]


@pytest.mark.parametrize("block", BLOCKS, ids=lambda b: ",".join(b))
def test_every_yaml_example_in_the_readme_is_valid(block):
    if "twin" in block:
        TwinSpec.model_validate(block)
        return
    parts = {"broker": BrokerSpec.model_validate, "signals": lambda v: [SignalSpec.model_validate(s) for s in v.values()],
             "bindings": lambda v: [BindingSpec.model_validate(b) for b in v],
             "simulate": lambda v: [SimulatedTopic.model_validate(s) for s in v]}
    for key, value in block.items():
        parts[key](value)
