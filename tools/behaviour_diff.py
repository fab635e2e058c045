"""Behaviour diff: run two versions of ketl on the same corpora and compare every table.

Issue #14 restructures the code without changing what it writes. This script
proves it: it installs the commit before the restructure (``--base``, default
``1c60d71``) and the new code (``--head``: a commit, or the working tree by
default) into two temporary venvs, runs ``ketl run`` with each on the seeds
and on the 181 AEB pages, and compares every table of the two datasets minus
the columns that differ from run to run. Exit 0 when the diff is empty, 1 when
it is not (or a run failed), 2 on usage errors.

    python tools/behaviour_diff.py [--base 1c60d71] [--head COMMIT] [--keep]

Each run starts its own temporary Prefect server and waits up to
``KETL_DIFF_SERVER_TIMEOUT`` seconds (default 600) for it.

How each side is installed, and why this way:

* The source is ``git archive``d into a temporary folder (the working tree is
  copied from ``git ls-files``, so uncommitted edits count and build litter
  does not), so neither side imports the other's modules.
* ``python -m venv --without-pip`` makes the venv; a ``.pth`` file in its
  site-packages lists the running interpreter's site-packages, so the
  dependencies already installed there are seen without downloading anything
  (``--system-site-packages`` would expose the base Python, not this venv).
  Lines of a ``.pth`` file are only appended to ``sys.path``: the ``.pth``
  files inside the listed folder (such as an editable ketl install pointing at
  some other checkout) are not processed, and the venv's own site-packages,
  where its ketl goes, comes first.
* ketl is then installed with ``pip install --no-deps --no-build-isolation
  --no-index`` when the running interpreter can build a wheel offline (the
  ``wheel`` package, or setuptools >= 70.1 which ships ``bdist_wheel``). The
  shared venv has setuptools 65 without ``wheel``, and fetching ``wheel`` would
  be a download, so otherwise the install is done as a pure-Python wheel
  install would do it: the packages under ``src/`` are copied into
  site-packages with a ``.dist-info`` holding the version and the console
  scripts. The script says which way it took.

Columns that legitimately differ between two runs are left out of the row
comparison (``IGNORED_COLUMNS`` and every timestamp column), and the temporary
folders' paths are replaced by placeholders in every string. They are still
part of the schema comparison: a renamed ``run_id`` is a diff. ``config_hash``
is compared: it hashes the settings and the contents of user rule files, not
paths or versions, and no user files are passed here.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import importlib.util
import io
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pyarrow as pa
import pyarrow.dataset as ds

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
DEFAULT_BASE = "1c60d71"

# Columns that change from one run to the next whatever the code does.
IGNORED_COLUMNS = frozenset({
    "run_id",            # Prefect flow run id
    "run_date",          # hive partition: the day of the run
    "processed_at", "started_at", "finished_at",
    "seconds",           # wall time of the run
    "pipeline_version",  # both sides may be 0.2.0, but a bump is not behaviour
    # A cluster's spread runs to an undated article's first_seen, the moment the run
    # read it: two runs of the same code differ there (AEB: 61547.946 vs 61547.983 h).
    "spread_hours",
})

# The columns naming one row of each table, to pair rows and show which cell
# differs. Tables not listed (and keys that are not unique) pair rows by their
# whole content, so a differing row shows as one missing and one extra row.
ROW_KEYS = {
    "articles": ("doc_id",),
    "edits": ("doc_id", "seq"),
    "quotes": ("quote_id",),
    "rejects": ("source_path",),
    "entities": ("doc_id", "start", "end"),
    "suggestions": ("doc_id", "source_start", "source_end", "candidate"),
    "runs": ("raw_root",),  # one run per corpus here: names the row once run_id is ignored
}

EXAMPLES = 3  # example rows shown per difference


# ---------------------------------------------------------------- comparison

@dataclass
class TableDiff:
    """What differs in one table; empty when ``problems`` is empty."""

    name: str
    rows_base: int = 0
    rows_head: int = 0
    problems: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        head = f"{self.name}: {self.rows_base} rows base, {self.rows_head} rows head"
        if not self.problems:
            return [f"{head}: same"]
        return [f"{head}: DIFFERENT"] + [f"  {p}" for p in self.problems]


def tables(out: Path) -> dict[str, Path]:
    """The tables of a dataset: visible folders holding Parquet parts, and the
    run state under ``.ketl/current/_state`` (a change there breaks the next
    incremental run even when this run's tables agree)."""
    found = {p.name: p for p in out.iterdir()
             if p.is_dir() and not p.name.startswith((".", "_")) and any(p.rglob("*.parquet"))}
    state = out / ".ketl" / "current" / "_state"
    if state.is_dir():
        for p in state.iterdir():
            if p.suffix == ".parquet" or (p.is_dir() and any(p.rglob("*.parquet"))):
                found[f"_state/{p.name}"] = p
    return found


def read_table(path: Path) -> pa.Table:
    """All parts of one table (the hive partition column included), or one Parquet file."""
    return ds.dataset(path, format="parquet", partitioning="hive").to_table()


def schema_problems(base: pa.Schema, head: pa.Schema) -> list[str]:
    """Columns missing, added, or of another type (names and types, not descriptions)."""
    b = {f.name: f.type for f in base}
    h = {f.name: f.type for f in head}
    out = [f"column {n!r} only in base ({b[n]})" for n in b if n not in h]
    out += [f"column {n!r} only in head ({h[n]})" for n in h if n not in b]
    out += [f"column {n!r} type {b[n]} in base, {h[n]} in head" for n in b if n in h and b[n] != h[n]]
    return out


def compared_columns(base: pa.Schema, head: pa.Schema, ignored: frozenset[str]) -> list[str]:
    """Columns present on both sides that say something about the behaviour."""
    h = {f.name for f in head}
    return [f.name for f in base if f.name in h and f.name not in ignored
            and not pa.types.is_timestamp(f.type) and not pa.types.is_date(f.type)]


def normalise(value: Any, replacements: tuple[tuple[str, str], ...]) -> Any:
    """The value with temporary paths replaced by placeholders (strings, lists, dicts)."""
    if isinstance(value, str):
        for old, new in replacements:
            value = value.replace(old, new)
        return value
    if isinstance(value, list):
        return [normalise(v, replacements) for v in value]
    if isinstance(value, dict):
        return {k: normalise(v, replacements) for k, v in value.items()}
    return value


def _same(a: Any, b: Any) -> bool:
    if isinstance(a, float) and isinstance(b, float) and math.isnan(a) and math.isnan(b):
        return True
    return a == b


def _sort_key(row: dict) -> str:
    return json.dumps(row, sort_keys=True, default=repr)


def _group(rows: list[dict], key: tuple[str, ...]) -> dict[tuple, list[dict]]:
    groups: dict[tuple, list[dict]] = {}
    for row in rows:
        k = tuple(row[c] for c in key) if key else (_sort_key(row),)
        groups.setdefault(k, []).append(row)
    for members in groups.values():
        members.sort(key=_sort_key)
    return groups


def _short(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _unmatched(label: str, groups: dict, other: dict, key: tuple[str, ...]) -> list[str]:
    missing = [k for k in groups if k not in other]
    n = sum(len(groups[k]) for k in missing)
    if not n:
        return []
    shown = [_short(dict(zip(key, k)) if key else groups[k][0]) for k in missing[:EXAMPLES]]
    return [f"{n} rows only in {label}, e.g. " + "; ".join(shown)]


def row_problems(base: list[dict], head: list[dict], key: tuple[str, ...]) -> list[str]:
    """Rows only on one side and, for rows paired by ``key``, the cells that differ."""
    gb, gh = _group(base, key), _group(head, key)
    out = _unmatched("base", gb, gh, key) + _unmatched("head", gh, gb, key)
    cells: dict[str, list[str]] = {}
    for k, rows_b in gb.items():
        rows_h = gh.get(k)
        if rows_h is None:
            continue
        if len(rows_b) != len(rows_h):
            out.append(f"key {dict(zip(key, k))}: {len(rows_b)} rows in base, {len(rows_h)} in head")
        for rb, rh in zip(rows_b, rows_h):
            for col in rb:
                if not _same(rb[col], rh[col]):
                    where = dict(zip(key, k)) if key else "row"
                    cells.setdefault(col, []).append(
                        f"{where}: base {_short(rb[col])} / head {_short(rh[col])}")
    for col, examples in cells.items():
        out.append(f"column {col!r} differs in {len(examples)} rows, e.g. " + "; ".join(examples[:EXAMPLES]))
    return out


def _usable_key(name: str, columns: list[str], *tables: list[dict]) -> tuple[str, ...]:
    key = tuple(c for c in ROW_KEYS.get(name, ()) if c in columns)
    if not key or len(key) != len(ROW_KEYS.get(name, ())):
        return ()
    for rows in tables:
        if len({tuple(r[c] for c in key) for r in rows}) != len(rows):
            return ()
    return key


def compare_tables(name: str, base: pa.Table, head: pa.Table,
                   replacements: tuple[tuple[str, str], ...] = (),
                   ignored: frozenset[str] = IGNORED_COLUMNS,
                   stage_renames: dict[str, str] | None = None) -> TableDiff:
    """The differences between two versions of one table. ``stage_renames``
    maps the base's ``edits.stage`` values to the head's (an intended rename)."""
    diff = TableDiff(name, base.num_rows, head.num_rows)
    diff.problems += schema_problems(base.schema, head.schema)
    columns = compared_columns(base.schema, head.schema, ignored)
    rows_b = [normalise(r, replacements) for r in base.select(columns).to_pylist()]
    if name == "edits" and stage_renames:
        for r in rows_b:
            r["stage"] = stage_renames.get(r.get("stage"), r.get("stage"))
    rows_h = [normalise(r, replacements) for r in head.select(columns).to_pylist()]
    diff.problems += row_problems(rows_b, rows_h, _usable_key(name, columns, rows_b, rows_h))
    return diff


def compare_datasets(base: Path, head: Path,
                     replacements: tuple[tuple[str, str], ...] = (),
                     ignored: frozenset[str] = IGNORED_COLUMNS,
                     stage_renames: dict[str, str] | None = None) -> list[TableDiff]:
    """Every table of two output folders; a table present on one side only is a diff."""
    found_b, found_h = tables(base), tables(head)
    diffs = []
    for name in sorted(found_b.keys() | found_h.keys()):
        if name not in found_h or name not in found_b:
            side = "base" if name in found_b else "head"
            diffs.append(TableDiff(name, problems=[f"table only in {side}"]))
            continue
        diffs.append(compare_tables(name, read_table(found_b[name]), read_table(found_h[name]),
                                    replacements, ignored, stage_renames))
    return diffs


# ---------------------------------------------------------------- installing

@dataclass
class Side:
    label: str
    ref: str | None          # commit, or None for the working tree
    root: Path               # temporary folder of this side
    python: Path | None = None
    how: str = ""


def _git(*args: str) -> str:
    return subprocess.run(["git", "-C", str(REPO), *args], check=True,
                          capture_output=True, text=True).stdout


def export_source(ref: str | None, dest: Path) -> None:
    """The files of ``ref`` (or of the working tree: tracked and new, not ignored) in ``dest``."""
    dest.mkdir(parents=True)
    if ref is not None:
        archive = subprocess.run(["git", "-C", str(REPO), "archive", "--format=tar", ref],
                                 check=True, capture_output=True).stdout
        with tarfile.open(fileobj=io.BytesIO(archive)) as tar:
            tar.extractall(dest, filter="data")
        return
    listed = _git("ls-files", "-z", "--cached", "--others", "--exclude-standard").split("\0")
    for rel in filter(None, listed):
        src = REPO / rel
        if src.is_file():  # a deleted but still tracked file is not part of the tree
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)


def can_build_wheels() -> bool:
    """Whether pip can build ketl's wheel offline with the running interpreter's packages."""
    if importlib.util.find_spec("wheel") is not None:
        return True
    try:
        import setuptools
        major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
        return (major, minor) >= (70, 1)
    except (ImportError, ValueError):
        return False


def site_packages(python: Path) -> Path:
    return Path(subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                               check=True, capture_output=True, text=True, env=_clean_env()).stdout.strip())


