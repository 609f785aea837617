"""Figures as a reader of the page's language writes them: "1.234,5 ha" in Vietnamese, "1,234.5 ha" in English.

The summaries give areas in m² and lengths in m; people read land in hectares and rivers in kilometres, so the
pages show those. Babel holds the locales' digit grouping (CLDR); the browser's Intl does the same for the chart,
from the `locale` and `digits` each chart is given.
"""
from dataclasses import dataclass

from babel.numbers import format_decimal

LOCALES = {"vi": "vi_VN", "en": "en_GB"}
BROWSER_LOCALES = {"vi": "vi-VN", "en": "en-GB"}


@dataclass(frozen=True)
class DisplayUnit:
    """How one summary's figures are shown: divided by `divisor`, with at most `digits` decimals, then `symbol`."""

    symbol: str
    divisor: float
    digits: int

    def scaled(self, value) -> float | None:
        return None if value is None else float(value) / self.divisor


FEATURES = ("đối tượng", "features")


def display_unit(unit_of_measure: str, lang: str) -> DisplayUnit:
    if unit_of_measure == "m²":
        return DisplayUnit("ha", 10_000, 1)
    if unit_of_measure == "m":
        return DisplayUnit("km", 1_000, 1)
    if unit_of_measure == "features":
        return DisplayUnit(FEATURES[1] if lang == "en" else FEATURES[0], 1, 0)
    return DisplayUnit("", 1, 1)  # an attribute's own unit, which the registry does not know: the heading names it


def format_number(value, lang: str, digits: int = 0) -> str:
    if value is None:
        return "–"
    pattern = "#,##0." + "0" * digits if digits else "#,##0"  # fixed decimals: "32.034,0", never "32.034"
    return format_decimal(value, format=pattern, locale=LOCALES.get(lang, "vi_VN"))


def format_figure(value, unit: DisplayUnit, lang: str) -> str:
    """A summary figure in its display unit: "1.234,5 ha"."""
    text = format_number(unit.scaled(value), lang, unit.digits)
    return f"{text}\u00a0{unit.symbol}" if unit.symbol and value is not None else text
