"""Configuration as data: the dataset schema and the audit settings, validated at load."""

from __future__ import annotations

import copy
import os
import unicodedata
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from pipelines.errors import InputError
from pipelines.resources import resource_dir

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


class WarehouseConfig(_Model):
    """The audit history: a DuckDB file path or a PostgreSQL URL; None: <output parent>/warehouse.duckdb."""

    url: str | None = None


class AuditConfig(_Model):
    """The whole effective configuration of one run."""

    city: CityConfig = CityConfig()
    ingest: IngestConfig = IngestConfig()
    validation: ValidationConfig = ValidationConfig()
    publicity: PublicityConfig = PublicityConfig()
    warehouse: WarehouseConfig = WarehouseConfig()
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
