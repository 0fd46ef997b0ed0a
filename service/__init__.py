"""The `whyrec` command line (`service.cli`) and the HTTP service (`service.app`); depends on the narrator
and the ranker, never the reverse."""
