"""The official e-invoice validator: safe parsing, the UBL 2.1 XSD and the official schematron rules.

One document goes: safe parse (`mappings.safe_xml`, so no DTD or entity ever reaches Saxon) → root
element → profile by CustomizationID → XSD (UBL only) → every stylesheet of the profile, run by Saxon
on the document re-serialised from the lxml tree → SVRL → findings → verdict. XSD and schematron are
separate checks and both always run: a document can pass one and fail the other.

Compiled stylesheets and schemas are cached per process, keyed by resolved path and shared by all
Validator instances. `validate` is thread-safe (see README.md, "Threads").
"""

from __future__ import annotations

import logging
import os
import re
import threading
import time
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any

from lxml import etree

from einvoicing.profiles import (
    DOCUMENT_TYPES, PROFILES, DocumentType, Profile, customization_id, document_type, find_profile, profiles_for,
)
from einvoicing.svrl import dedupe, parse_svrl
from mappings.safe_xml import UnsafeXmlError, parse_xml
from schemas.invoices import Finding, Severity, Source, ValidationVerdict

log = logging.getLogger(__name__)

ENV_RULES_DIR = "VANGNET_EINVOICE_RULES_DIR"
MAX_DOCUMENT_BYTES = 20 * 1024 * 1024  # far above any real invoice (the 500-line example is 0.4 MB)
_MAX_ERROR_TEXT = 400


class CheckCode(StrEnum):
    """Finding codes of the validator itself (the official rules bring their own ids)."""

    XML = "XML"  # not well-formed or unsafe
    DOCUMENT_UNKNOWN = "DOCUMENT-UNKNOWN"  # root is no UBL Invoice/CreditNote/Order or CII invoice
    PROFILE_MISSING = "PROFILE-MISSING"  # no CustomizationID
    PROFILE_UNKNOWN = "PROFILE-UNKNOWN"  # a CustomizationID we have no rules for, or no valid identifier
    PROFILE_EXTENSION = "PROFILE-EXTENSION"  # warning: a proper extension of a known id we don't know
    XSD = "XSD"
    XSLT_ERROR = "XSLT-ERROR"  # a rule set stopped with an error on this document
    RULES_NOT_CONFIGURED = "RULES-NOT-CONFIGURED"  # warning: structural checks only
    RULES_MISSING = "RULES-MISSING"  # rules folder or one of its files absent
    RULES_BROKEN = "RULES-BROKEN"  # a rules file exists but does not compile
    VALIDATOR_ERROR = "VALIDATOR-ERROR"  # anything else that went wrong on one document
    FILE_UNREADABLE = "FILE-UNREADABLE"  # validate_files could not read the file


def default_rules_dir() -> Path | None:
    """Where the official rules are: `$VANGNET_EINVOICE_RULES_DIR` when set (even when that folder is
    missing: the validator then reports it), else `<repo>/../shared/corpus/einvoicing` when it exists,
    else None (structural checks only)."""
    configured = os.environ.get(ENV_RULES_DIR, "").strip()
    if configured:
        return Path(configured).expanduser()
    corpus = Path(__file__).resolve().parent.parent.parent / "shared" / "corpus" / "einvoicing"
    return corpus if corpus.is_dir() else None


@dataclass(frozen=True)
class ValidationResult:
    """What validating one document found. `root` is the safely parsed lxml root element (None when the
    XML was refused), so a caller can map the invoice without parsing it again."""

    verdict: ValidationVerdict
    findings: tuple[Finding, ...]
    profile: str | None
    document: str | None
    root: Any | None

    @property
    def codes(self) -> set[str]:
        """The codes of all findings."""
        return {finding.code for finding in self.findings}


class _RuleError(Exception):
    """A rules file exists but could not be compiled."""


