"""Legacy Vietnamese encodings: tables pinned to the published code charts, round trips, and detection.

No database: layers.loading.encodings is plain Python.
"""
import unicodedata

import pytest

from layers.loading.encodings import LEGACY_ENCODINGS, UnknownEncoding, decode, detect, encode_for_tests

NAMES = [
    "Quận Ninh Kiều",
    "Quận Bình Thủy",
    "Quận Cái Răng",
    "Quận Ô Môn",
    "Quận Thốt Nốt",
    "Huyện Phong Điền",
    "Huyện Cờ Đỏ",
    "Huyện Thới Lai",
    "Huyện Vĩnh Thạnh",
    "Đường Nguyễn Văn Cừ",
    "Phường Hưng Lợi",
    "Sở Tài nguyên và Môi trường",
    "ĐẤT Ở TẠI ĐÔ THỊ",
    "Trường Đại học Cần Thơ",
]


def nfd(text: str) -> str:
    return unicodedata.normalize("NFD", text)


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
@pytest.mark.parametrize("name", NAMES)
def test_round_trip(name, encoding):
    raw = encode_for_tests(name, encoding)
    assert decode(raw, encoding) == unicodedata.normalize("NFC", name)
    # decomposed input encodes the same way, and the result is always NFC
    assert encode_for_tests(nfd(name), encoding) == raw
    assert unicodedata.is_normalized("NFC", decode(raw, encoding))


@pytest.mark.parametrize("encoding", ["tcvn3", "vni", "cp1258"])
def test_legacy_bytes_are_not_utf8_nor_ascii(encoding):
    raw = encode_for_tests("Cần Thơ", encoding)
    assert not raw.isascii()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")


# Byte sequences read off the references named in layers/loading/encodings.py (UniKey's TCVN3 and VNI-WIN
# tables, VBKey, the vietnamese-conversion README, the VNI/TCVN3/Unicode comparison chart).
KNOWN = [
    # TCVN3: ầ C7, ơ AC (Cần Thơ), ư AD ờ EA, Đ A7 ạ B9 ọ E4, ả B6 ắ BE, á B8
    ("tcvn3", b"C\xc7n Th\xac", "Cần Thơ"),
    ("tcvn3", b"Tr\xad\xeang \xa7\xb9i h\xe4c", "Trường Đại học"),
    ("tcvn3", b"B\xb6o Th\xbeng", "Bảo Thắng"),
    ("tcvn3", b"B\xb8t X\xb8t", "Bát Xát"),
    ("tcvn3", b"M\xad\xeang Kh\xad\xacng", "Mường Khương"),
    ("tcvn3", b"\xa1 \xa2 \xa3 \xa4 \xa5 \xa6 \xa7", "Ă Â Ê Ô Ơ Ư Đ"),
    ("tcvn3", b"\xa8 \xa9 \xaa \xab \xac \xad \xae", "ă â ê ô ơ ư đ"),
    ("tcvn3", b"\xb5\xb6\xb7\xb8\xb9", "àảãáạ"),
    ("tcvn3", b"\xfa\xfb\xfc\xfd\xfe", "ỳỷỹýỵ"),
    # TCVN3 capitals: the toned ones share the lower-case code (ấ CA, ạ B9, ị DE, ở EB)
    ("tcvn3", b"\xa7\xcaT \xeb T\xb9I \xa7\xa4 TH\xde", "ĐẤT Ở TẠI ĐÔ THỊ"),
    # VNI: base letter + modifier; ơ F4, ư F6, đ F1 single bytes; capitals use the capital modifiers
    ("vni", b"Ca\xe0n Th\xf4", "Cần Thơ"),
    ("vni", b"Xin cha\xf8o ca\xf9c ba\xefn", "Xin chào các bạn"),
    ("vni", b"Tr\xf6\xf4\xf8ng \xd1a\xefi ho\xefc", "Trường Đại học"),
    ("vni", b"Huye\xe4n C\xf4\xf8 \xd1o\xfb", "Huyện Cờ Đỏ"),
    ("vni", b"V\xf3nh Tha\xefnh", "Vĩnh Thạnh"),
    ("vni", b"\xd1A\xc1T \xd4\xdb TA\xcfI \xd1O\xc2 TH\xd2", "ĐẤT Ở TẠI ĐÔ THỊ"),
    ("vni", b"a\xea a\xe9 a\xe8 a\xfa a\xfc a\xeb", "ă ắ ằ ẳ ẵ ặ"),
    ("vni", b"\xec \xed \xe6 \xf3 \xf2 \xee", "ì í ỉ ĩ ị ỵ"),
    ("vni", b"y\xf8 y\xf9 y\xfb y\xf5", "ỳ ý ỷ ỹ"),
    # Windows-1258: â E2, ơ F5, đ F0, Đ D0, ư FD; tones as combining bytes (grave CC, acute EC, hook D2,
    # tilde DE, dot F2), à á precomposed
    ("cp1258", b"C\xe2\xccn Th\xf5", "Cần Thơ"),
    ("cp1258", b"Tr\xfd\xf5\xccng \xd0a\xf2i ho\xf2c", "Trường Đại học"),
    ("cp1258", b"Huy\xea\xf2n C\xf5\xcc \xd0o\xd2", "Huyện Cờ Đỏ"),
    ("cp1258", b"Nguy\xea\xden", "Nguyễn"),
]


