"""Settings: defaults, then ``ketl.toml``, then CLI options; and their canonical hash.

``ketl.toml`` has one ``[ketl]`` table (the fields of :class:`Settings`) and one
table per stage, named as the stage in :data:`ketl.stages.STAGES` (``[repair]``,
``[boilerplate]``, ``[entities]``, ``[quotes]``, ``[dedup]``); each is read into
that stage's frozen settings class by :meth:`Settings.stage`. :meth:`Settings.validate`
turns an unknown table or key, or a value of the wrong TOML type, into a one-line
:class:`ConfigError` before anything runs.

``config_hash`` covers only what changes the output (not paths, workers or the
schedule), plus the contents of the user's rule and gazetteer files, so two
runs with the same hash curate the same bytes the same way. It hashes the
tables as written (``Settings.stages``), so its value is the one 0.2 computed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import tomllib
import typing
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Mapping

from .stages import STAGE_NAMES
from .stages import stage as registered_stage

DEFAULT_CONFIG_FILE = "ketl.toml"
STAGES = STAGE_NAMES  # repair, boilerplate, entities, quotes, dedup: --skip's choices and the tables
# Stage settings filled from [ketl], where the run's other steps read them too:
# written in the stage's own table they would be ignored, so they are refused there.
_FROM_KETL = {"boilerplate": {"rule_files": "rule_files"}, "entities": {"gazetteers": "gazetteer_files"}}
# Options whose CLI values add to the file's instead of replacing them.
_APPENDED = ("rule_files", "gazetteer_files", "skip")


class ConfigError(ValueError):
    """A bad settings file or option (exit code 2 in the CLI)."""


@dataclass(frozen=True)
class Settings:
    raw: str = "raw"  # the folder of scraped files (--raw)
    out: str = "curated"  # the dataset folder (--out)
    batch_size: int = 1000  # articles per Prefect task: few, large tasks
    workers: int = 0  # processes; 0 = one per core
    max_file_bytes: int = 64 * 1024 * 1024  # larger files are too_large rejects
    # Follow symbolic links that lead outside the raw folder (off: such a link
    # is an `external_link` reject, so raw/x.txt -> /etc/passwd is never read).
    follow_external_links: bool = False
    rule_files: tuple[str, ...] = ()  # boilerplate rule files added to the shipped rules (--rules)
    gazetteer_files: tuple[str, ...] = ()  # gazetteers added to the shipped one (--gazetteer)
    schedule: str = "0 * * * *"  # cron schedule of `ketl serve`
    # Stages to leave out: any of repair, boilerplate, entities, quotes, dedup.
    skip: tuple[str, ...] = ()
    # The stage tables as written, by stage name; read them typed with stage(name).
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

    def stage(self, name: str) -> Any:
        """The typed, frozen settings of stage ``name`` (its table over the defaults)."""
        try:
            cls = registered_stage(name).settings_class
        except KeyError:
            raise ConfigError(_unknown_table(name)) from None
        values = self.stages.get(name, {})
        own = _FROM_KETL.get(name, {})
        for key in own:
            if isinstance(values, Mapping) and key in values:
                raise ConfigError(f"[{name}] {key}: set {own[key]} under [ketl] instead")
        top = {key: tuple(getattr(self, attr)) for key, attr in own.items()}
        return build(cls, values, name, top)

    def validate(self, where: Path | str | None = None) -> "Settings":
        """Raise a one-line ConfigError for anything a run would trip over; return self."""
        try:
            for f in fields(self):
                if f.name != "stages":
                    _typed(_hints(Settings)[f.name], getattr(self, f.name), f"[ketl] {f.name}")
            check_skip(self.skip)
            for name in self.stages:
                if name not in STAGES:
                    raise ConfigError(_unknown_table(name))
            for name in STAGES:
                self.stage(name)
        except ConfigError as exc:
            raise ConfigError(f"{where}: {exc}" if where else str(exc)) from None
        return self

    def with_overrides(self, **overrides: Any) -> "Settings":
        """These values instead of the current ones (None: keep the current one)."""
        clean = {k: v for k, v in overrides.items() if v is not None}
        for key in _APPENDED:
            if key in clean:
                clean[key] = tuple(str(p) for p in clean[key])
        return replace(self, **clean)

    def with_cli(self, **options: Any) -> "Settings":
        """The command line over the file (the CLI and ``curate_with`` both call this):
        rule files, gazetteers and skipped stages add to the file's; any other
        option given (not None) replaces the file's value."""
        merged = {}
        for key, value in options.items():
            if key in _APPENDED:
                if value:
                    merged[key] = (*getattr(self, key), *value)
            elif value is not None:
                merged[key] = value
        return self.with_overrides(**merged)


