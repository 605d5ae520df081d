"""Accounts: users' password hashes and API tokens, read and written through a `Store`.

Passwords arrive here already hashed (`raredx.api.security.hash_password`); API tokens as
SHA-256 digests: the store never sees a secret. Every write is one transaction with its
audit entry (entity ``user`` or ``api_token``).
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from raredx.errors import InputError
from raredx.store import models as m
from raredx.store.store import Store

__all__ = [
    "ApiTokenRecord",
    "UserRecord",
    "add_api_token",
    "api_tokens",
    "centre_codes",
    "count_users",
    "list_users",
    "revoke_api_token",
    "set_password",
    "user_for_token",
    "user_record",
]


@dataclass(frozen=True, slots=True)
class UserRecord:
    """A user as authentication sees it: name, role, centre code and password hash."""

    name: str
    role: str
    centre: str
    password_hash: str | None

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"


@dataclass(frozen=True, slots=True)
class ApiTokenRecord:
    """An API token's public part (never the token): id, owner, label, times, revoked?"""

    id: int
    user: str
    label: str
    created: datetime
    last_used: datetime | None
    revoked: bool


def _record(row: m.User) -> UserRecord:
    return UserRecord(row.name, row.role, row.centre.code, row.password_hash)


def user_record(store: Store, name: str) -> UserRecord | None:
    """The user called `name`, or None. Not audited: no patient data is read."""
    with store.transaction() as s:
        row = s.scalar(select(m.User).where(m.User.name == name))
        return _record(row) if row is not None else None


def count_users(store: Store) -> int:
    """How many users the store has."""
    with store.transaction() as s:
        return int(s.scalar(select(func.count()).select_from(m.User)) or 0)


def centre_codes(store: Store) -> tuple[str, ...]:
    """Codes of every centre, in creation order."""
    with store.transaction() as s:
        return tuple(s.scalars(select(m.Centre.code).order_by(m.Centre.id)).all())


def list_users(store: Store) -> tuple[UserRecord, ...]:
    """Every user, by name (hashes included: for administration code only)."""
    with store.transaction() as s:
        rows = s.scalars(select(m.User).order_by(m.User.name)).all()
        return tuple(_record(r) for r in rows)


def set_password(store: Store, name: str, password_hash: str, *, by: str) -> None:
    """Replace `name`'s password hash; `by` is the acting user (may be `name`)."""
    with store.transaction() as s:
        actor = s.scalar(select(m.User).where(m.User.name == by))
        row = s.scalar(select(m.User).where(m.User.name == name))
        problems = [f"no user {n!r}" for n, r in ((by, actor), (name, row)) if r is None]
        if problems or row is None or actor is None:
            raise InputError("the password was not changed", problems)
        row.password_hash = password_hash
        s.add(
            m.AuditEntry(
                user_id=actor.id, action="write", entity="user", entity_id=name, at=m.utc_now()
            )
        )


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def add_api_token(store: Store, name: str, label: str, *, by: str) -> tuple[int, str]:
    """A new API token for user `name` labelled `label`: (its id, the token). The token is
    shown once; the store keeps its SHA-256 digest only."""
    label = label.strip()
    if not 1 <= len(label) <= 128:
        raise InputError("the token was not created", ["label: 1 to 128 characters"])
    if not label.isprintable():  # NUL and other controls: PostgreSQL refuses NUL outright
        raise InputError("the token was not created", ["label: printable characters only"])
    token = "rdx_" + secrets.token_urlsafe(32)
    with store.transaction() as s:
        actor = s.scalar(select(m.User).where(m.User.name == by))
        row = s.scalar(select(m.User).where(m.User.name == name))
        problems = [f"no user {n!r}" for n, r in ((by, actor), (name, row)) if r is None]
        if problems or row is None or actor is None:
            raise InputError("the token was not created", problems)
        entry = m.ApiToken(
            user_id=row.id,
            label=label,
            token_sha256=_digest(token),
            created_at=m.utc_now(),
            revoked=False,
        )
        s.add(entry)
        s.flush()
        s.add(
            m.AuditEntry(
                user_id=actor.id,
                action="write",
                entity="api_token",
                entity_id=str(entry.id),
                at=m.utc_now(),
            )
        )
        return entry.id, token


def user_for_token(store: Store, token: str) -> UserRecord | None:
    """The owner of a valid (not revoked) API token, or None; records its last use."""
    if not token.startswith("rdx_") or len(token) > 256:
        return None
    with store.transaction() as s:
        entry = s.scalar(
            select(m.ApiToken).where(
                m.ApiToken.token_sha256 == _digest(token), m.ApiToken.revoked.is_(False)
            )
        )
        if entry is None:
            return None
        now = m.utc_now()
        # Written at most once a minute: a write per API request would serialise every
        # request on SQLite's single writer.
        if entry.last_used_at is None or (now - entry.last_used_at).total_seconds() >= 60:
            entry.last_used_at = now
        return _record(entry.user)


def api_tokens(store: Store, name: str) -> tuple[ApiTokenRecord, ...]:
    """The tokens of user `name`, oldest first."""
    with store.transaction() as s:
        rows = s.scalars(
            select(m.ApiToken).join(m.User).where(m.User.name == name).order_by(m.ApiToken.id)
        ).all()
        return tuple(
            ApiTokenRecord(r.id, name, r.label, r.created_at, r.last_used_at, r.revoked)
            for r in rows
        )


def revoke_api_token(store: Store, token_id: int, *, by: str) -> None:
    """Revoke a token; only its owner or an admin of the owner's centre may."""
    with store.transaction() as s:
        actor = s.scalar(select(m.User).where(m.User.name == by))
        entry = s.get(m.ApiToken, token_id)
        if actor is None or entry is None:
            raise InputError("the token was not revoked", [f"no token {token_id} for {by!r}"])
        owner = entry.user
        allowed = owner.id == actor.id or (
            actor.role == "admin" and actor.centre_id == owner.centre_id
        )
        if not allowed:
            raise InputError("the token was not revoked", [f"no token {token_id} for {by!r}"])
        entry.revoked = True
        s.add(
            m.AuditEntry(
                user_id=actor.id,
                action="write",
                entity="api_token",
                entity_id=str(token_id),
                at=m.utc_now(),
            )
        )
