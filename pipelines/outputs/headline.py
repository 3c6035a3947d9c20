"""The headline of an audit, in a few lines for the person who ran it: findings per code,
households to remove, people to add, publicity files, where the workbook is, and the command
that opens the review app on this audit.

Usage: python -m pipelines.outputs.headline OUTPUT_FOLDER
"""

from __future__ import annotations

import csv
import json
import sys
from pathlib import Path

from pipelines.io.audit_xlsx import FILENAME as WORKBOOK
from pipelines.rules import codes


def _rows(path: Path) -> int:
    if not path.exists():
        return 0
    with path.open(encoding="utf-8", newline="") as handle:
        return sum(1 for _ in csv.DictReader(handle))


def headline(folder: Path) -> str:
    """The lines that say what the audit in `folder` found."""
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    found: dict[str, int] = manifest.get("findings", {})
    labels = codes.labels()
    lines = [f"审核结果 {manifest.get('as_of', '')}: {sum(found.values())} 条线索"]
    lines += [f"  {labels.get(code, code)} ({code}): {count}"
              for code, count in found.items() if count]
    lines.append(f"拟停保减保: {_rows(folder / 'remove_list.csv')} 户; "
                 f"拟纳入: {_rows(folder / 'add_list.csv')} 人")
    publicity = folder / "publicity"
    if publicity.is_dir():
        files = [p for p in publicity.iterdir() if p.is_file()]
        lines.append(f"公示名单: {len(files)} 个文件, 在 {publicity}")
    lines.append(f"工作簿 (Excel/WPS): {folder / WORKBOOK}")
    url = f"sqlite:///{folder.parent / 'review.sqlite3'}"
    lines += ["打开核查应用 (review app):",
              f"  .venv/bin/dibao-audit review import --run {folder} --database {url}",
              f"  .venv/bin/dibao-audit users add --username sup1 --role supervisor "
              f"--database {url}",
              f"  .venv/bin/dibao-audit serve --database {url}    # http://127.0.0.1:8000"]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if len(args) != 1:
        sys.stderr.write(__doc__ or "")
        return 2
    sys.stdout.write(headline(Path(args[0])) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
