"""The state features are read from: the catalog as codes (`catalog`), a window of events as sparse matrices
(`behaviour`, with the field registry `STAT_FIELDS`; the item-to-item matrices in `cooccurrence`; single rows
read by `sparse_lines`), and how that state follows a live shop: new events (`live`) and a growing catalog
(`growth`)."""
