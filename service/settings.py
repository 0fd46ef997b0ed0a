"""Service settings: environment variables (`WHYREC_…`) over an optional TOML settings file.

Every knob an operator turns lives here, with its default and why; nothing is read from the
environment anywhere else in the service.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict, TomlConfigSettingsSource

SETTINGS_FILE_ENV = "WHYREC_SETTINGS"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="WHYREC_", extra="ignore")

    model: Path = Field(Path("artifacts"), description="Ranker artifacts root (uses LATEST) or one version folder.")
    prompts: Path | None = Field(None, description="Prompt templates folder (default: the project's prompts/).")
    backend: str | None = Field(None, description="llama.cpp, transformers, openai or none (template reasons only).")
    llm: str = Field("default", description="Narrator model: default, small, or a path.")
    llm_queue: int = Field(8, ge=1, description="Most reasons waiting for the model; beyond it, template reasons.")
    llm_deadline_s: float = Field(4.0, gt=0, description="Per-request wait for model reasons before the template.")
    batch_max: int = Field(50, ge=1, description="Most pairs in one /v1/explanations/batch request.")
    k_max: int = Field(100, ge=1, description="Largest k a client may ask for.")
    feedback: Path = Field(Path("data/feedback/events.csv"), description="Append-only feedback events store.")
    response_cache: int = Field(50_000, ge=0, description="Cached explained responses (per model version).")
    admin_token: str | None = Field(None, description="Token for /v1/admin routes (disabled without one).")
    prompt_label: str = Field("production", description="Prompt label served (the working copy without one).")
    watch_prompts: bool = Field(True, description="Follow label moves in prompts/labels.json without a restart.")
    warm: bool = Field(True, description="Warm the model's prompt slots at start.")
    precompute: int = Field(0, ge=0, description="Most active shoppers whose template recommendations (k=10, "
                            "zh and en) are computed in the background after start, so their first request "
                            "is a cache hit; /readyz reports the progress.")

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
