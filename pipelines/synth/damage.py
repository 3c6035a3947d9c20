"""Damage: how departments write IDs, names and dates, applied to clean values at set rates.

ID kinds: typo (one digit: the check digit no longer fits), swap (two adjacent digits), legacy15
(the 15-digit form of people born 1900-1998), fullwidth, spaces, apostrophe, lower_x, blank,
mangled ('4.20102E+17'). Hard kinds (typo, swap, blank, mangled) lose information; the others
repair exactly. A typo'd or swapped ID always fails its check digit (verified, re-drawn if not:
a different valid ID is a different person), and some of them are also written full-width,
with spaces or an apostrophe (soft damage on top of hard). Name kinds: traditional (OpenCC
s2t), homophone (same pinyin and tone), shape (look-alike), spaces, dot (another middle dot in a
minority name); homophone and shape are hard, and only pick common (GB2312) characters that are
not merely the traditional form of the original. Callers pass masks of where hard (and blank)
damage is allowed, so every true link stays supportable: never a hard ID damage and a hard name
damage on the same record.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import opencc

from pipelines.ingest.ids import check_digit
from pipelines.synth import vocab
from pipelines.synth.people import ymd
from pipelines.synth.reference import Reference

HARD_ID = ("typo", "swap", "blank", "mangled")
HARD_NAME = ("homophone", "shape")
SOFT_ON_HARD = ("fullwidth", "spaces", "apostrophe")  # soft forms a typo'd ID may also take
_FULL = str.maketrans("0123456789X", "０１２３４５６７８９Ｘ")
EXCEL_EPOCH = -25569  # 1899-12-30 in days since 1970-01-01


class Damager:
    """Applies damage with one random generator and counts every damage by dataset and kind."""

    def __init__(self, ref: Reference, rng: np.random.Generator) -> None:
        self.ref = ref
        self.rng = rng
        self.counts: Counter[tuple[str, str]] = Counter()
        self._s2t = opencc.OpenCC("s2t")
        self._t2s = opencc.OpenCC("t2s")
        self._alternatives: dict[tuple[str, str], str] = {}

    def _draw(self, n: int, rates: dict[str, float]) -> np.ndarray:
        """One kind (or '') per row, drawn from mutually exclusive rates."""
        kinds = np.full(n, "", dtype=object)
        u = self.rng.random(n)
        lo = 0.0
        for kind, rate in rates.items():
            kinds[(u >= lo) & (u < lo + rate)] = kind
            lo += rate
        return kinds

    # -- IDs -----------------------------------------------------------------------------
    def ids(self, dataset: str, ids: np.ndarray, rates: dict[str, float], *,
            allow_hard: np.ndarray, allow_blank: np.ndarray, combine: float = 0.0,
            force_lost: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Written IDs and the kind of damage of each (lower_x is a rate among X-ending IDs).

        `combine`: the share of typo'd/swapped IDs also written in a soft form (full-width,
        spaces, apostrophe). `force_lost`: records whose ID is written blank (80%) or
        spreadsheet-mangled whatever the rates (decoys; the caller has checked they may be).
        """
        n = len(ids)
        rates = dict(rates)
        x_rate = rates.pop("lower_x", 0.0)
        kinds = self._draw(n, rates)
        ends_x = np.array([s.endswith("X") for s in ids], dtype=bool)
        # 15-digit numbers were issued until 1999: people born 1900-1998 may still carry one
        born_19 = np.array([s[6:8] == "19" and s[8:10] != "99" for s in ids], dtype=bool)
        kinds[(kinds == "legacy15") & ~born_19] = ""
        kinds[(kinds == "mangled") & ends_x] = ""
        kinds[np.isin(kinds, HARD_ID) & ~allow_hard] = ""
        kinds[np.isin(kinds, ("blank", "mangled")) & ~allow_blank] = ""
        if force_lost is not None:
            forced = np.where(self.rng.random(n) < 0.8, "blank", "mangled")
            forced[ends_x] = "blank"  # '…X' cannot be read as a number
            kinds[force_lost] = forced[force_lost]
        kinds[(kinds == "") & ends_x & (self.rng.random(n) < x_rate)] = "lower_x"
        out = np.asarray(ids, dtype=object).copy()
        for i in np.flatnonzero(kinds != ""):
            out[i] = self._id(str(kinds[i]), str(out[i]))
        self._count(dataset, "id", kinds)
        if combine > 0:
            edited = np.flatnonzero(np.isin(kinds, ("typo", "swap"))
                                    & (self.rng.random(n) < combine))
            extra = self.rng.choice(np.array(SOFT_ON_HARD, dtype=object), len(edited))
            for i, kind in zip(edited, extra, strict=True):
                out[i] = self._id(str(kind), str(out[i]))
            self._count(dataset, "id", np.array([f"{k}_on_hard" for k in extra], dtype=object))
        return out, kinds

    def _id(self, kind: str, s: str) -> str:
        """One ID with one kind of damage; a typo or swap always fails the check digit."""
        if kind not in ("typo", "swap"):
            return self._form(kind, s)
        for _ in range(100):
            out = self._edit(kind, s)
            if out != s and check_digit(out[:17]) != out[17]:
                return out
        raise RuntimeError(f"could not damage {s} by {kind}")  # pragma: no cover

    def _edit(self, kind: str, s: str) -> str:
        """One typo (one digit replaced) or one swap of two adjacent different digits."""
        rng = self.rng
        if kind == "typo":
            pos = int(rng.integers(0, 18))
            digit = str((int(s[pos]) + int(rng.integers(1, 10))) % 10) if s[pos] != "X" \
                else str(int(rng.integers(0, 10)))
            return s[:pos] + digit + s[pos + 1:]
        if kind == "swap":
            spots = [i for i in range(6, 16) if s[i] != s[i + 1]]
            if not spots:
                return self._edit("typo", s)
            i = int(rng.choice(spots))
            return s[:i] + s[i + 1] + s[i] + s[i + 2:]
        raise ValueError(kind)

    def _form(self, kind: str, s: str) -> str:
        """One ID written in another form (repairable), blank or mangled."""
        rng = self.rng
        if kind == "legacy15":
            return s[:6] + s[8:17]
        if kind == "fullwidth":
            return s.translate(_FULL)
        if kind == "spaces":
            if rng.random() < 0.5:
                return f"{s[:6]} {s[6:14]} {s[14:]}"
            pos = int(rng.integers(1, 18))
            return s[:pos] + " " + s[pos:]
        if kind == "apostrophe":
            return "'" + s
        if kind == "lower_x":
            return s[:-1] + "x"
        if kind == "mangled":
            return f"{float(s):.5E}"
        if kind == "blank":
            return ""
        raise ValueError(kind)

    # -- names ---------------------------------------------------------------------------
    def names(self, dataset: str, names: np.ndarray, rates: dict[str, float], *,
              allow_hard: np.ndarray, encoding: str | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
        """Written names and the kind of damage of each ('dot' is a rate among minority names).

        With `encoding`, damage that the file's encoding cannot hold is not applied (GBK has no
        • or ・ and lacks some traditional characters).
        """
        n = len(names)
        rates = dict(rates)
        dot_rate = rates.pop("dot", 0.0)
        kinds = self._draw(n, rates)
        minority = np.array([vocab.MIDDLE_DOT in s for s in names], dtype=bool)
        kinds[np.isin(kinds, HARD_NAME) & (~allow_hard | minority)] = ""
        kinds[minority & (kinds == "")] = np.where(
            self.rng.random(int((minority & (kinds == "")).sum())) < dot_rate, "dot", "")
        out = np.asarray(names, dtype=object).copy()
        for i in np.flatnonzero(kinds != ""):
            new = self._name(str(kinds[i]), str(out[i]))
            if new == out[i] or (encoding is not None and not _encodable(new, encoding)):
                kinds[i] = ""
            else:
                out[i] = new
        self._count(dataset, "name", kinds)
        return out, kinds

    def _name(self, kind: str, s: str) -> str:
        """One name with one kind of damage (unchanged when the kind does not apply)."""
        rng = self.rng
        if kind == "traditional":
            return str(self._s2t.convert(s))
        if kind in HARD_NAME:
            return self.confuse(s, kind)
        if kind == "spaces":
            return " ".join(s) if rng.random() < 0.5 else s[0] + " " + s[1:]
        if kind == "dot":
            return s.replace(vocab.MIDDLE_DOT, vocab.OTHER_DOTS[int(rng.integers(0, 3))])
        raise ValueError(kind)

    def alternatives(self, char: str, kind: str) -> str:
        """Common characters a clerk might write for `char`: same pinyin and tone (homophone)
        or look-alike (shape); never a mere traditional form of the same character."""
        key = (char, kind)
        found = self._alternatives.get(key)
        if found is None:
            table = self.ref.homophones if kind == "homophone" else self.ref.shapes
            found = "".join(c for c in table.get(char, "")
                            if _encodable(c, "gb2312") and self._t2s.convert(c) != char)
            self._alternatives[key] = found
        return found

    def confuse(self, s: str, kind: str) -> str:
        """`s` with one character replaced by a homophone or look-alike (given name first);
        unchanged if none of its characters has one."""
        rng = self.rng
        spots = [i for i in range(1, len(s)) if self.alternatives(s[i], kind)] or \
            [i for i in range(len(s)) if self.alternatives(s[i], kind)]
        if not spots or vocab.MIDDLE_DOT in s:
            return s
        i = int(rng.choice(spots))
        options = self.alternatives(s[i], kind)
        return s[:i] + options[int(rng.integers(0, len(options)))] + s[i + 1:]

    def _count(self, dataset: str, field: str, kinds: np.ndarray) -> None:
        values, counts = np.unique(kinds[kinds != ""].astype(str), return_counts=True)
        for v, c in zip(values, counts, strict=True):
            self.counts[(dataset, f"{field}_{v}")] += int(c)

    # -- dates ---------------------------------------------------------------------------
    def dates(self, days: np.ndarray, p: tuple[float, float, float, float, float]) -> np.ndarray:
        """Dates as text in mixed forms: ISO, 2023/1/5, 20230105, 2023年1月5日, Excel serial.

        `days` may hold NaN (written as ''); p weighs the five forms.
        """
        days = np.asarray(days, dtype=float)
        if not len(days):
            return np.empty(0, dtype=object)
        missing = np.isnan(days)
        d = np.where(missing, 0, days).astype(np.int64)
        y, m, dd = ymd(d)
        ys, ms, ds = y.astype(str), m.astype(str), dd.astype(str)
        m2, d2 = np.char.zfill(ms, 2), np.char.zfill(ds, 2)
        iso = np.char.add(np.char.add(np.char.add(np.char.add(ys, "-"), m2), "-"), d2)
        slash = np.char.add(np.char.add(np.char.add(np.char.add(ys, "/"), ms), "/"), ds)
        compact = np.char.add(np.char.add(ys, m2), d2)
        chinese = np.char.add(np.char.add(np.char.add(np.char.add(np.char.add(ys, "年"), ms),
                                                      "月"), ds), "日")
        serial = (d - EXCEL_EPOCH).astype(str)
        style = self.rng.choice(5, len(d), p=np.array(p) / sum(p))
        out = np.select([style == 0, style == 1, style == 2, style == 3],
                        [iso, slash, compact, chinese], serial).astype(object)
        out[missing] = ""
        return out


def _encodable(text: str, encoding: str) -> bool:
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        return False
    return True


def money(values: np.ndarray, decimals: int = 2) -> np.ndarray:
    """Amounts as text ('' for NaN); whole numbers written without decimals."""
    v = np.asarray(values, dtype=float)
    out = np.empty(len(v), dtype=object)
    for i, x in enumerate(v):
        out[i] = "" if np.isnan(x) else (f"{x:.0f}" if x == round(x) else f"{x:.{decimals}f}")
    return out
