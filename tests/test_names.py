"""Name normalisation, pinyin keys, confusion sets and publicity masking on real-world forms."""

from __future__ import annotations

import pytest

from pipelines.ingest.names import (
    char_confusable,
    homophones,
    load_confusions,
    mask_name,
    normalise_name,
    normalise_names,
    pinyin_key,
    shape_alikes,
)

NORMALISE_CASES = [
    # (raw, normalised)
    ("张伟", "张伟"),                         # already normal
    ("張偉", "张伟"),                         # traditional characters
    ("歐陽曉明", "欧阳晓明"),                 # traditional compound surname
    ("张 伟", "张伟"),                        # space typed between characters
    ("张\u3000伟", "张伟"),                   # ideographic space (full-width)
    (" 张伟\t", "张伟"),                      # surrounding whitespace and a tab
    ("王\u200b芳", "王芳"),                   # zero-width space from a web form
    ("阿卜杜·热合曼", "阿卜杜·热合曼"),       # the standard middle dot U+00B7
    ("阿卜杜•热合曼", "阿卜杜·热合曼"),       # bullet U+2022
    ("阿卜杜．热合曼", "阿卜杜·热合曼"),      # full-width full stop U+FF0E
    ("阿卜杜・热合曼", "阿卜杜·热合曼"),      # katakana middle dot U+30FB
    ("阿卜杜･热合曼", "阿卜杜·热合曼"),       # half-width katakana middle dot U+FF65
    ("阿卜杜‧热合曼", "阿卜杜·热合曼"),       # hyphenation point U+2027
    ("阿卜杜∙热合曼", "阿卜杜·热合曼"),       # bullet operator U+2219
    ("阿卜杜⋅热合曼", "阿卜杜·热合曼"),       # dot operator U+22C5
    ("阿卜杜.热合曼", "阿卜杜·热合曼"),       # ASCII full stop
    ("阿卜杜 · 热合曼", "阿卜杜·热合曼"),     # spaces around the dot
    ("阿卜杜··热合曼", "阿卜杜·热合曼"),      # doubled dot
    ("·阿卜杜·热合曼·", "阿卜杜·热合曼"),     # stray dots at the ends
    ("张〃", "张〃"),                         # ditto mark is not a middle dot
    ("ＡＢＣ", "ABC"),                        # full-width Latin letters
    ("john smith", "JOHNSMITH"),              # Latin upper-cased, spaces removed
    ("张乾", "张乾"),                         # 乾 is simplified too: t2s must not make it 干
    ("於小明", "於小明"),                     # 於 is a surname, not traditional 于
    ("", None),                               # empty
    ("   ", None),                            # whitespace only
    (None, None),                             # missing
    ("··", None),                             # dots only
    ("无", None),                             # placeholder for "none"
    ("NULL", None),                           # database export placeholder
    ("nan", None),                            # pandas export placeholder
]


@pytest.mark.parametrize(("raw", "expected"), NORMALISE_CASES)
def test_normalise_name(raw: str | None, expected: str | None) -> None:
    assert normalise_name(raw) == expected


@pytest.mark.parametrize(("name", "key"), [
    ("张伟", "zhang wei"),                    # common name
    ("张玮", "zhang wei"),                    # homophone of the above: same key
    ("吕布", "lv bu"),                        # ü written v, toneless
    ("阿卜杜·热合曼", "a bo du re he man"),   # dot dropped; 卜 not first: its common reading
    ("单雄信", "shan xiong xin"),             # 单 as a surname is shan, not dan
    ("曾国藩", "zeng guo fan"),               # 曾 surname zeng, not ceng
    ("解缙", "xie jin"),                      # 解 surname xie, not jie
    ("区家明", "ou jia ming"),                # 区 surname ou, not qu
    ("仇英", "qiu ying"),                     # 仇 surname qiu, not chou
    ("朴正", "piao zheng"),                   # 朴 surname piao, not pu
    ("查良镛", "zha liang yong"),             # 查 surname zha, not cha
    ("盖伟", "ge wei"),                       # 盖 surname ge, not gai
    ("乐伟", "yue wei"),                      # 乐 surname yue, not le
    ("尉伟", "wei wei"),                      # 尉 alone is wei
    ("尉迟恭", "yu chi gong"),                # compound surname 尉迟 is yu chi
    ("长孙无忌", "zhang sun wu ji"),          # compound 长孙: zhang, though 长 alone is chang
    ("卜凡", "bu fan"),                       # 卜 surname bu, not bo
    ("王单", "wang dan"),                     # surname readings apply to the first character only
    ("ABC", "A B C"),                         # Latin kept, one token per letter
    ("", ""),                                 # empty
])
def test_pinyin_key(name: str, key: str) -> None:
    assert pinyin_key(name) == key


def test_normalise_names_batch_matches_scalar_in_order() -> None:
    # Repeats, None and every table case: aligned to the input, same as the scalar functions.
    raws = [raw for raw, _ in NORMALISE_CASES] + ["張偉", None, "张伟"]
    frame = normalise_names(raws)
    assert list(frame.columns) == ["name_norm", "name_pinyin"]
    assert len(frame) == len(raws)
    for (norm, pinyin), raw in zip(frame.itertuples(index=False), raws, strict=True):
        expected = normalise_name(raw)
        assert norm == expected, raw
        assert pinyin == (None if expected is None else pinyin_key(expected)), raw


def test_batch_t2s_does_not_merge_neighbours() -> None:
    # Names are converted in one joined text: a phrase must not span two names (瞭解 as one
    # text becomes 了解, and 藉口 becomes 借口; as separate names each character stays).
    frame = normalise_names(["瞭", "解", "藉", "口"])
    assert frame["name_norm"].tolist() == ["瞭", "解", "藉", "口"]


@pytest.mark.parametrize(("a", "b", "kind"), [
    ("伟", "卫", "homophone"),    # same_pinyin.txt, other tone
    ("伟", "委", "homophone"),    # same_pinyin.txt, same tone
    ("委", "伟", "homophone"),    # symmetric even where the file lists only one direction
    ("伟", "玮", "homophone"),    # not in the file, same toneless pinyin (wei)
    ("龙", "庞", "shape"),        # same_stroke.txt group
    ("庞", "龙", "shape"),        # symmetric
    ("张", "李", None),           # unrelated
    ("伟", "伟", None),           # identical is agreement, not confusion
])
def test_char_confusable(a: str, b: str, kind: str | None) -> None:
    assert char_confusable(a, b) == kind


def test_confusion_sets_are_separate_and_merged() -> None:
    # Homophones and shape alikes stay apart; load_confusions holds both.
    assert "卫" in homophones("伟") and "卫" not in shape_alikes("伟")
    assert "庞" in shape_alikes("龙") and "庞" not in homophones("龙")
    merged = load_confusions()
    assert {"卫"} <= merged["伟"] and {"庞"} <= merged["龙"]
    assert "伟" not in merged["伟"]
    assert homophones("𠀀") == frozenset()


@pytest.mark.parametrize(("name", "masked"), [
    ("张伟", "张*"),                    # two characters: only the first is shown
    ("张小伟", "张*伟"),                # three: first and last
    ("欧阳小明", "欧**明"),             # compound surname: still first and last only
    ("阿卜杜·热合曼", "阿**·**曼"),     # middle dot kept
    ("张", "*"),                        # one character would reveal the whole name
    ("", ""),                           # empty
    (None, ""),                         # missing
])
def test_mask_name(name: str | None, masked: str) -> None:
    assert mask_name(name) == masked
