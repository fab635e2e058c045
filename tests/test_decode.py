import os

import pytest

from ketl.decode import DecodeError, decode_bytes
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
