"""Collect benchmark figures into ``bench/results.json`` (one object per figure)."""

from __future__ import annotations

import datetime
import json
import os
import platform
from pathlib import Path

PATH = Path(__file__).resolve().parent / "results.json"


def _machine() -> dict:
    return {"platform": platform.platform(), "cpus": os.cpu_count(), "python": platform.python_version()}


def record(name: str, value: float, unit: str, baseline: float | None, target: float | None,
           lower_is_better: bool = True, ratio_target: float | None = None) -> None:
    """Add or replace figure ``name``; ``met`` checks the absolute and the ratio targets given
    (``None``, written as absent, for a figure with no target)."""
    ratio = value / baseline if baseline else None
    met = None if target is None and ratio_target is None else True
    if target is not None:
        met &= value <= target if lower_is_better else value >= target
    if ratio_target is not None and ratio is not None:
        met &= ratio <= ratio_target if lower_is_better else ratio >= ratio_target
    data = json.loads(PATH.read_text()) if PATH.exists() else {"figures": []}
    data["figures"] = [f for f in data["figures"] if f["name"] != name]
    data["figures"].append({
        "name": name, "value": round(value, 4), "unit": unit,
        "baseline": None if baseline is None else round(baseline, 4),
        "ratio": None if ratio is None else round(ratio, 3),
        "target": target if ratio_target is None else {"value": target, "ratio": ratio_target},
        **({} if met is None else {"met": bool(met)}),
    })
    data["machine"] = _machine()
    data["date"] = datetime.date.today().isoformat()
    PATH.write_text(json.dumps(data, indent=2) + "\n")
