"""One summary (the dict `layers.summaries.compute.summarise()` answers) as a page shows it: a table of rows in
the reader's number format and display unit, a total, and the data of its bar chart (bars per unit, stacked by
category when the summary is grouped).

The table keeps each row's figure as summarise() gave it (`value`), so what the page says can be checked
against the summaries themselves.
"""
from dataclasses import dataclass
from datetime import datetime, timezone

from layers.pages.numbers import BROWSER_LOCALES, DisplayUnit, display_unit, format_figure, format_number
from layers.pages.texts import TEXTS, VALUE_HEADINGS, pick

MEASURE_OF_UNIT = {"m²": "area", "m": "length", "features": "count"}


@dataclass(frozen=True)
class TableRow:
    unit_code: str
    unit_name: str
    category: str | None
    count: int
    count_text: str
    value: float | None
    value_text: str


@dataclass(frozen=True)
class SummaryTable:
    measure: str
    unit: DisplayUnit
    value_heading: str
    category: str | None
    rows: list[TableRow]
    total: float | None
    total_text: str
    total_count_text: str
    unit_names: list[str]
    chart: dict
    computed_at: str
    cached: bool


def moment(iso: str | None) -> str:
    """ "2026-12-02 15:40 UTC" from the summaries' ISO 8601 time stamp."""
    if not iso:
        return ""
    try:
        return datetime.fromisoformat(iso).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    except ValueError:
        return iso


def resolved_measure(summary: dict) -> str:
    measure = summary.get("measure") or "auto"
    return MEASURE_OF_UNIT.get(summary.get("unit_of_measure"), "count") if measure == "auto" else measure


def total_value(summary: dict, measure: str) -> float | None:
    """The headline figure: the summaries' own total when they give one, else the rows' sum (a mean has no sum)."""
    totals = summary.get("totals") or {}
    if totals.get("value") is not None:
        return float(totals["value"])
    if measure == "mean":
        return None
    return sum(float(row["value"] or 0) for row in summary["rows"])


def summary_table(summary: dict, lang: str) -> SummaryTable:
    measure = resolved_measure(summary)
    unit = display_unit(summary.get("unit_of_measure", ""), lang)
    heading = pick(VALUE_HEADINGS.get(measure, VALUE_HEADINGS["count"]), lang).format(
        attribute=summary.get("attribute") or "")
    if unit.symbol and measure != "count":
        heading = f"{heading} ({unit.symbol})"
    no_value = pick(TEXTS["no_value"], lang)
    rows = [TableRow(unit_code=str(row["unit_code"]), unit_name=row["unit_name"] or str(row["unit_code"]),
                     category=(no_value if row.get("category") is None else str(row["category"]))
                     if summary.get("category") else None,
                     count=int(row.get("count") or 0), count_text=format_number(row.get("count") or 0, lang),
                     value=row.get("value"), value_text=format_number(unit.scaled(row.get("value")), lang, unit.digits))
            for row in summary["rows"]]
    if summary.get("category"):
        rows = without_empty_groups(rows)
    total = total_value(summary, measure)
    total_count = (summary.get("totals") or {}).get("count")
    if total_count is None:
        total_count = sum(row.count for row in rows)
    unit_names = list(dict.fromkeys(row.unit_name for row in rows))
    return SummaryTable(
        measure=measure, unit=unit, value_heading=heading, category=summary.get("category"), rows=rows,
        total=total, total_text=format_figure(total, unit, lang), total_count_text=format_number(total_count, lang),
        unit_names=unit_names, chart=chart_data(rows, unit_names, unit, heading, lang),
        computed_at=moment(summary.get("computed_at")), cached=bool(summary.get("cached")),
    )


def without_empty_groups(rows: list[TableRow]) -> list[TableRow]:
    """A grouped summary lists a unit once per category that touches it, often with nothing (a commune whose
    sliver crosses a boundary is counted where its centre lies): those rows are left out of the table, except a
    unit's only row, so every unit is still listed."""
    listed = {row.unit_code for row in rows if row.count or row.value}
    kept = []
    for row in rows:
        if row.count or row.value or row.unit_code not in listed:
            kept.append(row)
            listed.add(row.unit_code)
    return kept


def chart_data(rows: list[TableRow], unit_names: list[str], unit: DisplayUnit, heading: str, lang: str) -> dict:
    """What layers/static/layers/pages/charts.js hands Chart.js: one bar per unit, one stacked series per category
    (in the order the summary lists them), figures already in the display unit."""
    series: dict[str | None, dict[str, float]] = {}
    for row in rows:
        if row.category is not None and row.count == 0 and not row.value:
            continue  # a unit with nothing in a grouped summary: its label stays, with no bar
        series.setdefault(row.category, {})[row.unit_name] = unit.scaled(row.value) or 0.0
    datasets = [{"label": heading if category is None else category,
                 "data": [round(values.get(name, 0.0), 6) for name in unit_names]}
                for category, values in series.items()]
    return {"labels": unit_names, "datasets": datasets, "stacked": any(row.category is not None for row in rows),
            "unit": unit.symbol, "digits": unit.digits,
            "locale": BROWSER_LOCALES.get(lang, "vi-VN"), "axis": heading}
