"""The service report of a walkthrough: what was done, read, measured and noted, step by step.

Plain HTML from one jinja2 template (escaped by default), so it needs no Qt: saved as a
file that stands alone (the screenshots inline), or printed to PDF by
:mod:`viewer.qt.report_pdf`, which hands the screenshots to the document as resources.
The PDF starts every step on a new page, after a first page with the summary.
"""

from __future__ import annotations

import base64
import time
from collections import Counter
from pathlib import Path

from markupsafe import Markup

from viewer.walkthrough import StepState

#: Screenshot width in the report, in pixels: a step and its screenshot fit on one A4 page.
IMAGE_WIDTH = 480
#: How a report carries its screenshots: in the file, or as ``step-<n>.png`` resources.
IMAGE_MODES = ("inline", "resources")
#: Mistake kinds (see ``Walkthrough.mistakes``), singular and plural, for the trainer's summary.
_MISTAKE_WORDS = {"refused": ("refused attempt", "refused attempts"), "skipped": ("step skipped", "steps skipped"),
                  "condition lost": ("condition lost", "conditions lost")}


def report_html(walkthrough, images: str = "inline") -> str:
    """The service report of a walkthrough, as one HTML page.

    Parameters
    ----------
    walkthrough : viewer.walkthrough.Walkthrough
        The run to report, ended or not (a running one reads "in progress").
    images : {"inline", "resources"}
        ``inline``: screenshots are ``data:`` URIs, the file stands alone.
        ``resources``: they are ``step-<n>.png`` (``n`` from 1), for the caller to supply
        (the PDF writer adds them to its ``QTextDocument``).

    Returns
    -------
    str
        The HTML. Every text from the procedure, the technician and the twin is escaped;
        the procedure's Markdown is rendered with raw HTML disabled.

    Raises
    ------
    ValueError
        If ``images`` is not one of :data:`IMAGE_MODES`.
    """
    if images not in IMAGE_MODES:
        raise ValueError(f"images must be one of {', '.join(IMAGE_MODES)}, not {images!r}")
    from jinja2 import Environment

    w = walkthrough
    day = time.localtime(w.started)[:3]
    steps = [_step(i, step, record, day, images) for i, (step, record)
             in enumerate(zip(w.procedure.steps, w.records))]
    states = Counter(s["state"] for s in steps)
    mistakes = w.mistakes()
    events = [{"time": _clock(e.t, day), "step": "" if e.step < 0 else e.step + 1, "kind": e.kind, "text": e.text,
               "mistake": e in mistakes} for e in w.events]
    env = Environment(autoescape=True)
    return env.from_string(_TEMPLATE).render(
        w=w, title=w.procedure.title, description=_markdown(w.procedure.spec.description), steps=steps,
        started=_stamp(w.started), ended=_stamp(w.ended), duration=_duration(w.started, w.ended),
        outcome=w.outcome or "in progress", done=states["done"], skipped=states["skipped"], total=len(steps),
        training=w.training or bool(mistakes), events=events, mistakes=_mistake_summary(mistakes),
        inline=images == "inline", width=IMAGE_WIDTH)


def write_report_html(walkthrough, path) -> Path:
    """Write :func:`report_html` (screenshots inline) to ``path``, UTF-8; return the path."""
    path = Path(path)
    path.write_text(report_html(walkthrough, images="inline"), encoding="utf-8")
    return path


def _step(i: int, step, record, day: tuple, images: str) -> dict:
    """What the template shows of step ``i``."""
    spec = step.spec
    # Current or waiting means not done yet: on paper that is pending.
    state = record.state.value if record.state in (StepState.DONE, StepState.SKIPPED) else "pending"
    measure = None
    if spec.measure is not None:
        m = spec.measure
        measure = {"name": m.name, "unit": m.unit, "value": None if record.measurement is None else f"{record.measurement:g}",
                   "range": "" if m.range is None else f"{m.range[0]:g} – {m.range[1]:g}{f' {m.unit}' if m.unit else ''}"}
    image = None
    if record.screenshot is not None:
        image = (f"data:image/png;base64,{base64.b64encode(record.screenshot).decode('ascii')}"
                 if images == "inline" else f"step-{i + 1}.png")
    return {"number": i + 1, "title": spec.title, "text": _markdown(spec.text), "state": state,
            "finished": _clock(record.finished, day), "duration": _duration(record.started, record.finished),
            "reason": record.reason, "required": _required(spec.condition), "condition": record.condition,
            "readings": [(name, "—" if v is None else f"{v:.4g}", unit, quality)
                       for name, (v, unit, quality) in record.values.items()],
            "measure": measure, "note": spec.note, "note_text": record.note,
            "refused": record.refused, "broken": record.broken, "image": image}


