"""The report's methodology page: docs/methodology.md rendered to HTML.

The methodology is written once, in the repository's docs/methodology.md (tested against the dbt
column docs), and the report carries it so that a reader of a ranking finds its definitions one
click away, offline. markdown-it-py (already installed with Airflow's rich) renders it; the text is
the project's own, not data, so it is trusted markup.
"""

from __future__ import annotations

from pathlib import Path

from markdown_it import MarkdownIt

from grassroots.config import settings

FILENAME = "methodology.html"
NAV_TEXT = "方法 Methodology"


def methodology_path() -> Path:
    return settings().home / "docs" / "methodology.md"


def methodology_html(path: Path | None = None) -> str:
    """docs/methodology.md as HTML (CommonMark with tables)."""
    text = (path or methodology_path()).read_text(encoding="utf-8")
    return MarkdownIt("commonmark", {"html": False}).enable("table").render(text)
