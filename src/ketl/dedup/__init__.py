"""Near-duplicate detection for quotes and articles: MinHash + LSH, across runs.

Where to call what
------------------
* Worker processes (pure, no I/O): :func:`ketl.dedup.index.sketch_table` (or
  :func:`ketl.dedup.minhash.signatures` for signatures alone) over a batch of texts.
* Once per run: ``QuoteIndex.load(state_dir)`` -> ``index.add(table)`` ->
  ``index.save(state_dir)``; ``add`` takes either ``text`` or the sketch columns.
  ``ArticleIndex`` does the same for whole articles (``near_duplicate_of``).

Choices and why
---------------
* Signatures reproduce datasketch >= 2.0's default ``"affine32"`` scheme bit for
  bit (seed 1, 128 permutations), so a stored signature loads as
  ``LeanMinHash(seed=1, hashvalues=sig, scheme="affine32")``. The shingle hashes
  come from :func:`ketl.dedup.shingles.shingle_hashes_reference` with ``hashfunc=int``.
  Scheme "affine32" is a uint32 multiply-add, so numpy runs it in SIMD. The
  perms x shingles layout, min-reduced along contiguous memory, measured 3x
  faster than shingles x perms (0.46 vs 1.42 ns per element).
* Quotes use character 5-grams of the normalised text: the issue measured that a
  20-word quote with one word swapped keeps Jaccard 0.84 on char 5-grams but only
  0.58 on word 5-grams. Articles use word 5-grams: they are long enough, and that
  is 6x fewer shingles (~300 vs ~1900 per 300-word doc).
* Bands: quotes 32 bands x 4 rows (LSH threshold ~ (1/32)**(1/4) = 0.42;
  P(candidate) = 0.87 at J=0.5 and 0.99 at J=0.7). Candidates are kept when the
  estimated Jaccard is >= 0.5. Articles use 16 x 8 (threshold ~0.71), also verified at 0.5.
* Containment (quotes): a truncated quote has a low Jaccard with the full one.
  Sets of word 3-grams are compared instead. The 2 smallest hashes of each set
  are its anchors. If S is contained in L, S's anchors are in L, so one group-by
  on the hash value finds the pair. It is kept when >= 80% of S's 3-grams are in
  L and S has at least 3 of them. Hashes shared by more than 64 texts (stock
  phrases) are skipped.
* Clustering: union-find over the verified pairs, strongest first. The root is
  always the earliest member, and two clusters from earlier runs are never
  merged, so ``cluster_id`` never changes. ``similarity`` is the greater of the
  estimated Jaccard and the containment against the canonical member.

Measured here (2 shared cores, noisy; ``benchmarks/bench_dedup.py``):
300-word docs: text->signature 13-25k docs/s, text->cluster id 5.5k,
LSH+clustering 177k. Quotes: signature 25k, cluster id 5.9k, LSH+clustering 43k.
datasketch plain path: 205 / 438 docs/s. rensa with Python shingles: 5.3k / 50k.
"""
