"""A node's Matchmaker Exchange settings: what it shares, with whom, and the peers' tokens.

Read from a TOML file (``$RAREDX_MME_CONFIG``, else ``$RAREDX_HOME/mme.toml``)::

    [node]
    centre = "RDB"                 # the store centre whose MME-shared cases this node serves
    user = "mme"                   # the store user the node reads as (every read is audited)
    contact_name = "Dr A. Martin, Hématologie pédiatrique"
    contact_href = "mailto:mme@example.org"   # public: http(s) or mailto
    institution = "Hôpital Robert-Debré"
    candidate_genes = 5            # share the top N candidate genes of each case (0: none)
    candidate_min_score = 0.05     # ... whose gene score is at least this (0-1)
    min_score = 0.2                # results scoring below this are not returned (0-1)
    max_results = 10
    disclaimer = "..."             # optional, sent with every request and response

    [[peers]]
    name = "necker"
    base_url = "https://mme.necker.example/api"      # this node POSTs to <base_url>/match
    token = "..."                  # the token this node sends to the peer (X-Auth-Token)
    accept_token_sha256 = "..."    # SHA-256 (hex) of the token the peer sends to this node

Incoming tokens are kept only as SHA-256 digests; `raredx mme token` makes a token and its
digest. A peer without ``accept_token_sha256`` may not query this node; a peer without
``token`` and ``base_url`` is not queried.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from raredx.errors import InputError
from raredx.kb import raredx_home

__all__ = [
    "CONFIG_ENV",
    "CONFIG_FILE",
    "MmeConfig",
    "NodeSettings",
    "Peer",
    "default_config_path",
    "load_config",
    "new_token",
    "token_digest",
]

CONFIG_ENV = "RAREDX_MME_CONFIG"
CONFIG_FILE = "mme.toml"

_HEX64 = re.compile(r"^[0-9a-f]{64}$")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_MAX_CONFIG_BYTES = 1 << 20


def token_digest(token: str) -> str:
    """Hex SHA-256 of a token: what the configuration stores for incoming tokens."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def new_token() -> tuple[str, str]:
    """A fresh random token (256 bits, URL-safe) and its digest."""
    token = secrets.token_urlsafe(32)
    return token, token_digest(token)


@dataclass(frozen=True, slots=True)
class Peer:
    """Another MME node: where to send queries and the tokens both ways."""

    name: str
    base_url: str | None = None
    token: str | None = None
    accept_token_sha256: str | None = None

    @property
    def queryable(self) -> bool:
        """True when this node can send queries to the peer."""
        return self.base_url is not None and self.token is not None

    def __repr__(self) -> str:  # never print a token
        return f"Peer(name={self.name!r}, base_url={self.base_url!r})"


@dataclass(frozen=True, slots=True)
class NodeSettings:
    """What this node shares and how it answers; see the module documentation."""

    centre: str
    user: str
    contact_name: str
    contact_href: str
    institution: str | None = None
    candidate_genes: int = 5
    candidate_min_score: float = 0.05
    min_score: float = 0.2
    max_results: int = 10
    disclaimer: str | None = None


@dataclass(frozen=True, slots=True)
class MmeConfig:
    """A node's settings and its peers (names unique)."""

    node: NodeSettings
    peers: tuple[Peer, ...] = ()

    def peer_for_token(self, token: str | None) -> Peer | None:
        """The peer whose accepted digest matches `token` (constant-time compare), or None."""
        if not token:
            return None
        digest = token_digest(token)
        found = None
        for peer in self.peers:
            if peer.accept_token_sha256 is not None and hmac.compare_digest(
                peer.accept_token_sha256, digest
            ):
                found = peer
        return found

    def peer(self, name: str) -> Peer:
        """The peer called `name`; InputError if none."""
        for peer in self.peers:
            if peer.name == name:
                return peer
        known = ", ".join(p.name for p in self.peers) or "none configured"
        raise InputError("unknown MME peer", [f"{name} (known: {known})"])


def default_config_path() -> Path:
    """``$RAREDX_MME_CONFIG`` if set, else ``mme.toml`` in the raredx home."""
    env = os.environ.get(CONFIG_ENV)
    return Path(env) if env else raredx_home() / CONFIG_FILE


def load_config(path: str | Path | None = None) -> MmeConfig:
    """Read and check an MME configuration; InputError listing every problem."""
    where = Path(path) if path is not None else default_config_path()
    try:
        with where.open("rb") as fh:
            raw = fh.read(_MAX_CONFIG_BYTES + 1)
    except OSError as exc:
        raise InputError(
            "cannot read the MME configuration",
            [f"{where}: {exc.strerror or exc}", "see docs/mme.md for its format"],
        ) from None
    if len(raw) > _MAX_CONFIG_BYTES:
        raise InputError("MME configuration too large", [f"{where}: over 1 MiB"])
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InputError("MME configuration is not valid TOML", [f"{where}: {exc}"]) from None
    problems: list[str] = []
    node = _node(data.get("node"), problems)
    peers = _peers(data.get("peers", []), problems)
    unknown = sorted(set(data) - {"node", "peers"})
    problems.extend(f"unknown section [{k}]" for k in unknown)
    if problems or node is None:
        raise InputError(f"invalid MME configuration {where}", problems)
    return MmeConfig(node=node, peers=peers)


