import os

import pytest

from ketl.ingest.decode import DecodeError, Decoded, decode_bytes
from conftest import SEEDS

SEED = (SEEDS / "003_dc860a697fd09110.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16-le"),
    ("utf-16-be", "utf-16-be"), ("utf-32", "utf-32-le"),
])
def test_unicode_encodings_round_trip_the_seed(encoding, expected):
    decoded = decode_bytes(SEED.encode(encoding))
    assert decoded.text == SEED
    assert decoded.encoding == expected


def test_single_byte_western_text_is_read_as_cp1252():
    text = SEED.replace("\u00a0", " ") + " Café “déjà vu” – naïve façade in Zürich."
    decoded = decode_bytes(text.encode("cp1252"))
    assert decoded.encoding == "cp1252"
    assert decoded.text == text


def test_latin1_file_decodes_to_the_same_letters():
    text = "Le président a déclaré à Genève que la trêve était rompue. " * 5
    assert decode_bytes(text.encode("latin-1")).text == text


def test_cyrillic_single_byte():
    text = "Президент Армении заявил, что перемирие нарушено. " * 4
    assert decode_bytes(text.encode("cp1251")).text == text


def test_random_bytes_are_binary():
    with pytest.raises(DecodeError) as info:
        decode_bytes(os.urandom(4096))
    assert info.value.reason == "binary"


def test_png_header_is_binary():
    png = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8
    with pytest.raises(DecodeError) as info:
        decode_bytes(png)
    assert info.value.reason == "binary"


def test_bom_with_broken_body_is_undecodable():
    with pytest.raises(DecodeError) as info:
        decode_bytes(b"\xff\xfe\x00\xd8")  # UTF-16-LE BOM then a lone surrogate
    assert info.value.reason == "undecodable"


# --- legacy code pages: the candidate whose text reads right -------------------------

from decode_samples import BY_ENCODING, CHINESE, JAPANESE, LENGTHS, cut  # noqa: E402
from ketl.ingest.plausible import implausibility  # noqa: E402

MATRIX = [(enc, lang, size) for enc, langs in BY_ENCODING.items() for lang in langs for size in LENGTHS]


@pytest.mark.parametrize("encoding,lang,size", MATRIX, ids=[f"{e}-{lang}-{n}" for e, lang, n in MATRIX])
def test_legacy_encoding_matrix_decodes_to_the_original(encoding, lang, size):
    want, data = cut(BY_ENCODING[encoding][lang], encoding, size)
    assert size - 12 <= len(data) <= size  # the cell holds what it says
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # so the guess, not the UTF-8 path, decides
    assert decode_bytes(data).text == want


def test_the_issue_example_latin1_sentence():
    text = "Café owners in Gjøvik said the ceasefire held. Ok."
    data = text.encode("latin-1")
    assert len(data) == 50
    decoded = decode_bytes(data)
    assert decoded.text == text
    assert decoded.encoding == "cp1252"  # the same letters; the web's most common code page
    # what charset-normalizer made of it reads worse than the original
    assert implausibility(data.decode("cp775")) > implausibility(text)