class _RuleCache:
    """The process-wide cache of compiled stylesheets and XSDs.

    A compiled `PyXsltExecutable` is documented as not thread-safe, so the compiled one is never run:
    each thread runs its own `clone()` (cheap, about a microsecond). lxml keeps a schema's error log on
    the schema object, so validating against one schema (a few ms) is serialised by a per-schema lock.
    Compile failures are cached too, so a broken file is not recompiled for every document of a batch.
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()  # compiling a stylesheet may start the processor under it
        self._processor: Any = None
        self._xslt: Any = None
        self._stylesheets: dict[Path, Any] = {}  # resolved path → PyXsltExecutable or _RuleError
        self._schemas: dict[Path, tuple[etree.XMLSchema, threading.Lock] | _RuleError] = {}
        self._local = threading.local()
        self._resolved: dict[Path, Path] = {}  # rules path as configured → resolved (a resolve is ~10 lstat calls)
        self.compile_count = 0
        self.compile_seconds: dict[Path, float] = {}

    def processor(self) -> Any:
        if self._processor is None:
            with self._lock:
                if self._processor is None:
                    import saxonche  # deferred: starting Saxon costs time and memory

                    processor = saxonche.PySaxonProcessor(license=False)
                    self._xslt = processor.new_xslt30_processor()
                    self._processor = processor
        return self._processor

    def _resolve(self, path: Path) -> Path:
        resolved = self._resolved.get(path)
        if resolved is None:
            resolved = self._resolved[path] = path.resolve()
        return resolved

    def stylesheet(self, path: Path) -> Any:
        """This thread's executable of the stylesheet at `path`, compiled once per process."""
        path = self._resolve(path)
        clones = self._local.__dict__.setdefault("clones", {})
        clone = clones.get(path)
        if clone is None:
            compiled = self._compiled(self._stylesheets, path, self._compile_stylesheet)
            clone = clones[path] = compiled.clone()
        return clone

    def schema(self, path: Path) -> tuple[etree.XMLSchema, threading.Lock]:
        """The compiled XSD at `path` and the lock to hold while validating with it."""
        return self._compiled(self._schemas, self._resolve(path), self._compile_schema)

    def _compiled(self, cache: dict[Path, Any], path: Path, compile_: Any) -> Any:
        compiled = cache.get(path)
        if compiled is None:
            with self._lock:
                compiled = cache.get(path)
                if compiled is None:
                    started = time.perf_counter()
                    try:
                        compiled = compile_(path)
                    except Exception as exc:  # noqa: BLE001 - remembered and reported per document
                        compiled = _RuleError(_short(str(exc)) or type(exc).__name__)
                    self.compile_count += 1
                    self.compile_seconds[path] = time.perf_counter() - started
                    cache[path] = compiled
                    log.info("compiled %s in %.2f s", path, self.compile_seconds[path])
        if isinstance(compiled, _RuleError):
            raise _RuleError(str(compiled))  # a fresh one: re-raising the cached object would grow its traceback
        return compiled

    def _compile_stylesheet(self, path: Path) -> Any:
        self.processor()
        return self._xslt.compile_stylesheet(stylesheet_file=str(path))

    @staticmethod
    def _compile_schema(path: Path) -> tuple[etree.XMLSchema, threading.Lock]:
        # The rules folder is trusted, but still no network: the UBL XSDs import only relative files.
        parser = etree.XMLParser(no_network=True, resolve_entities=False, load_dtd=False)
        return etree.XMLSchema(etree.parse(str(path), parser)), threading.Lock()


_CACHE = _RuleCache()


