"""Smoke test of the Splink benchmark (benchmarks/splink_deaths.py) on a tiny generated city.

Not a timing test: it checks that the Splink deaths link trains, predicts and returns links in
the agreed shape, and that what it links is mostly right.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

pytest.importorskip("splink")  # the 'bench' extra

from benchmarks import splink_deaths  # noqa: E402
from pipelines.synth.city import generate_city  # noqa: E402


@pytest.mark.slow
def test_splink_links_deaths_on_a_tiny_city(tmp_path: Path) -> None:
    folder = tmp_path / "city"
    generate_city(folder, 2000, 7)
    con = splink_deaths.ingest(folder)
    links, seconds = splink_deaths.link_deaths_with_splink(con)
    assert list(links.columns) == ["record_id", "member_key", "match_probability"]
    assert not links.empty and seconds > 0
    assert links["match_probability"].between(splink_deaths.DEV_THRESHOLD, 1).all()
    households = pd.Series(dict(con.execute("SELECT _row, household_id FROM norm_roll")
                                .fetchall()))
    assert set(links["member_key"]) <= set(households.index)
    result = splink_deaths.score(links, households, splink_deaths.truth_links(folder))
    assert result.precision >= 0.9 and result.recall >= 0.8
    # the ID level actually used: a shared valid ID is strong evidence
    m, u = splink_deaths.LAST.id_levels["same valid ID"]
    assert m >= 0.5 and m / u > 1e4
