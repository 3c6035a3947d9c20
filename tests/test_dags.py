"""The Airflow DAGs: integrity, no work at parse time, and real runs through dag.test().

Airflow reads its configuration when first imported, so these tests give it its own
AIRFLOW_HOME (a file-based SQLite metadata DB, migrated once; in-memory SQLite does not work
with dag.test()) and import it only inside the tests. DAG runs go through a child process.
"""

from __future__ import annotations

import contextlib
import csv
import http.server
import io
import json
import os
import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from pipelines.cli import main

ROOT = Path(__file__).resolve().parents[1]
DAGS = ROOT / "dags"
AS_OF = "2026-10-31"
OUTPUTS = ("findings.csv", "remove_list.csv", "add_list.csv", "overdue.csv")
HEAVY = ("pandas", "duckdb", "pyarrow", "great_expectations", "numpy", "pipelines.run.stages")

# One child process runs every dag.test() of this module, one JSON request per stdin line
# ({"dag_id", "conf", "env"}): Airflow, Great Expectations and the pipeline are imported once,
# not once per run (a run in a fresh process cost 26 s, most of it imports). Each run's log
# ends with DAGRUN_STATE=<state> and the line DAGRUN_DONE.
RUN_DAGS = """
import json, os, sys
from airflow.dag_processing.dagbag import DagBag
bag = DagBag(sys.argv[1])
for request in sys.stdin:
    request = json.loads(request)
    saved = {k: os.environ.get(k) for k in request["env"]}
    os.environ.update(request["env"])
    try:
        run = bag.dags[request["dag_id"]].test(run_conf=request["conf"])
        print("DAGRUN_STATE=" + str(run.state), flush=True)
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        sys.stderr.flush()
        print("DAGRUN_DONE", flush=True)
"""

IMPORT_ONLY = """
import json, os, sys
touched = []
data = os.environ["DIBAO_INPUT_DIR"]
def hook(event, args):
    if event in ("open", "os.listdir", "os.scandir") and args and data in str(args[0]):
        touched.append(str(args[0]))
sys.addaudithook(hook)
import importlib.util
spec = importlib.util.spec_from_file_location("dag_under_test", sys.argv[1])
module = importlib.util.module_from_spec(spec)
spec.loader.exec_module(module)
heavy = [m for m in json.loads(sys.argv[2]) if m in sys.modules]
print("RESULT=" + json.dumps({"touched": touched, "heavy": heavy}))
"""


