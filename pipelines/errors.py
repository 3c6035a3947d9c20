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

    def __reduce__(self) -> tuple[object, ...]:
        # raised in a worker process (dibao-audit run's pool), re-raised whole in the parent
        return (_rebuild, (type(self), str(self), self.dataset, self.file))


def _rebuild(cls: type[InputError], message: str, dataset: str | None,
             file: str | None) -> InputError:
    return cls(message, dataset=dataset, file=file)


class ServiceUnavailable(InputError):
    """A database the run needs (warehouse, review database) cannot be reached or opened.

    The command line reports it like unusable input (exit code 2, plain message); in Airflow
    the task is retried with backoff instead of failing at once, since the server may be back
    by the next try.
    """


class UsageError(InputError):
    """A mistake in how a command or run was asked for: an option's value (a date that is not
    a calendar date, a folder that is a file, an account that does not exist), not the data.

    The command line reports it as `dibao-audit <command>: <message>` with exit code 2; the
    message names the option and says what to do instead. It subclasses InputError so that
    whatever stops on unusable input without retrying (the Airflow tasks' `fail_fast`, the
    stages) stops on it the same way, with the same plain message.
    """
