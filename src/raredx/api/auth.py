"""Log in and out, who am I, API tokens, and user administration.

- ``POST /auth/login`` (form: ``username``, ``password``, optional ``next``): opens a session
  and redirects (303) to ``next`` (a local path) or ``/``; a client asking for JSON gets
  ``{"user", "role", "centre", "csrf_token"}``. Five failures for one user name in 15 minutes
  lock that name for 15 minutes (the reply does not say whether the name exists).
- ``POST /auth/logout``: closes the session (CSRF-checked like every unsafe request).
- ``GET /api/v1/me``: the user and the session's CSRF token.
- ``/api/v1/tokens``: create (shown once), list and revoke the caller's API tokens.
- ``/api/v1/users``: admins list and add users of their own centre.
"""

from __future__ import annotations

import secrets
import time
from collections import defaultdict, deque
from threading import Lock
from typing import Annotated, Any, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import JSONResponse, RedirectResponse, Response
from pydantic import BaseModel, Field

from raredx.api.deps import (
    NotAuthenticated,
    Services,
    current_user,
    password_fingerprint,
    require_roles,
    services,
)
from raredx.api.security import (
    check_password_strength,
    hash_password,
    needs_rehash,
    new_csrf_token,
    verify_password,
)
from raredx.errors import InputError
from raredx.store import accounts
from raredx.store.accounts import UserRecord

__all__ = [
    "FIRST_ADMIN",
    "FIRST_CENTRE",
    "LOCKOUT_FAILURES",
    "LOCKOUT_SECONDS",
    "create_user",
    "error_body",
    "first_start",
    "quote_path",
    "router",
    "safe_next",
]

LOCKOUT_FAILURES = 5
LOCKOUT_SECONDS = 15 * 60

router = APIRouter()


class _Failures:
    """Recent failed logins per user name (in memory, per process)."""

    def __init__(self) -> None:
        self._lock = Lock()
        self._times: dict[str, deque[float]] = defaultdict(deque)

    def locked(self, name: str) -> bool:
        now = time.monotonic()
        with self._lock:
            times = self._times.get(name)
            if not times:
                return False
            while times and now - times[0] > LOCKOUT_SECONDS:
                times.popleft()
            return len(times) >= LOCKOUT_FAILURES

    def failed(self, name: str) -> None:
        with self._lock:
            self._times[name].append(time.monotonic())

    def succeeded(self, name: str) -> None:
        with self._lock:
            self._times.pop(name, None)


def _failures(request: Request) -> _Failures:
    state = request.app.state
    if not hasattr(state, "login_failures"):
        state.login_failures = _Failures()
    found: _Failures = state.login_failures
    return found


def safe_next(target: str | None) -> str:
    """`target` when it is a local absolute path (no scheme, no host, no //), else "/"."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _wants_json(request: Request) -> bool:
    return "application/json" in request.headers.get("accept", "")


def _login(svc: Services, name: str, password: str) -> UserRecord | None:
    user = accounts.user_record(svc.store, name)
    if not verify_password(user.password_hash if user else None, password) or user is None:
        return None
    if user.password_hash and needs_rehash(user.password_hash):
        accounts.set_password(svc.store, name, hash_password(password), by=name)
        user = accounts.user_record(svc.store, name)
    return user


@router.post("/auth/login", tags=["Session"], summary="Log in (opens a session cookie)")
async def login(
    request: Request,
    svc: Annotated[Services, Depends(services)],
    username: Annotated[str, Form(max_length=128)],
    password: Annotated[str, Form(max_length=1024)],
    next_path: Annotated[str | None, Form(alias="next", max_length=2048)] = None,
) -> Response:
    """Check the password; on success start a session (and a fresh CSRF token)."""
    failures = _failures(request)
    if failures.locked(username):
        raise NotAuthenticated("too many failed logins: wait 15 minutes")
    user = await run_in_threadpool(_login, svc, username, password)
    if user is None:
        failures.failed(username)
        raise NotAuthenticated("wrong user name or password")
    failures.succeeded(username)
    request.session.clear()
    csrf = new_csrf_token()
    request.session.update(
        {
            "user": user.name,
            "csrf": csrf,
            "pwv": password_fingerprint(user.password_hash),
            "at": int(time.time()),
        }
    )
    if _wants_json(request):
        return JSONResponse(
            {"user": user.name, "role": user.role, "centre": user.centre, "csrf_token": csrf}
        )
    return RedirectResponse(safe_next(next_path), status_code=303)


@router.post("/auth/logout", tags=["Session"], summary="Log out")
async def logout(request: Request, user: Annotated[UserRecord, Depends(current_user)]) -> Response:
    """Close the session."""
    request.session.clear()
    if _wants_json(request):
        return JSONResponse({"logged_out": user.name})
    return RedirectResponse("/login", status_code=303)


class Me(BaseModel):
    """The authenticated user."""

    user: str
    role: str
    centre: str
    csrf_token: str | None = Field(None, description="The session's CSRF token (sessions only)")


@router.get("/api/v1/me", response_model=Me, tags=["Session"])
async def me(request: Request, user: Annotated[UserRecord, Depends(current_user)]) -> Me:
    """Who the caller is, and the CSRF token JavaScript must send with unsafe requests."""
    csrf = request.session.get("csrf") if "session" in request.scope else None
    return Me(user=user.name, role=user.role, centre=user.centre, csrf_token=csrf)


class NewToken(BaseModel):
    label: str = Field(min_length=1, max_length=128, description="What the token is for")


class CreatedToken(BaseModel):
    id: int
    label: str
    token: str = Field(description="Shown once: send it as `Authorization: Bearer <token>`")


class TokenInfo(BaseModel):
    id: int
    label: str
    created: str
    last_used: str | None
    revoked: bool


@router.post("/api/v1/tokens", response_model=CreatedToken, status_code=201, tags=["Session"])
def create_token(
    body: NewToken,
    svc: Annotated[Services, Depends(services)],
    user: Annotated[UserRecord, Depends(current_user)],
) -> CreatedToken:
    """A new API token for the caller."""
    token_id, token = accounts.add_api_token(svc.store, user.name, body.label, by=user.name)
    return CreatedToken(id=token_id, label=body.label.strip(), token=token)


@router.get("/api/v1/tokens", response_model=list[TokenInfo], tags=["Session"])
def list_tokens(
    svc: Annotated[Services, Depends(services)],
    user: Annotated[UserRecord, Depends(current_user)],
) -> list[TokenInfo]:
    """The caller's API tokens (never the tokens themselves)."""
    return [
        TokenInfo(
            id=t.id,
            label=t.label,
            created=t.created.isoformat(),
            last_used=t.last_used.isoformat() if t.last_used else None,
            revoked=t.revoked,
        )
        for t in accounts.api_tokens(svc.store, user.name)
    ]


