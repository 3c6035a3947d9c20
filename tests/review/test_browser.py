"""Browser tests: Playwright drives Debian's Chromium against `dibao-audit serve` (uvicorn) on a
free loopback port (SQLite copy of the seeded database). Screenshots go to
test-artifacts/screenshots/."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.review.conftest import PASSWORD

pytestmark = [pytest.mark.slow, pytest.mark.filterwarnings("ignore::DeprecationWarning")]

ROOT = Path(__file__).resolve().parents[2]
SHOTS = ROOT / "test-artifacts" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
#: the words the evidence was once written in (pipelines/link/levels.py, sql/rules/*.sql)
EVIDENCE_ENGLISH = (
    "ID matches", "repair", "check digit", "name same", "pinyin", "homophone", "shape-alike",
    "character differs", "birth date", "sex same", "same community", "same street",
    "same district", "relation", "linked", "death recorded", "owns ", "public payroll",
    "public pay", "pension", "subscribed capital", "also covered", "declared as",
    "approved by", "kin filing", "per-capita income", "below the standard",
    "not found on the roll", "counted income", "further evidence", "common name",
    "residential", "shares a personal", "roll household")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


TODAY = "2026-11-27"  # the app's today (DIBAO_TODAY): the seeded audit's leads are overdue


@contextmanager
def _serving(seed: Any, folder: Path) -> Iterator[tuple[str, Path]]:
    """`dibao-audit serve` (defaults: Secure cookies) on a copy of the seeded SQLite database,
    as a child process on a free port; (base URL, database file)."""
    path = folder / "review.sqlite3"
    shutil.copyfile(seed.template, path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "serve.log").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--port",
                              str(port), "--database", f"sqlite:///{path}"],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
                             env={**os.environ, "DIBAO_TODAY": TODAY})
    try:
        while True:
            assert child.poll() is None, (folder / "serve.log").read_text("utf-8")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, path
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait()
        log.close()


@pytest.fixture(scope="module")
def server(seeds: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    seed = seeds("sqlite")
    with _serving(seed, tmp_path_factory.mktemp("browser")) as (base, _):
        yield base, seed


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: scripts/system-packages.sh test installs it")
    SHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield chromium
        chromium.close()


def _login(browser: Any, base: str, username: str) -> Any:
    context = browser.new_context(locale="zh-CN", viewport={"width": 1400, "height": 900})
    page = context.new_page()
    page.goto(base + "/queue")
    assert "/login" in page.url
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button:has-text('登录')")
    page.wait_for_url(base + "/queue")
    return page


def test_login_filter_open_household_and_dismiss(server: tuple[str, Any], browser: Any) -> None:
    base, seed = server
    page = _login(browser, base, "cw_a")
    assert page.locator("header .who").inner_text().startswith("cw_a")
    page.screenshot(path=str(SHOTS / "01-queue.png"), full_page=True)

    total = int(page.locator("#queue-total").inner_text())
    with page.expect_response(lambda r: "/queue?" in r.url and r.status == 200):
        page.select_option("select[name=severity]", "high")
    page.wait_for_url("**severity=high**")
    filtered = int(page.locator("#queue-total").inner_text())
    assert 0 < filtered < total
    severities = page.locator("#queue-table tbody td:nth-child(3)").all_inner_texts()
    assert severities and set(severities) == {"高"}
    districts = page.locator("#queue-table tbody td:nth-child(7)").all_inner_texts()
    assert all(d.startswith(seed.district_a) for d in districts)
    page.screenshot(path=str(SHOTS / "02-queue-filtered.png"), full_page=True)

    page.locator("#queue-table tbody td:nth-child(6) a").first.click()
    page.wait_for_url("**/households/**")
    assert page.locator("#members tbody tr").count() >= 1
    card = page.locator("section.card").first
    assert card.locator("table.evidence-record").count() == 1
    assert card.locator("table.roll-row").count() == 1
    text = page.locator("main").inner_text()
    english = [w for w in EVIDENCE_ENGLISH if w.lower() in text.lower()]
    assert english == [], english  # the evidence is read by people who read Chinese
    page.screenshot(path=str(SHOTS / "03-household.png"), full_page=True)

    form = card.locator("form.decide-dismiss")
    form.locator("select[name=reason_code]").select_option("wrong_person")
    form.locator("textarea[name=note]").fill("入户核实：出生日期不同，非同一人")
    form.locator("button").click()
    page.wait_for_selector(".flash")
    assert "已保存" in page.locator(".flash").inner_text()
    assert page.locator("section.card .status").first.inner_text() == "排除待主管审批（非同一人）"
    assert "入户核实：出生日期不同" in page.locator("#history").inner_text()
    page.screenshot(path=str(SHOTS / "04-dismissed.png"), full_page=True)
    page.context.close()


def test_supervisor_approves_a_confirmed_stop(server: tuple[str, Any], browser: Any) -> None:
    base, _seed = server
    page = _login(browser, base, "cw_a")
    page.select_option("select[name=status]", "open")
    page.wait_for_url("**status=open**")
    page.locator("#queue-table tbody td:nth-child(6) a").first.click()
    page.wait_for_url("**/households/**")
    household = page.url
    card = page.locator("section.card:has(form.decide-confirm)").first
    finding = card.get_attribute("id")
    card.locator("form.decide-confirm textarea").fill("已核实死亡，建议停保")
    card.locator("form.decide-confirm button").click()
    page.wait_for_selector(".flash")
    assert page.locator(f"#{finding} .status").inner_text() == "待主管审批"
    page.screenshot(path=str(SHOTS / "05-confirmed-pending.png"), full_page=True)
    page.click("header button:has-text('退出')")
    page.wait_for_url("**/login")
    page.context.close()

    page = _login(browser, base, "sup1")
    page.goto(household)
    approve = page.locator(f"#{finding} form.decide-approve button")
    assert approve.count() == 1
    approve.click()
    page.wait_for_selector(".flash")
    assert page.locator(f"#{finding} .status").inner_text() == "已确认（已审批）"
    assert "审批人：sup1" in page.locator(f"#{finding}").inner_text()
    page.screenshot(path=str(SHOTS / "06-approved.png"), full_page=True)
    page.context.close()


STOPS = ("DECEASED", "PUBLIC_EMPLOYEE", "VEHICLE", "PROPERTY", "BUSINESS", "INCOME_OVER_STANDARD")


def _on_the_list(database: Path, audit_run: Path, folder: Path, on: str) -> set[str]:
    """Households on the decided remove list `publish` writes for day `on`."""
    import datetime as dt

    from pipelines.io.warehouse import open_warehouse
    from pipelines.publicity.publish import decided_lists

    with open_warehouse(str(audit_run.parent / "warehouse.duckdb")) as store:
        decided_lists(store, dt.date.fromisoformat("2026-10-31"), folder,
                      f"sqlite:///{database}", dt.date.fromisoformat(on))
    lines = (folder / "remove_list.csv").read_text(encoding="utf-8").splitlines()
    return {line.split(",")[0] for line in lines[1:]}


def _card_action(page: Any, finding_id: str, action: str, note: str = "") -> None:
    form = page.locator(f"#f-{finding_id} form.decide-{action}")
    if note:
        form.locator("textarea[name=note]").fill(note)
    form.locator("button").click()
    page.wait_for_selector(".flash")


def test_a_lead_from_found_to_overdue_escalated_decided_noticed_objected_and_decided_again(
        seeds: Any, browser: Any, audit_run: Path,
        tmp_path_factory: pytest.TempPathFactory) -> None:
    """Found by the audit of 2026-10-31 and still open on 2026-11-27 (5 working days past
    2026-11-20): overdue in the queue and on the supervisor's oversight page; escalated,
    confirmed by a supervisor, approved by another; noticed (answer by 2026-12-11); the remove
    list takes the household only from 2026-12-14; the household objects and it is off the
    list, back once decided again."""
    from sqlalchemy import create_engine, text

    seed = seeds("sqlite")
    folder = tmp_path_factory.mktemp("walk")
    with _serving(seed, folder) as (base, database):
        engine = create_engine(f"sqlite:///{database}")
        with engine.connect() as con:
            fid, household = con.execute(text(
                "SELECT finding_id, household_id FROM findings WHERE status = 'open' AND "
                "household_id IS NOT NULL AND district = :d AND finding_code IN "
                f"({', '.join(repr(c) for c in STOPS)}) ORDER BY priority DESC LIMIT 1"),
                {"d": seed.district_a}).one()
        engine.dispose()
        lists = iter(range(100))

        def listed(on: str) -> bool:
            return household in _on_the_list(database, audit_run, folder / f"l{next(lists)}",
                                              on)

        caseworker = _login(browser, base, "cw_a")
        with caseworker.expect_response(lambda r: "/queue?" in r.url and r.status == 200):
            caseworker.select_option("select[name=due]", "overdue")
        caseworker.wait_for_url("**due=overdue**")
        deadlines = caseworker.locator("#queue-table tbody td.deadline").all_inner_texts()
        assert deadlines and all("决定逾期 5 个工作日" in d for d in deadlines)
        caseworker.screenshot(path=str(SHOTS / "05-overdue-queue.png"), full_page=True)

        caseworker.goto(f"{base}/households/{household}")
        assert "决定逾期 5 个工作日" in caseworker.locator(f"#f-{fid}").inner_text()
        _card_action(caseworker, fid, "escalate", "车辆登记情况复杂，请主管决定")
        assert caseworker.locator(f"#f-{fid} .status").inner_text() == "已上报"

        supervisor = _login(browser, base, "sup1")
        supervisor.goto(f"{base}/oversight")
        assert fid in supervisor.locator("#overdue-list").inner_text()
        assert supervisor.locator("figure.chart svg").count() >= 3  # code, district, month
        supervisor.screenshot(path=str(SHOTS / "06-oversight.png"), full_page=True)
        supervisor.goto(f"{base}/households/{household}")
        _card_action(supervisor, fid, "confirm", "核实属实")
        assert supervisor.locator(f"#f-{fid} .status").inner_text() == "待主管审批"
        assert "审批剩余 5 个工作日" in supervisor.locator(f"#f-{fid}").inner_text()

        other = _login(browser, base, "sup2")
        other.goto(f"{base}/households/{household}")
        _card_action(other, fid, "approve")
        assert other.locator(f"#f-{fid} .status").inner_text() == "已确认（已审批）"
        assert not listed("2027-01-31")  # approved, but the household was not told

        caseworker.goto(f"{base}/households/{household}")
        caseworker.locator("#serve-notice button").click()
        caseworker.wait_for_selector("#notice-served")
        assert "2026-12-11" in caseworker.locator("#notice-served").inner_text()
        pdf = caseworker.request.get(f"{base}/households/{household}/notice.pdf")
        assert pdf.ok and pdf.body().startswith(b"%PDF")
        caseworker.screenshot(path=str(SHOTS / "07-noticed.png"), full_page=True)
        assert not listed("2026-12-11") and not listed("2026-12-13")
        assert listed("2026-12-14")

        caseworker.locator("#record-objection textarea").fill("当事人称车辆已于上月过户，提供过户证明")
        caseworker.locator("#record-objection button").click()
        caseworker.wait_for_selector("#notice-objected")
        assert caseworker.locator(f"#f-{fid} .status").inner_text() == "待处理"
        assert caseworker.locator("#notice-pdf").count() == 0  # the notice no longer holds
        assert caseworker.request.get(f"{base}/households/{household}/notice.pdf").status == 404
        assert not listed("2027-01-31")
        caseworker.screenshot(path=str(SHOTS / "08-objection.png"), full_page=True)

        _card_action(caseworker, fid, "confirm", "过户证明系伪造，维持原结论")
        supervisor.goto(f"{base}/households/{household}")
        _card_action(supervisor, fid, "approve")
        assert "异议已于 2026-11-27 处理完毕" in supervisor.locator("#notice").inner_text()
        assert listed(TODAY)
        history = supervisor.locator("#history").inner_text()
        for word in ("上报", "确认（提请审批）", "审批通过", "出具告知书", "记录异议"):
            assert word in history
        supervisor.screenshot(path=str(SHOTS / "09-redecided.png"), full_page=True)
        for page in (caseworker, supervisor, other):
            page.context.close()
