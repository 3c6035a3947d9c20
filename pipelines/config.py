"""Configuration as data: the dataset schema and the audit settings, validated at load."""

from __future__ import annotations

import copy
import datetime as dt
import os
import re
import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from pipelines.errors import InputError
from pipelines.resources import resource_dir
from pipelines.workdays import WorkCalendar

ColumnType = Literal["text", "id", "name", "date", "decimal", "integer", "phone"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Model):
    type: ColumnType = "text"
    required: bool = False
    vocab: str | None = None
    aliases: tuple[str, ...] = ()
    # finding codes whose check reads this optional column, and what they cannot do without it
    used_by: tuple[str, ...] = ()
    without: str | None = None
    # numbers: the plausible range [low, high]; a value outside it (a negative allowance, 1e23
    # yuan) is read as unusable, like an unreadable number, and counted in the quality report
    range: tuple[float, float] | None = None


class PersonSpec(_Model):
    name: str | None = None
    id: str | None = None
    birth_date: str | None = None


class LinkSpec(_Model):
    """How a cross-reference dataset is linked to the roll (sql/link/)."""

    located: str  # the SQL that gives each record a place and the keys to block on
    pairs: str = "pairs"  # the SQL that pairs records with roll members (blocking)
    also: tuple[str, ...] = ()  # other datasets its SQL reads (staff for declarations)
    name_counts: bool = True  # its people count in the name frequencies
    id_typo_corroborates: bool = False  # an ID one typo away links without more (kin filings)


class DatasetSpec(_Model):
    required_dataset: bool = False
    key: str | None = None
    person: PersonSpec | None = None
    columns: dict[str, ColumnSpec]
    link: LinkSpec | None = None


class CityConfig(_Model):
    code: str = "4201"
    name: str = "武汉市"


class IngestConfig(_Model):
    header_aliases: dict[str, dict[str, list[str]]] = Field(default_factory=dict)


class ValidationConfig(_Model):
    severity: dict[str, Literal["critical", "warning"]] = Field(default_factory=dict)
    data_docs: bool = True


class PublicityConfig(_Model):
    """Publicity (公示) exports: masking, period, who to complain to (contract §3, §6)."""

    mask_names: bool = True
    period_days: int = Field(default=7, ge=1)
    office: str = "区民政局社会救助科"
    complaint_phone: str = "12345"
    # TTF/TTC file embedded in PDFs; None: Noto Sans CJK from Debian's fonts-noto-cjk
    font: str | None = None
    # processes rendering community files; None: one per CPU
    workers: int | None = Field(default=None, ge=1)


class AccountabilityConfig(_Model):
    """Deadlines and oversight (问责): periods in Chinese working days (pipelines.workdays)."""

    # working days from the audit that first found a lead to its decision
    due_days: int = Field(default=15, ge=1)
    # shorter or longer periods per finding code and per district; where both name a lead, the
    # shorter applies
    due_days_by_code: dict[str, int] = Field(default_factory=dict)
    due_days_by_district: dict[str, int] = Field(default_factory=dict)
    # working days a supervisor has to approve (or send back) a confirmation or dismissal
    approval_days: int = Field(default=5, ge=1)
    # working days a household has to respond to a notice (告知书) before a stop or reduction
    response_days: int = Field(default=10, ge=1)
    # who takes objections, printed on the notice; empty: publicity.office / complaint_phone
    notice_office: str | None = None
    notice_phone: str | None = None
    # a place's own days off and weekend days worked, beyond the national calendar
    extra_holidays: list[dt.date] = Field(default_factory=list)
    extra_workdays: list[dt.date] = Field(default_factory=list)
    # a code whose decided leads are confirmed less often than this is flagged for review of
    # its rule (at least min_decided decided leads)
    confirmation_floor: float = Field(default=0.5, ge=0, le=1)
    min_decided: int = Field(default=10, ge=1)
    # a group (district, age band, sex, category) whose share of leads exceeds this multiple
    # of its share of the roll while its leads are confirmed less often than the others' is
    # named in the report
    disparity_multiple: float = Field(default=1.5, gt=1)

    @field_validator("due_days_by_code", "due_days_by_district")
    @classmethod
    def _positive(cls, value: dict[str, int]) -> dict[str, int]:
        bad = {k: v for k, v in value.items() if v < 1}
        if bad:
            raise ValueError(f"periods must be at least 1 working day: {bad}")
        return value

    @model_validator(mode="after")
    def _days_once(self) -> AccountabilityConfig:
        both = sorted(set(self.extra_holidays) & set(self.extra_workdays))
        if both:
            raise ValueError("accountability: a day cannot be both an extra holiday and an "
                             "extra working day: " + ", ".join(str(d) for d in both))
        return self

    def due_days_for(self, code: str, district: str | None) -> int:
        """The period of a lead of `code` in `district`."""
        periods = [self.due_days_by_code.get(code), self.due_days_by_district.get(district or "")]
        found = [p for p in periods if p is not None]
        return min(found) if found else self.due_days

    def calendar(self) -> WorkCalendar:
        return WorkCalendar(self.extra_holidays, self.extra_workdays)


