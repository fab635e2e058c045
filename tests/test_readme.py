"""The README documents the output contract and the set-up that .ci/run runs."""

import re

from ketl.schemas import TABLES
from conftest import REPO

README = (REPO / "README.md").read_text(encoding="utf-8")


def test_every_table_and_column_is_documented_with_its_type():
    for name, schema in TABLES.items():
        assert f"### `{name}`" in README, name
        for field in schema:
            assert f"| `{field.name}` | {field.type} |" in README, (name, field.name)


def test_ci_runs_the_readme_commands():
    ci = (REPO / ".ci" / "run").read_text()
    commands = re.findall(r"```bash\n(python3 -m venv[^\n]+)\n```", README)
    assert len(commands) == 2
    for command in commands:
        assert command in ci
