"""The clean synthetic world: every person, household and record, before any damage.

Tables hold true values only: person ids (pid) instead of written names and IDs, dates as int
days since 1970-01-01. Truth is computed on this world; damage then produces what departments
write.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from pipelines.synth.places import Geo


@dataclass
class World:
    """Everything generated so far; filled step by step by the generator's modules."""

    as_of: int  # int days since 1970-01-01
    geo: Geo
    blocks: list[pd.DataFrame] = field(default_factory=list)
    households: pd.DataFrame = field(default_factory=pd.DataFrame)
    members: pd.DataFrame = field(default_factory=pd.DataFrame)  # hh, pid, relation, slot
    staff: pd.DataFrame = field(default_factory=pd.DataFrame)
    relatives: pd.DataFrame = field(default_factory=pd.DataFrame)
    filings: pd.DataFrame = field(default_factory=pd.DataFrame)
    registers: dict[str, pd.DataFrame] = field(default_factory=dict)
    decoys: pd.DataFrame = field(default_factory=pd.DataFrame)  # pid, base, kind
    name_district: str = ""  # the district whose roll names the approver instead of the id
    blank_declared: set[int] = field(default_factory=set)  # roll pids declared without ID
    _people: pd.DataFrame | None = None

    def add_people(self, frame: pd.DataFrame) -> None:
        """Register a block of new people."""
        self.blocks.append(frame)
        self._people = None

    @property
    def people(self) -> pd.DataFrame:
        """All people, indexed by pid (concatenated lazily)."""
        if self._people is None:
            self._people = pd.concat(self.blocks, ignore_index=True).set_index("pid", drop=False)
        return self._people

    def rename(self, pids: np.ndarray, names: np.ndarray) -> None:
        """Give people new names (used to plant namesakes among roll members)."""
        people = self.people.copy()
        people.loc[pids, "name"] = names
        self.blocks = [people.reset_index(drop=True)]
        self._people = people

    def age(self, pids: np.ndarray | pd.Series) -> np.ndarray:
        """Age in whole years at the audit date."""
        birth = self.people.loc[np.asarray(pids), "birth"].to_numpy()
        return ((self.as_of - birth) // 365.25).astype(np.int64)

    def roll_people(self) -> pd.DataFrame:
        """One row per roll membership, with the person's and household's main attributes."""
        m = self.members.merge(
            self.households[["hh", "household_id", "district", "street", "cid", "category",
                             "start", "address"]], on="hh")
        p = self.people[["name", "male", "birth", "id18", "region"]]
        m = m.join(p, on="pid")
        m["age"] = ((self.as_of - m["birth"]) // 365.25).astype(np.int64)
        return m

    def roll_pids(self) -> np.ndarray:
        """Distinct pids of roll members."""
        return np.unique(self.members["pid"].to_numpy())

    def duplicated_pids(self) -> np.ndarray:
        """Pids covered in more than one household."""
        counts = self.members["pid"].value_counts()
        return np.sort(counts[counts > 1].index.to_numpy())
