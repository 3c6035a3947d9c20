"""Importing audit runs (idempotent by finding_id), the command line, and the pipeline hook:
a match dismissed as the wrong person is gone from the next audit."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import func, select

from pipelines.cli import main
from pipelines.errors import InputError
from pipelines.review.db import ENV_VAR, open_database, resolve_url
from pipelines.review.export import export_decisions
from pipelines.review.importer import import_run
from pipelines.review.models import Finding, Member, Run, RunFinding
from tests.review.conftest import AS_OF, PASSWORD, Env, form_of

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def counts(env: Env) -> tuple[int, int, int]:
    with env.factory() as session:
        return (session.scalar(select(func.count()).select_from(Finding)) or 0,
                session.scalar(select(func.count()).select_from(RunFinding)) or 0,
                session.scalar(select(func.count()).select_from(Run)) or 0)


def next_month(run: Path, target: Path, as_of: str = "2026-11-30") -> Path:
    """The same findings reported again by a later audit (manifest as_of changed)."""
    shutil.copytree(run, target)
    manifest = json.loads((target / "manifest.json").read_text("utf-8"))
    manifest["as_of"] = as_of
    (target / "manifest.json").write_text(json.dumps(manifest), "utf-8")
    return target


def test_reimport_neither_duplicates_nor_reopens_decided_cases(env: Env, audit_run: Path,
                                                              tmp_path: Path) -> None:
    findings_csv = list(csv.DictReader((audit_run / "findings.csv").open(encoding="utf-8")))
    before = counts(env)
    assert before == (len(findings_csv), len(findings_csv), 1)
    with env.factory() as session:
        target = session.scalars(select(Finding).where(Finding.household_id.is_not(None),
                                                       Finding.district == env.seed.district_a)
                                 .order_by(Finding.priority.desc())).first()
    assert target is not None
    client = env.client("cw_a")
    page = client.get(f"/households/{target.household_id}").text
    response = client.post(f"/findings/{target.finding_id}/decide", data={
        **form_of(page, target.finding_id, "dismiss"), "reason_code": "legitimate"})
    assert response.status_code == 303

    again = import_run(env.factory, audit_run)
    assert (again.total, again.new) == (len(findings_csv), 0)
    assert counts(env) == (before[0], before[1], 2)  # one more import recorded, nothing else
    later = import_run(env.factory, next_month(audit_run, tmp_path / "2026-11-30"))
    assert later.new == 0 and later.as_of == "2026-11-30"
    with env.factory() as session:
        decided = session.get(Finding, target.finding_id)
        assert decided is not None
        assert (decided.status, decided.version) == ("dismissed_legitimate", 2)
        assert (decided.first_as_of, decided.last_as_of) == (AS_OF, "2026-11-30")
        assert session.scalar(select(func.count()).select_from(RunFinding)) == 2 * before[1]
        assert list(session.scalars(select(Run.as_of).order_by(Run.id))) == [
            AS_OF, AS_OF, "2026-11-30"]
        assert session.scalar(select(func.count()).select_from(Finding).where(
            Finding.status != "open")) == 1
    history = client.get(f"/households/{target.household_id}").text
    assert "2026-10-31、2026-11-30" in history
    import_run(env.factory, audit_run)  # an older audit imported late: newer members kept
    with env.factory() as session:
        assert set(session.scalars(select(Member.as_of).distinct())) == {"2026-11-30"}


def test_import_fills_members_evidence_and_places(env: Env, audit_run: Path) -> None:
    with env.factory() as session:
        members = session.scalar(select(func.count()).select_from(Member)) or 0
        findings = list(session.scalars(select(Finding)))
    assert members > 0
    assert all(f.district and f.evidence_record for f in findings)
    add = [f for f in findings if f.finding_code == "ADD_CANDIDATE"]
    assert add and all(f.household_id is None for f in add)
    for finding in add:  # place from the low-income record itself
        assert json.loads(finding.evidence_record or "{}")["district"] == finding.district


def test_a_run_without_the_review_folder_imports_findings_only(audit_run: Path,
                                                               tmp_path: Path) -> None:
    run = tmp_path / "run"
    shutil.copytree(audit_run, run, ignore=shutil.ignore_patterns("review"))
    engine, factory = open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    result = import_run(factory, run)
    assert (result.members, result.with_evidence) == (0, 0) and result.total > 0
    with factory() as session:
        located = session.scalar(select(func.count()).select_from(Finding).where(
            Finding.district.is_not(None)))
        add = session.scalars(select(Finding).where(
            Finding.finding_code == "ADD_CANDIDATE")).all()
    engine.dispose()
    assert located and add and all(f.district for f in add)  # from add_list.csv


def test_an_older_audit_without_tiers_imports_and_a_wrong_tier_is_refused(
        audit_run: Path, tmp_path: Path) -> None:
    older = tmp_path / "older"
    shutil.copytree(audit_run, older)
    rows = list(csv.DictReader((older / "findings.csv").open(encoding="utf-8")))
    assert {r["tier"] for r in rows} >= {"confirmed", "possible"}
    columns = [c for c in rows[0] if c != "tier"]
    with (older / "findings.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, columns, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)
    engine, factory = open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    assert import_run(factory, older).total == len(rows)
    with factory() as session:
        assert set(session.scalars(select(Finding.tier).distinct())) == {None}
    wrong = tmp_path / "wrong"
    shutil.copytree(audit_run, wrong)
    text = (wrong / "findings.csv").read_text("utf-8")
    (wrong / "findings.csv").write_text(text.replace(",possible\n", ",maybe\n", 1), "utf-8")
    with pytest.raises(InputError, match="tier 'maybe' is not one of"):
        import_run(factory, wrong)
    engine.dispose()


def test_bad_input_is_reported_plainly(tmp_path: Path, audit_run: Path) -> None:
    engine, factory = open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    with pytest.raises(InputError, match="not a folder"):
        import_run(factory, tmp_path / "missing")
    broken = tmp_path / "broken"
    shutil.copytree(audit_run, broken)
    text = (broken / "findings.csv").read_text("utf-8").replace("amount_at_stake", "amount", 1)
    (broken / "findings.csv").write_text(text, "utf-8")
    with pytest.raises(InputError, match="amount_at_stake missing"):
        import_run(factory, broken)
    (broken / "manifest.json").unlink()
    with pytest.raises(InputError, match="manifest.json is missing"):
        import_run(factory, broken)
    engine.dispose()


def test_command_line_creates_users_imports_and_exits_2_on_bad_input(
        tmp_path: Path, audit_run: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv(ENV_VAR, raising=False)
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "--username", "w1", "--role", "caseworker",
                 "--district", "江岸区", "--password-stdin"]) == 0
    assert (tmp_path / "var" / "review.sqlite3").is_file()  # the documented default
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "--username", "w1", "--role", "supervisor",
                 "--password-stdin"]) == 2
    assert "already exists" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["users", "add", "--username", "w2", "--role", "caseworker",
                 "--password-stdin"]) == 2
    assert "--district" in capsys.readouterr().err
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["users", "add", "--username", "w3", "--role", "auditor",
                 "--password-stdin"]) == 2
    url = f"sqlite:///{tmp_path / 'other.sqlite3'}"
    assert main(["review", "import", "--run", str(audit_run), "--database", url]) == 0
    assert main(["review", "import", "--run", str(tmp_path / "nope"), "--database", url]) == 2
    assert "is not a folder" in capsys.readouterr().err
    assert main(["review", "import", "--run", str(audit_run), "--database",
                 f"sqlite:///{tmp_path / 'no' / 'such' / 'dir.sqlite3'}"]) == 2
    assert f"--database sqlite:///{tmp_path}/no/such/dir.sqlite3: the folder " \
           f"{tmp_path / 'no' / 'such'} does not exist" in capsys.readouterr().err
    monkeypatch.setenv(ENV_VAR, url)
    assert resolve_url() == url and resolve_url("sqlite:///x") == "sqlite:///x"
    assert resolve_url("postgresql://u@h/db") == "postgresql+psycopg2://u@h/db"


@pytest.mark.slow
@pytest.mark.parametrize("env", ["sqlite"], indirect=True)  # one full re-run suffices
def test_a_match_dismissed_as_wrong_person_is_gone_from_the_next_audit(
        env: Env, city: Path, audit_run: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    with env.factory() as session:
        target = session.scalars(select(Finding).where(
            Finding.district == env.seed.district_a, Finding.household_id.is_not(None),
            Finding.finding_code.in_(["DECEASED", "VEHICLE", "PROPERTY", "BUSINESS",
                                      "PUBLIC_EMPLOYEE"]))
            .order_by(Finding.priority.desc())).first()
        legit = session.scalars(select(Finding).where(
            Finding.district == env.seed.district_a, Finding.household_id.is_not(None),
            Finding.finding_id != (target.finding_id if target else ""))).first()
    assert target is not None and legit is not None
    client = env.client("cw_a")
    for finding, reason in ((target, "wrong_person"), (legit, "legitimate")):
        page = client.get(f"/households/{finding.household_id}").text
        response = client.post(f"/findings/{finding.finding_id}/decide", data={
            **form_of(page, finding.finding_id, "dismiss"), "reason_code": reason})
        assert response.status_code == 303
    # the wrong-person dismissal counts once a supervisor approved it
    assert {r["finding_id"] for r in export_decisions(env.url)} == {legit.finding_id}
    supervisor = env.client("sup1")
    page = supervisor.get(f"/households/{target.household_id}").text
    assert supervisor.post(f"/findings/{target.finding_id}/decide", data={
        **form_of(page, target.finding_id, "approve")}).status_code == 303
    assert {r["finding_id"] for r in export_decisions(env.url)} == {
        target.finding_id, legit.finding_id}

    monkeypatch.setenv(ENV_VAR, env.url)
    output = tmp_path / "next" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(output), "--as-of", AS_OF]) == 0
    before = {r["finding_id"] for r in csv.DictReader((audit_run / "findings.csv").open())}
    after = {r["finding_id"] for r in csv.DictReader((output / "findings.csv").open())}
    assert target.finding_id in before and target.finding_id not in after
    assert legit.finding_id in after  # only wrong-person dismissals suppress a match
    assert before - after == {target.finding_id}


def test_a_caseworker_scoped_to_a_place_no_lead_names_is_refused(
        tmp_path: Path, audit_run: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """`--district 江岸` (the city says 江岸区) once made an account whose queue stayed empty
    forever: the district and street must be ones the imported audits name."""
    import csv

    url = f"sqlite:///{tmp_path / 'places.sqlite3'}"
    assert main(["review", "import", "--run", str(audit_run), "--database", url]) == 0
    with (audit_run / "remove_list.csv").open(encoding="utf-8") as handle:
        place = next(csv.DictReader(handle))
    district, street = place["district"], place["street"]

    def add(name: str, *scope: str) -> int:
        monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
        return main(["users", "add", "--username", name, "--role", "caseworker", *scope,
                     "--password-stdin", "--database", url])

    assert add("w1", "--district", district[:-1]) == 2
    error = capsys.readouterr().err
    assert f"is not a district of this city: did you mean {district}" in error
    assert add("w2", "--district", district, "--street", street + "X") == 2
    assert f"is not a street of {district}" in capsys.readouterr().err
    assert add("w3", "--district", district, "--street", street) == 0


def test_priorities_use_the_audit_s_own_severity_weights(audit_run: Path, tmp_path: Path) -> None:
    """A place that weighs severities otherwise (rules.yaml severity_weights) gets its ranking
    in the app too, and the app's explanation names those weights."""
    import yaml

    from pipelines.review.app import priority_help

    run = tmp_path / "run"
    shutil.copytree(audit_run, run)
    config = yaml.safe_load((run / "config.effective.yaml").read_text("utf-8"))
    config["rules"]["severity_weights"] = {"high": 10.0, "medium": 2.0, "low": 0.5}
    (run / "config.effective.yaml").write_text(yaml.safe_dump(config, allow_unicode=True),
                                               "utf-8")
    engine, factory = open_database(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    import_run(factory, run)
    with factory() as session:
        findings = list(session.scalars(select(Finding)))
        note = priority_help(session)
    engine.dispose()
    weights = {"high": 10.0, "medium": 2.0, "low": 0.5}
    assert {f.severity for f in findings} >= {"high", "medium"}
    for finding in findings:
        assert finding.priority == pytest.approx(
            weights.get(finding.severity, 1) * finding.amount_at_stake * finding.score, abs=0.01)
    assert "高10" in note and "低0.5" in note
    (run / "config.effective.yaml").write_text("rules: {severity_weights: [1, 2]}", "utf-8")
    with pytest.raises(InputError, match="severity_weights is not readable"):
        import_run(*open_database(f"sqlite:///{tmp_path / 's.sqlite3'}")[1:], run)
