"""The finding codes, each defined once in config/findings.yaml, as typed data.

Everything that needs to know the codes reads them here: the rules runner (what to run, what
it needs, what to note), the policy (default severity, amount and action), the review app
(labels), the evaluation and the generator's truth (codes and levels). Importing this module
reads only the small YAML file (no data libraries), so the review app and the DAGs can use it.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from pipelines.resources import resource_dir

Level = Literal["person", "household"]
Severity = Literal["high", "medium", "low"]
AmountBasis = Literal["household", "member_share", "gap"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Union(_Model):
    """A relation made of one relation per dataset, for the datasets present."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    into: str
    sources: dict[str, str] = Field(alias="from")


class FindingCode(_Model):
    """One finding code: what it means, how it is found, what it needs (see the YAML's header)."""

    code: str
    level: Level
    label: str
    severity: Severity | None
    amount: AmountBasis
    action: str
    sql: str
    prepare: tuple[str, ...] = ()
    union: Union | None = None
    section: str | None = None
    needs: tuple[str, ...] = ()
    any_of: tuple[str, ...] = ()
    without: dict[str, str] = Field(default_factory=dict)
    dated: bool = False
    standard: bool = False

    def missing(self, present: set[str]) -> str | None:
        """Why the check cannot run with the datasets `present`, or None when it can."""
        absent = [d for d in self.needs if d not in present]
        if absent:
            return "dataset not provided: " + ", ".join(absent)
        if self.any_of and not any(d in present for d in self.any_of):
            return "none of these datasets provided: " + ", ".join(self.any_of)
        return None

    def notes_without(self, present: set[str]) -> list[str]:
        """What the check does without the datasets it can run without."""
        return [words for dataset, words in self.without.items() if dataset not in present]


class Registry(_Model):
    codes: tuple[FindingCode, ...]
    evidence: dict[str, str]

    @model_validator(mode="after")
    def _consistent(self) -> Registry:
        names = [c.code for c in self.codes]
        if len(set(names)) != len(names):
            raise ValueError(f"a finding code is defined twice: {names}")
        for code in self.codes:
            for step in code.prepare:
                if step.startswith("python:") and step.count(":") != 2:
                    raise ValueError(f"{code.code}: prepare step {step!r} is not "
                                     "python:<module>:<function>")
        return self


@cache
def registry() -> Registry:
    """config/findings.yaml, validated (cached: it is read once per process)."""
    path = resource_dir("config") / "findings.yaml"
    raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    codes = [FindingCode(code=name, **entry) for name, entry in raw["codes"].items()]
    return Registry(codes=tuple(codes), evidence=raw["evidence"])


def codes() -> tuple[FindingCode, ...]:
    """Every finding code, in the contract's order (which is also the order of the lists)."""
    return registry().codes


def names() -> tuple[str, ...]:
    """The codes' names, in order."""
    return tuple(c.code for c in codes())


def household_codes() -> frozenset[str]:
    """Codes whose subject is a household."""
    return frozenset(c.code for c in codes() if c.level == "household")


def labels() -> dict[str, str]:
    """Code -> Chinese label."""
    return {c.code: c.label for c in codes()}


def evidence_columns() -> dict[str, str]:
    """Column -> DuckDB type of the evidence row every code's SQL produces."""
    return dict(registry().evidence)