def _unknown_table(name: str) -> str:
    return f"unknown settings table [{name}]: use {', '.join(f'[{s}]' for s in ('ketl', *STAGES))}"


def _file_digest(path: str) -> str:
    try:
        return hashlib.sha256(Path(path).read_bytes()).hexdigest()
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from None


_HINTS: dict[type, dict[str, Any]] = {}


def _hints(cls: type) -> dict[str, Any]:
    if cls not in _HINTS:  # get_type_hints evaluates the annotations: once per class
        _HINTS[cls] = typing.get_type_hints(cls)
    return _HINTS[cls]


def build(cls: type, values: Any, section: str, extra: Mapping[str, Any] | None = None,
          base: Any = None) -> Any:
    """``cls`` from a TOML table: unknown keys and wrong types are one-line ConfigErrors.

    A field whose type is itself a settings dataclass is read from a sub-table
    (``[dedup.articles]``) over the field's default. ``extra`` adds values that do
    not come from the table; ``base`` is what the table's values replace (default:
    the class's defaults).
    """
    if not isinstance(values, Mapping):
        raise ConfigError(f"[{section}] must be a table of settings, not {values!r}")
    known = [f.name for f in fields(cls) if f.init and f.name not in (extra or {})]
    unknown = sorted(set(values) - set(known))
    if unknown:
        raise ConfigError(f"unknown setting(s) in [{section}]: {', '.join(unknown)} "
                          f"(known: {', '.join(sorted(known))})")
    hints, defaults = _hints(cls), {f.name: f.default for f in fields(cls)}
    kwargs = {k: build(hints[k], v, f"{section}.{k}", base=defaults[k]) if dataclasses.is_dataclass(hints[k])
              else _typed(hints[k], v, f"[{section}] {k}") for k, v in values.items()}
    try:
        if base is not None:
            return replace(base, **kwargs, **(extra or {}))
        return cls(**kwargs, **(extra or {}))
    except (TypeError, ValueError) as exc:  # the class's own checks (__post_init__)
        raise ConfigError(f"[{section}] {exc}") from None


def _typed(hint: Any, value: Any, where: str) -> Any:
    """``value`` as the field's type wants it; TOML has types, so a quoted "false"
    or a 3.5 for a count is an error, not a guess."""
    origin = typing.get_origin(hint)
    if hint is bool:
        ok = isinstance(value, bool)
    elif hint is int:
        ok = isinstance(value, int) and not isinstance(value, bool)
    elif hint is float:
        ok = isinstance(value, (int, float)) and not isinstance(value, bool)
        value = float(value) if ok else value
    elif hint is str:
        ok = isinstance(value, str)
    elif origin is tuple:
        ok = isinstance(value, (list, tuple)) and all(isinstance(v, str) for v in value)
        value = tuple(value) if ok else value
    else:
        return value
    if not ok:
        raise ConfigError(f"{where} must be {_TYPE_WORDS.get(hint, 'a list of strings')}, not {value!r}")
    return value


_TYPE_WORDS = {bool: "true or false", int: "a whole number", float: "a number", str: "a string"}


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
    known = {f.name for f in fields(Settings)} - {"stages"}
    body = data.pop("ketl", {})
    if not isinstance(body, dict):
        raise ConfigError(f"{path}: [ketl] must be a table of settings, not {body!r}")
    stages = {k: v for k, v in data.items() if isinstance(v, dict)}
    unknown = (set(body) - known) | {k for k in data if k not in stages}
    if unknown:
        raise ConfigError(f"{path}: unknown setting(s) {', '.join(sorted(unknown))} "
                          f"(known in [ketl]: {', '.join(sorted(known))})")
    hints = _hints(Settings)
    try:
        body = {k: _typed(hints[k], v, f"[ketl] {k}") for k, v in body.items()}
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from None
    for key in ("rule_files", "gazetteer_files"):
        if key in body:
            base = Path(path).parent
            body[key] = tuple(str((base / p) if not Path(p).is_absolute() else p) for p in body[key])
    return Settings(**body, stages=stages).validate(path)


def check_skip(skip: tuple[str, ...]) -> None:
    unknown = sorted(set(skip) - set(STAGES))
    if unknown:
        raise ConfigError(f"unknown stage(s) to skip: {', '.join(unknown)} (stages: {', '.join(STAGES)})")