def make_venv(root: Path) -> Path:
    """A venv seeing the running interpreter's packages through a ``.pth`` file."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(root)], check=True)
    python = root / "bin" / "python"
    site = site_packages(python)
    ours = {sysconfig.get_path("purelib"), sysconfig.get_path("platlib")}
    lines = [p for p in sys.path if p in ours] or sorted(ours)
    (site / "_behaviour_diff_deps.pth").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return python


def copy_install(source: Path, python: Path) -> None:
    """What installing ketl's pure-Python wheel does: packages, dist-info, console scripts."""
    project = tomllib.loads((source / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    site = site_packages(python)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    for pkg in sorted((source / "src").iterdir()):
        if pkg.is_dir() and not pkg.name.endswith(".egg-info") and pkg.name != "__pycache__":
            shutil.copytree(pkg, site / pkg.name, ignore=ignore)
    info = site / f"{project['name']}-{project['version']}.dist-info"
    info.mkdir()
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {project['name']}\n"
                                   f"Version: {project['version']}\n", encoding="utf-8")
    scripts = project.get("scripts", {})
    (info / "entry_points.txt").write_text(
        "[console_scripts]\n" + "".join(f"{k} = {v}\n" for k, v in scripts.items()), encoding="utf-8")
    for name, target in scripts.items():
        module, func = target.split(":")
        exe = python.parent / name
        # The guard matters: spawned workers re-import the main script.
        exe.write_text(f"#!{python}\nimport sys\nfrom {module} import {func}\n"
                       f"if __name__ == '__main__':\n    sys.exit({func}())\n",
                       encoding="utf-8")
        exe.chmod(0o755)


def install(side: Side) -> None:
    source = side.root / "src"
    export_source(side.ref, source)
    side.python = make_venv(side.root / "venv")
    if can_build_wheels():
        subprocess.run([str(side.python), "-m", "pip", "install", "-q", "--no-deps", "--no-index",
                        "--no-build-isolation", str(source)], check=True, env=_clean_env())
        side.how = "pip install --no-deps --no-index --no-build-isolation"
    else:
        copy_install(source, side.python)
        side.how = "copied src/ packages + dist-info (no offline wheel builder here)"
    (side.root / "cwd").mkdir()  # an empty working folder: no ./ketl.toml is picked up
    check_install(side)


def check_install(side: Side) -> None:
    """Both sides importing the same ketl would make any diff empty: refuse that."""
    where = subprocess.run([str(side.python), "-c", "import ketl; print(ketl.__file__)"], cwd=side.root / "cwd",
                           check=True, capture_output=True, text=True, env=_clean_env()).stdout.strip()
    if not Path(where).is_relative_to(side.root / "venv"):
        raise RuntimeError(f"{side.label}'s venv imports ketl from {where}, not from its own install")


# ---------------------------------------------------------------- running

def _clean_env(**extra: str) -> dict[str, str]:
    """The environment minus anything that would import another checkout's ketl."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME", "KETL_FAULT")}
    env.update(extra)
    return env


@dataclass
class RunResult:
    code: int
    seconds: float
    stderr: str


def run_ketl(side: Side, corpus: Path, out: Path, workers: int | None) -> RunResult:
    """``ketl run`` of one side on one corpus, in its own Prefect home and cache."""
    tag = f"{out.name}"
    env = _clean_env(PREFECT_HOME=str(side.root / f"prefect-{tag}"),
                     PREFECT_SERVER_ANALYTICS_ENABLED="false",
                     # 90 s was too short at load 15-24 (the run failed before it started);
                     # a server that does start is waited for, one that cannot still fails
                     PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS=os.environ.get(
                         "KETL_DIFF_SERVER_TIMEOUT", "600"),
                     KETL_CACHE_DIR=str(side.root / f"cache-{tag}"))
    cmd = [str(side.python.parent / "ketl"), "run", "--raw", str(corpus), "--out", str(out)]
    if workers:
        cmd += ["--workers", str(workers)]
    t0 = time.perf_counter()
    res = subprocess.run(cmd, cwd=side.root / "cwd", env=env, capture_output=True, text=True)
    return RunResult(res.returncode, time.perf_counter() - t0, res.stderr)


def build_corpora(root: Path, seeds: Path, aeb: Path | None) -> dict[str, Path]:
    """The seeds as they are, and each AEB page's text as one ``.txt`` file (as bench_boilerplate reads them)."""
    corpora = {"seeds": seeds}
    if aeb is not None:
        folder = root / "aeb"
        folder.mkdir(parents=True)
        pages = json.loads((aeb / "html-text.json").read_text(encoding="utf-8"))["output"]
        for key, page in sorted(pages.items()):
            (folder / f"{key}.txt").write_text(page["articleBody"], encoding="utf-8")
        corpora["aeb"] = folder
    return corpora


# ---------------------------------------------------------------- main

def parse_args(argv: Iterable[str] | None = None) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--base", default=DEFAULT_BASE, help=f"commit before the change (default {DEFAULT_BASE})")
    ap.add_argument("--head", default=None, help="commit after the change (default: the working tree)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder and print its path")
    ap.add_argument("--seeds", type=Path, default=None,
                    help="seed folder (default ../shared/seeds, else the repository's raw/)")
    ap.add_argument("--aeb", type=Path, default=SHARED / "bench" / "aeb",
                    help="AEB folder holding html-text.json (default ../shared/bench/aeb)")
    ap.add_argument("--no-aeb", action="store_true", help="run on the seeds only")
    ap.add_argument("--workers", type=int, default=None, help="ketl run --workers (default: ketl's)")
    ap.add_argument("--stage-renames", action="store_true",
                    help="read the base's edits.stage with 0.2's names mapped to today's "
                         "(ketl.schemas.EDIT_STAGE_RENAMES: the one intended change of #14)")
    return ap.parse_args(argv)


def _check_args(args: argparse.Namespace) -> str | None:
    for ref in filter(None, (args.base, args.head)):
        if subprocess.run(["git", "-C", str(REPO), "rev-parse", "--verify", "-q", f"{ref}^{{commit}}"],
                          capture_output=True).returncode:
            return f"not a commit: {ref}"
    if args.seeds is None:
        args.seeds = SHARED / "seeds" if (SHARED / "seeds").is_dir() else REPO / "raw"
    if not args.seeds.is_dir():
        return f"no seed folder: {args.seeds}"
    if not args.no_aeb and not (args.aeb / "html-text.json").is_file():
        return f"no AEB pages: {args.aeb / 'html-text.json'} (use --no-aeb)"
    return None


def _run_corpus(sides: list[Side], name: str, corpus: Path, tmp: Path, workers: int | None,
                stage_renames: dict[str, str] | None = None) -> bool:
    """Both sides on one corpus, then the comparison; True when nothing differs."""
    results, outs = [], []
    for side in sides:
        out = side.root / f"out-{name}"
        res = run_ketl(side, corpus, out, workers)
        print(f"  ketl run {name} ({side.label}): exit {res.code}, {res.seconds:.1f} s", flush=True)
        results.append(res)
        outs.append(out)
    if results[0].code != results[1].code:
        print(f"{name}: exit code {results[0].code} base, {results[1].code} head: DIFFERENT")
    for side, res in zip(sides, results):
        if res.code not in (0, 1):
            print(f"{name} ({side.label}) failed:\n{res.stderr[-2000:]}")
            return False
    t0 = time.perf_counter()
    replacements = ((str(outs[0]), "<OUT>"), (str(outs[1]), "<OUT>"), (str(tmp), "<TMP>"))
    diffs = compare_datasets(outs[0], outs[1], replacements, stage_renames=stage_renames)
    for d in diffs:
        print(f"[{name}] " + "\n".join(d.lines()))
    print(f"  compared {len(diffs)} tables in {time.perf_counter() - t0:.1f} s")
    return results[0].code == results[1].code and all(not d.problems for d in diffs)


def _stage_renames() -> dict[str, str]:
    from ketl.schemas import EDIT_STAGE_RENAMES

    return dict(EDIT_STAGE_RENAMES)


def main(argv: Iterable[str] | None = None) -> int:
    args = parse_args(argv)
    problem = _check_args(args)
    if problem:
        print(f"behaviour_diff: {problem}", file=sys.stderr)
        return 2
    tmp = Path(tempfile.mkdtemp(prefix="ketl-behaviour-diff-"))
    try:
        sides = [Side("base", args.base, tmp / "base"), Side("head", args.head, tmp / "head")]
        for side in sides:
            t0 = time.perf_counter()
            install(side)
            print(f"installed {side.label} ({side.ref or 'working tree'}) in {time.perf_counter() - t0:.1f} s:"
                  f" {side.how}", flush=True)
        corpora = build_corpora(tmp / "corpora", args.seeds, None if args.no_aeb else args.aeb)
        renames = _stage_renames() if args.stage_renames else None
        same = [_run_corpus(sides, name, path, tmp, args.workers, renames) for name, path in corpora.items()]
        print("behaviour diff: EMPTY" if all(same) else "behaviour diff: NOT EMPTY")
        return 0 if all(same) else 1
    finally:
        if args.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    t_start = time.perf_counter()
    code = main()
    print(f"total {time.perf_counter() - t_start:.1f} s")
    sys.exit(code)
