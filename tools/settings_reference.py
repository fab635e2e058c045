"""Print the README's settings reference: every ketl.toml table and key, its default and its comment.

The tables and defaults come from the registry's settings classes
(``ketl.stages.STAGES``) and ``ketl.settings.Settings``; the explanations are
the comments written beside (or just above) each field in the source, so the
reference cannot drift from the code. tests/test_settings.py checks that the
README holds every key with its default.

    PYTHONPATH=src python tools/settings_reference.py
"""

from __future__ import annotations

import dataclasses
import inspect
import re
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "src"))

from ketl.settings import _FROM_KETL, Settings  # noqa: E402
from ketl.stages import STAGES  # noqa: E402
from ketl.stages.boilerplate.classifier import ClassifierSettings  # noqa: E402
from ketl.stages.boilerplate.stage import BoilerplateSettings  # noqa: E402

# Settings classes whose fields are passed on to another class that documents them.
PASSED_ON = {BoilerplateSettings: ClassifierSettings}

_FIELD = re.compile(r"^\s*(\w+)\s*:[^=#]+(?:=[^#]*)?(?:#\s*(.*))?$")


def toml_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, str):
        return f'"{value}"'
    if isinstance(value, (tuple, list)):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    return repr(value)


def field_comments(cls: type) -> dict[str, tuple[str, str]]:
    """Each field's (comment on its line, comment lines just above it)."""
    out: dict[str, tuple[str, str]] = {}
    above: list[str] = []
    for line in inspect.getsource(cls).splitlines()[1:]:
        stripped = line.strip()
        if stripped.startswith("#"):
            above.append(stripped.lstrip("# "))
            continue
        m = _FIELD.match(line)
        if m and not stripped.startswith(("def ", "@", '"""')):
            out[m.group(1)] = (m.group(2) or "", " ".join(above))
        above = []
    return out


def _meaning(name: str, own: dict, shared: dict) -> str:
    """The field's own line comment, else that of the class it is passed on to, else the block above."""
    inline, above = own.get(name, ("", ""))
    text = inline or shared.get(name, ("", ""))[0] or above or shared.get(name, ("", ""))[1]
    return text.replace("|", "\\|")


def rows(table: str, cls: type, skip: tuple[str, ...] = (), values: object = None) -> list[str]:
    own = field_comments(cls)
    shared = field_comments(PASSED_ON[cls]) if cls in PASSED_ON else {}
    out = []
    for f in dataclasses.fields(cls):
        if f.name in skip or not f.init:
            continue
        default = getattr(values, f.name) if values is not None else f.default
        if dataclasses.is_dataclass(default):
            out += rows(f"{table}.{f.name}", type(default), (), default)
            continue
        out.append(f"| `[{table}]` | `{f.name}` | `{toml_value(default)}` | {_meaning(f.name, own, shared)} |")
    return out


def reference() -> str:
    lines = ["| table | key | default | meaning |", "|---|---|---|---|"]
    lines += rows("ketl", Settings, ("stages",))
    for entry in STAGES:
        lines += rows(entry.name, entry.settings_class, tuple(_FROM_KETL.get(entry.name, {})))
    return "\n".join(lines)


if __name__ == "__main__":
    print(reference())