@pytest.fixture(scope="module")
def airflow_env(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    home = tmp_path_factory.mktemp("airflow_home")
    env = {"AIRFLOW_HOME": str(home), "AIRFLOW__CORE__DAGS_FOLDER": str(DAGS),
           "AIRFLOW__CORE__LOAD_EXAMPLES": "False",
           "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": f"sqlite:///{home / 'airflow.db'}"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)
    yield {**os.environ, **env}
    for key, value in saved.items():
        if value is None:
            os.environ.pop(key, None)
        else:
            os.environ[key] = value


@pytest.fixture(scope="module")
def migrated(airflow_env: dict[str, str]) -> dict[str, str]:
    subprocess.run([sys.executable, "-m", "airflow", "db", "migrate"], env=airflow_env,
                   check=True, capture_output=True)
    return airflow_env


def test_dag_imports_cleanly_with_its_contract(airflow_env: dict[str, str]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS))
    assert bag.import_errors == {}
    dag = bag.dags["dibao_nightly_audit"]
    assert {"dibao", "audit", "nightly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup
    assert "timezone='Asia/Shanghai'" in repr(dag.timetable)
    assert set(dag.params.keys()) >= {"input_dir", "output_dir", "as_of"}
    for task in dag.tasks:
        assert task.owner == "dibao-audit", task.task_id
        assert task.retries >= 2 and task.retry_exponential_backoff, task.task_id
    graph = {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks}
    assert graph["plan"] == ["ingest"]
    assert graph["ingest"] == ["validate"]
    assert graph["validate"] == ["link_roll"]
    assert graph["link_roll"] == ["link", "merge_links"]
    assert graph["link"] == ["merge_links"]
    assert graph["merge_links"] == ["rules"]
    assert graph["rules"] == ["write_audit"]
    assert graph["write_audit"] == ["review_import"]
    mapped = {t.task_id for t in dag.tasks if getattr(t, "is_mapped", False)}
    assert mapped == {"ingest", "link"}
    publish = dag.get_task("write_audit")
    assert {a.name for a in publish.outlets} >= {"dibao_audit_findings",
                                                 "dibao_audit_remove_list"}


def test_monthly_dag_is_triggered_by_the_audit_and_wires_pipelines(
        airflow_env: dict[str, str]) -> None:
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(str(DAGS))
    assert bag.import_errors == {}
    dag = bag.dags["dibao_monthly_publicity"]
    nightly = bag.dags["dibao_nightly_audit"]
    assert {"dibao", "publicity", "monthly"} <= set(dag.tags)
    assert dag.max_active_runs == 1 and not dag.catchup
    changes = next(a for a in nightly.get_task("write_audit").outlets
                   if a.name == "dibao_audit_changes")
    assert list(dag.timetable.asset_condition.objects) == [changes]
    assert set(dag.params.keys()) >= {"as_of", "output_dir", "warehouse", "community"}
    for task in dag.tasks:
        assert task.owner == "dibao-audit" and task.retries >= 2, task.task_id
    assert {t.task_id: sorted(t.downstream_task_ids) for t in dag.tasks} == {
        "select": ["oversight_report", "publicity"], "publicity": ["oversight_report"],
        "oversight_report": []}


def test_monthly_publication_acts_on_month_end_audits_only() -> None:
    from pipelines.run.monthly import resolve_publication

    mid = [{"as_of": "2026-11-15", "output_dir": "/data/out"}]
    assert resolve_publication({}, mid) is None          # a nightly run mid-month: skip
    ends = [*mid, {"as_of": "2026-10-31", "output_dir": "/data/out"},
            {"as_of": "2026-11-30", "output_dir": "/data/out"}]
    run = resolve_publication({}, ends)
    assert run is not None and run["as_of"] == "2026-11-30"
    assert run["target"] == "/data/out/2026-11-30"
    manual = resolve_publication({"as_of": "2026-09-30", "output_dir": "/x"}, [])
    assert manual is not None and manual["target"] == "/x/2026-09-30"
    fallback = resolve_publication({"as_of": "2026-09-30"}, [], lambda k: f"/var/{k}")
    assert fallback is not None and fallback["output_dir"] == "/var/dibao_output_dir"
    assert fallback["warehouse"] == "/var/dibao_warehouse"
    written = resolve_publication({"as_of": "2026年9月30日", "output_dir": "/x"}, [])
    assert written is not None and written["target"] == "/x/2026-09-30"


def test_monthly_as_of_param_is_refused_with_the_command_line_message() -> None:
    from pipelines.errors import UsageError
    from pipelines.run.monthly import resolve_publication

    for bad in ("2026-09-31", "30/09/2026", "45930"):
        with pytest.raises(UsageError) as caught:
            resolve_publication({"as_of": bad, "output_dir": "/x"}, [])
        assert str(caught.value) == (f"as_of {bad}: not a calendar date; write it as "
                                     "YYYY-MM-DD, e.g. 2026-10-31")


@pytest.mark.parametrize("dag_file", ["dibao_nightly_audit.py", "dibao_monthly_publicity.py"])
def test_importing_the_dag_touches_no_data(airflow_env: dict[str, str],
                                           minimal_input: Path, dag_file: str) -> None:
    env = {**airflow_env, "DIBAO_INPUT_DIR": str(minimal_input)}
    done = subprocess.run([sys.executable, "-c", IMPORT_ONLY,
                           str(DAGS / dag_file), json.dumps(HEAVY)],
                          env=env, capture_output=True, text=True, check=True)
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT="))
    result = json.loads(line[len("RESULT="):])
    assert result == {"touched": [], "heavy": []}


class DagRunner:
    """The child process that runs DAGs with dag.test(), and its merged output."""

    def __init__(self, env: dict[str, str]):
        self.proc = subprocess.Popen([sys.executable, "-c", RUN_DAGS, str(DAGS)], env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, text=True, bufsize=1)

    def run(self, conf: dict[str, str], env: dict[str, str] | None = None,
            dag_id: str = "dibao_nightly_audit",
            on_line: Callable[[str], None] | None = None) -> tuple[str, str]:
        """The run's final state and its log; `env` is set for this run only."""
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps({"dag_id": dag_id, "conf": conf,
                                          "env": env or {}}) + "\n")
        self.proc.stdin.flush()
        lines: list[str] = []
        for line in self.proc.stdout:
            if line.rstrip("\n") == "DAGRUN_DONE":
                break
            lines.append(line)
            if on_line:
                on_line(line)
        log = "".join(lines)
        states = [x for x in lines if x.startswith("DAGRUN_STATE=")]
        assert states, log[-4000:]
        return states[-1].strip().split("=", 1)[1], log

    def close(self) -> None:
        if self.proc.stdin:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


