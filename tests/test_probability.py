"""Match probabilities (pipelines/link/probability.py): what a link's score means.

Unit cases on hand-made pair frames, then the real matcher on small rolls: the probability falls
where a name is expected by chance, is shared between namesakes, and a run's m comes from its
own same-ID pairs.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipelines.errors import InputError
from pipelines.link import levels, probability
from pipelines.link.linker import load_params
from pipelines.run import settings
from tests.test_linkage import ID_A, death_row, deaths, link, roll_row

PARAMS = load_params()
NAME, PLACE = levels.NAME, levels.PLACE


def frame(n: int, **columns: object) -> pd.DataFrame:
    base: dict[str, object] = {
        "record_id": [f"D{i}" for i in range(n)], "person_key": list(range(n)),
        "name_n": 1, "pinyin_n": 1, "r_birth_n": 1, "r_community_n": 500,
        "r_street_n": 2_000, "r_district_n": 20_000, "roll_n": 100_000}
    base.update(columns)
    return pd.DataFrame({k: v if isinstance(v, list) else [v] * n for k, v in base.items()})


def codes(n: int, name: str = "exact", place: str = "district", birth: int = 0,
          id_level: str = "missing") -> dict[str, np.ndarray]:
    return {"id": np.full(n, levels.ID.code(id_level), dtype=np.int8),
            "name": np.full(n, NAME.code(name), dtype=np.int8),
            "birth": np.full(n, birth, dtype=np.int8), "sex": np.zeros(n, dtype=np.int8),
            "place": np.full(n, PLACE.code(place), dtype=np.int8),
            "relation": np.zeros(n, dtype=np.int8)}


def calibration(rate: float = 0.1) -> probability.Calibration:
    nothing = np.zeros(0, dtype=np.int8)
    cal = probability.measure({f.name: nothing for f in levels.FIELDS}, np.zeros(0, dtype=bool),
                              np.zeros(0, dtype=object), 0, PARAMS)
    return probability.Calibration(cal.m, rate, 0, 0)


def probs(f: pd.DataFrame, c: dict[str, np.ndarray], cal: probability.Calibration | None = None,
          veto: np.ndarray | None = None, over_candidates: bool = False) -> np.ndarray:
    veto = np.zeros(len(f), dtype=bool) if veto is None else veto
    return probability.probabilities(f, c, veto, cal or calibration(), PARAMS, 1_000_000.0,
                                     over_candidates)


def test_a_name_agreeing_in_a_smaller_place_or_a_rarer_name_is_more_likely_the_person() -> None:
    f = frame(4, record_id=["A", "B", "C", "D"], name_n=[1, 1, 1, 300])
    c = codes(4)
    c["place"] = np.array([PLACE.code(p) for p in ("community", "street", "district",
                                                   "community")], dtype=np.int8)
    p = probs(f, c)
    assert p[0] > p[1] > p[2]  # community, street, district for the same rare name
    assert p[3] < 0.5 < p[0]  # a name 300 people carry, in the same community
    assert ((p > 0) & (p < 1)).all()


def test_namesakes_share_the_record_and_a_veto_takes_nothing() -> None:
    alone = probs(frame(1, birth=1), codes(1, birth=1))
    two = frame(2, record_id=["D", "D"], person_key=[1, 2])
    shared = probs(two, codes(2, birth=1))
    assert shared[0] == pytest.approx(shared[1])
    assert shared[0] < 0.5 < alone[0]  # each namesake at most a coin toss
    vetoed = probs(two, codes(2, birth=1), veto=np.array([False, True]))
    assert vetoed[1] == 0.0 and vetoed[0] == pytest.approx(alone[0])


def test_a_person_with_two_roll_rows_counts_once() -> None:
    # one person, two households: both pairs keep the person's whole probability
    f = frame(2, record_id=["D", "D"], person_key=[7, 7])
    p = probs(f, codes(2, birth=1))
    alone = probs(frame(1), codes(1, birth=1))
    assert p[0] == pytest.approx(alone[0]) and p[1] == pytest.approx(alone[0])


def test_the_same_valid_id_is_near_certain_and_the_prior_can_be_the_candidates() -> None:
    p = probs(frame(1, name_n=500), codes(1, id_level="exact", place="other_district"))
    assert p[0] > 0.99
    # kin filings: the blocking names the household, so the prior spreads over its members
    f = frame(3, record_id=["K", "K", "K"], person_key=[1, 2, 3], name_n=[1, 1, 1])
    c = codes(3, name="different", place="community")
    c["name"][0] = NAME.code("exact")
    p = probs(f, c, calibration(0.95), over_candidates=True)
    assert p[0] > 0.95 and p[1:].max() < 0.01


def test_m_is_measured_from_the_same_id_pairs() -> None:
    n = 400
    c = codes(n, id_level="exact", name="pinyin", place="street")
    labelled = np.ones(n, dtype=bool)
    cal = probability.measure(c, labelled, np.array([f"R{i}" for i in range(n)]), 800, PARAMS)
    default = PARAMS["calibration"]["m"]
    assert cal.m["name"]["pinyin"] > 0.9 > default["name"]["pinyin"]
    assert cal.m["place"]["street"] > 0.9
    assert sum(cal.m["name"].values()) == pytest.approx(1.0)
    assert cal.match_rate == pytest.approx(401 / 802)
    # no labelled pairs: the defaults, and a match rate from the records alone
    none = probability.measure(c, np.zeros(n, dtype=bool), np.zeros(n, dtype=object), 98, PARAMS)
    assert none.m["name"] == pytest.approx(default["name"])
    assert none.match_rate == pytest.approx(1 / 100)


def test_a_calibration_share_outside_0_1_is_refused(tmp_path: Path) -> None:
    user = tmp_path / "bad.yaml"
    user.write_text("linkage:\n  calibration:\n    m:\n      birth: {exact: 1.5, different: 0.03}\n",
                    encoding="utf-8")
    with pytest.raises(InputError, match="birth.exact"):
        settings.load(user)


def test_linked_scores_follow_the_evidence_on_a_real_link(tmp_path: Path) -> None:
    from tests.conftest import make_id

    other = make_id("420111", "19610302", "031")
    roll = [roll_row("H1", "欧阳澍", ID_A), roll_row("H2", "欧阳澍", other),
            roll_row("H3", "周杰", make_id("420102", "19700101", "051"))]
    con = link(tmp_path, roll, deaths(
        death_row("D1", "欧阳澍", ID_A),                           # the same valid ID
        death_row("D2", "周杰", "", birth="1970-01-01"),           # name, birth date, community
    ))
    scores = dict(con.execute("SELECT record_id, score FROM links WHERE dataset = 'deaths'")
                  .fetchall())
    assert set(scores) == {"D1", "D2"}
    assert scores["D1"] > scores["D2"] and scores["D1"] > 0.99
    assert 0.5 < scores["D2"] < 1.0
