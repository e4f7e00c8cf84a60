"""The service-quality dashboard: one self-contained HTML page (inline
CSS and SVG, no script, nothing loaded from anywhere) drawn from a
:class:`QualityReport`.

``db.quality_report(from_, to, daily=True).html()`` returns the page that
``frontdesk report --from ... --to ... --html FILE`` writes, byte for byte
(examples/frontdesk/report_html.c draws it in C; tests/web checks both):
per department and for the whole hotel, the omission rate, complaints per
100 stays and the share of complaints resolved by sunset, then the same
three figures day by day.  Every bar carries the library's figure,
unrounded, in ``data-value`` (a rate as a fraction in 0..1), with
``data-metric``, ``data-department`` (``ALL`` for the whole hotel) and, in
the trend, ``data-day``; tables under the charts give the figures to
screen readers.

Owns: the page.  May call: the standard library (it only reads the dict).
"""

from __future__ import annotations

import html as _html
from typing import Any, Dict, List, Optional

__all__ = ["QualityReport", "render"]

LABEL_W, BAR_W, ROW_H, BAR_H = 170, 400, 30, 20
# (key in a row / data-metric, caption, shown as a percentage)
METRICS = (
    ("omission_rate", "Omission rate (prompts never done, of those judged)", True),
    ("per_100_stays", "Complaints per 100 stays", False),
    ("on_time_rate", "Complaints resolved by sunset", True),
)

CSS = (
    "body{margin:0;background:#fff;color:#111;font-family:system-ui,sans-serif;line-height:1.4}\n"
    "main{max-width:60rem;margin:0 auto;padding:1rem 1.5rem}\n"
    "figure{margin:1rem 0}\n"
    "figcaption{font-weight:700;margin-bottom:.25rem}\n"
    "svg.chart{max-width:100%;height:auto}\n"
    ".bar{fill:#003a70}\n"
    ".label{text-anchor:end;font-size:14px;fill:#111}\n"
    ".value,.none{font-size:14px;fill:#111}\n"
    ".none{font-style:italic}\n"
    "table{border-collapse:collapse;margin:1rem 0}\n"
    "th,td{border:1px solid #555;padding:.3rem .6rem;text-align:right}\n"
    "th:first-child,td:first-child{text-align:left}\n"
    "caption{text-align:left;font-weight:700;margin-bottom:.25rem}\n"
)

NOTE = ("<p>Omission rate: prompts never done (dismissed, or open past their due time) "
        "of those judged (done, or past due). Complaints per 100 stays: complaints "
        "recorded per 100 stays arriving in the range, in every row. Resolved by "
        "sunset: complaints resolved by the end of the business day they were due. "
        "&quot;-&quot; and &quot;no data&quot;: the figure has no denominator.</p>\n")


class QualityReport(dict):
    """What :meth:`Database.quality_report` returns: the report as a dict
    (keys "from", "to", "stays", "overall", "departments", and with
    ``daily=True`` "days": one report per hotel day of the range), which
    can also draw itself as the dashboard page."""

    def html(self) -> str:
        """The dashboard page as a str.  The day-by-day trend needs the
        report made with ``daily=True``; without it, ValueError."""
        return render(self)

    to_html = html


def _e(text: str) -> str:
    return _html.escape(text, quote=True)


def _shown(v: Optional[float], percent: bool) -> Optional[float]:
    return v * 100.0 if v is not None and percent else v


def _fmt(v: Optional[float], percent: bool) -> str:
    if v is None:
        return "-"
    return "%.1f%s" % (_shown(v, percent), "%" if percent else "")


def _g17(v: float) -> str:
    # As C's "%.17g": enough digits that the figure reads back exactly.
    return "%.17g" % v


def _chart_row(out: List[str], i: int, label: str, dept: str, day: Optional[str],
               metric: str, percent: bool, v: Optional[float], scale: float) -> None:
    y = 10 + i * ROW_H
    out.append(f'<text class="label" x="{LABEL_W - 10}" y="{y + 15}">{_e(label)}</text>\n')
    if v is None:
        out.append(f'<text class="none" x="{LABEL_W}" y="{y + 15}">no data</text>\n')
        return
    length = _shown(v, percent) / scale * BAR_W
    text = _fmt(v, percent)
    day_attr = f' data-day="{_e(day)}"' if day else ""
    out.append(f'<rect class="bar" x="{LABEL_W}" y="{y}" width="{length:.1f}" '
               f'height="{BAR_H}" data-metric="{metric}" data-department="{_e(dept)}"'
               f'{day_attr} data-value="{_g17(v)}"><title>{_e(label)}: {text}</title></rect>\n')
    out.append(f'<text class="value" x="{LABEL_W + length + 6:.1f}" y="{y + 15}">'
               f'{text}</text>\n')


def _shows(name: Optional[str], row: Dict[str, Any], metric: str) -> bool:
    if name is None:
        return True
    if metric == "omission_rate":
        return row["prompts"] > 0
    if metric == "per_100_stays":
        return True
    return row["complaints"] > 0


