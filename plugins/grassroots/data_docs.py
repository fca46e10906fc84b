"""Great Expectations Data Docs for auditors, built on every run and readable offline.

    index = build(run_id)     # -> <GRASSROOTS_REPORTS_DIR or repo/reports>/data_docs/index.html

GX renders the site from every stored validation result (``expectations/gx/uncommitted/``, or
$GRASSROOTS_GX_DIR) plus the suites as code. Its pages load Bootstrap, jQuery, Font Awesome, vega
and friends from public CDNs and a logo from S3 (with the data context id in the URL); on an
intranet without internet they render unstyled and the index table stays empty. So the site is
copied to the reports directory and post-processed:

- the pinned copies under ``include/vendor/`` (see its PROVENANCE.md) go to ``static/vendor/``;
- every CDN URL in every page is rewritten to the relative path of its copy (``CDN_MAP``), and the
  remote logo to the logo shipped in the GX wheel (``static/images/logo-long.png``);
- a page that still loads anything from the network makes the build fail (a GX upgrade that adds
  a CDN asset is caught here, not by an auditor on an offline machine).

The finished site replaces the previous one in one rename, under a lock, so concurrent runs
(ingest DAGs of different feeds) never serve a half-written site. The Airflow UI serves it at
``/grassroots/data-docs/`` (``plugins/grassroots_ui.py``).
"""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import logging
import os
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

from grassroots.config import REPO_ROOT, settings

log = logging.getLogger(__name__)

VENDOR_DIR = REPO_ROOT / "include" / "vendor"
SITE_DIR_NAME = "data_docs"
VENDOR_SUBDIR = "static/vendor"

# CDN URL (as GX 1.24 writes it) -> file under include/vendor/ (PROVENANCE.md explains the few
# deliberate substitutions: minified CSS, pinned vega majors).
CDN_MAP: dict[str, str] = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/css/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/js/bootstrap.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.css": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/"
    "bootstrap-table-filter-control.min.js": (
        "bootstrap-table/extensions/filter-control/bootstrap-table-filter-control.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (
        "bootstrap-datepicker/css/bootstrap-datepicker.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (
        "bootstrap-datepicker/js/bootstrap-datepicker.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (
        "bootstrap-dark/css/bootstrap-prefers-dark.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "fontawesome-free/css/all.min.css"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper.js/umd/popper.min.js"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
}
# The logo: https://great-expectations-web-assets.s3.us-east-2.amazonaws.com/logo-long.png?d=...
_REMOTE_LOGO = re.compile(
    r"https://great-expectations-web-assets\.s3\.[a-z0-9-]+\.amazonaws\.com/([A-Za-z0-9_.-]+)"
    r"(\?[^\"'\s>]*)?"
)
# Anything a page would still fetch from the network: src/href of script, link, img, iframe...
_REMOTE_RESOURCE = re.compile(
    r"<(?:script|link|img|iframe|source|embed|object)\b[^>]*?\b(?:src|href|data)\s*=\s*"
    r"[\"']?((?:https?:)?//[^\"'\s>]+)",
    re.IGNORECASE,
)
# Images GX loads from its S3 bucket -> the image shipped in the wheel (static/images/) that
# stands in for it. The dark-mode logo has no local twin: the regular logo is used.
S3_IMAGES = {
    "logo-long.png": "logo-long.png",
    "full_logo_dark.png": "logo-long.png",
}
_FAVICON = re.compile(r'(<link rel="shortcut icon" href=")[^"]*static/images/favicon\.ico(")')
_CSS_REMOTE = re.compile(r"url\(\s*[\"']?((?:https?:)?//[^)\"']+)", re.IGNORECASE)


class DataDocsError(RuntimeError):
    pass


def site_dir() -> Path:
    """Where the finished site lives: ``<reports>/data_docs``."""
    return settings().reports_dir / SITE_DIR_NAME


@contextmanager
def _locked(path: Path, timeout_s: float = 600.0):
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        deadline = time.monotonic() + timeout_s
        while True:
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise DataDocsError(f"another Data Docs build held {path} for {timeout_s:.0f}s") from None
                time.sleep(0.5)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def register_suites(context) -> list[str]:
    """Put the suites as code into the (in-memory) suite store, so the site documents them.

    Rules that depend on a delivery are shown in their general form: the division codes as the
    reference name, dates relative to today, no previous row count.
    """
    from grassroots.validation import import_expectations

    suites, _custom = import_expectations()
    names = []
    for name in suites.SUITE_NAMES:
        rules = suites.rules_for(
            name,
            unit_codes_reference="division_codes_2023",
            delivery_date=dt.date.today(),
        )
        context.suites.add_or_update(suites.build_suite(name, rules))
        names.append(name)
    return names


