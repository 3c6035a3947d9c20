"""Subcommands of `dibao-audit` for the review app: serve, users add/passwd/deactivate/list,
review import."""

from __future__ import annotations

import argparse
import getpass
import logging
import os
import sys
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pipelines.errors import UsageError

log = logging.getLogger("dibao_audit")

_DB_HELP = ("review database URL (default: $DIBAO_REVIEW_DATABASE_URL, else the SQLite file "
            "var/review.sqlite3 under the current folder)")


def add_parsers(sub: Any) -> None:
    """Add `serve`, `users` and `review` to the subparsers of the main command."""
    serve = sub.add_parser("serve", help="run the caseworker review app")
    serve.add_argument("--host", default="127.0.0.1",
                       help="address to listen on (default 127.0.0.1: this machine only)")
    serve.add_argument("--port", type=int, default=8000, help="port to listen on (default 8000)")
    serve.add_argument("--database", help=_DB_HELP)
    serve.add_argument("--insecure-cookies", action="store_true",
                       help="session cookie without the Secure flag (plain HTTP beyond localhost)")
    serve.add_argument("--trusted-proxies", metavar="ADDRESSES",
                       help="comma-separated addresses of the reverse proxies whose "
                            "X-Forwarded-For / X-Forwarded-Proto headers are believed (default: "
                            "$DIBAO_REVIEW_TRUSTED_PROXIES, else none: the client address is the "
                            "connection's, whatever the headers say)")

    users = sub.add_parser("users", help="review app accounts")
    users_sub = users.add_subparsers(dest="users_command", required=True)
    add = users_sub.add_parser("add", help="create an account")
    add.add_argument("--username", required=True, help="the login name")
    add.add_argument("--role", required=True, choices=("caseworker", "supervisor", "auditor"),
                     help="caseworker: decides leads of a district (or street); supervisor: "
                          "approves; auditor: reads everything, decides nothing")
    add.add_argument("--district", help="caseworkers: the district they work for")
    add.add_argument("--street", help="caseworkers: optionally one street of that district")
    add.add_argument("--staff-id", help="the person's staff_id on the staff roster, if any: "
                                        "they may not decide leads that name them")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from standard input instead of prompting")
    add.add_argument("--database", help=_DB_HELP)
    passwd = users_sub.add_parser("passwd", help="set a new password (ends the account's sessions)")
    passwd.add_argument("--username", required=True, help="the account's login name")
    passwd.add_argument("--password-stdin", action="store_true",
                        help="read the password from standard input instead of prompting")
    passwd.add_argument("--database", help=_DB_HELP)
    deactivate = users_sub.add_parser(
        "deactivate", help="stop an account from signing in (ends its sessions)")
    deactivate.add_argument("--username", required=True, help="the account's login name")
    deactivate.add_argument("--database", help=_DB_HELP)
    staff = users_sub.add_parser(
        "staff-id", help="set the staff_id (staff roster) of an account: it may not decide "
                         "leads that name that staff member")
    staff.add_argument("--username", required=True, help="the account's login name")
    staff.add_argument("--staff-id", required=True, help="the staff_id; empty to clear it")
    staff.add_argument("--database", help=_DB_HELP)
    listing = users_sub.add_parser("list", help="list the accounts (no password hashes)")
    listing.add_argument("--database", help=_DB_HELP)

    review = sub.add_parser("review", help="review app data")
    review_sub = review.add_subparsers(dest="review_command", required=True)
    imp = review_sub.add_parser("import", help="import an audit output folder (idempotent)")
    imp.add_argument("--run", required=True, type=Path, help="the audit's output folder")
    imp.add_argument("--database", help=_DB_HELP)
    rep = review_sub.add_parser(
        "report", help="write the monthly oversight reports (督办报告: XLSX tables, PDF charts) "
        "of the city and each district into OUTPUT/report/MONTH/")
    rep.add_argument("--month", required=True, help="the month of the leads, YYYY-MM")
    rep.add_argument("--output", required=True, type=Path,
                     help="the folder to write report/MONTH/ into (e.g. the audit's output folder)")
    rep.add_argument("--font", help="TTF/TTC font for the PDF (default: Noto Sans CJK)")
    rep.add_argument("--database", help=_DB_HELP)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from pipelines.review.app import create_app
    from pipelines.review.db import redact, resolve_url

    url = resolve_url(args.database)
    if args.database:
        _check_sqlite_folder(url)
    insecure = args.insecure_cookies or os.environ.get("DIBAO_REVIEW_INSECURE_COOKIES") == "1"
    app = create_app(url, secure_cookies=not insecure)
    log.info("review app on http://%s:%d (database %s)", args.host, args.port, redact(url))
    # log_config=None: uvicorn's records go through the project's handler (IDs masked)
    # Forwarded headers only from the configured proxies: believed from anyone (uvicorn trusts
    # loopback by default), a forged X-Forwarded-For would dodge the per-address login
    # throttle and write a false address into the audit log.
    trusted = ",".join(a.strip() for a in (
        args.trusted_proxies or os.environ.get("DIBAO_REVIEW_TRUSTED_PROXIES") or "").split(",")
        if a.strip())
    uvicorn.run(app, host=args.host, port=args.port, proxy_headers=bool(trusted),
                forwarded_allow_ips=trusted or None, log_config=None)
    return 0


