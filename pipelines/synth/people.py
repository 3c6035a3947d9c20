"""People in bulk: names, genders, birth dates, ID numbers, phones and bank accounts.

Every person gets a unique, valid 18-digit ID: region code (where they were born), birth date,
a 3-digit sequence (odd = male) and the MOD 11-2 check digit. Dates are int days since
1970-01-01 throughout the generator. All draws are vectorised; uniqueness of IDs, mobile numbers
and accounts is enforced across the whole city.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipelines.ingest.ids import check_digit
from pipelines.synth import vocab
from pipelines.synth.reference import Reference

_WEIGHTS = np.array([7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2], dtype=np.int64)
_CHECK = np.array(list("10X98765432"), dtype=object)
_MOBILE_PREFIXES = np.array([130, 131, 132, 133, 134, 135, 136, 137, 138, 139, 150, 151, 152,
                             153, 155, 156, 157, 158, 159, 170, 173, 175, 176, 177, 178, 180,
                             181, 182, 183, 184, 185, 186, 187, 188, 189, 191, 193, 195, 198,
                             199], dtype=np.int64)
_CARD_BINS = ("622202", "621700", "622848", "621226", "622700", "623052", "621799", "622188",
              "621661", "622262")


def ymd(days: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Year, month, day arrays of int days since 1970-01-01."""
    d = np.asarray(days, dtype="int64").astype("datetime64[D]")
    months = d.astype("datetime64[M]")
    year = d.astype("datetime64[Y]").astype(np.int64) + 1970
    month = months.astype(np.int64) % 12 + 1
    day = (d - months).astype(np.int64) + 1
    return year, month, day


def to_days(year: int, month: int, day: int) -> int:
    """Int days since 1970-01-01 of one calendar date."""
    return int(np.datetime64(f"{year:04d}-{month:02d}-{day:02d}", "D").astype(np.int64))


def zipf(n: int, a: float = 1.0) -> np.ndarray:
    """Zipf-like probabilities for n ranked items."""
    w = 1.0 / np.arange(1, n + 1) ** a
    return w / w.sum()