class Validator:
    """Checks e-invoices against the official rules in `rules_dir` (the corpus layout).

    `rules_dir=None` does structural checks only (safe and well-formed, a known root element, a
    CustomizationID) and says so with a RULES-NOT-CONFIGURED warning. `profiles` and `document_types`
    default to the tables in `einvoicing.profiles`; pass others to check with other rule files.
    """

    def __init__(self, rules_dir: Path | str | None, *, profiles: Iterable[Profile] = PROFILES,
                 document_types: Iterable[DocumentType] = DOCUMENT_TYPES,
                 max_bytes: int = MAX_DOCUMENT_BYTES) -> None:
        self.rules_dir: Path | None = Path(rules_dir) if rules_dir is not None else None
        self.has_rules: bool = self.rules_dir is not None and self.rules_dir.is_dir()
        self.profiles = tuple(profiles)
        self.document_types = tuple(document_types)
        self.max_bytes = max_bytes

    @property
    def compile_count(self) -> int:
        """How many stylesheets and XSDs this process has compiled (all Validators share one cache)."""
        return _CACHE.compile_count

    def warm_up(self) -> dict[str, float]:
        """Compile every XSD and stylesheet the tables name now instead of on first use (e.g. before a
        benchmark). Returns the compile seconds per relative path; files that are missing are skipped
        and files that do not compile are left out (validating reports both)."""
        if not self.has_rules:
            return {}
        assert self.rules_dir is not None
        stylesheets = {s for p in self.profiles for s in p.stylesheets}
        schemas = {t.xsd for t in self.document_types if t.xsd is not None}
        seconds: dict[str, float] = {}
        for relative in sorted(stylesheets | schemas):
            path = self.rules_dir / relative
            if not path.is_file():
                continue
            try:
                if relative in stylesheets:
                    _CACHE.stylesheet(path)
                else:
                    _CACHE.schema(path)
            except _RuleError:
                continue
            seconds[relative] = _CACHE.compile_seconds[_CACHE._resolve(path)]
        return seconds

    def validate(self, data: bytes, *, name: str | None = None) -> ValidationResult:
        """Validate one document. Never raises for anything about the document: every problem is a
        finding (`name` only labels log records)."""
        try:
            root = parse_xml(data, max_bytes=self.max_bytes)
        except UnsafeXmlError as exc:
            return refused(CheckCode.XML, Source.XML, f"The document was refused: {exc}. Ask the sender for a "
                           "well-formed UTF-8 XML e-invoice without DOCTYPE.")
        try:
            return self._check(root, name)
        except Exception as exc:  # noqa: BLE001 - one bad document must never stop a batch
            log.exception("validating %s failed unexpectedly", name or "a document")
            doc_type = document_type(root, self.document_types)
            return _result([_finding(CheckCode.VALIDATOR_ERROR, Source.PROFILE,
                                     f"Validation stopped with an unexpected error ({type(exc).__name__}: "
                                     f"{_short(str(exc))}); the document could not be checked. Treat it as "
                                     "invalid and report this to the vangnet maintainers.")],
                           None, doc_type.name if doc_type else None, root)

    def _check(self, root: Any, name: str | None) -> ValidationResult:
        doc_type = document_type(root, self.document_types)
        if doc_type is None:
            kinds = ", ".join(t.name for t in self.document_types)
            return _result([_finding(CheckCode.DOCUMENT_UNKNOWN, Source.XML,
                                     f"The root element {_short(str(root.tag), 120)} is not an e-invoice "
                                     f"vangnet checks (accepted: {kinds} in their UBL 2.1 / CII namespace).")],
                           None, None, root)
        findings: list[Finding] = []
        profile = self._profile(root, doc_type, findings)
        if self.rules_dir is None:
            findings.append(_finding(CheckCode.RULES_NOT_CONFIGURED, Source.PROFILE,
                                     "Only structural checks were done: no official rules are configured. "
                                     f"Set {ENV_RULES_DIR} to the folder with the official e-invoicing rules.",
                                     severity=Severity.WARNING))
        elif not self.has_rules:
            findings.append(_rules_missing(self.rules_dir, "rules folder"))
        else:
            findings += self._xsd(root, doc_type)
            if profile is not None:
                findings += self._schematron(root, profile, name)
        return _result(findings, profile.name if profile else None, doc_type.name, root)

    def _profile(self, root: Any, doc_type: DocumentType, findings: list[Finding]) -> Profile | None:
        def supported() -> str:
            return "; ".join(p.describe() for p in profiles_for(doc_type.name, self.profiles)) or "none"

        claimed = customization_id(root, doc_type)
        if claimed is None:
            findings.append(_finding(CheckCode.PROFILE_MISSING, Source.PROFILE,
                                     f"The {doc_type.name} has no CustomizationID (BT-24), so it is unknown which "
                                     f"rules apply. Supported for a {doc_type.name}: {supported()}."))
            return None
        profile = find_profile(claimed, doc_type.name, self.profiles)
        if profile is None:
            findings.append(_finding(CheckCode.PROFILE_UNKNOWN, Source.PROFILE,
                                     f"CustomizationID {_short(claimed, 200)!r} is not supported for a "
                                     f"{doc_type.name}. Supported: {supported()}."))
        elif claimed != profile.customization_id:
            findings.append(_extension_finding(claimed, profile))
        return profile

    def _xsd(self, root: Any, doc_type: DocumentType) -> list[Finding]:
        if doc_type.xsd is None:
            return []  # no schema for this syntax in the rules folder (CII): schematron only
        assert self.rules_dir is not None
        path = self.rules_dir / doc_type.xsd
        if not path.is_file():
            return [_rules_missing(path, "XSD")]
        try:
            schema, lock = _CACHE.schema(path)
        except _RuleError as exc:
            return [_rules_broken(path, exc)]
        with lock:
            if schema.validate(root):
                return []
            errors = [(e.message, e.line) for e in schema.error_log]
        return [_finding(CheckCode.XSD, Source.XSD, message, location=f"line {line}" if line else None)
                for message, line in errors]

    def _schematron(self, root: Any, profile: Profile, name: str | None) -> list[Finding]:
        assert self.rules_dir is not None
        paths = [self.rules_dir / relative for relative in profile.stylesheets]
        missing = [path for path in paths if not path.is_file()]
        if missing:
            return [_rules_missing(path, "stylesheet") for path in missing]
        # Saxon gets the tree as lxml re-serialises it: never the original bytes, so never a DTD.
        node = _CACHE.processor().parse_xml(xml_text=etree.tostring(root, encoding="unicode"), encoding="UTF-8")
        findings: list[Finding] = []
        for path in paths:
            rule_set = f"{path.name} ({profile.title})"
            try:
                svrl = _CACHE.stylesheet(path).transform_to_string(xdm_node=node)
            except _RuleError as exc:
                findings.append(_rules_broken(path, exc))
                continue
            except Exception as exc:  # noqa: BLE001 - saxonche raises PySaxonApiError for dynamic errors
                log.warning("rule set %s failed on %s: %s", rule_set, name or "a document", _short(str(exc)))
                findings.append(_finding(CheckCode.XSLT_ERROR, Source.PROFILE,
                                         f"The official rule set {rule_set} stopped with an error on this document, "
                                         f"so its rules were not all checked: {_short(str(exc))}. Treat the document "
                                         "as invalid; often an element occurs more often than the rules allow."))
                continue
            if not svrl:
                findings.append(_finding(CheckCode.XSLT_ERROR, Source.PROFILE,
                                         f"The official rule set {rule_set} produced no report for this document. "
                                         "Treat the document as invalid."))
                continue
            if not _no_results(svrl):
                findings += parse_svrl(svrl, document=root)
        return findings


