"""CLI: ``python -m grassroots.generate --out data/landing --start 2024-01 --months 3 --seed 42``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def build_parser() -> argparse.ArgumentParser:
    from grassroots.generate.region import DEFAULT_COUNTIES

    p = argparse.ArgumentParser(
        prog="python -m grassroots.generate",
        description="Generate demo deliveries of the four feeds into a landing zone.",
    )
    p.add_argument("--out", type=Path, default=None, help="landing dir (default: settings)")
    p.add_argument(
        "--counties",
        default=",".join(DEFAULT_COUNTIES),
        help="comma-separated 6-digit county codes (default: %(default)s)",
    )
    p.add_argument("--start", default="2024-01", help="first month, YYYY-MM (default %(default)s)")
    p.add_argument("--months", type=int, default=3, help="number of months (default %(default)s)")
    p.add_argument("--seed", type=int, default=42, help="random seed (default %(default)s)")
    p.add_argument("--scale", type=float, default=1.0, help="population scale (default 1.0)")
    p.add_argument(
        "--layout",
        action="append",
        default=[],
        metavar="FEED=LAYOUT",
        help=(
            "deliver a feed in a shipped supplier layout instead of canonical CSV; repeatable: "
            "staff_roster=county_xlsx, case_log=hotline_gbk"
        ),
    )
    p.add_argument(
        "--clean",
        action="store_true",
        help="no planted faults (default: a few bad rows, one blocked file, one duplicate delivery "
        "and one restatement, as real deliveries have them)",
    )
    return p


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    from grassroots.config import settings
    from grassroots.generate import generate

    out = args.out if args.out is not None else settings().landing_dir
    counties = [c.strip() for c in args.counties.split(",") if c.strip()]
    try:
        summary = generate(
            out,
            counties,
            args.start,
            args.months,
            args.seed,
            args.scale,
            layouts=args.layout,
            faults=not args.clean,
        )
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary.format())
    return 0


if __name__ == "__main__":
    sys.exit(main())
