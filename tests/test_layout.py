"""The code's shape (issue #14), read with ``ast`` from src/ketl without importing it.

* stages do not reach up into the run, flow, CLI or report layers;
* Prefect is imported only in the flow layer (``ketl/flows.py`` or ``ketl/flows/``);
* no function is longer than 80 lines.

Each rule is a function over a source tree, so the tests at the bottom can feed
it a tree built to break it and see it complain.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
EXPECTED_PACKAGES = ("stages", "ingest", "run", "flows", "report", "cli")
STAGE_MAY_NOT_IMPORT = ("ketl.run", "ketl.flows", "ketl.cli", "ketl.report")
PREFECT = ("prefect", "prefect_dask")  # the distribution and its Dask runner
MAX_FUNCTION_LINES = 80


@dataclass(frozen=True)
class Module:
    name: str        # dotted: ketl.stages.repair for ketl/stages/repair/__init__.py
    path: Path
    tree: ast.Module

    @property
    def package(self) -> str:
        """The package relative imports start from."""
        return self.name if self.path.name == "__init__.py" else self.name.rpartition(".")[0]


def modules(src: Path, package: str = "ketl") -> list[Module]:
    out = []
    for path in sorted((src / package).rglob("*.py")):
        parts = list(path.relative_to(src).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        out.append(Module(".".join(parts), path, ast.parse(path.read_text(encoding="utf-8"), str(path))))
    return out


def imported_names(module: Module) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import, relative ones resolved.

    ``from ketl import run`` and ``from .. import run`` may import a submodule,
    so they yield ``ketl.run`` as well as ``ketl``."""
    out = []
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            out += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = module.package.split(".")
                anchor = ".".join(parts[:len(parts) - (node.level - 1)])
                base = f"{anchor}.{base}" if base else anchor
            out.append((node.lineno, base))
            out += [(node.lineno, f"{base}.{alias.name}") for alias in node.names if alias.name != "*"]
    return out


def _within(name: str, prefixes: tuple[str, ...]) -> bool:
    return any(name == p or name.startswith(p + ".") for p in prefixes)


def stage_import_offenders(mods: list[Module]) -> list[str]:
    return [f"{m.path.name} ({m.name}):{line} imports {name}"
            for m in mods if _within(m.name, ("ketl.stages",))
            for line, name in imported_names(m) if _within(name, STAGE_MAY_NOT_IMPORT)]


def prefect_import_offenders(mods: list[Module]) -> list[str]:
    return [f"{m.name}:{line} imports {name}"
            for m in mods if not _within(m.name, ("ketl.flows",))
            for line, name in imported_names(m) if _within(name, PREFECT)]


def _functions(node: ast.AST, prefix: str):
    """(qualified name, node) of every function and method, nested ones too."""
    for child in ast.iter_child_nodes(node):
        name = f"{prefix}.{child.name}" if hasattr(child, "name") else prefix
        if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
            yield name, child
        yield from _functions(child, name)


def long_functions(mods: list[Module], limit: int = MAX_FUNCTION_LINES) -> list[str]:
    # Decorators are not counted: a def's lineno is the line of ``def``.
    return [f"{name} ({m.path.name}:{node.lineno}): {node.end_lineno - node.lineno + 1} lines"
            for m in mods for name, node in _functions(m.tree, m.name)
            if node.end_lineno - node.lineno + 1 > limit]


# ---------------------------------------------------------------- the rules on src/ketl

@pytest.fixture(scope="module")
def ketl_modules() -> list[Module]:
    mods = modules(SRC)
    assert len(mods) > 30 and any(m.name == "ketl.document" for m in mods)
    return mods


def test_expected_packages_exist():
    missing = [p for p in EXPECTED_PACKAGES if not (SRC / "ketl" / p / "__init__.py").is_file()]
    if missing:
        pytest.skip(f"until #14 creates them: ketl/{', ketl/'.join(missing)} not packages yet")


