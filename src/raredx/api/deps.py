"""What request handlers share, and the FastAPI dependencies that hand it to them: the
services, the authenticated user, role checks.

Authentication, in order: ``Authorization: Bearer rdx_...`` (an API token; no cookie, no CSRF
check), else the signed session cookie set at login. A session is valid only while the user's
password hash is the one it was opened with (a password change logs every session out). An
unsafe request (POST, PUT, PATCH, DELETE) authenticated by the session must carry the
session's CSRF token in ``X-CSRF-Token`` or, for HTML forms, a ``csrf_token`` field.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool

from raredx.api.security import same_token
from raredx.kb import KnowledgeBase
from raredx.mme.config import MmeConfig
from raredx.store import Store
from raredx.store.accounts import UserRecord, user_for_token, user_record

__all__ = [
    "SAFE_METHODS",
    "Forbidden",
    "NotAuthenticated",
    "Services",
    "TokenCache",
    "current_user",
    "password_fingerprint",
    "require_roles",
    "services",
]

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
_FORM_TYPES = ("application/x-www-form-urlencoded", "multipart/form-data")


class TokenCache:
    """API tokens recently found valid, so that a client's every request does not read the
    store (that read costs more than a cached answer). Keyed by the token's SHA-256 digest;
    an entry is trusted for `ttl` seconds: a token revoked through another server process
    stops working within `ttl` (at once in the process that revoked it, which calls
    `clear`). At most `size` entries, least recently used dropped first."""

    def __init__(self, ttl: float = 5.0, size: int = 1024) -> None:
        self.ttl = ttl
        self.size = size
        self._entries: OrderedDict[str, tuple[float, UserRecord]] = OrderedDict()
        self._lock = threading.Lock()

    @staticmethod
    def _key(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    def get(self, token: str) -> UserRecord | None:
        """The cached owner of `token`, or None (unknown or older than `ttl`)."""
        key, now = self._key(token), time.monotonic()
        with self._lock:
            found = self._entries.get(key)
            if found is None or now - found[0] > self.ttl:
                self._entries.pop(key, None)
                return None
            self._entries.move_to_end(key)
            return found[1]

    def put(self, token: str, user: UserRecord) -> None:
        with self._lock:
            self._entries[self._key(token)] = (time.monotonic(), user)
            self._entries.move_to_end(self._key(token))
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(frozen=True, slots=True)
class Services:
    """What every request handler shares: the store, the KB, the MME settings (None: this
    node takes part in no exchange), the recently checked API tokens."""

    store: Store
    kb: KnowledgeBase
    mme: MmeConfig | None
    tokens: TokenCache = field(default_factory=TokenCache)


class NotAuthenticated(Exception):
    """No valid credentials: 401 for the API, a redirect to the login page for the web UI."""


class Forbidden(Exception):
    """Authenticated, but not allowed (role, or a missing/wrong CSRF token): 403."""


async def services(request: Request) -> Services:
    """The app's shared services (FastAPI dependency; async, so that it runs on the event
    loop: FastAPI sends a plain function to the thread pool, a round trip per request)."""
    found: Services = request.app.state.services
    return found


def password_fingerprint(password_hash: str | None) -> str:
    """A short digest of a password hash, kept in the session to detect a password change."""
    return hashlib.sha256((password_hash or "").encode()).hexdigest()[:16]


async def _csrf_ok(request: Request) -> bool:
    expected = request.session.get("csrf")
    if same_token(expected, request.headers.get("x-csrf-token")):
        return True
    content_type = request.headers.get("content-type", "").split(";", 1)[0].strip().lower()
    if content_type in _FORM_TYPES:
        form = await request.form()
        given = form.get("csrf_token")
        return same_token(expected, given if isinstance(given, str) else None)
    return False


async def current_user(request: Request, svc: Annotated[Services, Depends(services)]) -> UserRecord:
    """The authenticated user (API token or session); NotAuthenticated or Forbidden (CSRF)."""
    header = request.headers.get("authorization", "")
    if header[:7].lower() == "bearer ":
        token = header[7:].strip()
        found = svc.tokens.get(token)
        if found is None:
            found = await run_in_threadpool(user_for_token, svc.store, token)
            if found is None:
                raise NotAuthenticated("invalid or revoked API token")
            svc.tokens.put(token, found)
        return found
    name = request.session.get("user") if "session" in request.scope else None
    if not isinstance(name, str):
        raise NotAuthenticated("not logged in")
    user = await run_in_threadpool(user_record, svc.store, name)
    if user is None or request.session.get("pwv") != password_fingerprint(user.password_hash):
        request.session.clear()
        raise NotAuthenticated("session expired: log in again")
    if request.method not in SAFE_METHODS and not await _csrf_ok(request):
        raise Forbidden("missing or wrong CSRF token")
    return user


def require_roles(*roles: str) -> Callable[..., Awaitable[UserRecord]]:
    """A dependency admitting only users with one of `roles` (Forbidden otherwise)."""

    async def check(user: Annotated[UserRecord, Depends(current_user)]) -> UserRecord:
        if user.role not in roles:
            raise Forbidden(f"this needs the role {' or '.join(roles)}")
        return user

    return check
