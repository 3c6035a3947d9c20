"""The finding-code registry (config/findings.yaml): complete, consistent, and enforced."""

from __future__ import annotations

import importlib

import duckdb
import pytest

from pipelines.config import load_config
from pipelines.resources import resource_dir
from pipelines.rules import codes
from pipelines.rules.findings import check_unique_ids
from pipelines.rules.policy import Policy, RulesConfig, load_rules
from pipelines.rules.runner import check_evidence


def test_the_contract_codes_in_the_contract_order() -> None:
    assert codes.names() == (
        "DECEASED", "DUPLICATE_RECEIPT", "PUBLIC_EMPLOYEE", "VEHICLE", "PROPERTY", "BUSINESS",
        "INCOME_OVER_STANDARD", "STAFF_RELATIVE_UNFILED", "STAFF_LINKED", "APPROVER_CONFLICT",
        "ADD_CANDIDATE")
    assert codes.household_codes() == {"INCOME_OVER_STANDARD", "STAFF_LINKED",
                                       "APPROVER_CONFLICT"}


@pytest.mark.parametrize("code", codes.codes(), ids=codes.names())
def test_every_entry_points_at_things_that_exist(code: codes.FindingCode) -> None:
    sql = resource_dir("sql") / "rules"
    assert (sql / f"{code.sql}.sql").is_file()
    datasets = set(load_config().datasets)
    assert set(code.needs) | set(code.any_of) | set(code.without) <= datasets
    if code.union is not None:
        assert set(code.union.sources) <= datasets
        assert all((sql / f"{r}.sql").is_file() for r in code.union.sources.values())
    for step in code.prepare:
        if step.startswith("python:"):
            _, module, function = step.split(":")
            assert callable(getattr(importlib.import_module(module), function))
        else:
            assert (sql / f"{step}.sql").is_file()
    if code.section is not None:
        assert code.section in Policy.model_fields
    assert code.label and not code.label.isascii()


def test_policy_defaults_come_from_the_registry_and_rules_yaml_changes_parts() -> None:
    rules = load_rules()
    for code in codes.codes():
        rule = rules.defaults.findings[code.code]
        assert (rule.severity, rule.amount, rule.action) == (code.severity, code.amount,
                                                             code.action)
    changed = RulesConfig.model_validate({
        "defaults": {"findings": {"STAFF_LINKED": {"severity": "medium"}}}})
    staff = changed.defaults.findings["STAFF_LINKED"]
    assert staff.severity == "medium" and staff.action == "review the link"  # the rest stays
    with pytest.raises(ValueError, match="unknown"):
        RulesConfig.model_validate({"defaults": {"findings": {"NO_SUCH_CODE": {}}}})


def _evidence_table(con: duckdb.DuckDBPyConnection, name: str, drop: str | None = None,
                    misspell: str | None = None) -> None:
    parts = []
    for column, kind in codes.evidence_columns().items():
        if column == drop:
            continue
        alias = "nmae" if column == misspell else column
        parts.append(f"NULL::{kind} AS {alias}")
    con.execute(f"CREATE TABLE {name} AS SELECT {', '.join(parts)}").fetchall()


def test_evidence_rows_must_have_the_declared_columns() -> None:
    con = duckdb.connect()
    code = codes.codes()[0]
    _evidence_table(con, code.sql)
    check_evidence(con, code)  # the declared shape passes
    con.execute(f"DROP TABLE {code.sql}").fetchall()
    _evidence_table(con, code.sql, misspell="name")  # would silently be NULL in a union by name
    with pytest.raises(RuntimeError, match=r"missing \['name'\], unknown \['nmae'\]"):
        check_evidence(con, code)


def test_a_repeated_finding_id_is_a_bug_not_a_merged_case() -> None:
    con = duckdb.connect()
    con.execute("CREATE TABLE findings AS SELECT * FROM (VALUES ('F1'), ('F2'), ('F1')) "
                "AS t(finding_id)").fetchall()
    with pytest.raises(RuntimeError, match="finding_id repeated"):
        check_unique_ids(con)
