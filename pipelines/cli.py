"""dibao-audit: audit a city's minimum-living-allowance roll (低保) against other departments'
records; publish the publicity lists; generate synthetic cities; run the caseworkers' review app.

Commands: run, publish, synth, serve, users, review. `dibao-audit COMMAND --help` explains each.
"""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.config import review_database_url
from pipelines.errors import InputError, ServiceUnavailable, UsageError
from pipelines.logs import configure, mask_ids
from pipelines.review import cli as review_cli

log = logging.getLogger("dibao_audit")

_AS_OF_HELP = ("YYYY-MM-DD (also written 2026/10/31, 2026.10.31, 20261031 or 2026年10月31日)")


def _as_of(args: argparse.Namespace) -> dt.date:
    """--as-of as a date (argparse keeps the text, so a mistake is reported like the others)."""
    from pipelines.ingest.dates import parse_as_of

    return parse_as_of(args.as_of, "--as-of")


def check_config(path: Path | None) -> None:
    """--config, when given, must be a file."""
    if path is None:
        return
    if path.is_dir():
        raise UsageError(f"--config {path} is a folder: give the path of a YAML file, or leave "
                         "--config out to use the default configuration")
    if not path.is_file():
        raise UsageError(f"--config {path}: no such file: check the path, or leave --config out "
                         "to use the default configuration")


def _check_run(args: argparse.Namespace) -> None:
    source: Path = args.input
    if not source.exists():
        raise UsageError(f"--input {source}: no such folder: give the folder that holds roll.csv "
                         "and standards.csv (e.g. the --out of `dibao-audit synth`)")
    if not source.is_dir():
        raise UsageError(f"--input {source} is a file, not a folder: give the folder that holds "
                         f"it (--input {source.parent}), with one file per dataset")
    if args.output.exists() and not args.output.is_dir():
        raise UsageError(f"--output {args.output} is a file: give a folder for this audit's "
                         f"files, e.g. --output out/{args.as_of.isoformat()}")
    inside = source.resolve()
    target = args.output.resolve()
    if target == inside or target in inside.parents:
        raise UsageError(f"--output {args.output} is (or holds) the --input folder, and a run "
                         "replaces --output: give another folder, e.g. --output "
                         f"out/{args.as_of.isoformat()}")
    check_config(args.config)
    if args.debug_dir is not None and args.debug_dir.exists() and not args.debug_dir.is_dir():
        raise UsageError(f"--debug-dir {args.debug_dir} is a file: give a folder (or leave "
                         "--debug-dir out)")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dibao-audit", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="audit the roll in --input; write results to --output")
    run.add_argument("--input", required=True, type=Path, help="folder with roll.csv etc.")
    run.add_argument("--output", required=True, type=Path, help="folder for this audit's files")
    run.add_argument("--as-of", required=True, help="audit date, " + _AS_OF_HELP)
    run.add_argument("--config", type=Path, help="YAML merged over the default configuration")
    run.add_argument("--warehouse", help="audit history: DuckDB file or PostgreSQL URL")
    run.add_argument("--debug-dir", type=Path,
                     help="also write every stage table there as Parquet (debugging)")

    publish = sub.add_parser("publish", help="write the publicity lists (公示) of a stored audit "
                             "into OUTPUT/publicity/, and the decided remove/add lists")
    publish.add_argument("--as-of", required=True, help="the audit's date, " + _AS_OF_HELP)
    publish.add_argument("--output", required=True, type=Path,
                         help="the audit's output folder (as given to run)")
    publish.add_argument("--warehouse", help="audit history: DuckDB file or PostgreSQL URL "
                         "(default: warehouse.duckdb beside the output folder)")
    publish.add_argument("--community", help="only this community (name, or street-community)")
    publish.add_argument("--config", type=Path, help="YAML merged over the default configuration")
    publish.add_argument("--decided-on", help="the day the decided lists are made for "
                         "(default today): a stop counts once its notice's response period "
                         "has passed by then, " + _AS_OF_HELP)

    synth = sub.add_parser("synth", help="generate a synthetic city with known answers")
    synth.add_argument("--households", type=int, default=2000,
                       help="roll households to generate (at least 1)")
    synth.add_argument("--seed", type=int, default=1,
                       help="random seed: the same seed and size give the same city (default 1)")
    synth.add_argument("--out", required=True, type=Path, help="folder for the city's files")
    synth.add_argument("--as-of", default="2026-10-31",
                       help="the city's audit date, " + _AS_OF_HELP)
    review_cli.add_parsers(sub)  # serve, users add, review import
    return parser


