"""The editors' prompt templates and reason phrases (TOML), shipped with whyrec as the package data
`whyrec_prompts`; read through `narrator.prompts`, never imported for code."""
