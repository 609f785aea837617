"""Legacy Vietnamese text encodings (TCVN3, VNI, Windows-1258) decoded to NFC Unicode, and guessed per column.

Old Cần Thơ shapefiles carry .dbf text typed with .VnTime (TCVN3), VNI-Times (VNI) or Windows-1258 fonts.
GDAL cannot decode the first two and mishandles the third, so the loader reads such bytes raw and decodes
them here. The SDI stores NFC only, so that equality filters match whatever form the source used.

The byte tables below are written out from the Vietnamese code charts, then checked letter by letter (the
134 letters with diacritics, both directions) against these references, which agree with each other:
  - UniKey's VnConv charset tables (Pham Kim Long; the copy shipped with fcitx5-unikey), TCVN3 and VNI-WIN;
  - VBKey's code tables (TCVN3_TABLE, VNI_WINDOWS_TABLE);
  - the "vietnamese-conversion" npm package (duydev) and the comparison chart "Bảng đối chiếu encoding các
    bộ chữ hiện hành với Unicode" (VPS / VISCII / VNI / TCVN3 / Unicode);
  - Wikipedia "VSCII" for the TCVN 5712:1993 VN3 repertoire (67 lower-case letters, 7 capitals, NBSP).
Where they differ: vietnamese-conversion writes TCVN3 toned capitals as a capital base letter followed by
the toned lower-case byte ("A¸" for "Á"), which no .Vn font displays as one letter; UniKey and VBKey give
the shared lower-case code, as here. Its newest release also gives VNI "ỷ"/"ỹ" the single bytes 0xEB/0xEC,
already the "ặ" modifier and "ì"; UniKey, VBKey and its own earlier release give "yû"/"yõ", as here.
"""
import re
import unicodedata

LEGACY_ENCODINGS = ("utf-8", "cp1258", "tcvn3", "vni")


class UnknownEncoding(ValueError):
    """An encoding name this module does not handle; the message lists the ones it does."""

    def __init__(self, name: str):
        super().__init__(f"unknown encoding {name!r}: supported are {', '.join(LEGACY_ENCODINGS)}")


# --- the Vietnamese alphabet ---------------------------------------------------------------------------

# Tone marks, in table order: grave (huyền), hook (hỏi), tilde (ngã), acute (sắc), dot (nặng).
GRAVE, HOOK, TILDE, ACUTE, DOT = "\u0300", "\u0309", "\u0303", "\u0301", "\u0323"
TONES = (GRAVE, HOOK, TILDE, ACUTE, DOT)
CIRCUMFLEX, BREVE = "\u0302", "\u0306"
BASE_VOWELS = "aăâeêioôơuưy"


def _tone(vowel: str, tone: str) -> str:
    return unicodedata.normalize("NFC", vowel + tone)


def _letters() -> frozenset[str]:
    lower = {"đ"} | set(BASE_VOWELS) | {_tone(v, t) for v in BASE_VOWELS for t in TONES}
    return frozenset(lower | {c.upper() for c in lower})


VIETNAMESE_LETTERS = _letters()  # 134 letters with diacritics, plus the 12 plain ASCII vowels


# --- TCVN3 (TCVN 5712:1993 VN3, "ABC", .VnTime fonts) -------------------------------------------------------
#
# Single byte, ASCII unchanged. VN3 has every lower-case letter but only seven capitals (Ă Â Ê Ô Ơ Ư Đ at
# 0xA1-0xA7); a toned capital is typed with the lower-case code and shown as a capital by switching to an
# all-capitals font (.VnTimeH). So the bytes of a toned vowel mean the lower-case letter (what .VnTime
# shows), and only the context can say it was meant as a capital: see _tcvn3_case.

_TCVN3_TONED = {  # vowel -> its five toned codes, in TONES order (grave, hook, tilde, acute, dot)
    "a": (0xB5, 0xB6, 0xB7, 0xB8, 0xB9),
    "ă": (0xBB, 0xBC, 0xBD, 0xBE, 0xC6),
    "â": (0xC7, 0xC8, 0xC9, 0xCA, 0xCB),
    "e": (0xCC, 0xCE, 0xCF, 0xD0, 0xD1),
    "ê": (0xD2, 0xD3, 0xD4, 0xD5, 0xD6),
    "i": (0xD7, 0xD8, 0xDC, 0xDD, 0xDE),
    "o": (0xDF, 0xE1, 0xE2, 0xE3, 0xE4),
    "ô": (0xE5, 0xE6, 0xE7, 0xE8, 0xE9),
    "ơ": (0xEA, 0xEB, 0xEC, 0xED, 0xEE),
    "u": (0xEF, 0xF1, 0xF2, 0xF3, 0xF4),
    "ư": (0xF5, 0xF6, 0xF7, 0xF8, 0xF9),
    "y": (0xFA, 0xFB, 0xFC, 0xFD, 0xFE),
}
_TCVN3_PLAIN = dict(zip(range(0xA0, 0xAF), "\u00a0ĂÂÊÔƠƯĐăâêôơưđ"))  # NBSP, 7 capitals, 7 lower case


