"""Plain-language prescriptive renderers for the custom expectations (what Data Docs print).

Without one, GX prints a custom expectation as its raw kwargs. Each sentence starts with the
expectation's severity and what it means, as the built-in expectations' descriptions do
(``expectations/suites.py``), so an auditor reads every verdict the same way.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from great_expectations.render import LegacyRendererType, RenderedStringTemplateContent
from great_expectations.render.renderer.renderer import renderer

SEVERITY_MEANING = {
    "critical": "a failure blocks the whole delivery: nothing of it is published",
    "warning": "a failure is reported (audit.validation_results, the run's findings); "
    "the delivery is still published",
}
SEVERITY_LABELS = {
    "critical": "Critical (a failure blocks the delivery)",
    "warning": "Warning (reported; the delivery is still published)",
}


def severity_of(configuration: Any) -> str | None:
    """'critical' or 'warning': the suite's meta first (set by build_suite), then GX's field."""
    meta = getattr(configuration, "meta", None) or {}
    severity = meta.get("severity") or getattr(configuration, "severity", None)
    severity = getattr(severity, "value", severity)
    return str(severity).lower() if severity else None


def mostly_text(kwargs: dict) -> str:
    mostly = kwargs.get("mostly")
    if mostly is None or mostly >= 1:
        return ""
    return f", in at least {mostly * 100:g}% of the rows"


def plain_renderer(describe: Callable[[dict], str]) -> classmethod:
    """A PRESCRIPTIVE renderer printing "<severity>: <describe(kwargs)>"."""

    @renderer(renderer_type=LegacyRendererType.PRESCRIPTIVE)
    def _prescriptive_renderer(
        cls,
        configuration=None,
        result=None,
        runtime_configuration: dict | None = None,
        **kwargs,
    ) -> list[RenderedStringTemplateContent]:
        if configuration is None and result is not None:
            configuration = result.expectation_config
        kw = dict(configuration.kwargs) if configuration is not None else {}
        sentence = describe(kw) + mostly_text(kw) + "."
        label = SEVERITY_LABELS.get(severity_of(configuration) or "")
        text = f"{label}: {sentence}" if label else sentence
        styling = (runtime_configuration or {}).get("styling", {})
        return [
            RenderedStringTemplateContent(
                content_block_type="string_template",
                # Plain text, not $params (GX would draw every parameter as a badge).
                string_template={"template": text.replace("$", "$$"), "params": {}, "styling": styling},
            )
        ]

    return classmethod(_prescriptive_renderer)