def _run(args: argparse.Namespace) -> int:
    args.as_of = _as_of(args)
    _check_run(args)
    from pipelines.run.audit import run_audit

    manifest = run_audit(args.input, args.output, args.as_of, args.config, args.debug_dir,
                         args.warehouse, review_database_url())
    totals = manifest["totals"]
    log.info("audit %s written to %s: %d rows read, %d loaded, %d quarantined",
             args.as_of, args.output, totals["input_rows"], totals["loaded_rows"],
             totals["quarantined_rows"])
    return 0


def _publish(args: argparse.Namespace) -> int:
    args.as_of = _as_of(args)
    _check_publish(args)
    from pipelines.ingest.dates import parse_as_of
    from pipelines.publicity.publish import publish_audit

    on = parse_as_of(args.decided_on, "--decided-on") if args.decided_on else None
    result = publish_audit(args.output, args.as_of, args.warehouse, args.community, args.config,
                           review_database_url(), on)
    log.info("publicity for %s: %d files in %s", args.as_of, len(result["publicity_files"]),
             args.output / "publicity")
    return 0


def _check_publish(args: argparse.Namespace) -> None:
    """--output must be the output folder of the audit of --as-of (contract §1)."""
    import json

    folder: Path = args.output
    day = args.as_of.isoformat()
    if not folder.is_dir():
        what = "it is a file" if folder.exists() else "it does not exist"
        raise UsageError(f"--output {folder} is not a folder ({what}): give the audit's output "
                         f"folder (the --output given to `dibao-audit run --as-of {day}`)")
    manifest = folder / "manifest.json"
    try:
        held = str(json.loads(manifest.read_text(encoding="utf-8"))["as_of"])[:10]
    except (OSError, ValueError, KeyError, TypeError):
        raise UsageError(f"--output {folder} holds no audit (no readable manifest.json): give "
                         f"the output folder of `dibao-audit run --as-of {day}`") from None
    if held != day:
        raise UsageError(f"--output {folder} holds the audit of {held}, not --as-of {day}: give "
                         f"--as-of {held}, or the output folder of the audit of {day}")
    check_config(args.config)


def _synth(args: argparse.Namespace) -> int:
    args.as_of = _as_of(args)
    if args.households < 1:
        raise UsageError(f"--households {args.households}: a city needs at least 1 household; "
                         "give e.g. --households 2000")
    if args.out.exists() and not args.out.is_dir():
        raise UsageError(f"--out {args.out} is a file: give a folder for the city's files")
    from pipelines.synth import generate_city

    summary = generate_city(args.out, args.households, args.seed, args.as_of)
    log.info("synthetic city written to %s (%s)", args.out,
             ", ".join(f"{k}: {v}" for k, v in summary.get("rows", {}).items()))
    return 0


def _command(args: argparse.Namespace) -> str:
    """The command as typed: `run`, `users add`, `review import`."""
    sub = getattr(args, f"{args.command}_command", None)
    return f"{args.command} {sub}" if sub else str(args.command)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (0 done, 2 bad input or a
    mistake on the command line, 1 bug)."""
    args = _parser().parse_args(argv)
    configure(args.verbose)
    handlers = {"run": _run, "publish": _publish, "synth": _synth}
    handlers.update(review_cli.HANDLERS)
    try:
        return handlers[args.command](args)
    except UsageError as exc:  # the command line asked for something that cannot be done
        sys.stderr.write(f"dibao-audit {_command(args)}: {mask_ids(str(exc))}\n")
        return 2
    except ServiceUnavailable as exc:  # a database the run needs is down: try again later
        sys.stderr.write(f"dibao-audit {_command(args)}: service unavailable: "
                         f"{mask_ids(str(exc))}\n")
        return 2
    except InputError as exc:
        sys.stderr.write(f"dibao-audit: input unusable: {mask_ids(str(exc))}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
