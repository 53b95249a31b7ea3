"""The picture of a relationship over time: lanes of bars and marks folded from its events, drawn.

`build` is a pure fold over the events that count (`relationship.counted`); `draw` imports
matplotlib only when it is called, so reading the ledger never pays for it.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Iterable
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from msgspec import Struct
from msgspec.structs import replace

from ..events import Edtf, parse_edtf
from ..events.dates import shifted
from .instruments import Instrument
from .meetings import Meeting
from .membership import Interval
from .projects import Project
from .relationship import Entry, Folded, Pair, Things, fold

if TYPE_CHECKING:
    from matplotlib.artist import Artist
    from matplotlib.axes import Axes

SUFFIXES = (".svg", ".png")

Phase = Literal["signed", "in_force", "extension", "renewal", "planned", "running", "series"]
MAX_RENEWALS = 40  # terms drawn one bar each; beyond, one bar for them all
Kind = Literal["instrument", "project", "series"]


class Bar(Struct, frozen=True):
    """A stretch of a lane. `end` None: still running on the as-of day."""

    start: Edtf
    end: Edtf | None
    # signed (not yet in force), in_force, extension, renewal (a term it renewed itself for),
    # planned (a project launched, not yet started), running (a project), series
    phase: Phase


class Mark(Struct, frozen=True):
    """A point on a lane: a meeting held or announced, or the end of a terminated agreement."""

    on: Edtf
    kind: Literal["held", "announced", "terminated"]
    label: str | None = None  # a meeting's number in its series


class Lane(Struct, frozen=True):
    kind: Kind
    key: str  # the instrument, project or series; "" for meetings of no series
    label: str
    exact: bool  # False when the lane is there only by rollup from member agencies
    bars: tuple[Bar, ...] = ()
    marks: tuple[Mark, ...] = ()


class Timeline(Struct, frozen=True):
    relationship: str  # the two parties in the order asked for, e.g. KOR–CHN
    as_of: Edtf
    known_at: str | None
    exact: bool
    lanes: tuple[Lane, ...]
    names: str | None = None  # the two parties' names as of the day, e.g. Republic of Korea – China


def build(
    relationship: str,
    entries: Iterable[Entry],
    as_of: Edtf,
    known_at: str | None,
    exact: bool,
    whole: Things | None = None,
    pair: Pair | None = None,
    names: str | None = None,
) -> Timeline:
    """The relationship's instruments, projects and meeting series as of a day, as known at a time
    (`names`: the two parties' names as of the day, printed under the title).

    With `pair` (and `whole`, see `relationship.fold`), instruments and projects are drawn only
    while both sides of the pair are members: a withdrawal leaves a gap, a rejoining resumes.
    """
    folded = fold(entries, as_of.day, known_at, exact, whole, pair)
    lanes = [_instrument_lane(i, folded, as_of.day) for i in folded.of("instrument")]
    lanes += [_project_lane(p, folded) for p in folded.of("project")]
    series = {
        s.series: Lane(
            "series",
            s.series,
            s.title,
            folded.exact[("series", s.series)],
            (Bar(s.established_on, None, "series"),),
        )
        for s in folded.of("series")
    }
    meetings = sorted(folded.of("meeting"), key=lambda m: _mark(m).on.day)
    for meeting in meetings:
        key = meeting.series or ""
        lane = series.get(key) or Lane("series", key, key or "Other meetings", False)
        meeting_exact = folded.exact[("meeting", meeting.meeting)]
        series[key] = replace(lane, exact=lane.exact or meeting_exact, marks=(*lane.marks, _mark(meeting)))
    # Series as they were established, then those seen only in meetings, then the rest.
    lanes += sorted(series.values(), key=lambda lane: lane.key == "")
    return Timeline(relationship, as_of, known_at, exact, tuple(lanes), names)


def _mark(meeting: Meeting) -> Mark:
    """A meeting held, or announced and not held: its number in the series as the label."""
    number = meeting.number
    label = str(number) if number is not None else None
    if meeting.held:
        return Mark(meeting.held.occurred_on, "held", label)
    assert meeting.announced is not None
    return Mark(meeting.announced.planned_for, "announced", label)


def _instrument_lane(instrument: Instrument, folded: Folded, as_of: date) -> Lane:
    key = ("instrument", instrument.instrument)
    lane = Lane("instrument", instrument.instrument, instrument.title, folded.exact[key])
    ends = [(instrument.expires_on, instrument.signed_on)]
    ends += [(e.expires_on, e.occurred_on) for e in instrument.extensions]
    successor = folded.successor(instrument)
    superseded = successor.effective_from() if successor else None
    ended = instrument.terminated_on or (superseded if superseded and superseded.day <= as_of else None)
    start = instrument.signed_on if instrument.statement else instrument.in_force_from
    drawn = _agreement_lane(lane, instrument.signed_on, start, ends, ended, instrument.terminated)
    bars = _renewals(instrument, list(drawn.bars), as_of)
    if ended and bars != list(drawn.bars):
        bars = _cut(bars, ended)
    return replace(drawn, bars=_within(bars, folded.together.get(key)))


def _renewals(instrument: Instrument, bars: list[Bar], as_of: date) -> list[Bar]:
    """A self-renewing instrument runs on past its expiry, one bar a term up to the current one."""
    terms = instrument.term_index(as_of)
    expiry = instrument.expiry
    if expiry is None or instrument.renewal is None or bars[-1].end is None or as_of <= expiry.day:
        return bars
    if terms is None:  # the running term ends beyond the calendar: it runs on
        return [*bars, Bar(bars[-1].end, None, "renewal")]
    term = instrument.renewal.term
    shown = range(1, terms + 1) if terms <= MAX_RENEWALS else (terms,)
    start = bars[-1].end
    for times in shown:
        end = parse_edtf(shifted(expiry.day, term, times).isoformat())
        bars.append(Bar(start, end, "renewal"))
        start = end
    return bars


def _within(bars: list[Bar], spans: list[Interval] | None) -> tuple[Bar, ...]:
    """The bars where both sides of the pair were members: cut to those stretches of time."""
    if spans is None:
        return tuple(bars)
    kept = []
    for bar in bars:
        for start, end in spans:
            since = bar.start if bar.start.day >= start.day else start
            until = end if bar.end is None or (end is not None and end.day < bar.end.day) else bar.end
            if until is None or since.day < until.day:
                kept.append(replace(bar, start=since, end=until))
    return tuple(kept)


def _project_lane(project: Project, folded: Folded) -> Lane:
    lane = Lane("project", project.project, project.title, folded.exact[("project", project.project)])
    ends = [(project.planned_end, project.launched_on)]
    ends += [(e.expires_on, e.occurred_on) for e in project.extensions]
    start = project.planned_start if project.planned_start else project.launched_on
    drawn = _agreement_lane(
        lane, project.launched_on, start, ends, project.ended_on, project.ending == "terminated"
    )
    return replace(drawn, bars=_within(list(drawn.bars), folded.together.get(("project", project.project))))


def _agreement_lane(
    lane: Lane,
    start: Edtf,
    in_force: Edtf | None,
    ends: list[tuple[Edtf | None, Edtf]],
    ended: Edtf | None,
    terminated: bool,
) -> Lane:
    """Bars from signing (or launch) to the first end, then one bar per extension.

    `in_force` is None while an instrument is not in force (a project's is its start, planned
    or at launch); `ends` holds each end it was given, with the day it was set.
    """
    project = lane.kind == "project"
    bars: list[Bar] = []
    first_end = ends[0][0]
    waiting: Phase = "planned" if project else "signed"
    if in_force is None:
        bars.append(Bar(start, first_end, waiting))
    else:
        if in_force.day > start.day:
            bars.append(Bar(start, in_force, waiting))
        bars.append(Bar(in_force, first_end, "running" if project else "in_force"))
    for new_end, decided_on in ends[1:]:
        previous = bars[-1].end
        if previous is None:  # given an end where it had none: the extension runs from its decision
            bars[-1] = replace(bars[-1], end=decided_on)
        elif new_end is not None and new_end.day <= previous.day:
            bars = _cut(bars, new_end)  # shortened: the agreement now ends earlier
            continue
        bars.append(Bar(previous or decided_on, new_end, "extension"))
    marks: tuple[Mark, ...] = ()
    if ended:
        bars = _cut(bars, ended)
        last_end = bars[-1].end
        if project and last_end and last_end.day < ended.day:  # finished late: an overrun
            bars.append(Bar(last_end, ended, bars[-1].phase))
        if terminated:
            marks = (Mark(ended, "terminated"),)
    return replace(lane, bars=tuple(bars), marks=marks)


def _cut(bars: list[Bar], end: Edtf) -> list[Bar]:
    """The bars as they stand when the whole ends on a day: later ones gone, the running one cut."""
    kept = [bar for bar in bars if bar.start.day < end.day] or bars[:1]
    return [replace(bar, end=end) if bar.end is None or bar.end.day > end.day else bar for bar in kept]


# Drawing. Sizes are in inches; a lane is one row of the chart.
_WIDTH = 13.0
_LANE = 0.26
_MAX_HEIGHT = 300.0  # PNGs stay well inside Agg's 2**16-pixel limit
_LABEL_CHARS = 56
_TALL = 30  # rows beyond which the years are named along the top as well
_COLOURS = {"instrument": "#1f5a99", "project": "#2a8047", "series": "#8a3b8f"}
_TINTS = {"instrument": "#8fb3dc", "project": "#93c9a3"}
_AS_OF = "#c0392b"


def draw(timeline: Timeline, path: Path) -> None:
    """Draw a timeline to an SVG or PNG file, chosen by the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in SUFFIXES:
        raise ValueError(f"{path.name}: a timeline is drawn as SVG or PNG; name the file with .svg or .png")
    import matplotlib
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    rows = _rows(timeline.lanes)
    legend = _legend(timeline)
    legend_rows = -(-len(legend) // 3)
    top, bottom = 0.75 if len(rows) > _TALL else 0.55, 0.6 + 0.24 * legend_rows
    pitch = min(_LANE, (_MAX_HEIGHT - top - bottom) / max(len(rows), 1))
    height = top + bottom + pitch * max(len(rows), 3)
    labels = _labels(rows, _LABEL_CHARS)
    left = 0.35 + 0.066 * max((len(label) for label in labels), default=10)

    with matplotlib.rc_context(
        {"svg.fonttype": "none", "svg.hashsalt": "coopledger", "font.size": 8, "hatch.linewidth": 0.6}
    ):
        figure = Figure(figsize=(_WIDTH, height), dpi=100)
        FigureCanvasAgg(figure)  # Agg without pyplot: no GUI backend, no global figure to leak
        figure.subplots_adjust(
            left=left / _WIDTH, right=1 - 0.3 / _WIDTH, top=1 - top / height, bottom=bottom / height
        )
        axes = figure.add_subplot()
        span = _span(timeline)
        per_inch = (span[1] - span[0]) / (_WIDTH - left - 0.3)
        pen = _Pen()
        for row, (_, lane) in enumerate(rows):
            if lane is not None:
                _draw_lane(pen, axes, row, lane, _x(timeline.as_of.day), per_inch)
        pen.draw(axes)
        _frame(axes, timeline, rows, labels, span, pitch)
        figure.legend(
            handles=legend,
            loc="lower center",
            ncols=3,
            frameon=False,
            bbox_to_anchor=(0.5, 0.1 / height),
            fontsize=7.5,
        )
        title = f"{timeline.relationship} as of {timeline.as_of.text}"
        if timeline.known_at:
            title += f", as known at {timeline.known_at}"
        if timeline.exact:
            title += " (this pair only, no rollup)"
        figure.suptitle(title, x=left / _WIDTH, ha="left", y=1 - 0.2 / height, fontsize=12)
        if timeline.names:
            figure.text(left / _WIDTH, 1 - 0.4 / height, timeline.names, ha="left", va="top", fontsize=8)
        figure.savefig(path, format=suffix[1:], metadata={"Date": None} if suffix == ".svg" else None)


def _rows(lanes: tuple[Lane, ...]) -> list[tuple[str, Lane | None]]:
    """Lanes grouped under a heading row per kind."""
    rows: list[tuple[str, Lane | None]] = []
    for kind, heading in (("instrument", "Instruments"), ("project", "Projects"), ("series", "Meetings")):
        group = [lane for lane in lanes if lane.kind == kind]
        if group:
            rows += [(heading, None), *((lane.label, lane) for lane in group)]
    return rows


def _labels(rows: list[tuple[str, Lane | None]], limit: int) -> list[str]:
    """Each row's label within the limit, and no two lanes' alike: a long title is cut in the
    middle (titles that differ at their end stay apart), and lanes whose labels would still read
    the same are told apart by their ids."""
    labels = [_short(label, limit) for label, _ in rows]
    seen = Counter(label for label, (_, lane) in zip(labels, rows, strict=True) if lane)
    return [
        _identified(label, lane.key, limit) if lane and seen[shown] > 1 else shown
        for shown, (label, lane) in zip(labels, rows, strict=True)
    ]


def _short(text: str, limit: int) -> str:
    """Text within a limit, cut in the middle, between words where one ends near: its start and
    its end stay."""
    if len(text) <= limit:
        return text
    head = text[: (limit - 3) * 2 // 3]
    tail = text[len(text) - (limit - 3 - len(head)) :]
    if " " in head[-12:]:
        head = head[: head.rindex(" ")]
    if " " in tail[:12]:
        tail = tail[tail.index(" ") + 1 :]
    return head.rstrip() + " … " + tail.lstrip()


def _identified(label: str, key: str, limit: int) -> str:
    """A label with its lane's id after it, the id whole where it fits."""
    room = limit - len(key) - 3
    return f"{_short(label, room)} ({key})" if room > 8 else _short(key, limit)


def _x(day: date) -> float:
    """A day as matplotlib's date number (days), so the axis can name the years."""
    from matplotlib.dates import date2num

    return float(date2num(day))


def _span(timeline: Timeline) -> tuple[float, float]:
    """The days the x axis covers: every date drawn and the as-of day, with a margin."""
    days = [timeline.as_of.day]
    for lane in timeline.lanes:
        for bar in lane.bars:
            days += [bar.start.earliest] + ([bar.end.latest] if bar.end else [])
        days += [day for mark in lane.marks for day in (mark.on.earliest, mark.on.latest)]
    first, last = _x(min(days)), _x(max(days))
    margin = max(90, (last - first) * 0.03)
    # matplotlib names no day outside 0001-9999: the margin stops at the calendar's ends.
    return max(first - margin, _x(date(1, 1, 2))), min(last + margin, _x(date(9999, 12, 31)))


_Style = tuple[tuple[str, Any], ...]  # matplotlib's keyword arguments, as items
_Point = tuple[float, float]


class _Pen:
    """What a timeline draws, gathered by style and drawn at the end as one artist a style: a busy
    pair has tens of thousands of bars, and an artist each took minutes and gigabytes."""

    def __init__(self) -> None:
        self.bars: dict[_Style, list[list[_Point]]] = {}  # each bar's corners
        self.lines: dict[_Style, list[list[_Point]]] = {}  # each line's ends
        self.points: dict[_Style, list[_Point]] = {}

    def bar(self, row: int, left: float, width: float, **style: Any) -> None:
        """A bar 0.56 of a lane high (as `barh` draws it)."""
        top, bottom, right = row - 0.28, row + 0.28, left + width
        corners = [(left, top), (left, bottom), (right, bottom), (right, top)]
        self.bars.setdefault(tuple(style.items()), []).append(corners)

    def line(self, xs: list[float], ys: list[float], **style: Any) -> None:
        self.lines.setdefault(tuple(style.items()), []).append(list(zip(xs, ys, strict=True)))

    def point(self, x: float, y: float, **style: Any) -> None:
        self.points.setdefault(tuple(style.items()), []).append((x, y))

    def draw(self, axes: Axes) -> None:
        from matplotlib.collections import LineCollection, PolyCollection

        for style, corners in self.bars.items():
            axes.add_collection(PolyCollection(corners, **dict(style)), autolim=False)
        for style, segments in self.lines.items():
            axes.add_collection(LineCollection(segments, **dict(style)), autolim=False)
        for style, points in self.points.items():
            xs, ys = zip(*points, strict=True)
            axes.plot(xs, ys, ls="none", scalex=False, scaley=False, **dict(style))


def _draw_lane(pen: _Pen, axes: Axes, row: int, lane: Lane, as_of: float, per_inch: float) -> None:
    for bar in lane.bars:
        if bar.phase == "series":
            _series_line(pen, row, bar, as_of)
        else:
            _bar(pen, row, bar, lane.kind, as_of)
    _marks(pen, axes, row, lane, per_inch)


def _series_line(pen: _Pen, row: int, bar: Bar, as_of: float) -> None:
    """A series is a thin line from its establishment (dotted while imprecise) to the as-of day."""
    colour, earliest, latest = _COLOURS["series"], _x(bar.start.earliest), _x(bar.start.latest)
    pen.line([earliest, latest], [row, row], colors=colour, linewidths=1, linestyles=":", alpha=0.6)
    pen.line([latest, max(as_of, latest)], [row, row], colors=colour, linewidths=1, alpha=0.35)


def _bar(pen: _Pen, row: int, bar: Bar, kind: Kind, as_of: float) -> None:
    """A solid core from the latest start to the earliest end; imprecise ends hatched and faded."""
    colour = _COLOURS[kind]
    tint = _TINTS.get(kind, colour)
    fill = {"signed": "#ffffff", "planned": "#ffffff", "extension": tint, "renewal": tint}.get(
        bar.phase, colour
    )
    start_earliest, start_latest = _x(bar.start.earliest), _x(bar.start.latest)
    end_earliest = _x(bar.end.earliest) if bar.end else max(as_of, start_latest)
    end_latest = _x(bar.end.latest) if bar.end else end_earliest
    if start_latest < end_earliest:
        lw = 0.8 if bar.phase in ("signed", "planned") else 0.4
        pen.bar(
            row, start_latest, end_earliest - start_latest, facecolors=fill, edgecolors=colour, linewidths=lw
        )
        fuzzy = [(start_earliest, start_latest), (end_earliest, end_latest)]
    else:  # the dates overlap: all of it is uncertain
        fuzzy = [(start_earliest, max(end_latest, start_latest))]
    faded = fill + "4d"  # 30% opaque
    for earliest, latest in fuzzy:
        if earliest < latest:
            pen.bar(
                row,
                earliest,
                latest - earliest,
                facecolors=faded,
                edgecolors=colour,
                linewidths=0,
                hatch="////",
            )
    if bar.end is None:  # open-ended: an arrow at the as-of day says it runs on
        pen.point(end_earliest, row, marker=">", color=colour, markersize=6, clip_on=False)
    if bar.phase == "extension":  # where the extension takes over
        pen.line([start_latest] * 2, [row - 0.4, row + 0.4], colors="black", linewidths=1.2)


def _marks(pen: _Pen, axes: Axes, row: int, lane: Lane, per_inch: float) -> None:
    """Meetings as dots with their number above, thinned where they would overlap; terminations as x."""
    colour = _COLOURS["series"]
    labelled_until = -math.inf
    for mark in sorted(lane.marks, key=lambda m: (m.on.earliest, m.on.latest)):
        earliest, latest = _x(mark.on.earliest), _x(mark.on.latest)
        if mark.kind == "terminated":
            pen.point(latest, row, marker="x", color="black", markersize=7, mew=1.6)
            continue
        if earliest < latest:  # whiskers over the days the date may fall on
            pen.line([earliest, latest], [row, row], colors=colour, linewidths=0.8, alpha=0.7)
            for end in (earliest, latest):
                pen.point(end, row, marker="|", color=colour, markersize=5, alpha=0.7)
        middle, held = (earliest + latest) / 2, mark.kind == "held"
        face = colour if held else "white"
        pen.point(middle, row, marker="o", markersize=6, color=colour, mew=1.2, mfc=face, zorder=3)
        half_width = per_inch * (0.06 * len(mark.label or "") + 0.05) / 2
        if mark.label and middle - half_width > labelled_until:
            axes.annotate(
                mark.label,
                (middle, row),
                xytext=(0, 4.5),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=6.5,
                color=colour if held else "#555555",
                bbox={"boxstyle": "square,pad=0.05", "fc": "white", "ec": "none", "alpha": 0.8},
            )
            labelled_until = middle + half_width


def _frame(
    axes: Axes,
    timeline: Timeline,
    rows: list[tuple[str, Lane | None]],
    labels: list[str],
    span: tuple[float, float],
    pitch: float,
) -> None:
    """Axes, lane labels (headings bold, rolled-up lanes in italics), the as-of line."""
    from matplotlib.dates import AutoDateLocator, ConciseDateFormatter

    axes.set_xlim(*span)
    axes.set_ylim(max(len(rows), 3) - 0.5, -0.5)
    if pitch >= 0.11:
        axes.set_yticks(range(len(rows)), labels)
        for tick, (_, lane) in zip(axes.get_yticklabels(), rows, strict=True):
            if lane is None:
                tick.set_fontweight("bold")
            elif not lane.exact:
                tick.set_fontstyle("italic")
                tick.set_color("#444444")
    else:  # lanes too thin to name: no tick a lane (a busy pair has tens of thousands)
        axes.set_yticks([])
    axes.tick_params(axis="y", length=0)
    locator = AutoDateLocator(minticks=4, maxticks=14)
    axes.xaxis.set_major_locator(locator)
    axes.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    axes.tick_params(axis="x", labeltop=len(rows) > _TALL)
    axes.grid(axis="x", color="#dddddd", lw=0.6)
    axes.set_axisbelow(True)
    for row, (_, lane) in enumerate(rows):
        if lane is None and row:
            axes.axhline(row - 0.5, color="#999999", lw=0.6)
    axes.axvline(_x(timeline.as_of.day), color=_AS_OF, ls="--", lw=1)
    if not rows:
        axes.text(0.5, 0.5, "nothing counts yet", transform=axes.transAxes, ha="center", color="#555555")
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)


def _legend(timeline: Timeline) -> list[Artist]:
    """Keys for what this picture shows, and only that."""
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    kinds = {lane.kind for lane in timeline.lanes}
    phases = {bar.phase for lane in timeline.lanes for bar in lane.bars}
    marks = {mark.kind for lane in timeline.lanes for mark in lane.marks}
    imprecise = any(
        d.earliest != d.latest
        for lane in timeline.lanes
        for d in [
            *(b.start for b in lane.bars),
            *(b.end for b in lane.bars if b.end),
            *(m.on for m in lane.marks),
        ]
    )
    blue, green, purple = _COLOURS["instrument"], _COLOURS["project"], _COLOURS["series"]
    keys: list[Artist] = []
    if "instrument" in kinds:
        keys.append(Patch(color=blue, label="instrument in force (signing or entry into force to expiry)"))
    if "signed" in phases:
        keys.append(Patch(facecolor="white", edgecolor=blue, label="signed, not yet in force"))
    if "project" in kinds:
        keys.append(Patch(color=green, label="project (launch to planned or actual end)"))
    if "extension" in phases:
        keys.append(
            Patch(facecolor=_TINTS["instrument"], edgecolor="black", label="extension, added after |")
        )
    if "renewal" in phases:
        keys.append(Patch(facecolor=_TINTS["instrument"], edgecolor=blue, label="renewed itself for a term"))
    if "planned" in phases:
        keys.append(Patch(facecolor="white", edgecolor=green, label="project launched, not yet started"))
    if imprecise:
        keys.append(
            Patch(
                facecolor=(0.5, 0.5, 0.5, 0.3),
                edgecolor="#555555",
                hatch="////",
                lw=0,
                label="hatched / whiskers: date known only to a range",
            )
        )
    if any(bar.end is None and bar.phase != "series" for lane in timeline.lanes for bar in lane.bars):
        keys.append(
            Line2D([], [], marker=">", color=blue, ls="none", label="no end: runs on past the as-of day")
        )
    if "held" in marks:
        keys.append(
            Line2D([], [], marker="o", color=purple, ls="none", label="meeting held (number in series)")
        )
    if "announced" in marks:
        keys.append(
            Line2D(
                [],
                [],
                marker="o",
                color=purple,
                markerfacecolor="white",
                ls="none",
                label="meeting announced, not held",
            )
        )
    if "terminated" in marks:
        keys.append(Line2D([], [], marker="x", color="black", ls="none", label="terminated"))
    if not all(lane.exact for lane in timeline.lanes):
        keys.append(Patch(color="none", label="italic label: through member agencies (rollup)"))
    keys.append(Line2D([], [], color=_AS_OF, ls="--", label=f"as of {timeline.as_of.text}"))
    return keys
