"""Write ``bench/RESULTS.md`` from ``bench/results.json`` (run after the benchmarks)."""

from __future__ import annotations

import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
NOTES = "## Notes"


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dict):
        parts = [f"{v:g}" if k == "value" else f"ratio ≤ {v:g}" for k, v in value.items() if v is not None]
        return ", ".join(parts)
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def _met(met: bool | None) -> str:
    return "" if met is None else "yes" if met else "**no**"


def main() -> None:
    data = json.loads((HERE / "results.json").read_text())
    machine = data["machine"]
    lines = [
        "# Benchmark results",
        "",
        f"Latest run: {data['date']} on {machine['platform']}, {machine['cpus']} CPUs, "
        f"Python {machine['python']}, software OpenGL (Mesa llvmpipe).",
        "",
        "Each figure is the median of its run; `ratio` is against the baseline measured in",
        "the same run (see each script's docstring for what the baseline is).",
        "",
        "| figure | value | unit | baseline | ratio | target | met |",
        "|---|---|---|---|---|---|---|",
    ]
    for f in sorted(data["figures"], key=lambda f: f["name"]):
        lines.append(f"| {f['name']} | {_fmt(f['value'])} | {f['unit']} | {_fmt(f['baseline'])} | "
                     f"{_fmt(f['ratio'])} | {_fmt(f['target'])} | {_met(f.get('met'))} |")
    # The notes below the table (why a target is missed, with its breakdown) are written
    # by hand and kept from one run to the next.
    path = HERE / "RESULTS.md"
    old = path.read_text() if path.exists() else ""
    notes = old[old.index(NOTES):] if NOTES in old else ""
    path.write_text("\n".join(lines) + "\n" + ("\n" + notes if notes else ""))


if __name__ == "__main__":
    main()