def _tcvn3_tables() -> tuple[dict[int, str], dict[str, int], frozenset[int]]:
    decode_map = dict(_TCVN3_PLAIN)
    for vowel, codes in _TCVN3_TONED.items():
        for tone, code in zip(TONES, codes):
            decode_map[code] = _tone(vowel, tone)
    shared = frozenset(code for codes in _TCVN3_TONED.values() for code in codes)
    encode_map = {char: code for code, char in decode_map.items()}
    encode_map.update({decode_map[code].upper(): code for code in shared})  # toned capitals share the code
    return decode_map, encode_map, shared


TCVN3_DECODE, TCVN3_ENCODE, TCVN3_SHARED_CASE = _tcvn3_tables()


# --- VNI Windows (VNI-Times fonts) ---------------------------------------------------------------------------
#
# A base letter followed by a modifier byte that the font draws over it: one byte for a tone, a circumflex
# or a breve, or a circumflex/breve with a tone. ơ ư đ and the toned i and ỵ are single bytes. Capitals
# take the capital form of each byte, 0x20 below the lower-case one (e.g. 0xF9 'ù' is the acute over a
# lower-case vowel, 0xD9 'Ù' over a capital).

_VNI_MODIFIERS_LOWER = {
    0xF8: GRAVE, 0xFB: HOOK, 0xF5: TILDE, 0xF9: ACUTE, 0xEF: DOT,
    0xE2: CIRCUMFLEX, 0xE0: CIRCUMFLEX + GRAVE, 0xE5: CIRCUMFLEX + HOOK, 0xE3: CIRCUMFLEX + TILDE,
    0xE1: CIRCUMFLEX + ACUTE, 0xE4: CIRCUMFLEX + DOT,
    0xEA: BREVE, 0xE8: BREVE + GRAVE, 0xFA: BREVE + HOOK, 0xFC: BREVE + TILDE,
    0xE9: BREVE + ACUTE, 0xEB: BREVE + DOT,
}
_VNI_LETTERS_LOWER = {
    0xF4: "ơ", 0xF6: "ư", 0xF1: "đ",
    0xEC: "ì", 0xE6: "ỉ", 0xF3: "ĩ", 0xED: "í", 0xF2: "ị",
    0xEE: "ỵ",
}
VNI_MODIFIERS = {**_VNI_MODIFIERS_LOWER, **{code - 0x20: marks for code, marks in _VNI_MODIFIERS_LOWER.items()}}
VNI_LETTERS = {**_VNI_LETTERS_LOWER, **{code - 0x20: char.upper() for code, char in _VNI_LETTERS_LOWER.items()}}
VNI_LETTERS_BY_CHAR = {char: code for code, char in VNI_LETTERS.items()}


def _vni_encode_table() -> dict[str, bytes]:
    table = {char: bytes([code]) for code, char in VNI_LETTERS.items()}
    lower_modifier = {marks: code for code, marks in _VNI_MODIFIERS_LOWER.items()}
    for vowel in BASE_VOWELS:
        for tone in ("",) + TONES:
            letter = _tone(vowel, tone)
            if letter in table or len(letter) != 1:
                continue
            if vowel in "ơư":  # single-byte base, then the tone byte
                base, marks = VNI_LETTERS_BY_CHAR[vowel], tone
            else:
                decomposed = unicodedata.normalize("NFD", vowel)
                base, marks = ord(decomposed[0]), decomposed[1:] + tone
            if not marks:
                continue
            code = lower_modifier[marks]
            table[letter] = bytes([base, code])
            table[letter.upper()] = bytes([ord(chr(base).upper()) if base < 0x80 else base - 0x20, code - 0x20])
    return table


VNI_ENCODE = _vni_encode_table()


# --- decoding -------------------------------------------------------------------------------------------------


def _fallback_char(byte: int) -> str:
    """A byte no table assigns: .Vn and VNI fonts are ANSI fonts, so show what Windows-1252 (else Latin-1) shows."""
    try:
        return bytes([byte]).decode("cp1252")
    except UnicodeDecodeError:
        return chr(byte)


def _canonical(encoding: str) -> str:
    name = encoding.strip().lower() if isinstance(encoding, str) else encoding
    if name not in LEGACY_ENCODINGS:
        raise UnknownEncoding(encoding)
    return name


