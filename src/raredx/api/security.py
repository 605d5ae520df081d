"""Passwords, the session secret, and CSRF tokens.

- Passwords are hashed with Argon2id (argon2-cffi's defaults: RFC 9106 low-memory profile);
  hashes needing an upgrade are re-hashed at the next login.
- Sessions are Starlette signed cookies (itsdangerous HMAC) holding only the user name, a CSRF
  token and the login time; the signing key is ``$RAREDX_SECRET_KEY`` or a random key kept in
  ``secret_key`` in the raredx home (created 0600 on first use).
- CSRF: every unsafe request authenticated by the session cookie must carry the session's
  token in ``X-CSRF-Token`` (JavaScript) or a ``csrf_token`` form field (HTML forms). Requests
  authenticated by an API token (``Authorization: Bearer``) carry no cookie and need none.
"""

from __future__ import annotations

import hmac
import os
import secrets
from pathlib import Path

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from raredx.errors import InputError
from raredx.kb import raredx_home

__all__ = [
    "MIN_PASSWORD_LENGTH",
    "SECRET_KEY_ENV",
    "check_password_strength",
    "hash_password",
    "needs_rehash",
    "new_csrf_token",
    "same_token",
    "secret_key",
    "verify_password",
]

SECRET_KEY_ENV = "RAREDX_SECRET_KEY"
MIN_PASSWORD_LENGTH = 10
_MAX_PASSWORD_LENGTH = 1024

_hasher = PasswordHasher()


def check_password_strength(password: str, *, user: str) -> None:
    """InputError unless `password` has 10 to 1024 characters and is not the user name."""
    problems = []
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.append(f"at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > _MAX_PASSWORD_LENGTH:
        problems.append(f"at most {_MAX_PASSWORD_LENGTH} characters")
    if password.strip().lower() == user.strip().lower():
        problems.append("must not be the user name")
    if problems:
        raise InputError("password refused", problems)


def hash_password(password: str) -> str:
    """The Argon2id hash (PHC string) of `password`."""
    return _hasher.hash(password)


def verify_password(stored_hash: str | None, password: str) -> bool:
    """True when `password` matches `stored_hash`; False for no hash or a malformed one.

    A missing hash still costs one hash computation, so a login for an unknown user takes as
    long as one with a wrong password.
    """
    if len(password) > _MAX_PASSWORD_LENGTH:
        return False
    if not stored_hash:
        _hasher.hash(password)
        return False
    try:
        return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with weaker parameters than today's."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


def secret_key(home: Path | None = None) -> str:
    """The session-signing key: ``$RAREDX_SECRET_KEY``, else the ``secret_key`` file in the
    raredx home (64 random bytes, hex; created with mode 0600 on first call)."""
    env = os.environ.get(SECRET_KEY_ENV)
    if env:
        if len(env) < 32:
            raise InputError("RAREDX_SECRET_KEY is too short", ["use at least 32 characters"])
        return env
    path = (home or raredx_home()) / "secret_key"
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(64)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first: use theirs
        return path.read_text(encoding="ascii").strip()
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(key)
    return key


def new_csrf_token() -> str:
    """A fresh CSRF token (256 bits, URL-safe)."""
    return secrets.token_urlsafe(32)


def same_token(expected: str | None, given: str | None) -> bool:
    """Constant-time comparison of two tokens; False when either is missing."""
    if not expected or not given:
        return False
    return hmac.compare_digest(expected.encode(), given.encode())