@pytest.mark.parametrize("encoding,text", [
    ("cp1252", "El gobierno español aprobó el miércoles una reducción del IVA."),
    ("cp1252", "O governo português anunciou ontem a redução dos impostos."),
    ("cp1252", "Il governo ha approvato giovedì la riforma della giustizia."),
    ("cp1252", "Regeringen meddelade på måndag att skatten sänks nästa år."),
    ("cp1252", "He said “yes” – and left for Zürich."),
    ("cp1250", "Vláda ve středu schválila návrh rozpočtu, řekl ministr."),
    ("cp1250", "Rząd zapowiedział w środę, że ceny energii zostaną zamrożone."),
    ("cp1254", "Hükümet çarşamba günü yeni vergi düzenlemesini açıkladı."),
    ("cp1257", "Vyriausybė antradienį patvirtino naują biudžetą, sakė ministrė."),
    ("cp1253", "Η κυβέρνηση ανακοίνωσε την Τρίτη νέα μέτρα στήριξης."),
    ("iso8859_7", "Η κυβέρνηση ανακοίνωσε την Τρίτη νέα μέτρα στήριξης."),
    ("cp1251", "Влада Србије је у среду усвојила нови буџет, рекао је министар."),
    ("koi8_u", "Уряд у середу ухвалив рішення про підвищення пенсії."),
    ("cp866", "Президент заявил во вторник, что перемирие соблюдается."),
    ("cp1255", "הממשלה אישרה ביום שלישי את התקציב החדש."),
    ("cp1256", "أعلنت الحكومة يوم الثلاثاء عن ميزانية جديدة."),
    ("cp874", "รัฐบาลประกาศมาตรการใหม่เมื่อวันอังคาร"),
    ("big5", "行政院週二通過新年度總預算案，立法院將於下週審查。"),
    ("euc_jp", "政府は火曜日、来年度の予算案を閣議決定した。"),
    ("cp437", "Die Bürgermeisterin äußerte sich am Dienstag überraschend deutlich."),
    ("cp850", "Le président a déclaré mardi à Genève que la trêve était fragile."),
    ("cp1251", "Москва"),
    ("koi8_r", "Москва"),
    # Latin letters glued to CJK are ordinary there
    ("shift_jis", "日本のGDPは前年比２．１％増えた。ＡＩ関連の投資が拡大した。"),
    ("gb18030", "今年GDP增长5.2%，AI产业发展迅速。"),
    ("euc_kr", "올해 GDP는 2.1% 늘었고 AI를 활용한 서비스가 확대됐다."),
    ("cp1252", "Le nº 5 et la 2ª edición, l’État."),
    # a foreign name in a French sentence: cp1256 reads ø as an Arabic shadda on the j
    ("latin-1", "Les propriétaires de cafés à Gjøvik ont déclaré que le cessez-le-feu tenait toujours."),
    # one accented letter: the language of the ASCII words around it decides
    ("iso8859_2", "opublikowanego w czwartek większa"),
    ("mac_roman", "; über den Rest wird im Haushaltsausschuss"),
    ("mac_roman", "Wir können uns das nicht leisten"),
    ("cp850", "laget på at bussene går"),
    # a single word: the code page's own letters and no symbol runs (±±¾© is 北京 read as cp1252)
    ("cp850", "Zürich"), ("cp1250", "Łódź"), ("cp1253", "Ελλάδα"), ("gb18030", "北京"), ("shift_jis", "東京"),
    ("cp1252", "col·legi"), ("cp1252", "® and ™ and 20°C"),
    # EBCDIC: every usual code page reads it oddly, so charset-normalizer is asked
    ("cp037", "Le président a déclaré mardi à Genève que la trêve était fragile."),
])
def test_more_languages_and_code_pages(encoding, text):
    assert decode_bytes(text.encode(encoding)).text == text


def test_no_break_spaces_between_words_are_ordinary_text():
    # wt-ingest's benchmark line: English with no-break spaces, one latin-1 é (27 of 50 went to cp850)
    text = ("The talks were announced in a\u00a0joint statement by the State\u00a0Department and "
            "the two foreign ministers after a long night of negotiations in Geneva. " * 3 + "Café.")
    decoded = decode_bytes(text.encode("latin-1"))
    assert (decoded.text, decoded.encoding) == (text, "cp1252")


def test_a_long_document_is_judged_where_its_letters_are():
    # 3 KB of ASCII, then Russian: the sample starts at the first non-ASCII byte
    text = "Reuters report, ASCII only. " * 110 + BY_ENCODING["koi8-r"]["ru"]
    decoded = decode_bytes(text.encode("koi8-r", errors="replace"))
    assert decoded.encoding == "koi8_r"
    assert decoded.text.endswith(BY_ENCODING["koi8-r"]["ru"].replace("«", "?").replace("»", "?")
                                 .replace("—", "?"))


