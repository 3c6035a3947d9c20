"""Rule policy: config/rules.yaml as typed models, resolved per district and category at a date.

The policy for a (district_code, category_code) at `as_of` is the city `defaults` with every
matching override merged over it in file order. An override matches when its `districts`
(division codes) and `categories` (urban/rural) include the pair - an empty list matches all -
and `as_of` lies within [effective_from, effective_to], both inclusive and either open.
Merging follows config/audit.yaml: mappings merge key by key, lists and scalars replace.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from pipelines.config import _read_yaml, merge
from pipelines.errors import InputError
from pipelines.resources import resource_dir
from pipelines.rules import codes
from pipelines.rules.codes import AmountBasis, Severity

FINDING_CODES = codes.names()
Category = Literal["urban", "rural"]
_CATEGORY_ALIASES = {"城市低保": "urban", "城市": "urban", "农村低保": "rural", "农村": "rural"}
_DISTRICT = re.compile(r"\d{6}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class VehicleRule(_Model):
    counted_statuses: tuple[str, ...] = ("active",)
    exempt_types: tuple[str, ...] = ("摩托车", "残疾人专用车")
    livelihood_exempt_types: tuple[str, ...] = ()
    min_purchase_price: float | None = None


class PropertyRule(_Model):
    min_residential_units: int = Field(default=2, ge=1)
    min_residential_area_per_capita: float | None = None
    count_non_residential: bool = True


class BusinessRule(_Model):
    counted_roles: tuple[str, ...] = ("legal_representative", "shareholder")
    counted_statuses: tuple[str, ...] = ("active",)
    min_subscribed_capital: float | None = None


class IncomeRule(_Model):
    excluded_pension_types: tuple[str, ...] = ("城乡居民基本养老保险基础养老金", "优待抚恤金")
    count_public_pay: bool = True


class StaffRule(_Model):
    near_relations: tuple[str, ...] = ("配偶", "父亲", "母亲", "子", "女", "兄弟姐妹", "祖父母",
                                       "外祖父母", "孙子", "孙女", "外孙子", "外孙女")
    max_shared_households: int = Field(default=3, ge=1)


class CodeRule(_Model):
    severity: Severity | None
    amount: AmountBasis
    action: str


def _code_defaults(given: dict[str, Any]) -> dict[str, Any]:
    """The registry's severity, amount and action per code, with `given` merged over them."""
    defaults: dict[str, Any] = {c.code: {"severity": c.severity, "amount": c.amount,
                                         "action": c.action} for c in codes.codes()}
    unknown = sorted(set(given) - set(defaults))
    if unknown:
        raise ValueError(f"findings: unknown code(s) {unknown}; the codes are those of "
                         f"config/findings.yaml: {list(defaults)}")
    for code, rule in given.items():
        rule = rule.model_dump() if isinstance(rule, CodeRule) else rule
        defaults[code] = {**defaults.get(code, {}), **(rule or {})}
    return defaults


class Policy(_Model):
    """The rules in force for one (district, category) at one date."""

    vehicle: VehicleRule = VehicleRule()
    property: PropertyRule = PropertyRule()
    business: BusinessRule = BusinessRule()
    income: IncomeRule = IncomeRule()
    staff: StaffRule = StaffRule()
    # per code: severity, amount basis, action; defaults from config/findings.yaml, any part
    # of which config/rules.yaml (defaults or an override) may change
    findings: dict[str, CodeRule] = Field(default_factory=dict, validate_default=True)

    @field_validator("findings", mode="before")
    @classmethod
    def _with_defaults(cls, value: Any) -> Any:
        return _code_defaults(value or {})

    @field_validator("findings")
    @classmethod
    def _every_code(cls, value: dict[str, CodeRule]) -> dict[str, CodeRule]:
        unknown = sorted(set(value) - set(FINDING_CODES))
        missing = [c for c in FINDING_CODES if c not in value]
        if unknown or missing:
            raise ValueError(f"findings must list exactly the codes {list(FINDING_CODES)}; "
                             f"unknown: {unknown}, missing: {missing}")
        return value


