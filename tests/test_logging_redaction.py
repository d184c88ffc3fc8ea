"""A flow that logs a BSN, an IBAN and an e-mail address: the Prefect server and the console get none.

conftest applies `prefect_env()` before prefect is imported, so this process runs with
flows/logging.yml, as the CLI and the server do.
"""

from __future__ import annotations

import io
import logging
import time

import httpx
import pytest

from flows.logs import RedactingFilter

pytestmark = [pytest.mark.prefect, pytest.mark.redaction]

BSN = "999990019"  # passes the 11-proef
IBAN = "NL91ABNA0417164300"
EMAIL = "j.de-vries@gemeente.example.nl"
SECRETS = (BSN, IBAN, EMAIL, "NL91 ABNA", "j.de-vries")


def _leaky_flow():
    from prefect import flow, get_run_logger
    from prefect.context import get_run_context

    @flow(name="logging-redaction-check")
    def leaky() -> str:
        run_logger = get_run_logger()
        plain = logging.getLogger("vangnet.test")
        run_logger.info("run logger: bsn %s, iban %s, mail %s", BSN, IBAN, EMAIL)
        plain.warning(f"plain logger: bsn {BSN}, iban {IBAN}, mail {EMAIL}")
        try:
            raise ValueError(f"no case for bsn {BSN} ({EMAIL}, {IBAN})")
        except ValueError:
            run_logger.exception("run logger caught")
            plain.exception("plain logger caught")
        return str(get_run_context().flow_run.id)

    return leaky


def _server_logs(api_url: str, flow_run_id: str, at_least: int) -> list[str]:
    from prefect.logging.handlers import APILogWorker

    APILogWorker.drain_all(timeout=10)
    deadline = time.monotonic() + 10
    while True:
        logs = httpx.post(f"{api_url}/logs/filter", timeout=10,
                          json={"logs": {"flow_run_id": {"any_": [flow_run_id]}}}).json()
        if len(logs) >= at_least or time.monotonic() > deadline:
            return [log["message"] for log in logs]
        time.sleep(0.3)


def _handler(logger_name: str, class_name: str) -> logging.Handler:
    return next(h for h in logging.getLogger(logger_name).handlers if type(h).__name__ == class_name)


def test_flow_logs_reach_server_and_console_redacted(prefect_server, caplog):
    leaky = _leaky_flow()  # imports prefect, which reads flows/logging.yml
    api = _handler("prefect.flow_runs", "APILogHandler")
    console = _handler("", "PrefectConsoleHandler")
    assert any(isinstance(f, RedactingFilter) for f in api.filters), "flows/logging.yml was not loaded"

    plain = logging.getLogger("vangnet.test")
    plain.setLevel(logging.INFO)
    plain.addHandler(api)  # what PREFECT_LOGGING_EXTRA_LOGGERS does: plain loggers reach the server
    buffer = io.StringIO()
    old_stream, old_file = console.stream, console.console.file
    console.stream = console.console.file = buffer  # the configured handler writes to the real stderr
    try:
        flow_run_id = leaky()
    finally:
        console.stream, console.console.file = old_stream, old_file
        plain.removeHandler(api)
        plain.setLevel(logging.NOTSET)

    server = "\n".join(_server_logs(prefect_server, flow_run_id, at_least=4))
    assert "run logger: bsn <bsn>, iban <iban>, mail <email>" in server
    assert "plain logger: bsn <bsn>, iban <iban>, mail <email>" in server
    assert "ValueError: no case for bsn <bsn> (<email>, <iban>)" in server  # the tracebacks, twice
    assert server.count("Traceback (most recent call last)") >= 2
    for text in (server, buffer.getvalue(), caplog.text):
        leaked = [s for s in SECRETS if s in text]
        assert not leaked, f"{leaked} in\n{text}"
    assert "plain logger caught" in buffer.getvalue()  # the console did get the logs
