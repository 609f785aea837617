"""The leaders' page's panels: declared in config/leaders.yml (settings.SDI_LEADERS_PANELS), each one summary.

A panel whose dataset is not there for this reader (not loaded yet, or not visible to them: the page does not
say which) is shown as "not available yet" rather than failing the page; a panel the summaries refuse shows
their message. Figures come from summarise(), whose cache answers every call after the first.
"""
import logging
import re
from dataclasses import dataclass, field, fields
from functools import lru_cache
from pathlib import Path
from urllib.parse import urlencode

import yaml
from django.conf import settings

from layers.pages.language import language_query
from layers.pages.numbers import format_number
from layers.pages.summary_table import SummaryTable, summary_table
from layers.pages.texts import bilingual
from layers.summaries.compute import SummaryRequest, summarise
from layers.summaries.errors import NotVisible, SummaryRefused

log = logging.getLogger(__name__)
KEY = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}$")


class PanelsInvalid(ValueError):
    """config/leaders.yml cannot be read as panels; the message names the file, the panel and the key."""


@dataclass(frozen=True)
class Panel:
    key: str
    title_vi: str
    title_en: str
    dataset: str
    units: str = "cantho-districts"
    measure: str = "auto"
    attribute: str | None = None
    category: str | None = None
    note_vi: str = ""
    note_en: str = ""
    top: int | None = None  # the small chart shows only the units with the largest figures
    unit_vi: str = ""  # what an attribute's sum counts ("người"), written after the headline figure
    unit_en: str = ""
    digits: int | None = None  # decimals of the headline figure (default: those of its display unit)

    def request(self) -> SummaryRequest:
        return SummaryRequest(self.dataset, units=self.units, measure=self.measure, attribute=self.attribute,
                              category=self.category)


PANEL_KEYS = tuple(f.name for f in fields(Panel))
REQUIRED = ("key", "title_vi", "title_en", "dataset")


def read_panels(path: Path) -> tuple[Panel, ...]:
    """The panels of `path`, checked: every key known, the required ones given, keys unique."""
    stat = path.stat()
    return _read_panels(str(path), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=4)
def _read_panels(path: str, _mtime_ns: int, _size: int) -> tuple[Panel, ...]:
    try:
        document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise PanelsInvalid(f"{path}: not valid YAML: {exc}") from exc
    entries = document.get("panels") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise PanelsInvalid(f"{path}: expected a list under 'panels'")
    panels, seen = [], set()
    for number, entry in enumerate(entries, start=1):
        where = f"{path}: panel {number}"
        if not isinstance(entry, dict):
            raise PanelsInvalid(f"{where}: expected a mapping of {', '.join(PANEL_KEYS)}")
        where = f"{path}: panel {number} ({entry.get('key', 'no key')})"
        unknown = sorted(set(entry) - set(PANEL_KEYS))
        if unknown:
            raise PanelsInvalid(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(PANEL_KEYS)})")
        missing = [name for name in REQUIRED if not entry.get(name)]
        if missing:
            raise PanelsInvalid(f"{where}: {missing[0]!r} is required")
        if not KEY.match(str(entry["key"])) or entry["key"] in seen:
            raise PanelsInvalid(f"{where}: 'key' must be unique, lower-case letters, digits and '-'")
        if entry.get("top") is not None and (not isinstance(entry["top"], int) or entry["top"] < 1):
            raise PanelsInvalid(f"{where}: 'top' must be a whole number ≥ 1")
        if entry.get("digits") is not None and (not isinstance(entry["digits"], int) or not 0 <= entry["digits"] <= 6):
            raise PanelsInvalid(f"{where}: 'digits' must be a whole number from 0 to 6")
        seen.add(entry["key"])
        panels.append(Panel(**{name: (str(value) if isinstance(value, str) else value)
                               for name, value in entry.items()}))
    return tuple(panels)


@dataclass
class PanelFigures:
    """One panel as the page shows it: its table (None when not available or refused) and why not."""

    panel: Panel
    title: str
    note: str
    available: bool = False
    refused: str = ""
    table: SummaryTable | None = None
    chart: dict = field(default_factory=dict)
    query: str = ""  # the same figures on the dataset's page
    headline: str = ""

    @property
    def chart_id(self) -> str:
        return f"chart-data-{self.panel.key}"


def panel_figures(panels, user, lang: str) -> list[PanelFigures]:
    shown = []
    for panel in panels:
        figures = PanelFigures(panel, bilingual(panel, "title", lang), bilingual(panel, "note", lang),
                               query=panel_query(panel, lang))
        shown.append(figures)
        try:
            summary = summarise(panel.request(), user)
        except NotVisible:  # summarise() applies visible_datasets(user) to the dataset and its units
            continue
        except SummaryRefused as exc:
            log.warning("leaders' panel %s refused by the summaries: %s", panel.key, exc.message)
            figures.refused = exc.message
            continue
        figures.available, figures.table = True, summary_table(summary, lang)
        figures.chart = top_units(figures.table.chart, panel.top)
        figures.headline = headline(panel, figures.table, lang)
    return shown


def headline(panel: Panel, table: SummaryTable, lang: str) -> str:
    """The panel's total as a director reads it: "1.183.380 người", "52.310,4 ha", "18 đối tượng"."""
    if table.total is None:
        return "–"
    digits = table.unit.digits if panel.digits is None else panel.digits
    unit = bilingual(panel, "unit", lang) or table.unit.symbol
    figure = format_number(table.unit.scaled(table.total), lang, digits)
    return f"{figure}\u00a0{unit}" if unit else figure


def panel_query(panel: Panel, lang: str) -> str:
    params = {"units": panel.units, "measure": panel.measure, "attribute": panel.attribute,
              "category": panel.category, "lang": language_query(lang) and lang}
    return urlencode({name: value for name, value in params.items() if value})


def top_units(chart: dict, top: int | None) -> dict:
    """The chart cut to the `top` units with the largest figures, largest first, none empty (a stacked unit
    counts whole): of 103 wards, the few that hold anything."""
    if not top:
        return chart
    totals = [sum(series["data"][i] for series in chart["datasets"]) for i in range(len(chart["labels"]))]
    keep = [i for i in sorted(range(len(totals)), key=lambda i: -totals[i]) if totals[i]][:top]
    return {**chart, "labels": [chart["labels"][i] for i in keep],
            "datasets": [{**series, "data": [series["data"][i] for i in keep]} for series in chart["datasets"]]}
