"""All of a process's settings in one object: `WHYREC_…` environment variables over an optional TOML
file (`WHYREC_SETTINGS`), then the command line's options over both.

Every knob an operator turns lives here, with its default and why; nothing else in the project reads
`WHYREC_*` from the environment. The narrator and the ranker are libraries: they receive what they
need from here (`llm_options()`, `threads`), so a test or a notebook can pass its own values.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

from narrator.backends import LlmOptions, default_threads
from narrator.backends.models import DEFAULT_CACHE, MODELS

SETTINGS_FILE_ENV = "WHYREC_SETTINGS"
DEPRECATED_MODEL_ENV = "WHYREC_MODEL"
MAX_BATCH, MAX_EVENTS = 1000, 10_000
"""Hard caps on the per-request settings, so a request's list is bounded even before the setting is read."""
log = logging.getLogger("whyrec.settings")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHYREC_", extra="ignore")

    artifacts: Path = Field(Path("artifacts"), description="Ranker artifacts root (uses LATEST) or one version "
                            "folder.")
    threads: int = Field(default_factory=default_threads, ge=1, description="Threads for TensorFlow, torch and "
                         "the text model; they share the cores (default: every core the process may run on).")
    llm_threads: int | None = Field(None, ge=1, description="Threads for the text model alone (llama.cpp spins its "
                                    "threads while they wait, so processes sharing cores each take a share); "
                                    "default: `threads`.")

    # The narrator's text model.
    backend: str | None = Field(None, description="llama.cpp, transformers, openai or none (template reasons only); "
                                "default: llama.cpp when installed, else transformers.")
    llm: str = Field("default", description="Narrator model: default, small, or a path to a GGUF file / HF folder.")
    model_cache: Path = Field(DEFAULT_CACHE, description="Where assembled model files are cached.")
    llama_slots: int = Field(4, ge=1, description="llama.cpp contexts kept, one per prompt prefix (template × "
                             "language), so a prefix is evaluated once.")
    transformers_weights: Literal["bf16", "int8"] = Field("bf16", description="transformers backend weights: bf16, "
                                                          "or int8 dynamic quantization (faster decoding on a CPU).")
    openai_url: str | None = Field(None, description="OpenAI-compatible server for backend openai.")
    openai_model: str | None = Field(None, description="Model name sent to that server (default: `llm`).")
    openai_key: str | None = Field(None, description="Bearer token for that server.")
    prompts: Path | None = Field(None, description="Prompt templates folder (default: the project's prompts/).")
    model_label: str = Field("production", description="Ranker version label served (`whyrec model promote`); "
                             "LATEST when the label points nowhere.")
    watch_model: bool = Field(True, description="Follow moves of the model label without a restart: the new "
                              "version loads in the background and replaces the old at once.")
    prompt_label: str = Field("production", description="Prompt label served (the working copy without one).")
    watch_prompts: bool = Field(True, description="Follow label moves in prompts/labels.json without a restart.")

    # The HTTP service.
    llm_queue: int = Field(8, ge=1, description="Most reasons waiting for the model; beyond it, template reasons.")
    llm_deadline_s: float = Field(4.0, gt=0, description="Per-request wait for model reasons before the template "
                                  "(mode llm; mode auto never waits).")
    llm_background: int = Field(1000, ge=0, description="Most reasons queued to be written ahead (auto mode's "
                                "misses); beyond it they are written on a later request.")
    llm_precompute: int = Field(20, ge=0, description="Most active shoppers whose top-10 model reasons (zh and en) "
                                "are written in the background after start, so their first request reads them; "
                                "/readyz reports the progress.")
    max_body_bytes: int = Field(4 << 20, ge=1024, description="Largest request body accepted; a larger one is "
                                "answered 413 before it is parsed or its token checked (a full promotions "
                                "import of 10,000 records is about 1.5 MB).")
    batch_max: int = Field(50, ge=1, le=MAX_BATCH, description="Most pairs in one /v1/explanations/batch request.")
    events: Path | None = Field(None, description="The shop's event store (SQLite): posted events and feedback, "
                                "replayed at start [default: events.db in the artifacts root].")
    events_batch_max: int = Field(1000, ge=1, le=MAX_EVENTS, description="Most events in one POST /v1/events.")
    events_future_s: float = Field(300.0, ge=0, description="How far past the server clock an event's timestamp "
                                   "may be (clock skew); later ones are refused.")
    reasons: Path | None = Field(None, description="Reason store written by `whyrec batch`, served when the "
                                 "facts, prompt version and model match [default: reasons/ in the artifacts root, "
                                 "when there].")
    snapshots: bool = Field(True, description="Save the served shoppers' rows beside the event store every "
                            "`snapshot_every` events, so a restart replays only the events after the last save.")
    snapshot_every: int = Field(100_000, ge=1, description="Events between two snapshots of the shoppers' rows.")
    new_arrival_days: float = Field(30.0, ge=0, description="For how many days an item added while serving is "
                                    "called a new arrival in its reasons.")
    response_cache: int = Field(50_000, ge=0, description="Most cached recommendation lists (0: no cache).")
    response_cache_mb: float = Field(256.0, ge=0, description="Most memory the cached lists may take, in MiB; "
                                     "shoppers the ranker does not know share one entry per list shape.")
    admin_token: str | None = Field(None, description="Token with the admin scope: items, promotions, prompts and "
                                    "models (and events). Admin routes are off without one.")
    events_token: str | None = Field(None, description="Token with the events scope: the shop's backend posts "
                                     "events and feedback with it. Without one (and without an admin token), "
                                     "event routes are off.")
    read_token: str | None = Field(None, description="Token for the personalised read routes (recommendations, "
                                   "rank, search, explanations, campaign lists), for shops whose port is reachable "
                                   "beyond their backend; the events and admin tokens also read. Without one these "
                                   "routes are open to whoever reaches the port.")
    playground: bool = Field(False, description="Serve the editors' web playground (`/playground`, admin token): "
                             "off by default, since it shows any shopper's history.")
    warm: bool = Field(True, description="Warm the model's prompt slots at start.")
    precompute: int = Field(0, ge=0, description="Most active shoppers whose template recommendations (k=10, "
                            "zh and en) are computed in the background after start, so their first request "
                            "is a cache hit; /readyz reports the progress.")

    @model_validator(mode="before")
    @classmethod
    def _deprecated_model_variable(cls, data: Any) -> Any:
        """`WHYREC_MODEL` meant the ranker artifacts to the server and the text model to the narrator; it
        is read for one more release, by what its value looks like, with a warning naming the new names."""
        old = os.environ.get(DEPRECATED_MODEL_ENV)
        if not old or not isinstance(data, dict):
            return data
        is_llm = old in MODELS or old.endswith(".gguf")
        field = "llm" if is_llm else "artifacts"
        message = (f"{DEPRECATED_MODEL_ENV} is deprecated and will be removed: read as WHYREC_{field.upper()}; "
                   "set WHYREC_ARTIFACTS for the ranker artifacts and WHYREC_LLM for the narrator model")
        warnings.warn(message, DeprecationWarning, stacklevel=2)
        log.warning(message)
        if field not in data and f"WHYREC_{field.upper()}" not in os.environ:
            data = {**data, field: old}
        return data

    @classmethod
    def settings_customise_sources(cls, settings_cls: type[BaseSettings], init_settings: PydanticBaseSettingsSource,
                                   env_settings: PydanticBaseSettingsSource,
                                   dotenv_settings: PydanticBaseSettingsSource,
                                   file_secret_settings: PydanticBaseSettingsSource):
        sources = [init_settings, env_settings]
        path = os.environ.get(SETTINGS_FILE_ENV)
        if path:
            if not Path(path).is_file():
                raise FileNotFoundError(f"{SETTINGS_FILE_ENV}={path}: settings file not found")
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=path))
        return tuple(sources)

    @property
    def narrates_with_model(self) -> bool:
        """False when the backend is `none`/`template`: reasons are the editors' template sentences."""
        return (self.backend or "").lower() not in ("none", "template")

    def llm_options(self) -> LlmOptions:
        return LlmOptions(backend=self.backend, model=self.llm, threads=self.llm_threads or self.threads,
                          llama_slots=self.llama_slots, transformers_weights=self.transformers_weights,
                          openai_url=self.openai_url, openai_model=self.openai_model, openai_key=self.openai_key,
                          model_cache=self.model_cache)