def _no_results(svrl: str) -> bool:
    """True when a complete SVRL report (as Saxon serialises it) has no failed assert and no successful
    report, so reading it would find nothing: element names cannot be escaped, so a name absent from the
    text is absent from the document. Skips parsing the report of a valid document, which has a
    `svrl:fired-rule` for every rule context (0.75 MB for the 500-line invoice)."""
    return ("failed-assert" not in svrl and "successful-report" not in svrl
            and svrl.rstrip().endswith("schematron-output>"))


def validate_files(validator: Validator, paths: Iterable[str | Path], *,
                   threads: int = 1) -> Iterator[tuple[Path, ValidationResult]]:
    """Validate files in the order given; an unreadable or oversized file is a finding.

    `threads` 1 validates one file at a time in the caller's thread (one file in memory). More runs
    that many worker threads (each with its own clones of the compiled stylesheets) and still yields
    in order, with at most 2 × `threads` files read ahead. Saxon holds the GIL while it transforms, so
    threads overlap only the lxml parts (parsing, XSD) and the caller's own work on earlier results;
    see README.md, "Threads".
    """
    if threads <= 1:
        for raw in paths:
            yield _validate_file(validator, Path(raw))
        return
    with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="einvoice") as pool:
        pending: deque[Future[tuple[Path, ValidationResult]]] = deque()
        for raw in paths:
            pending.append(pool.submit(_validate_file, validator, Path(raw)))
            if len(pending) >= 2 * threads:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()