def _text(
    table: dict[str, Any],
    key: str,
    where: str,
    problems: list[str],
    *,
    required: bool,
    limit: int = 255,
) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            problems.append(f"{where}.{key}: missing")
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        problems.append(f"{where}.{key}: must be a non-empty string of at most {limit} characters")
        return None
    return value


def _number(
    table: dict[str, Any],
    key: str,
    default: float,
    low: float,
    high: float,
    where: str,
    problems: list[str],
    *,
    integer: bool = False,
) -> float:
    value = table.get(key, default)
    number_ok = isinstance(value, int) or (isinstance(value, float) and not integer)
    if isinstance(value, bool) or not number_ok or not low <= float(value) <= high:
        kind = "an integer" if integer else "a number"
        problems.append(f"{where}.{key}: must be {kind} from {low:g} to {high:g}")
        return default
    return float(value)


_NODE_KEYS = {
    "centre",
    "user",
    "contact_name",
    "contact_href",
    "institution",
    "candidate_genes",
    "candidate_min_score",
    "min_score",
    "max_results",
    "disclaimer",
}
_PEER_KEYS = {"name", "base_url", "token", "accept_token_sha256"}


def _node(table: object, problems: list[str]) -> NodeSettings | None:
    if not isinstance(table, dict):
        problems.append("[node]: missing")
        return None
    problems.extend(f"node.{k}: unknown setting" for k in sorted(set(table) - _NODE_KEYS))
    centre = _text(table, "centre", "node", problems, required=True, limit=64)
    user = _text(table, "user", "node", problems, required=True, limit=128)
    name = _text(table, "contact_name", "node", problems, required=True)
    href = _text(table, "contact_href", "node", problems, required=True, limit=2048)
    if href is not None and not re.match(r"^(https?|mailto):\S+$", href):
        problems.append("node.contact_href: must be an http(s) or mailto URL")
    institution = _text(table, "institution", "node", problems, required=False)
    disclaimer = _text(table, "disclaimer", "node", problems, required=False, limit=10_000)
    genes = _number(table, "candidate_genes", 5, 0, 50, "node", problems, integer=True)
    gene_min = _number(table, "candidate_min_score", 0.05, 0.0, 1.0, "node", problems)
    min_score = _number(table, "min_score", 0.2, 0.0, 1.0, "node", problems)
    max_results = _number(table, "max_results", 10, 1, 100, "node", problems, integer=True)
    if centre is None or user is None or name is None or href is None:
        return None
    return NodeSettings(
        centre=centre,
        user=user,
        contact_name=name,
        contact_href=href,
        institution=institution,
        candidate_genes=int(genes),
        candidate_min_score=gene_min,
        min_score=min_score,
        max_results=int(max_results),
        disclaimer=disclaimer,
    )


def _peers(items: object, problems: list[str]) -> tuple[Peer, ...]:
    if not isinstance(items, list):
        problems.append("[[peers]]: must be an array of tables")
        return ()
    peers: list[Peer] = []
    for n, table in enumerate(items, 1):
        where = f"peers[{n}]"
        if not isinstance(table, dict):
            problems.append(f"{where}: must be a table")
            continue
        problems.extend(f"{where}.{k}: unknown setting" for k in sorted(set(table) - _PEER_KEYS))
        name = _text(table, "name", where, problems, required=True, limit=64)
        if name is not None and not _NAME.match(name):
            problems.append(f"{where}.name: letters, digits, '.', '_' or '-' only")
        base_url = _text(table, "base_url", where, problems, required=False, limit=2048)
        if base_url is not None and not re.match(r"^https?://\S+$", base_url):
            problems.append(f"{where}.base_url: must be an http(s) URL")
        token = _text(table, "token", where, problems, required=False, limit=1024)
        digest = _text(table, "accept_token_sha256", where, problems, required=False, limit=64)
        if digest is not None and not _HEX64.match(digest):
            problems.append(f"{where}.accept_token_sha256: must be 64 lower-case hex digits")
        if (base_url is None) != (token is None):
            problems.append(f"{where}: base_url and token go together")
        if name is not None:
            peers.append(
                Peer(
                    name=name,
                    base_url=base_url.rstrip("/") if base_url else None,
                    token=token,
                    accept_token_sha256=digest,
                )
            )
    digests = [p.accept_token_sha256 for p in peers if p.accept_token_sha256]
    if len(digests) != len(set(digests)):
        problems.append("two peers share one accept_token_sha256: give each peer its own token")
    names = [p.name for p in peers]
    problems.extend(
        f"peer {n}: named twice" for n in sorted({n for n in names if names.count(n) > 1})
    )
    return tuple(peers)
