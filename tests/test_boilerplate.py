"""Stage "boilerplate" on the seeds, synthetic sites, rule files and the AEB pages."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from pathlib import Path

import pytest

from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules
from ketl.stages.boilerplate.site_stats import RepetitionSettings, SiteLineStats, line_key, site_and_line_keys
from ketl.document import Document

from conftest import SEEDS, SHARED, shared_path
RULES = load_rules()


def seed(prefix: str) -> Document:
    path = next(SEEDS.glob(f"{prefix}_*.txt"))
    raw = path.read_bytes()
    return Document.from_source(doc_id=path.stem, source_path=path.name,
                                source_sha256=hashlib.sha256(raw).hexdigest(),
                                source_encoding="utf-8", source=raw.decode("utf-8"))


def doc_of(text: str, path: str = "site/t.txt", **meta) -> Document:
    return Document.from_source(doc_id=path, source_path=path, source_sha256="0",
                                source_encoding="utf-8", source=text, **meta)


def clean(doc: Document, stats: SiteLineStats | None = None) -> Document:
    return next(clean_documents([doc], RULES, stats, BoilerplateSettings()))


def removed(doc: Document) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for e in doc.edits:
        out.setdefault(e.rule, []).append(e.before.strip())
    return out


def test_seed001_nav_label_repeated_title_back_to_top():
    src = seed("001")
    doc = clean(src)
    r = removed(doc)
    assert r["nav.section_label"] == ["World News"]
    assert r["title.repeated"] == [doc.meta["title"]]
    assert r["cta.back_to_top"] == ["Back to top button"]
    assert doc.text.startswith("A new humanitarian ceasefire, brokered by the United States")
    assert doc.text.rstrip().endswith("be included in the negotiations.")
    # The subheading and every paragraph stay.
    assert "\nRussia warns foreign powers against promoting military scenario\n" in doc.text
    paragraphs = [p for p in src.text.split("\n\n")[3:-1] if p.strip()]
    assert all(p.strip() in doc.text for p in paragraphs)


def test_seed002_repeated_title_trailing_fragment_and_stray_word():
    doc = clean(seed("002"))
    r = removed(doc)
    assert r["title.repeated"] == ["Fighting continues in Azerbaijan, Armenia rejects ceasefire calls"]
    assert r["fragment.trailing"][0].startswith('"I\'m leaving, I think: Donald Trump')
    # "... since the 1990s. Is." -- a lone function word is no sentence.
    assert r["fragment.stray_word"] == ["Is."]
    assert "which has led peace efforts since the 1990s.\n" in doc.text
    # The truncated paragraph is article text (damaged, not boilerplate): it stays.
    assert "The recent fighting began a week ago and called for a ceasefir" in doc.text
    assert doc.text.rstrip().endswith("joint exercises with the Turkish military last month.")


def test_seed003_cta_caption_and_reprint():
    doc = clean(seed("003"))
    r = removed(doc)
    assert r["cta.telegram"][0].startswith("Join our brand new verified AMN Telegram channel")
    assert r["caption.credit"] == ["Special forces Azerbaijan (WalkerBaku/WikiCommons)"]
    assert doc.meta["reprinted_from"] == "Radio Free Europe/Radio Liberty"
    assert doc.text.startswith("Armenia and Azerbaijan have again blamed each other")
    assert "(the Armenian name for Nagorno-Karabakh)" in doc.text
    assert doc.text.rstrip().endswith("nearly 5,000 people have been killed in the latest fighting.")


def test_seed004_ad_slots_dateline_and_stray_script():
    doc = clean(seed("004"))
    r = removed(doc)
    assert r["ad.slot"] == ["[ad_1]", "[ad_2]"]
    assert r["fragment.stray_script"] == ["بب"]
    assert doc.meta["dateline"] == "Yerevan / Baku"
    assert doc.text.startswith("Yerevan / Baku – Armenia and Azerbaijan exchanged accusations")
    # Short quoted one-line paragraphs are news, not boilerplate.
    assert "Turkey accused Armenia of committing “war crimes”." in doc.text
    assert "\n\n\n" not in doc.text


def test_seed000_keeps_every_sentence():
    src = seed("000")
    doc = clean(seed("000"))
    assert doc.meta["dateline"] == "Baku"
    assert doc.edits == []
    assert doc.text == src.text


def test_edits_point_at_the_source():
    for prefix in ("001", "002", "003", "004"):
        doc = clean(seed(prefix))
        for e in doc.edits:
            # Later edits may span text an earlier edit removed: the source holds at least it.
            assert e.before.strip() in doc.source[e.source_start:e.source_end]
            assert doc.source_line(e.source_start) == e.source_line


def _site_pages(n: int) -> list[Document]:
    header = "Caucasus Daily\nHome | Politics | Economy\n"
    footer = "\nSubscribe to the Caucasus Daily morning briefing\nCaucasus Daily is an independent outlet based in Tbilisi."
    towns = ["Gori", "Rustavi", "Batumi", "Kutaisi", "Zugdidi", "Telavi", "Poti", "Borjomi"]
    bodies = [
        f"Officials in {town} said the new bridge would open next spring, after delays blamed on "
        f"the weather and on a shortage of steel in {town}."
        f"\n\nThe mayor of {town} said the works would cost less than planned, and that the old crossing would stay open."
        for town in towns[:n]
    ]
    return [doc_of(header + b + footer, path=f"caucasusdaily/{i}.txt") for i, b in enumerate(bodies)]


def test_site_repetition_removes_headers_and_footers_only():
    pages = _site_pages(6)
    stats = SiteLineStats(RepetitionSettings(min_docs=3, min_share=0.5))
    for p in pages:
        site, keys = site_and_line_keys(p)
        assert site == "caucasusdaily"
        stats.add(site, keys)
    assert stats.n_docs("caucasusdaily") == 6
    assert stats.is_repeated("caucasusdaily", line_key("  caucasus  DAILY "))
    doc = clean(pages[2], stats)
    r = removed(doc)
    assert "Caucasus Daily" in r["site.repeated_line"]
    assert "Caucasus Daily is an independent outlet based in Tbilisi." in r["site.repeated_line"]
    assert doc.text.startswith("Officials in Batumi said the new bridge")
    # The article's own last paragraph stays.
    assert doc.text.rstrip().endswith("the old crossing would stay open.")


def test_republished_article_is_not_emptied():
    # The same article on four pages of one site: its lines repeat, but it is content.
    text = ("Officials said on Monday that the border crossing would reopen next week after talks.\n\n"
            "Traders welcomed the news, saying the closure had cost them millions in lost sales.\n")
    pages = [doc_of(text, path=f"wire/{i}.txt") for i in range(4)]
    stats = SiteLineStats()
    for p in pages:
        stats.add(*site_and_line_keys(p))
    doc = clean(pages[0], stats)
    assert "Traders welcomed the news" in doc.text and "border crossing would reopen" in doc.text


def test_stats_merge_and_arrow_round_trip():
    a, b = SiteLineStats(), SiteLineStats()
    a.add("s", {1, 2})
    b.add("s", {2, 3})
    b.add("t", {2})
    a.add("", {9})  # no site: not tracked
    a.merge(b)
    assert (a.n_docs("s"), a.count("s", 2), a.count("t", 2), a.n_docs("")) == (2, 2, 1, 0)
    back = SiteLineStats.from_arrow(a.to_arrow())
    assert back.to_arrow().sort_by([("site", "ascending"), ("line_key", "ascending")]).equals(
        a.to_arrow().sort_by([("site", "ascending"), ("line_key", "ascending")]))
    with pytest.raises(ValueError):
        SiteLineStats.from_arrow(a.to_arrow().drop_columns(["n_docs"]))


def test_user_rule_file_adds_and_replaces(tmp_path):
    f = tmp_path / "mine.toml"
    f.write_text('[[rule]]\nid = "cta.whatsapp_group"\ncategory = "cta"\n'
                 "pattern = 'join our whatsapp group.*'\ndescription = \"x\"\n"
                 '[[rule]]\nid = "ad.slot"\ncategory = "ad"\npattern = \'\\[ad_9\\]\'\n', encoding="utf-8")
    rules = load_rules([f])
    assert rules.match("Join our WhatsApp group for updates").id == "cta.whatsapp_group"
    assert rules.match("[ad_9]").id == "ad.slot"
    assert rules.match("[ad_1]") is None  # the shipped ad.slot was replaced
    assert len(rules.ids()) == len(set(rules.ids()))


@pytest.mark.parametrize("body,fragment", [
    ('[[rule]]\nid = "x.bad"\ncategory = "x"\npattern = "(unclosed"\n', "x.bad"),
    ('[[rule]]\nid = "x.empty"\ncategory = "x"\npattern = ".*"\n', "x.empty"),
    ('[[rule]]\nid = "NoDots"\ncategory = "x"\npattern = "a"\n', "NoDots"),
    ('[[rule]]\nid = "x.nopat"\ncategory = "x"\n', "x.nopat"),
    ('[[rule]]\nid = "x.flag"\ncategory = "x"\npattern = "a(?i)b"\n', "x.flag"),
    ("[[rule]\nid=", "not valid TOML"),
])
def test_bad_user_rule_file_names_file_and_rule(tmp_path, body, fragment):
    f = tmp_path / "bad.toml"
    f.write_text(body, encoding="utf-8")
    with pytest.raises(ValueError) as err:
        load_rules([f])
    assert "bad.toml" in str(err.value) and fragment in str(err.value)


def test_missing_rule_file_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="nope.toml"):
        load_rules([tmp_path / "nope.toml"])


@pytest.mark.parametrize("line", [
    "“We will take revenge on the battlefield,” Aliyev said.",
    "Turkey accused Armenia of committing “war crimes”.",
    "He said it was “very hazardous”.",
    "A spokeswoman for Neumann declined to comment.",
    "Share prices rose 3% on Monday after the announcement.",
    "Home prices fell in October, the agency said.",
    "3 of 4 respondents said they would vote again.",
    "He said at 10:30 the talks resumed.",
    "Courtesy of a tip from locals, police found the car.",
    "Contact with the rebel unit was lost on Monday.",
])
def test_rules_leave_sentences_alone(line):
    assert RULES.match(line) is None


@pytest.mark.parametrize("line,rule", [
    ("[ad_2]", "ad.slot"), ("Advertisement", "ad.label"), ("Sponsored content", "ad.label"),
    ("Back to top button", "cta.back_to_top"), ("World News", "nav.section_label"),
    ("Read more: Armenia and Azerbaijan agree to a truce", "cta.read_more"),
    ("Related:", "cta.read_more"), ("Follow us on Twitter", "cta.follow"),
    ("Your email address will not be published. Required fields are marked *", "comment.form"),
    ("© 2020 Islamic Invitation Turkey. All rights reserved.", "legal.copyright"),
    ("Home > News > World", "nav.breadcrumb"), ("Image credit: WeWork", "caption.credit"),
    ("Gary M on September 17, 2018 at 8:50 pm said:", "comment.byline"),
    ("Write to Al Root at allen.root@dowjones.com", "cta.contact"),
    ("Follow The New York Times Opinion section on Facebook, Twitter (@NYTopinion) and Instagram.", "cta.follow"),
    ("Image copyright Getty Images", "caption.credit"), ("Courtesy of Andrew Vaughan", "caption.credit"),
    ("Image 1 of 4", "caption.credit"), ("ADVERTISEMENT", "ad.label"),
])
def test_rules_catch_furniture(line, rule):
    assert RULES.match(line).id == rule


@pytest.mark.parametrize("text", ["", "\n\n\n", "\u200b", "🙂", "a\n", "[ad_1]", "x" * 5000,
                                  "\ufeffÅ\u0301\r\n\r\nB\u0000C", "Title here\n\nBody."])
def test_odd_input_never_raises(text):
    doc = clean(doc_of(text))
    assert isinstance(doc.text, str)
    for e in doc.edits:
        assert e.before.strip() in doc.source[e.source_start:e.source_end].replace("\r\n", "\n")


def _bench_module():
    path = Path(__file__).resolve().parents[1] / "benchmarks" / "bench_boilerplate.py"
    spec = importlib.util.spec_from_file_location("bench_boilerplate", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


@pytest.mark.shared("bench/aeb/html-text.json", "bench/aeb/ground-truth.json")
def test_aeb_f1_beats_plain_line_rules():
    bench = _bench_module()
    pages = bench.load_aeb()
    out = list(clean_documents(bench.make_docs(pages), RULES, None, BoilerplateSettings()))
    p, r, f1 = bench.aeb_score((d.text, g) for d, (_, _, g) in zip(out, pages))
    _, _, f_raw = bench.aeb_score((t, g) for _, t, g in pages)
    assert abs(f_raw - 0.665) < 0.002  # the metric matches the published figure
    # Measured 0.9333 (P 0.8828, R 0.9900; 0.9207, P 0.8616 before the teaser-list
    # bounds and the copies of the article); C4-style line rules reach 0.836.
    assert f1 > 0.939 and p > 0.893 and r > 0.988


def test_lower_cased_matcher_agrees_with_ignorecase():
    # The fast matcher (lower-cased patterns and lines) must give the verdicts of
    # the reference IGNORECASE alternation, on every line of the seeds.
    for path in sorted(SEEDS.glob("*.txt")):
        for line in path.read_text(encoding="utf-8").split("\n"):
            s = line.strip()
            if not s:
                continue
            ref = RULES.matcher.fullmatch(s)
            got = RULES.match(line)
            assert (got.id if got else None) == (RULES.rules[int(ref.lastgroup[1:])].id if ref else None)


@pytest.mark.shared("bench/aeb/html-text.json", "bench/aeb/ground-truth.json")
def test_agglutinative_page_keeps_its_prose():
    # Korean particles stick to words, so the stop-word list barely covers real
    # prose: the page must be judged without it rather than emptied.
    bench = _bench_module()
    key, text, gold = next(p for p in bench.load_aeb() if p[0].startswith("9da36a"))
    doc = clean(doc_of(text, path=f"aeb/{key}.txt"))
    p, r, _ = bench.aeb_score([(doc.text, gold)])
    assert r > 0.9 and p > 0.9


def test_blank_lines_left_by_removals_collapse():
    text = "Menu\n\n\nShare\n\nOfficials said on Monday that the border crossing would reopen next week after long talks.\n\n\n\n" \
           "Traders welcomed the news, saying the closure had cost them millions in lost sales this year.\n\nAdvertisement\n\n"
    doc = clean(doc_of(text))
    assert doc.text == ("Officials said on Monday that the border crossing would reopen next week after long talks.\n\n"
                        "Traders welcomed the news, saying the closure had cost them millions in lost sales this year.\n")
    assert {e.rule for e in doc.edits} >= {"ad.label", "cta.share"}


_ARTICLE = [
    "Officials in Baku said on Monday that the border crossing would reopen next week after months of talks.",
    "Traders on both sides welcomed the news, saying the closure had cost them millions in lost sales this year.",
    "The ministry said customs staff would return to the post on Thursday and that checks would be quick.",
]


def test_long_comment_thread_does_not_outweigh_the_article():
    # Comments outweigh the article in characters; their markers ("X says:",
    # "2 days ago") make them a thread that weighs less, so the article stays.
    comment = ("I think this is a really important development for the region and everyone who lives there, "
               "and I hope that the government will keep its promise this time around, unlike the last time.")
    thread = []
    for k in range(8):
        thread += [f"reader{k} says:", f"{k + 1} days ago", comment]
    doc = clean(doc_of("\n\n".join(["Menu"] + _ARTICLE + ["12 Comments"] + thread) + "\n"))
    for para in _ARTICLE:
        assert para in doc.text
    assert comment not in doc.text


def test_earlier_article_beats_a_longer_run_of_teasers_far_below():
    # 3 x 140 characters of prose: more than the article's 310, less than twice as much.
    teasers = [f"Another story number {k} about something else entirely happened somewhere in the world today, "
               f"and people there talked about it." for k in range(3)]
    nav = ["Home", "World", "Sport", "Business", "Culture", "Video", "Weather", "Contact", "About"]
    doc = clean(doc_of("\n".join(_ARTICLE + nav + teasers) + "\n"))
    assert all(p in doc.text for p in _ARTICLE)
    assert not any(t in doc.text for t in teasers)
    # Without the preference, the longer run wins (so the test can fail).
    late = next(clean_documents([doc_of("\n".join(_ARTICLE + nav + teasers) + "\n")], RULES, None,
                                BoilerplateSettings(earlier_ratio=10.0)))
    assert teasers[0] in late.text


def test_standings_table_stays_with_its_article():
    rows = [f"{k} Driver Name{k} {5000 - 7 * k} {k % 3} {k % 2} {10 + k}" for k in range(1, 13)]
    text = "\n".join(["Home", "News", "Standings"]
                     + ["The final standings of the 2019 season after all thirty-six races are listed below."]
                     + rows + ["* Only the top twelve drivers raced for the title in the last ten races."]) + "\n"
    doc = clean(doc_of(text))
    for row in rows:
        assert row in doc.text
    assert "Standings\n" not in doc.text
    # Without table rows and without evidence bounds (the article stops at the
    # first costly line), the rows go: so the test can fail.
    off = next(clean_documents([doc_of(text)], RULES, None,
                               BoilerplateSettings(table_min_rows=0, evidence_bounds=False)))
    assert rows[5] not in off.text


def test_one_line_quote_inside_article_still_stays():
    quote = "\u201cWe will not give up,\u201d he said."
    doc = clean(doc_of("\n\n".join([_ARTICLE[0], quote, _ARTICLE[1], _ARTICLE[2]]) + "\n"))
    assert quote in doc.text


_MORE = [
    "Diplomats from both countries met again in Geneva on Tuesday, the third round of talks since the spring began.",
    "The next meeting is planned for December, when the two sides hope to sign a first agreement on the border.",
    "Observers said the mood in the room had been calmer than at any earlier meeting between the two delegations.",
    "Both governments are under pressure at home to show that the talks can bring results before the winter.",
]


def test_article_continues_past_a_related_links_box():
    box = ["READ MORE: Ceasefire talks collapse as both sides trade accusations", "Related articles",
           "Border town braces for winter", "Fuel prices climb again"]
    text = "\n\n".join(["Menu"] + _ARTICLE + box + _MORE + ["Related Topics", "Politics"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE + _MORE)
    assert not any(b in doc.text for b in box)
    # Without bridging (and evidence bounds), the box cuts the article in two and one half is lost.
    off = next(clean_documents([doc_of(text)], RULES, None,
                               BoilerplateSettings(bridge_max_gap=0, evidence_bounds=False)))
    assert not all(p in off.text for p in _ARTICLE + _MORE)


def test_a_lone_teaser_after_the_article_is_not_bridged():
    teaser = ("Another story entirely: the city council voted on Monday to close two of its libraries after a "
              "long budget fight that lasted well into the night.")
    text = "\n\n".join(_ARTICLE + ["Most read", "Sport", "Weather", teaser, "Contact", "About us"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE)
    assert teaser not in doc.text


def test_repeated_report_links_of_embedded_posts_are_not_a_comment_thread():
    # An embedded post leaves "Image Copyright @x @x" and "Report" behind, several
    # times: one marker repeated is a widget, not comments, so the prose after it weighs fully.
    embeds = ["Image Copyright @office @office", "Report"] * 3
    text = "\n\n".join(_ARTICLE + embeds + _MORE) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE + _MORE)
    assert "Report" not in doc.text.split("\n")


_GLUED = [
    "Two Held In Custody After Death Of Student-Athlete A 24-year-old woman and a 28-year-old man have "
    "been arrested in connection with the death of a student, police said on Tuesday evening.",
    "Customers Leave Without Paying Bill At The Steakhouse A party of six left the restaurant without paying "
    "their bill after a fight broke out over the check, the owner told local reporters.",
    "State To Mail Redistricting Panel Applications To Voters The state will mail applications encouraging "
    "voters to apply to serve on a new commission that will draw the district lines.",
    "Rangers Seek Tips About Elk Poached In The North Conservation officers in the north are seeking "
    "information about a bull elk that was shot and left to waste in a field last week.",
]


def test_teaser_list_of_glued_headlines_goes():
    text = "\n".join(["Latest Headlines"] + _GLUED + ["Weather", "Sports", "Video"] + _ARTICLE) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE)
    assert not any(t in doc.text for t in _GLUED)
    assert "classifier.teaser" in removed(doc)
    # Off, the teasers outweigh the article and the article is what goes.
    off = next(clean_documents([doc_of(text)], RULES, None, BoilerplateSettings(teaser_min_run=0)))
    assert _GLUED[0] in off.text


def test_one_title_case_sentence_inside_an_article_stays():
    line = ("The Lord Of The Rings was filmed in New Zealand, and the production brought In Tourists "
            "from all over the world for years afterwards, officials said.")
    doc = clean(doc_of("\n\n".join(_ARTICLE[:2] + [line] + _ARTICLE[2:]) + "\n"))
    assert line in doc.text


def test_what_precedes_the_headline_in_the_body_is_not_the_article():
    title = "Border crossing between the two countries to reopen next week"
    teasers = [f"Another story number {k} about something else entirely happened somewhere in the world today, "
               f"and people there talked about it at length." for k in range(4)]
    nav = ["Home", "World", "Sport", "Business", "Culture", "Video", "Weather", "Contact", "About"]
    # The teasers weigh less than the article but enough for the position prior
    # (pages put the article first) to prefer them, were it not for the headline.
    text = "\n".join([title + " | Daily Courier"] + nav + teasers + nav + [title] + _ARTICLE + _MORE) + "\n"
    doc = clean(doc_of(text))
    assert doc.meta["title"] == title
    assert all(p in doc.text for p in _ARTICLE + _MORE)
    assert not any(t in doc.text for t in teasers)
    # Without the headline in the body, the earlier (teaser) run wins the position prior.
    no_title = "\n".join([title + " | Daily Courier"] + nav + teasers + nav + _ARTICLE + _MORE) + "\n"
    assert teasers[0] in clean(doc_of(no_title)).text


_TEASER_DATELINE_PAGE = """Storm damage closes ports along the coast - Daily Planet