def _required(condition) -> str:
    """A step's condition as the procedure asks for it, in words."""
    if condition is None:
        return ""
    parts = [condition.holds] if condition.holds else []
    parts += [f"no alarm on {part}" for part in condition.no_alarm or ()]
    held = f", held for {condition.for_:g} s" if condition.for_ else ""
    return " and ".join(parts) + held


def _markdown(text: str) -> Markup:
    """Markdown as HTML, raw HTML in it shown as text (a procedure file cannot inject
    markup) and no images (a report fetches nothing); escaped plain text without markdown-it."""
    if not text.strip():
        return Markup("")
    from markdown_it import MarkdownIt  # only when a report is made

    return Markup(MarkdownIt("commonmark", {"html": False}).disable("image").render(text))


def _stamp(t: float | None) -> str:
    """Local date and time of a session-clock time (epoch seconds)."""
    return "—" if t is None else time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t))


def _clock(t: float | None, day: tuple) -> str:
    """Local time of day; with the date when it is not the walkthrough's start day."""
    if t is None:
        return "—"
    local = time.localtime(t)
    return time.strftime("%H:%M:%S" if local[:3] == day else "%Y-%m-%d %H:%M:%S", local)


def _duration(start: float | None, end: float | None) -> str:
    if start is None or end is None:
        return "—"
    s = max(0, round(end - start))
    if s < 60:
        return f"{s} s"
    if s < 3600:
        return f"{s // 60} min {s % 60:02d} s"
    return f"{s // 3600} h {s // 60 % 60:02d} min"


def _mistake_summary(mistakes: list) -> str:
    counts = Counter(e.kind for e in mistakes)
    if not counts:
        return "No mistakes."
    words = [f"{n} {_MISTAKE_WORDS[kind][n != 1]}" for kind, n in counts.items()]
    return f"{len(mistakes)} mistake{'s' if len(mistakes) != 1 else ''}: {', '.join(words)}."


