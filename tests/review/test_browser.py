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


@pytest.fixture(scope="module")
def server(seeds: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, Any]]:
    """`dibao-audit serve` (defaults: Secure cookies) as a child process on a free port."""
    seed = seeds("sqlite")
    folder = tmp_path_factory.mktemp("browser")
    path = folder / "review.sqlite3"
    shutil.copyfile(seed.template, path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = (folder / "serve.log").open("wb")
    child = subprocess.Popen([sys.executable, "-m", "pipelines.cli", "serve", "--port",
                              str(port), "--database", f"sqlite:///{path}"],
                             stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        while True:
            assert child.poll() is None, (folder / "serve.log").read_text("utf-8")
            try:
                if httpx.get(base + "/healthz", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.1)
        yield base, seed
    finally:
        os.killpg(child.pid, signal.SIGTERM)
        child.wait()
        log.close()


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