@pytest.fixture(scope="module")
def dags(migrated: dict[str, str]) -> Iterator[DagRunner]:
    # retries 2 s apart (the delay is read when the DAG file is parsed)
    runner = DagRunner({**migrated, "DIBAO_RETRY_DELAY": "2", "PYTHONUNBUFFERED": "1"})
    yield runner
    runner.close()


@pytest.fixture(scope="module")
def small_city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city")
    assert main(["synth", "--households", "300", "--seed", "7", "--out", str(folder)]) == 0
    return folder


@contextlib.contextmanager
def _webhook() -> Iterator[tuple[str, list[bytes]]]:
    """A local HTTP server that keeps the bodies POSTed to it."""
    received: list[bytes] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:  # noqa: N802
            received.append(self.rfile.read(int(self.headers["Content-Length"])))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


def _mangle_ids(path: Path) -> None:
    """Every ID number through a spreadsheet (4.20102E+17): a critical expectation fails."""
    raw = path.read_bytes()
    encoding = "utf-8-sig"
    try:
        raw.decode(encoding)
    except UnicodeDecodeError:
        encoding = "gb18030"
    rows = list(csv.reader(io.StringIO(raw.decode(encoding))))
    column = next(i for i, h in enumerate(rows[0]) if h.startswith(("身份证", "公民身份", "id_")))
    for row in rows[1:]:
        row[column] = "4.20102E+17"
    with path.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)


