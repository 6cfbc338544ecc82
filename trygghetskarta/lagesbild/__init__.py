"""Lägesbild (EST situation report): periods, key figures, area status, rendering and data exports.

``build_lagesbild(store, period, audience=...)`` gives a ``Lagesbild``; ``lagesbild_document`` turns it into
the plain document model (``document``) that ``lagesbild_html`` (Jinja2 templates) and ``lagesbild_pdf``
render; ``export_lagesbild`` writes its data; ``cli_lagesbild`` is the CLI command.
"""

from trygghetskarta.lagesbild.exports import EXPORT_FORMATS, cli_lagesbild, export_lagesbild, lagesbild_layers
from trygghetskarta.lagesbild.periods import PERIOD_KINDS, Period, period_from_bounds, period_from_date
from trygghetskarta.lagesbild.render import (
    chart_png,
    font_path,
    lagesbild_document,
    lagesbild_html,
    lagesbild_pdf,
    map_png,
    tables,
)
from trygghetskarta.lagesbild.report import (
    AUDIENCES,
    BASELINE_MIN_COUNT,
    BASELINE_PERIODS,
    INDICATORS,
    THRESHOLDS_KEY,
    Indicator,
    Lagesbild,
    area_status_note,
    baseline_periods,
    build_lagesbild,
    change_against_baseline,
    default_thresholds,
    level_from_value,
    partner_viewer,
    rate_per_1000,
    save_thresholds,
    thresholds_from_store,
    validate_thresholds,
)

__all__ = [
    "AUDIENCES", "BASELINE_MIN_COUNT", "BASELINE_PERIODS", "EXPORT_FORMATS", "INDICATORS", "PERIOD_KINDS",
    "THRESHOLDS_KEY", "Indicator", "Lagesbild", "Period", "area_status_note", "baseline_periods", "build_lagesbild",
    "change_against_baseline", "chart_png", "cli_lagesbild", "default_thresholds", "export_lagesbild", "font_path",
    "lagesbild_document", "lagesbild_html", "lagesbild_layers", "lagesbild_pdf", "level_from_value", "map_png",
    "partner_viewer", "period_from_bounds", "period_from_date", "rate_per_1000", "save_thresholds", "tables",
    "thresholds_from_store", "validate_thresholds",
]