@router.delete("/api/v1/tokens/{token_id}", status_code=204, tags=["Session"])
def revoke_token(
    token_id: int,
    svc: Annotated[Services, Depends(services)],
    user: Annotated[UserRecord, Depends(current_user)],
) -> Response:
    """Revoke one of the caller's tokens."""
    accounts.revoke_api_token(svc.store, token_id, by=user.name)
    svc.tokens.clear()
    return Response(status_code=204)


class NewUser(BaseModel):
    name: str = Field(min_length=1, max_length=128, pattern=r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
    role: Literal["clinician", "geneticist", "admin"]
    password: str = Field(min_length=1, max_length=1024)


class UserInfo(BaseModel):
    name: str
    role: str
    centre: str


@router.get("/api/v1/users", response_model=list[UserInfo], tags=["Users"])
def list_users(
    svc: Annotated[Services, Depends(services)],
    admin: Annotated[UserRecord, Depends(require_roles("admin"))],
) -> list[UserInfo]:
    """The users of the admin's centre."""
    return [
        UserInfo(name=u.name, role=u.role, centre=u.centre)
        for u in accounts.list_users(svc.store)
        if u.centre == admin.centre
    ]


@router.post("/api/v1/users", response_model=UserInfo, status_code=201, tags=["Users"])
def add_user(
    body: NewUser,
    svc: Annotated[Services, Depends(services)],
    admin: Annotated[UserRecord, Depends(require_roles("admin"))],
) -> UserInfo:
    """Add a user to the admin's own centre."""
    check_password_strength(body.password, user=body.name)
    create_user(svc, body.name, body.role, admin.centre, body.password, by=admin.name)
    return UserInfo(name=body.name, role=body.role, centre=admin.centre)


def create_user(
    svc: Services, name: str, role: str, centre: str, password: str, *, by: str | None
) -> None:
    """Add a user with a hashed password (`by`: the acting user, None for the first one)."""
    svc.store.add_user(name, role=role, centre=centre)
    accounts.set_password(svc.store, name, hash_password(password), by=by or name)


def error_body(exc: InputError) -> dict[str, Any]:
    """The JSON body of an InputError: its message and every problem."""
    return {"detail": exc.message, "problems": list(exc.problems)}


def quote_path(path: str) -> str:
    """`path` made safe for a ``next=`` query parameter."""
    return quote(safe_next(path), safe="/")


FIRST_CENTRE = "LOCAL"
FIRST_ADMIN = "admin"


def first_start(svc: Services) -> str | None:
    """On a store without users, create centre LOCAL (if no centre exists) and the user
    ``admin`` with a random password, returned to be shown once; None when users exist."""
    if accounts.count_users(svc.store) > 0:
        return None
    centres = accounts.centre_codes(svc.store)
    if not centres:
        svc.store.add_centre(FIRST_CENTRE, "Local centre")
        centres = (FIRST_CENTRE,)
    password = secrets.token_urlsafe(12)
    create_user(svc, FIRST_ADMIN, "admin", centres[0], password, by=None)
    return password
