"""`ketl report` in a real browser, at about 200 and 20,000 articles.

Builds each dataset from the generated follow corpus (benchmarks/follow_corpus.py:
statements reprinted by several outlets at known times, dated and undated,
whole reprints) with a real `ketl run`, times `ketl report`, then opens a copy
of report.html in headless Chromium with a probe script that writes uncaught
errors, console.error calls and images that did not decode into the page
title, read back through --dump-dom; a screenshot is written beside it.

Prints per size: articles, run seconds, report seconds, page size, images,
errors. Run: PYTHONPATH=src python benchmarks/report_browser_check.py [--sizes 65 6300] [--keep DIR]
(a size is the number of statements; articles are about 3.2 times that).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from follow_corpus import make_corpus  # noqa: E402

PROBE = """<script>
(function(){var errs=[];function note(m){errs.push(String(m));document.title='KETL-ERRORS '+errs.join(' | ');}
window.onerror=function(m,src,line){note(m+' @'+line);};
var ce=console.error;console.error=function(){note(Array.prototype.join.call(arguments,' '));ce.apply(console,arguments);};
window.addEventListener('load',function(){var imgs=document.images,bad=0;
for(var i=0;i<imgs.length;i++){if(!imgs[i].complete||imgs[i].naturalWidth===0)bad++;}
if(bad)note(bad+' images did not decode');if(!errs.length)document.title='KETL-OK images='+imgs.length;});})();
</script>"""


def chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser") or shutil.which("google-chrome")


def build(folder: Path, statements: int) -> tuple[Path, int, float]:
    raw, out = folder / "raw", folder / "curated"
    truth = make_corpus(raw, statements=statements, undated=statements // 4, reprints=max(3, statements // 20))
    env = {**os.environ, "PREFECT_HOME": str(folder / "prefect"), "PREFECT_SERVER_ANALYTICS_ENABLED": "false"}
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "ketl"), "run", "--raw", str(raw), "--out", str(out),
                    "--workers", "2"], check=True, env=env, stdout=subprocess.DEVNULL)
    return out, len(truth["articles"]), time.perf_counter() - t


def report(out: Path) -> tuple[Path, float]:
    t = time.perf_counter()
    subprocess.run([str(Path(sys.executable).parent / "ketl"), "report", "--out", str(out)], check=True,
                   stdout=subprocess.DEVNULL)
    return out / "report.html", time.perf_counter() - t


def browse(page: Path, browser: str, shot: Path) -> tuple[str, list[str], float]:
    """The page title the probe set, console lines Chromium logged, and the seconds it took."""
    page = page.resolve()
    probe = page.with_name("report.probe.html")
    probe.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    base = [browser, "--headless", "--disable-gpu", "--no-sandbox", "--hide-scrollbars",
            "--virtual-time-budget=5000"]
    t = time.perf_counter()
    dom = subprocess.run(base + ["--enable-logging=stderr", "--v=0", "--dump-dom", probe.as_uri()],
                         capture_output=True, text=True, timeout=300)
    seconds = time.perf_counter() - t
    subprocess.run(base + [f"--screenshot={shot}", "--window-size=1400,4000", page.as_uri()],
                   capture_output=True, timeout=300)
    title = re.search(r"<title>(.*?)</title>", dom.stdout, re.S)
    console = [ln for ln in dom.stderr.splitlines() if "CONSOLE" in ln or "Uncaught" in ln]
    return (title.group(1) if title else "(no title: page not loaded)"), console, seconds


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", type=int, nargs="+", default=[65, 6300], help="statements per corpus")
    ap.add_argument("--keep", type=Path, help="keep datasets and screenshots here")
    args = ap.parse_args()
    browser = chromium()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="ketl-report-check-"))
    failed = False
    for n in args.sizes:
        work = folder / f"s{n}"
        shutil.rmtree(work, ignore_errors=True)
        work.mkdir(parents=True)
        out, articles, run_s = build(work, n)
        page, report_s = report(out)
        size = page.stat().st_size
        print(f"{articles:,} articles: run {run_s:.1f} s, report {report_s:.1f} s, page {size / 1e6:.2f} MB")
        if browser is None:
            print("  chromium not installed: browser check skipped")
            continue
        title, console, browse_s = browse(page, browser, work / "report.png")
        ok = title.startswith("KETL-OK") and not console
        failed |= not ok
        print(f"  chromium {browse_s:.1f} s: {title}; console lines {len(console)}; screenshot {work / 'report.png'}")
        for line in console[:10]:
            print("   ", line[:200])
    if not args.keep:
        shutil.rmtree(folder, ignore_errors=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
