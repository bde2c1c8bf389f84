"""The FastAPI app the Airflow plugin mounts: run reports and Data Docs over HTTP.

``/`` lists the runs, ``/runs/{run}/`` serves the run's report, and the run's files
(Data Docs under ``quality/``, ``report.json``) are served beneath it so the report's
relative links work the same from disk and from the Airflow UI. Only a run's report,
its JSON and the files under its gates' Data Docs folders are served (:func:`servable`):
never extracts or golden records, which hold residents' details, whatever the path says.

Every route asks for a signed-in Airflow user, through Airflow's own auth manager (its
token in the ``Authorization`` header, or the cookie the Airflow UI sets on sign-in, which
the browser sends with the UI's iframes), and for the permission its kind of page needs
(:mod:`golden_record.airflow.permissions`): the reports name data-quality problems by
record id, and the review, rights and lookup routes show residents' details.
"""

from __future__ import annotations

import html
import json
import re
from pathlib import Path
from typing import Any

from fastapi import Body, Depends, FastAPI, HTTPException, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response

from golden_record.airflow import data_docs_assets
from golden_record.airflow.permissions import LOOKUP, READ_REPORTS, requires
from golden_record.airflow.web import base

_RUN_KEY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# What may be served from a run's folder: the report, its JSON, and each gate's Data Docs.
_REPORT_FILES = ("report.html", "report.json")
# Reports of earlier runs of the date, kept when a rerun wrote its own.
_EARLIER_REPORT = re.compile(r"^earlier_reports/\d{2,4}/report\.(html|json)$")
_DATA_DOCS = re.compile(r"^quality/(?P<gate>[a-z_]+)/gx/uncommitted/data_docs/.+$")
# Data Docs are pages, styles, scripts and pictures; nothing else is served from them.
_DATA_DOCS_SUFFIXES = frozenset(
    {".html", ".css", ".js", ".json", ".png", ".svg", ".ico", ".gif", ".jpg", ".woff", ".woff2"}
)


def _runs_root() -> Path:
    from golden_record import paths

    return paths.runs_root()


def _run_dir(run_key: str) -> Path:
    if not _RUN_KEY.match(run_key):
        raise HTTPException(status_code=404, detail=f"no run {run_key!r}")
    run = _runs_root() / run_key
    if not (run / "report.html").is_file():
        raise HTTPException(status_code=404, detail=f"run {run_key} has no report yet")
    return run


def servable(run: Path, file_path: str) -> Path | None:
    """The file ``file_path`` names in the run's folder, if it is the report, its JSON or a
    file inside one of the run's gates' Data Docs folders once every link is followed;
    None for anything else. A path with a ``..`` or ``.`` segment, a backslash, a percent
    sign (encoding left over after the server decoded it once), a NUL or an empty
    segment is refused before the filesystem is asked."""
    from golden_record.quality.batches import BATCHES_OF_GATE

    segments = file_path.split("/")
    if any(segment in ("", ".", "..") for segment in segments) or any(
        mark in file_path for mark in ("\\", "%", "\x00")
    ):
        return None
    if file_path in _REPORT_FILES or _EARLIER_REPORT.match(file_path):
        allowed_root, target = run.resolve(), (run / file_path).resolve()
        if target.parent != allowed_root and target.parent.parent.parent != allowed_root:
            return None
    else:
        docs = _DATA_DOCS.match(file_path)
        if docs is None or docs["gate"] not in BATCHES_OF_GATE:
            return None
        allowed_root = (run / "quality" / docs["gate"] / "gx/uncommitted/data_docs").resolve()
        target = (run / file_path).resolve()
        if not target.is_relative_to(allowed_root) or target.suffix not in _DATA_DOCS_SUFFIXES:
            return None
    return target if target.is_file() else None


def _count(value: object) -> str:
    return f"{value:,}" if isinstance(value, int) else "–"


def _summary(run: Path) -> dict:
    try:
        facts = json.loads((run / "report.json").read_text(encoding="utf-8"))
    except (FileNotFoundError, json.JSONDecodeError):
        return {"run_key": run.name, "outcome": "unknown"}
    return {
        "run_key": facts["run_key"],
        "run_id": facts.get("run_id"),
        "dag_run_ids": facts.get("dag_run_ids") or [],
        "outcome": facts["outcome"],
        "golden_records": facts.get("golden_records"),
        "records_in": facts.get("records_in"),
        "gates": {g["gate"]: g["status"] for g in facts.get("gates", [])},
    }


