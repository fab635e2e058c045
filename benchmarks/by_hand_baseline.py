"""The script a user would write by hand instead of ketl: the baseline of bench_vs_by_hand.py.

For each ``.txt`` under RAW (sorted): ``ftfy.fix_text`` on the decoded bytes, a
regex that drops a few ad lines, word 5-gram shingles; then
``datasketch.MinHash.bulk`` (128 permutations) and a ``MinHashLSH(threshold=0.8)``
query + insert per document; one zstd Parquet file written with pyarrow.
One process, one core, no provenance, no edits, no incremental state.

    python benchmarks/by_hand_baseline.py RAW OUT.parquet
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import ftfy
import pyarrow as pa
import pyarrow.parquet as pq
from datasketch import MinHash, MinHashLSH

AD_LINE = re.compile(r"^\s*(?:advertisement|sponsored|subscribe\b.*|share (?:on|this)\b.*|read more\b.*)\s*$",
                     re.IGNORECASE | re.MULTILINE)
CHUNK = 1000  # documents per MinHash.bulk call


def clean(data: bytes) -> str:
    text = ftfy.fix_text(data.decode("utf-8", errors="replace"))
    return AD_LINE.sub("", text)


def shingles(text: str) -> set[bytes]:
    words = text.split()
    return {" ".join(words[i:i + 5]).encode("utf-8") for i in range(max(1, len(words) - 4))}


def main(raw: Path, out: Path) -> None:
    paths = sorted(p for p in raw.rglob("*.txt") if p.is_file())
    lsh = MinHashLSH(threshold=0.8, num_perm=128)
    ids, texts, dup_of = [], [], []
    for start in range(0, len(paths), CHUNK):
        chunk = paths[start:start + CHUNK]
        cleaned = [clean(p.read_bytes()) for p in chunk]
        sigs = MinHash.bulk([shingles(t) for t in cleaned], num_perm=128)
        for p, text, m in zip(chunk, cleaned, sigs):
            key = str(p.relative_to(raw))
            hits = lsh.query(m)
            dup_of.append(min(hits) if hits else None)
            lsh.insert(key, m)
            ids.append(key)
            texts.append(text)
    table = pa.table({"id": ids, "text": texts, "near_duplicate_of": pa.array(dup_of, pa.string())})
    pq.write_table(table, out, compression="zstd")
    print(f"{len(ids)} articles, {sum(d is not None for d in dup_of)} near-duplicates -> {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
