"""The live shop: what a shop does while whyrec serves it, kept in one SQLite file and applied to the ranker.

Read in this order:
- `store` — the file and its schema (`connect`, schema version in `PRAGMA user_version`) and `EventStore`:
  shoppers' events with a group-committing writer, items stored while serving, withdrawals;
- `promotions` — the merchants' promotions in the same file (`PromotionBook`, the ranker's view of them);
- `live` — `LiveShop`, the served overlay: replays the store onto a ranker at start, applies new events,
  item records and withdrawals while serving (`refresher` batches shoppers, `gate` orders a model switch);
- `arrivals` — the catalog enrichment of items added while serving, written as background model work.
"""
