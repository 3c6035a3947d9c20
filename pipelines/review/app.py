"""The review app: FastAPI with server-rendered Jinja2 pages (Chinese) and a little htmx.

`create_app(url)` migrates the database and returns the ASGI app. The session cookie is signed
(HttpOnly, SameSite=Strict, Secure unless `secure_cookies=False` for plain-HTTP deployments) and
carries a token of a server-side session (pipelines.review.sessions), looked up on every
request, so logout, deactivation and a new password end it at once. Every POST form carries the
session's CSRF token, checked on the server. Every page but the login page and /healthz sends
anonymous users to the login page.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import logging
import re
import secrets
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import Depends, FastAPI, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker
from starlette.middleware.sessions import SessionMiddleware

from pipelines import labels
from pipelines.logs import mask_ids
from pipelines.review import (
    accountability,
    attempts,
    audit,
    decisions,
    notice,
    oversight,
    queue,
    report,
    sessions,
)
from pipelines.review.auth import Account, Busy, account, authenticate
from pipelines.review.db import open_database, resolve_url, secret_key
from pipelines.review.importer import SEVERITY_WEIGHT
from pipelines.review.models import (
    AuditEntry,
    Decision,
    Finding,
    Member,
    Run,
    RunFinding,
    StaffMember,
)

log = logging.getLogger(__name__)
HERE = Path(__file__).resolve().parent
SHANGHAI = ZoneInfo("Asia/Shanghai")
SESSION_HOURS = sessions.SESSION_HOURS
# An account with this many failed logins within the window is refused until it passes; so is
# a client address with ADDRESS_FAILURES failed logins (any user names) within the window.
LOCKOUT_FAILURES = 5
ADDRESS_FAILURES = 20
LOCKOUT_MINUTES = 15
FIELD_LABELS = {
    "household_id": "户编号", "member_key": "序号", "name": "姓名", "id_number": "身份证号",
    "id_as_written": "身份证号（名册原写法）",
    "relation": "与户主关系", "district": "区", "street": "街道", "community": "社区",
    "address": "住址", "phone": "联系电话", "category": "保障类别", "household_size": "家庭人口",
    "monthly_amount": "月保障金额(元)", "start_date": "纳入时间", "approved_by": "经办人",
    "bank_account": "银行账号", "record_id": "记录号", "gender": "性别", "birth_date": "出生日期",
    "death_date": "死亡日期", "owner_name": "所有人", "owner_id_number": "所有人证件号",
    "owner_birth_date": "所有人出生日期", "plate": "号牌号码", "vehicle_type": "车辆类型",
    "registered_date": "登记日期", "status": "状态", "purchase_price": "购置价格(元)",
    "property_address": "坐落", "area": "建筑面积", "usage": "用途", "person_name": "姓名",
    "person_id_number": "证件号码", "role": "角色/职务", "company": "企业名称",
    "registered_capital": "注册资本(万元)", "subscribed_capital": "认缴出资额(万元)",
    "established_date": "成立日期", "employer": "单位", "monthly_pay": "月工资",
    "benefit_type": "待遇类型", "staff_id": "人员编号", "org": "单位",
    "relative_name": "亲属姓名", "relative_id_number": "亲属身份证号", "filed_date": "备案日期",
    "per_capita_income": "家庭月人均收入", "group": "人群类别",
}
#: a member's row of the roll; the household's monthly amount is shown once, above them
ROLL_FIELDS = ("name", "id_number", "id_as_written", "relation", "district", "street",
               "community", "address", "phone", "category", "household_size", "start_date",
               "approved_by", "bank_account")
#: fields whose value is a staff code: shown by the staff member's name, the code on hover
STAFF_FIELDS = frozenset({"approved_by", "staff_id"})
MONEY_FIELDS = frozenset({"monthly_amount", "purchase_price", "monthly_pay", "per_capita_income",
                          "amount_at_stake"})


def priority_help(session: Session) -> str:
    """What a priority means, with the weights of the latest audit imported (its rules.yaml)."""
    stored = session.scalar(select(Run.severity_weights).order_by(
        Run.as_of.desc(), Run.id.desc()).limit(1))
    weights: dict[str, float] = dict(SEVERITY_WEIGHT)
    with contextlib.suppress(ValueError, AttributeError, TypeError):
        weights = {str(k): float(v) for k, v in json.loads(stored).items()} if stored else weights
    return labels.priority_note(weights)


def money(value: object) -> str:
    """Yuan as the office writes them: 3,236.00 ('' for none; text as it is)."""
    if value is None or value == "":
        return ""
    try:
        return f"{float(str(value).replace(',', '')):,.2f}"
    except ValueError:
        return str(value)


class LoginRequired(Exception):
    """No signed-in user: send them to the login page."""


def local_time(value: dt.datetime | None) -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.UTC)
    return value.astimezone(SHANGHAI).strftime("%Y-%m-%d %H:%M:%S")


def client_of(request: Request) -> str | None:
    """The client's address as recorded (at most the audit log's 64 characters)."""
    return request.client.host[:64] if request.client else None


def csrf_token(request: Request) -> str:
    token = request.session.get("csrf")
    if not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return str(token)


async def check_csrf(request: Request) -> None:
    """Reject a POST whose form (or X-CSRF-Token header) lacks the session's token."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    expected = request.session.get("csrf") or ""
    if not isinstance(sent, str) or not expected or not secrets.compare_digest(sent, expected):
        raise HTTPException(403, "表单已失效或来源不明（CSRF 校验失败），请刷新页面后重试。")


