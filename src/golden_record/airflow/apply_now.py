"""Apply now: the stewards' decisions put into effect at once, from their own pages.

A decision is honoured by the next night; a steward who has just merged or split a person
need not wait. The button clears the latest accepted night's ``match`` task and every
task after it in its nightly DAG run, so the scheduler runs them again with every
decision in force, through the same gates and the same publish as the night: the CRM
hears ``merged`` or ``split`` as it does from a night (``golden-record night
apply-decisions`` does the same without Airflow).

The clearing is asked of Airflow's own REST API (``clearTaskInstances``) with the
steward's own credentials, so Airflow's permissions decide whether this user may rerun
the DAG's tasks, and Airflow's audit log records who did; the run's note says why.
Refused, changing nothing, when no night is accepted, a later night has run (it applies
the decisions), the night's run is still running, or Airflow has no run for the night.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse

from golden_record.airflow.permissions import DECIDE_REVIEW, requires
from golden_record.airflow.web import FORM_TOKEN_FIELD, URL_PREFIX, base, check_form, render

APPLY = "review/apply-now"
NIGHTLY_DAG = "golden_record_nightly"
FIRST_TASK = "match"  # the tasks after it (build, gate, publish, report) are cleared with it
TIMEOUT_SECONDS = 30


@dataclass(frozen=True)
class Cleared:
    """What Airflow cleared: the night, its DAG run and the tasks that will run again."""

    run_key: str
    dag_run_id: str
    task_ids: list[str]


def _airflow_prefix(request: Request) -> str:
    """Airflow's path prefix (``""`` unless it is served under one): ours less the
    plugin's mount."""
    return str(request.scope.get("root_path", "")).rstrip("/").removesuffix(URL_PREFIX)


def _airflow_root(request: Request) -> str:
    """Airflow's own API as this server answers it: the address the request reached (the
    server always answers itself there, whatever name the browser used), under Airflow's
    path prefix."""
    server = request.scope.get("server")
    if server and server[1]:
        host, port = server
        host = f"[{host}]" if ":" in host else host
        origin = f"{request.url.scheme}://{host}:{port}"
    else:  # a Unix socket: Airflow's configured address
        from airflow.configuration import conf

        origin = conf.get("api", "base_url", fallback="http://localhost:8080").rstrip("/")
    return f"{origin}{_airflow_prefix(request)}"


def _credentials(request: Request) -> dict[str, str]:
    """The steward's own token, as they presented it (a bearer token, or the UI's cookie)."""
    from airflow.api_fastapi.auth.managers.base_auth_manager import COOKIE_NAME_JWT_TOKEN

    header = request.headers.get("authorization", "")
    if header.lower().startswith("bearer "):
        return {"Authorization": header}
    return {"Authorization": f"Bearer {request.cookies.get(COOKIE_NAME_JWT_TOKEN, '')}"}


def _refused_by_airflow(answer: Any, doing: str) -> HTTPException:
    try:
        detail = answer.json().get("detail")
    except ValueError:
        detail = answer.text[:300]
    if answer.status_code in (401, 403):
        return HTTPException(
            status_code=403,
            detail=(
                f"Airflow refused to let you {doing}: {detail}. Applying decisions now reruns "
                f"the {NIGHTLY_DAG} DAG's tasks, which needs Airflow's permission to edit "
                "its task instances (the simple auth manager's role user or above); or they "
                "take effect with the next night"
            ),
        )
    return HTTPException(
        status_code=502, detail=f"Airflow answered {answer.status_code} when asked to {doing}"
    )


def _night_to_apply_to(seen: str) -> str:
    """The latest accepted night, if it is the one the steward's page showed (``seen``)
    and the decisions may be applied to it."""
    from golden_record import paths
    from golden_record.jobs import ApplyRefused, check_applicable
    from golden_record.matching.lookup import latest_accepted

    night = latest_accepted(paths.runs_root())
    if night is None:
        raise HTTPException(status_code=409, detail="no night has been accepted yet")
    if night.key != seen:
        raise HTTPException(
            status_code=409,
            detail=(
                f"your page offered to apply the decisions to night {seen}, but the latest "
                f"accepted night is {night.key}: reload the page and look again"
            ),
        )
    try:
        check_applicable(night)
    except ApplyRefused as exc:
        raise HTTPException(status_code=409, detail=str(exc)) from None
    return night.key