def _validate_file(validator: Validator, path: Path) -> tuple[Path, ValidationResult]:
    try:
        size = path.stat().st_size
        if size > validator.max_bytes:
            result = refused(CheckCode.XML, Source.XML, f"The file is {size} bytes, over the limit of "
                             f"{validator.max_bytes} bytes; it was not read.")
        else:
            result = validator.validate(path.read_bytes(), name=str(path))
    except OSError as exc:
        result = refused(CheckCode.FILE_UNREADABLE, Source.XML,
                         f"The file could not be read ({exc.strerror or type(exc).__name__}).")
    return path, result


def refused(code: str, source: Source, message: str) -> ValidationResult:
    """An INVALID result with one FATAL finding and no parsed document."""
    return _result([_finding(code, source, message)], None, None, None)


def _result(findings: list[Finding], profile: str | None, document: str | None, root: Any) -> ValidationResult:
    unique = tuple(dedupe(findings))
    if any(f.severity == Severity.FATAL for f in unique):
        verdict = ValidationVerdict.INVALID
    elif unique:
        verdict = ValidationVerdict.VALID_WITH_WARNINGS
    else:
        verdict = ValidationVerdict.VALID
    return ValidationResult(verdict, unique, profile, document, root)


def _finding(code: str, source: Source, message: str, *, severity: Severity = Severity.FATAL,
             location: str | None = None) -> Finding:
    return Finding(code=str(code), severity=severity, source=source, message=message, location=location)


def _rules_missing(path: Path, what: str) -> Finding:
    return _finding(CheckCode.RULES_MISSING, Source.PROFILE,
                    f"The official rules are incomplete: {what} {path} does not exist, so the document could not "
                    f"be checked. Set {ENV_RULES_DIR} to the folder with the e-invoicing rules (corpus layout).")


def _rules_broken(path: Path, error: Exception) -> Finding:
    return _finding(CheckCode.RULES_BROKEN, Source.PROFILE,
                    f"The rules file {path} could not be compiled ({error}), so the document could not be checked. "
                    f"Replace the rules folder ({ENV_RULES_DIR}) with an intact copy and restart.")


def _short(text: str, limit: int = _MAX_ERROR_TEXT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_EXTENSION = re.compile(r"#(conformant|compliant)#urn:[^\s#]+(#(conformant|compliant)#urn:[^\s#]+)*")


def _extension_finding(claimed: str, profile: Profile) -> Finding:
    """A CustomizationID that extends a known one: the base rules run either way. A proper extension
    (`#conformant#urn:...` or `#compliant#urn:...`, as EN 16931 and Peppol prescribe) we don't know is a
    warning; anything else (e.g. `#draft_nl_error`) is no specification identifier at all, so fatal."""
    rest = claimed[len(profile.customization_id):]
    if _EXTENSION.fullmatch(rest):
        return _finding(CheckCode.PROFILE_EXTENSION, Source.PROFILE,
                        f"CustomizationID extends {profile.name} with {_short(rest, 200)!r}, an extension "
                        f"these rules don't know; only the {profile.name} rules were checked.", severity=Severity.WARNING)
    return _finding(CheckCode.PROFILE_UNKNOWN, Source.PROFILE,
                    f"CustomizationID {_short(claimed, 200)!r} is not a specification identifier: it adds "
                    f"{_short(rest, 100)!r} to the {profile.name} id, while an extension must read "
                    "'#conformant#urn:...'. The sender must use the exact id of the specification; the "
                    f"{profile.name} rules were checked as well.")