# One template for both variants: the PDF's QTextDocument reads a subset of HTML and CSS
# (tables, colours, font sizes, page-break-before), the browser gets a little more.
_TEMPLATE = """<!doctype html>
<html><head><meta charset="utf-8"><title>Service report: {{ title }} on {{ w.asset }}</title>
<style>
body { font-family: sans-serif; font-size: 10pt; color: #222; }
h1 { font-size: 16pt; margin-bottom: 0; color: #1f3b5a; }
h2 { font-size: 14pt; margin-top: 4px; margin-bottom: 6px; color: #1f3b5a; }
h3 { font-size: 11pt; margin-top: 12px; margin-bottom: 4px; color: #1f3b5a; }
p { margin-top: 2px; margin-bottom: 6px; }
table { border-collapse: collapse; margin-bottom: 8px; }
th, td { border: 1px solid #c8ced6; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background-color: #eef1f5; font-weight: bold; }
.sub { color: #5a6472; font-size: 9pt; margin-top: 0; }
.banner { color: #a11d1d; font-weight: bold; }
.done { color: #1d6b32; font-weight: bold; }
.skipped { color: #a15c00; font-weight: bold; }
.pending { color: #6b7280; font-weight: bold; }
.bad { color: #a11d1d; }
table.sign td { padding-top: 6px; padding-bottom: 24px; }
table.log td { font-size: 9pt; padding: 1px 8px; }
tr.mistake td { background-color: #fbeaea; }
.step { page-break-before: always; }
{% if inline %}body { max-width: 820px; margin: 2em auto; padding: 0 1em; }
.step { border-top: 2px solid #1f3b5a; margin-top: 2.5em; padding-top: 0.5em; }
img { border: 1px solid #c8ced6; max-width: 100%; height: auto; }{% endif %}
</style></head><body>
<p class="sub">SERVICE REPORT</p>
<h1>{{ title }}</h1>
<p class="sub">{{ w.asset }}</p>
{% if w.training %}<p class="banner">TRAINING RUN on {{ w.data }}: not a record of work on the machine.</p>{% endif %}
{{ description }}
<table class="facts" width="100%">
<tr><th width="14%">Asset</th><td width="36%">{{ w.asset }}</td><th width="14%">Technician</th><td>{{ w.technician }}</td></tr>
<tr><th>Procedure</th><td>{{ title }}</td><th>Data</th><td>{{ w.data }}</td></tr>
<tr><th>Started</th><td>{{ started }}</td><th>Training</th><td>{{ "yes" if w.training else "no" }}</td></tr>
<tr><th>Ended</th><td>{{ ended }}</td><th>Duration</th><td>{{ duration }}</td></tr>
<tr><th>Outcome</th><td><span class="{{ 'done' if outcome == 'completed' else 'bad' }}">{{ outcome }}</span>
{%- if outcome == "abandoned" and w.abandon_reason %}: {{ w.abandon_reason }}{% endif %}</td>
<th>Progress</th><td>{{ done }} of {{ total }} steps done, {{ skipped }} skipped</td></tr>
</table>
<h3>Steps</h3>
<table width="100%"><tr><th>#</th><th>Step</th><th>State</th><th>Time</th><th>Result</th></tr>
{% for s in steps %}<tr><td>{{ s.number }}</td><td>{{ s.title }}</td><td class="{{ s.state }}">{{ s.state }}</td>
<td>{{ s.finished }}</td><td>{% if s.measure and s.measure.value %}{{ s.measure.name }} {{ s.measure.value }} {{ s.measure.unit }}
{%- elif s.reason %}{{ s.reason }}{% endif %}</td></tr>
{% endfor %}</table>
<h3>Sign-off</h3>
<table class="sign" width="100%"><tr><th width="25%">Technician</th><th width="25%">Signature and date</th>
<th width="25%">Accepted by</th><th>Signature and date</th></tr>
<tr><td>{{ w.technician }}</td><td></td><td></td><td></td></tr></table>
{% if training %}<h3>Training record</h3>
<p>{{ mistakes }}</p>
<table class="log" width="100%"><tr><th>Time</th><th>Step</th><th>Event</th><th>Details</th></tr>
{% for e in events %}<tr{% if e.mistake %} class="mistake"{% endif %}><td>{{ e.time }}</td><td>{{ e.step }}</td>
<td>{{ e.kind }}</td><td>{{ e.text }}</td></tr>
{% endfor %}</table>{% endif %}
{% for s in steps %}<div class="step">
<p class="sub">{{ w.asset }} · {{ title }} · step {{ s.number }} of {{ total }}</p>
<h2>{{ s.number }}. {{ s.title }}</h2>
{{ s.text }}
<table class="facts" width="100%">
<tr><th width="25%">State</th><td><span class="{{ s.state }}">{{ s.state }}</span>{% if s.state != "pending" %} at {{ s.finished }}{% endif %}</td></tr>
<tr><th>Duration</th><td>{{ s.duration }}</td></tr>
{% if s.reason %}<tr><th>Skipped because</th><td>{{ s.reason }}</td></tr>{% endif %}
{% if s.required %}<tr><th>Condition</th><td>{{ s.required }}</td></tr>
<tr><th>As read</th><td>{{ s.condition or "—" }}</td></tr>{% endif %}
{% if s.measure %}<tr><th>{{ s.measure.name }}</th><td>{% if s.measure.value %}<b>{{ s.measure.value }} {{ s.measure.unit }}</b>
{%- else %}not measured{% endif %}{% if s.measure.range %} (accepted {{ s.measure.range }}){% endif %}</td></tr>{% endif %}
{% if s.note %}<tr><th>{{ s.note.prompt }}</th><td>{{ s.note_text or "—" }}</td></tr>{% endif %}
<tr><th>Refused attempts</th><td{% if s.refused %} class="bad"{% endif %}>{{ s.refused }}</td></tr>
<tr><th>Condition lost</th><td{% if s.broken %} class="bad"{% endif %}>{{ s.broken }}</td></tr>
</table>
{% if s.readings %}<h3>Live values</h3>
<table width="100%"><tr><th width="40%">Signal</th><th>Value</th><th>Unit</th><th>Quality</th></tr>
{% for name, value, unit, quality in s.readings %}<tr><td>{{ name }}</td><td align="right">{{ value }}</td><td>{{ unit }}</td>
<td{% if quality != "live" %} class="bad"{% endif %}>{{ quality }}</td></tr>
{% endfor %}</table>{% endif %}
{% if s.image %}<h3>Screenshot</h3>
<p><img src="{{ s.image }}" width="{{ width }}" alt="The twin at step {{ s.number }}"></p>{% endif %}
</div>
{% endfor %}</body></html>
"""
