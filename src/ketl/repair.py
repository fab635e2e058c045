"""The public API of text repair: ``from ketl.repair import repair``.

The code lives in :mod:`ketl.stages.repair`; this module only re-exports its
entry points so that imports written against ketl 0.2 keep working.
"""

from .stages.repair.stage import (
    RepairResult,
    RepairSettings,
    repair,
    repair_document,
    repair_documents,
    replacement_char_count,
    settings_from_mapping,
    warm_up,
)

__all__ = ["RepairResult", "RepairSettings", "repair", "repair_document", "repair_documents",
           "replacement_char_count", "settings_from_mapping", "warm_up"]
