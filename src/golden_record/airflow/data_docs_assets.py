"""Great Expectations' Data Docs served without the internet.

GX writes Data Docs pages that load Bootstrap, jQuery, Font Awesome, bootstrap-table and
Vega from public CDNs; on a council's secure network, which often has no way out, they
show as bare unstyled tables. The plugin serves the same releases from
``static/data_docs/`` (fetched from the npm registry; versions and licences in its
README) and rewrites each page's CDN addresses to them as it serves the page. The files
on disk stay as GX wrote them.
"""

from __future__ import annotations

import re
from pathlib import Path

ASSETS_DIR = Path(__file__).with_name("static") / "data_docs"
URL_PREFIX = "static/data-docs/"

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


def offline(page: str, base: str) -> str:
    """``page`` with every CDN asset it loads served from ``base`` (the app's prefix, with
    its trailing slash)."""

    def local(match: re.Match[str]) -> str:
        url = match.group("url")
        found = ASSETS.get(url)
        if found is None:
            return match.group(0)
        return (
            f"{match.group('attr')}={match.group('q')}{base}{URL_PREFIX}{found}{match.group('q')}"
        )

    page = _LOGO.sub(f"{base}{URL_PREFIX}gx/logo-long.png", page)
    return _ADDRESS.sub(local, page)


def asset(path: str) -> Path | None:
    """The vendored file at ``path`` (relative to the assets folder), if it is one."""
    if path == "gx/logo-long.png":
        return gx_logo()
    target = (ASSETS_DIR / path).resolve()
    if ASSETS_DIR.resolve() not in target.parents or not target.is_file():
        return None
    return target
