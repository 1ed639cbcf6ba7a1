"""The impact report as a CSV a person opens in a spreadsheet.

One table, one row per figure: ``Section, Item, Base (vN), Target (vM),
Change, Change (%), p-value, Significant, Note``. Metrics carry their
readable names, rates are percentages (``25.0%``, which spreadsheets read as
0.25), numbers are rounded as on the screen (no ``0.25250000000000006``),
p-values read ``< 0.001``. Sections: report, risk, recommendations,
comparison, per stage, quality, related assets, versions.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from typing import Any

from impact.figures import (
    AXIS_NAMES,
    axis_score,
    change,
    figure,
    moment,
    number,
    p_text,
    relative_change,
)
from impact.queries import CO_APPLIED_SAMPLE

Row = list[Any]


def impact_csv(report: dict[str, Any]) -> str:
    """The whole report (``report.asset_impact``) as CSV text."""
    out = io.StringIO()
    writer = csv.writer(out)
    compared = not report.get("empty")
    base = f"Base (v{report['base']})" if compared else "Base"
    target = f"Target (v{report['target']})" if compared else "Target"
    writer.writerow(["Section", "Item", base, target, "Change", "Change (%)", "p-value", "Significant", "Note"])
    writer.writerows(_summary(report))
    if compared:
        for section in (_risk, _recommendations, _comparison, _stages, _quality, _related):
            writer.writerows(section(report))
    writer.writerows(_versions(report))
    return out.getvalue()


def _row(section: str, item: str, base: Any = "", target: Any = "", delta: str = "", relative: str = "",
         p: str = "", significant: str = "", note: str = "") -> Row:
    return [section, item, base, target, delta, relative, p, significant, note]


def _blank(text: str) -> str:
    """A missing figure is an empty cell in a spreadsheet, not a dash."""
    return "" if text == "—" else text


def _summary(report: dict[str, Any]) -> Iterator[Row]:
    asset, filters = report["asset"], report["filters"]
    yield _row("Report", "Asset", note=f"{asset['type']} {asset['name']}")
    if not report.get("empty"):
        yield _row("Report", "Compared", f"v{report['base']}", f"v{report['target']}")
    span = " to ".join(_blank(moment(filters.get(key))) or "open" for key in ("from", "to"))
    yield _row("Report", "Range", note="all time" if span == "open to open" else span)
    yield _row("Report", "Tenant", note=filters.get("tenant") or "every tenant you can read")
    yield _row("Report", "Traffic", note=report["traffic_scope"])
    if report.get("empty"):
        yield _row("Report", "Message", note=report["message"])
    elif report["rollup"]["percentiles_approximate"]:
        yield _row("Report", "Roll-up", note=f"{report['rollup']['rolled_days']} days up to "
                                             f"{report['rollup']['through']} read from the daily roll-up: "
                                             "medians and p95 within about 2.5 %")


def _risk(report: dict[str, Any]) -> Iterator[Row]:
    risk = report["risk"]
    yield _row("Risk", "Level", target=risk["label"])
    yield _row("Risk", "Points", target=risk["points"])
    for reason in risk["reasons"]:
        yield _row("Risk", "Reason", note=reason)


def _recommendations(report: dict[str, Any]) -> Iterator[Row]:
    for sentence in report["recommendations"]:
        yield _row("Recommendations", "Recommendation", note=sentence)


def _comparison(report: dict[str, Any]) -> Iterator[Row]:
    for row in report["comparison"]:
        metric = row["metric"]
        significant = ("yes" if row["significant"] else "no") if row["p_value"] is not None else ""
        yield _row("Comparison", row["label"], _blank(figure(metric, row["base"], grouping=False)),
                   _blank(figure(metric, row["target"], grouping=False)), _blank(change(row, grouping=False)),
                   _blank(relative_change(row)), _blank(p_text(row["p_value"])), significant, row["hint"])


def _stages(report: dict[str, Any]) -> Iterator[Row]:
    base, target = report["metrics"]["base"]["stage_durations"], report["metrics"]["target"]["stage_durations"]
    for stage in report["stages"]:
        before, after = base.get(stage, {}), target.get(stage, {})
        for key, label in (("runs", "runs"), ("median_ms", "median (ms)"), ("p95_ms", "p95 (ms)")):
            b, t = before.get(key), after.get(key)
            delta = {"metric": f"stage_{key}", "delta": None if b is None or t is None else t - b,
                     "delta_pct": None if not b or t is None else 100 * (t - b) / b}
            yield _row("Per stage", f"{stage.upper()} {label}", _stage_figure(b), _stage_figure(t),
                       _blank(change(delta, grouping=False)), _blank(relative_change(delta)))


def _stage_figure(value: float | None) -> str:
    return "" if value is None else number(value, decimals=1, grouping=False)


def _quality(report: dict[str, Any]) -> Iterator[Row]:
    base, target = report["axes"]["base"], report["axes"]["target"]
    for axis, formula in report["axis_formulas"].items():
        b, t = base.get(axis), target.get(axis)
        delta = "" if b is None or t is None else f"{t - b:+.1f}"
        yield _row("Quality", AXIS_NAMES.get(axis, axis), axis_score(b), axis_score(t), delta, note=formula)


def _related(report: dict[str, Any]) -> Iterator[Row]:
    for item in report["related"]:
        yield _row("Related assets", f"{item['type']} {item['name']}", target=item["count"],
                   note=f"traces that applied it with v{report['target']} (of its newest {CO_APPLIED_SAMPLE:,})")


def _versions(report: dict[str, Any]) -> Iterator[Row]:
    for row in report["versions"]:
        times = [f"{row['traces']} trace{'s' if row['traces'] != 1 else ''} in range",
                 f"created {moment(row['created'])}"]
        if row.get("published"):
            times.append(f"published {moment(row['published'])}")
        if row.get("first_used"):
            times.append(f"used {moment(row['first_used'])} to {moment(row['last_used'])}")
        if row.get("note"):
            times.append(row["note"])
        yield _row("Versions", f"v{row['version']} ({row['status']})", note="; ".join(times))