def id_numbers(region: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """Valid 18-digit IDs from region codes, birth days and sequence numbers (vectorised)."""
    y, m, d = ymd(birth)
    keys = region.astype(np.int64) * 10**11 + (y * 10000 + m * 100 + d) * 1000 + seq
    bodies = keys.astype(str).astype("U17")
    digits = np.frombuffer(bodies.tobytes(), dtype=np.uint32).reshape(-1, 17).astype(np.int64)
    total = ((digits - 48) * _WEIGHTS).sum(axis=1) % 11
    out = np.char.add(bodies, _CHECK[total].astype("U1")).astype(object)
    if len(out):  # cross-check one against the project's reference implementation
        assert out[0][17] == check_digit(out[0][:17])
    return out


def id_keys(region: np.ndarray, birth: np.ndarray, seq: np.ndarray) -> np.ndarray:
    """The 17-digit ID body as int64, for uniqueness checks."""
    y, m, d = ymd(birth)
    return region.astype(np.int64) * 10**11 + (y * 10000 + m * 100 + d) * 1000 + seq


class PersonFactory:
    """Creates people with city-wide unique IDs, phones and accounts; assigns person ids (pid)."""

    def __init__(self, ref: Reference, rng: np.random.Generator) -> None:
        self.ref = ref
        self.rng = rng
        self.next_pid = 0
        self._keys = np.empty(0, dtype=np.int64)
        self._phones = np.empty(0, dtype=np.int64)
        self._accounts: set[str] = set()
        self._p_pop_m = zipf(len(vocab.POPULAR_MALE), 0.8)
        self._p_pop_f = zipf(len(vocab.POPULAR_FEMALE), 0.8)
        self._p_chr_m = zipf(len(vocab.CHARS_MALE), 0.8)
        self._p_chr_f = zipf(len(vocab.CHARS_FEMALE), 0.8)
        self._compound = {s for s in ref.surnames if len(s) > 1}

    # -- names ---------------------------------------------------------------------------
    def given_names(self, male: np.ndarray) -> np.ndarray:
        """Given names: 25% a whole popular name, else one or two common characters."""
        rng, n = self.rng, len(male)
        out = np.empty(n, dtype=object)
        popular = rng.random(n) < 0.25
        single = rng.random(n) < 0.2
        for is_male, names, p_names, chars, p_chars in (
                (True, vocab.POPULAR_MALE, self._p_pop_m, vocab.CHARS_MALE, self._p_chr_m),
                (False, vocab.POPULAR_FEMALE, self._p_pop_f, vocab.CHARS_FEMALE, self._p_chr_f)):
            sex = male == is_male
            pick = sex & popular
            out[pick] = rng.choice(np.array(names, dtype=object), pick.sum(), p=p_names)
            comp = sex & ~popular
            first = rng.choice(np.array(chars, dtype=object), comp.sum(), p=p_chars)
            second = rng.choice(np.array(chars, dtype=object), comp.sum(), p=p_chars)
            out[comp] = np.where(single[comp], first, first + second)
        return out

    def names(self, male: np.ndarray, minority: np.ndarray) -> np.ndarray:
        """Full names: surname by frequency + given name; Uyghur-style names where minority."""
        rng, n = self.rng, len(male)
        surname = rng.choice(self.ref.surnames, n, p=self.ref.surname_p)
        out = surname + self.given_names(male)
        k = int(minority.sum())
        if k:
            m_male = male[minority]
            first = np.where(m_male, rng.choice(np.array(vocab.MINORITY_MALE, dtype=object), k),
                             rng.choice(np.array(vocab.MINORITY_FEMALE, dtype=object), k))
            father = rng.choice(np.array(vocab.MINORITY_MALE, dtype=object), k)
            out[minority] = first + vocab.MIDDLE_DOT + father
        return out

    def surname_of(self, name: str) -> str:
        """The surname part of a Han name (compound surnames such as 欧阳 included)."""
        return name[:2] if name[:2] in self._compound else name[:1]

    # -- IDs -----------------------------------------------------------------------------
    def regions(self, district: np.ndarray, minority: np.ndarray) -> np.ndarray:
        """Birth-place region codes: mostly the home district, else Wuhan, Hubei or elsewhere."""
        rng, n = self.rng, len(district)
        u = rng.random(n)
        wuhan = self.ref.districts["code"].to_numpy(dtype=object)
        out = np.where(u < 0.66, district, rng.choice(wuhan, n)).astype(object)
        hubei = (u >= 0.81) & (u < 0.94)
        out[hubei] = rng.choice(self.ref.hubei_codes, hubei.sum())
        far = u >= 0.94
        out[far] = rng.choice(self.ref.china_codes, far.sum())
        xj = minority & (rng.random(n) < 0.8)
        out[xj] = rng.choice(self.ref.xinjiang_codes, xj.sum())
        return out

    def _claim(self, keys: np.ndarray) -> np.ndarray:
        """Mask of keys that collide with claimed keys or with an earlier key in the batch."""
        taken = np.zeros(len(keys), dtype=bool)
        if len(self._keys):
            pos = np.searchsorted(self._keys, keys).clip(0, len(self._keys) - 1)
            taken = self._keys[pos] == keys
        _, first = np.unique(keys, return_index=True)
        dup = np.ones(len(keys), dtype=bool)
        dup[first] = False
        return taken | dup

    def unique_seqs(self, region: np.ndarray, birth: np.ndarray, seq: np.ndarray,
                    male: np.ndarray) -> np.ndarray:
        """Redraw sequences (keeping gender parity) until every ID body is new; claim them."""
        seq = seq.astype(np.int64).copy()
        for _ in range(50):
            bad = self._claim(id_keys(region, birth, seq))
            if not bad.any():
                break
            seq[bad] = self.rng.integers(0, 500, bad.sum()) * 2 + male[bad]
        else:  # pragma: no cover - 1000 sequences per region and day never run out here
            raise RuntimeError("could not find unique ID numbers")
        self._keys = np.sort(np.concatenate([self._keys, id_keys(region, birth, seq)]))
        return seq

    def people(self, *, male: np.ndarray, birth: np.ndarray, district: np.ndarray, kind: str,
               street: np.ndarray | None = None, cid: np.ndarray | None = None,
               names: np.ndarray | None = None, region: np.ndarray | None = None,
               seq: np.ndarray | None = None, minority_rate: float = 0.006) -> pd.DataFrame:
        """A block of new people with fresh pids and unique valid IDs."""
        n = len(male)
        rng = self.rng
        minority = rng.random(n) < minority_rate if names is None else np.zeros(n, dtype=bool)
        if names is None:
            names = self.names(male, minority)
        else:
            minority = np.array([vocab.MIDDLE_DOT in x for x in names], dtype=bool)
        if region is None:
            region = self.regions(district, minority)
        if seq is None:
            seq = rng.integers(0, 500, n) * 2 + male
        seq = self.unique_seqs(region, birth, seq, male.astype(np.int64))
        frame = pd.DataFrame({
            "pid": np.arange(self.next_pid, self.next_pid + n, dtype=np.int64),
            "name": names, "male": male.astype(bool), "birth": birth.astype(np.int64),
            "region": region, "seq": seq, "id18": id_numbers(region, birth, seq),
            "district": district,
            "street": street if street is not None else np.full(n, "", dtype=object),
            "cid": cid if cid is not None else np.full(n, -1, dtype=np.int64),
            "minority": minority, "kind": kind,
        })
        self.next_pid += n
        return frame

    # -- contact data --------------------------------------------------------------------
    def mobiles(self, n: int) -> np.ndarray:
        """Unique synthetic mobile numbers (11 digits, 13x/15x/17x/18x/19x) as text."""
        out = np.empty(0, dtype=np.int64)
        while len(out) < n:
            draw = (self.rng.choice(_MOBILE_PREFIXES, n) * 10**8
                    + self.rng.integers(0, 10**8, n))
            draw = np.setdiff1d(np.unique(draw), self._phones)
            draw = self.rng.permutation(draw)[: n - len(out)]
            self._phones = np.union1d(self._phones, draw)
            out = np.concatenate([out, draw])
        return out.astype(str).astype(object)

    def accounts(self, n: int) -> np.ndarray:
        """Unique synthetic bank card numbers of 16, 17 or 19 digits."""
        rng = self.rng
        out: list[str] = []
        while len(out) < n:
            k = n - len(out)
            bins = rng.choice(np.array(_CARD_BINS, dtype=object), k)
            length = rng.choice([16, 17, 19], k, p=[0.25, 0.05, 0.7])
            rest = rng.integers(0, 10**13, k)
            for b, ln, r in zip(bins, length, rest, strict=True):
                acct = b + str(r).zfill(13)[: ln - 6]
                if acct not in self._accounts:
                    self._accounts.add(acct)
                    out.append(acct)
        return np.array(out, dtype=object)