def db(request: Request) -> Iterator[Session]:
    """A database session for one request."""
    with request.app.state.factory() as session:
        yield session


DB = Annotated[Session, Depends(db)]


def current(request: Request) -> Account:
    """The active account of a live server-side session; LoginRequired otherwise. Looked up in
    a session of its own, closed at once: a request holds no connection for its signed-in user
    while it works (a decision held two, and 20 at once exhausted the pool)."""
    with request.app.state.factory() as session:
        user = sessions.user_of(session, request.session.get("sid"))
        who = account(user) if user is not None else None
    if who is None:
        request.session.pop("sid", None)
        raise LoginRequired()
    return who


Who = Annotated[Account, Depends(current)]


def create_app(database_url: str | None = None, *, secure_cookies: bool = True) -> FastAPI:
    """The review app over `database_url` (resolved as in `db.resolve_url`), schema migrated."""
    url = resolve_url(database_url)
    engine, factory = open_database(url)
    app = FastAPI(title="低保线索核查", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.engine, app.state.factory = engine, factory
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals.update(
        CODE_LABELS=queue.CODE_LABELS, SEVERITY_LABELS=queue.SEVERITY_LABELS,
        TIER_LABELS=queue.TIER_LABELS, SORTS=queue.SORTS,
        STATUS_LABELS=decisions.STATUS_LABELS, ACTION_LABELS=decisions.ACTION_LABELS,
        AUDIT_ACTIONS=audit.ACTIONS, FIELD_LABELS=FIELD_LABELS, csrf_token=csrf_token,
        local_time=local_time, mask_ids=mask_ids, DATASET_LABELS=labels.DATASET_LABELS,
        MONEY_FIELDS=MONEY_FIELDS,
        STAFF_FIELDS=STAFF_FIELDS, SCORE_NOTE=labels.SCORE_NOTE,
        SOURCE_LABELS=accountability.SOURCE_LABELS, CHANNELS=accountability.CHANNELS)
    templates.env.filters["money"] = money
    templates.env.filters["match_score"] = labels.match_score
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.add_middleware(SessionMiddleware, secret_key=secret_key(factory),
                       session_cookie="dibao_review_session", max_age=SESSION_HOURS * 3600,
                       same_site="strict", https_only=secure_cookies)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Callable[..., Any]) -> Response:
        response: Response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")
        response.headers["X-Frame-Options"] = "DENY"
        response.headers["X-Content-Type-Options"] = "nosniff"
        response.headers["Referrer-Policy"] = "same-origin"
        response.headers["Content-Security-Policy"] = (
            "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; "
            "form-action 'self'")
        return response

    def render(request: Request, name: str, context: dict[str, Any], status: int = 200,
               who: Account | None = None) -> HTMLResponse:
        flash = request.session.pop("flash", None)
        return templates.TemplateResponse(request, name, {**context, "who": who,
                                                          "flash": flash}, status_code=status)

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired) -> Response:
        target = "/login?next=" + quote(request.url.path, safe="/")
        if request.headers.get("hx-request"):
            return Response(status_code=401, headers={"HX-Redirect": target})
        return RedirectResponse(target, status_code=303)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if request.url.path.startswith("/healthz"):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
        messages = {404: "未找到该页面或您无权查看。", 403: "您无权执行此操作。",
                    405: "不支持的请求方式。"}
        detail = exc.detail if isinstance(exc.detail, str) and exc.status_code != 404 else (
            messages.get(exc.status_code, "请求有误。"))
        try:  # the user bar stays: who is signed in, the way back, signing out
            who: Account | None = current(request) if "session" in request.scope else None
        except LoginRequired:
            who = None
        return templates.TemplateResponse(request, "error.html", {
            "who": who, "flash": None, "status": exc.status_code, "message": detail},
            status_code=exc.status_code)

    @app.get("/healthz")
    def healthz() -> dict[str, str]:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        return {"status": "ok"}

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str = "/queue") -> HTMLResponse:
        return render(request, "login.html", {"next": next, "error": None, "username": ""})

    # Plain `def` endpoints run in the thread pool: a password check (argon2, ~0.8 s of CPU) or
    # a database wait never holds the event loop, so other requests and /healthz go on.
    @app.post("/login", dependencies=[Depends(check_csrf)], response_class=HTMLResponse)
    def login(request: Request, username: Annotated[str, Form()] = "",
              password: Annotated[str, Form()] = "",
              next: Annotated[str, Form()] = "/queue") -> Response:
        target = next or "/queue"
        if not target.startswith("/") or target.startswith("//"):
            target = "/queue"
        name = username.strip()[:64] or "-"
        client = client_of(request)
        with attempts.holding(name, client or ""), factory() as session:
            since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=LOCKOUT_MINUTES)
            failed = select(func.count()).select_from(AuditEntry).where(
                AuditEntry.action == "login_failed", AuditEntry.at >= since)
            blocked = None
            if client is not None and (session.scalar(failed.where(
                    AuditEntry.client_addr == client)) or 0) >= ADDRESS_FAILURES:
                blocked = "address"
            elif (session.scalar(failed.where(AuditEntry.username == name)) or 0) \
                    >= LOCKOUT_FAILURES:
                blocked = "account"
            try:
                who = None if blocked else authenticate(session, username.strip(), password)
            except Busy:
                return render(request, "login.html", {
                    "next": target, "username": username,
                    "error": "登录请求过多，请稍后再试。"}, status=503)
            # recorded before the next attempt on this account or address is counted
            with factory.begin() as log_session:
                action = "login" if who else ("login_blocked" if blocked else "login_failed")
                audit.record(log_session, who or name, action, detail=blocked, client=client)
                if who is not None:
                    sessions.end(log_session, request.session.get("sid"))
                    token = sessions.start(log_session, who.id, client)
        if blocked:
            subject = "该账号" if blocked == "account" else "您所在的网络地址"
            return render(request, "login.html", {
                "next": target, "username": username,
                "error": f"{subject}登录失败次数过多，请 {LOCKOUT_MINUTES} 分钟后再试。"},
                status=429)
        if who is None:
            return render(request, "login.html", {"next": target, "username": username,
                                                  "error": "用户名或密码错误。"}, status=401)
        request.session.clear()
        request.session.update({"sid": token, "csrf": secrets.token_urlsafe(32)})
        return RedirectResponse(target, status_code=303)

    @app.post("/logout", dependencies=[Depends(check_csrf)])
    def logout(request: Request, who: Who) -> Response:
        with factory.begin() as session:
            sessions.end(session, request.session.get("sid"))
            audit.record(session, who, "logout", client=client_of(request))
        request.session.clear()
        return RedirectResponse("/login", status_code=303)

    @app.get("/")
    def home(who: Who) -> Response:
        return RedirectResponse("/audit" if who.can_audit else "/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request, who: Who, session: DB, page: int = 1) -> HTMLResponse:
        filters, options = queue.narrowed(
            session, who, queue.Filters.from_params(request.query_params))
        result = queue.page(session, who, filters, page)
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_queue", filters.described() or "全部",
                         f"{result['total']} findings, page {result['page']}",
                         client_of(request))
        partial = request.headers.get("hx-target") == "queue-results"
        context = {"filters": filters, "result": result, "options": options, "oob": partial}
        response = render(request, "_queue_results.html" if partial else "queue.html", context,
                          who=who)
        if partial:  # the URL of what is shown (a street outside the new district dropped)
            query = filters.query_string()
            response.headers["HX-Push-Url"] = "/queue" + ("?" + query if query else "")
        return response

    @app.get("/queue.xlsx")
    def queue_export(request: Request, who: Who,
                     session: DB) -> Response:
        filters = queue.Filters.from_params(request.query_params)
        body, count = queue.xlsx(session, who, filters)
        with factory.begin() as log_session:
            audit.record(log_session, who, "export_queue", filters.described() or "全部",
                         f"{count} findings", client_of(request))
        stamp = dt.datetime.now(SHANGHAI).strftime("%Y%m%d-%H%M")
        return Response(body, media_type=(
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
            headers={"Content-Disposition": f"attachment; filename=\"queue-{stamp}.xlsx\""})

    def case_context(session: Session, who: Account, findings: list[Finding],
                     household_id: str | None) -> dict[str, Any]:
        members = list(session.scalars(select(Member).where(
            Member.household_id == household_id).order_by(Member.member_key))) \
            if household_id else []
        ids = [f.finding_id for f in findings]
        history = list(session.scalars(select(Decision).where(Decision.finding_id.in_(ids))
                                       .order_by(Decision.id)))
        seen: dict[str, list[str]] = {}
        for as_of, fid in session.execute(select(RunFinding.as_of, RunFinding.finding_id)
                                          .where(RunFinding.finding_id.in_(ids))
                                          .order_by(RunFinding.as_of)):
            seen.setdefault(fid, []).append(as_of)
        cards = []
        named = {m.approved_by for m in members if m.approved_by}
        for finding in findings:
            try:
                record = json.loads(finding.evidence_record or "{}")
            except ValueError:
                record = {}
            if isinstance(record, dict):
                named |= {str(record[k]) for k in STAFF_FIELDS if record.get(k)}
            roll = next((m for m in members if m.id_number and m.id_number == finding.id_number),
                        None) or next((m for m in members if m.relation == "户主"), None) or (
                members[0] if members else None)
            cards.append({"f": finding, "record": record if isinstance(record, dict) else {},
                          "roll": roll, "seen": seen.get(finding.finding_id, []),
                          "actions": decisions.allowed_actions(who, finding),
                          "request_id": uuid.uuid4().hex})
        config = accountability.settings(session)
        calendar, today = config.calendar(), accountability.today()
        for card, finding in zip(cards, findings, strict=True):
            card["deadline"] = accountability.deadline(finding, calendar, today)
        served = [f for f in findings if f.notice_on]
        latest = max((f.notice_on or "" for f in served), default="")
        notice_state = {
            "waiting": accountability.noticeable(findings), "response_days": config.response_days,
            "served": bool(served), "served_on": latest,
            "respond_by": next((f.respond_by for f in served if f.notice_on == latest), ""),
            "objectable": accountability.objectable(findings),
            "objected": max((f.objection_on or "" for f in findings), default=""),
            "objection_decided": max((f.objection_decided_on or "" for f in findings),
                                     default="")}
        staff = {s.staff_id: s for s in session.scalars(select(StaffMember).where(
            StaffMember.staff_id.in_(sorted(named))))} if named else {}
        return {"cards": cards, "members": members, "history": history, "staff": staff,
                "PRIORITY_HELP": priority_help(session), "notice": notice_state,
                "can_notice": who.can_decide and not any(
                    decisions.recused(who, f) for f in findings),
                "household_id": household_id, "roll_fields": ROLL_FIELDS, "drafts": {},
                "conflict": None, "error": None}

    def refuse(request: Request, who: Account, target: str, what: str) -> None:
        """Log a request for data outside the user's scope, then answer it as not found."""
        with factory.begin() as log_session:
            audit.record(log_session, who, "access_refused", target, what, client_of(request))
        raise HTTPException(404)

    def household_findings(session: Session, who: Account, household_id: str,
                           request: Request) -> list[Finding]:
        found = session.scalars(select(Finding).where(Finding.household_id == household_id)
                                .order_by(Finding.priority.desc(), Finding.finding_id)).all()
        visible = [f for f in found if who.sees(f)]
        if found and not visible:
            refuse(request, who, household_id, "household outside the user's scope")
        if not visible:
            raise HTTPException(404)
        return visible

    @app.get("/households/{household_id}", response_class=HTMLResponse)
    def household_page(request: Request, household_id: str, who: Who,
                       session: DB) -> HTMLResponse:
        findings = household_findings(session, who, household_id, request)
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_household", household_id,
                         f"{len(findings)} findings", client_of(request))
        return render(request, "case.html", case_context(session, who, findings, household_id),
                      who=who)

    @app.post("/households/{household_id}/notice", dependencies=[Depends(check_csrf)])
    def serve_notice(request: Request, household_id: str, who: Who, session: DB) -> Response:
        household_findings(session, who, household_id, request)  # scope, refusals logged
        try:
            served = accountability.serve_notice(factory, who, household_id, client_of(request))
        except accountability.AccountabilityError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        request.session["flash"] = f"已出具告知书（{len(served)} 条线索），可下载打印后送达。"
        return RedirectResponse(f"/households/{quote(household_id)}#notice", status_code=303)

    @app.get("/households/{household_id}/notice.pdf")
    def notice_pdf(request: Request, household_id: str, who: Who, session: DB) -> Response:
        findings = household_findings(session, who, household_id, request)
        # the notice in force: its leads confirmed, not objected to (an objection voids it)
        served = accountability.objectable(findings)
        if not served:
            raise HTTPException(404, "该家庭没有有效的告知书（尚未出具，或当事人已提出异议）。")
        latest = max(f.notice_on or "" for f in served)
        leads = [f for f in served if f.notice_on == latest]
        members = list(session.scalars(select(Member).where(Member.household_id == household_id)
                                       .order_by(Member.member_key)))
        head = next((m for m in members if m.relation in ("户主", "本人")),
                    members[0] if members else None)
        config = accountability.settings(session)
        respond_by = dt.date.fromisoformat(leads[0].respond_by or latest)
        body = notice.render_notice(notice.Notice(
            household_id=household_id, head_name=(head.name if head else "") or "户主",
            address=(head.address if head else "") or "",
            served_on=dt.date.fromisoformat(latest), respond_by=respond_by,
            effective_on=config.calendar().add(respond_by, 1),
            office=config.notice_office or "区民政局社会救助科",
            phone=config.notice_phone or "12345", leads=notice.notice_leads(leads)))
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_notice", household_id,
                         f"notice of {latest}, {len(leads)} findings", client_of(request))
        return Response(body, media_type="application/pdf", headers={
            "Content-Disposition": f"inline; filename=\"notice-{household_id}-{latest}.pdf\""})

    @app.post("/households/{household_id}/objection", dependencies=[Depends(check_csrf)])
    def objection(request: Request, household_id: str, who: Who, session: DB,
                  text: Annotated[str, Form()] = "") -> Response:
        household_findings(session, who, household_id, request)  # scope, refusals logged
        try:
            reopened = accountability.record_objection(factory, who, household_id, text,
                                                       client_of(request))
        except accountability.AccountabilityError as exc:
            raise HTTPException(exc.status, str(exc)) from None
        request.session["flash"] = (f"已记录异议：{len(reopened)} 条线索重新打开，"
                                    "请重新核查后作出决定。")
        return RedirectResponse(f"/households/{quote(household_id)}#notice", status_code=303)

    @app.get("/complaints/new", response_class=HTMLResponse)
    def complaint_form(request: Request, who: Who) -> HTMLResponse:
        if not who.can_decide:
            raise HTTPException(403, "您的角色为只读，不能登记举报。")
        return render(request, "complaint.html", {
            "today": accountability.today().isoformat(), "values": {}, "error": None,
            "request_id": uuid.uuid4().hex}, who=who)

    @app.post("/complaints", dependencies=[Depends(check_csrf)])
    def complaint(request: Request, who: Who, channel: Annotated[str, Form()] = "",
                  received_on: Annotated[str, Form()] = "",
                  household_id: Annotated[str, Form()] = "",
                  id_number: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                  content: Annotated[str, Form()] = "",
                  during_publicity: Annotated[str, Form()] = "",
                  request_id: Annotated[str, Form()] = "") -> Response:
        values = {"channel": channel, "received_on": received_on, "household_id": household_id,
                  "id_number": id_number, "name": name, "content": content,
                  "during_publicity": during_publicity}
        try:
            fid = accountability.record_complaint(
                factory, who, channel=channel, received_on=received_on,
                household_id=household_id, id_number=id_number, name=name, content=content,
                during_publicity=bool(during_publicity), request_id=request_id,
                client=client_of(request))
        except accountability.AccountabilityError as exc:
            if exc.status != 400:
                raise HTTPException(exc.status, str(exc)) from None
            return render(request, "complaint.html", {
                "today": accountability.today().isoformat(), "values": values,
                "error": str(exc), "request_id": request_id or uuid.uuid4().hex},
                status=400, who=who)
        request.session["flash"] = "举报已登记为线索，按期限办理。"
        return RedirectResponse(f"/findings/{fid}", status_code=303)

    @app.get("/findings/{finding_id}", response_class=HTMLResponse)
    def finding_page(request: Request, finding_id: str, who: Who,
                     session: DB) -> Response:
        finding = session.get(Finding, finding_id)
        if finding is not None and not who.sees(finding):
            refuse(request, who, finding_id, "finding outside the user's scope")
        if finding is None:
            raise HTTPException(404)
        if finding.household_id:
            return RedirectResponse(f"/households/{quote(finding.household_id)}#f-{finding_id}",
                                    status_code=303)
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_person", finding_id, finding.finding_code,
                         client_of(request))
        return render(request, "case.html", case_context(session, who, [finding], None), who=who)

    @app.post("/findings/{finding_id}/decide", dependencies=[Depends(check_csrf)])
    def decide(request: Request, finding_id: str, who: Who,
               action: Annotated[str, Form()] = "", note: Annotated[str, Form()] = "",
               reason_code: Annotated[str, Form()] = "", version: Annotated[str, Form()] = "",
               request_id: Annotated[str, Form()] = "") -> Response:
        try:
            seen = int(version)
        except ValueError:
            raise HTTPException(400, "缺少版本号，请刷新页面。") from None
        try:
            outcome = decisions.decide(factory, who, finding_id, action, seen, reason_code,
                                       note, client_of(request), request_id or None)
        except decisions.DecisionError as exc:
            if exc.status == 404 and exc.out_of_scope:
                refuse(request, who, finding_id, "decision on a finding outside the user's scope")
            raise HTTPException(exc.status, str(exc)) from None
        except decisions.Conflict:
            return conflict_page(request, who, finding_id, action, reason_code, note)
        request.session["flash"] = (
            f"已保存：{decisions.ACTION_LABELS[outcome.action]}"
            f"（当前状态：{decisions.STATUS_LABELS[outcome.status]}）")
        target = (f"/households/{quote(outcome.household_id)}" if outcome.household_id
                  else f"/findings/{finding_id}")
        return RedirectResponse(f"{target}#f-{finding_id}", status_code=303)

    def conflict_page(request: Request, who: Account, finding_id: str, action: str,
                      reason_code: str, note: str) -> Response:
        with factory() as session:
            finding = session.get(Finding, finding_id)
            assert finding is not None
            findings = (household_findings(session, who, finding.household_id, request)
                        if finding.household_id else [finding])
            context = case_context(session, who, findings, finding.household_id)
        with factory.begin() as session:
            audit.record(session, who, "decision_conflict", finding_id, action,
                         client_of(request))
            # the page shows the household's personal data again: a view like any other
            if finding.household_id:
                audit.record(session, who, "view_household", finding.household_id,
                             f"{len(findings)} findings (after a conflict)", client_of(request))
            else:
                audit.record(session, who, "view_person", finding_id, finding.finding_code,
                             client_of(request))
        by = finding.approved_by or finding.decided_by
        context["conflict"] = (
            f"保存失败：这条线索刚刚已被{('“' + by + '”') if by else '其他人员'}处理，"
            f"当前状态为“{decisions.STATUS_LABELS[finding.status]}”。"
            "您的操作没有保存，您填写的内容保留在下方，请核对最新情况后再决定是否重新提交。")
        context["drafts"] = {finding_id: {"action": action, "note": note,
                                          "reason_code": reason_code}}
        return render(request, "case.html", context, status=409, who=who)

    def oversight_result(request: Request, who: Account,
                         session: Session) -> tuple[oversight.Oversight, Any]:
        if not (who.can_approve or who.can_audit):
            raise HTTPException(403, "只有主管和审计人员可以查看督办统计。")
        params = request.query_params
        district = str(params.get("district") or "").strip()[:64]
        month = str(params.get("month") or "").strip()[:7]
        if month and not re.fullmatch(r"\d{4}-\d{2}", month):
            raise HTTPException(400, "月份应写作 YYYY-MM。")
        config = accountability.settings(session)
        return oversight.compute(session, who, config, district=district, month=month), config

    @app.get("/oversight", response_class=HTMLResponse)
    def oversight_page(request: Request, who: Who, session: DB) -> HTMLResponse:
        result, config = oversight_result(request, who, session)
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_oversight",
                         f"district={result.district or '全部'}, month={result.month or '全部'}",
                         f"{result.total.found} findings", client_of(request))
        districts = sorted(d for d in session.scalars(select(Finding.district).distinct()) if d)
        months = sorted({m[:7] for m in session.scalars(select(Finding.first_as_of).distinct())})
        figures = [Markup(c.svg()) for c in report.chart_set(result, config.confirmation_floor)]
        return render(request, "oversight.html", {
            "r": result, "config": config, "charts": figures, "districts": districts,
            "months": months, "lines": report.summary_lines(result, config),
            "DIMENSIONS": oversight.DIMENSIONS, "pct": report.pct}, who=who)

    @app.get("/oversight/report.{kind}")
    def oversight_report(request: Request, kind: str, who: Who, session: DB) -> Response:
        if kind not in ("pdf", "xlsx"):
            raise HTTPException(404)
        result, config = oversight_result(request, who, session)
        title = (f"{result.district or '全市'}最低生活保障线索督办报告"
                 f"（{result.month or '全部月份'}）")
        if kind == "pdf":
            body, media = report.render_pdf(result, config, title), "application/pdf"
        else:
            import tempfile

            with tempfile.TemporaryDirectory(prefix="dibao-report-") as tmp:
                path = Path(tmp) / "report.xlsx"
                report.write_xlsx(result, config, path, title)
                body = path.read_bytes()
            media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        with factory.begin() as log_session:
            audit.record(log_session, who, "export_report", title[:128], kind,
                         client_of(request))
        stamp = result.month or result.today.isoformat()
        return Response(body, media_type=media, headers={
            "Content-Disposition": f"attachment; filename=\"oversight-{stamp}.{kind}\""})

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, who: Who, session: DB, page: int = 1) -> HTMLResponse:
        if not who.can_audit:
            raise HTTPException(403, "只有审计人员可以查看审计日志。")
        params = request.query_params
        search = audit.Search(**{k: str(params.get(k) or "").strip()[:64] for k in
                                 ("username", "action", "target", "since", "until")})
        stmt = search.query()
        total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
        page = max(1, page)
        rows = session.scalars(stmt.limit(100).offset((page - 1) * 100)).all()
        with factory.begin() as log_session:
            audit.record(log_session, who, "view_audit_log",
                         ", ".join(f"{k}={v}" for k, v in vars(search).items() if v) or "全部",
                         f"{total} entries", client_of(request))
        partial = request.headers.get("hx-target") == "audit-results"
        return render(request, "_audit_results.html" if partial else "audit.html",
                      {"search": search, "rows": rows, "total": total, "page": page,
                       "pages": max(1, -(-total // 100))}, who=who)

    return app


def factory_of(app: FastAPI) -> sessionmaker[Session]:
    """The session factory of an app made by create_app (tests, benchmarks)."""
    factory: sessionmaker[Session] = app.state.factory
    return factory
