"""Great Expectations' Data Docs that render without the internet, from disk or served.

GX writes Data Docs pages that load Bootstrap, jQuery, Font Awesome, bootstrap-table and
Vega from public CDNs; on a council's secure network, which often has no way out, they
show as bare unstyled tables. The same releases are vendored in ``static/data_docs/``
(fetched from the npm registry; versions and licences in its README). After a gate builds
its Data Docs, :func:`write_offline` copies them once into the data folder
(``data_docs_assets/``) and points each page at them by a relative path, so a page opened
from disk, offline, renders as GX meant; the plugin serves the same files
(:mod:`golden_record.airflow.data_docs_assets`).
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

ASSETS_DIR = Path(__file__).with_name("static") / "data_docs"
# Where a data folder keeps its copy, beside ``runs/``.
ON_DISK = "data_docs_assets"

# Each CDN address GX 1.24's pages use → the vendored file serving it.
ASSETS = {
    "https://maxcdn.bootstrapcdn.com/bootstrap/4.3.1/css/bootstrap.min.css": (
        "bootstrap/bootstrap.min.css"
    ),
    "https://stackpath.bootstrapcdn.com/bootstrap/4.3.1/js/bootstrap.min.js": (
        "bootstrap/bootstrap.min.js"
    ),
    "https://code.jquery.com/jquery-3.7.1.min.js": "jquery/jquery.min.js",
    "https://cdnjs.cloudflare.com/ajax/libs/popper.js/1.12.9/umd/popper.min.js": (
        "popper/popper.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/font-awesome/6.6.0/css/all.min.css": (
        "font-awesome/css/all.min.css"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/js/bootstrap-datepicker.min.js": (  # noqa: E501
        "bootstrap-datepicker/bootstrap-datepicker.min.js"
    ),
    "https://cdnjs.cloudflare.com/ajax/libs/bootstrap-datepicker/1.9.0/css/bootstrap-datepicker.min.css": (  # noqa: E501
        "bootstrap-datepicker/bootstrap-datepicker.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/@forevolve/bootstrap-dark@1.1.0/dist/css/bootstrap-prefers-dark.css": (  # noqa: E501
        "bootstrap-dark/bootstrap-prefers-dark.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.css": (
        "bootstrap-table/bootstrap-table.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/bootstrap-table.min.js": (
        "bootstrap-table/bootstrap-table.min.js"
    ),
    "https://unpkg.com/bootstrap-table@1.19.1/dist/extensions/filter-control/bootstrap-table-filter-control.min.js": (  # noqa: E501
        "bootstrap-table/bootstrap-table-filter-control.min.js"
    ),
    # GX asks for the 1.19.0 stylesheet beside the 1.19.1 script; 1.19.1's is the same.
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.css": (  # noqa: E501
        "bootstrap-table/bootstrap-table-filter-control.min.css"
    ),
    "https://unpkg.com/bootstrap-table@1.19.0/dist/extensions/filter-control/bootstrap-table-filter-control.min.css": (  # noqa: E501
        "bootstrap-table/bootstrap-table-filter-control.min.css"
    ),
    "https://cdn.jsdelivr.net/npm/vega@5": "vega/vega.min.js",
    "https://cdn.jsdelivr.net/npm/vega-lite@5": "vega-lite/vega-lite.min.js",
    "https://cdn.jsdelivr.net/npm/vega-embed@6": "vega-embed/vega-embed.min.js",
}
# GX's logo, with a tracking query string: its own copy from the GX package instead.
_LOGO = re.compile(r"https://great-expectations-web-assets\.s3[^\"']*?logo-long\.png[^\"']*")
_ADDRESS = re.compile(r"""(?P<attr>src|href)=(?P<q>["'])(?P<url>https://[^"']+)(?P=q)""")


def gx_logo() -> Path:
    import great_expectations

    return Path(great_expectations.__file__).parent / "render/view/static/images/logo-long.png"


def rewrite(page: str, prefix: str) -> str:
    """``page`` with every CDN asset it loads (and GX's logo) taken from ``prefix``
    followed by the vendored file's path."""

    def local(match: re.Match[str]) -> str:
        found = ASSETS.get(match.group("url"))
        if found is None:
            return match.group(0)
        quote = match.group("q")
        return f"{match.group('attr')}={quote}{prefix}{found}{quote}"

    page = _LOGO.sub(f"{prefix}gx/logo-long.png", page)
    return _ADDRESS.sub(local, page)


def _copy_assets(target: Path) -> None:
    """The vendored files and GX's logo under ``target``, copied where missing or
    different (a data folder keeps one copy for every night)."""
    wanted = [(ASSETS_DIR / name, target / name) for name in sorted(set(ASSETS.values()))]
    wanted.append((gx_logo(), target / "gx" / "logo-long.png"))
    # Font Awesome's stylesheet loads its fonts relative to itself.
    fonts = sorted((ASSETS_DIR / "font-awesome" / "webfonts").glob("*"))
    wanted += [(font, target / "font-awesome" / "webfonts" / font.name) for font in fonts]
    for source, copy in wanted:
        if copy.is_file() and copy.stat().st_size == source.stat().st_size:
            continue
        copy.parent.mkdir(parents=True, exist_ok=True)
        partial = copy.with_name(f".{copy.name}.copying")
        shutil.copyfile(source, partial)
        partial.replace(copy)


def write_offline(site: Path, data_root: Path) -> int:
    """Point every page of the Data Docs site ``site`` at the data folder's copy of the
    assets (made if missing), by a path relative to the page; returns the pages
    rewritten. The pages keep working wherever the data folder is mounted."""
    assets = data_root / ON_DISK
    _copy_assets(assets)
    rewritten = 0
    for page in sorted(site.rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        prefix = Path(os.path.relpath(assets, page.parent)).as_posix() + "/"
        offline = rewrite(text, prefix)
        if offline != text:
            page.write_text(offline, encoding="utf-8")
            rewritten += 1
    return rewritten