def test_stages_do_not_import_run_flows_cli_or_report(ketl_modules):
    # Passes without looking at anything while ketl/stages/ does not exist yet.
    offenders = stage_import_offenders(ketl_modules)
    assert not offenders, "stages importing upper layers:\n" + "\n".join(offenders)


def test_prefect_is_imported_only_in_the_flow_layer(ketl_modules):
    offenders = prefect_import_offenders(ketl_modules)
    assert not offenders, "prefect imported outside ketl/flows:\n" + "\n".join(offenders)


def test_no_function_is_longer_than_80_lines(ketl_modules):
    offenders = long_functions(ketl_modules)
    assert not offenders, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(offenders)


# ---------------------------------------------------------------- the checkers can fail

def _tree(root: Path, files: dict[str, str]) -> list[Module]:
    for rel, text in files.items():
        path = root / "ketl" / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return modules(root)


def _function(name: str, lines: int) -> str:
    """A function of exactly ``lines`` lines."""
    return f"def {name}(text):\n" + "    text = text.strip()\n" * (lines - 2) + "    return text\n"


BAD = {
    "__init__.py": "",
    "stages/__init__.py": "from .repair import run as repair\n",
    "stages/repair/__init__.py": "from ...run import work_folder\nfrom .rules import RULES\n",
    "stages/repair/rules.py": "RULES = ()\nfrom ketl.flows.tasks import curate\n",
    "stages/quotes.py": "from .. import report\nimport ketl.cli.app as app\nimport prefect\n",
    "stages/entities.py": "from ..settings import Settings\nfrom ketl.document import Document\n",
    "run/batches.py": "from prefect.context import get_run_context\n" + _function("prepare", 80),
    "flows/__init__.py": "from prefect import flow\nimport prefect_dask\n",
    "report/charts.py": "def draw():\n    import prefect_dask\n" + _function("too_long", 81),
}


def test_stage_rule_reports_every_upward_import(tmp_path):
    found = stage_import_offenders(_tree(tmp_path, BAD))
    assert found == [
        "quotes.py (ketl.stages.quotes):1 imports ketl.report",
        "quotes.py (ketl.stages.quotes):2 imports ketl.cli.app",
        "__init__.py (ketl.stages.repair):1 imports ketl.run",
        "__init__.py (ketl.stages.repair):1 imports ketl.run.work_folder",
        "rules.py (ketl.stages.repair.rules):2 imports ketl.flows.tasks",
        "rules.py (ketl.stages.repair.rules):2 imports ketl.flows.tasks.curate",
    ]


def test_prefect_rule_allows_only_the_flow_layer(tmp_path):
    found = prefect_import_offenders(_tree(tmp_path, BAD))
    assert found == ["ketl.report.charts:2 imports prefect_dask",
                     "ketl.run.batches:1 imports prefect.context",
                     "ketl.run.batches:1 imports prefect.context.get_run_context",
                     "ketl.stages.quotes:3 imports prefect"]
    # flows as a module (today's shape) is the flow layer too
    assert prefect_import_offenders(_tree(tmp_path / "flat", {"flows.py": "import prefect\n"})) == []


def test_length_rule_reports_81_lines_not_80(tmp_path):
    found = long_functions(_tree(tmp_path, BAD))
    assert found == ["ketl.report.charts.too_long (charts.py:3): 81 lines"]
    method = "class Stage:\n" + "".join("    " + line + "\n" for line in _function("run", 90).splitlines())
    assert long_functions(_tree(tmp_path / "m", {"stage.py": method})) == ["ketl.stage.Stage.run (stage.py:2): 90 lines"]


def test_relative_imports_resolve_from_modules_and_packages(tmp_path):
    mods = {m.name: m for m in _tree(tmp_path, BAD)}
    assert ("ketl.run", "ketl.stages.repair") == (
        imported_names(mods["ketl.stages.repair"])[0][1], mods["ketl.stages.repair"].package)
    assert [n for _, n in imported_names(mods["ketl.stages.entities"])] == [
        "ketl.settings", "ketl.settings.Settings", "ketl.document", "ketl.document.Document"]
