"""Redaction of BSNs, IBANs and e-mail addresses in every log record a handler emits (domain.md §8).

`flows/logging.yml` puts `RedactingFilter` on each of Prefect's handlers, including the one that
sends flow-run logs to the Prefect API; `prefect_env()` points Prefect at that file. For a process
whose logging was set up some other way, call `install_redaction()` once it is configured.

This module must not import prefect: Prefect imports it while it reads its logging config.
"""

from __future__ import annotations

import logging

from rules.redaction import redact

# Libraries that log whole request or response bodies (zeep: SOAP envelopes at DEBUG) or URLs with
# query strings (httpx at INFO); WARNING keeps their errors and nothing else.
QUIET_LOGGERS = ("zeep", "zeep.transports", "httpx", "httpcore", "urllib3")

_TRACEBACK_FORMATTER = logging.Formatter()
_enabled = True


def set_redaction_enabled(enabled: bool) -> None:
    """Switch the filter on or off for this process. Only tests switch it off: they prove that the code
    itself logs no personal data, because the filter is a safety net, not the design."""
    global _enabled
    _enabled = enabled


class RedactingFilter(logging.Filter):
    """Rewrites a record in place so that no handler can emit a BSN, IBAN or e-mail address.

    The message is rendered (`msg % args`) and redacted, so `%s` arguments are covered too. A
    traceback is rendered once into `exc_text`, redacted, and `exc_info` is dropped: formatters that
    render the exception object themselves (Prefect's JSON formatter uses `str(exception)`) would
    otherwise bypass the redaction. Fields passed with `extra=` are not touched. Never drops a record.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        if not _enabled:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a bad format string must not make logging raise at the caller
            message = f"{record.msg} (log arguments did not fit the message: {record.args!r})"
        record.msg = redact(message)
        record.args = ()
        if record.exc_info and record.exc_info[0] is not None and not record.exc_text:
            record.exc_text = _TRACEBACK_FORMATTER.formatException(record.exc_info)
        record.exc_info = None
        if record.exc_text:
            record.exc_text = redact(record.exc_text)
        if record.stack_info:
            record.stack_info = redact(record.stack_info)
        return True


def install_redaction() -> None:
    """Add `RedactingFilter` to every handler now attached to any logger; quiet the body-logging libraries.

    Handlers added after this call are not covered. Safe to call more than once.
    """
    loggers = [logging.getLogger()] + [
        logger for logger in list(logging.Logger.manager.loggerDict.values()) if isinstance(logger, logging.Logger)
    ]
    for logger in loggers:
        for handler in logger.handlers:
            if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                handler.addFilter(RedactingFilter())
    for name in QUIET_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)
