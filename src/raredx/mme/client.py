"""Query configured MME peers with a stored case and read their answers.

Each peer gets ``POST <base_url>/match`` with the case as an MME patient, the peer's token in
``X-Auth-Token``, and ``Content-Type``/``Accept`` naming MME v1.0 (the version every MME node
accepts). A peer that is down, slow, refuses the token or answers something that is not a
valid MME response is reported with its error; the other peers are still queried.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import httpx2 as httpx
from pydantic import ValidationError

from raredx.mme.config import Peer
from raredx.mme.schema import MatchResponse, media_type, parse_media_type

__all__ = ["MAX_RESPONSE_BYTES", "REQUEST_VERSION", "PeerAnswer", "query_peer", "query_peers"]

REQUEST_VERSION = "1.0"
"""The MME version requests are sent in."""

MAX_RESPONSE_BYTES = 20 << 20
"""Larger responses are refused (a peer returning at most 100 patients needs far less)."""


@dataclass(frozen=True, slots=True)
class PeerAnswer:
    """One peer's answer: its results (empty on error) or a one-line error."""

    peer: str
    results: tuple[dict[str, Any], ...] = ()
    disclaimer: str | None = None
    error: str | None = None


def query_peer(
    peer: Peer,
    patient: dict[str, Any],
    *,
    disclaimer: str | None = None,
    timeout: float = 20.0,
    client: httpx.Client | None = None,
) -> PeerAnswer:
    """Send one match request to `peer` and check its answer (never raises for a peer's
    failure: the error is in the answer)."""
    if not peer.queryable or peer.base_url is None or peer.token is None:
        return PeerAnswer(peer.name, error="no base_url and token configured for this peer")
    body: dict[str, Any] = {"patient": patient}
    if disclaimer:
        body["disclaimer"] = disclaimer
    version = media_type(REQUEST_VERSION)
    headers = {"X-Auth-Token": peer.token, "Content-Type": version, "Accept": version}
    own = client is None
    http = client or httpx.Client(timeout=timeout, follow_redirects=False)
    try:
        with http.stream("POST", f"{peer.base_url}/match", json=body, headers=headers) as reply:
            raw = bytearray()
            for chunk in reply.iter_bytes():
                raw += chunk
                if len(raw) > MAX_RESPONSE_BYTES:
                    return PeerAnswer(peer.name, error="response over 20 MiB: refused")
            return _read_answer(peer.name, reply.status_code, reply.headers, bytes(raw))
    except httpx.HTTPError as exc:
        return PeerAnswer(peer.name, error=f"{type(exc).__name__}: {exc}")
    finally:
        if own:
            http.close()


def _read_answer(name: str, status: int, headers: httpx.Headers, raw: bytes) -> PeerAnswer:
    if status != 200:
        message = ""
        try:
            detail = json.loads(raw)
            if isinstance(detail, dict) and isinstance(detail.get("message"), str):
                message = f": {detail['message'][:300]}"
        except ValueError:
            pass
        return PeerAnswer(name, error=f"HTTP {status}{message}")
    content_type = headers.get("content-type", "")
    version = parse_media_type(content_type)
    if version is None or version[0] != 1:
        return PeerAnswer(name, error=f"not an MME v1 response (Content-Type {content_type!r})")
    try:
        response = MatchResponse.model_validate_json(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return PeerAnswer(name, error=f"invalid MME response: {where}: {first['msg']}")
    # Validated above; the raw patients are kept so that non-standard fields (``_geneName``)
    # a peer adds for readability reach the user.
    raw_results = json.loads(raw)["results"]
    results = tuple(
        {"score": r.score.patient, "patient": raw_results[i]["patient"]}
        for i, r in enumerate(response.results)
    )
    return PeerAnswer(name, results=results, disclaimer=response.disclaimer)


def query_peers(
    peers: Iterable[Peer],
    patient: dict[str, Any],
    *,
    disclaimer: str | None = None,
    timeout: float = 20.0,
) -> tuple[PeerAnswer, ...]:
    """Query every queryable peer in turn (one connection pool), answers in peer order."""
    with httpx.Client(timeout=timeout, follow_redirects=False) as client:
        return tuple(
            query_peer(p, patient, disclaimer=disclaimer, client=client)
            for p in peers
            if p.queryable
        )
