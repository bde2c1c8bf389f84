"""Great Expectations' Data Docs served without the internet by the plugin.

The assets GX's pages load are vendored in the core (:mod:`golden_record.quality.
offline_docs`); the plugin serves them under ``static/data-docs/`` and, as it serves a
page, points it there: pages written by this version at the data folder's copy (a
relative path), pages written before it at their CDN addresses.
"""

from __future__ import annotations

import re
from pathlib import Path

from golden_record.quality.offline_docs import ASSETS_DIR, ON_DISK, gx_logo, rewrite

URL_PREFIX = "static/data-docs/"
_ON_DISK = re.compile(r"""(?P<attr>src|href)=(?P<q>["'])(?:\.\./)+""" + ON_DISK + "/")


def offline(page: str, base: str) -> str:
    """``page`` with every asset it loads served from ``base`` (the app's prefix, with
    its trailing slash)."""
    served = _ON_DISK.sub(lambda m: f"{m.group('attr')}={m.group('q')}{base}{URL_PREFIX}", page)
    return rewrite(served, f"{base}{URL_PREFIX}")


def asset(path: str) -> Path | None:
    """The vendored file at ``path`` (relative to the assets folder), if it is one."""
    if path == "gx/logo-long.png":
        return gx_logo()
    target = (ASSETS_DIR / path).resolve()
    if ASSETS_DIR.resolve() not in target.parents or not target.is_file():
        return None
    return target