def gx_site_dir(context) -> Path:
    """The directory GX renders the site into (the context's ``local_site``)."""
    site = context.variables.data_docs_sites["local_site"]
    return Path(site["store_backend"]["base_directory"])


def _relative_prefix(page: Path, root: Path) -> str:
    depth = len(page.relative_to(root).parts) - 1
    return "../" * depth


def _local_image(match: re.Match, images: str) -> str:
    local = S3_IMAGES.get(match.group(1))
    return f"{images}{local}" if local else match.group(0)


def rewrite_page(html: str, prefix: str) -> str:
    """Point the CDN URLs and the remote logo of one page (or stylesheet) at the local copies;
    ``prefix`` leads from the page's folder to the site root ('', '../', ...)."""
    for url, local in CDN_MAP.items():
        html = html.replace(url, f"{prefix}{VENDOR_SUBDIR}/{local}")
    html = _REMOTE_LOGO.sub(lambda m: _local_image(m, f"{prefix}static/images/"), html)
    # GX 1.24 climbs one folder too few for the favicon of validation pages (a 404 each).
    return _FAVICON.sub(rf"\g<1>{prefix}static/images/favicon.ico\g<2>", html)


def remote_resources(html: str) -> list[str]:
    """URLs a page would still load from the network (links to web pages are fine)."""
    return _REMOTE_RESOURCE.findall(html) + _CSS_REMOTE.findall(html)


def _copy_vendor(site: Path) -> None:
    target = site / VENDOR_SUBDIR
    shutil.copytree(
        VENDOR_DIR,
        target,
        ignore=shutil.ignore_patterns("*.py", "__pycache__"),
        dirs_exist_ok=True,
    )
    missing = [local for local in set(CDN_MAP.values()) if not (target / local).is_file()]
    if missing:
        raise DataDocsError(f"vendored assets missing under {VENDOR_DIR}: {sorted(missing)}")


PASSED_WITH_WARNINGS = "Passed with warnings"
_WARNING_ICON = '<i class="fas fa-exclamation-triangle text-warning" aria-hidden="true"></i>'
_PAGE_FAILED = re.compile(
    r'(<span class="h6" >Status:</span>\s*)'
    r'<i class="fas fa-times text-danger" aria-hidden="true"></i>\s*Failed'
)
_INDEX_ROW = re.compile(
    r"\{'validation_success': '((?:[^'\\]|\\.)*)'((?:(?!\{'validation_success').)*?)"
    r"'_table_row_link_path': '([^']*)', '_validation_success_text': 'Failed'",
    re.DOTALL,
)


def warning_only_pages(context) -> set[str]:
    """Site paths (``validations/…html``) of stored results that failed only warning expectations.

    GX marks a result failed when any expectation fails; here a delivery fails only on a critical
    one (a warning is reported and the delivery is published), so these pages are relabelled.
    """
    store = Path(context.variables.stores["validation_results_store"]["store_backend"]["base_directory"])
    pages = set()
    for path in store.rglob("*.json"):
        try:
            result = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        failed = [r for r in result.get("results", []) if not r.get("success")]
        severities = {
            (r.get("expectation_config", {}).get("meta") or {}).get("severity")
            or r.get("expectation_config", {}).get("severity")
            for r in failed
        }
        if not result.get("success") and failed and severities == {"warning"}:
            pages.add("validations/" + path.relative_to(store).with_suffix(".html").as_posix())
    return pages


def label_warning_only(site: Path, pages: set[str]) -> int:
    """'Failed' → 'Passed with warnings' on those pages and in their rows of the index."""
    done = 0
    for rel in sorted(pages):
        page = site / rel
        if page.is_file():
            text = page.read_text(encoding="utf-8")
            new = _PAGE_FAILED.sub(rf"\g<1>{_WARNING_ICON} {PASSED_WITH_WARNINGS}", text)
            if new != text:
                page.write_text(new, encoding="utf-8")
                done += 1
    index = site / "index.html"
    if pages and index.is_file():
        icon = '<i class="fas fa-exclamation-triangle text-warning ge-warning-icon" ></i>'

        def relabel(m: re.Match) -> str:
            if m.group(3) not in pages:
                return m.group(0)
            cell = m.group(1).replace('<i class="fas fa-times text-danger ge-failed-icon" ></i>', icon)
            return (
                f"{{'validation_success': '{cell}'{m.group(2)}'_table_row_link_path': '{m.group(3)}', "
                f"'_validation_success_text': '{PASSED_WITH_WARNINGS}'"
            )

        text = index.read_text(encoding="utf-8")
        new = _INDEX_ROW.sub(relabel, text)
        if new != text:
            index.write_text(new, encoding="utf-8")
    return done


