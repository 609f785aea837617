"""The summary form of a dataset's page: what the reader may choose (units, measure, numeric attribute, category),
read from the query string, so the page works without JavaScript and every chart has a URL.

A choice the page does not offer (an unknown units layer, a measure that does not exist, a field the dataset does
not have) is refused here with a message naming the parameter; the rest (a measure that does not fit the
geometry, ...) is the summaries' own rule, refused by summarise() in its words.
"""
from dataclasses import dataclass
from urllib.parse import urlencode

from layers.loading.checks import text_columns
from layers.pages.texts import MEASURE_LABELS, bilingual, pick
from layers.summaries.compute import MEASURES, NUMERIC_TYPES, SummaryRequest
from layers.summaries.units import DEFAULT_UNITS, KNOWN_UNITS

FORM_FIELDS = ("units", "measure", "attribute", "category")


class FormRefused(ValueError):
    """A parameter of the page's form that is not one of its choices (HTTP 400)."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = f"{field}: {message}"


def numeric_attributes(dataset) -> list[str]:
    return [c["name"] for c in dataset.attribute_schema if c.get("type") in NUMERIC_TYPES]


def category_attributes(dataset) -> list[str]:
    return text_columns(dataset.attribute_schema)


def units_choices(lang: str) -> list[tuple[str, str]]:
    return [(slug, bilingual({"label_vi": layer.label_vi, "label_en": layer.label_en}, "label", lang))
            for slug, layer in KNOWN_UNITS.items()]


def measure_choices(lang: str) -> list[tuple[str, str]]:
    return [(code, pick(MEASURE_LABELS[code], lang) if code in MEASURE_LABELS else code) for code in MEASURES]


@dataclass(frozen=True)
class SummaryChoice:
    """The reader's choice, checked against what the page offers for this dataset."""

    dataset: str
    units: str = DEFAULT_UNITS
    measure: str = "auto"
    attribute: str | None = None
    category: str | None = None

    def request(self) -> SummaryRequest:
        return SummaryRequest(self.dataset, units=self.units, measure=self.measure, attribute=self.attribute,
                              category=self.category)

    def query(self, lang_query: str = "", **extra) -> str:
        """The query string of this choice (for links: the CSV, the same chart in the other language)."""
        params = {"units": self.units, "measure": self.measure}
        params.update({key: value for key, value in (("attribute", self.attribute), ("category", self.category))
                       if value})
        params.update(extra)
        query = urlencode(params)
        return f"{query}&{lang_query}" if lang_query else query


def read_choice(dataset, params, defaults: dict | None = None) -> SummaryChoice:
    """The choice in `params` (a QueryDict or dict); empty or absent values take the defaults."""
    defaults = defaults or {}

    def value(name):
        text = (params.get(name) or "").strip()
        return text or defaults.get(name) or None

    units = value("units") or DEFAULT_UNITS
    if units not in KNOWN_UNITS:
        raise FormRefused("units", f"{units[:80]!r} is not a units layer of this page; choose one of "
                                   f"{', '.join(KNOWN_UNITS)}")
    measure = value("measure") or "auto"
    if measure not in MEASURES:
        raise FormRefused("measure", f"{measure[:40]!r} is not a measure; choose one of {', '.join(MEASURES)}")
    attribute, category = value("attribute"), value("category")
    if attribute is not None and attribute not in numeric_attributes(dataset):
        raise FormRefused("attribute", f"{attribute[:80]!r} is not a numeric attribute of {dataset.slug!r} "
                                       f"({', '.join(numeric_attributes(dataset)) or 'it has none'})")
    if category is not None and category not in category_attributes(dataset):
        raise FormRefused("category", f"{category[:80]!r} is not a text attribute of {dataset.slug!r} "
                                      f"({', '.join(category_attributes(dataset)) or 'it has none'})")
    return SummaryChoice(dataset.slug, units, measure, attribute, category)
