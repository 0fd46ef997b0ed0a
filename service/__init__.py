"""The `whyrec` CLI and (later) the HTTP service; depends on narrator and ranker, never the reverse."""