def postprocess(site: Path) -> int:
    """Vendor the assets into ``site`` and rewrite its pages; returns the number of pages.

    Raises DataDocsError naming the page and URL if anything would still be fetched remotely.
    """
    _copy_vendor(site)
    pages = 0
    problems: list[str] = []
    for page in sorted(site.rglob("*.html")):
        if VENDOR_SUBDIR in page.relative_to(site).as_posix():
            continue
        text = page.read_text(encoding="utf-8")
        new = rewrite_page(text, _relative_prefix(page, site))
        problems += [f"{page.relative_to(site)}: {u}" for u in remote_resources(new)]
        if new != text:
            page.write_text(new, encoding="utf-8")
        pages += 1
    for css in sorted((site / "static").rglob("*.css")):
        if VENDOR_SUBDIR in css.relative_to(site).as_posix():
            continue  # vendored files are checked once, by the tests (they are not rewritten)
        text = css.read_text(encoding="utf-8", errors="replace")
        new = rewrite_page(text, _relative_prefix(css, site))
        if new != text:
            css.write_text(new, encoding="utf-8")
        remote = _CSS_REMOTE.findall(new)
        problems += [f"{css.relative_to(site)}: {u}" for u in remote]
    if problems:
        raise DataDocsError(
            "Data Docs would still load from the network (add the asset to include/vendor "
            "and CDN_MAP): " + "; ".join(problems[:10])
        )
    return pages


# Data Docs show the latest validations of each suite; the full history stays in
# audit.validation_results. Without a bound, every build re-renders every result ever stored.
KEEP_PER_SUITE = int(os.environ.get("GRASSROOTS_DATA_DOCS_KEEP", "40"))


def prune_results(context, keep: int = KEEP_PER_SUITE) -> int:
    """Remove all but the newest `keep` stored validation results of each suite; returns how many."""
    store = context.variables.stores["validation_results_store"]["store_backend"]["base_directory"]
    removed = 0
    for suite_dir in (p for p in Path(store).iterdir() if p.is_dir()):
        results = sorted(suite_dir.rglob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for old in results[keep:]:
            old.unlink()
            removed += 1
        for d in sorted((d for d in suite_dir.rglob("*") if d.is_dir()), key=lambda d: -len(d.parts)):
            if not any(d.iterdir()):
                d.rmdir()
    return removed


def build(run_id: str | None = None, *, context=None, reports_dir: Path | None = None) -> Path:
    """Build the Data Docs site (every stored validation, every suite) into
    ``<reports>/data_docs/`` and return its ``index.html``.

    Call it at the end of every run that validated something (ingest and warehouse DAGs).
    """
    from grassroots.validation import get_context

    started = time.perf_counter()
    reports = Path(reports_dir) if reports_dir else settings().reports_dir
    final = reports / SITE_DIR_NAME
    context = context if context is not None else get_context()
    with _locked(reports / f".{SITE_DIR_NAME}.lock"):
        register_suites(context)
        prune_results(context)
        built = gx_site_dir(context)
        shutil.rmtree(built, ignore_errors=True)  # pages of pruned results must go too
        context.build_data_docs()
        # Leftovers of a build that died (we hold the lock: nobody else is building).
        for stale in reports.glob(f".{SITE_DIR_NAME}.*-*"):
            shutil.rmtree(stale, ignore_errors=True)
        staging = reports / f".{SITE_DIR_NAME}.tmp-{os.getpid()}"
        shutil.copytree(built, staging)
        try:
            pages = postprocess(staging)
            label_warning_only(staging, warning_only_pages(context))
        except BaseException:
            shutil.rmtree(staging, ignore_errors=True)
            raise
        (staging / "BUILD_INFO.json").write_text(
            json.dumps(
                {
                    "run_id": run_id,
                    "built_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "pages": pages,
                    "assets": "include/vendor (see PROVENANCE.md)",
                },
                indent=2,
            ),
            encoding="utf-8",
        )
        old = reports / f".{SITE_DIR_NAME}.old-{os.getpid()}"
        if final.exists():
            os.replace(final, old)
        os.replace(staging, final)
        shutil.rmtree(old, ignore_errors=True)
    index = final / "index.html"
    log.info(
        "Data Docs: %d page(s) in %s (%.1fs, run %s)",
        pages,
        index,
        time.perf_counter() - started,
        run_id,
    )
    return index