class Override(_Model):
    """A partial policy for some districts/categories over a date range."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str
    districts: tuple[str, ...] = ()
    categories: tuple[Category, ...] = ()
    effective_from: dt.date | None = None
    effective_to: dt.date | None = None
    changes: dict[str, Any] = Field(alias="set")

    @field_validator("districts", mode="before")
    @classmethod
    def _district_codes(cls, value: Any) -> Any:
        codes = [str(v).strip() for v in (value or [])]
        bad = [c for c in codes if not _DISTRICT.fullmatch(c)]
        if bad:
            raise ValueError(f"districts must be 6-digit division codes, got {bad}")
        return codes

    @field_validator("categories", mode="before")
    @classmethod
    def _category_codes(cls, value: Any) -> Any:
        return [_CATEGORY_ALIASES.get(str(v).strip(), str(v).strip()) for v in (value or [])]

    @model_validator(mode="after")
    def _ordered_dates(self) -> Override:
        if self.effective_from and self.effective_to and self.effective_to < self.effective_from:
            raise ValueError(f"override {self.name!r}: effective_to is before effective_from")
        return self

    def applies(self, district_code: str | None, category_code: str | None,
                as_of: dt.date) -> bool:
        """Whether this override is in force for the pair on `as_of`."""
        if self.districts and district_code not in self.districts:
            return False
        if self.categories and category_code not in self.categories:
            return False
        if self.effective_from is not None and as_of < self.effective_from:
            return False
        return self.effective_to is None or as_of <= self.effective_to


# The match tiers (pipelines/link/scoring.match_tiers), strongest first, with their Chinese
# names (findings.csv writes the English one; config accepts either).
TIER_LABELS = {"confirmed": "确认", "probable": "疑似", "possible": "待核实"}
TIER_WORDS = {**{label: name for name, label in TIER_LABELS.items()},
              **{name: name for name in TIER_LABELS}}
_CHINESE = tuple(TIER_LABELS.values())


class RulesConfig(_Model):
    """The whole of rules.yaml: severity weights, city defaults and overrides."""

    severity_weights: dict[str, float] = Field(
        default_factory=lambda: {"high": 3.0, "medium": 2.0, "low": 1.0})
    defaults: Policy
    overrides: tuple[Override, ...] = ()
    # match tiers whose findings enter remove_list.csv (确认/疑似/待核实 accepted too)
    remove_list_tiers: tuple[str, ...] = ("confirmed", "probable")

    @field_validator("remove_list_tiers", mode="before")
    @classmethod
    def _known_tiers(cls, value: object) -> object:
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, (list, tuple)):
            return value
        named = [TIER_WORDS.get(str(v).strip(), str(v).strip()) for v in value]
        unknown = sorted(set(named) - set(TIER_WORDS.values()))
        if unknown:
            raise ValueError(f"remove_list_tiers: unknown tiers {unknown} (use "
                             f"{', '.join(TIER_WORDS.values())} or {', '.join(_CHINESE)})")
        return tuple(named)

    @field_validator("severity_weights")
    @classmethod
    def _known_severities(cls, value: dict[str, float]) -> dict[str, float]:
        unknown = sorted(set(value) - {"high", "medium", "low"})
        if unknown:
            raise ValueError(f"severity_weights: unknown severities {unknown}")
        return value

    @model_validator(mode="after")
    def _overrides_valid(self) -> RulesConfig:
        base = self.defaults.model_dump()
        for override in self.overrides:
            try:
                Policy.model_validate(merge(base, override.changes))
            except ValidationError as exc:
                raise ValueError(f"override {override.name!r} is not valid: {exc}") from exc
        return self

    def policy_for(self, district_code: str | None, category_code: str | None,
                   as_of: dt.date) -> Policy:
        """The effective policy for a (district, category) on `as_of`."""
        raw = self.defaults.model_dump()
        for override in self.overrides:
            if override.applies(district_code, category_code, as_of):
                raw = merge(raw, override.changes)
        return Policy.model_validate(raw)

    def weight(self, severity: str | None) -> float:
        """Ranking weight of a severity (0 for none)."""
        return float(self.severity_weights.get(severity, 0.0)) if severity else 0.0


def load_rules(user_file: Path | None = None) -> RulesConfig:
    """Load config/rules.yaml and merge the `rules:` section of the user's file over it."""
    path = resource_dir("config") / "rules.yaml"
    raw = _read_yaml(path)
    if user_file is not None:
        user = _read_yaml(user_file).get("rules") or {}
        raw = merge(raw, user)
    try:
        return RulesConfig.model_validate(raw)
    except ValidationError as exc:
        raise InputError(f"rules configuration {user_file or path} is not valid:\n{exc}") from exc


