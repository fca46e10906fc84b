"""python -m grassroots.report [--period YYYY-MM] [--warehouse FILE] [--out DIR]"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from grassroots.report import ReportError, build_report


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m grassroots.report",
        description="Build the offline evaluation report (HTML, charts, CSV/Excel exports) from the marts.",
    )
    parser.add_argument("--period", help="month YYYY-MM (default: the latest month in the marts)")
    parser.add_argument("--warehouse", type=Path, help="DuckDB warehouse file (default: configured)")
    parser.add_argument("--out", type=Path, help="output directory (default: <reports>/evaluation/<period>)")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    try:
        index = build_report(args.period, warehouse=args.warehouse, out_dir=args.out)
    except ReportError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(index)
    return 0


if __name__ == "__main__":
    sys.exit(main())
