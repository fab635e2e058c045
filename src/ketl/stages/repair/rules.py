"""Load ``resources/repair_rules.toml`` once: the data behind the repair rules."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any

__all__ = ["repair_rules"]


@lru_cache(maxsize=1)
def repair_rules() -> dict[str, Any]:
    data = resources.files("ketl").joinpath("resources/repair_rules.toml").read_bytes()
    return tomllib.loads(data.decode("utf-8"))
