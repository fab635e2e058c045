"""ARCHITECTURE.md's tree names every package and module of src/ketl, so a new module
cannot land without its line (and a renamed one leaves a name the test finds missing)."""

from __future__ import annotations

import re

from conftest import REPO

SRC = REPO / "src" / "ketl"


def _tree_block() -> str:
    text = (REPO / "ARCHITECTURE.md").read_text(encoding="utf-8")
    block = re.search(r"## The tree\n.*?```\n(.*?)```", text, re.S)
    assert block, "ARCHITECTURE.md has no tree under '## The tree'"
    return block.group(1)


def missing_names(tree: str, src=SRC) -> list[str]:
    words = set(re.findall(r"[\w.]+", tree))
    out = []
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src)
        if "__pycache__" in rel.parts or path.name in ("__init__.py", "__main__.py"):
            continue
        if path.is_dir() and path.name + "/" not in tree:
            out.append(f"{rel}/")
        elif path.suffix == ".py" and not ({path.name, path.stem} & words):
            out.append(str(rel))
    return out


def test_every_package_and_module_has_its_line():
    missing = missing_names(_tree_block())
    assert not missing, "ARCHITECTURE.md's tree does not name: " + ", ".join(missing)


def test_a_module_missing_from_the_tree_is_reported(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "batch.py").write_text("")
    (tmp_path / "run" / "work.py").write_text("")
    (tmp_path / "fresh").mkdir()
    assert missing_names("  run/   batch.py  the batch steps\n", tmp_path) == ["fresh/", "run/work.py"]
