"""Search with reasons: a query in zh or en, matched by meaning, re-ranked for the shopper, explained.

The ranker retrieves and re-ranks (`Ranker.search`); here the results get their facts and sentences like any
list. With a shopper, integrated gradients split "matches your search" (the query relevance group) from
their personal reasons; without one the order is the match alone, and the match is the only reason given.
"""

from __future__ import annotations

from service.engine import Engine
from service.responses import explanation_out, fact_out, plain_item
from service.schemas import ItemOut, SearchResponse


def search(engine: Engine, query: str, user_id: str | None, k: int, lang: str, explain: str,
           style: str) -> SearchResponse:
    ranker, explainer = engine.ranker, engine.explainer
    hits, q = ranker.search(query, user_id, k)
    ids = [h.item_id for h in hits]
    if explain == "none":
        items = [plain_item(engine, h.item_id, h.rank, h.score, lang) for h in hits]
    else:
        if user_id is None:
            facts = explainer.relevance_only(ids, q)
            attributions: list[dict[str, float] | None] = [None] * len(ids)
        else:
            explained = explainer.explain(user_id, ids, allow_unknown_user=True, query=q)
            facts = [e.facts for e in explained]
            attributions = [e.attribution.group_table(e.pair) for e in explained]
        reasons = engine.reasons(facts, lang, style, explain)
        items = [ItemOut(item_id=h.item_id, rank=h.rank, score=h.score, title=engine.title(h.item_id, lang),
                         brand=f.item.brand, attribution=a, facts=[fact_out(x) for x in f.facts],
                         explanation=explanation_out(r, user_id or "", h.item_id) if r else None)
                 for h, f, a, r in zip(hits, facts, attributions, reasons, strict=True)]
    return SearchResponse(query=query, user_id=user_id, personalised=user_id is not None,
                          model_version=engine.version, items=items)
