"""Logging set-up: plain lines with timings, and ID numbers masked in every message."""

from __future__ import annotations

import logging
import re

# 18-digit IDs (last may be X) and 15-digit legacy IDs, also with full-width digits.
_ID_PATTERN = re.compile(r"(?<![0-9０-９])([0-9０-９]{4})[0-9０-９]{9,12}([0-9０-９]{1}[0-9０-９Xx])(?![0-9０-９])")


def mask_ids(text: str) -> str:
    """Replace the middle of anything shaped like an ID number with '*'."""
    return _ID_PATTERN.sub(lambda m: m.group(1) + "*" * (len(m.group(0)) - 6) + m.group(2), text)


class MaskIdsFilter(logging.Filter):
    """Masks ID-shaped numbers in the final message of every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = mask_ids(message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


def mask_all_handlers() -> None:
    """Add the ID mask to every handler of the root logger (e.g. inside an Airflow task).

    Idempotent. Records that reach these handlers are masked whatever logger emitted them.
    """
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, MaskIdsFilter) for f in handler.filters):
            handler.addFilter(MaskIdsFilter())


def configure(verbose: bool = False) -> None:
    """Log to stderr at INFO (DEBUG with verbose), ID numbers masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))
    handler.addFilter(MaskIdsFilter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.DEBUG if verbose else logging.INFO)
    for noisy in ("great_expectations", "great_expectations._docs_decorators", "numexpr",
                  "fontTools"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