def _scale(rows: List[Dict[str, Any]], metric: str, percent: bool) -> float:
    if percent:
        return 100.0
    return max([1.0] + [r[metric] for r in rows if r[metric] is not None and r[metric] > 1.0])


def _chart_open(out: List[str], ident: str, metric: str, caption: str, rows: int) -> None:
    h = 20 + rows * ROW_H
    w = LABEL_W + BAR_W + 80
    out.append(f'<figure>\n<figcaption id="{ident}-{metric}">{caption}</figcaption>\n'
               f'<svg class="chart" role="img" aria-labelledby="{ident}-{metric}" '
               f'width="{w}" height="{h}" viewBox="0 0 {w} {h}">\n')


def _cells(row: Dict[str, Any]) -> str:
    return (f"<td>{_fmt(row['omission_rate'], True)}</td><td>{row['complaints']}</td>"
            f"<td>{_fmt(row['per_100_stays'], False)}</td>"
            f"<td>{_fmt(row['on_time_rate'], True)}</td></tr>\n")


def _departments(out: List[str], report: Dict[str, Any]) -> None:
    # In the library's order (by name), as frontdesk draws them.
    named: List[Any] = list(report["departments"].items())
    named.append((None, report["overall"]))
    out.append('<section aria-labelledby="by-department">\n'
               '<h2 id="by-department">By department</h2>\n')
    for metric, caption, percent in METRICS:
        rows = [(n, r) for n, r in named if _shows(n, r, metric)]
        scale = _scale([r for _, r in named], metric, percent)
        _chart_open(out, "department", metric, caption, len(rows))
        for i, (n, r) in enumerate(rows):
            _chart_row(out, i, n or "ALL", n or "ALL", None, metric, percent, r[metric], scale)
        out.append("</svg>\n</figure>\n")
    out.append('<table>\n<caption>Figures by department</caption>\n'
               '<thead><tr><th scope="col">Department</th><th scope="col">Prompts</th>'
               '<th scope="col">Never done</th><th scope="col">Omission rate</th>'
               '<th scope="col">Complaints</th><th scope="col">Per 100 stays</th>'
               '<th scope="col">Resolved by sunset</th></tr></thead>\n<tbody>\n')
    for n, r in named:
        out.append(f'<tr><th scope="row">{_e(n or "ALL")}</th><td>{r["prompts"]}</td>'
                   f'<td>{r["never_done"]}</td>' + _cells(r))
    out.append("</tbody>\n</table>\n</section>\n")


def _days(out: List[str], days: List[Dict[str, Any]]) -> None:
    out.append('<section aria-labelledby="by-day">\n'
               '<h2 id="by-day">Day by day, whole hotel</h2>\n')
    for metric, caption, percent in METRICS:
        scale = _scale([d["overall"] for d in days], metric, percent)
        _chart_open(out, "day", metric, caption, len(days))
        for i, d in enumerate(days):
            label = d["day"].isoformat()
            _chart_row(out, i, label, "ALL", label, metric, percent, d["overall"][metric],
                       scale)
        out.append("</svg>\n</figure>\n")
    out.append('<table>\n<caption>Figures by day</caption>\n'
               '<thead><tr><th scope="col">Day</th><th scope="col">Stays arriving</th>'
               '<th scope="col">Prompts</th><th scope="col">Omission rate</th>'
               '<th scope="col">Complaints</th><th scope="col">Per 100 stays</th>'
               '<th scope="col">Resolved by sunset</th></tr></thead>\n<tbody>\n')
    for d in days:
        r = d["overall"]
        out.append(f'<tr><th scope="row">{d["day"].isoformat()}</th><td>{d["stays"]}</td>'
                   f'<td>{r["prompts"]}</td>' + _cells(r))
    out.append("</tbody>\n</table>\n</section>\n")


def render(report: Dict[str, Any]) -> str:
    """The dashboard page of a quality report made with ``daily=True``."""
    days = report.get("days")
    if not days:
        raise ValueError("the dashboard's day-by-day trend needs "
                         "db.quality_report(from_, to, daily=True)")
    first, last = days[0]["day"].isoformat(), days[-1]["day"].isoformat()
    stays = report["stays"]
    out = [f'<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
           f'<meta name="viewport" content="width=device-width, initial-scale=1">\n'
           f'<title>Service quality {first} to {last}</title>\n<style>\n{CSS}</style>\n'
           f'</head>\n<body>\n<main>\n<h1>Service quality</h1>\n'
           f'<p id="range" data-from="{first}" data-to="{last}" data-stays="{stays}">'
           f'Hotel days {first} to {last}: {stays} stay{"" if stays == 1 else "s"} '
           f'arriving.</p>\n']
    _departments(out, report)
    _days(out, days)
    out.append(NOTE + "</main>\n</body>\n</html>\n")
    return "".join(out)