@pytest.mark.parametrize("encoding,raw,text", KNOWN)
def test_known_bytes(encoding, raw, text):
    assert decode(raw, encoding) == text
    assert encode_for_tests(text, encoding) == raw


def test_tcvn3_toned_capital_in_mixed_case_reads_back_lower_case():
    """TCVN3 has no code for "Ấ": only the .VnTimeH font showed it, so in a mixed-case value it is "ấ"."""
    raw = encode_for_tests("Ấp Tân Lợi", "tcvn3")
    assert raw == b"\xcap T\xa9n L\xeei"
    assert decode(raw, "tcvn3") == "ấp Tân Lợi"
    # a capital initial alone does not make an all-capitals word
    assert decode(encode_for_tests("Tố Hữu", "tcvn3"), "tcvn3") == "Tố Hữu"


def test_vni_modifier_without_a_base_is_not_invented_into_a_letter():
    # 0xF9 (acute) after "d" cannot make a Vietnamese letter: shown as the ANSI character the font has there
    assert decode(b"d\xf9", "vni") == "dù"


def test_cp1258_keeps_the_last_letter():
    """GDAL's CP1258 recoding (iconv) trims the last letter of each value (OSGeo/gdal#2045, seen in 3.6); we must not."""
    assert decode(b"Th\xf5", "cp1258") == "Thơ"
    assert decode(b"C\xe2\xccn Th\xf5", "cp1258") == "Cần Thơ"
    assert decode(b"Qu\xe2\xf2n \xd4 M\xf4n", "cp1258") == "Quận Ô Môn"
    assert decode(b"Ninh Ki\xea\xccu", "cp1258") == "Ninh Kiều"
    assert decode(b"a", "cp1258") == "a"


def test_cp1258_output_is_nfc():
    text = decode(b"C\xe2\xccn", "cp1258")
    assert text == "Cần" and len(text) == 3


def test_utf8_decode_normalises_to_nfc():
    assert decode(nfd("Cần Thơ").encode("utf-8"), "utf-8") == "Cần Thơ"


def test_strict_codecs_raise_on_bytes_they_do_not_define():
    with pytest.raises(UnicodeDecodeError):
        decode(b"C\xc7n", "utf-8")
    with pytest.raises(UnicodeDecodeError):
        decode(b"\x81", "cp1258")


@pytest.mark.parametrize("encoding", LEGACY_ENCODINGS)
def test_detect_picks_the_encoding_of_a_column(encoding):
    column = [encode_for_tests(name, encoding) for name in NAMES]
    assert detect(column) == encoding


@pytest.mark.parametrize("encoding", ["cp1258", "tcvn3", "vni"])
@pytest.mark.parametrize("name", [n for n in NAMES if not n.isascii()])
def test_detect_on_a_single_value(encoding, name):
    assert detect([encode_for_tests(name, encoding)]) == encoding


@pytest.mark.parametrize("encoding", ["cp1258", "tcvn3", "vni"])
def test_detect_ignores_ascii_and_empty_values_in_the_column(encoding):
    column = [b"", b"UBND", b"123", encode_for_tests("Phường Hưng Lợi", encoding), b"KDC 91B"]
    assert detect(column) == encoding


def test_detect_defaults_to_utf8():
    assert detect([]) == "utf-8"
    assert detect([b"", b""]) == "utf-8"
    assert detect([b"Ninh Kieu", b"Cai Rang"]) == "utf-8"
    assert detect(["Cần Thơ".encode("utf-8"), nfd("Cờ Đỏ").encode("utf-8")]) == "utf-8"


def test_detect_is_deterministic():
    column = [encode_for_tests(name, "vni") for name in NAMES]
    assert {detect(column) for _ in range(5)} == {"vni"}
    assert detect(list(reversed(column))) == "vni"


@pytest.mark.parametrize("call", [lambda: decode(b"x", "latin-1"), lambda: encode_for_tests("x", "viscii")])
def test_unknown_encoding(call):
    with pytest.raises(UnknownEncoding) as caught:
        call()
    message = str(caught.value)
    assert all(name in message for name in LEGACY_ENCODINGS)
    assert isinstance(caught.value, ValueError)


def test_unknown_encoding_message():
    assert str(UnknownEncoding("viscii")) == "unknown encoding 'viscii': supported are utf-8, cp1258, tcvn3, vni"


def test_encoding_names_are_case_insensitive():
    assert decode(b"C\xc7n Th\xac", "TCVN3") == "Cần Thơ"


def test_unencodable_character_raises():
    with pytest.raises(UnicodeEncodeError):
        encode_for_tests("Cần Thơ 中", "vni")
    with pytest.raises(UnicodeEncodeError):
        encode_for_tests("中", "tcvn3")
