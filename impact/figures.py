"""How the impact analyzer's figures read to a person: metric names, rates as %, p-values, changes.

Pure functions shared by the screen, the CSV export, the risk reasons and
the recommendations, so a figure reads the same wherever a person meets it.
The JSON keeps the metric keys and raw numbers (rates as fractions).
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

# Metric → (name in a sentence, unit shown after a table label).
METRIC_NAMES: dict[str, tuple[str, str]] = {
    "traces": ("traces", ""), "error_rate": ("error rate", ""), "warning_rate": ("warning rate", ""),
    "empty_rate": ("empty-result rate", ""), "replan_rate": ("replan rate", ""),
    "duration_median_ms": ("median duration", "ms"), "duration_p95_ms": ("p95 duration", "ms"),
    "mean_references": ("references per answer", ""), "mean_rows": ("rows returned per trace", ""),
    "mean_cost": ("cost per trace", ""), "mean_tokens": ("tokens per trace", ""),
}
AXIS_NAMES = {"reliability": "Reliability", "completeness": "Completeness", "evidence": "Evidence",
              "speed": "Speed", "stability": "Stability", "regression_health": "Regression health"}
MISSING = "—"


def metric_name(metric: str) -> str:
    """A metric as a sentence names it: ``empty-result rate``, ``EXECUTE median duration``."""
    if metric.startswith("stage:"):
        return f"{metric.split(':')[1].upper()} median duration"
    return METRIC_NAMES.get(metric, (metric.replace("_", " "), ""))[0]


def metric_label(metric: str) -> str:
    """A metric as a table heads it: ``Empty-result rate``, ``Median duration (ms)``, ``EXECUTE median (ms)``."""
    if metric.startswith("stage:"):
        return f"{metric.split(':')[1].upper()} median (ms)"
    name, unit = METRIC_NAMES.get(metric, (metric.replace("_", " "), ""))
    name = name if name.startswith("p95") else name[:1].upper() + name[1:]  # "p95" is a symbol, not a word
    return name + (f" ({unit})" if unit else "")


def is_rate(metric: str) -> bool:
    return metric.endswith("_rate")


def number(value: float, *, decimals: int = 2, grouping: bool = True) -> str:
    """``value`` rounded to ``decimals``, without trailing zeros: ``250``, ``1,593.6``, ``0.25``."""
    text = f"{value:{',' if grouping else ''}.{decimals}f}"
    text = text.rstrip("0").rstrip(".") if "." in text else text
    return "0" if text in ("-0", "") else text


def cost_figure(value: float, *, digits: int = 6, grouping: bool = True) -> str:
    """A cost without a currency (the price table's): ``digits`` significant digits at most, no trailing zeros.

    ``0.0064``, ``0.00213333``, ``12.5``, ``1,234.57``; never scientific
    notation, never cut to cents (a trace often costs a fraction of one).
    """
    if not value:
        return "0"
    return number(value, decimals=max(0, digits - 1 - math.floor(math.log10(abs(value)))), grouping=grouping)


def percent(fraction: float, *, decimals: int = 1) -> str:
    """A rate as a percentage: ``0.0525`` → ``5.3%`` (one decimal is kept: ``0.0%``, ``25.0%``)."""
    return f"{fraction * 100:.{decimals}f}%"


def figure(metric: str, value: float | None, *, grouping: bool = True) -> str:
    """A metric's value as a table shows it (the unit is in the label): rates in %, costs to 6 digits."""
    if value is None:
        return MISSING
    if is_rate(metric):
        return percent(value)
    if metric == "mean_cost":
        return cost_figure(value, grouping=grouping)
    if metric == "traces":
        return number(value, decimals=0, grouping=grouping)
    return number(value, decimals=1 if metric.endswith("_ms") or metric == "mean_tokens" else 2, grouping=grouping)


def quoted(metric: str, value: float | None) -> str:
    """A metric's value in a sentence: ``5.3%``, ``420 ms``, ``0.0064``, ``1,593.6``."""
    if value is None:
        return "n/a"
    if metric.endswith("_ms"):
        return f"{value:,.0f} ms"
    if metric == "mean_cost":
        return cost_figure(value, digits=4)
    if metric == "traces":
        return f"{value:,.0f}"
    return percent(value) if is_rate(metric) else f"{value:,.1f}"


def signed_percent(value: float, *, decimals: int = 1) -> str:
    return f"{value:+.{decimals}f}%"


def change(row: dict, *, grouping: bool = True) -> str:
    """A comparison row's change: rates in points (``+5.5 pts``), other metrics in their unit (``+120``)."""
    delta = row.get("delta")
    if delta is None:
        return MISSING
    sign = "+" if delta > 0 else "-" if delta < 0 else "±"
    if is_rate(row["metric"]):
        return f"{sign}{abs(delta) * 100:.1f} pts"
    return sign + figure(row["metric"], abs(delta), grouping=grouping)


def relative_change(row: dict) -> str:
    """The change as a share of the base figure: ``+185.0%``; "—" when the base is 0 or missing."""
    return MISSING if row.get("delta_pct") is None else signed_percent(row["delta_pct"])


def p_text(p: float | None) -> str:
    """A p-value as a person reads it: ``< 0.001``, ``0.0123``, ``0.46``, ``1``; "—" when untested."""
    if p is None:
        return MISSING
    return "< 0.001" if p < 0.001 else f"{p:.3g}"


def p_clause(p: float) -> str:
    """A p-value in a sentence: ``p < 0.001``, ``p = 0.0123``."""
    text = p_text(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def axis_score(value: float | None) -> str:
    """A quality axis: ``87.5`` or ``no data`` (never drawn or read as 0 or 100)."""
    return "no data" if value is None else number(value, decimals=1)


def moment(iso: str | None) -> str:
    """An ISO 8601 time as a person reads it, in UTC: ``2025-03-01 14:05 UTC``; "—" when there is none."""
    if not iso:
        return MISSING
    parsed = datetime.fromisoformat(iso)
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC)
    return parsed.strftime("%Y-%m-%d %H:%M UTC")