def _password(from_stdin: bool) -> str:
    """The new password: one line of standard input, or typed twice at the prompt."""
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise UsageError("--password-stdin: standard input held no password: pipe it in "
                             "as one line, or leave --password-stdin out to be asked for it")
        return line
    try:
        with warnings.catch_warnings():  # without a terminal getpass says so in one line
            warnings.simplefilter("ignore", getpass.GetPassWarning)
            first = getpass.getpass("密码 / password: ")
            again = getpass.getpass("再次输入 / again: ")
    except (EOFError, KeyboardInterrupt):
        sys.stderr.write("\n")  # end the prompt's line
        raise UsageError("no password given, nothing changed: type it at the prompt, or pipe "
                         "it with --password-stdin") from None
    if again != first:
        raise UsageError("the two passwords differ, nothing changed: run the command again and "
                         "type the same password twice")
    return first


def _check_sqlite_folder(url: str) -> None:
    """A SQLite review database's folder must exist (the file itself is created)."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError("--database is not a database URL: give e.g. "
                         "sqlite:///var/review.sqlite3 or postgresql://user@host/dbname") from None
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        folder = Path(parsed.database).parent
        if not folder.is_dir():
            raise UsageError(f"--database {parsed.render_as_string(hide_password=True)}: the "
                             f"folder {folder} does not exist: create it, or give another path")


def _users(args: argparse.Namespace) -> int:
    from pipelines.review import accounts
    from pipelines.review.auth import add_user, check_new_user
    from pipelines.review.db import open_database, resolve_url

    by = f"cli:{getpass.getuser()}"
    command = args.users_command
    url = resolve_url(args.database)
    if args.database:
        _check_sqlite_folder(url)
    engine, factory = open_database(url)
    try:
        # every mistake in the options is reported before asking for a password
        if command == "add":
            check_new_user(factory, args.username, args.role, args.district, args.street)
        elif command == "passwd":
            accounts.require(factory, args.username)
        password = _password(args.password_stdin) if command in ("add", "passwd") else ""
        if command == "add":
            who = add_user(factory, args.username, password, args.role, args.district,
                           args.street, args.staff_id)
            log.info("user %s created: %s", who.username, who.label())
        elif command == "passwd":
            ended = accounts.change_password(factory, args.username, password, by)
            log.info("password of %s changed, %d sessions ended", args.username.strip(), ended)
        elif command == "deactivate":
            ended = accounts.deactivate(factory, args.username, by)
            log.info("user %s deactivated, %d sessions ended", args.username.strip(), ended)
        elif command == "staff-id":
            accounts.set_staff_id(factory, args.username, args.staff_id, by)
            log.info("user %s: staff_id %s", args.username.strip(), args.staff_id.strip() or
                     "cleared")
        else:
            rows = accounts.list_users(factory, by)
            out = ["username\trole\tdistrict\tstreet\tactive\tcreated_at\tsessions"]
            out += [f"{r.username}\t{r.role}\t{r.district}\t{r.street}\t"
                    f"{'yes' if r.active else 'no'}\t{r.created_at}\t{r.sessions}" for r in rows]
            sys.stdout.write("\n".join(out) + "\n")
    finally:
        engine.dispose()
    return 0


def _review(args: argparse.Namespace) -> int:
    from pipelines.review.db import resolve_url
    from pipelines.review.importer import import_audit

    if args.review_command == "report":
        from pipelines.review.report import write_reports

        url = resolve_url(args.database)
        if args.database:
            _check_sqlite_folder(url)
        written = write_reports(url, args.month, args.output, args.font)
        log.info("oversight reports for %s: %d files in %s", args.month, len(written),
                 args.output / "report" / args.month)
        return 0

    folder: Path = args.run
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise UsageError(f"--run {folder} is not a folder ({what}): give an audit's output "
                         "folder (the --output given to `dibao-audit run`)")
    if not (folder / "manifest.json").is_file():
        raise UsageError(f"--run {folder} holds no audit (manifest.json is missing): give an "
                         "audit's output folder (the --output given to `dibao-audit run`)")
    url = resolve_url(args.database)
    if args.database:
        _check_sqlite_folder(url)
    result = import_audit(url, folder, f"cli:{getpass.getuser()}")
    log.info("imported the audit of %s: %d findings (%d new), %d members, %d evidence records",
             result.as_of, result.total, result.new, result.members, result.with_evidence)
    return 0


HANDLERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "serve": _serve, "users": _users, "review": _review}
