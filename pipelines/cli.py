"""The `dibao-audit` command: run, synth (and more subcommands as they land)."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from pipelines.errors import InputError
from pipelines.logs import configure, mask_ids
from pipelines.review import cli as review_cli

log = logging.getLogger("dibao_audit")


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date in YYYY-MM-DD form") from None


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="dibao-audit", description=__doc__)
    parser.add_argument("-v", "--verbose", action="store_true", help="debug logging")
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="audit the roll in --input; write results to --output")
    run.add_argument("--input", required=True, type=Path, help="folder with roll.csv etc.")
    run.add_argument("--output", required=True, type=Path, help="folder for this audit's files")
    run.add_argument("--as-of", required=True, type=_date, help="audit date, YYYY-MM-DD")
    run.add_argument("--config", type=Path, help="YAML merged over the default configuration")
    run.add_argument("--warehouse", help="audit history: DuckDB file or PostgreSQL URL")
    run.add_argument("--debug-dir", type=Path,
                     help="also write every stage table there as Parquet (debugging)")

    publish = sub.add_parser("publish", help="write the publicity lists (公示) of a stored audit "
                             "into OUTPUT/publicity/, and the decided remove/add lists")
    publish.add_argument("--as-of", required=True, type=_date, help="the audit's date")
    publish.add_argument("--output", required=True, type=Path,
                         help="the audit's output folder (as given to run)")
    publish.add_argument("--warehouse", help="audit history: DuckDB file or PostgreSQL URL "
                         "(default: warehouse.duckdb beside the output folder)")
    publish.add_argument("--community", help="only this community (name, or street-community)")
    publish.add_argument("--config", type=Path, help="YAML merged over the default configuration")

    synth = sub.add_parser("synth", help="generate a synthetic city with known answers")
    synth.add_argument("--households", type=int, default=2000)
    synth.add_argument("--seed", type=int, default=1)
    synth.add_argument("--out", required=True, type=Path)
    synth.add_argument("--as-of", type=_date, default=dt.date(2026, 10, 31))
    review_cli.add_parsers(sub)  # serve, users add, review import
    return parser


def _run(args: argparse.Namespace) -> int:
    from pipelines.run import run_audit

    manifest = run_audit(args.input, args.output, args.as_of, args.config, args.debug_dir,
                         args.warehouse)
    totals = manifest["totals"]
    log.info("audit %s written to %s: %d rows read, %d loaded, %d quarantined",
             args.as_of, args.output, totals["input_rows"], totals["loaded_rows"],
             totals["quarantined_rows"])
    return 0


def _publish(args: argparse.Namespace) -> int:
    from pipelines.publication import publish_audit

    result = publish_audit(args.output, args.as_of, args.warehouse, args.community, args.config)
    log.info("publicity for %s: %d files in %s", args.as_of, len(result["publicity_files"]),
             args.output / "publicity")
    return 0


def _synth(args: argparse.Namespace) -> int:
    from pipelines.synth import generate_city

    if args.households < 1:
        raise InputError("--households must be at least 1")
    summary = generate_city(args.out, args.households, args.seed, args.as_of)
    log.info("synthetic city written to %s (%s)", args.out,
             ", ".join(f"{k}: {v}" for k, v in summary.get("rows", {}).items()))
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the console script; returns the exit code (0 done, 2 bad input, 1 bug)."""
    args = _parser().parse_args(argv)
    configure(args.verbose)
    handlers = {"run": _run, "publish": _publish, "synth": _synth}
    handlers.update(review_cli.HANDLERS)
    try:
        return handlers[args.command](args)
    except InputError as exc:
        sys.stderr.write(f"dibao-audit: input unusable: {mask_ids(str(exc))}\n")
        return 2


if __name__ == "__main__":
    sys.exit(main())