def create_app() -> FastAPI:
    from airflow.api_fastapi.core_api.security import get_user

    app = FastAPI(
        title="Golden record reports",
        description="Nightly run reports and Great Expectations Data Docs.",
        dependencies=[Depends(get_user)],
    )

    from golden_record.airflow import (
        apply_now,
        night_lookup,
        person_pages,
        review_item_pages,
        review_pages,
        rights_pages,
    )

    app.include_router(review_pages.router())
    app.include_router(review_item_pages.router())
    app.include_router(rights_pages.router())
    app.include_router(person_pages.router())
    app.include_router(apply_now.router())

    reader = [Depends(requires(READ_REPORTS))]

    @app.post("/api/lookup", dependencies=[Depends(requires(LOOKUP))])
    def lookup(details: dict[str, Any] = Body(...), limit: int = 5) -> dict:  # noqa: B008
        """The golden records the details may be, best first, scored with the current
        model against the last accepted night (the details are never logged)."""
        run_key, found = night_lookup.ask(lambda lookup: lookup.candidates(details, limit=limit))
        return {"run_key": run_key, "candidates": [c.to_dict() for c in found]}

    @app.get("/api/runs", dependencies=reader)
    def list_runs() -> list[dict]:
        root = _runs_root()
        runs = sorted(
            (p for p in root.iterdir() if (p / "report.html").is_file()) if root.is_dir() else [],
            key=lambda p: p.name,
            reverse=True,
        )
        return [_summary(run) for run in runs]

    @app.get("/", response_class=HTMLResponse, dependencies=reader)
    def index() -> str:
        rows = "".join(
            f'<tr><td><a href="runs/{html.escape(r["run_key"])}/">{html.escape(r["run_key"])}</a>'
            f'</td><td><span class="badge {html.escape(str(r["outcome"]))}">'
            f"{html.escape(str(r['outcome']))}</span></td>"
            f'<td class="num">{_count(r.get("records_in"))}</td>'
            f'<td class="num">{_count(r.get("golden_records"))}</td>'
            f"<td>{html.escape(', '.join(f'{k}: {v}' for k, v in r.get('gates', {}).items()))}"
            "</td></tr>"
            for r in list_runs()
        )
        body = (
            "<table><thead><tr><th>run</th><th>outcome</th><th>source records</th>"
            f"<th>golden records</th><th>gates</th></tr></thead><tbody>{rows}</tbody></table>"
            if rows
            else "<p>No run has written its report yet.</p>"
        )
        return (
            '<!DOCTYPE html><html lang="en-GB"><head><meta charset="utf-8">'
            '<title>Golden record runs</title><link rel="stylesheet" href="review/style.css">'
            "</head><body><main><h1>Golden record runs</h1>"
            '<p>Each night\'s report and its Data Docs; <a href="review">pairs awaiting '
            f"review</a>.</p>{body}</main></body></html>"
        )

    @app.get("/runs/{run_key}", dependencies=reader)
    def run_without_slash(run_key: str) -> RedirectResponse:
        _run_dir(run_key)
        return RedirectResponse(url=f"{run_key}/")

    @app.get("/runs/{run_key}/", dependencies=reader)
    def report(run_key: str) -> FileResponse:
        return FileResponse(_run_dir(run_key) / "report.html", media_type="text/html")

    @app.get("/dag-runs/{run_id:path}", dependencies=reader)
    def report_of_dag_run(run_id: str) -> RedirectResponse:
        """The Airflow UI knows a run by its run id; find the report written for it."""
        for summary in list_runs():
            if summary.get("run_id") == run_id or run_id in summary.get("dag_run_ids", []):
                return RedirectResponse(url=f"../runs/{summary['run_key']}/")
        raise HTTPException(status_code=404, detail=f"no report for DAG run {run_id!r}")

    @app.get("/runs/{run_key}/{file_path:path}", dependencies=reader)
    def run_file(request: Request, run_key: str, file_path: str) -> Response:
        target = servable(_run_dir(run_key), file_path)
        if target is None:
            raise HTTPException(status_code=404, detail="not a report or Data Docs file")
        if target.suffix == ".html" and file_path.startswith("quality/"):
            page = target.read_text(encoding="utf-8")
            return HTMLResponse(data_docs_assets.offline(page, base(request)))
        return FileResponse(target)

    @app.get("/static/data-docs/{asset_path:path}")
    def data_docs_asset(asset_path: str) -> FileResponse:
        found = data_docs_assets.asset(asset_path)
        if found is None:
            raise HTTPException(status_code=404, detail="no such asset")
        return FileResponse(found)

    return app
