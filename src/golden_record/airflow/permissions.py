"""Who may do what in the plugin: a named permission for each kind of route, granted
through Airflow's own auth manager, and every refusal audited.

Each permission is a custom view of Airflow's auth manager, a resource name and a method
(``is_authorized_custom_view``), so whatever the deployment signs people in with decides:

* **FAB** (or Keycloak): the resource and action are granted to roles like any other
  (``Golden Record Review`` with ``can_create`` lets a role decide pairs); a council makes
  its own Steward, Officer and Lookup-service roles.
* **The simple auth manager** answers yes to every custom view for any signed-in user, so
  here its four roles are mapped to permissions, with defaults a council can override in
  ``GOLDEN_RECORD_ROLE_PERMISSIONS`` (``viewer=reports;user=reports,review;…``): viewers
  read reports, users are stewards, ops are information-governance officers and the
  lookup service, admins hold every permission.

A refused request answers 403 naming the missing permission and the user's role, and is
written to Airflow's audit log (event ``golden_record.access_refused``: the user, the
permission, the method and path; never a query string or form, which may hold a
resident's details).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

from fastapi import Depends, HTTPException, Request

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Permission:
    """One thing a user may do: a custom view of Airflow's auth manager."""

    name: str  # the short name the simple auth manager's role map uses
    resource: str  # the auth manager's resource name
    method: Literal["GET", "POST"]  # the auth manager's method (GET reads, POST acts)
    what: str  # what it allows, for refusals and the README

    def __str__(self) -> str:
        return f"{self.resource} ({self.method})"


READ_REPORTS = Permission(
    "reports", "Golden Record Reports", "GET", "read run reports and Data Docs"
)
READ_REVIEW = Permission(
    "review", "Golden Record Review", "GET", "see the review queue and its pairs"
)
DECIDE_REVIEW = Permission(
    "review", "Golden Record Review", "POST", "decide whether two records are one person"
)
READ_RIGHTS = Permission("rights", "Golden Record Rights", "GET", "see residents' rights requests")
ANSWER_RIGHTS = Permission(
    "rights", "Golden Record Rights", "POST", "answer a subject access request"
)
LOOKUP = Permission(
    "lookup", "Golden Record Lookup", "POST", "ask whether a person is known (lookup API)"
)
EVERY_PERMISSION = (READ_REPORTS, READ_REVIEW, DECIDE_REVIEW, READ_RIGHTS, ANSWER_RIGHTS, LOOKUP)

# The simple auth manager's roles → the permission names they hold, unless
# GOLDEN_RECORD_ROLE_PERMISSIONS says otherwise. Not nested like Airflow's own roles: an
# officer answering rights requests need not decide pairs, nor a steward see requests.
DEFAULT_ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    "viewer": frozenset({"reports"}),
    "user": frozenset({"reports", "review"}),
    "op": frozenset({"reports", "rights", "lookup"}),
    "admin": frozenset({"reports", "review", "rights", "lookup"}),
}
ROLE_PERMISSIONS_VARIABLE = "GOLDEN_RECORD_ROLE_PERMISSIONS"
REFUSED_EVENT = "golden_record.access_refused"


class RoleMapError(ValueError):
    """GOLDEN_RECORD_ROLE_PERMISSIONS is malformed."""


def role_permissions(text: str | None = None) -> dict[str, frozenset[str]]:
    """The role map: the defaults, with each role named in ``text``
    (``role=name,name;role=…``, ``*`` for all) replaced."""
    if text is None:
        from golden_record.settings import runtime

        text = runtime().role_permissions
    known = {p.name for p in EVERY_PERMISSION}
    mapping = dict(DEFAULT_ROLE_PERMISSIONS)
    for entry in filter(None, (part.strip() for part in text.split(";"))):
        role, equals, names = entry.partition("=")
        if not equals or not role.strip():
            raise RoleMapError(
                f"{ROLE_PERMISSIONS_VARIABLE}: {entry!r} is not role=permission,permission"
            )
        granted = {n.strip() for n in names.split(",") if n.strip()}
        if "*" in granted:
            granted = known
        unknown = sorted(granted - known)
        if unknown:
            raise RoleMapError(
                f"{ROLE_PERMISSIONS_VARIABLE}: unknown permission {', '.join(unknown)} for role "
                f"{role.strip()}; the permissions are {', '.join(sorted(known))}"
            )
        mapping[role.strip().lower()] = frozenset(granted)
    return mapping


def _role(user: Any) -> str | None:
    role = getattr(user, "role", None)
    return str(role).lower() if role else None


def is_allowed(user: Any, permission: Permission) -> bool:
    """Whether Airflow's auth manager grants ``permission`` to ``user``."""
    from airflow.api_fastapi.app import get_auth_manager
    from airflow.api_fastapi.auth.managers.simple.simple_auth_manager import SimpleAuthManager

    manager = get_auth_manager()
    if isinstance(manager, SimpleAuthManager):
        # Its custom-view answer is yes for any role: the role map decides instead.
        role = _role(user)
        return role is not None and permission.name in role_permissions().get(role, frozenset())
    return bool(
        manager.is_authorized_custom_view(
            method=permission.method, resource_name=permission.resource, user=user
        )
    )


def audit_refusal(request: Request, user: Any, what: str, detail: str) -> None:
    """Write a refusal to Airflow's audit log (and the API server's log), by user name,
    method and path only."""
    entry = {
        "refused": what,
        "method": request.method,
        "path": request.url.path[:500],
        "detail": detail[:500],
    }
    name = user.get_name() if user is not None else None
    log.warning(
        "golden-record refused %s %s for user %s: %s", request.method, entry["path"], name, what
    )
    try:
        from airflow.models.log import Log
        from airflow.utils.session import create_session

        with create_session() as session:
            session.add(Log(event=REFUSED_EVENT, owner=name, extra=json.dumps(entry)))
    except Exception:  # noqa: BLE001 - a refusal must still be answered if the log is down
        log.exception("could not write the refusal to Airflow's audit log")


def requires(permission: Permission) -> Any:
    """A FastAPI dependency: the signed-in user, if they hold ``permission``; 403 naming
    it otherwise (audited)."""
    from airflow.api_fastapi.core_api.security import get_user

    def check(request: Request, user: Any = Depends(get_user)) -> Any:  # noqa: B008
        if is_allowed(user, permission):
            return user
        role = _role(user)
        detail = (
            f"this needs the permission {permission} ({permission.what}), which "
            f"{'the role ' + repr(role) if role else 'your account'} does not hold; an Airflow "
            "admin grants it (see the README, Permissions)"
        )
        audit_refusal(request, user, str(permission), detail)
        raise HTTPException(status_code=403, detail=detail)

    return check
