"""Search quality and latency: query-only retrieval vs personalised search vs BM25, for zh and en queries.

Queries are built from held-out purchases: for each test shopper, the item they bought next (their last
purchase, never seen in training) gives the query, the name of its category as a shopper would type it
(the deepest non-empty level of the category path; `ranker.text.leaf_name`). The English query is that
name; the Chinese query is the catalog's `category_zh` name when it has one, else the name translated once
by the local text model (`bench/search_queries.py`, cached as JSON lines next to this script) and kept only
when the model's translation back into English shares a word with the name. Shoppers whose item has no
category name, or no Chinese name, are left out of both languages (counted), so zh and en are measured on
the same shoppers. The target is the held-out item itself: a query names a kind of
thing, and the method must find the one this shopper bought among everything of that kind.

Methods, all over the full catalog with the shopper's past purchases excluded (as in `bench/ranker.py`):
- query-only: items by multilingual (USE) text similarity to the query, the retrieval step alone; and the
  same with all-MiniLM-L6-v2 (the ranker's English item embedding) in place of USE, for comparison;
- personalised: `Ranker.search`, the retrieved items re-ranked by the Keras ranker with its query relevance
  group (the service's path); the target must first be retrieved (the top `search_candidates` items that
  are not past purchases);
- BM25 on titles (rank-bm25 BM25Okapi; English words, Chinese character bigrams; zh titles too when the
  catalog has them). Ties (a zh query against English titles scores 0 everywhere) share their middle rank.

`en-back` (for translated queries only): the zh query translated back into English by the same model, as a
diagnostic: it carries the translation's noise but not the language, so zh vs en-back is the encoder's
cross-lingual gap and en-back vs en the translation's.

Latency: the service's search path for k=10 (encode the query, retrieve, re-rank, integrated gradients for
the 10, facts, template reasons) per query, in process, one request at a time on this machine, after the
attribution shapes are compiled (the service compiles them in the background after start), p50 and p99.

A Chinese catalog (Chinese category names, as `bench/marketplace_shop.py` writes them: "裙类 > 连衣裙") turns this
round: the Chinese query is the product type as the catalog names it, the English query its first plain sense in
CC-CEDICT (`Dictionary.english`; a word the dictionary lacks gives no English query and the shopper is left out), and
BM25 reads titles as jieba's words (`ranker.lexical.words`), the lexical baseline a Chinese shop would use.

`--split valid` evaluates on the validation shoppers instead (the second-to-last purchase of the shoppers
training held out for early stopping): choices are made there, the test split is reported.

    python bench/search.py --data ../shared/data/amazon-scientific
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from ranker.loaders import detect_format  # noqa: E402
from ranker.runtime import configure  # noqa: E402

HERE = Path(__file__).resolve().parent
TOKEN = re.compile(r"[a-z0-9]+|[\u4e00-\u9fff]")


def tokens(text: str) -> list[str]:
    """English words and Chinese character bigrams (single characters for a one-character text)."""
    parts = TOKEN.findall(text.lower())
    out = [p for p in parts if not ("\u4e00" <= p <= "\u9fff")]
    cjk = "".join(p for p in parts if "\u4e00" <= p <= "\u9fff")
    out += [cjk[k:k + 2] for k in range(len(cjk) - 1)] or ([cjk] if cjk else [])
    return out


def metrics(ranks: list[float]) -> tuple[float, float]:
    """HR@10 and NDCG@10 from 1-based ranks (inf: not found), as `ranker.metrics` counts them."""
    from ranker.metrics import summarise

    out = summarise(np.asarray(ranks, float) - 1.0, (10,))
    return out["HR@10"], out["NDCG@10"]


def rank_of(scores: np.ndarray, target: int, exclude: np.ndarray) -> float:
    """1-based rank of the target among items not excluded; ties share their middle rank."""
    s = scores.astype(np.float64).copy()
    s[exclude] = -np.inf
    t = s[target]
    if not np.isfinite(t):
        return float("inf")
    higher, ties = int((s > t).sum()), int((s == t).sum()) - 1
    return 1.0 + higher + ties / 2.0


def chinese_catalog(items) -> bool:
    """Most category names are Chinese (a marketplace's own categories)."""
    from narrator.prompts.names import is_chinese
    from ranker.text import leaf_name

    leaves = items["category"].map(leaf_name)
    return bool(leaves.map(is_chinese).mean() > 0.5)


def query_names(items, path: Path, chinese: bool) -> dict[str, dict[str, str]]:
    """Category name → the query in each language ("en-back" too for model translations): for an English catalog
    the catalog's own `category_zh`, else the cached translations; for a `chinese` one the dictionary's English."""
    from ranker.text import leaf_name

    if chinese:
        from narrator.verification.dictionary import cedict

        dictionary = cedict()
        leaves = set(items["category"].map(leaf_name)) - {""}
        return {zh: {"zh": zh, "en": en} for zh in leaves if (en := dictionary.english(zh, ""))}
    if "category_zh" in items.columns:
        pairs = zip(items["category"].map(leaf_name), items["category_zh"].fillna("").map(leaf_name), strict=True)
        return {en: {"en": en, "zh": zh} for en, zh in pairs if en and zh}
    if not path.exists():
        raise SystemExit(f"{path} is missing: run bench/search_queries.py for this catalog first")
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
    return {r["en"]: {"en": r["en"], "zh": r["zh"], **({"en-back": r["back"]} if r.get("back") else {})}
            for r in rows if r["zh"] and agrees(r["en"], r.get("back"))}


def _stems(text: str) -> set[str]:
    return {w.removesuffix("es").removesuffix("s") for w in re.findall(r"[a-z]{3,}", text.lower())}


def agrees(en: str, back: str | None) -> bool:
    """A translation is used as a query when its back-translation shares a word with the English name (files
    without back-translations are used as they are)."""
    return back is None or bool(_stems(en) & _stems(back))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, type=Path)
    ap.add_argument("--zh-names", type=Path, help="cached zh category names (default: bench/search/<data>-zh.jsonl)")
    ap.add_argument("--split", choices=("test", "valid"), default="test")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--query-groups", type=float, help="TrainConfig.query_groups (default: the shipped value)")
    ap.add_argument("--retrieve", type=int, help="items a query retrieves for re-ranking (default: the shipped value)")
    ap.add_argument("--latency-queries", type=int, default=300)
    ap.add_argument("--min-relevance", default="", help="comma-separated Ranker.min_relevance values to compare "
                    "(default: the shipped one)")
    ap.add_argument("--cache", default=".cache/embeddings")
    ap.add_argument("--model", type=Path, help="a model trained on --data (`whyrec train`) instead of training here")
    args = ap.parse_args()
    configure()
    from dataclasses import replace

    from rank_bm25 import BM25Okapi

    from narrator.narrate import Narrator
    from narrator.prompts import PromptLibrary
    from ranker.explain import Explainer
    from ranker.lexical import words
    from ranker.loaders import load_any
    from ranker.ranking import Ranker
    from ranker.split import nth_last_targets, target_kind, truncate
    from ranker.text import TextEmbedder, leaf_name
    from ranker.training.pipeline import fit
    from ranker.training.train_config import TrainConfig, validation_targets

    shop = load_any(detect_format(args.data), args.data)
    cached = args.zh_names or HERE / "search" / f"{args.data.name.split('-')[-1]}-zh.jsonl"
    cfg = TrainConfig(seed=args.seed)
    if args.query_groups is not None:
        cfg = replace(cfg, query_groups=args.query_groups)
    if args.retrieve is not None:
        cfg = replace(cfg, search_candidates=args.retrieve)
    t = time.perf_counter()
    if args.model:
        from ranker import artifacts
        from ranker.stats.catalog import CatalogIndex

        art = artifacts.load(args.model)
        shop = art.shop
        model, spec, emb, search_emb = art.model, art.spec, art.emb, art.search_emb
        cfg = TrainConfig(**{k: v for k, v in art.meta["train_config"].items() if k == "search_candidates"})
        catalog = CatalogIndex.build(shop.items, emb)
    else:
        result, catalog, emb, _ = fit(shop, cfg, lambda s, d, n: None, cache_dir=args.cache)
        model, spec, search_emb = result.model, result.spec, result.search_emb
    train_s = time.perf_counter() - t
    chinese = chinese_catalog(shop.items)
    names = query_names(shop.items, cached, chinese)

    kind = target_kind(shop.events)
    valid = args.split == "valid"
    fold = cfg.folds[0] if valid else 1
    targets = validation_targets(shop.events, cfg) if valid else nth_last_targets(shop.events, fold, kind)
    ranker = Ranker(model, spec, shop.items, emb, truncate(shop.events, fold, kind),
                    search_emb=search_emb, retrieve=cfg.search_candidates)
    item_rows = shop.items.reset_index(drop=True)
    leaf_of = item_rows["category"].map(leaf_name).to_numpy()
    queries = []
    skipped = {"no category name": 0, "no name in the other language": 0}
    for user, item in zip(targets["user_id"], targets["item_id"], strict=True):
        i = int(catalog.index_of([item])[0])
        leaf = leaf_of[i]
        if not leaf:
            skipped["no category name"] += 1
        elif leaf not in names:
            skipped["no name in the other language"] += 1
        else:
            queries.append((str(user), i, names[leaf]))
    print(f"{args.data.name}: {len(targets)} {args.split} shoppers, {len(queries)} with queries in both languages "
          f"(left out: {skipped}); trained in {train_s:.0f} s, retrieve {cfg.search_candidates}")
    print("queries, e.g.: " + "; ".join(" | ".join(q.values()) for q in list({q["zh"]: q for *_, q in queries}
                                                                            .values())[:6]))

    titles = item_rows["title"].astype(str)
    if "title_zh" in item_rows.columns:
        titles = titles + " " + item_rows["title_zh"].fillna("").astype(str)
    cut, bm25_name = (lambda t: sorted(words(t)), "BM25 jieba words") if chinese else \
        (tokens, "BM25 titles")
    bm25 = BM25Okapi([cut(t) or ["∅"] for t in titles])
    stats = ranker.stats
    rows = {u: int(stats.rows_of([u])[0]) for u, _, _ in queries}
    vectors = ranker.search_index.vectors
    minilm = TextEmbedder(cache_dir=args.cache)
    langs = ("zh", "en", "en-back") if all("en-back" in q for _, _, q in queries) else ("zh", "en")
    texts = sorted({q[lang] for _, _, q in queries for lang in langs})
    minilm_queries = dict(zip(texts, minilm.encode(texts), strict=True))
    floors = [float(v) for v in args.min_relevance.split(",")] if args.min_relevance else [ranker.min_relevance]
    table: dict[tuple[str, str], list[float]] = {}
    for lang in langs:
        for user, i, q in queries:
            history = stats.history_of(rows[user])
            qv = ranker.encoder.query(q[lang])
            table.setdefault(("query-only", lang), []).append(rank_of(vectors @ qv, i, history))
            table.setdefault(("query-only MiniLM", lang), []).append(
                rank_of(emb @ minilm_queries[q[lang]], i, history))
            table.setdefault((bm25_name, lang), []).append(rank_of(bm25.get_scores(cut(q[lang])), i, history))
            for floor in floors:
                hits, _ = ranker.search(q[lang], user, k=ranker.retrieve + len(history), min_relevance=floor)
                order = [catalog.index_of([h.item_id])[0] for h in hits]
                bought = set(history.tolist())
                order = [o for o in order if o not in bought]
                name = "personalised" if len(floors) == 1 else f"pers. floor {floor:g}"
                table.setdefault((name, lang), []).append(order.index(i) + 1.0 if i in order else float("inf"))

    print(f"\n{'method':<18} {'lang':<7} {'HR@10':>7} {'NDCG@10':>8}")
    ndcg: dict[tuple[str, str], float] = {}
    for (method, lang), ranks in table.items():
        hr, nd = metrics(ranks)
        ndcg[(method, lang)] = nd
        print(f"{method:<18} {lang:<7} {hr:>7.4f} {nd:>8.4f}")
    if len(floors) > 1:
        return
    for lang in ("zh", "en"):
        p, lexical = ndcg[("personalised", lang)], ndcg[(bm25_name, lang)]
        print(f"{lang}: personalised / query-only {p / max(ndcg[('query-only', lang)], 1e-9):.2f}x, / BM25 "
              + (f"{p / lexical:.2f}x" if lexical else "- (no title has a word of the query)"))
    zh, en = ndcg[("personalised", "zh")], ndcg[("personalised", "en")]
    print(f"zh vs en personalised NDCG@10: {zh:.4f} vs {en:.4f}, gap {abs(zh - en) / max(zh, en):.1%}")

    explainer = Explainer(ranker)
    explainer.ig.warm_up()  # what the service does in the background after start
    narrator = Narrator(PromptLibrary.load(), None, brands=ranker.brands())
    rng = np.random.default_rng(args.seed)
    picks = rng.choice(len(queries), min(args.latency_queries, len(queries)), replace=False)
    for lang in ("zh", "en"):
        times = []
        for n, p in enumerate(picks):
            user, _, q = queries[p]
            t = time.perf_counter()
            hits, query = ranker.search(q[lang], user, k=10)
            for e in explainer.explain(user, [h.item_id for h in hits], query=query, allow_unknown_user=True):
                if e.facts.facts:
                    narrator.explain(e.facts, lang, mode="template")
            if n >= 5:
                times.append((time.perf_counter() - t) * 1000)
        print(f"latency {lang}, k=10 with template reasons: p50 {np.median(times):.1f} ms, "
              f"p99 {np.percentile(times, 99):.1f} ms over {len(times)} queries (after 5 warm-up)")


if __name__ == "__main__":
    main()
