"""A Phenomizer-style baseline: Resnik best-match average, every disease at once.

score(Q, d) = mean over patient terms q of max over d's annotations a of IC(MICA(q, a)),
the information content of their most informative common ancestor (Köhler et al. 2009,
query-to-disease direction). Blind to frequencies and to excluded terms by design: it is the
reference raredx's likelihood model is measured against, over the same KB and disease groups.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from raredx.rank.model import PhenotypeModel, concat_ranges

__all__ = ["resnik_scores"]


def resnik_scores(model: PhenotypeModel, observed: Sequence[int]) -> np.ndarray:
    """Best-match-average Resnik similarity of the observed terms to every disease group.

    A group "has" a common ancestor c with q when it is annotated at or below c (the non-zero
    pattern of the model's closure), so max_a IC(MICA(q, a)) = max over ancestors c of q that
    the group has of IC(c).
    """
    kb = model.kb
    terms = [q for q in dict.fromkeys(observed) if model.phenotype_mask[q]]
    if not terms:
        return np.zeros(model.n_groups)
    query = np.asarray(terms, dtype=np.int64)
    ancestors, offsets = model.ancestor_rows(query)
    counts = np.diff(np.append(offsets, len(ancestors)))
    pos = np.repeat(np.arange(len(query)), counts)
    ic = kb.term_ic[ancestors]
    informative = ic > 1e-9
    ancestors, pos, ic = ancestors[informative], pos[informative], ic[informative]
    closed = model.closed
    starts = closed.indptr[ancestors]
    sizes = closed.indptr[ancestors + 1] - starts
    best = np.zeros((len(query), model.n_groups))
    if sizes.sum():
        flat = concat_ranges(starts, sizes)
        np.maximum.at(best, (np.repeat(pos, sizes), closed.indices[flat]), np.repeat(ic, sizes))
    result: np.ndarray = best.mean(axis=0)
    return result
