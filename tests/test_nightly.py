"""The nightly DAG's task bodies without Airflow: where a run reads and writes, the webhook."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from pipelines.errors import InputError, UsageError
from pipelines.run import nightly


def test_params_win_over_variables_and_defaults(tmp_path: Path) -> None:
    params = {"input_dir": str(tmp_path / "in"), "output_dir": str(tmp_path / "out"),
              "as_of": "2026-10-31"}
    run = nightly.resolve_run(params, None, lambda key: "/from/variable")
    assert run["input_dir"] == str(tmp_path / "in")
    assert run["target"] == str(tmp_path / "out" / "2026-10-31")
    assert run["work_dir"] == str(tmp_path / "out" / ".work" / "2026-10-31")
    assert run["config_file"] == ""


def test_variables_then_embedded_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DIBAO_INPUT_DIR", raising=False)
    monkeypatch.delenv("DIBAO_OUTPUT_DIR", raising=False)
    variables = {"dibao_input_dir": "/data/city"}
    run = nightly.resolve_run({"as_of": "2026-10-31"}, None, variables.get)
    assert run["input_dir"] == "/data/city"
    assert run["output_dir"] == str(nightly.DEFAULT_OUTPUT)


def test_as_of_is_the_logical_date_in_shanghai() -> None:
    # 18:30 UTC on 31 October is already 1 November in Asia/Shanghai (UTC+8)
    when = dt.datetime(2026, 10, 31, 18, 30, tzinfo=dt.UTC)
    assert nightly.resolve_run({}, when)["as_of"] == "2026-11-01"
    when = dt.datetime(2026, 10, 31, 15, 59, tzinfo=dt.UTC)
    assert nightly.resolve_run({}, when)["as_of"] == "2026-10-31"


def test_a_malformed_as_of_is_an_input_error() -> None:
    with pytest.raises(UsageError) as caught:
        nightly.resolve_run({"as_of": "31/10/2026"}, None)
    assert isinstance(caught.value, InputError)  # fail_fast stops on it without retrying
    assert str(caught.value) == ("as_of 31/10/2026: not a calendar date; write it as "
                                 "YYYY-MM-DD, e.g. 2026-10-31")
    with pytest.raises(UsageError, match=r"^as_of 45961: not a calendar date"):
        nightly.resolve_run({"as_of": "45961"}, None)  # a spreadsheet serial is no audit date


@pytest.mark.parametrize("written", ["2026-10-31", "2026/10/31", "2026.10.31", "20261031",
                                     "2026年10月31日", "２０２６年１０月３１日"])
def test_as_of_param_takes_the_forms_the_command_line_takes(written: str) -> None:
    run = nightly.resolve_run({"as_of": written, "output_dir": "/out"}, None)
    assert run["as_of"] == "2026-10-31" and run["target"] == "/out/2026-10-31"


def test_a_malformed_as_of_fails_locate_at_once_and_is_reported_under_the_logical_date(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_HOME", str(tmp_path / "airflow_home"))
    monkeypatch.delenv("DIBAO_FAILURE_WEBHOOK", raising=False)
    from airflow.sdk.exceptions import AirflowFailException

    params = {"as_of": "2026-02-30", "output_dir": str(tmp_path / "out")}
    when = dt.datetime(2026, 10, 31, 3, 0, tzinfo=dt.UTC)
    with pytest.raises(AirflowFailException) as caught:  # no retry: the param stays wrong
        nightly.locate(params, when)
    message = "as_of 2026-02-30: not a calendar date; write it as YYYY-MM-DD, e.g. 2026-10-31"
    assert str(caught.value) == message
    assert isinstance(caught.value.__cause__, UsageError)

    class TaskInstance:
        dag_id, run_id, task_id, map_index, try_number = "dibao_nightly_audit", "r1", "locate", \
            -1, 1

        def xcom_pull(self, task_ids: str) -> None:
            return None

    context = {"ti": TaskInstance(), "params": params, "logical_date": when,
               "exception": caught.value}
    path = nightly.on_failure(context, lambda _: None)
    assert path == tmp_path / "out" / "_failed" / "2026-10-31.json"
    report = json.loads(path.read_text(encoding="utf-8"))
    assert report["message"] == message and report["task_id"] == "locate"


def test_an_unreachable_webhook_is_logged_not_raised() -> None:
    assert nightly.post_json("http://127.0.0.1:9/hook", b"{}", timeout=1) is False


def test_plan_removes_the_work_folders_other_dates_left(tmp_path: Path) -> None:
    from pipelines.run.nightly import resolve_run, sweep_other_work

    run = resolve_run({"input_dir": str(tmp_path / "in"), "output_dir": str(tmp_path / "out"),
                       "as_of": "2026-10-31"}, None)
    work = Path(run["work_dir"]).parent
    for name in ("2026-09-30", "2026-10-30", "2026-10-31"):  # a killed run, a failed one, ours
        (work / name).mkdir(parents=True)
        (work / name / "norm_roll.parquet").write_bytes(b"personal data")
    assert sweep_other_work(run) == ["2026-09-30", "2026-10-30"]
    assert sorted(p.name for p in work.iterdir()) == ["2026-10-31"]
    assert (work / "2026-10-31" / "norm_roll.parquet").exists()  # a retry of this date keeps it
