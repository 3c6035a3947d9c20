"""Comparison levels as data: for each field, its levels with the weight each earns and the
words it puts into the evidence.

A level's `code` is what the field's comparison (scoring.py: `id_levels`, `name_levels`,
`place_levels`, birth and sex) gives a pair; its `weight` names the bits it earns: a key of the
field's section in config/linkage.yaml, or `@name` for bits computed per pair (how common the
name is), or None for none; its `words` is the evidence phrase, a template over the pair's
context (scoring.py `_context`), empty for nothing to say. Weights and words are read from this
table only: changing how a field is compared means its levels here and its comparison there
(Splink's comparison levels, which carry their condition, weight and label together).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Level:
    code: int
    name: str
    weight: str | None
    words: str


@dataclass(frozen=True)
class Field:
    """A compared field: its section of the matcher parameters and its levels."""

    name: str
    section: str
    levels: tuple[Level, ...]

    def level(self, code: int) -> Level:
        return self._by_code()[int(code)]

    def _by_code(self) -> dict[int, Level]:
        return {lv.code: lv for lv in self.levels}

    def code(self, name: str) -> int:
        """The code of the level called `name`."""
        return next(lv.code for lv in self.levels if lv.name == name)

    def weights(self, codes: np.ndarray, params: Mapping[str, Any],
                computed: Mapping[str, np.ndarray] | None = None) -> np.ndarray:
        """The bits each pair earns on this field (0 for levels without a weight)."""
        section = params[self.section]
        conditions, values = [], []
        for lv in self.levels:
            if lv.weight is None:
                continue
            conditions.append(codes == lv.code)
            values.append((computed or {})[lv.weight[1:]] if lv.weight.startswith("@")
                          else section[lv.weight])
        return np.select(conditions, values, 0.0) if conditions else np.zeros(len(codes))

    def words(self, code: int, context: Mapping[str, Any]) -> str:
        """The evidence phrase of one pair's level ('' when there is nothing to say)."""
        return self.level(code).words.format_map(context)


ID = Field("id", "id", (
    Level(0, "exact", "exact", "{id_exact}"),
    Level(1, "edit1", "edit1", "身份证号{id_edit}，校验位不符"),
    Level(2, "edit2", "edit2", "身份证号{id_edit}，校验位不符"),
    Level(3, "different", "different", "身份证号不同"),
    Level(4, "missing", None, "{id_missing}"),
    Level(5, "veto", None, "{id_missing}"),  # two valid IDs that differ: never linked
))
NAME = Field("name", "name", (
    Level(0, "exact", "@exact", "{name_exact}"),
    Level(1, "pinyin", "@pinyin", "姓名同音 {e_name}/{r_name}"),
    Level(2, "confusable", "confusable", "姓名有一字{kind} {e_name}/{r_name}"),
    Level(3, "one_char", "one_char", "姓名有一字不同 {e_name}/{r_name}"),
    Level(4, "different", "different", "姓名不同 {e_name}/{r_name}"),
    Level(5, "missing", None, ""),
))
BIRTH = Field("birth", "birth", (
    Level(1, "exact", "exact", "出生日期一致"),
    Level(-1, "different", "different", "出生日期不同"),
    Level(0, "missing", None, ""),
))
SEX = Field("sex", "sex", (
    Level(1, "same", "same", "性别一致"),
    Level(-1, "different", "different", ""),
    Level(0, "missing", None, ""),
))
PLACE = Field("place", "place", (
    Level(0, "community", "community", "同社区"),
    Level(1, "street", "street", "同街道"),
    Level(2, "district", "district", "同区"),
    Level(3, "other_district", "different_district", ""),
    Level(4, "missing", None, ""),
))
RELATION = Field("relation", "relation", (
    Level(1, "plausible", "plausible", "申报关系“{relation}”与年龄、性别相符"),
    Level(-1, "implausible", "implausible", "申报关系“{relation}”与年龄、性别不符：{relation_why}"),
    Level(0, "unknown", None, ""),
))
#: Between the phrases of one piece of evidence (a Chinese full-width semicolon).
SEPARATOR = "；"
#: The fields in the order their words appear in the evidence.
FIELDS: tuple[Field, ...] = (ID, NAME, BIRTH, SEX, PLACE, RELATION)


def evidence(codes: Mapping[str, Sequence[int] | np.ndarray],
             contexts: Sequence[Mapping[str, Any]]) -> list[str]:
    """Evidence text per pair: each field's phrase, in field order, joined by '；'."""
    out = []
    for i, context in enumerate(contexts):
        parts = [f.words(codes[f.name][i], context) for f in FIELDS]
        out.append(SEPARATOR.join(p for p in parts if p))
    return out