def decode(raw: bytes, encoding: str) -> str:
    """Decode bytes in one of LEGACY_ENCODINGS to NFC text.

    UTF-8 and Windows-1258 are strict (a byte they do not define raises UnicodeDecodeError, so a wrong guess
    is caught rather than stored); TCVN3 and VNI assign every byte (unassigned ones as in Windows-1252).
    Windows-1258 is decoded one byte at a time and normalised afterwards, so a final letter is kept even
    when a tone mark could still have followed it (GDAL 3.6's recoder drops it).
    """
    name = _canonical(encoding)
    raw = bytes(raw)
    if name == "utf-8":
        text = raw.decode("utf-8")
    elif name == "cp1258":
        text = raw.decode("cp1258")
    elif name == "tcvn3":
        text = _decode_tcvn3(raw)
    else:
        text = _decode_vni(raw)
    return unicodedata.normalize("NFC", text)


def _decode_tcvn3(raw: bytes) -> str:
    chars = [TCVN3_DECODE.get(b) or (chr(b) if b < 0x80 else _fallback_char(b)) for b in raw]
    return _tcvn3_case(chars, [b in TCVN3_SHARED_CASE for b in raw])


def _tcvn3_case(chars: list[str], shared: list[bool]) -> str:
    """Give toned vowels (lower-case codes shared with the capitals) the case of the word they are in.

    A word whose other letters are all capitals, at least two of them, was typed in capitals ("§ÊT" is
    "ĐẤT"); a word with fewer clues ("Ở", "TỐ") follows the whole value when that has at least two letters
    and all are capitals. Anything else stays lower case, as .VnTime shows it ("Ấp" reads back as "ấp").
    """
    def is_clue(i: int) -> bool:
        return not shared[i] and chars[i].isalpha() and chars[i].lower() != chars[i].upper()

    clues = [chars[i] for i in range(len(chars)) if is_clue(i)]
    value_in_capitals = len(clues) >= 2 and all(c.isupper() for c in clues)
    out = list(chars)
    i = 0
    while i < len(chars):
        if not chars[i].isalpha():
            i += 1
            continue
        j = i
        while j < len(chars) and chars[j].isalpha():
            j += 1
        if any(shared[i:j]):
            word_clues = [chars[k] for k in range(i, j) if is_clue(k)]
            if len(word_clues) >= 2:
                capitals = all(c.isupper() for c in word_clues)
            else:
                capitals = value_in_capitals and all(c.isupper() for c in word_clues)
            if capitals:
                for k in range(i, j):
                    if shared[k]:
                        out[k] = chars[k].upper()
        i = j
    return "".join(out)


def _decode_vni(raw: bytes) -> str:
    out: list[str] = []
    for b in raw:
        if b < 0x80:
            out.append(chr(b))
        elif b in VNI_LETTERS:
            out.append(VNI_LETTERS[b])
        elif b in VNI_MODIFIERS and out and _vni_combines(out[-1], VNI_MODIFIERS[b]):
            out[-1] = unicodedata.normalize("NFC", out[-1] + VNI_MODIFIERS[b])
        else:  # a modifier with nothing to sit on, or a byte VNI does not use
            out.append(_fallback_char(b))
    return "".join(out)


def _vni_combines(letter: str, marks: str) -> bool:
    """A modifier applies to the letter before it only if that yields one Vietnamese letter with at most one tone."""
    if letter not in VIETNAMESE_LETTERS or any(t in unicodedata.normalize("NFD", letter) for t in TONES):
        return False
    combined = unicodedata.normalize("NFC", letter + marks)
    return len(combined) == 1 and combined in VIETNAMESE_LETTERS


# --- encoding (legacy files for tests and the sample data) -----------------------------------------------------


def encode(text: str, encoding: str) -> bytes:
    """Encode text as a legacy program would have stored it (test fixtures, layers.samples' TCVN3 Shapefile).

    The inverse of decode for Vietnamese text, with TCVN3's one loss: a toned capital has no code of its own,
    so it only reads back as a capital inside an all-capitals word or value (see _tcvn3_case).
    Characters the encoding cannot hold raise UnicodeEncodeError.
    """
    name = _canonical(encoding)
    text = unicodedata.normalize("NFC", text)
    if name == "utf-8":
        return text.encode("utf-8")
    if name == "cp1258":
        return b"".join(_encode_cp1258_char(c) for c in text)
    table = TCVN3_ENCODE if name == "tcvn3" else VNI_ENCODE
    out = bytearray()
    for i, char in enumerate(text):
        if char < "\x80":
            out += char.encode("ascii")
        elif char in table:
            code = table[char]
            out += bytes([code]) if isinstance(code, int) else code
        else:
            raise UnicodeEncodeError(name, text, i, i + 1, "no such character in " + name)
    return bytes(out)


