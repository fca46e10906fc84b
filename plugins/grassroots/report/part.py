"""python -m grassroots.report.part SPEC_JSON — one part of a report build (started by
``grassroots.report._render_in_parts``, not by users)."""

from __future__ import annotations

import json
import sys

from grassroots.report import render_part

if __name__ == "__main__":
    render_part(json.loads(sys.argv[1]))
    sys.exit(0)
