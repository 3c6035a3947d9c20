"""Person names: normalisation, toneless pinyin keys, character confusion sets, masking.

A name alone never proves identity (many people are called 张伟); these functions only make
the same name written differently compare equal, and say how two characters may be confused.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from collections.abc import Sequence
from functools import cache
from typing import Any

import pandas as pd
import pyarrow as pa

from pipelines.ingest.distinct import Distinct, as_objects
from pipelines.resources import resource_dir

logger = logging.getLogger(__name__)

_DATA = resource_dir("data")
DOT = "·"  # U+00B7, the standard separator in transliterated (minority, foreign) names

# After NFKC: middle-dot look-alikes (． U+FF0E becomes '.', ･ U+FF65 becomes ・ U+30FB).
_DOTS = re.compile("[.\u00b7\u2022\u2027\u2219\u22c5\u30fb\u2e31\u318d\u16eb\u2024]+")
# Characters that are not whitespace for str.split but still invisible.
_INVISIBLE = str.maketrans("", "", "\u200b\u200c\u200d\u2060\ufeff\u00ad")
# Placeholders written where the name is unknown; they must not agree with each other.
_PLACEHOLDERS = frozenset({"无", "NULL", "NONE", "NAN", "N/A", "NA", "<NA>", "-", "--", "—", "/",
                           "\\", "?", "？", "不详", "暂无", "未知", "空"})
# Valid simplified characters that OpenCC t2s rewrites out of context (张乾 -> 张干, 於 -> 于).
_T2S_KEEP = frozenset("乾於")

# Surname readings that differ from the character's most common reading (first character only).
_SURNAME_PINYIN = {
    "单": "shan", "曾": "zeng", "解": "xie", "区": "ou", "仇": "qiu", "朴": "piao", "查": "zha",
    "盖": "ge", "乐": "yue", "覃": "qin", "缪": "miao", "翟": "zhai", "秘": "bi", "召": "shao",
    "繁": "po", "折": "she", "员": "yun", "种": "chong", "黑": "he", "句": "gou", "隗": "wei",
    "阚": "kan", "藏": "zang", "蕃": "pi", "长": "chang", "尉": "wei", "卜": "bu",
}
# Compound surnames whose reading differs character by character (used for names of 3+).
_COMPOUND_PINYIN = {
    "尉迟": "yu chi", "万俟": "mo qi", "单于": "chan yu", "长孙": "zhang sun", "澹台": "tan tai",
    "乐正": "yue zheng",
}


@cache
def _converter() -> Any:
    import opencc

    return opencc.OpenCC("t2s")


def script_variants(a: str, b: str) -> bool:
    """Whether two names differ only where one writes a character's traditional form.

    Normalisation keeps a few characters that are also surnames of their own (於, 乾); a name
    written 於志 may still be 于志 in traditional script, so matching asks this separately.
    """
    if len(a) != len(b) or a == b:
        return False
    raw = _converter().convert("\n".join(p for x, y in zip(a, b, strict=True) if x != y
                                          for p in (x, y))).split("\n")
    pairs = list(zip(raw[0::2], raw[1::2], strict=True))
    return bool(pairs) and all(x == y for x, y in pairs)


def _t2s(texts: list[str]) -> list[str]:
    """Convert traditional to simplified, one call for many short texts (joined by newlines)."""
    if not texts:
        return []
    converted = _converter().convert("\n".join(texts)).split("\n")
    if len(converted) != len(texts):  # never seen; be safe rather than misalign
        converted = [_converter().convert(t) for t in texts]
    out = []
    for before, after in zip(texts, converted, strict=True):
        if len(before) == len(after) and not _T2S_KEEP.isdisjoint(before):
            after = "".join(b if b in _T2S_KEEP else a for b, a in zip(before, after, strict=True))
        out.append(after)
    return out


def _prepare(raw: object) -> str | None:
    """Everything of `normalise_name` except the traditional->simplified conversion."""
    if raw is None or (isinstance(raw, float) and raw != raw):
        return None
    text = "".join(unicodedata.normalize("NFKC", str(raw)).translate(_INVISIBLE).split())
    text = _DOTS.sub(DOT, text).strip(DOT).upper()
    if not text or text in _PLACEHOLDERS:
        return None
    return text


def normalise_name(raw: str | None) -> str | None:
    """Normalise a written name so that forms of the same name compare equal.

    NFKC, no whitespace at all, every middle-dot variant (· • ． ・ ･ ‧ ∙ ⋅ and '.') as one '·'
    (repeats collapsed, none at the ends), traditional -> simplified (OpenCC t2s, keeping 乾 and
    於, which are also simplified name characters), Latin letters upper-case. Empty or a
    placeholder for "unknown" (无, 不详, NULL, nan, / ...) gives None.
    """
    text = _prepare(raw)
    return None if text is None else _t2s([text])[0]


class _PinyinTable(dict[int, str]):
    """Code point -> 'syllable ' (toneless, pypinyin's most common reading), filled on demand."""

    def __missing__(self, key: int) -> str:
        from pypinyin import Style, lazy_pinyin

        char = chr(key)
        if char == DOT:
            value = ""
        else:
            syllables = lazy_pinyin(char, style=Style.NORMAL)
            value = (syllables[0] if len(syllables) == 1 and syllables[0] else char) + " "
        self[key] = value
        return value


_PINYIN = _PinyinTable()


def pinyin_key(name: str) -> str:
    """Toneless pinyin of a normalised name, one syllable per character, space separated.

    The middle dot is dropped; a character pypinyin does not know is kept as it is. Characters
    read by their most common reading, except a first character (or 3+-character name's compound
    surname) with a distinct surname reading: 单 shan, 曾 zeng, 解 xie, 区 ou, 仇 qiu, 朴 piao,
    查 zha, 盖 ge, 乐 yue, 尉 wei (尉迟 yu chi) ... pypinyin 0.55 has no surname mode.
    """
    if not name:
        return ""
    head = name[:2]
    if len(name) > 2 and head in _COMPOUND_PINYIN:
        return (_COMPOUND_PINYIN[head] + " " + name[2:].translate(_PINYIN)).rstrip()
    first = _SURNAME_PINYIN.get(name[0])
    if first is not None:
        return (first + " " + name[1:].translate(_PINYIN)).rstrip()
    return name.translate(_PINYIN).rstrip()


#: Names already in normal form but for the traditional->simplified step: CJK unified
#: ideographs only (no NFKC change, no space, dot or letter); 99 in 100 names of a roll
_HAN_ONLY = re.compile("[\u4e00-\u9fff]+")


#: name -> (normalised, pinyin), kept between the batches of a file (ingest types a large
#: file a batch at a time, and a name recurs across them); emptied when it reaches the bound
_SEEN: dict[object, tuple[str | None, str | None]] = {}
SEEN_BOUND = 1_000_000


def name_columns(values: pd.Series | Sequence[str | None]) -> dict[str, pa.Array]:
    """Normalise a column of names: Arrow arrays name_norm and name_pinyin, aligned to the
    input (null where missing). Each distinct value is processed once (and once per process
    while `_SEEN` holds it)."""
    distinct = Distinct(values)
    if len(_SEEN) + len(distinct) > SEEN_BOUND:
        _SEEN.clear()
    new = [v for v in distinct.values if v not in _SEEN]
    prepared = [v if type(v) is str and _HAN_ONLY.fullmatch(v) and v not in _PLACEHOLDERS
                else _prepare(v) for v in new]
    present = [p for p in prepared if p is not None]
    converted = iter(_t2s(present))
    for value, ready in zip(new, prepared, strict=True):
        norm = None if ready is None else next(converted)
        _SEEN[value] = (norm, None if norm is None else pinyin_key(norm))
    results = [_SEEN[v] for v in distinct.values]
    return {"name_norm": distinct.spread([r[0] for r in results], pa.string()),
            "name_pinyin": distinct.spread([r[1] for r in results], pa.string())}


def normalise_names(values: Sequence[str | None]) -> pd.DataFrame:
    """Normalise a column of names; columns name_norm and name_pinyin, aligned to the input.

    Each distinct value is processed once; missing values are None (object dtype).
    """
    return as_objects(name_columns(values))


def _symmetric(pairs: dict[str, set[str]]) -> dict[str, frozenset[str]]:
    both: dict[str, set[str]] = {}
    for char, others in pairs.items():
        for other in others:
            if other != char:
                both.setdefault(char, set()).add(other)
                both.setdefault(other, set()).add(char)
    return {char: frozenset(others) for char, others in both.items()}


@cache
def _homophone_sets() -> dict[str, frozenset[str]]:
    pairs: dict[str, set[str]] = {}
    with (_DATA / "same_pinyin.txt").open(encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            char, *columns = line.rstrip("\n").split("\t")
            pairs.setdefault(char.strip(), set()).update("".join(columns).replace(" ", ""))
    return _symmetric(pairs)


@cache
def _shape_sets() -> dict[str, frozenset[str]]:
    pairs: dict[str, set[str]] = {}
    with (_DATA / "same_stroke.txt").open(encoding="utf-8") as handle:
        for line in handle:
            group = [c.strip() for c in line.split("\t") if c.strip()]
            for char in group:
                pairs.setdefault(char, set()).update(group)
    return _symmetric(pairs)


def homophones(ch: str) -> frozenset[str]:
    """Characters read alike (same pinyin, same or other tone) per same_pinyin.txt, symmetric."""
    return _homophone_sets().get(ch, frozenset())


def shape_alikes(ch: str) -> frozenset[str]:
    """Characters that look alike (a shared group in same_stroke.txt), symmetric."""
    return _shape_sets().get(ch, frozenset())


@cache
def load_confusions() -> dict[str, frozenset[str]]:
    """Character -> every character it may be confused with (homophones and shape alikes)."""
    merged: dict[str, frozenset[str]] = dict(_homophone_sets())
    for char, others in _shape_sets().items():
        merged[char] = merged.get(char, frozenset()) | others
    return merged


def _is_han(ch: str) -> bool:
    return len(ch) == 1 and ("\u3400" <= ch <= "\u9fff" or "\U00020000" <= ch <= "\U0003134f")


#: What an export in an encoding that lacks a character writes instead of it (GBK has no
#: CJK extension A: 䶮 becomes '?').
UNREADABLE = "?"


def char_confusable(a: str, b: str) -> str | None:
    """'homophone', 'shape', 'unreadable' or None: how character `b` may be a mistake for `a`
    (or vice versa); 'unreadable': one of them is the '?' an export wrote for a character its
    encoding lacks.

    Homophones are those of `homophones` plus any two Han characters with the same toneless
    reading in pypinyin (张伟/张玮: 玮 is missing from same_pinyin.txt). Identical characters give
    None (that is agreement, not confusion); homophone wins when both apply.
    """
    if a == b:
        return None
    if UNREADABLE in (a, b):
        return "unreadable"
    if b in homophones(a) or (_is_han(a) and _is_han(b) and _PINYIN[ord(a)] == _PINYIN[ord(b)]):
        return "homophone"
    if b in shape_alikes(a):
        return "shape"
    return None


def mask_name(name: str | None) -> str:
    """Mask a name for publicity (contract §6): first and last character kept, middle dots kept.

    张伟 -> 张*, 张小伟 -> 张*伟, 欧阳小明 -> 欧**明, 阿卜杜·热合曼 -> 阿**·**曼. A two-character
    name keeps only its first character; a one-character name (a data error in practice) shows
    nothing: '*'. None or empty gives ''. Apply it to the normalised name.
    """
    if not name:
        return ""
    chars = list(name.strip())
    letters = [i for i, c in enumerate(chars) if c != DOT]
    if len(letters) <= 1:
        return "".join("*" if c != DOT else c for c in chars) if letters else ""
    keep = {letters[0]} if len(letters) == 2 else {letters[0], letters[-1]}
    return "".join(c if c == DOT or i in keep else "*" for i, c in enumerate(chars))
