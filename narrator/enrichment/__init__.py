"""Catalog enrichment: once per item (not per request), what it is and what it is called in zh and en.

- `kinds` — the model proposes an item's kind; the item's own text decides what is kept;
- `zh_titles` — Chinese marketplace titles read without the model (the kind is one of the title's nouns);
- `categories` — the catalog's category level names translated once each;
- `table` — the enrichment table (`enrichment.parquet` beside the artifacts), the editors' overrides, and
  `enrich`, which fills it for the items that need it.
"""

import narrator.enrichment.kinds as kinds
from narrator.enrichment.table import (
    EDITABLE,
    OVERRIDES,
    TABLE,
    Enriched,
    enrich,
    load,
    merged,
    names,
    overrides,
    read,
    renamed,
    title_hash,
    todo,
    write,
    zh_name,
)

__all__ = ["EDITABLE", "OVERRIDES", "TABLE", "Enriched", "enrich", "kinds", "load", "merged", "names", "overrides",
           "read", "renamed", "title_hash", "todo", "write", "zh_name"]
