"""Errors the audit reports to users in plain words."""

from __future__ import annotations


class InputError(Exception):
    """The input is unusable: the run stops with exit code 2 and this message.

    The message names the file, the column or expectation, and how many rows, in plain words.
    """

    def __init__(self, message: str, *, dataset: str | None = None, file: str | None = None):
        super().__init__(message)
        self.dataset = dataset
        self.file = file


class ServiceUnavailable(InputError):
    """A database the run needs (warehouse, review database) cannot be reached or opened.

    The command line reports it like unusable input (exit code 2, plain message); in Airflow
    the task is retried with backoff instead of failing at once, since the server may be back
    by the next try.
    """
