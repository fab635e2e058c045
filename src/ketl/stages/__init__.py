"""The text stages, in run order: repair, boilerplate (with metadata), entities, quotes.

One package per stage; its ``stage`` module holds the stage's frozen settings
class and its entry point ``run(docs, resources) -> docs``, the one call shape
the batch steps use. :data:`STAGES` is the ordered registry: its names are the
values of ``--skip``, the ``[sections]`` of ``ketl.toml`` and the prefixes of
``edits.stage``. Stages are pure functions of their input: nothing here imports
Prefect or the run, flow, CLI or report layers.

The registry names modules instead of importing them, so that importing one
stage (``ketl.repair``) does not load the other three.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import import_module
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

if TYPE_CHECKING:
    from ..document import Document
    from .boilerplate.rules import CompiledRules
    from .boilerplate.site_stats import SiteLineStats
    from .entities.gazetteer import Gazetteer

__all__ = ["Stage", "StageResources", "STAGES", "STAGE_NAMES", "stage", "stages_of_step"]


class StageResources(Protocol):
    """What a stage's ``run`` may use: the run's compiled resources (``ketl.run.batch.Resources``)."""

    settings: Mapping[str, Any]  # each stage's frozen settings, by stage name
    rules: CompiledRules
    gazetteer: Gazetteer
    site_stats: SiteLineStats | None  # the run's per-site line counts (finish step only)


@dataclass(frozen=True)
class Stage:
    """One stage of the registry.

    ``step`` says where the batch steps run it: ``prepare`` before the per-site
    line counts (they count repaired lines), ``finish`` after them, ``dedup``
    over the whole run (``ketl.run.dedup``; no per-batch ``run``).
    """

    name: str
    step: str
    module: str  # holds the settings class and, for a text stage, ``run``
    settings_name: str
    # The values of edits.stage the stage writes (its name, or name.sub-stage).
    edit_stages: tuple[str, ...] = ()

    @property
    def settings_class(self) -> type:
        return getattr(import_module(self.module), self.settings_name)

    @property
    def run(self) -> Callable[[list[Document], StageResources], list[Document]] | None:
        return getattr(import_module(self.module), "run") if self.step != "dedup" else None


STAGES: tuple[Stage, ...] = (
    Stage("repair", "prepare", "ketl.stages.repair.stage", "RepairSettings",
          ("repair.encoding", "repair.normalize")),
    Stage("boilerplate", "finish", "ketl.stages.boilerplate.stage", "BoilerplateSettings",
          ("boilerplate", "boilerplate.metadata")),
    Stage("entities", "finish", "ketl.stages.entities.stage", "EntitySettings", ("entities",)),
    Stage("quotes", "finish", "ketl.stages.quotes.stage", "QuoteSettings", ("quotes",)),
    Stage("dedup", "dedup", "ketl.dedup.index", "NearDupSettings"),
)
STAGE_NAMES: tuple[str, ...] = tuple(s.name for s in STAGES)


def stage(name: str) -> Stage:
    for s in STAGES:
        if s.name == name:
            return s
    raise KeyError(name)


def stages_of_step(step: str) -> tuple[Stage, ...]:
    return tuple(s for s in STAGES if s.step == step)
