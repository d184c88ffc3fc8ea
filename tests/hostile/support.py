"""Support for tests/test_hostile_inputs.py: a real simulator with hostile answers put in front of it, and
fresh migrated databases copied from a template (a copy takes milliseconds, a migration half a second)."""

from __future__ import annotations

import re
import shutil
import threading
import uuid
from collections.abc import Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url

from store.db import make_engine
from store.migrate import upgrade


@dataclass
class _Rule:
    method: str
    path: str
    exact: bool
    when: bytes
    times: int
    answer: tuple[int, dict[str, str], bytes] | None = None
    rewrite: tuple[re.Pattern[bytes], bytes] | None = None
    hits: int = 0

    def matches(self, method: str, path: str, body: bytes) -> bool:
        route = path.split("?", 1)[0]
        where = route == self.path if self.exact else route.startswith(self.path)
        return self.times > 0 and method == self.method and where and self.when in body


@dataclass
class Scripted:
    """A SimServer app: the real simulator ``inner``, except that requests matching a rule get a hostile
    answer (``answer``) or the simulator's answer edited (``rewrite``), each rule a number of times.

    ``when`` picks requests by a byte string in their body (a BSN, a case ref). ``set_faults`` and the
    other harness hooks go to the simulator."""

    inner: Any
    base_url: str | None = None
    _rules: list[_Rule] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def use(self, inner: Any) -> Any:
        """Serve a fresh simulator from now on (rules are dropped); returns it."""
        with self._lock:
            self.inner, self._rules = inner, []
        if self.base_url is not None:
            inner.bind(self.base_url)
        return inner

    def answer(self, method: str, path: str, *, status: int, body: bytes, content_type: str, when: bytes = b"",
               times: int = 1, exact: bool = False, headers: Mapping[str, str] | None = None) -> None:
        """Answer the next `times` matching requests with this, without asking the simulator."""
        out = {"Content-Type": content_type, **(headers or {})}
        self._add(_Rule(method, path, exact, when, times, answer=(status, out, body)))

    def rewrite(self, method: str, path: str, *, pattern: bytes, replacement: bytes, when: bytes = b"",
                times: int = 1) -> None:
        """Replace `pattern` (a regex, matching across lines) in the simulator's next `times` answers."""
        self._add(_Rule(method, path, False, when, times, rewrite=(re.compile(pattern, re.S), replacement)))

    def unused(self) -> list[str]:
        """Rules that did not fire as often as asked (a test whose hostile input never arrived proves nothing)."""
        with self._lock:
            return [f"{r.method} {r.path} ({r.times} left)" for r in self._rules if r.times]

    def _add(self, rule: _Rule) -> None:
        with self._lock:
            self._rules.append(rule)

    # -- the SimServer app protocol ------------------------------------------------------------------
    def bind(self, base_url: str) -> None:
        self.base_url = base_url
        self.inner.bind(base_url)

    def set_faults(self, **knobs: Any) -> None:
        self.inner.set_faults(**knobs)

    def reset_faults(self) -> None:
        self.inner.reset_faults()

    def fault_state(self) -> dict[str, Any]:
        return self.inner.fault_state()

    def __call__(self, method: str, path: str, headers: Mapping[str, str], body: bytes):
        with self._lock:
            rule = next((r for r in self._rules if r.matches(method, path, body)), None)
            if rule is not None:
                rule.times -= 1
            inner = self.inner
        if rule is not None and rule.answer is not None:
            return rule.answer
        status, out_headers, out = inner(method, path, headers, body)
        if rule is not None:
            pattern, replacement = rule.rewrite
            out, n = pattern.subn(lambda _: replacement, out)
            if n == 0:
                raise AssertionError(f"rewrite {pattern.pattern!r} found nothing in the answer to {method} {path}")
        return status, out_headers, out


class DatabaseTemplates:
    """Migrated template databases, one per backend, and fresh copies of them per test.

    PostgreSQL copies are made ahead and dropped afterwards by one background thread, so a test rarely
    waits for CREATE/DROP DATABASE."""

    AHEAD = 2

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._sqlite: Path | None = None
        self._pg_admin: Engine | None = None
        self._pg_url: str | None = None
        self._pg_template: str | None = None
        self._created: set[str] = set()
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="test-db")
        self._ahead: list[Future[str]] = []
        self._drops: list[Future[None]] = []

    def sqlite(self, target: Path) -> str:
        """URL of a fresh, migrated SQLite database at `target`."""
        if self._sqlite is None:
            path = self.folder / "template.db"
            upgrade(f"sqlite:///{path}")
            self._sqlite = path
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(self._sqlite, target)
        return f"sqlite:///{target}"

    def postgresql(self, server_url: str) -> str:
        """URL of a fresh, migrated database on the PostgreSQL server at `server_url`."""
        if self._pg_admin is None:
            self._pg_url = server_url
            self._pg_admin = make_engine(server_url, isolation_level="AUTOCOMMIT")
            self._pg_template = f"vangnet_hostile_tmpl_{uuid.uuid4().hex[:10]}"
            self._execute(f'CREATE DATABASE "{self._pg_template}"')
            upgrade(self._url(self._pg_template))
        while len(self._ahead) <= self.AHEAD:
            self._ahead.append(self._worker.submit(self._copy))
        return self._url(self._ahead.pop(0).result())

    def drop(self, url: str) -> None:
        """Drop a PostgreSQL copy once its test is done (SQLite copies go with the test's tmp_path)."""
        name = make_url(url).database
        if name in self._created:
            self._drops.append(self._worker.submit(self._drop, name))

    def close(self) -> None:
        """Drop every PostgreSQL database made here; a failed drop is reported, not hidden."""
        self._worker.shutdown(wait=True)
        for future in self._drops:
            future.result()
        if self._pg_admin is None:
            return
        for name in [*self._created, self._pg_template]:
            self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._pg_admin.dispose()

    def _copy(self) -> str:
        name = f"vangnet_hostile_{uuid.uuid4().hex[:12]}"
        self._execute(f'CREATE DATABASE "{name}" TEMPLATE "{self._pg_template}"')
        self._created.add(name)
        return name

    def _drop(self, name: str) -> None:
        self._execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self._created.discard(name)

    def _url(self, database: str) -> str:
        return make_url(self._pg_url).set(database=database).render_as_string(hide_password=False)

    def _execute(self, sql: str) -> None:
        with self._pg_admin.connect() as conn:
            conn.execute(text(sql))