def test_a_multibyte_character_at_the_sample_edge_is_not_split():
    from ketl.ingest.guess import SAMPLE_BYTES
    taiwan = "行政院週二通過新年度總預算案，立法院將於下週審查。"
    # no space or newline: the sample ends wherever its size falls, inside a character or not
    for encoding, text in (("shift_jis", JAPANESE), ("euc_jp", JAPANESE), ("gb18030", CHINESE),
                           ("big5", taiwan)):
        for shift in range(3):
            long = text[shift:] * (2 * SAMPLE_BYTES // len(text.encode(encoding)) + 1)
            assert b" " not in long.encode(encoding)
            assert decode_bytes(long.encode(encoding)).text == long, (encoding, shift)


# --- Unicode encodings and ASCII decode as before -------------------------------------

@pytest.mark.parametrize("lang", ["fr", "ru", "ja", "zh", "ko"])
@pytest.mark.parametrize("encoding,expected", [
    ("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("utf-16", "utf-16-le"), ("utf-32", "utf-32-le"),
    # without a BOM (before, only mostly-Latin UTF-16 was recognised; the rest was rejected as binary)
    ("utf-16-le", "utf-16-le"), ("utf-16-be", "utf-16-be"), ("utf-32-le", "utf-32-le"), ("utf-32-be", "utf-32-be"),
])
def test_unicode_with_or_without_bom_in_many_scripts(lang, encoding, expected):
    text = {"fr": BY_ENCODING["cp1252"]["fr"], "ru": BY_ENCODING["cp1251"]["ru"],
            "ja": BY_ENCODING["shift_jis"]["ja"], "zh": BY_ENCODING["gb18030"]["zh"],
            "ko": BY_ENCODING["euc-kr"]["ko"]}[lang]
    decoded = decode_bytes(text.encode(encoding))
    assert (decoded.text, decoded.encoding) == (text, expected)


@pytest.mark.parametrize("encoding", ["utf-16-le", "utf-16-be"])
def test_utf16_without_bom(encoding):
    decoded = decode_bytes(SEED.encode(encoding))
    assert (decoded.text, decoded.encoding) == (SEED, encoding)


def test_pure_ascii_is_utf8():
    text = "Plain ASCII news text.\nSecond line, 100% ASCII: [a] {b} ~c~."
    assert decode_bytes(text.encode("ascii")) == Decoded(text, "utf-8")


def test_binary_data_is_still_rejected():
    import random
    import struct
    import zlib

    rng = random.Random(7)
    blobs = [rng.randbytes(n) for n in (300, 3000, 20000) for _ in range(20)]
    blobs += [zlib.compress(rng.randbytes(500) * 3) for _ in range(20)]
    blobs += [struct.pack("<200I", *(rng.randrange(70000) for _ in range(200))) for _ in range(20)]
    blobs += [struct.pack("<200H", *(rng.randrange(3000) for _ in range(200))) for _ in range(20)]
    blobs += [struct.pack("<100d", *(rng.random() for _ in range(100))) for _ in range(20)]
    for blob in blobs:
        with pytest.raises(DecodeError) as info:
            decode_bytes(blob)
        assert info.value.reason in ("binary", "undecodable")


@pytest.mark.parametrize("data,want", [
    # a stray latin-1 byte in a UTF-8 French text
    ("Le président a déclaré à Genève que la trêve était fragile. ".encode() + b"Caf\xe9 au lait.",
     "Le président a déclaré à Genève que la trêve était fragile. Caf\ufffd au lait."),
    # a Japanese character cut at the end of the file
    ("政府は火曜日、来年度の予算案を閣議決定した。".encode()[:-1], "政府は火曜日、来年度の予算案を閣議決定した\ufffd"),
    # a genuine U+FFFD in the file is not counted as an invalid byte
    ("Ру\ufffd\ufffdкий язык и ".encode() + b"\xff", "Ру\ufffd\ufffdкий язык и \ufffd"),
])
def test_mostly_utf8_keeps_the_text_and_marks_the_lost_bytes(data, want):
    decoded = decode_bytes(data)  # before: rejected whole as undecodable
    assert (decoded.text, decoded.encoding) == (want, "utf-8")


def test_legacy_text_is_not_taken_for_damaged_utf8():
    for text, encoding in (("Café crème à Genève, déjà vu.", "cp1252"), ("Президент заявил.", "cp1251"),
                           (BY_ENCODING["gb18030"]["zh"], "gb18030")):
        decoded = decode_bytes(text.encode(encoding))
        assert decoded.text == text and decoded.encoding != "utf-8"


# --- foreign names inside sentences: one odd letter must not tip the code page ---------

_FRAMES = {
    "en": "The mayor of {} said on Tuesday that the ceasefire held.",
    "fr": "Le maire de {} a déclaré mardi que la trêve tenait.",
    "de": "Der Bürgermeister von {} sagte am Dienstag, die Waffenruhe halte.",
    "es": "El alcalde de {} dijo el martes que la tregua se mantenía.",
    "it": "Il sindaco di {} ha detto martedì che la tregua regge.",
    "pl": "Burmistrz miasta {} powiedział we wtorek, że rozejm trwa.",
    "cs": "Starosta města {} v úterý řekl, že příměří platí.",
    "no": "Ordføreren i {} sa tirsdag at våpenhvilen holdt.",
    "ru": "Мэр города {} заявил во вторник, что перемирие соблюдается.",
}
_FRAME_ENCODINGS = {"en": ("cp1252", "latin-1", "cp1250", "iso8859_2"), "fr": ("cp1252", "latin-1"),
                    "de": ("cp1252", "cp1250"), "es": ("cp1252",), "it": ("cp1252",),
                    "pl": ("iso8859_2", "cp1250"), "cs": ("iso8859_2", "cp1250"), "no": ("cp1252",),
                    "ru": ("cp1251", "koi8_r")}
_NAMES = ("Gjøvik", "Malmö", "Ålesund", "Curaçao", "São Paulo", "Besançon", "Straße", "Ærø", "Ísafjörður",
          "Zürich", "Škoda", "Dvořák", "Łódź", "Kraków", "Çanakkale", "Peñíscola", "Užhorod", "Москва")
# Truly ambiguous without knowing the name: ž (iso-8859-2 0xBE) is Slovak ľ in
# cp1250, and ř (cp1250 0xF8) is Norwegian ø in cp1252.
_AMBIGUOUS = {("en", "Užhorod", "iso8859_2"), ("pl", "Užhorod", "iso8859_2"), ("de", "Dvořák", "cp1250")}


def test_foreign_names_in_sentences_of_many_languages():
    failures, checked = [], 0
    for lang, frame in _FRAMES.items():
        for name in _NAMES:
            text = frame.format(name)
            for encoding in _FRAME_ENCODINGS[lang]:
                try:
                    data = text.encode(encoding)
                except UnicodeEncodeError:
                    continue  # the code page cannot write the name
                checked += 1
                if decode_bytes(data).text != text:
                    failures.append((lang, name, encoding))
    assert checked > 180
    assert set(failures) <= _AMBIGUOUS, failures


def test_real_page_text_in_cp1252_and_latin1():
    """The AEB pages (real web text: no-break spaces, dashes glued to words, ®, ™,
    curly quotes) saved in cp1252 and latin-1, cut anywhere to 50, 200, 2,000 bytes."""
    from conftest import SHARED
    from decode_samples import aeb_chunks

    checked, wrong = 0, []
    for encoding, size, chunk in aeb_chunks(SHARED / "bench" / "aeb"):
        checked += 1
        if decode_bytes(chunk).text != chunk.decode(encoding):
            wrong.append((encoding, size, chunk[:60]))
    assert checked > 600
    assert wrong == []