POLICY_SCHEMA = pa.schema([
    ("district_code", pa.string()), ("category_code", pa.string()),
    ("vehicle_counted_statuses", pa.list_(pa.string())),
    ("vehicle_exempt_types", pa.list_(pa.string())),
    ("vehicle_min_purchase_price", pa.float64()),
    ("property_min_residential_units", pa.int64()),
    ("property_min_area_per_capita", pa.float64()),
    ("property_count_non_residential", pa.bool_()),
    ("business_counted_roles", pa.list_(pa.string())),
    ("business_counted_statuses", pa.list_(pa.string())),
    ("business_min_subscribed_capital", pa.float64()),
    ("income_excluded_pension_types", pa.list_(pa.string())),
    ("income_count_public_pay", pa.bool_()),
    ("staff_near_relations", pa.list_(pa.string())),
    ("staff_max_shared_households", pa.int64()),
])
CODE_SCHEMA = pa.schema([
    ("district_code", pa.string()), ("category_code", pa.string()),
    ("finding_code", pa.string()), ("code_order", pa.int64()), ("severity", pa.string()),
    ("weight", pa.float64()), ("amount_basis", pa.string()), ("action", pa.string()),
])


def policy_tables(rules: RulesConfig, keys: Iterable[tuple[str | None, str | None]],
                  as_of: dt.date) -> tuple[pa.Table, pa.Table]:
    """The resolved policy per (district_code, category_code) as two tables for SQL joins.

    The first has one row per pair with thresholds and lists; the second one row per pair and
    finding code with severity, weight, amount basis and action.
    """
    rows: list[dict[str, Any]] = []
    codes: list[dict[str, Any]] = []
    for district, category in sorted(set(keys), key=lambda k: (k[0] or "", k[1] or "")):
        p = rules.policy_for(district, category, as_of)
        rows.append({
            "district_code": district, "category_code": category,
            "vehicle_counted_statuses": list(p.vehicle.counted_statuses),
            "vehicle_exempt_types": [*p.vehicle.exempt_types, *p.vehicle.livelihood_exempt_types],
            "vehicle_min_purchase_price": p.vehicle.min_purchase_price,
            "property_min_residential_units": p.property.min_residential_units,
            "property_min_area_per_capita": p.property.min_residential_area_per_capita,
            "property_count_non_residential": p.property.count_non_residential,
            "business_counted_roles": list(p.business.counted_roles),
            "business_counted_statuses": list(p.business.counted_statuses),
            "business_min_subscribed_capital": p.business.min_subscribed_capital,
            "income_excluded_pension_types": list(p.income.excluded_pension_types),
            "income_count_public_pay": p.income.count_public_pay,
            "staff_near_relations": list(p.staff.near_relations),
            "staff_max_shared_households": p.staff.max_shared_households,
        })
        for order, code in enumerate(FINDING_CODES):
            rule = p.findings[code]
            codes.append({"district_code": district, "category_code": category,
                          "finding_code": code, "code_order": order, "severity": rule.severity,
                          "weight": rules.weight(rule.severity), "amount_basis": rule.amount,
                          "action": rule.action})
    return (pa.Table.from_pylist(rows, schema=POLICY_SCHEMA),
            pa.Table.from_pylist(codes, schema=CODE_SCHEMA))