def clear_latest_night(request: Request, user: Any, seen: str) -> Cleared:
    """Clear the latest accepted night's ``match`` and the tasks after it, as ``user``;
    ``seen``: the night the steward's page offered."""
    import httpx

    run_key = _night_to_apply_to(seen)
    day = date.fromisoformat(run_key)
    dag = f"{_airflow_root(request)}/api/v2/dags/{NIGHTLY_DAG}"
    with httpx.Client(headers=_credentials(request), timeout=TIMEOUT_SECONDS) as airflow:
        answer = airflow.get(
            f"{dag}/dagRuns",
            params={
                "logical_date_gte": f"{day}T00:00:00Z",
                "logical_date_lt": f"{day + timedelta(days=1)}T00:00:00Z",
                "order_by": "-logical_date",
                "limit": 1,
            },
        )
        if answer.status_code != 200:
            raise _refused_by_airflow(answer, f"read the {NIGHTLY_DAG} DAG's runs")
        runs = answer.json()["dag_runs"]
        if not runs:
            raise HTTPException(
                status_code=404,
                detail=(
                    f"Airflow has no run of {NIGHTLY_DAG} for night {run_key} (it was run "
                    "outside Airflow): apply the decisions with `golden-record night "
                    f"apply-decisions {run_key}`"
                ),
            )
        dag_run = runs[0]
        if dag_run["state"] not in ("success", "failed"):
            raise HTTPException(
                status_code=409,
                detail=(
                    f"night {run_key}'s run is {dag_run['state']} now: apply the decisions "
                    "once it has finished"
                ),
            )
        answer = airflow.post(
            f"{dag}/clearTaskInstances",
            json={
                "dag_run_id": dag_run["dag_run_id"],
                "task_ids": [FIRST_TASK],
                "include_downstream": True,
                "only_failed": False,
                "reset_dag_runs": True,
                "dry_run": False,
                "note": f"stewards' decisions applied now by {user.get_name()}",
            },
        )
        if answer.status_code != 200:
            raise _refused_by_airflow(answer, f"rerun night {run_key}'s tasks")
    task_ids = sorted({ti["task_id"] for ti in answer.json()["task_instances"]})
    return Cleared(run_key=run_key, dag_run_id=dag_run["dag_run_id"], task_ids=task_ids)


def panel(user: Any) -> dict[str, Any]:
    """What the queues' Apply now form needs: the night it would rerun (None while no
    night is accepted, or for a user who may not decide) and the user's token for it."""
    from golden_record import paths
    from golden_record.airflow.permissions import is_allowed
    from golden_record.airflow.web import form_token
    from golden_record.matching.lookup import latest_accepted

    night = latest_accepted(paths.runs_root()) if is_allowed(user, DECIDE_REVIEW) else None
    return {"night": night.key if night else None, "token": form_token(user, APPLY)}


def router() -> APIRouter:
    """The route, for the plugin's app to include."""
    pages = APIRouter()

    @pages.post("/review/apply-now", response_class=HTMLResponse)
    def apply_now(
        request: Request,
        night: str = Form(...),
        token: str = Form("", alias=FORM_TOKEN_FIELD),
        user: Any = Depends(requires(DECIDE_REVIEW)),  # noqa: B008
    ) -> str:
        check_form(request, user, APPLY, token)
        cleared = clear_latest_night(request, user, night)
        return render(
            "apply_now.html",
            base=base(request),
            cleared=cleared,
            run_page=(
                f"{_airflow_prefix(request)}/dags/{NIGHTLY_DAG}/runs/"
                f"{quote(cleared.dag_run_id, safe='')}"
            ),
        )

    return pages