class WarehouseConfig(_Model):
    """The audit history: a DuckDB file path or a PostgreSQL URL; None: <output parent>/warehouse.duckdb."""

    url: str | None = None


_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(KB|MB|GB|TB|KIB|MIB|GIB|TIB)\s*$", re.IGNORECASE)
_UNITS = {"KB": 1e3, "MB": 1e6, "GB": 1e9, "TB": 1e12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40}


def parse_size(text: str) -> int:
    """Bytes of a size written like '6GB' or '512 MiB'; ValueError otherwise."""
    found = _SIZE.match(str(text))
    if found is None:
        raise ValueError(f"{text!r} is not a size like '6GB' or '512MiB'")
    return int(float(found.group(1)) * _UNITS[found.group(2).upper()])


class ResourcesConfig(_Model):
    """What one run may use on this machine."""

    # the memory budget of every stage: DuckDB's memory_limit (it spills to temp_directory
    # beyond it) and the most the stage's process may hold; a stage that needs more stops with
    # exit 2 and says so
    memory_limit: str = "6GB"
    # where DuckDB spills; empty: a folder inside the run's work folder (removed with it)
    temp_directory: str | None = None
    # processes that ingest and link datasets side by side in `dibao-audit run`; empty: one per
    # CPU, at most 2, once the input files reach 20 MB (each may use the whole memory budget)
    workers: int | None = Field(default=None, ge=1)
    # records of an evidence dataset linked in one piece: a dataset with more is split into
    # partitions linked side by side (mapped tasks on the Celery workers in the DAG, worker
    # processes in `run`) and merged; the links do not depend on it (decision 0011)
    partition_records: int = Field(default=2_000_000, ge=1)

    @field_validator("memory_limit")
    @classmethod
    def _size(cls, value: str) -> str:
        if parse_size(value) < 64 * 2**20:
            raise ValueError(f"memory_limit {value} is below 64MiB")
        return value

    def memory_bytes(self) -> int:
        return parse_size(self.memory_limit)


class AuditConfig(_Model):
    """The whole effective configuration of one run."""

    city: CityConfig = CityConfig()
    ingest: IngestConfig = IngestConfig()
    validation: ValidationConfig = ValidationConfig()
    publicity: PublicityConfig = PublicityConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
    accountability: AccountabilityConfig = AccountabilityConfig()
    resources: ResourcesConfig = ResourcesConfig()
    datasets: dict[str, DatasetSpec]
    values: dict[str, dict[str, str]]
    # sections read by their own loaders (pipelines.rules.policy, pipelines.link), kept verbatim
    rules: dict[str, Any] = Field(default_factory=dict)
    linkage: dict[str, Any] = Field(default_factory=dict)

    def linked(self) -> dict[str, LinkSpec]:
        """The datasets linked to the roll, in the order of config/datasets.yaml."""
        return {name: spec.link for name, spec in self.datasets.items() if spec.link is not None}

    def header_map(self, dataset: str) -> dict[str, str]:
        """Map every accepted header (canonical name or alias, normalised) to its canonical name."""
        spec = self.datasets[dataset]
        extra = self.ingest.header_aliases.get(dataset, {})
        mapping: dict[str, str] = {}
        for column, col in spec.columns.items():
            for label in (column, *col.aliases, *extra.get(column, [])):
                mapping[normalise_header(label)] = column
        return mapping


#: Where the review app's database is named (contract §6): the store of record for decisions.
REVIEW_DATABASE_ENV = "DIBAO_REVIEW_DATABASE_URL"


def review_database_url() -> str | None:
    """The review database's URL, or None when there is none: the only place the audit reads
    it; callers pass it on (`run_audit`, `discover`, `publish_audit`, the review import)."""
    return os.environ.get(REVIEW_DATABASE_ENV) or None


def normalise_header(label: str) -> str:
    """Fold a header for comparison: NFKC (full-width brackets), no spaces or BOM, lower case."""
    folded = unicodedata.normalize("NFKC", str(label)).replace("\ufeff", "")
    return "".join(folded.split()).lower()


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    merged = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = merge(merged[key], value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise InputError(f"configuration file {path} cannot be read: {exc}") from exc
    if not isinstance(loaded, dict):
        raise InputError(f"configuration file {path} must hold a mapping at the top level")
    return loaded


def load_config(user_file: Path | None = None) -> AuditConfig:
    """Load config/datasets.yaml and config/audit.yaml, then merge the user's file over them."""
    root = resource_dir("config")
    raw = merge(_read_yaml(root / "datasets.yaml"), _read_yaml(root / "audit.yaml"))
    if user_file is not None:
        raw = merge(raw, _read_yaml(user_file))
    try:
        return AuditConfig.model_validate(raw)
    except ValidationError as exc:
        where = user_file or root
        raise InputError(f"configuration {where} is not valid:\n{exc}") from exc
