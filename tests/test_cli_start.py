"""`ketl --help`, `--version` and a usage error answer without loading the pipeline's
heavy libraries: the commands import them when they run (benchmarks/bench_cli_start.py
times it: 0.33 s before, 0.12 s after)."""

from __future__ import annotations

import subprocess
import sys

HEAVY = ("numpy", "pyarrow", "prefect", "ftfy", "regex", "matplotlib")


def _loaded_after(code: str) -> list[str]:
    probe = f"{code}\nimport sys\nprint(' '.join(m for m in {HEAVY!r} if m in sys.modules))"
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


def test_importing_the_cli_loads_no_heavy_library():
    assert _loaded_after("import ketl.cli") == []


def test_help_of_every_command_loads_no_heavy_library():
    code = ("from typer.testing import CliRunner\nfrom ketl.cli import app\nr = CliRunner()\n"
            "for args in ([], ['--version'], ['run', '--help'], ['serve', '--help'], ['report', '--help'],\n"
            "             ['export', '--help'], ['review', '--help'], ['gazetteer', 'import', '--help']):\n"
            "    res = r.invoke(app, args)\n"
            "    assert 'Traceback' not in res.output and res.exit_code in (0, 2), (args, res.output)\n")
    assert _loaded_after(code) == []


def test_the_check_really_sees_a_heavy_import():
    # the probe itself: a module that does load one is reported
    assert _loaded_after("import ketl.stages.entities.gazetteer") != []
