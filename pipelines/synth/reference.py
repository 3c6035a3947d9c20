"""Reference data the generator draws from: divisions, surnames and character confusion sets.

Everything comes from `pipelines/data/` (public sources, no personal data). Loaded once per
process; the tables are read-only.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache

import numpy as np
import pandas as pd

from pipelines.resources import resource_dir

# Wuhan's districts; the first seven are the urban core (communities are mostly 社区),
# the others are the outer districts (mostly villages, 村).
URBAN_DISTRICTS = ("420102", "420103", "420104", "420105", "420106", "420107", "420111")
FAR_DISTRICTS = ("420112", "420113", "420114", "420115", "420116", "420117")


@dataclass(frozen=True)
class Reference:
    """Read-only reference tables, as numpy arrays where the generator samples from them."""

    districts: pd.DataFrame  # code, name, urban
    streets: pd.DataFrame  # code, name, district
    surnames: np.ndarray  # str
    surname_p: np.ndarray  # float, sums to 1
    hubei_codes: np.ndarray  # county codes in Hubei outside Wuhan
    china_codes: np.ndarray  # county codes outside Hubei
    xinjiang_codes: np.ndarray  # county codes in Xinjiang (birth places of minority names)
    homophones: dict[str, str]  # char -> characters with the same pinyin and tone
    shapes: dict[str, str]  # char -> visually similar characters


def _usable_street(name: str) -> bool:
    """Streets and townships where people live (not development zones or management offices)."""
    return ("街" in name or name.endswith(("乡", "镇"))) and "管理" not in name


@cache
def load_reference() -> Reference:
    """Load and prepare the reference data (cached per process)."""
    data = resource_dir("data")
    areas = pd.read_csv(data / "areas.csv", dtype=str)
    wuhan = areas[areas["cityCode"] == "4201"].copy()
    wuhan["urban"] = wuhan["code"].isin(URBAN_DISTRICTS)
    districts = wuhan[["code", "name", "urban"]].sort_values("code").reset_index(drop=True)
    streets = pd.read_csv(data / "streets_wuhan.csv", dtype=str)
    streets = streets[streets["name"].map(_usable_street)]
    streets = streets.rename(columns={"areaCode": "district"})[["code", "name", "district"]]
    streets = streets.sort_values("code").reset_index(drop=True)
    surnames = pd.read_csv(data / "surnames.csv", dtype={"surname": str, "frequency": float})
    p = surnames["frequency"].to_numpy()
    codes = areas["code"]
    hubei = codes[codes.str.startswith("42") & ~codes.str.startswith("4201")]
    china = codes[~codes.str.startswith("42") & ~codes.str.endswith("00")]
    return Reference(
        districts=districts,
        streets=streets,
        surnames=surnames["surname"].to_numpy(dtype=object),
        surname_p=p / p.sum(),
        hubei_codes=hubei.to_numpy(dtype=object),
        china_codes=china.to_numpy(dtype=object),
        xinjiang_codes=codes[codes.str.startswith("65")].to_numpy(dtype=object),
        homophones=_read_confusions(data / "same_pinyin.txt", same_tone_column=True),
        shapes=_read_confusions(data / "same_stroke.txt", same_tone_column=False),
    )


def _read_confusions(path: object, *, same_tone_column: bool) -> dict[str, str]:
    """Map each character to the characters it is confused with.

    same_pinyin.txt: char TAB same-pinyin-same-tone TAB same-pinyin-other-tone (only the second
    column is used: a homophone that a clerk typing pinyin would pick). same_stroke.txt: groups of
    shape-alike characters, every member confusable with every other.
    """
    out: dict[str, str] = {}
    with open(str(path), encoding="utf-8") as handle:
        for line in handle:
            if line.startswith("#") or not line.strip():
                continue
            parts = line.rstrip("\n").split("\t")
            if same_tone_column:
                if len(parts) >= 2 and len(parts[0]) == 1:
                    alternatives = "".join(c for c in parts[1] if c != parts[0])
                    if alternatives:
                        out[parts[0]] = alternatives
            else:
                group = [p for p in parts if len(p) == 1]
                for char in group:
                    others = "".join(c for c in group if c != char)
                    if others:
                        out[char] = out.get(char, "") + others
    return out
