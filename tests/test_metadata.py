"""Metadata from the text: title, site suffix, dateline, reprint source (on the seeds)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from ketl.stages.boilerplate.site_stats import split_title_suffix
from ketl.document import Document
from ketl.stages.boilerplate.metadata import extract_metadata, find_dateline, find_reprint, is_place

from conftest import SEEDS, shared_path


def seed(prefix: str) -> Document:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    raw = path.read_bytes()
    return Document.from_source(doc_id=path.stem, source_path=path.name,
                                source_sha256=hashlib.sha256(raw).hexdigest(),
                                source_encoding="utf-8", source=raw.decode("utf-8"))


def doc_of(text: str, **meta) -> Document:
    return Document.from_source(doc_id="t", source_path="site/t.txt", source_sha256="0",
                                source_encoding="utf-8", source=text, **meta)


def test_seed001_title_and_site_suffix_leave_the_body():
    doc = extract_metadata(seed("001"))
    assert doc.meta["title"] == "Karabakh conflict: US-brokered truce breaks down as Yerevan, Baku trade blame"
    assert doc.meta["site"] == "Islamic Invitation Turkey"
    assert doc.text.startswith("World News\n")
    rules = [e.rule for e in doc.edits]
    assert rules == ["metadata.title", "metadata.site_suffix"]
    assert doc.edits[1].before.strip() == "- Islamic Invitation Turkey"
    assert all(e.source_line == 1 and e.stage == "boilerplate.metadata" for e in doc.edits)


def test_seed004_bare_pipe_and_two_city_dateline():
    doc = extract_metadata(seed("004"), is_furniture=lambda s: s.strip() == "[ad_1]")
    assert doc.meta["title"] == "Mutual accusations of violating a new humanitarian truce in Nagorno Karabakh"
    assert doc.meta.get("site") is None  # a bare "|" names no site
    assert doc.meta["dateline"] == "Yerevan / Baku"
    assert "Armenia and Azerbaijan exchanged accusations" in doc.text
    # The dateline is recorded and stays the article's first words.
    assert "Yerevan / Baku – Armenia and Azerbaijan exchanged accusations" in doc.text
    assert not [e for e in doc.edits if e.rule == "metadata.dateline"]


def test_seed000_dateline_without_title():
    doc = extract_metadata(seed("000"))
    assert doc.meta == {"dateline": "Baku"}
    assert doc.text.startswith("Baku: On Sunday, Azerbaijanis")
    assert doc.edits == []


def test_seed003_reprint_notice_and_title_after_cta():
    doc = extract_metadata(seed("003"), is_furniture=lambda s: "Telegram" in s)
    assert doc.meta["reprinted_from"] == "Radio Free Europe/Radio Liberty"
    assert doc.meta["title"] == "Armenia, Azerbaijan accuse each other of breaking US-brokered cease-fire"
    assert "reprinted with permission" not in doc.text
    assert "Join our brand new verified AMN Telegram" in doc.text  # furniture is the boilerplate stage's job


def test_jsonl_title_and_site_are_kept():
    doc = extract_metadata(doc_of("Big news today - Daily Planet\nSomething happened in the city today.\n",
                                  title="Given title", site="planet.example"))
    assert doc.meta["title"] == "Given title"
    assert doc.meta["site"] == "planet.example"


@pytest.mark.parametrize("line,expected", [
    ("Baku: On Sunday the talks resumed in the capital.", "Baku"),
    ("WASHINGTON (AP) — The Senate voted on Tuesday to pass the bill.", "WASHINGTON"),
    ("Yerevan / Baku – Armenia and Azerbaijan exchanged accusations.", "Yerevan / Baku"),
    ("Update: the minister resigned on Friday after the vote.", None),
    ("Note: this story has been updated with new figures.", None),
    ("Karabakh conflict: US-brokered truce breaks down", None),
    ("Baku: yes", None),
    ("", None),
])
def test_dateline(line, expected):
    found = find_dateline(line)
    assert (found[1] if found else None) == expected


def test_places_and_suffixes():
    assert is_place("Baku") and is_place("Yerevan") and not is_place("Update") and not is_place("")
    assert split_title_suffix("Talks resume - day two") == ("Talks resume - day two", None)
    assert split_title_suffix("Storm hits coast | BBC News") == ("Storm hits coast", "BBC News")
    assert split_title_suffix("Headline here |") == ("Headline here", "")


@pytest.mark.parametrize("line,src", [
    ("This article was originally published by Radio Free Europe/Radio Liberty and is reprinted with permission.",
     "Radio Free Europe/Radio Liberty"),
    ("This article was originally published by Futurism. Read the original article.", "Futurism"),
    ("Republished with permission from The Conversation.", "The Conversation"),
    ("The report was published by the ministry on Monday.", None),
])
def test_reprint(line, src):
    assert find_reprint(line) == src


@pytest.mark.parametrize("text", ["", "\n\n", "\u200b\ufeff", "Ω≈ç√∫˜µ≤≥÷\n🙂🙂", "a"])
def test_odd_input_never_raises(text):
    doc = extract_metadata(doc_of(text))
    assert isinstance(doc.text, str)


def test_common_datelines_need_no_gazetteer_load():
    # Capitals and large cities come from the small shipped list; label words
    # ("Update:") are settled without the 1.5 s gazetteer load.
    from ketl.stages.boilerplate import metadata

    metadata._place_names.cache_clear()
    assert find_dateline("Baku: The ministry said on Monday that talks would resume.") == (6, "Baku")
    assert find_dateline("Yerevan / Tbilisi \u2013 Officials met on Monday to discuss trade.")[1] == "Yerevan / Tbilisi"
    assert find_dateline("Update: The ministry said on Monday that talks would resume.") is None
    assert metadata._place_names.cache_info().currsize == 0
    # A small town still resolves, through the full lookup.
    assert is_place("Shusha")
    assert metadata._place_names.cache_info().currsize == 1


AEB = Path(__file__).resolve().parents[2] / "shared" / "bench" / "aeb"


@pytest.mark.parametrize("name", ["Police", "POLICE", "Update", "Note", "Watch", "Photo", "Video", "WATCH",
                                  "Officials"])
def test_common_nouns_are_never_places(name):
    # "Police" is also a town in Poland (geonames): a label word still is no dateline.
    assert not is_place(name)
    assert find_dateline(f"{name}: The ministry said on Monday that talks would resume.") is None


@pytest.mark.parametrize("name", ["Baku", "BAKU", "WASHINGTON", "Kyiv", "Gaza", "Shusha", "STEPANAKERT"])
def test_places_stay_places(name):
    assert is_place(name)


def test_aeb_police_teaser_is_no_dateline():
    # A real teaser line of an AEB page (a local news site's "latest stories" list).
    import json

    pages = json.loads(shared_path(AEB / "html-text.json").read_text(encoding="utf-8"))["output"]
    lines = [ln for page in pages.values() for ln in page["articleBody"].split("\n")
             if ln.startswith("Police: ")]
    assert lines, "the AEB page with the 'Police: ...' teaser is missing"
    for line in lines:
        assert find_dateline(line) is None
        doc = extract_metadata(doc_of("Local man wins the lottery twice in one year\n\n" + line + "\n"))
        assert "dateline" not in doc.meta
        assert line in doc.text


# --- reprint notices in their common phrasings ---------------------------------------

@pytest.mark.parametrize("line,src", [
    ("This article was originally published by Eurasianet.", "Eurasianet"),
    ("Originally published at OC Media.", "OC Media"),
    ("Originally published on Live Science.", "Live Science"),
    ("Originally posted on Global Voices", "Global Voices"),
    ("This story first appeared in The Diplomat.", "The Diplomat"),
    ("This piece was first published on Rest of World.", "Rest of World"),
    ("A version of this article originally appeared in Yale Environment 360.", "Yale Environment 360"),
    ("Republished with permission from Global Voices.", "Global Voices"),
    ("Reprinted with the kind permission of Balkan Insight.", "Balkan Insight"),
    ("This article is republished from The Conversation under a Creative Commons license. Read the original article.",
     "The Conversation"),
    ("This story was originally published by Grist and is republished here with permission.", "Grist"),
    ("This article first appeared on Carbon Brief and is reproduced here with permission.", "Carbon Brief"),
    ("This article was produced by Kaiser Health News and is republished with permission.", "Kaiser Health News"),
    ("Distributed by Tribune Content Agency, LLC.", "Tribune Content Agency, LLC"),
    ("Provided by European Space Agency", "European Space Agency"),
    ("Content originally published by Mongabay.", "Mongabay"),
    ("This article was first published on Eurasianet on March 3, 2024.", "Eurasianet"),
    ("Originally published at eurasianet.org", "eurasianet.org"),
    ("Dieser Artikel erschien zuerst bei Netzpolitik.org.", "Netzpolitik.org"),
    ("Cet article a été initialement publié sur The Conversation.", "The Conversation"),
    ("Este artículo fue publicado originalmente en El País.", "El País"),
    ("Este artigo foi publicado originalmente no Nexo Jornal.", "Nexo Jornal"),
    ("Статья впервые опубликована на сайте Meduza.", "Meduza"),
    # Weak: a holder named at the bottom.
    ("Source: Reuters", "Reuters"), ("Источник: ТАСС", "ТАСС"), ("Quelle: dpa", "dpa"), ("来源：新华社", "新华社"),
    ("(c) Yale Environment 360 2025", "Yale Environment 360"), ("Copyright 2024 Stateline", "Stateline"),
    ("© 2024 The Associated Press. All rights reserved.", "The Associated Press"),
])
def test_reprint_phrasings(line, src):
    assert find_reprint(line) == src


@pytest.mark.parametrize("line", [
    "It was first published in 1851 by Harper & Brothers.",
    "The novel was first published in 1851.",
    "The story first appeared in The Guardian in 2015, and was later made into a film.",
    "First published in The Lancet, the study was praised.",
    "The study was first published in Nature on Monday and was widely cited by experts.",
    "The report was published by the ministry on Monday.",
    "This article was reprinted on Wired.com.",
    "This article has been adapted from its original source.",
    "Source: Company reports",
    "© Reuters",  # a photo credit: no year, no rights reserved
    "Copyright law was changed in 2019.",
])
def test_prose_and_credits_are_no_reprint_notices(line):
    assert find_reprint(line) is None


def test_the_sites_own_copyright_names_no_reprint():
    assert find_reprint("© 2024 Caucasus Herald. All rights reserved.", site="caucasusherald") is None
    assert find_reprint("© 2024 Caucasus Herald. All rights reserved.", site="Caucasus Herald") is None
    assert find_reprint("© 2024 Eurasianet. All rights reserved.", site="caucasusherald") == "Eurasianet"


_BODY = ("Officials said on Monday that the border crossing would reopen next week after talks.\n\n"
         "Traders welcomed the news, saying the closure had cost them millions in lost sales.\n\n"
         "The ministry said the checks would be faster than before the closure.\n")


@pytest.mark.parametrize("top", [True, False])
@pytest.mark.parametrize("notice,src", [
    ("This story first appeared in The Diplomat.", "The Diplomat"),
    ("Republished with permission from Global Voices.", "Global Voices"),
    ("Distributed by Tribune Content Agency.", "Tribune Content Agency"),
])
def test_notice_at_the_top_or_bottom_leaves_the_body(top, notice, src):
    furniture = "Share this:\nFacebook | Twitter\n"
    if top:
        text = f"Border crossing to reopen next week\n\nShare this:\n\n{notice}\n\n{_BODY}\n{furniture}"
    else:
        text = f"Border crossing to reopen next week\n\n{_BODY}\n{notice}\n\n{furniture}Leave a comment\n"
    doc = extract_metadata(doc_of(text), is_furniture=lambda s: s.strip() in {"Share this:", "Facebook | Twitter",
                                                                              "Leave a comment"})
    assert doc.meta["reprinted_from"] == src
    assert notice not in doc.text
    assert _BODY.strip() in doc.text
    assert [e.rule for e in doc.edits].count("metadata.reprint_notice") == 1


def test_weak_notices_count_only_at_the_bottom_and_not_for_the_site():
    top = extract_metadata(doc_of(f"Border crossing to reopen next week\n\nSource: Reuters\n\n{_BODY}"))
    assert "reprinted_from" not in top.meta and "Source: Reuters" in top.text
    bottom = extract_metadata(doc_of(f"Border crossing to reopen next week\n\n{_BODY}\nSource: Reuters\n"))
    assert bottom.meta["reprinted_from"] == "Reuters"
    own = extract_metadata(Document.from_source(
        doc_id="t", source_path="caucasusherald/t.txt", source_sha256="0", source_encoding="utf-8",
        source=f"Border crossing to reopen next week\n\n{_BODY}\n© 2024 Caucasus Herald. All rights reserved.\n"))
    assert "reprinted_from" not in own.meta


def test_dressed_multilingual_reprint_sources():
    import json

    base = Path(__file__).resolve().parent / "data" / "multilingual" / "dressed"
    truth = json.loads((base / "truth.json").read_text(encoding="utf-8"))
    for key, t in truth.items():
        doc = Document.from_source(doc_id=key, source_path=f"{t['site']}/{key}.txt", source_sha256="0",
                                   source_encoding="utf-8", source=(base / f"{key}.txt").read_text(encoding="utf-8"))
        doc = extract_metadata(doc)
        assert doc.meta.get("reprinted_from") == t["reprinted_from"], key


# One-paragraph articles in scripts whose full stop is not ".": each was taken
# for a headline and removed, leaving the article empty (found by the re-curation work).
ONE_LINERS = [
    "北京市政府周二宣布，将在未来三年内新建二十所公立学校，以缓解城区入学压力。",
    "Երևանի քաղաքապետարանը հայտարարել է, որ հաջորդ տարի կվերանորոգվեն քաղաքի կենտրոնական փողոցները։",
    "राज्य सरकार ने मंगलवार को घोषणा की कि अगले तीन वर्षों में बीस नए सरकारी स्कूल खोले जाएंगे।",
    "أعلنت الحكومة يوم الثلاثاء أنها ستفتتح عشرين مدرسة حكومية جديدة خلال السنوات الثلاث المقبلة، في العاصمة؛",
]


@pytest.mark.parametrize("text", ONE_LINERS)
def test_a_sentence_in_any_script_is_no_headline(text):
    doc = extract_metadata(doc_of(text + "\n\nSecond paragraph of the article goes on here.\n"))
    assert "title" not in doc.meta
    assert text in doc.text


@pytest.mark.parametrize("text", [*ONE_LINERS, "Armenia and Azerbaijan trade blame as truce breaks down"])
def test_the_only_line_of_an_article_is_never_its_title(text):
    doc = extract_metadata(doc_of(text + "\n", title="A title given by the JSONL record"))
    assert doc.text.strip() == text
    assert not [e for e in doc.edits if e.rule == "metadata.title"]


def test_a_headline_above_a_body_is_still_taken():
    doc = extract_metadata(doc_of("Armenia and Azerbaijan trade blame as truce breaks down\n\n"
                                  "The ceasefire announced on Sunday collapsed within hours.\n"))
    assert doc.meta["title"] == "Armenia and Azerbaijan trade blame as truce breaks down"
    assert doc.text.strip() == "The ceasefire announced on Sunday collapsed within hours."


def test_reprint_hint_prefilter_agrees_with_the_hint_pattern():
    """The Aho-Corasick pass before the notice phrasings skips only lines the
    hint pattern skips: notices in eight languages, prose with "ran" inside
    words ("Iran", "grand", "transport") and as a word."""
    from ketl.stages.boilerplate.reprint import _HINT, _hinted

    lines = ["This article was originally published by The Conversation.", "© 2024 Reuters",
             "(c) Agence France-Presse 2023", "Quelle: dpa", "Источник: ТАСС", "المصدر: الجزيرة",
             "来源：新华社", "출처: 연합뉴스", "Iran and the grand transport plan", "The story ran on Monday.",
             "He ran for office.", "Copyright 2019 Hawaii News Now.", "A plain line of news.", "",
             "Źródło: PAP", "स्रोत: पीटीआई", "Provided by Bloomberg", "Erstveröffentlichung bei Zeit"]
    for line in lines:
        low = line.lower()
        assert _hinted(low) == (_HINT.search(low) is not None), line
    assert not _hinted("iran and the grand transport plan")
    assert _hinted("the story ran on monday.")
