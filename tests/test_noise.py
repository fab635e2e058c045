"""The noise catalogue (resources/rules.toml): each rule family removes its noise
variants and leaves prose alone (AEB bodies, seeds, the multilingual corpus);
the noise benchmark's corpus on a small sample."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from ketl.stages.boilerplate.stage import BoilerplateSettings, clean_documents, load_rules
from ketl.stages.boilerplate.site_stats import SiteLineStats, site_and_line_keys
from ketl.stages.boilerplate.reprint import find_reprint

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
ML = ROOT / "tests" / "data" / "multilingual"
sys.path.insert(0, str(ROOT / "benchmarks"))

import noise_corpus  # noqa: E402

RULES = load_rules()

# AEB ground-truth lines a rule matches, on purpose: notices and calls of the
# kinds the catalogue exists to remove (reprint notices go to reprinted_from).
# Any other AEB line a rule matches fails test_rules_leave_aeb_bodies_alone.
AEB_KNOWN = {
    "This article was originally published by Futurism. Read the original article.": "reprint.notice",
    "Originally published on Live Science.": "reprint.notice",
    "© 2019 Associated Press. All Rights Reserved. This material may not be published, broadcast, rewritten, "
    "or redistributed.": "legal.copyright",
    "Copyright 2019 Hawaii News Now. All rights reserved.": "legal.copyright",
    "Follow NBC Latino on Facebook, Twitter and Instagram.": "cta.follow",
    "Click here to get more information or download this game.": "cta.click",
}


def _aeb_lines() -> list[str]:
    gold = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    return [ln.strip() for v in gold.values() for ln in v["articleBody"].split("\n") if ln.strip()]


def test_rules_leave_aeb_bodies_alone():
    lines = _aeb_lines()
    assert len(lines) > 4000
    hits = {ln: RULES.match(ln).id for ln in lines if RULES.match(ln) is not None}
    assert hits == AEB_KNOWN


def test_rules_leave_multilingual_articles_alone():
    files = sorted((ML / "clean").glob("*.txt"))
    assert len(files) >= 12
    for f in files:
        for ln in f.read_text(encoding="utf-8").splitlines():
            if ln.strip():
                assert RULES.match(ln) is None, (f.name, ln, RULES.match(ln).id)


def test_rules_leave_the_seed_articles_prose_alone():
    # Seed 000 is article text from end to end; the others' prose lines are long.
    for path in sorted((SHARED / "seeds").glob("*.txt")):
        for ln in path.read_text(encoding="utf-8").splitlines():
            if ln.strip() and (path.name.startswith("000") or len(ln) > 120):
                assert RULES.match(ln) is None, (path.name, ln)


# Each family: its noise, in the phrasings and decorations sites use, in many languages.
FAMILIES = {
    "ad": ["[ad_1]", "[ad id=\"4471\"]", "ADVERTISEMENT", "- Advertisement -", "Advertisement", "Sponsored",
           "Sponsored Content", "Paid Post", "Anzeige", "- Anzeige -", "Werbung", "Publicité", "Publicidad",
           "Pubblicità", "Реклама", "Reklama", "Reklam", "إعلان", "تبلیغات", "פרסומת", "विज्ञापन", "广告", "【广告】",
           "広告", "광고", "โฆษณา", "Διαφήμιση", "Story continues below advertisement",
           "Article continues below this ad", "Advertisement - Scroll to continue", "Ad Feedback", "AD", "PR"],
    "cta": ["Join our Telegram channel for the latest updates", "Follow us on Google News",
            "Join our WhatsApp channel", "Subscribe to our YouTube channel", "Like us on Facebook",
            "Sign up for our daily newsletter", "Subscribe to our newsletter", "Get the latest news delivered to your inbox",
            "Never miss a story: subscribe now", "Stay informed: sign up for our morning newsletter",
            "Download our app for breaking news alerts", "Folgen Sie uns auf Facebook",
            "[ Follow us on Twitter @RiversideNews ]", "» Like us on Facebook", "👉 FOLLOW THE DAILY LEDGER ON INSTAGRAM »", "Síguenos en Google Noticias",
            "Suivez-nous sur Twitter", "Подписывайтесь на наш канал в Telegram", "Читайте нас в Дзене",
            "Bizi Google Haberler'den takip edin", "تابعونا على تليجرام", "ما را در تلگرام دنبال کنید",
            "हमें गूगल न्यूज़ पर फॉलो करें", "关注我们的微信公众号", "公式LINEアカウントを友だち追加", "구독하기",
            "Ακολουθήστε μας στο Google News", "הצטרפו לערוץ הטלגרם שלנו"],
    "social": ["Share", "Share this article", "Share on Facebook", "Facebook Twitter WhatsApp Email",
               "Share: Facebook | Twitter | LinkedIn", "[ Share this story ]", "Copy link", "Tweet",
               "Facebook  Twitter  Pinterest  WhatsApp ✓", "Teilen", "Partager", "Compartir en WhatsApp",
               "Поделиться", "Paylaş", "شارك", "שתפו", "शेयर करें", "分享到：", "微信 微博 QQ空间", "シェア", "공유하기",
               "Κοινοποίηση", "გაზიარება"],
    "related": ["Related", "Read more", "Related Articles", "Most Read", "You may also like", "Trending Now",
                "READ MORE: Armenia and Azerbaijan agree to a truce", "Also read: The minister resigns",
                "► Read next: Storm hits the coast", "Lesen Sie auch: Der Bundestag stimmt ab", "Mehr zum Thema",
                "Meistgelesen", "Lire aussi : La grève continue", "Noticias relacionadas", "Lo más leído",
                "Читайте также: В Москве открыли новую станцию", "Читайте также", "İlgili Haberler",
                "اقرأ أيضا: افتتاح محطة جديدة", "بیشتر بخوانید", "यह भी पढ़ें: नई सड़क का उद्घाटन", "相关阅读",
                "関連記事", "관련 기사", "ข่าวที่เกี่ยวข้อง", "Διαβάστε επίσης", "ასევე წაიკითხეთ"],
    "paywall": ["Subscribe to continue reading", "This article is for subscribers only.",
                "You have reached your limit of free articles this month.", "Already a subscriber? Log in",
                "Support independent journalism. Donate today.", "Dieser Artikel ist nur für Abonnenten verfügbar.",
                "Cet article est réservé aux abonnés.", "Suscríbete para seguir leyendo",
                "Оформите подписку, чтобы читать дальше"],
    "legal": ["We use cookies to improve your experience on our website.", "Accept all cookies", "Reject all",
              "Manage preferences", "Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten.",
              "Alle akzeptieren", "Utilizamos cookies propias y de terceros para mejorar nuestros servicios.",
              "Мы используем файлы cookie для улучшения работы сайта.", "Sitemizde çerezler kullanılmaktadır.",
              "© 2024 Daily Ledger. All rights reserved.", "© 2024 Caucasus Herald. Alle Rechte vorbehalten.",
              "Все права защищены.", "جميع الحقوق محفوظة © 2024", "版权所有 © 2024 新闻网", "무단전재 및 재배포 금지",
              "Tüm hakları saklıdır."],
    "comment": ["Comments", "Leave a Reply", "3 comments", "Comments are closed.", "View comments (12)",
                "Log in to comment", "Your email address will not be published. Required fields are marked *",
                "Kommentare (4)", "Комментарии", "Yorum yap", "التعليقات", "תגובות", "评论", "コメント", "댓글 0",
                "Σχόλια"],
    "bio": ["About the author: Maria Garcia writes about technology and business.",
            "More articles by Tom Baker", "By Anna Petrova", "Written by Kenji Sato",
            "Leyla Aliyeva | Staff Writer",
            "Jan Novak is a reporter for the Daily Ledger covering politics and the economy.",
            "Sofia Rossi is a senior correspondent based in London. Follow her on Twitter @sofia12."],
    "caption": ["(Photo: AFP)", "(AP Photo/John Miller)", "REUTERS/Maria Garcia", "Photo by David Cohen/Getty Images",
                "Photo: Leyla Aliyeva/AFP", "(Image: Shutterstock)", "Image credit: Jan Novak",
                "People walk past the building on Monday (Xinhua/Li Wei)", "Photograph: Tom Baker/AP",
                "© Kenji Sato/dpa", "Фото: РИА Новости", "Фото: Анна Петрова/ТАСС", "Foto: dpa",
                "(Foto: Maria Garcia/EFE)", "Fotoğraf: AA", "(صورة: رويترز)", "צילום: רויטרס", "फोटो: पीटीआई",
                "图片来源：新华社", "（写真：共同）", "(사진=연합뉴스)", "Φωτογραφία: ΑΠΕ-ΜΠΕ", "ფოტო: IPN"],
    "html": ['<img src="/uploads/2024/06/photo-1.jpg" alt="" width="800" height="450">',
             '<link rel="stylesheet" href="/assets/css/main.css">', "&nbsp;", "&nbsp; &nbsp;", "<p>&nbsp;</p>",
             '<script async src="https://platform.twitter.com/widgets.js" charset="utf-8"></script>', "</div>",
             "<br>", "<!-- /wp:paragraph -->", "{{ article.author }}", "{% block content %}",
             '[caption id="attachment_351" align="aligncenter" width="640"]', "[/caption]",
             "[embed]https://youtu.be/abc[/embed]", "googletag.cmd.push(function() { googletag.display('div-1'); });",
             '<iframe src="https://www.youtube.com/embed/x" width="560" height="315"></iframe>'],
    "nav": ["Home | World | Sports | Culture", "Startseite", "Главная", "首页", "#politics #economy",
            "Tags: politics, economy", "Impressum | Datenschutz | Kontakt"],
    "reprint": ["This article was originally published by Eurasianet.", "Originally published at OC Media.",
                "This story first appeared in The Diplomat.", "Republished with permission from Global Voices.",
                "This article is republished from The Conversation under a Creative Commons license. "
                "Read the original article.", "Distributed by Tribune Content Agency.",
                "This story was originally published by Grist and is republished here with permission."],
}

# Prose each family's words appear in: sentences, headings and list items that must stay.
PROSE = [
    "Share prices rose 3% on Monday after the announcement.", "The advertisement campaign cost $2 million.",
    "Sponsored by the state, the program helped 4,000 families.", "He shared the video on Telegram on Monday.",
    "Follow the money, the prosecutor told the jury.", "Readers can sign up for the course until March.",
    "Sign up for a Hulu ad-free account for $11.99 a month", "Related reading on the subject is scarce.",
    "More than 200 people were evacuated.", "Read the full report on the ministry's website.",
    "Comments from the minister angered the opposition.", "The comment section of the bill was removed.",
    "By 2030, the city plans to plant 5,000 trees.", "By the numbers", "By contrast, exports fell.",
    "About the project",
    "The photo, taken by an AFP photographer, shows the bridge.", "Copyright law was changed in 2019.",
    "He accepted the award on behalf of his team.", "Reject all forms of violence, he said.",
    "We use these numbers to estimate the damage.", "The story continues below the fold, she joked.",
    "Download speeds doubled after the upgrade.", "The company's app has 2 million users.",
    "Das Thema wird seit Jahren intensiv diskutiert: Die elektronische Patientenakte (ePA).",
    "(Graphic: Global assets in 2019 - here)", "Leggi anche", "Don't Miss", "STAFF", "Disclaimer", "Фото:",
    "[사진=JTBC, 이매진아시아]", "© Reuters", "Main image credit: Getty", "Share this information, please?",
    "Ingredients", "Instructions", "The bottom line", "Q: Favorite books?", "Buy Now",
    "Reklam sektörü geçen yıl yüzde 12 büyüdü.", "Реклама на телевидении подорожала на 20 процентов.",
    "Die Anzeige wurde am Montag bei der Polizei erstattet.", "Компания опубликовала отчёт в понедельник.",
    "The report was originally published in Russian and translated by volunteers who worked for months.",
    "\"Follow us on Twitter and Telegram,\" the minister said.", "« Follow us on Facebook », a dit le ministre.",
    "‘Like us on Facebook,’ the campaign told voters.", "»Follow us on Twitter«, schrieb die Partei.",
]


def _cases():
    for family, lines in FAMILIES.items():
        for line in lines:
            yield pytest.param(family, line, id=f"{family}:{line[:40]}")


@pytest.mark.parametrize("family,line", list(_cases()))
def test_each_family_catches_its_noise(family, line):
    rule = RULES.match(line)
    if family == "reprint":
        assert find_reprint(line) is not None, line
        return
    assert rule is not None, (family, line)
    cats = {"cta": {"cta", "social"}, "caption": {"caption", "legal"}}
    assert rule.category in cats.get(family, {family}), (family, line, rule.id)


@pytest.mark.parametrize("line", PROSE)
def test_prose_with_the_families_words_stays(line):
    rule = RULES.match(line)
    assert rule is None, (line, rule.id if rule else None)


def test_matching_is_the_same_with_and_without_the_keyword_gate():
    # The gate (and the per-length alternations) only skip rules that cannot
    # match: the plain combined regex gives the same verdict on every line.
    lines = [ln for fam in FAMILIES.values() for ln in fam] + PROSE + _aeb_lines()[:1500]
    for ln in lines:
        s = ln.strip().lower()
        m = RULES.lower_matcher.fullmatch(s)
        want = None if m is None else RULES.rules[int(m.lastgroup[1:])].id
        got = RULES.match(ln)
        assert (got.id if got else None) == want, ln


def test_dressed_multilingual_files_match_their_truth():
    truth = json.loads((ML / "dressed" / "truth.json").read_text(encoding="utf-8"))
    assert len(truth) >= 12
    for key, t in truth.items():
        lines = (ML / "dressed" / f"{key}.txt").read_text(encoding="utf-8").split("\n")
        if lines[-1] == "":
            lines.pop()
        assert len(lines) == len(t["labels"]), key
        clean = [ln for ln in (ML / "clean" / f"{key}.txt").read_text(encoding="utf-8").splitlines() if ln.strip()]
        assert [ln for ln, lab in zip(lines, t["labels"]) if lab in ("title", "content")] == clean


def test_dressed_multilingual_noise_is_removed_by_rules_or_metadata():
    # What rules can know (not site headers, menus of bare words or related headlines,
    # which are the repetition statistics' and the classifier's): all of it goes.
    truth = json.loads((ML / "dressed" / "truth.json").read_text(encoding="utf-8"))
    rule_kinds = {"ad", "share", "subscribe", "caption", "cookie", "paywall", "comment", "bio", "html", "tags", "reprint"}
    missed = []
    for key, t in truth.items():
        lines = (ML / "dressed" / f"{key}.txt").read_text(encoding="utf-8").split("\n")
        for ln, lab in zip(lines, t["labels"]):
            if lab.startswith("noise:") and lab[6:] in rule_kinds and RULES.match(ln) is None and not find_reprint(ln):
                missed.append((key, lab, ln))
    assert missed == []


def _run_sample(n: int) -> list:
    corpus = noise_corpus.build_corpus(seed=3, limit=n)
    from ketl.document import Document

    docs = [Document.from_source(doc_id=d.key, source_path=d.source_path, source_sha256="0",
                                 source_encoding="utf-8", source=d.text) for d in corpus]
    stats = SiteLineStats()
    for doc in docs:
        stats.add(*site_and_line_keys(doc))
    return list(zip(corpus, clean_documents(docs, RULES, stats, BoilerplateSettings())))


def test_noise_sample_rules_remove_noise_and_never_content():
    pairs = _run_sample(40)
    rule_ids = set(RULES.ids())
    noise = removed = 0
    for d, doc in pairs:
        fates = noise_corpus.line_fates(d, doc.text, doc.meta.get("dateline"))
        for ln, lab, kept in zip(d.lines, d.labels, fates):
            if lab.startswith("noise:") and kept is not None:
                noise += 1
                removed += not kept
        # No content line leaves through a rule of the catalogue.
        for e in doc.edits:
            if e.rule in rule_ids:
                for ln, lab in zip(d.lines, d.labels):
                    if lab == "content" and ln.strip() and ln.strip() in e.before:
                        assert ln.strip() in AEB_KNOWN, (d.key, e.rule, ln)
    assert noise > 500 and removed / noise >= 0.97


def test_noise_sample_reprint_sources():
    pairs = _run_sample(40)
    with_notice = [(d, doc) for d, doc in pairs if d.reprinted_from]
    assert len(with_notice) >= 15
    right = sum(doc.meta.get("reprinted_from") == d.reprinted_from for d, doc in with_notice)
    assert right / len(with_notice) >= 0.95
    wrong = [d.key for d, doc in pairs if not d.reprinted_from and doc.meta.get("reprinted_from")
             and d.key[:12] not in noise_corpus.OWN_NOTICES]
    assert wrong == []


def test_corpus_is_deterministic_and_varied():
    a = noise_corpus.build_corpus(seed=5, limit=10)
    b = noise_corpus.build_corpus(seed=5, limit=10)
    assert [d.text for d in a] == [d.text for d in b]
    c = noise_corpus.build_corpus(seed=6, limit=10)
    assert [d.text for d in a] != [d.text for d in c]
    kinds = {lab for d in noise_corpus.build_corpus(seed=5) for lab in d.labels if lab.startswith("noise:")}
    assert {f"noise:{k}" for k in noise_corpus.KINDS} <= kinds


@pytest.fixture(scope="module")
def noise_pages():
    import bench_noise

    corpus = noise_corpus.build_corpus(seed=7)
    docs, _ = bench_noise.run(corpus)
    return {d.key[:10]: (d, doc) for d, doc in zip(corpus, docs)}


@pytest.mark.parametrize("key, kept", [
    # "Editor's picks" and three headlines dropped into a Nigerian Senate report:
    # the report goes on after the box (an ad between its next two sentences).
    ("0dd1357045", ["The National Assembly resumed from its annual recess on Tuesday .",
                    "The details of the Senate ’s plenary session was shared on the Twitter handle of the Senate"]),
    # A German report whose first paragraph sits above a "[ Meistgelesen ]" box of two headlines.
    ("de", ["Ab dem 1. März fährt eine neue Buslinie im Zehn-Minuten-Takt zwischen dem Bahnhof",
            "Das teilten die Stadtwerke am Dienstag nach einer Sitzung des Verkehrsausschusses mit."]),
    # A Russian poll's results, 24 lines of "%165 голосов", an ad among them: data, not a menu.
    ("3c6d3381ef", ["%165 голосов\n", "%250 голосов", "%330 голосов", "%34 голоса"]),
    # An Indonesian sermon with Arabic quotations: an "Also read" box and a stray letter
    # in the middle, the quotations and sayings go on after them.
    ("21486419bb", ["“Cintailah orang yang kamu cintai sekadarnya.", "[Ni’matul Ukhuwah hal. 41]",
                    "Umar bin Al-Khaththab ra berkata"]),
    # An Italian shopping list, 22 numbered items each with its link, an ad in the middle.
    ("20b2b64916", ["1) Lego Star Wars 75188", "http://amzn.to/2iJFhRj", "12) Roger Waters – The Wall (DVD)",
                    "http://amzn.to/2i2e7b7", "22) Hasbro Gaming – L’ALLEGRO CHIRURGO", "http://amzn.to/2A6mxCW"]),
])
def test_dressed_pages_keep_their_articles_lists_and_sentences(noise_pages, key, kept):
    dressed, doc = noise_pages[key]
    for text in kept:
        assert text in doc.text, (key, text)
    assert "Argentina comfortably wins" not in doc.text and "Advertisement" not in doc.text
    assert "Meistgelesen" not in doc.text and "کتابخانه" not in doc.text and "Also read" not in doc.text


def test_gold_furniture_rows_name_real_gold_lines_of_the_catalogue_kinds():
    # A stale or mistyped row would silently stop counting: each must name a
    # line of the gold bodies, of one of the kinds bench_noise's docstring defines.
    gold = json.loads((SHARED / "bench" / "aeb" / "ground-truth.json").read_text(encoding="utf-8"))
    furniture = noise_corpus.gold_furniture()
    assert len(furniture) >= 30
    for (body, line), kind in furniture.items():
        assert kind in {"reprint", "copyright", "credit", "bio", "affiliate", "follow", "related", "separator"}
        bodies = [v["articleBody"] for k, v in gold.items() if body == "*" or k.startswith(body)]
        assert bodies, body
        assert any(line in {ln.strip() for ln in b.split("\n")} for b in bodies), (body, line)


def test_gold_furniture_keeps_article_prose_as_content():
    # Lines ketl removes that are the article's own: an embedded tweet's
    # attribution, a list item, an event's phone number stay content.
    furniture = noise_corpus.gold_furniture()
    for key, line in [("3f65af7b6b98", "— Cooper Lund (@cooperlund) November 18, 2019"),
                      ("521118842884", "02-751-1500"), ("4648a420af99", "Thanks Junior!"),
                      ("a860fb5eda1a", "Hundreds of cool erotic tasks that will make your sex life fuller and more interesting")]:
        assert noise_corpus.furniture_kind(furniture, key, line) is None
    assert noise_corpus.furniture_kind(furniture, "e7d77f186980aa", "BGR may receive a commission") == "affiliate"
    assert noise_corpus.furniture_kind(furniture, "anybody00000", "___") == "separator"


def test_gold_furniture_file_errors_name_the_line(tmp_path):
    bad = tmp_path / "f.tsv"
    bad.write_text("body\tkind\tline\twhy\nabc\tcredit\t\"© X\"\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"f.tsv:2: 4 tab-separated"):
        noise_corpus.gold_furniture(bad)


def test_noise_set_figures(noise_pages):
    # The whole noise set (seed 7), as bench_noise.py prints it: the thresholds
    # are the figures reached, so a regression fails here.
    import bench_noise

    score = bench_noise.Score()
    for d, doc in noise_pages.values():
        score.add(d, doc)
    share = lambda pair: pair[0] / pair[1]  # noqa: E731
    assert share(score.content) >= 0.993  # strict: every gold line is content (0.9938; 0.9927 before the info boxes, 0.9845 before #11's evidence round)
    assert share(score.content_cat) >= 0.999  # the gold bodies' catalogue furniture set aside (0.9995; 0.9984 before the info boxes)
    assert share(score.noise) >= 0.995
    assert share(score.reprint) >= 0.99 and score.reprint[1] >= 100
    assert score.reprint_false[0] == 0 and score.reprint_false[1] >= 80


def test_own_site_copyright_is_no_reprint_but_another_outlets_is():
    # "Copyright 2019 Hawaii News Now" closes the station's own story; on another
    # outlet's page the same line names where the story came from.
    line = "Copyright 2019 Hawaii News Now. All rights reserved."
    assert find_reprint(line, site="Hawaii News Now") is None
    assert find_reprint(line, site="hawaiinewsnow.com") is None
    assert find_reprint(line, site="Daily Ledger") == "Hawaii News Now"
    assert find_reprint("© 2021 Le Monde. Tous droits réservés.", site="Le Monde") is None


def _clean_text(text: str):
    from ketl.document import Document

    doc = Document.from_source(doc_id="t", source_path="site/t.txt", source_sha256="0",
                               source_encoding="utf-8", source=text)
    return next(clean_documents([doc], RULES, None, BoilerplateSettings()))


_ID_PROSE = ("Jangan berlebihan dalam mencintai atau membenci sesuatu, kata sang ustaz kepada jamaah.\n\n"
             "Dari hadits Abu Hurairah, Rasulullah bersabda tentang cinta dan benci kepada sesama manusia.\n\n")


@pytest.mark.parametrize("text, kept, gone", [
    # The last word of a verse quoted in Arabic, on a line of its own below it (AEB 21486419bb).
    (_ID_PROSE + "ْﺐِﺒْﺣَﺃ َﻚَﺒﻴِﺒَﺣ ﺎًﻧْﻮَﻫ ﺎَﻣ ﻰَﺴَﻋ ْﻥَﺃ َﻥﻮُﻜَﻳ َﻚَﻀْﻴِﻐَﺑ ﺎًﻣْﻮَﻳ\n\nﺎَﻣ\n\n"
     "Hadits ini mengajarkan kita untuk bersikap seimbang dalam segala hal, termasuk perasaan.\n", "ﺎَﻣ", None),
    # A Japanese passage quoted in an English article: its short sentence goes on from the long one.
    ("The manual, written in Japanese, explains the repair in plain words for beginners.\n\n"
     "再起動する前に、設定画面を開いて、すべての項目を確認してください。\n以下、その手順。\n\n"
     "The translation of the manual was published by the company later in the year.\n", "以下、その手順。", None),
    # Stray letters among the article's own lines still go: English, Russian, Greek articles.
    ("The council approved the budget on Tuesday after a long debate.\n\nبب\n\n"
     "The mayor said the ferry would run again in the spring.\n", None, "بب"),
    ("Совет города одобрил новый бюджет во вторник после долгих споров.\n\nXx\n\n"
     "Мэр сказал, что паром снова будет ходить весной.\n", None, "Xx"),
    ("Το δημοτικό συμβούλιο ενέκρινε τον προϋπολογισμό την Τρίτη μετά από συζήτηση.\n\n中\n\n"
     "Ο δήμαρχος είπε ότι το πλοίο θα ξεκινήσει ξανά την άνοιξη.\n", None, "中"),
])
def test_stray_script_spares_a_line_going_on_from_its_neighbour(text, kept, gone):
    doc = _clean_text(text)
    lines = doc.text.split("\n")
    if kept:
        assert kept in lines, doc.text
    if gone:
        assert gone not in lines
        assert any(e.rule == "fragment.stray_script" and e.before.strip() == gone for e in doc.edits)


def test_a_last_line_of_numbers_is_no_trailing_fragment():
    # A theatre listing ends with its box-office number (AEB 521118842884); a
    # headline of another article at the end still goes.
    body = ("The play runs every evening except Monday at the Jeongdong Theater in central Seoul.\n\n"
            "Tickets cost between 40,000 and 60,000 won and can be booked by phone.\n\n")
    assert "02-751-1500" in _clean_text(body + "02-751-1500\n").text.split("\n")
    doc = _clean_text(body + "Celebrity chef opens a second restaurant downtown amid rising rents\n")
    assert [e.rule for e in doc.edits if "Celebrity chef" in e.before] == ["fragment.trailing"]


def test_line_key_of_the_lower_cased_stripped_line_is_the_line_key():
    # The stage hashes the lines it lower-cased for the rules: the keys must be
    # the ones phase A stored from the raw lines (final sigma, dotted İ,
    # non-ASCII digits and spaces included).
    from ketl.stages.boilerplate.site_stats import line_key, line_key_lower

    lines = _aeb_lines()[:3000] + [
        "  ΟΔΟΣ ΠΑΤΗΣΙΩΝ  ", "ΟΔΟΣ\u00a0ΠΑΤΗΣΙΩΝ 12", "İSTANBUL  2019", "© ٢٠٢٤ Site", "\tShare\u2009this ",
        "Страница 3 из 10", "第１２回　大会", "x" * 300 + " 42"]
    for ln in lines:
        assert line_key_lower(ln.strip().lower()) == line_key(ln), ln
    assert line_key("© 2019 Site") == line_key("©  2020   SITE")


_EN_A = ("The council approved the new budget on Tuesday after a long debate about the ferry and the harbour.\n\n"
         "Members of the opposition said the plan did not do enough for the people living on the islands.\n\n"
         "The finance director told the council that the money for the repairs had been found in the reserves.\n\n")
_EN_B = ("The mayor said the ferry would run again in the spring, once the harbour is repaired by the contractor.\n\n"
         "Residents of the islands have waited for the repairs since the storm damaged the pier last winter.\n\n"
         "The contractor said the work would begin next month and take about three months to complete.\n")


@pytest.mark.parametrize("box, gone", [
    ("Related Stories »\n- Harbour town elects a new mayor\n- Ferry prices to rise in the spring\n\n",
     ["- Harbour town elects a new mayor", "- Ferry prices to rise in the spring"]),
    ("MOST READ\n• Storm closes the coastal road\n• Why the port lost its biggest client?\n\n",
     ["• Storm closes the coastal road", "• Why the port lost its biggest client?"]),
    ("Mehr zum Thema\nStadtrat beschließt neuen Haushalt\nFähre fährt wieder ab Frühjahr\n\n",
     ["Stadtrat beschließt neuen Haushalt", "Fähre fährt wieder ab Frühjahr"]),
    ("Читайте также\n› Паром снова пойдёт весной\n› Мэр представил новый бюджет\n\n",
     ["› Паром снова пойдёт весной", "› Мэр представил новый бюджет"]),
    ("相关阅读\n市议会通过新预算方案\n渡轮将于春季恢复运营\n\n", ["市议会通过新预算方案", "渡轮将于春季恢复运营"]),
])
def test_related_box_items_leave_with_their_header(box, gone):
    doc = _clean_text(_EN_A + box + _EN_B)
    lines = doc.text.split("\n")
    for item in gone:
        assert item not in lines, doc.text
    for para in (_EN_A + _EN_B).split("\n"):
        assert para in lines, doc.text


@pytest.mark.parametrize("lines, items", [
    (["Related Stories »", "- Harbour town elects a new mayor", "- Ferry prices to rise", ""], [1, 2]),
    # A link named by its label: the next line is the article's subheading.
    (["READ MORE: Harbour town elects a new mayor", "The vote on the ferry"], []),
    # The article goes on right below the header, no blank line between.
    (["Related Stories", "The council will meet again next week to discuss the harbour repairs."], []),
    # The box ends at a sentence, and at a blank line: what follows is the article's again.
    (["Related", "- Ferry prices to rise", "Officials expect the repairs to take three months.", "Spring timetable"], [1]),
    (["Related", "- Ferry prices to rise", "", "Spring timetable"], [1]),
    # Only a header a rule removed opens a box.
    (["Don't Miss", "Apple AirPods", "Automatically on, automatically connected"], []),
    # A box inside the article's list of dates: it ends where the dates go on.
    (["Tour dates:", "June 1 – City 1, FL @ Arena 1", "Trending Now", "- Floods close roads in the north",
      "- Parliament votes on the budget", "July 1 – Town 1, NY @ Hall 1", "July 2 – Town 2, NY @ Hall 2"], [3, 4]),
    # Its items led as the list around it: where the box ends cannot be told, all stays.
    (["- Flour, two cups", "Related", "- Sugar, one cup", "- Butter, half a cup"], []),
])
def test_related_items_are_the_headlines_right_below_a_bare_header(lines, items):
    from ketl.stages.boilerplate.related import related_items

    reason = [RULES.match(ln).id if ln and RULES.match(ln) else "" for ln in lines]
    assert related_items(lines, reason) == items


@pytest.mark.parametrize("seed, strict", [(1, 0.991), (3, 0.99), (5, 0.99), (11, 0.992), (13, 0.99)])
def test_other_dressings_keep_the_content_too(seed, strict):
    # Seed 7's figure alone hid dressings that cut whole articles: a related box
    # (seeds 1, 11) or an ad marker (seed 13) inside a meal plan of lists and
    # labels ended the article there (168-176 of its lines lost; strict content
    # kept 0.943 / 0.939 / 0.941 before the article resumed where its labels repeat).
    import bench_noise

    corpus = noise_corpus.build_corpus(seed=seed)
    docs, _ = bench_noise.run(corpus)
    score = bench_noise.Score()
    for d, doc in zip(corpus, docs):
        score.add(d, doc)
        if d.key.startswith("5f03fc173e"):
            gone = [ln for ln, lab, kept in zip(d.lines, d.labels, noise_corpus.line_fates(d, doc.text))
                    if lab == "content" and kept is False]
            assert len(gone) <= 3, gone
    # Strict content kept: 0.9920 / 0.9909 / 0.9905 / 0.9925 / 0.9902 (0.9913 / 0.9880 / 0.9878 / 0.9900 /
    # 0.9902 before info boxes, boxes above the article and one-paragraph resumes; 0.983 / 0.972 / 0.975 /
    # 0.978 / 0.979 before the evidence of tweets, cited links, ruled headers and footers, announced and own lists).
    assert score.content[0] / score.content[1] >= strict
    assert score.noise[0] / score.noise[1] >= 0.99