def _encode_cp1258_char(char: str) -> bytes:
    """Precomposed where Windows-1258 has the letter (à, â, ơ, …), else the untoned letter + a combining tone."""
    try:
        return char.encode("cp1258")
    except UnicodeEncodeError:
        decomposed = unicodedata.normalize("NFD", char)
        tones = "".join(c for c in decomposed if c in TONES)
        base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
        return base.encode("cp1258") + tones.encode("cp1258")


encode_for_tests = encode  # the name the loader's tests import


# --- detection -------------------------------------------------------------------------------------------------

_INITIALS = "ngh|ng|gh|gi|kh|nh|ph|th|tr|ch|qu|b|c|d|đ|g|h|k|l|m|n|p|r|s|t|v|x"
_OPEN_NUCLEI = ("iêu|yêu|oai|oao|oay|oeo|uây|uôi|ươi|ươu|uya|uyu|"
                "ai|ao|au|ay|âu|ây|eo|êu|ia|iu|oi|ôi|ơi|ua|ui|ưa|ưi|ưu")  # end in a glide: no final consonant
_CLOSED_NUCLEI = "uyê|iê|yê|uô|ươ|oă|uâ|ă|â"  # need a final consonant
_FREE_NUCLEI = "oa|oe|uê|uơ|uy|a|e|ê|i|o|ô|ơ|u|ư|y"
_FINALS = "ch|ng|nh|c|m|n|p|t"
_SYLLABLE = re.compile(rf"(?:{_INITIALS})?(?:{_OPEN_NUCLEI}|(?:{_CLOSED_NUCLEI})(?:{_FINALS})|oo(?:ng|c)"
                       rf"|(?:{_FREE_NUCLEI})(?:{_FINALS})?)")
_WORD = re.compile(r"[^\W\d_]+")
_DETECT_ORDER = ("vni", "tcvn3", "cp1258")  # ties go to the first: VNI was the usual one in the south


def _plausible_syllable(word: str) -> bool:
    """Spelled like one Vietnamese syllable: sane case, at most one tone, initial + vowel nucleus + final."""
    if not (word.islower() or word.isupper() or (word[0].isupper() and word[1:].islower())):
        return False
    if any(c not in VIETNAMESE_LETTERS and not c.isascii() for c in word):
        return False
    decomposed = unicodedata.normalize("NFD", word.lower())
    if sum(c in TONES for c in decomposed) > 1:
        return False
    base = unicodedata.normalize("NFC", "".join(c for c in decomposed if c not in TONES))
    return _SYLLABLE.fullmatch(base) is not None


def _score(texts: list[str]) -> tuple[float, int]:
    good = bad = 0
    for text in texts:
        for word in _WORD.findall(text):
            if word.isascii():
                continue
            if _plausible_syllable(word):
                good += 1
            else:
                bad += 1
        bad += sum(1 for c in _WORD.sub("", text) if not c.isascii() and not c.isspace())
    return (good - bad) / max(1, good + bad), good


def detect(samples: list[bytes]) -> str:
    """Guess a column's encoding from its raw values.

    "utf-8" when there is nothing to go on (no samples, all ASCII) or every sample is valid UTF-8: legacy
    bytes are almost never valid UTF-8. Otherwise each legacy encoding decodes the samples and is scored
    by how Vietnamese the result looks:
      - every word holding a non-ASCII character counts good if it is a plausible Vietnamese syllable
        (only Vietnamese letters, one case pattern, at most one tone mark, an optional initial consonant,
        a vowel nucleus, and a final consonant only where the nucleus takes one), bad otherwise (foreign
        letters such as Ç or ð, two tones, vowel runs such as "aà" or "quaọn");
      - every non-ASCII, non-space character outside words counts bad (symbols such as ¬ or ¸, stray
        combining marks, control characters, U+FFFD for a byte Windows-1258 does not define).
    The score is (good - bad) / (good + bad); the best score wins, then the most good words, then the
    order vni, tcvn3, cp1258: VNI was the common legacy encoding in southern Vietnam, TCVN3 in the north,
    and a lone short value can be ambiguous (bytes "Ho" + 0xE0 are "Hồ" in VNI and "Hoà" in cp1258).
    Deterministic: every sample is used, and their order does not matter.
    """
    values = [bytes(s) for s in samples if s]
    if not values or all(v.isascii() for v in values):
        return "utf-8"
    try:
        for v in values:
            v.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError:
        pass
    best, best_key = _DETECT_ORDER[0], None
    for name in _DETECT_ORDER:
        if name == "cp1258":
            texts = [unicodedata.normalize("NFC", v.decode("cp1258", errors="replace")) for v in values]
        else:
            texts = [decode(v, name) for v in values]
        key = _score(texts)
        if best_key is None or key > best_key:
            best, best_key = name, key
    return best
