"""The colour legends of a twin's scene: one per distinct colour map, range and unit."""

from __future__ import annotations

from overlays.colormap import ColourRule
from overlays.legend import LegendLayer
from overlays.legend_panel import LegendSpec, humanise, legend_title, marker_tags
from viewer.twin.units import pretty_unit

MAX_LEGENDS = 6  # more colour bars than this hide the machine
MAX_CARETS = 16  # a legend over more values shows none: that many carets are a smear, not a reading


def twin_legends(plotter, twin, bound: list, index: dict) -> tuple[LegendLayer | None, list[list]]:
    """One colour legend per distinct map, range and unit of the colour and field
    bindings ``bound`` (``(binding, rule)`` pairs; ``index``: binding id -> its index in
    the twin, for unit conversions): titled with its bindings' display name, its signals'
    limits marked on the bar, a caret per signal (none over more than :data:`MAX_CARETS`).

    Returns
    -------
    (LegendLayer or None, list)
        The legends drawn, and per legend the ``(signal, (scale, offset))`` its carets
        show, in the legend's unit.
    """
    groups: dict[tuple, list] = {}
    for b, _ in bound:
        groups.setdefault((b.cmap, b.range, b.unit or twin.signals[b.signals[0]].unit), []).append(b)
    limits = {a.id: a.limits for a in twin.alarms}
    specs, carets_of = [], []
    for (cmap, (low, high), unit), bindings in list(groups.items())[:MAX_LEGENDS]:
        # signal -> (scale, offset) into the legend's unit, in binding order; a caret for each
        # colour binding's (a field's sensors have their markers and labels instead)
        signals = {b.signal: twin.conversions.get((index[id(b)], b.signal), (1.0, 0.0))
                   for b in bindings if b.kind == "colour"}
        names = [b.title or twin.signals[b.signals[0]].spec.description or humanise(b.signals[0]) for b in bindings]
        marks = {(twin.converted(index[id(b)], n, v), 3 if key.startswith("alarm") else 2)
                 for b in bindings for n in b.signals  # a colour binding's own limits replace its signal's
                 for key, v in limits.get(f"{n}@{b.part}" if b.limits else n, {}).items()}
        carets = len(signals) <= MAX_CARETS
        specs.append(LegendSpec(ColourRule(cmap, low, high), legend_title([n for b in bindings for n in b.signals], names),
                                pretty_unit(unit), sorted(marks), marker_tags(list(signals)) if carets else []))
        carets_of.append(list(signals.items()) if carets else [])
    return (LegendLayer(plotter.renderer, specs) if specs else None), carets_of
