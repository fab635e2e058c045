"""A generated corpus with known truth for following statements across outlets.

Statements are made by known people (some in the gazetteer, some not; attributed
with a title, by surname, after a colon, by "he said", or under a variant
spelling the gazetteer lists) and
reprinted by several outlets at known times, with paraphrase (a word swapped,
one dropped) and truncation (the quote cut short). Half the outlets publish
JSONL with a ``published`` field (ISO, RFC 2822, written dates); the others
plain text with a byline date (English, French, Russian formats) under
``raw/<site>/``; some plain-text articles carry no date at all, to check that
none is invented. The truth is returned alongside (and written as truth.json).
"""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from pathlib import Path

# Spellings the gazetteer lists as variants: the speaker must still come out canonical.
VARIANTS = {"Ilham Aliyev": "Ilham Aliev", "Nikol Pashinyan": "Nikol Pashinian", "Armen Sarkissian": "Armen Sarkisyan"}
PEOPLE = [  # (canonical, title, how a later mention names them)
    ("Ilham Aliyev", "Azerbaijani President", "Aliyev"),
    ("Nikol Pashinyan", "Armenian Prime Minister", "Pashinyan"),
    ("Armen Sarkissian", "Armenian President", "Sarkissian"),
    ("Jeyhun Bayramov", "Foreign Minister", "Bayramov"),
    ("Maria Kovacs", "EU envoy", "Kovacs"),
    ("Tomasz Wielgus", "OSCE observer", "Wielgus"),
    ("Helena Brandt", "German diplomat", "Brandt"),
    ("Daniel Okafor", "UN spokesman", "Okafor"),
]
JSONL_SITES = ["Caucasus Wire", "Baku Ledger", "Yerevan Courier", "Tbilisi Times"]
TXT_SITES = ["south-post", "kavkaz-daily", "le-courrier-est", "border-monitor"]
_WORDS = ("ceasefire talks border villages shelling mediators corridor region civilians convoy "
          "negotiations troops highway monitors aid refugees enclave front line agreement "
          "prisoners exchange drones artillery bridge mountain pass capital envoy summit "
          "observers humanitarian supplies winter roads reconstruction guarantees withdrawal").split()
_VERBS = "must will cannot should would".split()
_MONTHS_FR = "janvier février mars avril mai juin juillet août septembre octobre novembre décembre".split()
_MONTHS_RU = ("января февраля марта апреля мая июня июля августа сентября октября ноября "
              "декабря").split()


def _sentence(rng: random.Random, n: int) -> str:
    words = [rng.choice(_WORDS) for _ in range(n)]
    words.insert(2, rng.choice(_VERBS))
    return "We " + " ".join(words) + " " + str(rng.randint(10, 999)) + " times over"


def _variant(rng: random.Random, quote: str, k: int) -> str:
    """The reprint's wording: as said, paraphrased (a word swapped, one dropped) or truncated."""
    words = quote.split()
    kind = k % 3
    if kind == 1:
        i = rng.randrange(3, len(words) - 2)
        words[i] = rng.choice(_WORDS)
        del words[rng.randrange(3, len(words) - 2)]
    elif kind == 2:
        words = words[: max(9, int(len(words) * 0.8))]
    return " ".join(words)


def _written(dt: datetime, style: int) -> str:
    if style == 0:
        return dt.strftime("%B %d, %Y at %H:%M UTC").replace(" 0", " ")
    if style == 1:
        return f"{dt.day} {_MONTHS_FR[dt.month - 1]} {dt.year} à {dt.hour:02d}h{dt.minute:02d}"
    if style == 2:
        return f"{dt.day} {_MONTHS_RU[dt.month - 1]} {dt.year} г., {dt.hour:02d}:{dt.minute:02d}"
    return dt.strftime("%d.%m.%Y %H:%M")


def _jsonl_date(dt: datetime, style: int) -> str:
    if style == 0:
        return dt.isoformat().replace("+00:00", "Z")
    if style == 1:
        return dt.astimezone(timezone(timedelta(hours=4))).isoformat()
    if style == 2:
        return format_datetime(dt)
    return dt.strftime("%d %B %Y %H:%M")


