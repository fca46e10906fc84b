"""Re-fetch the vendored Data Docs assets from the npm registry (run by hand, never by a test).

Great Expectations Data Docs load their CSS, JavaScript and fonts from public CDNs. The pages must
render fully styled on an offline intranet, so pinned copies of exactly the files the pages
reference are kept here and the generated HTML is rewritten to point at them
(``grassroots.data_docs``). This script reproduces the copies:

    python include/vendor/fetch.py          # npm pack each package into a temp dir, copy, record

It needs ``npm`` and the npm registry only. It rewrites ``include/vendor/<package>/`` and
``include/vendor/PROVENANCE.md`` (versions, tarball integrity, sha256 of every copied file).
"""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent

# (npm spec, vendored directory, licence, [(file in the package, file under the directory)])
PACKAGES: list[tuple[str, str, str, list[tuple[str, str]]]] = [
    (
        "bootstrap@4.3.1",
        "bootstrap",
        "MIT",
        [
            ("dist/css/bootstrap.min.css", "css/bootstrap.min.css"),
            ("dist/js/bootstrap.min.js", "js/bootstrap.min.js"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    (
        "bootstrap-table@1.19.1",
        "bootstrap-table",
        "MIT",
        [
            ("dist/bootstrap-table.min.css", "bootstrap-table.min.css"),
            ("dist/bootstrap-table.min.js", "bootstrap-table.min.js"),
            (
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.css",
                "extensions/filter-control/bootstrap-table-filter-control.min.css",
            ),
            (
                "dist/extensions/filter-control/bootstrap-table-filter-control.min.js",
                "extensions/filter-control/bootstrap-table-filter-control.min.js",
            ),
            ("LICENSE", "LICENSE"),
        ],
    ),
    (
        "bootstrap-datepicker@1.9.0",
        "bootstrap-datepicker",
        "Apache-2.0",
        [
            (
                "dist/css/bootstrap-datepicker.min.css",
                "css/bootstrap-datepicker.min.css",
            ),
            ("dist/js/bootstrap-datepicker.min.js", "js/bootstrap-datepicker.min.js"),
            ("LICENSE", "LICENSE"),
        ],
    ),
    (
        "@fortawesome/fontawesome-free@6.6.0",
        "fontawesome-free",
        "CC-BY-4.0 (icons) AND OFL-1.1 (fonts) AND MIT (code)",
        [
            ("css/all.min.css", "css/all.min.css"),
            ("webfonts/fa-brands-400.woff2", "webfonts/fa-brands-400.woff2"),
            ("webfonts/fa-regular-400.woff2", "webfonts/fa-regular-400.woff2"),
            ("webfonts/fa-solid-900.woff2", "webfonts/fa-solid-900.woff2"),
            (
                "webfonts/fa-v4compatibility.woff2",
                "webfonts/fa-v4compatibility.woff2",
            ),
            ("LICENSE.txt", "LICENSE.txt"),
        ],
    ),
    (
        "jquery@3.7.1",
        "jquery",
        "MIT",
        [("dist/jquery.min.js", "jquery.min.js"), ("LICENSE.txt", "LICENSE.txt")],
    ),
    (
        "popper.js@1.12.9",
        "popper.js",
        "MIT",
        [("dist/umd/popper.min.js", "umd/popper.min.js")],
    ),
    (
        "@forevolve/bootstrap-dark@1.1.0",
        "bootstrap-dark",
        "MIT",
        [
            (
                "dist/css/bootstrap-prefers-dark.min.css",
                "css/bootstrap-prefers-dark.min.css",
            ),
            ("LICENSE", "LICENSE"),
        ],
    ),
    (
        "vega-lite@5.23.0",
        "vega-lite",
        "BSD-3-Clause",
        [("build/vega-lite.min.js", "vega-lite.min.js"), ("LICENSE", "LICENSE")],
    ),
    (
        "vega-embed@6.29.0",
        "vega-embed",
        "BSD-3-Clause",
        [("build/vega-embed.min.js", "vega-embed.min.js"), ("LICENSE", "LICENSE")],
    ),
    # After vega-lite: its LICENSE file is the text used for vega (see below).
    ("vega@5.33.1", "vega", "BSD-3-Clause", [("build/vega.min.js", "vega.min.js")]),
]

# Two packages ship no licence file in their npm tarball; their package.json declares the licence
# and the minified file's header (popper.js) or the sibling packages of the same project (vega)
# name the holder. The texts below are the standard licences with those holders.
MIT_POPPER = """The MIT License (MIT)

Copyright (C) Federico Zivolo 2017

Permission is hereby granted, free of charge, to any person obtaining a copy of this software and
associated documentation files (the "Software"), to deal in the Software without restriction,
including without limitation the rights to use, copy, modify, merge, publish, distribute,
sublicense, and/or sell copies of the Software, and to permit persons to whom the Software is
furnished to do so, subject to the following conditions:

The above copyright notice and this permission notice shall be included in all copies or
substantial portions of the Software.

THE SOFTWARE IS PROVIDED "AS IS", WITHOUT WARRANTY OF ANY KIND, EXPRESS OR IMPLIED, INCLUDING BUT
NOT LIMITED TO THE WARRANTIES OF MERCHANTABILITY, FITNESS FOR A PARTICULAR PURPOSE AND
NONINFRINGEMENT. IN NO EVENT SHALL THE AUTHORS OR COPYRIGHT HOLDERS BE LIABLE FOR ANY CLAIM, DAMAGES
OR OTHER LIABILITY, WHETHER IN AN ACTION OF CONTRACT, TORT OR OTHERWISE, ARISING FROM, OUT OF OR IN
CONNECTION WITH THE SOFTWARE OR THE USE OR OTHER DEALINGS IN THE SOFTWARE.
"""

MANUAL = """# Vendored Data Docs assets: versions and provenance

Generated by `python include/vendor/fetch.py` (npm pack from https://registry.npmjs.org/).
`grassroots.data_docs` copies these files into the Data Docs site (`static/vendor/`) and rewrites
the CDN URLs that Great Expectations 1.24 writes into every page to them, so the pages render
offline. The mapping from CDN URL to file is `CDN_MAP` in `plugins/grassroots/data_docs.py`.

Deliberate differences from the CDN references (same release, smaller or equivalent file):

- `bootstrap-table-filter-control.css` (1.19.0, non-minified, and `.min.css` 1.19.0) → the 1.19.1
  `.min.css` (the pages load the 1.19.1 JavaScript of the extension anyway).
- `@forevolve/bootstrap-dark` `bootstrap-prefers-dark.css` → the `.min.css` of the same release.
- `vega@5`, `vega-lite@5`, `vega-embed@6` (floating majors on jsDelivr) → pinned to the versions
  below.
- Font Awesome: only the `.woff2` web fonts are kept (every browser Bootstrap 4 supports reads
  woff2; the `.ttf` fallbacks in `all.min.css` are never requested).
- The Great Expectations logo (loaded from an S3 bucket with the data context id in its URL) is
  replaced by the logo shipped inside the great_expectations wheel (`static/images/logo-long.png`).
- popper.js 1.12.9 and vega 5.33.1 ship no licence file in their npm tarballs: `LICENSE` was
  written from the licence in their package.json (MIT, BSD-3-Clause) and the copyright holder in
  the file header (popper.js) or in the sibling packages of the same project (vega-lite, vega-embed).

The SRI hashes GX puts on popper.min.js and bootstrap.min.js match these files byte for byte, so the
`integrity` attributes are kept.

| package | version | licence | npm tarball integrity |
|---|---|---|---|
"""


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def main() -> None:
    rows: list[str] = []
    files: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        for spec, target, licence, wanted in PACKAGES:
            out = subprocess.run(
                ["npm", "pack", "--json", spec],
                cwd=tmp,
                check=True,
                capture_output=True,
                text=True,
            )
            info = json.loads(out.stdout)[0]
            extract = Path(tmp) / target
            with tarfile.open(Path(tmp) / info["filename"]) as tar:
                tar.extractall(extract, filter="data")
            dest = HERE / target
            shutil.rmtree(dest, ignore_errors=True)
            for src, dst in wanted:
                path = dest / dst
                path.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(extract / "package" / src, path)
            if target == "popper.js":
                (dest / "LICENSE").write_text(MIT_POPPER, encoding="utf-8")
            if target == "vega":
                text = (HERE / "vega-lite" / "LICENSE").read_text(encoding="utf-8")
                (dest / "LICENSE").write_text(text, encoding="utf-8")
            rows.append(f"| {info['name']} | {info['version']} | {licence} | `{info['integrity']}` |")
            for path in sorted(dest.rglob("*")):
                if path.is_file():
                    rel = path.relative_to(HERE).as_posix()
                    files.append(f"| `{rel}` | {path.stat().st_size:,} | `{sha256(path)}` |")
    text = MANUAL + "\n".join(rows) + "\n\n## Files\n\n| file | bytes | sha256 |\n|---|---|---|\n"
    (HERE / "PROVENANCE.md").write_text(text + "\n".join(files) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
