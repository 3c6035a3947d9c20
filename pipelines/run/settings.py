"""A run's configuration: loaded and validated once, when the run starts, then read by every stage.

Three files make it (config/audit.yaml with config/datasets.yaml, config/rules.yaml,
config/linkage.yaml), each with the matching section of the user's `--config` merged over it.
`discover` validates all of it before any data is read, so a mistake in any section stops the
run at once (exit 2), and writes the result into the work folder (`settings.json`); every later
stage, in the same process or in another Airflow task, reads that file and nothing else. The
run uses the configuration as it was when it started, even if the file changes meanwhile.
"""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from pipelines.config import AuditConfig, load_config
from pipelines.errors import InputError
from pipelines.link.linker import load_params
from pipelines.rules.policy import RulesConfig, load_rules

FILE = "settings.json"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class _IdWeights(_Strict):
    exact: float
    edit1: float
    edit2: float
    different: float


class _NameWeights(_Strict):
    m_exact: float = Field(gt=0, le=1)
    m_pinyin: float = Field(gt=0, le=1)
    confusable: float
    one_char: float
    different: float
    max_bits: float = Field(gt=0)


class _Agreement(_Strict):
    exact: float | None = None
    same: float | None = None
    different: float


class _RelationWeights(_Strict):
    plausible: float
    implausible: float


class _PlaceWeights(_Strict):
    community: float
    street: float
    district: float
    different_district: float


class _Coincidence(_Strict):
    max_expected: float = Field(ge=0)
    max_sound_twins: float = Field(ge=0)
    exempt: list[str] = Field(default_factory=list)


class _Calibration(_Strict):
    pseudo_count: float = Field(ge=0)
    prior_over_candidates: list[str] = Field(default_factory=list)
    m: dict[str, dict[str, float]]
    u: dict[str, dict[str, float]]

    @model_validator(mode="after")
    def _shares(self) -> _Calibration:
        for table in (self.m, self.u):
            for section, shares in table.items():
                for level, v in shares.items():
                    if not 0 < v <= 1:
                        raise ValueError(f"calibration {section}.{level}: {v} is not a share "
                                         "in (0, 1]")
        from pipelines.link.probability import MEASURED
        for f in MEASURED:
            needed = {lv.name for lv in f.levels if lv.name not in ("missing", "unknown")}
            missing = needed - set(self.m.get(f.name, {}))
            if missing:
                raise ValueError(f"calibration m.{f.name} lacks {sorted(missing)}")
        for section, levels in (("name", {"confusable", "one_char", "different"}),
                                ("relation", {"plausible", "implausible"})):
            missing = levels - set(self.u.get(section, {}))
            if missing:
                raise ValueError(f"calibration u.{section} lacks {sorted(missing)}")
        return self


class _Blocking(_Strict):
    max_candidates: int = Field(ge=1)


class LinkageConfig(_Strict):
    """config/linkage.yaml, checked: the matcher reads it as a mapping (`params`)."""

    threshold: float = Field(gt=0, lt=1)
    ambiguity_margin: float = Field(ge=0)
    population_floor: int = Field(ge=1)
    prior: dict[str, float]
    id: _IdWeights
    name: _NameWeights
    birth: _Agreement
    sex: _Agreement
    place: _PlaceWeights
    relation: _RelationWeights
    place_corroboration: dict[str, Literal["community", "street", "district"]]
    coincidence: _Coincidence
    calibration: _Calibration
    blocking: _Blocking
    exact_id_only: bool = False


class Settings(BaseModel):
    """The whole configuration of one run."""

    model_config = ConfigDict(frozen=True)

    audit: AuditConfig
    rules: RulesConfig
    linkage: dict[str, Any]

    @property
    def params(self) -> dict[str, Any]:
        """The matcher parameters as the linker reads them."""
        return self.linkage

    def effective(self) -> dict[str, Any]:
        """What `config.effective.yaml` beside the outputs records."""
        return {"audit": self.audit.model_dump(mode="json"),
                "rules": self.rules.model_dump(mode="json"), "matcher": self.linkage}


def load(user_file: str | Path | None = None) -> Settings:
    """Load and check every section (defaults with the user's file merged over them).

    Raises InputError naming the file and what is wrong.
    """
    path = Path(user_file) if user_file else None
    linkage = load_params(path)
    try:
        LinkageConfig.model_validate(linkage)
    except ValidationError as exc:
        raise InputError(f"matcher configuration (linkage) of {path or 'config/linkage.yaml'} "
                         f"is not valid:\n{exc}") from exc
    return Settings(audit=load_config(path), rules=load_rules(path), linkage=linkage)


def save(settings: Settings, work_dir: str | Path) -> Path:
    """Write the run's settings into its work folder."""
    target = Path(work_dir) / FILE
    body = {"audit": settings.audit.model_dump(mode="json"),
            "rules": settings.rules.model_dump(mode="json", by_alias=True),
            "linkage": settings.linkage}
    # key order is meaning (a dataset's columns in contract order): never sorted
    target.write_text(json.dumps(body, ensure_ascii=False), encoding="utf-8")
    return target


def of_run(work_dir: str | Path) -> Settings:
    """The settings the run started with (read once per process and work folder)."""
    path = Path(work_dir) / FILE
    if not path.exists():
        raise FileNotFoundError(f"{path} is missing: the run's work folder was not prepared "
                                "(run the whole audit again from its first stage)")
    return _read(path, path.stat().st_mtime_ns)


@cache
def _read(path: Path, _mtime: int) -> Settings:
    return Settings.model_validate(json.loads(path.read_text(encoding="utf-8")))