def _filler(rng: random.Random, n: int) -> str:
    return "\n\n".join(" ".join(rng.choice(_WORDS) for _ in range(rng.randint(14, 24))).capitalize()
                       + f" in sector {rng.randint(1, 99999)}." for _ in range(n))


def _attribution(rng: random.Random, person: tuple[str, str, str], quote: str, form: int) -> str:
    full, title, surname = person
    if form == 0:
        return f"“{quote},” said {title} {full}."
    if form == 1:
        return f"{title} {full} spoke to reporters in Baku on the conflict.\n\n“{quote},” {surname} said."
    if form == 2:
        return f"{full} told the meeting: “{quote}.”"
    if form == 3:  # a pronoun: the last person named
        return f"{title} {full} addressed parliament in Yerevan on Tuesday.\n\n“{quote},” he said."
    variant = VARIANTS.get(full, full)  # a variant spelling, in an article about the region
    # Worded apart per article: a line repeated across a site's articles is cut as boilerplate.
    return (f"Armenia and Azerbaijan traded blame over sector {rng.randint(1, 99999)} of Nagorno-Karabakh."
            f"\n\n“{quote},” {variant} said.")


def make_corpus(raw: Path, statements: int = 40, seed: int = 7, undated: int = 10, reprints: int = 3) -> dict:
    """Write the corpus under ``raw``; return its truth."""
    rng = random.Random(seed)
    raw.mkdir(parents=True, exist_ok=True)
    sites = JSONL_SITES + TXT_SITES
    start = datetime(2020, 10, 1, 6, 0, tzinfo=timezone.utc)
    articles: list[dict] = []  # site, time, body parts, quotes
    truth = {"statements": [], "articles": {}}
    for s in range(statements):
        person = PEOPLE[s % len(PEOPLE)]
        quote = _sentence(rng, rng.randint(12, 20))
        t0 = start + timedelta(hours=7 * s, minutes=rng.randint(0, 59))
        outlets = rng.sample(sites, rng.randint(2, 4))
        record = {"quote": quote, "speaker": person[0], "first_site": outlets[0], "variants": []}
        for k, site in enumerate(outlets):
            at = t0 + timedelta(hours=k * rng.randint(1, 9), minutes=k * 13)
            variant = quote if k == 0 else _variant(rng, quote, k)
            record["variants"].append(variant)
            body = _attribution(rng, person, variant, rng.randint(0, 4))
            articles.append({"site": site, "at": at, "quote": variant, "speaker": person[0], "body": body})
        truth["statements"].append(record)
    for _ in range(undated):
        articles.append({"site": rng.choice(TXT_SITES), "at": None, "quote": None, "speaker": None,
                         "body": "The talks resumed on Monday, October 26, after a pause."})
    jsonl: dict[str, list[str]] = {}
    for i, a in enumerate(articles):
        style = i % 4
        title = f"Report {i}: " + " ".join(rng.choice(_WORDS) for _ in range(6)).capitalize()
        text = f"{_filler(rng, 1)}\n\n{a['body']}\n\n{_filler(rng, 2)}"
        if a["site"] in JSONL_SITES:
            line = {"id": f"a{i}", "title": title, "site": a["site"], "text": text,
                    "published": _jsonl_date(a["at"], style)}
            jsonl.setdefault(a["site"], []).append(json.dumps(line, ensure_ascii=False))
            key = f"{a['site'].replace(' ', '_').lower()}.jsonl#{len(jsonl[a['site']])}"
        else:
            byline = f"By Staff Reporter | {_written(a['at'], style)}" if a["at"] else "By Staff Reporter"
            folder = raw / a["site"]
            folder.mkdir(exist_ok=True)
            name = f"article-{i:04d}.txt"
            (folder / name).write_text(f"{title}\n\n{byline}\n\n{text}\n", encoding="utf-8")
            key = f"{a['site']}/{name}"
        truth["articles"][key] = {"site": a["site"], "published": a["at"].isoformat() if a["at"] else None,
                                  "quote": a["quote"], "speaker": a["speaker"]}
    # Whole articles reprinted by another plain-text outlet three hours later: article_clusters.
    truth["reprints"] = []
    originals = [(k, t) for k, t in truth["articles"].items() if "/" in k and t["published"] and t["quote"]]
    for n, (key, t) in enumerate(originals[:reprints]):
        site = next(s for s in TXT_SITES if s != t["site"])
        at = datetime.fromisoformat(t["published"]) + timedelta(hours=3)
        lines = (raw / key).read_text(encoding="utf-8").split("\n")
        lines[2] = f"By Staff Reporter | {_written(at, 0)}"
        copy = f"{site}/reprint-{n:04d}.txt"
        (raw / copy).write_text("\n".join(lines), encoding="utf-8")
        truth["articles"][copy] = {**t, "site": site, "published": at.isoformat()}
        truth["reprints"].append([key, copy])
    for site, lines in jsonl.items():
        (raw / f"{site.replace(' ', '_').lower()}.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    return truth


def _table(out: Path, name: str):
    import pyarrow.dataset as ds

    return ds.dataset(out / name, format="parquet", partitioning="hive").to_table()


def score(out: Path, truth: dict) -> dict[str, float]:
    """Figures of a curated ``out`` against the truth: first outlet, speaker, dates."""
    arts = _table(out, "articles").to_pylist()
    by_path = {a["source_path"]: a for a in arts}
    dated = [(k, t) for k, t in truth["articles"].items() if t["published"]]
    undated = [k for k, t in truth["articles"].items() if not t["published"]]
    parsed = sum(1 for k, t in dated if k in by_path and by_path[k]["published"] is not None
                 and by_path[k]["published"].isoformat() == t["published"])
    invented = sum(1 for k in undated if k not in by_path or by_path[k]["published"] is not None)
    path_of = {a["doc_id"]: a["source_path"] for a in arts}
    quotes = [q for q in _table(out, "quotes").to_pylist() if truth["articles"].get(path_of[q["doc_id"]], {}).get("quote")]
    statement_of = {v: i for i, s in enumerate(truth["statements"]) for v in s["variants"]}
    member: dict[str, dict[int, int]] = {}
    speakers_right = carried = 0
    for q in quotes:
        t = truth["articles"][path_of[q["doc_id"]]]
        if q["text"].rstrip(".,") != t["quote"].rstrip(".,"):
            continue
        carried += 1
        speakers_right += q["speaker_name"] == t["speaker"]
        votes = member.setdefault(q["cluster_id"], {})
        votes[statement_of[t["quote"]]] = votes.get(statement_of[t["quote"]], 0) + 1
    first_right = 0
    clusters = {c["cluster_id"]: c for c in _table(out, "quote_clusters").to_pylist()}
    for i, s in enumerate(truth["statements"]):
        hits = [c for cid, c in clusters.items() if member.get(cid) and max(member[cid], key=member[cid].get) == i]
        best = max(hits, key=lambda c: c["members"], default=None)
        first_right += best is not None and best["first_outlet"] == s["first_site"]
    n_quotes = sum(1 for t in truth["articles"].values() if t["quote"])
    id_of = {a["source_path"]: a["doc_id"] for a in arts}
    groups = _table(out, "article_clusters").to_pylist()
    reprints_right = sum(1 for orig, copy in truth["reprints"] if any(
        g["first_doc_id"] == id_of.get(orig) and id_of.get(copy) in g["doc_ids"] for g in groups))
    return {
        "statements": len(truth["statements"]),
        "first_outlet_right": first_right / len(truth["statements"]),
        "quotes_found": carried / n_quotes,
        "speaker_right": speakers_right / max(carried, 1),
        "date_parsed": parsed / max(len(dated), 1),
        "dates_invented": invented,
        "undated_articles": len(undated),
        "reprint_first_right": reprints_right / max(len(truth["reprints"]), 1),
    }
