"""Settings: defaults, then ``ketl.toml``, then CLI options; and their canonical hash.

``config_hash`` covers only what changes the output (not paths, workers or the
schedule), plus the contents of the user's rule and gazetteer files, so two
runs with the same hash curate the same bytes the same way.
"""

from __future__ import annotations

import hashlib
import json
import tomllib
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

DEFAULT_CONFIG_FILE = "ketl.toml"
STAGES = ("repair", "boilerplate", "entities", "quotes", "dedup")


class ConfigError(ValueError):
    """A bad settings file or option (exit code 2 in the CLI)."""


@dataclass(frozen=True)
class Settings:
    raw: str = "raw"
    out: str = "curated"
    batch_size: int = 1000  # articles per Prefect task: few, large tasks
    workers: int = 0  # processes; 0 = one per core
    max_file_bytes: int = 64 * 1024 * 1024
    # Follow symbolic links that lead outside the raw folder (off: such a link
    # is an `external_link` reject, so raw/x.txt -> /etc/passwd is never read).
    follow_external_links: bool = False
    rule_files: tuple[str, ...] = ()
    gazetteer_files: tuple[str, ...] = ()
    schedule: str = "0 * * * *"
    # Stages to leave out: any of repair, boilerplate, entities, quotes, dedup.
    skip: tuple[str, ...] = ()
    # Per-stage settings, by stage name ("repair", "boilerplate", "entities", "dedup"):
    # each stage module validates its own section.
    stages: dict[str, dict[str, Any]] = field(default_factory=dict)

    # Fields that do not change what a run writes.
    _NOT_HASHED = ("raw", "out", "batch_size", "workers", "schedule")

    def config_hash(self) -> str:
        payload = {k: v for k, v in asdict(self).items() if k not in self._NOT_HASHED}
        if not self.follow_external_links:  # added in 0.2: the default keeps earlier runs' hashes
            del payload["follow_external_links"]
        payload["file_contents"] = {p: _file_digest(p) for p in (*self.rule_files, *self.gazetteer_files)}
        blob = json.dumps(payload, sort_keys=True, separators=(",", ":"), default=list)
        return hashlib.sha256(blob.encode()).hexdigest()

    def with_overrides(self, **overrides: Any) -> "Settings":
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in ("rule_files", "gazetteer_files", "skip"):
            if key in clean:
                clean[key] = tuple(str(p) for p in clean[key])
        return replace(self, **clean)


def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


def load_settings(path: Path | None = None) -> Settings:
    """Settings from ``path``, or from ``./ketl.toml`` when it exists, else defaults."""
    if path is None:
        candidate = Path(DEFAULT_CONFIG_FILE)
        if not candidate.is_file():
            return Settings()
        path = candidate
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"config file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    known = {f.name for f in fields(Settings)}
    body = dict(data.pop("ketl", {}))
    stages = {k: v for k, v in data.items() if isinstance(v, dict)}
    unknown = (set(body) - known) | {k for k in data if k not in stages}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))}")
    if "skip" in body:
        body["skip"] = tuple(body["skip"])
    for key in ("rule_files", "gazetteer_files"):
        if key in body:
            base = Path(path).parent
            body[key] = tuple(str((base / p) if not Path(p).is_absolute() else p) for p in body[key])
    try:
        settings = Settings(**body, stages=stages)
    except TypeError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    check_skip(settings.skip)
    check_types(settings, path)
    return settings


def check_types(settings: Settings, path: Path | str) -> None:
    """TOML has types: a quoted "false" must not pass for true."""
    if not isinstance(settings.follow_external_links, bool):
        raise ConfigError(f"{path}: follow_external_links must be true or false, "
                          f"not {settings.follow_external_links!r}")


def check_skip(skip: tuple[str, ...]) -> None:
    unknown = sorted(set(skip) - set(STAGES))
    if unknown:
        raise ConfigError(f"unknown stage(s) to skip: {', '.join(unknown)} (stages: {', '.join(STAGES)})")