{teaser}

Home
News
Sport
Weather
Contact
Login
Subscribe

{dateline}The storm that hit the coast on Monday night closed three ports and left thousands of homes without power, officials said on Tuesday. Repair crews were working through the night to restore the lines, and the authorities expect most of the homes to be connected again by the end of the week.
The port authority said that ships would be allowed to enter again once the channels had been checked for debris. It was not clear how long the checks would take, but a spokesman said he hoped that the first ships could dock on Wednesday morning.
Farmers in the area said the rain had flooded many of their fields just before the harvest, and that they would need help from the government to cover their losses. The ministry of agriculture said it was looking into the damage and would publish an estimate next week.
"""


def _page_doc(text: str) -> Document:
    return Document.from_source(doc_id="t", source_path="planet/t.txt", source_sha256="0",
                                source_encoding="utf-8", source=text)


def test_dateline_of_a_removed_teaser_line_is_dropped():
    teaser = "Baku: Five things to know about the storm this week on our new page"
    doc = next(clean_documents([_page_doc(_TEASER_DATELINE_PAGE.format(teaser=teaser, dateline=""))], RULES))
    assert "dateline" not in doc.meta
    assert "Five things to know" not in doc.text
    assert doc.text.startswith("The storm that hit the coast")
    # Nothing is lost: the dateline and the rest of its line are both edits.
    removed = "".join(e.before for e in doc.edits)
    assert "Baku: " in removed and "Five things to know" in removed


def test_dateline_of_the_article_is_kept():
    teaser = "Click here to read the five things to know about the storm this week"
    doc = next(clean_documents([_page_doc(_TEASER_DATELINE_PAGE.format(teaser=teaser, dateline="Baku: "))],
                               RULES))
    assert doc.meta.get("dateline") == "Baku"
    assert doc.text.startswith("Baku: The storm that hit the coast")


# --- keyword-gated rules: the gate never changes a verdict ---------------------------

_GATED = [r for r in RULES.rules if r.keywords]
AEB = SHARED / "bench" / "aeb"


def test_some_shipped_rules_are_gated():
    assert {"legal.cookies", "legal.affiliate", "cta.click"} <= {r.id for r in _GATED}


@pytest.mark.parametrize("rule", _GATED, ids=lambda r: r.id)
def test_every_line_a_gated_rule_matches_holds_one_of_its_keywords(rule):
    import re

    from hypothesis import HealthCheck, given, settings, strategies as st

    from ketl.stages.boilerplate.rules import _lower_pattern

    pattern = re.compile(_lower_pattern(rule.pattern))

    # 50 generated lines per rule (x 58 rules): the real AEB and seed lines are checked
    # against the plain alternation below; 150 per rule cost 23 s of the suite for little more.
    @settings(max_examples=50, deadline=None, suppress_health_check=list(HealthCheck))
    @given(st.from_regex(pattern, fullmatch=True))
    def check(line):
        assert any(k in line for k in rule.keywords), (rule.id, line)

    check()


def test_gated_matching_equals_the_plain_alternation_on_real_lines():
    import json

    pages = json.loads(shared_path(AEB / "html-text.json").read_text(encoding="utf-8"))["output"]
    texts = [p["articleBody"] for p in pages.values()] + [p.read_text(encoding="utf-8")
                                                         for p in SEEDS.glob("*.txt")]
    lines = sorted({ln.strip().lower() for t in texts for ln in t.split("\n")})
    fresh = load_rules()
    got = fresh.match_lines(lines)
    for line, k in zip(lines, got):
        m = fresh.lower_matcher.fullmatch(line) if line else None
        assert k == (int(m.lastgroup[1:]) if m else -1), line
    assert sum(k >= 0 for k in got) > 500  # the rules do fire on these pages
    # The per-line entry point agrees with the batch one.
    sample = lines[::50]
    assert [RULES.match_lower(s) for s in sample if s] == \
        [fresh.rules[k] if k >= 0 else None for s, k in zip(lines[::50], got[::50]) if s]


def test_user_rule_keywords(tmp_path):
    good = tmp_path / "kw.toml"
    good.write_text('[[rule]]\nid = "site.promo"\ncategory = "cta"\n'
                    "pattern = '.{0,80}\\bmega deal\\b.*'\nkeywords = ['Mega Deal']\n", encoding="utf-8")
    rules = load_rules([good])
    assert rules.match("Today only: the MEGA DEAL of the year, do not miss it").id == "site.promo"
    assert rules.match("The ministry announced a deal on Monday.") is None
    bad = tmp_path / "bad.toml"
    bad.write_text('[[rule]]\nid = "site.x"\ncategory = "cta"\npattern = "x+"\nkeywords = "x"\n', encoding="utf-8")
    with pytest.raises(ValueError, match="keywords"):
        load_rules([bad])


# --- numbered lists carrying links; the article's own last lines ------------------

_LIST_BODY = {
    "it": ("Il black Friday incombe su di noi: i negozi offrono super sconti per lo shopping di Natale, "
           "e la corsa agli acquisti comincia già una settimana prima del venerdì.",
           "Ecco allora le offerte da non lasciarsi sfuggire:"),
    "ru": ("Чёрная пятница снова приближается, и магазины уже объявили большие скидки на подарки к "
           "Новому году, а покупатели готовятся к распродажам заранее.",
           "Вот предложения, которые стоит посмотреть:"),
}


@pytest.mark.parametrize("lang", sorted(_LIST_BODY))
def test_a_numbered_list_with_a_link_per_item_is_the_articles(lang):
    lead, intro = _LIST_BODY[lang]
    items = [f"{k}) {name}\nhttp://amzn.to/2x{k}Yq{k}Z" for k, name in enumerate(
        ["Lego Star Wars 75188", "Polistil 960574 Pista", "Blade Runner (4K Ultra HD)", "Ghostbusters 1-2 (Steelbook)",
         "Monopoly Travel", "Polaroid 600 Camera"], start=1)]
    text = f"{lead}\n\n{intro}\n\n" + "\n".join(items) + "\n"
    doc = clean(_page_doc(text))
    assert doc.text == text, removed(doc)


def test_a_link_menu_without_numbers_still_goes():
    text = ("The storm that hit the coast on Monday night closed three ports and left thousands of homes "
            "without power, officials said on Tuesday.\n\nhttp://example.com/news\nhttp://example.com/sport\n"
            "http://example.com/weather\n")
    doc = clean(_page_doc(text))
    assert "example.com" not in doc.text
    assert doc.text.startswith("The storm that hit the coast")


@pytest.mark.parametrize("last", [
    "Twitter seemed a bit confused by the campaign:",
    "[2] Joint Commission National Patient Safety Goal: Alarm Management",
    "More information: G. Petit et al. Hibernation and Torpor, Handbook of Life Support Systems",
])
def test_the_articles_own_last_line_is_no_trailing_fragment(last):
    body = ("The storm that hit the coast on Monday night closed three ports and left thousands of homes "
            "without power, officials said on Tuesday.\nRepair crews worked through the night to restore "
            "the lines, and most homes should be connected again by the end of the week.\n")
    doc = clean(_page_doc(body + last + "\n"))
    assert last in doc.text, removed(doc)


def test_a_fragment_of_another_article_still_goes():
    body = ("The storm that hit the coast on Monday night closed three ports and left thousands of homes "
            "without power, officials said on Tuesday.\nRepair crews worked through the night to restore "
            "the lines, and most homes should be connected again by the end of the week.\n")
    doc = clean(_page_doc(body + "Celebrity chef opens a second restaurant downtown amid rising rents\n"))
    assert removed(doc).get("fragment.trailing") == ["Celebrity chef opens a second restaurant downtown amid rising rents"]


def test_a_numbered_list_goes_on_past_an_ad_between_an_item_and_its_link():
    lead = ("Il black Friday incombe su di noi: i negozi offrono super sconti per lo shopping di Natale, "
            "e la corsa agli acquisti comincia già una settimana prima del venerdì.")
    items = [f"{k}) {name} (Blu-Ray)\nhttp://amzn.to/2x{k}Yq{k}Z" for k, name in enumerate(
        ["Blade Runner The Final Cut", "Ghostbusters Collection 1-2", "Indiana Jones Collection 1-4",
         "Magnum P.I. Complete Collection", "Roger Waters The Wall", "Dark Side of the Moon"], start=1)]
    items[3] = items[3].replace("\n", "\nAdvertisement - Scroll to continue\n")
    doc = clean(_page_doc(f"{lead}\n\n" + "\n".join(items) + "\n"))
    for k, name in enumerate(["Blade Runner", "Ghostbusters", "Indiana Jones", "Magnum", "Roger Waters",
                              "Dark Side"], start=1):
        assert f"{k}) {name}" in doc.text, removed(doc)
    assert "Advertisement" not in doc.text


@pytest.mark.parametrize("line, glued", [
    ("1 120-year-old photo sparks Greta Thunberg conspiracy theories 2 Obama aides allegedly left Trump staffers "
     "'You will fail' notes 3 Don't toot the messenger: Congressman denies he supplied apparent TV fart", True),
    ("1 Merkel trifft Macron in Paris 2 Streik bei der Bahn geht weiter 3 Neue Regeln für Mieter ab Januar", True),
    ("1 of the 3 men arrested on Monday was released on bail, police said, and 2 others remain in custody.", False),
    ("1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20 21 22 23 24 25 26 27 28 29 30", False),
    ("In 2019 1 Million people visited the park 2 Times more than 3 Years ago, the city said.", False),
])
def test_a_glued_most_read_box_is_one_line_of_numbered_headlines(line, glued):
    from ketl.stages.boilerplate.classifier import glued_numbered_list

    assert glued_numbered_list(line) is glued


@pytest.mark.shared("bench/aeb/html-text.json", "bench/aeb/ground-truth.json")
def test_a_glued_most_read_box_below_the_headline_does_not_take_the_articles_place():
    # AEB page 432362af: the box sat between the headline and the article, which
    # came after a "see also" list; the whole article was lost.
    bench = _bench_module()
    page = next(p for p in bench.load_aeb() if p[0].startswith("432362af0be4"))
    doc = next(clean_documents(bench.make_docs([page]), RULES, None, BoilerplateSettings()))
    assert "A case of the bubonic plague was reported in China over the weekend" in doc.text
    assert "Authorities say that the cases appear to be unrelated." in doc.text
    assert "Obama aides allegedly left Trump staffers" not in doc.text


def test_counts_are_data_and_menus_stay_menus():
    from ketl.stages.boilerplate.classifier import _menu_item

    for line in ("%165 голосов", "12 votes", "3 Kommentare", "250 مشاهدة"):
        assert not _menu_item(line), line
    for line in ("News", "Politics", "GTA 5", "PS4", "9to5Toys", "Real Estate"):
        assert _menu_item(line), line


def test_line_key_is_the_persisted_key():
    """Site line counts persist across runs: the key must stay the one 0.2
    wrote (lower-cased, digit runs as 0, whitespace as re's \\s collapsed),
    whatever shortcut computes it, in every script and kind of space."""
    import xxhash

    def reference(line: str) -> int:
        norm = re.sub(r"\s+", " ", re.sub(r"\d+", "0", line.strip().lower()))
        return xxhash.xxh64_intdigest(norm.encode("utf-8", "surrogatepass")) - (1 << 63)

    lines = ["  Caucasus  DAILY ", "© 2019 Site. All rights reserved.", "Tel.\u00a0+7\u2009495\u3000123",
             "\tМосква —\x1c 12 мая\u2028", "٢٠١٩ جميع الحقوق محفوظة", "第１２回　ニュース", "a\x85b\x0bc",
             "", "   ", "१२३ समाचार", "Ⅻ chapter ½"]
    for line in lines:
        assert line_key(line) == reference(line), line
    assert line_key("© 2019 Site") == line_key("©  2020 site ")


def test_warm_up_loads_the_lazy_tables_and_changes_no_result():
    from ketl.stages.boilerplate import metadata, warm_up
    from ketl.stages.boilerplate.classifier import _stop_index

    before = clean(seed("001"))
    warm_up(RULES)
    assert metadata._place_names.cache_info().currsize == 1
    assert _stop_index.cache_info().currsize == 1
    after = clean(seed("001"))
    assert after.text == before.text and after.meta == before.meta
    assert [(e.rule, e.source_start) for e in after.edits] == [(e.rule, e.source_start) for e in before.edits]


def test_teaser_runs_found_by_sampling_every_kth_line_equal_a_full_scan(monkeypatch):
    """teaser_lines judges only every min_run-th line first: the runs it marks
    are the runs of min_run or more flagged lines a line-by-line scan marks."""
    import random

    from ketl.stages.boilerplate import classifier as cl

    def full_scan(flags, k):
        out, q = [False] * len(flags), 0
        while q < len(flags):
            e = q
            while e < len(flags) and flags[e]:
                e += 1
            if e - q >= k > 0 or (e > q and k <= 0):
                out[q:e] = [True] * (e - q)
            q = max(e, q + 1)
        return out

    rng = random.Random(11)
    for _ in range(2000):
        flags = [rng.random() < 0.55 for _ in range(rng.randint(0, 30))]
        lines = [f"{q} " + "x" * 70 for q in range(len(flags))]
        monkeypatch.setattr(cl, "_glued_headline", lambda s, stop, f=flags: f[int(s.split(" ", 1)[0])])
        for k in (1, 2, 3, 5):
            assert cl.teaser_lines(lines, frozenset(), k) == full_scan(flags, k), (flags, k)


@pytest.mark.parametrize("line", ["Share this on WhatsApp", "Share this article on Facebook",
                                  "Share this story via email", "Share this with your friends"])
def test_share_calls_naming_what_and_where_are_share_furniture(line):
    # "Share on X" matched, "Share this on X" did not (a gap the noise review found)
    assert RULES.match(line).id == "social.share"


@pytest.mark.parametrize("line", ["She did not share this view on Twitter or anywhere else.",
                                  "Share prices fell on the news."])
def test_sentences_about_sharing_are_not_share_furniture(line):
    assert RULES.match(line) is None


# --- Evidence against teaser lists inside the chosen run, and copies of the article. ---

_TEASERS = {
    "en": ("Related articles", [
        "Hong Kong uprising: Protesters send a defiant warning to Beijing",
        "Police say the students left the campus before dawn on Tuesday morning.",
        "Flights: Passengers can fly for up to 80 percent less on this day",
        "The cheapest day to travel is not the one most people would guess, experts say.",
        "Queen and Prince Philip spend their wedding anniversary apart",
        "Royal aides said the couple would meet again at Sandringham next week.",
        "Venice flooding: Italian city will drown, says a leading expert",
    ]),
    "es": ("Noticias relacionadas", [
        "El Gobierno aprueba el nuevo plan de vivienda para los jóvenes",
        "La medida costará más de mil millones de euros en los próximos tres años.",
        "Los trenes de cercanías vuelven a funcionar tras la huelga de ayer",
        "Los sindicatos y la empresa firmaron un acuerdo de madrugada en Madrid.",
        "Un incendio obliga a desalojar tres edificios en el centro de Valencia",
    ]),
    "ru": ("Новости по теме", [
        "В Москве открылась новая станция метро на севере города",
        "Станция стала двести пятидесятой в столичной подземке, сообщили в мэрии.",
        "Курс рубля укрепился на фоне роста цен на нефть в понедельник",
        "Аналитики ждут, что рост продолжится до конца недели, если спрос сохранится.",
        "Синоптики пообещали снег и гололедицу в выходные дни в центре",
    ]),
}

_ARTICLES = {
    "en": _ARTICLE + _MORE,
    "es": ["El alto el fuego entró en vigor el lunes a medianoche, según confirmaron ambos gobiernos en un comunicado.",
           "Los observadores internacionales dijeron que la noche había sido tranquila en casi toda la línea del frente.",
           "En la capital, cientos de personas salieron a la calle para celebrar el acuerdo alcanzado tras semanas de conversaciones.",
           "Los diplomáticos advirtieron, sin embargo, que quedan muchas cuestiones por resolver antes de una paz duradera.",
           "La próxima ronda de negociaciones está prevista para diciembre en Ginebra, con la mediación de varios países."],
    "ru": ["Перемирие вступило в силу в понедельник в полночь, сообщили правительства обеих стран в совместном заявлении.",
           "Международные наблюдатели сообщили, что ночь прошла спокойно почти на всей линии соприкосновения сторон.",
           "В столице сотни людей вышли на улицы, чтобы отметить соглашение, достигнутое после нескольких недель переговоров.",
           "Дипломаты, однако, предупредили, что до прочного мира предстоит решить ещё очень много сложных вопросов.",
           "Следующий раунд переговоров запланирован на декабрь в Женеве при посредничестве нескольких государств."],
}


@pytest.mark.parametrize("lang", sorted(_TEASERS))
def test_teaser_list_after_a_header_inside_the_article_run_goes(lang):
    # Headlines with a one-sentence blurb each, heavy enough that the best run of
    # lines takes them in across their header: the list, never two paragraphs in a
    # row, is evidence the article ended at the header.
    header, teasers = _TEASERS[lang]
    article = _ARTICLES[lang]
    text = "\n\n".join(["Menu"] + article + [header] + teasers + ["Contact", "About us"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in article)
    assert not any(t in doc.text for t in teasers)
    if lang == "en":  # (the Russian blurbs weigh too little to be bridged to anyway)
        off = next(clean_documents([doc_of(text)], RULES, None, BoilerplateSettings(teaser_tail=False)))
        assert any(t in off.text for t in teasers)


@pytest.mark.parametrize("lang", sorted(_TEASERS))
def test_article_going_on_in_paragraphs_and_subheadings_after_a_header_stays(lang):
    # The same header with the article's own sections after it: two paragraphs
    # in a row (and a subheading between them) are the article going on.
    header, teasers = _TEASERS[lang]
    article = _ARTICLES[lang]
    rest = [article[2], article[3], teasers[2], article[4]]
    text = "\n\n".join(["Menu"] + article[:2] + [header] + rest + ["Contact"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in article[:2] + rest)


def test_teaser_tail_in_a_script_without_spaces_stays_an_article():
    # Chinese: headlines and sentences are told apart by 。, not by spaces. The
    # article's sections after "相关阅读" go on in paragraphs: they stay.
    paras = ["周一午夜停火协议正式生效，两国政府在联合声明中确认了这一消息，观察员表示前线整夜平静。",
             "首都数百人走上街头庆祝经过数周谈判达成的协议，许多家庭在广场上一起唱歌直到深夜。",
             "外交官们警告说，在实现持久和平之前，仍有许多复杂的问题需要双方坐下来逐一解决。",
             "下一轮谈判定于十二月在日内瓦举行，多个国家将派代表参加并担任双方之间的调解人。"]
    text = "\n\n".join(paras[:2] + ["相关阅读", paras[2], "谈判的下一步", paras[3]]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in paras + ["谈判的下一步"])


_GLUED_COPY_PARAS = [
    "Good morning! This is the tech news you need to know this Tuesday.",
    "The state attorney general is investigating the office-sharing company amid layoffs, the company confirmed.",
    "The mobile carrier's chief executive is stepping down in May and will hand over to the company's president.",
    "A new game in the long-running series is finally coming out after twelve years of waiting, but only for VR.",
]


@pytest.mark.parametrize("lang", ["en", "ru"])
def test_a_copy_of_the_article_in_the_pages_structured_data_goes(lang):
    paras = _GLUED_COPY_PARAS if lang == "en" else _ARTICLES["ru"]
    glued = " ".join(paras)[:400] + "..."  # the page's description field: paragraphs glued, cut short
    cut = paras[0][:45] + "..."  # a teaser card of the same article
    text = "\n\n".join(paras + ["Share", "Tech", cut, "500", "250", glued, "Contact"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in paras)
    assert glued not in doc.text and cut not in doc.text.split("\n")
    assert len(removed(doc).get("classifier.copy", [])) == 2
    off = next(clean_documents([doc_of(text)], RULES, None, BoilerplateSettings(page_copies=False)))
    assert "classifier.copy" not in removed(off)


def test_a_pull_quote_above_its_paragraph_and_a_repeated_line_are_no_copies():
    # The longer line that begins with an earlier short one is the article's
    # paragraph (the short one was a pull quote); a line repeated exactly, an
    # interview's question, is no copy either.
    lead = "The brain behind this well-timed startup is said to be two young founders."
    para = lead + (" The duo reportedly saw a similar oxygen bar in Las Vegas and decided to set one up at home,"
                   " charging a small fee for fifteen minutes of fresh air.")
    question = "What inspired you to start the cooking page in the first place ..."
    text = "\n\n".join([_ARTICLE[0], lead, para, question, _ARTICLE[1], question, _ARTICLE[2]]) + "\n"
    doc = clean(doc_of(text))
    assert para in doc.text and doc.text.count(question) == 2
    assert "classifier.copy" not in removed(doc)


_ANNOUNCED = {
    "en": ("What the new version brings:", ["Hundreds of new tasks that make every evening different",
                                         "Dozens of questions that help you know each other better",
                                         "A large variety of challenges for a whole week of play",
                                         "Quizzes, surprises and bonuses in every single round"]),
    "de": ("Was die neue Version bietet:", ["Hunderte neue Aufgaben für jeden einzelnen Abend",
                                          "Dutzende Fragen, mit denen man sich besser kennenlernt",
                                          "Eine große Auswahl an Herausforderungen für die Woche",
                                          "Quizfragen, Überraschungen und Boni in jeder Runde"]),
    "ru": ("Что нового в этой версии:", ["Сотни новых заданий на каждый вечер недели",
                                        "Десятки вопросов, чтобы лучше узнать друг друга",
                                        "Большой выбор испытаний на всю следующую неделю",
                                        "Викторины, сюрпризы и бонусы в каждом раунде"]),
}


@pytest.mark.parametrize("lang", sorted(_ANNOUNCED))
def test_a_list_announced_with_a_colon_goes_on_past_a_share_row_to_the_footer(lang):
    # The article's last lines are a list its line with a colon announces; a share
    # row dropped between two items, then the page's footer. The items are the
    # article's, not a footer run: the colon is the evidence.
    intro, items = _ANNOUNCED[lang]
    article = _ARTICLES["ru" if lang == "ru" else "es" if lang == "de" else "en"][:3]
    text = "\n\n".join(["Menu"] + article + [intro] + items[:2] + ["Facebook Twitter WhatsApp Email"]
                       + items[2:] + ["Topics: Europe | education", "Copyright © 2024 Plains Journal"]) + "\n"
    doc = clean(doc_of(text))
    assert all(line in doc.text for line in article + [intro] + items)
    assert "Facebook Twitter WhatsApp Email" not in doc.text


_KITS = {
    "en": ("Our hiking survival kit is really very simple.",
           ["Arrowhead bottled water", "baby carrier", "healthy snack bars", "camera"]),
    "ru": ("Характеристики бега можно увеличить с помощью кодов консоли.",
           ["player.setav speedmult 150", "player.setav health 500", "player.setav stamina 300"]),
    "es": ("Nuestro equipo para la montaña es realmente muy sencillo.",
           ["agua embotellada", "portabebés", "barritas de cereales", "cámara de fotos"]),
}


@pytest.mark.parametrize("lang", sorted(_KITS))
def test_the_articles_list_above_it_goes_on_past_ad_markers(lang):
    # A sentence, its list, ad markers and a newsletter call dropped between the
    # items, then the article's paragraphs: the items below the sentence are the
    # article's, however short (reading upwards, the sentence is the evidence).
    intro, items = _KITS[lang]
    article = _ARTICLES["ru" if lang == "ru" else "es" if lang == "es" else "en"]
    text = "\n\n".join(["Menu", "Sports", "Video", "Politics", "Home", intro, items[0], "Advertisement", items[1],
                        "Stay informed: sign up for our morning newsletter", *items[2:], "Advertisement"]
                       + article + ["Copyright © 2024 Plains Journal"]) + "\n"
    doc = clean(doc_of(text))
    assert all(line in doc.text for line in [intro, *items] + article)
    assert "Advertisement" not in doc.text and "Politics" not in doc.text


def test_short_lines_between_ad_markers_above_the_article_without_their_sentence_go():
    # The same short lines, but no sentence right above the first of them (an ad
    # marker between): nothing says they are a list of the article's.
    teaser = "Fuel prices climb again across the region this week."
    boxed = ["Border town braces", "Advertisement", "Winter tyres sold out", "Advertisement"]
    text = "\n\n".join(["Menu", teaser, "Advertisement"] + boxed + _ARTICLE) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE)
    assert "Border town braces" not in doc.text and "Winter tyres sold out" not in doc.text


_ROUNDUPS = {
    "en": (["GIRLS BASKETBALL", "Palm Bay d. Rockledge 70-44"],
           ["Palm Bay (1-0): Tolivert 25 points. Davis 17 points. Burgher 10 points and six rebounds.",
            "Rockledge (0-1): Blakely 15 points. Devoe 2 points. Baker 6 points. Brown 4 points.",
            "BOYS SOCCER", "Viera d. Rockledge 3-1",
            "Viera (4-0): Hupfer 1 goal. Patikas 1 goal. Nielsen 1 goal. Anasa 1 assist and a save."]),
    "ru": (["ЖЕНСКИЙ БАСКЕТБОЛ", "Зенит – Спарта 70-44"],
           ["Зенит (1-0): Петрова 25 очков. Иванова 17 очков. Смирнова 10 очков и шесть подборов.",
            "Спарта (0-1): Белова 15 очков. Орлова 2 очка. Попова 6 очков. Козлова 4 очка.",
            "МУЖСКОЙ ФУТБОЛ", "Динамо – Спарта 3-1",
            "Динамо (4-0): Волков 1 гол. Морозов 1 гол. Лебедев 1 гол. Новиков 1 передача и сейв."]),
}


@pytest.mark.parametrize("lang", sorted(_ROUNDUPS))
def test_lines_above_the_article_shaped_like_its_own_are_the_articles(lang):
    # A results roundup opens with a section heading in capitals and a score line,
    # between an ad template and its first sentence: short lines, but shaped like
    # lines inside the article (another heading, another score), so not a header run.
    head, body = _ROUNDUPS[lang]
    text = "\n\n".join(["Roundup: Viera stays unbeaten", "Menu", "Sports", "Politics", "Video",
                         "▶ Follow us on Twitter @MetroCourier", "Advertisement"] + head + body + ["Leave a Reply"]) + "\n"
    doc = clean(doc_of(text))
    assert all(line in doc.text for line in head + body)
    assert "Advertisement" not in doc.text and "Politics" not in doc.text


@pytest.mark.parametrize("lang", ["en", "es"])
def test_teaser_list_after_a_share_row_and_a_newsletter_call_goes(lang):
    # No list header, but two condemned lines in a row (a share row, a newsletter
    # call) and then headlines with one blurb each: the article ended there.
    _, teasers = _TEASERS[lang]
    article = _ARTICLES[lang]
    cluster = ["Facebook Twitter WhatsApp Email", "Sign up for our newsletter"]
    text = "\n\n".join(["Menu"] + article + cluster + teasers + ["Contact"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in article)
    assert not any(t in doc.text for t in teasers)
    # The article going on in paragraphs after the same two lines stays whole.
    text = "\n\n".join(["Menu"] + article[:2] + cluster + article[2:] + ["Contact"]) + "\n"
    assert all(p in clean(doc_of(text)).text for p in article)


def test_headlines_above_the_headline_printed_in_the_body_stay_out():
    # A "most commented" box above the article, its headlines ending like
    # sentences (the comment counts in brackets), an ad marker between them and the
    # headline printed again in the body: the headline opens the article, what
    # precedes it is the page's however sentence-like.
    title = "Coach says the team needed to win this game"
    box = ["Star quarterback says he is waiting for the owners to stop running (185)",
           "Defensive end should expect a significant suspension after the fight (148)",
           "Reports say the quarterback will be fined for his part in the brawl (145)",
           "The home side come back to beat the visitors in the final quarter (145)"]
    text = "\n\n".join([title, "Menu", "Most Commented"] + box
                       + ["Advertisement", title, "Posted by Michael Smith on November 19, 2019"] + _ARTICLE + _MORE) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE + _MORE)
    assert not any(b in doc.text for b in box)


def test_headlines_led_by_a_word_and_a_colon_are_no_list_going_on():
    # "Liberman: ...", "Russia: ..." with a byline under each: headlines of other
    # stories open with a word and a colon as often as a list's items do, so the
    # shape alone does not carry the article past the byline below the first.
    heads = ["Liberman: Both parties are to blame for lack of unity government",
             "Russia: Israeli strikes on Syria wrong move",
             "Gantz: Government will protect the citizens of the south"]
    tail = []
    for h in heads:
        tail += [h, "By JERUSALEM POST STAFF"]
    text = "\n\n".join(["Menu"] + _ARTICLE[:2] + tail + ["Contact"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ARTICLE[:2])
    assert not any(h in doc.text for h in heads)


def test_seed002_lead_above_the_headline_printed_again_stays():
    # The seed prints its lead paragraph between the page title and the headline
    # printed again: it is the article's (the bounds the headline sets for
    # boxes above it must not cut it).
    doc = clean(seed("002"))
    assert doc.text.startswith("Nagorno-Karabakh continued fighting in the encircled enclave on Saturday")


_ZH_PARAS = ["周一午夜停火协议正式生效，两国政府在联合声明中确认了这一消息，观察员表示前线整夜平静。",
             "首都数百人走上街头庆祝经过数周谈判达成的协议，许多家庭在广场上一起唱歌直到深夜。",
             "外交官们警告说，在实现持久和平之前，仍有许多复杂的问题需要双方坐下来逐一解决。",
             "下一轮谈判定于十二月在日内瓦举行，多个国家将派代表参加并担任双方之间的调解人。"]
_ZH_TEASERS = ["北京地铁新线路本周末开通运营沿线居民出行更方便",
               "新线路全长三十多公里，设有二十座车站，预计每天可运送乘客五十万人次。",
               "今年冬季供暖提前启动多地气温将创下新低",
               "气象部门预计寒潮将在周末抵达北方地区，最低气温可能降到零下十五度。",
               "新能源汽车销量连续三个月增长超过百分之二十",
               "业内人士认为，充电设施的快速建设和购车补贴是推动销量增长的主要原因。",
               "高校毕业生就业形势总体稳定部分行业需求旺盛"]


def test_teaser_headlines_in_a_script_without_spaces_go_after_their_header():
    # Chinese headlines have no spaces to count words by: their length and
    # script make them headlines, and a list of them (one blurb each) below
    # "相关阅读" ends the article.
    text = "\n\n".join(["首页"] + _ZH_PARAS + ["相关阅读"] + _ZH_TEASERS + ["联系我们"]) + "\n"
    doc = clean(doc_of(text))
    assert all(p in doc.text for p in _ZH_PARAS)
    assert not any(t in doc.text for t in _ZH_TEASERS)


@pytest.mark.parametrize("line", [
    "Our Latest Stories", "Most read in world news", "Most Popular Videos", "More World", "More Politics News",
    "We Recommend", "Você pode gostar...", "Вам также может быть интересно", "Вас может заинтересовать",
])
def test_list_headers_the_rules_missed_on_aeb_pages(line):
    # Headers of related-stories boxes seen on AEB pages (issue 11's precision gap).
    assert RULES.match(line).id == "related.header"


@pytest.mark.parametrize("line", [
    "We recommend that travellers avoid the border region until further notice.",
    "More world leaders are expected to arrive in Baku on Friday.",
    "Most read the statement as a concession, the analyst said.",
    "Вам также может быть интересно узнать, что переговоры возобновятся в понедельник.",
])
def test_list_header_words_inside_sentences_stay(line):
    assert RULES.match(line) is None


def test_a_list_of_codes_below_the_title_stays_when_a_related_box_follows():
    # AEB page c4a3637c66: the article's own list of console codes sits between
    # the title and its prose; a related box after the prose must not cut it.
    codes = ["стандартная скорость player.setav speedmult *х100", "player.setav health * .",
             "player.setav magicka *", "player.setav stamina *"]
    text = "\n".join([
        "Главная » Интересное", "", "Скайрим (skyrim) скорость бега как увеличить", "",
        "Характеристики бега можно увеличить за счет кодов", "", *codes, "",
        "То, что вы поставите, такая скорость у вас и будет; стоит отметить, что показатель не прибавляется сразу.", "",
        "Из рекомендации можно еще прописать player.modav speedmult 125, если увидите, что быстро, то уменьшите значение.", "",
        "Как отмечается, после погибели скорость меняется, поэтому каждый раз стоит обновлять.", "",
        "Вам также может быть интересно",
        "Где находится самое почетное место в традиционной юрте или чуме?", "Интересное 0",
        "Тарасун – молочная бурятская водка на молоке и ее история", "Интересное 0",
        "Юкола – сушено-вяленое мясо рыбы, традиционный продукт питания Дальнего Востока", "Интересное 0",
        "Какой из видов меховой обуви носили саамы Кольского полуострова, отправляясь в тундру?",
    ])
    out = clean(doc_of(text, "skyrim/page.txt")).text
    for line in codes:
        assert line in out
    assert "Вам также может быть интересно" not in out


def _meal_plan(day: str) -> list[str]:
    return [f"Meal Prep Menu for {day}", "Pre-Workout Meal", "Eat 60–90 minutes before your workout",
            "Asparagus and Eggs [1 cup asparagus, 2 poached eggs, ½ cup sweet potato]",
            "Portion Fix Containers: 1 Green, 1 Red, 1 Yellow, 1 tsp.", "Post-Workout Meal",
            "Eat 1–2 hours after your workout", "Asian Chicken Zoodles [1 cup zucchini noodles, 4 oz. cooked chicken]",
            "Portion Fix Containers: 1 Green, 1 Red, 1 Yellow, 1 tsp.", "Meal 1", "Eat every 2–3 hours",
            "1 scoop Shakeology, 1 cup strawberries, 8 oz. unsweetened almond milk",
            "Portion Fix Containers: 1 Purple, 1 Red, 1 tsp."]


def _meal_plan_page(before: list[str], middle: list[str], after: list[str]) -> Document:
    """An article of two meal plans with ``middle`` dropped between them, cleaned."""
    text = "\n\n".join([
        "A little more obsessed meal prep",
        "If you have done 80 Day Obsession, you have seen firsthand how her timed nutrition plan works for you.",
        "This meal plan works for both programmes, so there is no need to figure out a whole new plan. Now get prepping!",
        *before, *middle, *after, "Daily Ledger | Independent news since 1992"])
    return clean(doc_of(text, "ledger/meal.txt"))


def test_a_list_article_goes_on_past_a_related_box_dropped_into_it():
    # Noise set, seed 11: a "More stories" box inside a meal plan ended the
    # article there (176 lines of the plan lost). Past the box the plan repeats
    # its own labels; a teaser list does not.
    before, after = _meal_plan("Eating Plan A"), _meal_plan("Eating Plan B")
    doc = _meal_plan_page(before, ["More stories", "• So this is the future of apple innovation",
                                   "• Clymer workshop manual review"], after)
    for line in before + after:
        assert line in doc.text
    assert "So this is the future of apple innovation" not in doc.text
    assert "More stories" not in doc.text


@pytest.mark.parametrize("marker", ["&nbsp;", "Advertisement"])
def test_a_list_article_goes_on_past_an_ad_marker_where_its_labels_repeat(marker):
    # Noise set, seed 13: an ad marker between two plans of a meal plan ended
    # the article there (168 lines lost): no prose follows, but its labels do.
    before, after = _meal_plan("Eating Plan A"), _meal_plan("Eating Plan B")
    doc = _meal_plan_page(before, [marker], after)
    for line in before + after:
        assert line in doc.text
    assert marker not in doc.text.split("\n")


_OPENINGS = {
    "en": (["The refreshing autumn sky!", "This is the park where the air is filled with the scent of fall",
            "The reason we came to the park!"],
           ["It was part of the opening ceremony of the city festival, held on a stage in the middle of the park.",
            "Crowds of people came to see the performers, and the square was full long before six o'clock.",
            "The dancers wore traditional costumes and the drummers played until late in the evening."]),
    "de": (["Der Himmel war klar!", "Das ist der Park, in dem die Luft nach Herbst riecht",
            "Darum sind wir hierhergekommen!"],
           ["Das Stück war Teil der Eröffnungsfeier des Stadtfestes auf einer Bühne mitten im Park.",
            "Viele Menschen kamen, um die Tänzer zu sehen, und der Platz war lange vor sechs Uhr voll.",
            "Die Tänzer trugen traditionelle Kostüme und die Trommler spielten bis spät in den Abend."]),
}


@pytest.mark.parametrize("lang", sorted(_OPENINGS))
def test_the_articles_opening_below_a_one_item_box_above_it_stays(lang):
    # Noise set, seed 5 (AEB 8cad...): a "More from X >>" box with one headline
    # above the article's opening lines took them as more of its list. A box
    # holds its few items and no sentence; the sentences below it open the article.
    opening, paragraphs = _OPENINGS[lang]
    text = "\n\n".join(["Lakeside Record", "Opinion", "News", "Politics", "Culture", "Video",
                        "More from Lakeside Record >>", "Gannett gatehouse merger future local news",
                        *opening, *paragraphs, "© 2021 Lakeside Record. All rights reserved."])
    doc = clean(doc_of(text, "lakeside/fest.txt"))
    for line in opening + paragraphs:
        assert line in doc.text
    assert "Gannett gatehouse merger future local news" not in doc.text
    assert "More from Lakeside Record" not in doc.text


def test_a_list_goes_on_past_a_teaser_link_after_an_item_with_an_odd_mark():
    # Noise set, seeds 3 and 11 (AEB 9cb8...): "Oct. 3 -- Ak-Chin Pavilion"
    # (a hyphen in the name) right above a "RELATED:" link ended a list of
    # tour dates led "W--,,": the list's own leads above it go on past the link.
    dates = [f"{m} {d} -- {venue}, {city}" for m, d, venue, city in [
        ("Sept.", 5, "White River Amphitheatre", "Seattle"), ("Sept.", 12, "Shoreline Amphitheatre", "Mountain View"),
        ("Sept.", 18, "The Forum", "Los Angeles"), ("Oct.", 3, "Ak-Chin Pavilion", "Phoenix")]]
    after = ["Oct. 9 -- Toyota Music Factory, Irving", "Oct. 10 -- The Cynthia Woods Mitchell Pavilion, Houston"]
    text = "\n\n".join([
        "Northern Star", "The band announced a tour of North America on Monday, with dates across the summer and autumn.",
        "Tickets go on sale on Friday morning through the band's website and the usual outlets.",
        *dates,
        "RELATED: Uefa euro qualifying tracking every team to clinch a spot as wales punches ticket", *after,
        "This website uses cookies. By continuing to browse the site you agree to our use of cookies.",
        "© 2023 Northern Star. All rights reserved."])
    doc = clean(doc_of(text, "star/tour.txt"))
    for line in dates + after:
        assert line in doc.text
    assert "punches ticket" not in doc.text


_INFO_BOXES = {
    "en": (["During the design week, the Flos Showroom in Corso Monforte 15 shows a light installation by "
            "Michael Anastassiades, a London-based designer born in Cyprus.",
            "The installation, entitled Jewels after Jewels, presents a new collection of chandeliers.",
            "The public can also simulate every combination of the elements on tablets in the showroom."],
           ["Michael Anastassiades", "Jewels after Jewels", "Flos Showroom", "corso Monforte, 15, Milan",
            "9.30 A.M. / 7.00 P.M."]),
    "it": (["Durante la settimana del design, lo showroom Flos di corso Monforte 15 ospita un'installazione "
            "luminosa di Michael Anastassiades, designer londinese nato a Cipro.",
            "L'installazione, intitolata Gioielli dopo gioielli, presenta una nuova collezione di lampadari.",
            "Il pubblico può anche simulare ogni combinazione degli elementi sui tablet dello showroom."],
           ["Michael Anastassiades", "Gioielli dopo gioielli", "Showroom Flos", "corso Monforte, 15, Milano",
            "9.30 / 19.00"]),
}


@pytest.mark.parametrize("lang", sorted(_INFO_BOXES))
def test_an_info_box_restating_the_article_stays_past_ad_markers(lang):
    # Noise set, seeds 3 and 7 (AEB 94fbcc..., 33fe...): the article's closing
    # box (who, what, where, when) between its prose and the page's footer,
    # with an ad marker and a newsletter call dressed into it, was taken for the
    # footer run. Its lines name what the article tells of, in its words.
    paragraphs, box = _INFO_BOXES[lang]
    text = "\n\n".join(["Metro Courier", "Video", "News", "Opinion", "Culture", *paragraphs,
                        "Sign up for our daily newsletter", box[0], "Continue reading below", *box[1:3],
                        "[ad id=\"4471\"]", *box[3:], "Ad Feedback", "Terms of Service | Cookie Policy",
                        "© 2021 Metro Courier. All rights reserved."])
    doc = clean(doc_of(text, "courier/flos.txt"))
    for line in paragraphs + box:
        assert line in doc.text
    for line in ("Sign up for our daily newsletter", "Continue reading below", "Ad Feedback", "ad id"):
        assert line not in doc.text


def test_short_lines_below_the_article_that_do_not_restate_it_stay_out():
    # The same place with a footer's own short lines (a byline, headlines of
    # other stories): they name nothing the article tells of, and go.
    paragraphs = _INFO_BOXES["en"][0]
    footer = ["Kenji Sato", "Senate passes the budget bill", "Storm closes the coastal road"]
    text = "\n\n".join(["Metro Courier", "Video", "News", "Opinion", "Culture", *paragraphs,
                        "Sign up for our daily newsletter", footer[0], "Continue reading below", *footer[1:],
                        "Ad Feedback", "Terms of Service | Cookie Policy", "© 2021 Metro Courier. All rights reserved."])
    doc = clean(doc_of(text, "courier/flos.txt"))
    for line in paragraphs:
        assert line in doc.text
    for line in footer:
        assert line not in doc.text


_LAST_PARAGRAPHS = {
    "en": (["Hong Kong is burning. The authorities continue to pour fuel on the fire, and the protests go on.",
            "As the commentary was published, the university was besieged by police, and hundreds were arrested.",
            "Though many remain peaceful, a radical minority of protesters have responded with violence."],
           "China’s leaders may still believe all this is a price worth paying. Since 1989, when it crushed the "
           "protests that began in Tiananmen Square, the party has bet that prosperity buys patience; in Hong Kong "
           "that bet is failing, and the cost of failing rises every week."),
    "fr": (["Hong Kong brûle. Les autorités continuent de jeter de l'huile sur le feu, et les manifestations continuent.",
            "Au moment où le commentaire paraissait, l'université était assiégée par la police et des centaines arrêtés.",
            "Si beaucoup restent pacifiques, une minorité radicale de manifestants a répondu par la violence."],
           "Les dirigeants chinois pensent peut-être encore que c'est un prix qui vaut d'être payé. Depuis 1989, "
           "quand il a écrasé les manifestations de la place Tiananmen, le parti parie que la prospérité achète la "
           "patience ; à Hong Kong, ce pari échoue, et son coût augmente chaque semaine."),
}


@pytest.mark.parametrize("lang", sorted(_LAST_PARAGRAPHS))
def test_the_articles_last_paragraph_after_a_box_dropped_above_it_stays(lang):
    # Noise set, seed 5 (AEB 5fa3...): a "Read next" box above the article's
    # last paragraph, one line of 476 characters, cut it off: the article was
    # taken to resume only at two sentences. One paragraph that long is an
    # article's worth; a teaser's blurb is cut far shorter.
    paragraphs, last = _LAST_PARAGRAPHS[lang]
    box = ["• The latest man stabbed to death on san francisco",
           "• Native ad platform names mobile marketing pioneer chief strategy officer",
           "• Ascom announces a strategic distribution partnership with ge healthcare",
           "• Hong kong latest china protesters police china hong kong riots polytechnic university"]
    text = "\n\n".join(["Metro Courier", "Home", "News", "World", *paragraphs, "Read next", *box, last,
                        "Be the first to comment", "Advertise with us", "© 2023 Metro Courier. All rights reserved."])
    doc = clean(doc_of(text, "courier/hk.txt"))
    for line in paragraphs + [last]:
        assert line in doc.text
    for line in box + ["Read next"]:
        assert line not in doc.text


_FACT_CHECKS = {
    "en": (["Claim", "Former U.S. ambassador to Ukraine Marie Yovanovitch has a net worth of $17 million.",
            "Rating", "Unproven", "About this rating", "Origin"],
           ["On Nov. 15, 2019, the former ambassador testified before the House Intelligence Committee.",
            "We have found no evidence to corroborate this claim.",
            "Those making the claim have offered a wide range of figures, and none of them cites a source.",
            "In other words, this claim appears to have been conjured out of thin air."]),
    "es": (["Afirmación", "La exembajadora de Estados Unidos en Ucrania tiene un patrimonio de 17 millones de dólares.",
            "Calificación", "Sin pruebas", "Sobre esta calificación", "Origen"],
           ["El 15 de noviembre de 2019, la exembajadora declaró ante el Comité de Inteligencia de la Cámara.",
            "No hemos encontrado ninguna prueba que respalde esta afirmación.",
            "Quienes la difunden ofrecen cifras muy distintas, y ninguno de ellos cita una fuente.",
            "En otras palabras, la afirmación parece haber salido de la nada."]),
}


@pytest.mark.parametrize("lang", sorted(_FACT_CHECKS))
def test_a_fact_checks_box_above_the_article_stays_around_a_teaser_box(lang):
    # Noise set, seed 5 (AEB 8380...): a "Trending Now" box with two headlines
    # dressed into the fact check's rows above the article made all of them
    # its list. The box is furniture; the rows around it are no rule's and
    # lie between the page's ruled header and the article: they are the article's.
    rows, paragraphs = _FACT_CHECKS[lang]
    box = ["- James van der beek eliminated dancing with the stars wife suffers miscarriage",
           "- Gannett gatehouse merger future local news"]
    text = "\n\n".join(["Civic Tribune", "Sports", "Video", "Culture", "Print this article", "Advertisement:",
                        "Click here to join our Telegram channel", *rows[:2], "Trending Now", *box, *rows[2:],
                        *paragraphs, "Advertisement →", "Terms of Service | Cookie Policy"])
    doc = clean(doc_of(text, "civic/claim.txt"))
    for line in rows + paragraphs:
        assert line in doc.text
    for line in box + ["Trending Now"]:
        assert line not in doc.text


def test_a_table_cut_by_a_teaser_box_above_the_article_stays():
    # Noise set, seeds 3 and 5 (AEB 5137...): the stock table between the lead
    # and the article, cut by a "Trending Now" box, went with the box.
    table = ["Ticker Security Last Change Change %", "HD THE HOME DEPOT INC. 225.86 -12.99 -5.44%",
             "LOW LOWE'S COMPANIES INC. 113.40 -1.62 -1.41%"]
    box = ["Spiced honey pear jam recipe", "Asian shares soft as trade doubts creep back in",
           "The long march of the electronic patient record"]
    paragraphs = ["The home-improvement retailer earned $2.8 billion, or $2.53 per diluted share, as revenue rose.",
                  "Our third quarter results reflected broad-based growth across our business, the chief executive said.",
                  "Home Depot shares are up 39 percent year-to-date while the S&P 500 is up 24.5 percent."]
    lead = ("Dow component Home Depot reported third-quarter earnings that topped estimates as revenue fell short, "
            "sending shares lower ahead of the opening bell.")
    text = "\n\n".join(["Global Dispatch", "Video", "Home", "Culture", "Opinion", "Politics", lead,
                        "Read more: Asian shares soft as trade doubts creep back in", table[0], "Trending Now", *box,
                        *table[1:], "Advertisement", *paragraphs, "About Us | Contact | Privacy Policy | Terms of Use"])
    doc = clean(doc_of(text, "dispatch/hd.txt"))
    for line in [lead, *table, *paragraphs]:
        assert line in doc.text
    for line in box + ["Trending Now"]:
        assert line not in doc.text