@pytest.mark.slow
def test_a_failed_run_then_the_fixed_rerun_gives_the_same_outputs_as_the_cli(
        dags: DagRunner, small_city: Path, tmp_path: Path) -> None:
    """One sequence of DAG runs over one output folder (each run costs half a minute):
    a critical expectation fails the run (webhook, report, nothing published); the fixed
    re-run succeeds with the CLI's outputs and imports into the review database; a second
    successful run replaces the date's folder with identical files; the monthly DAG writes
    the same publicity files as `dibao-audit publish`."""
    city = tmp_path / "city"
    shutil.copytree(small_city, city, ignore=shutil.ignore_patterns("truth"))
    good = (city / "roll.csv").read_bytes()
    _mangle_ids(city / "roll.csv")
    dag_root = tmp_path / "dag"
    conf = {"input_dir": str(city), "output_dir": str(dag_root), "as_of": AS_OF}
    with _webhook() as (url, received):
        # the webhook is configured as an Airflow Variable, set through the environment
        state, log = dags.run(conf, {"AIRFLOW_VAR_DIBAO_FAILURE_WEBHOOK": url})
    assert state == "failed", log[-4000:]
    assert len(received) == 1, log[-4000:]
    posted = json.loads(received[0])
    assert posted["task_id"] == "validate" and "roll.id_number.usable" in posted["message"]
    assert "roll.csv: expectation roll.id_number.usable failed" in log
    assert not (dag_root / AS_OF).exists(), "a failed run publishes nothing"
    report = json.loads((dag_root / "_failed" / f"{AS_OF}.json").read_text(encoding="utf-8"))
    assert report["task_id"] == "validate" and report["dataset"] == "roll"
    assert (dag_root / "_failed" / f"{AS_OF}.quality" / "validation.json").exists()
    assert "roll.id_number.usable" in report["message"]

    (city / "roll.csv").write_bytes(good)
    cli_out = tmp_path / "cli" / AS_OF
    assert main(["run", "--input", str(city), "--output", str(cli_out),
                 "--as-of", AS_OF]) == 0
    # with a review database configured, the run reads its decisions and imports its findings
    review_db = f"sqlite:///{tmp_path / 'review.sqlite3'}"
    state, log = dags.run(conf, {"DIBAO_REVIEW_DATABASE_URL": review_db})
    assert state == "success", log[-4000:]
    assert (dag_root / AS_OF / "findings.csv").exists()
    assert "Skipping registering function" not in log
    from sqlalchemy import create_engine, text

    with create_engine(review_db).connect() as con:
        imported = con.execute(text("SELECT count(*) FROM findings")).scalar_one()
    with (cli_out / "findings.csv").open(encoding="utf-8") as handle:
        assert imported == sum(1 for _ in handle) - 1 > 0
    for name in OUTPUTS:
        assert (cli_out / name).read_bytes() == (dag_root / AS_OF / name).read_bytes(), name
    # no work folder left; the earlier failure's report stays beside the outputs
    assert sorted(p.name for p in dag_root.iterdir()) == [AS_OF, "_failed", "warehouse.duckdb"]
    manifest = json.loads((dag_root / AS_OF / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["findings"] == json.loads(
        (cli_out / "manifest.json").read_text(encoding="utf-8"))["findings"]
    # a second successful run for the same date replaces the date's folder with identical files
    first = {name: (dag_root / AS_OF / name).read_bytes() for name in OUTPUTS}
    (dag_root / AS_OF / "stale.txt").write_text("left by hand")
    state, log = dags.run(conf)
    assert state == "success", log[-4000:]
    for name in OUTPUTS:
        assert (dag_root / AS_OF / name).read_bytes() == first[name], name
    assert not (dag_root / AS_OF / "stale.txt").exists()
    assert sorted(p.name for p in dag_root.iterdir()) == [AS_OF, "_failed", "warehouse.duckdb"]

    # the monthly publicity DAG, by hand for that month-end audit, writes the same files as
    # `dibao-audit publish`
    # (with the review database: the month's oversight reports beside them)
    state, log = dags.run({"as_of": AS_OF, "output_dir": str(dag_root)},
                          {"DIBAO_REVIEW_DATABASE_URL": review_db},
                          dag_id="dibao_monthly_publicity")
    assert state == "success", log[-4000:]
    reports = sorted(p.name for p in (dag_root / AS_OF / "report" / AS_OF[:7]).iterdir())
    assert f"全市督办报告-{AS_OF[:7]}.pdf" in reports and len(reports) >= 4
    assert main(["publish", "--as-of", AS_OF, "--output", str(cli_out)]) == 0
    dag_files = sorted(p.name for p in (dag_root / AS_OF / "publicity").iterdir())
    assert dag_files == sorted(p.name for p in (cli_out / "publicity").iterdir())
    assert len(dag_files) > 2 and any(n.endswith(".pdf") for n in dag_files)
    for name in dag_files:
        assert (dag_root / AS_OF / "publicity" / name).read_bytes() == \
            (cli_out / "publicity" / name).read_bytes(), name
    assert (dag_root / AS_OF / "decided" / "remove_list.csv").exists()


def _pg_admin() -> object:
    psycopg2 = pytest.importorskip("psycopg2")
    con = psycopg2.connect(host="127.0.0.1", port=5432, user="postgres", dbname="postgres",
                           connect_timeout=5)
    con.autocommit = True
    return con


@pytest.mark.slow
@pytest.mark.services
def test_unreachable_warehouse_is_retried_and_the_retry_succeeds(
        dags: DagRunner, small_city: Path, tmp_path: Path) -> None:
    """A transient failure: the warehouse database does not exist when publish first runs.
    The test creates it when the first failure shows in the run's log; the retry succeeds."""
    name = f"dibao_retry_test_{os.getpid()}"
    admin: Any = _pg_admin()
    with admin.cursor() as cur:
        cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    root = tmp_path / "out"
    conf = {"input_dir": str(small_city), "output_dir": str(root), "as_of": AS_OF,
            "warehouse": f"postgresql://postgres@127.0.0.1:5432/{name}"}
    created = False

    def create_when_refused(line: str) -> None:
        nonlocal created
        if not created and f"warehouse postgresql://postgres@127.0.0.1:5432/{name} cannot be " \
                           "opened" in line:
            with admin.cursor() as cur:
                cur.execute(f'CREATE DATABASE "{name}"')
            created = True

    try:
        state, log = dags.run(conf, on_line=create_when_refused)
    finally:
        with admin.cursor() as cur:
            cur.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()
    assert created, log[-4000:]
    assert state == "success", log[-4000:]
    assert (root / AS_OF / "changes.csv").exists()
    assert not (root / "_failed").exists(), "a retried failure is not a failed run"
