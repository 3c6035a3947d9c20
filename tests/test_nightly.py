"""The nightly DAG's task bodies without Airflow: where a run reads and writes, the webhook."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from pipelines import nightly
from pipelines.errors import InputError


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
    with pytest.raises(InputError, match="not a date"):
        nightly.resolve_run({"as_of": "31/10/2026"}, None)


def test_an_unreachable_webhook_is_logged_not_raised() -> None:
    assert nightly.post_json("http://127.0.0.1:9/hook", b"{}", timeout=1) is False
