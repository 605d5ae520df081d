"""Matchmaker Exchange: share consented cases with peer nodes and query them (MME API v1).

`raredx.mme.schema` holds the messages, `config` the node's settings and peer tokens,
`patient` what a stored case looks like to a peer, `matcher` how this node answers a search,
`client` how it queries its peers. The HTTP endpoint ``POST /match`` is served by
`raredx.api` (``raredx serve``). docs/mme.md describes the whole exchange.
"""

from raredx.mme.client import PeerAnswer, query_peer, query_peers
from raredx.mme.config import MmeConfig, NodeSettings, Peer, load_config, new_token, token_digest
from raredx.mme.matcher import answer_match
from raredx.mme.patient import to_mme_patient
from raredx.mme.schema import MatchRequest, MatchResponse

__all__ = [
    "MatchRequest",
    "MatchResponse",
    "MmeConfig",
    "NodeSettings",
    "Peer",
    "PeerAnswer",
    "answer_match",
    "load_config",
    "new_token",
    "query_peer",
    "query_peers",
    "to_mme_patient",
    "token_digest",
]
