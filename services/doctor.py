"""`vangnet doctor`: is this installation ready to run, and if not, what exactly to fix.

    checks = run_checks()            # settings from the environment / .env, like every command
    failed = has_failures(checks)    # the CLI exits 1 then

Six groups, each check isolated (an unexpected exception becomes one `fail`, the rest still run):
settings (and the secrets each configured feature needs), database (reachable, migrations at head),
certificates (every configured PEM: readable, parses, not expired, key matches), partners (TCP connect,
TLS handshake with the configured files and one `HEAD` request: any HTTP answer counts, no business
operation is called), e-invoicing rule artefacts (present; compiled only with `deep=True`: 10-20 s) and
provider contracts. Nothing is printed here; the CLI (`flows/cli_doctor.py`) renders the list.

Output never holds a secret: checks name variables, files and hosts, never values; as a second line of
defence every configured secret (ZGW JWT secret, bearer tokens, webhook, research key, database password)
and the password of any URL quoted is masked in every detail and fix. No Prefect import anywhere (the Prefect check is an HTTP health call).
"""

from __future__ import annotations

import importlib
import os
import re
import socket
import ssl
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from flows.settings import Settings

Status = Literal["ok", "warn", "fail", "skip"]
OK: Status = "ok"
WARN: Status = "warn"
FAIL: Status = "fail"
SKIP: Status = "skip"
_RANK = {SKIP: 0, OK: 1, WARN: 2, FAIL: 3}
_Problem = tuple[Status, str, "str | None"]  # (status, detail, fix) before it becomes a Check

EXPIRY_WARNING = timedelta(days=30)
"""A certificate that expires within this period is a warning."""
UPGRADE_FIX = "Run `vangnet db upgrade`."
_UNEXPECTED_FIX = ("Fix the other problems and run `vangnet doctor` again; if this stays, report it to the vangnet "
                   "maintainers with the check's name and the error type (the other checks did run).")


@dataclass(frozen=True)
class Check:
    """One finding: which thing (`name`), how it is (`status`), what was seen (`detail`), what to do (`fix`)."""

    name: str
    status: Status
    detail: str
    fix: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """The check as a JSON-ready dict."""
        return asdict(self)


def has_failures(checks: Iterable[Check]) -> bool:
    """True when any check failed (the CLI then exits 1)."""
    return any(check.status == FAIL for check in checks)


def summary(checks: Iterable[Check]) -> dict[str, int]:
    """How many checks have each status, e.g. `{"ok": 12, "warn": 2, "fail": 0, "skip": 5}`."""
    counts = {OK: 0, WARN: 0, FAIL: 0, SKIP: 0}
    for check in checks:
        counts[check.status] += 1
    return counts


def run_checks(settings: Settings | None = None, *, now: datetime | None = None, timeout: float = 3.0,
               deep: bool = False) -> list[Check]:
    """Run every check. `settings=None` loads them as every command does (an invalid variable is a
    `fail` naming it, and the other checks run with that variable's default). `now` is the clock for
    certificate expiry; `timeout` bounds each partner connection (partners are probed in parallel);
    `deep` also compiles the e-invoicing rules."""
    if settings is None:
        settings, loaded = load_settings()
    else:
        loaded = Check("settings", OK, "settings given by the caller")
    if settings is None:
        return [loaded]
    when = now or datetime.now(UTC)
    checks = [loaded]
    checks += _guarded("configuration", lambda: check_configuration(settings))
    checks += _guarded("database", lambda: check_database(settings, timeout=timeout))
    checks += _guarded("certificates", lambda: check_certificates(settings, now=when))
    checks += _guarded("partners", lambda: check_partners(settings, timeout=timeout))
    checks += _guarded("e-invoicing rules", lambda: check_rules(settings, deep=deep))
    checks += _guarded("provider contracts", lambda: check_contracts(settings))
    checks += _guarded("log redaction", check_log_redaction)
    return redact(checks, configured_secrets(settings))


def check_log_redaction(config: Path | None = None) -> Check:
    """Prefect's logging config (flows/logging.yml) puts the redacting filter on every handler. Prefect
    silently falls back to its own config, without redaction, when this file is missing or broken."""
    import yaml

    from flows.prefect_server import LOGGING_CONFIG

    path = config or LOGGING_CONFIG
    fix = f"Restore {path.name} from the repository (reinstall vangnet); without it logs are not redacted."
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        factory = data["filters"]["redact"]["()"]
        handlers = data["handlers"]
    except (OSError, yaml.YAMLError, KeyError, TypeError):
        return Check("log redaction", FAIL, f"{path} is missing or has no `redact` filter", fix)
    bare = sorted(name for name, handler in handlers.items() if "redact" not in (handler.get("filters") or []))
    if bare:
        return Check("log redaction", FAIL, f"handlers without the redact filter: {', '.join(bare)}", fix)
    module, _, attribute = factory.rpartition(".")
    try:
        getattr(importlib.import_module(module), attribute)
    except (ImportError, AttributeError):
        return Check("log redaction", FAIL, f"the redact filter {factory} can't be imported", fix)
    return Check("log redaction", OK, f"all {len(handlers)} Prefect log handlers redact BSNs, IBANs and e-mail")


def _guarded(name: str, run: Callable[[], Check | list[Check]]) -> list[Check]:
    """Run one check (or group); an unexpected exception becomes one `fail` with its type only (its
    message and traceback may hold a value or personal data)."""
    try:
        result = run()
    except Exception as exc:  # noqa: BLE001 - isolation is the point: the other checks must still run
        return [Check(name, FAIL, f"the check stopped with an unexpected {type(exc).__name__}", _UNEXPECTED_FIX)]
    return [result] if isinstance(result, Check) else list(result)


def _merge(name: str, problems: list[_Problem], ok_detail: str) -> Check:
    """One check from several problems: the worst status, every detail, every distinct fix."""
    if not problems:
        return Check(name, OK, ok_detail)
    status = max((p[0] for p in problems), key=_RANK.__getitem__)
    fixes = list(dict.fromkeys(p[2] for p in problems if p[2]))
    return Check(name, status, "; ".join(p[1] for p in problems), " ".join(fixes) or None)


def _var(field: str) -> str:
    return f"VANGNET_{field.upper()}"


# -- secrets -----------------------------------------------------------------------------------------------
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*://[^\s/?#@]*?:)[^\s/?#]*@")
"""The password part of ``scheme://user:password@host`` in any text."""


def _secret_value(value: Any) -> str | None:
    return value.get_secret_value() if hasattr(value, "get_secret_value") else value


def configured_secrets(settings: Settings) -> list[str]:
    """Every secret value in the settings (to mask): each `SecretStr` setting (bearer tokens, webhook, research
    key, and any added later), the ZGW JWT secret and the database password. Values shorter than 4 characters
    are left out, as masking them would garble every message."""
    from sqlalchemy.engine import make_url

    values: list[str | None] = [_secret_value(settings.zgw_secret)]
    for field in type(settings).model_fields:
        value = getattr(settings, field)
        items = value.values() if isinstance(value, dict) else [value]
        values += [item.get_secret_value() for item in items if hasattr(item, "get_secret_value")]
    try:
        values.append(make_url(settings.resolved_database_url).password)
    except Exception:  # noqa: BLE001 - an unparseable URL is reported by the database check
        pass
    return sorted({v for v in values if v and len(v) >= 4}, key=len, reverse=True)


def redact(checks: list[Check], secrets: Iterable[str]) -> list[Check]:
    """The checks with every occurrence of a secret, and the password of any URL (a partner URL set with
    credentials by mistake), in `detail` and `fix` replaced by `***`."""
    secrets = list(secrets)

    def mask(text: str | None) -> str | None:
        for secret in secrets:
            text = text.replace(secret, "***") if text else text
        return _URL_CREDENTIALS.sub(r"\1***@", text) if text else text

    return [Check(c.name, c.status, mask(c.detail) or "", mask(c.fix)) for c in checks]


# -- 1. settings -------------------------------------------------------------------------------------------
def load_settings() -> tuple[Settings | None, Check]:
    """`Settings()` as every command loads it, plus a check. A variable that does not validate is named
    (never its value) and left out, so its default applies and the other checks can still run."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from flows.settings import Settings

    problems: dict[str, str] = {}
    while True:
        try:
            settings = _settings_without(problems) if problems else Settings()
            break
        except ValidationError as exc:
            found = {str(e["loc"][0]): e["msg"] for e in exc.errors(include_input=False, include_url=False)
                     if e["loc"]}
        except SettingsError as exc:
            match = re.search(r'field "(\w+)"', str(exc))
            found = {match.group(1): 'is not valid JSON (e.g. {"name": "value"})'} if match else {}
        new = {f: msg for f, msg in found.items() if f in Settings.model_fields and f not in problems}
        if not new:
            return None, Check("settings", FAIL, "the settings can't be read (VANGNET_* variables or .env)",
                               "Check the VANGNET_* variables against the README's Configuration table.")
        problems.update(new)
    if not problems:
        source = "the environment and .env" if Path(".env").is_file() else "the environment"
        return settings, Check("settings", OK, f"loaded from {source}")
    detail = "; ".join(f"{_var(f)}: {msg}" for f, msg in problems.items())
    return settings, Check("settings", FAIL, f"invalid: {detail}",
                           f"Correct {', '.join(map(_var, problems))} (environment or .env); the checks below "
                           "used the default instead.")


def _settings_without(skipped: Iterable[str]) -> Settings:
    """Settings read like `Settings()`, except that the `skipped` fields are not read from the environment
    or .env (they keep their defaults)."""
    from pydantic_settings import DotEnvSettingsSource, EnvSettingsSource

    from flows.settings import Settings

    skip = frozenset(skipped)

    class _Env(EnvSettingsSource):
        def prepare_field_value(self, field_name: str, field: Any, value: Any, value_is_complex: bool) -> Any:
            if field_name in skip:
                return None
            return super().prepare_field_value(field_name, field, value, value_is_complex)

    class _DotEnv(DotEnvSettingsSource):
        def prepare_field_value(self, field_name: str, field: Any, value: Any, value_is_complex: bool) -> Any:
            if field_name in skip:
                return None
            return super().prepare_field_value(field_name, field, value, value_is_complex)

    class _Lenient(Settings):
        @classmethod
        def settings_customise_sources(cls, settings_cls, init_settings, env_settings, dotenv_settings,
                                       file_secret_settings):  # noqa: ANN001 - pydantic-settings' hook
            return init_settings, _Env(settings_cls), _DotEnv(settings_cls), file_secret_settings

    return _Lenient()


def check_configuration(settings: Settings) -> list[Check]:
    """The settings each configured feature needs: gemeentecode, IB and Suwinet (Digikoppeling), the
    zaaksysteem, the arbodienst and the invoice feeds."""
    checks = _guarded("gemeentecode", lambda: check_gemeentecode(settings))
    checks += _guarded("IB settings", lambda: check_digikoppeling(settings, "ib"))
    checks += _guarded("Suwinet settings", lambda: check_digikoppeling(settings, "suwinet"))
    checks += _guarded("zaaksysteem (ZGW) settings", lambda: check_zgw(settings))
    checks += _guarded("arbodienst settings", lambda: check_arbodienst(settings))
    checks += _guarded("invoice feeds", lambda: check_feeds(settings))
    checks += _guarded("research key", lambda: check_research_key(settings))
    return checks


def check_research_key(settings: Settings) -> Check:
    """The key of the research export's pseudonyms: not needed until someone exports, then usable."""
    from services.research_export import ResearchKeyError, load_key

    key = settings.research_key.get_secret_value() if settings.research_key else None
    if not key and settings.research_key_file is None:
        return Check("research key", SKIP, "no research key: `vangnet research-export` will refuse to run",
                     "Set VANGNET_RESEARCH_KEY or VANGNET_RESEARCH_KEY_FILE (at least 16 bytes, kept outside the "
                     "repo) before exporting.")
    try:
        raw = load_key(key, settings.research_key_file)
    except ResearchKeyError as exc:
        return Check("research key", FAIL, str(exc),
                     "Point VANGNET_RESEARCH_KEY_FILE at a readable file with a key of at least 16 bytes.")
    return Check("research key", OK, f"set ({len(raw)} bytes)")


def check_gemeentecode(settings: Settings) -> Check:
    """The CBS code of the gemeente this installation serves: set, 4 digits."""
    from rules.identifiers import is_valid_gemeentecode

    code = settings.gemeentecode
    if not code:
        return Check("gemeentecode", WARN, "not set: every takeover decision and the Suwinet safety net need it",
                     "Set VANGNET_GEMEENTECODE (CBS code, 4 digits, e.g. 0363).")
    if not is_valid_gemeentecode(code):
        return Check("gemeentecode", FAIL, "VANGNET_GEMEENTECODE is not a CBS gemeentecode",
                     "Use the 4-digit CBS code, e.g. 0363 (not GM0363).")
    return Check("gemeentecode", OK, code)


_DIGIKOPPELING = {
    "ib": ("IB", ("ib_endpoint",)),
    "suwinet": ("Suwinet", ("suwinet_reintegratie_endpoint", "suwinet_wv_endpoint")),
}
_OIN = re.compile(r"\d{20}")


def check_digikoppeling(settings: Settings, prefix: str) -> Check:
    """IB (`prefix="ib"`) or Suwinet: endpoint URLs, mutual TLS files and the 2W-be-S signing files."""
    label, endpoint_fields = _DIGIKOPPELING[prefix]
    name = f"{label} settings"
    urls = {_var(f): getattr(settings, f) for f in endpoint_fields if getattr(settings, f)}
    if not urls:
        return _digikoppeling_unconfigured(settings, prefix, label, endpoint_fields)
    problems = [p for var, url in urls.items() for p in _url_problems(var, url)]
    https = any(url.lower().startswith("https:") for url in urls.values())
    problems += _profile_problems(settings, prefix, label)
    problems += _tls_problems(settings, prefix, label, https=https)
    if prefix == "ib":
        problems += _oin_problems(settings)
    if prefix == "suwinet":
        problems += _safety_net_problems(settings)
    profile = getattr(settings, f"{prefix}_profile")
    return _merge(name, problems, f"profile {profile}, mutual TLS, {len(urls)} endpoint(s)")


def _digikoppeling_unconfigured(settings: Settings, prefix: str, label: str, fields: tuple[str, ...]) -> Check:
    if prefix == "suwinet" and settings.suwinet_safety_net:
        return Check(f"{label} settings", WARN, "VANGNET_SUWINET_SAFETY_NET is on but no Suwinet endpoint is set: "
                     "the safety net does nothing", "Set VANGNET_SUWINET_WV_ENDPOINT, or switch the safety net off.")
    return Check(f"{label} settings", SKIP, f"no {label} endpoint configured",
                 f"Set {' / '.join(map(_var, fields))} to connect to {label}.")


def _url_problems(var: str, url: str) -> list[_Problem]:
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises ValueError for a bad port
    except ValueError:
        return [(FAIL, f"{var} is not a valid URL", f"Set {var} to an https:// URL with a host.")]
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return [(FAIL, f"{var} is not an http(s) URL with a host", f"Set {var} to an https:// URL with a host.")]
    if parts.username or parts.password:
        return [(FAIL, f"{var} contains credentials", f"Remove the user/password from {var}; use the certificates.")]
    if parts.scheme == "http":
        return [(WARN, f"{var} is plain http (only right for a local simulator)", f"Use the https:// URL in {var}.")]
    return []


def _profile_problems(settings: Settings, prefix: str, label: str) -> list[_Problem]:
    profile = getattr(settings, f"{prefix}_profile")
    signing = {_var(f"{prefix}_{f}"): getattr(settings, f"{prefix}_{f}")
               for f in ("signing_key", "signing_cert", "sender_cert")}
    if profile not in ("2W-be-S", "2W-be"):
        return [(FAIL, f"{_var(prefix + '_profile')} must be 2W-be-S or 2W-be",
                 f"Set {_var(prefix + '_profile')}=2W-be-S (signed messages, what {label} requires).")]
    missing = [var for var, value in signing.items() if value is None]
    if profile == "2W-be-S" and missing:
        return [(FAIL, f"profile 2W-be-S signs every request and checks every reply, but {', '.join(missing)} "
                 f"{'is' if len(missing) == 1 else 'are'} not set",
                 f"Set {', '.join(missing)} (our signing key and certificate, {label}'s signing certificate).")]
    if profile == "2W-be" and len(missing) < len(signing):
        return [(FAIL, f"signing files are set but {_var(prefix + '_profile')} is 2W-be (no signing)",
                 f"Set {_var(prefix + '_profile')}=2W-be-S, or unset {', '.join(signing)}.")]
    return []


def _tls_problems(settings: Settings, prefix: str, label: str, *, https: bool) -> list[_Problem]:
    cert, key, ca = (getattr(settings, f"{prefix}_{f}") for f in ("client_cert", "client_key", "ca_bundle"))
    cert_var, key_var, ca_var = (_var(f"{prefix}_{f}") for f in ("client_cert", "client_key", "ca_bundle"))
    if (cert is None) != (key is None):
        return [(FAIL, f"{cert_var} and {key_var} go together, but only one is set", f"Set both {cert_var} and "
                 f"{key_var}, or neither.")]
    problems: list[_Problem] = []
    if https and cert is None:
        problems.append((WARN, f"no TLS client certificate ({cert_var}/{key_var}): {label} requires mutual TLS",
                         f"Set {cert_var} and {key_var} to the PKIoverheid certificate registered with {label}."))
    if https and ca is None:
        problems.append((WARN, f"no {ca_var}: every system CA is trusted instead of only {label}'s",
                         f"Set {ca_var} to the CA bundle of {label}'s server certificate."))
    return problems


def _oin_problems(settings: Settings) -> list[_Problem]:
    return [(FAIL, f"{_var(f)} is not an OIN (20 digits)", f"Set {_var(f)} to the 20-digit OIN.")
            for f in ("ib_own_oin", "ib_receiver_oin")
            if getattr(settings, f) is not None and not _OIN.fullmatch(getattr(settings, f))]


def _safety_net_problems(settings: Settings) -> list[_Problem]:
    if not settings.suwinet_safety_net:
        return []
    if not settings.suwinet_wv_endpoint:
        return [(WARN, "VANGNET_SUWINET_SAFETY_NET is on but VANGNET_SUWINET_WV_ENDPOINT is not set: the safety "
                 "net does nothing", "Set VANGNET_SUWINET_WV_ENDPOINT, or switch the safety net off.")]
    if not settings.gemeentecode:
        return [(WARN, "the Suwinet safety net does nothing without VANGNET_GEMEENTECODE",
                 "Set VANGNET_GEMEENTECODE.")]
    return []


_ZGW_VARS = {"verantwoordelijke_organisatie": "VANGNET_ZGW_BRONORGANISATIE"}


def check_zgw(settings: Settings) -> Check:
    """The zaaksysteem: when a base URL is set, the JWT secret and the other settings the connector needs."""
    name = "zaaksysteem (ZGW) settings"
    if not settings.zgw_base_url:
        return Check(name, SKIP, "no zaaksysteem configured: zaak effects stay queued",
                     "Set VANGNET_ZGW_BASE_URL and the VANGNET_ZGW_* variables to register zaken.")
    problems: list[_Problem] = []
    if not (_secret_value(settings.zgw_secret) or "").strip():
        problems.append((FAIL, "VANGNET_ZGW_SECRET is not set: the Zaken API's JWT can't be signed",
                         "Set VANGNET_ZGW_SECRET to the secret agreed with the zaaksysteem, or unset "
                         "VANGNET_ZGW_BASE_URL."))
    invalid = _zgw_invalid_fields(settings)
    if invalid:
        problems.append((FAIL, "missing or invalid: " + "; ".join(f"{var} ({msg})" for var, msg in invalid.items()),
                         "Set the VANGNET_ZGW_* variables listed in the README's Configuration table."))
    return _merge(name, problems, f"client id {settings.zgw_client_id}, JWT secret set")


def _zgw_invalid_fields(settings: Settings) -> dict[str, str]:
    """Variable → problem for every field the ZGW connector refuses (the secret is checked separately)."""
    from pydantic import ValidationError

    from connectors.zaken import ZakenSettings

    try:
        ZakenSettings(
            base_url=settings.zgw_base_url, client_id=settings.zgw_client_id,
            secret=_secret_value(settings.zgw_secret) or "x",
            user_id=settings.zgw_user_id, user_representation=settings.zgw_user_representation,
            zaaktype=settings.zgw_zaaktype, statustype_intake=settings.zgw_statustype_intake,
            statustype_einde=settings.zgw_statustype_einde, roltype_betrokkene=settings.zgw_roltype_betrokkene,
            bronorganisatie=settings.zgw_bronorganisatie, verantwoordelijke_organisatie=settings.zgw_bronorganisatie)
    except ValidationError as exc:
        invalid: dict[str, str] = {}
        for error in exc.errors(include_input=False, include_url=False):
            field = str(error["loc"][0]) if error["loc"] else ""
            if field and field != "secret":
                var = _ZGW_VARS.get(field, _var(f"zgw_{field}"))
                unset = getattr(settings, f"zgw_{field}", "") is None
                invalid.setdefault(var, "not set" if unset else _plain(error["msg"]))
        return invalid
    return {}


def _plain(message: str) -> str:
    return message.removeprefix("Value error, ")


def check_arbodienst(settings: Settings) -> Check:
    """The arbodienst's booking API: a valid base URL and a way to authenticate (token or client certificate)."""
    from pydantic import ValidationError

    from connectors.arbodienst import ArbodienstSettings

    name = "arbodienst settings"
    if not settings.arbodienst_base_url:
        return Check(name, SKIP, "no arbodienst configured: no bedrijfsarts consults are booked",
                     "Set VANGNET_ARBODIENST_BASE_URL and VANGNET_ARBODIENST_TOKEN to book consults.")
    try:
        ArbodienstSettings(name=settings.arbodienst_name, base_url=settings.arbodienst_base_url,
                           token=settings.arbodienst_token, regio=settings.arbodienst_regio)
    except ValidationError as exc:
        return Check(name, FAIL, "invalid: " + _rest_problems(exc, "arbodienst"),
                     "Check the VANGNET_ARBODIENST_* variables, or unset VANGNET_ARBODIENST_BASE_URL.")
    if settings.arbodienst_token is None and getattr(settings, "arbodienst_client_cert", None) is None:
        return Check(name, WARN, "neither VANGNET_ARBODIENST_TOKEN nor a client certificate is set: the arbodienst "
                     "will refuse the calls", "Set VANGNET_ARBODIENST_TOKEN to the bearer token agreed with the "
                     "arbodienst.")
    return Check(name, OK, f"{settings.arbodienst_name}, authenticated, regio {settings.arbodienst_regio}")


def _rest_problems(exc: Any, prefix: str) -> str:
    """`VANGNET_<PREFIX>_<FIELD>: problem; ...` from a connector's ValidationError (never the values)."""
    parts = []
    for error in exc.errors(include_input=False, include_url=False):
        field = str(error["loc"][0]) if error["loc"] else ""
        parts.append(f"{_var(f'{prefix}_{field}')}: {_plain(error['msg'])}" if field else _plain(error["msg"]))
    return "; ".join(parts)


def check_feeds(settings: Settings) -> list[Check]:
    """Each provider invoice feed: a valid base URL and a bearer token; tokens for feeds nobody configured."""
    from pydantic import ValidationError

    from connectors.providers import FeedSettings

    if not settings.provider_feeds:
        return [Check("invoice feeds", SKIP, "no provider invoice feeds configured",
                      'Set VANGNET_PROVIDER_FEEDS (JSON {"name": "https://.../api/v1/"}) and '
                      "VANGNET_PROVIDER_FEED_TOKENS to fetch invoices.")]
    checks = []
    for feed, base_url in settings.provider_feeds.items():
        name = f"invoice feed {feed}"
        token = settings.provider_feed_tokens.get(feed)
        try:
            FeedSettings(name=feed, base_url=base_url, token=token)
        except ValidationError as exc:
            problems = "; ".join(_plain(e["msg"]) for e in exc.errors(include_input=False, include_url=False))
            checks.append(Check(name, FAIL, f"configured wrongly in VANGNET_PROVIDER_FEEDS: {problems}",
                                "Check VANGNET_PROVIDER_FEEDS and VANGNET_PROVIDER_FEED_TOKENS."))
            continue
        if token is None:
            checks.append(Check(name, WARN, "no token in VANGNET_PROVIDER_FEED_TOKENS: the provider will refuse",
                                f'Add "{feed}": "<token>" to VANGNET_PROVIDER_FEED_TOKENS.'))
        else:
            checks.append(Check(name, OK, "base URL and token set"))
    unknown = sorted(set(settings.provider_feed_tokens) - set(settings.provider_feeds))
    if unknown:
        checks.append(Check("invoice feed tokens", WARN, f"tokens for feeds that are not configured: "
                            f"{', '.join(unknown)}", "Check the names in VANGNET_PROVIDER_FEED_TOKENS against "
                            "VANGNET_PROVIDER_FEEDS (a typo?)."))
    return checks


# -- 2. database -------------------------------------------------------------------------------------------
def check_database(settings: Settings, *, timeout: float = 3.0) -> list[Check]:
    """The database answers `SELECT 1` and its schema is at the newest migration. A missing SQLite file
    is reported, never created."""
    import store

    url = settings.resolved_database_url
    shown = store.safe_url(url)
    try:
        parsed = store.normalise_url(url)
    except ValueError:
        return [Check("database", FAIL, "VANGNET_DATABASE_URL is not a database URL",
                      "Use e.g. sqlite:///var/vangnet.db or postgresql://user@host/db.")]
    backend = parsed.get_backend_name()
    database = parsed.database or ""
    if backend == "sqlite" and database not in ("", ":memory:") and not database.startswith("file:"):
        if not Path(database).expanduser().is_file():
            return [Check("database", FAIL, f"no database at {shown}",
                          "Run `vangnet db upgrade` to create it (or set VANGNET_HOME / VANGNET_DATABASE_URL to "
                          "where it is)."),
                    Check("database schema", SKIP, "no database to check")]
    problem = _connect_problem(url, backend, timeout)
    if problem:
        return [Check("database", FAIL, f"{shown} does not answer: {problem}",
                      "Check VANGNET_DATABASE_URL, that the database server runs and that this host may connect."),
                Check("database schema", SKIP, "the database does not answer")]
    return [Check("database", OK, f"{shown} answers"), check_schema(url)]


def _connect_problem(url: str, backend: str, timeout: float) -> str | None:
    """None when `SELECT 1` works, else the driver's reason (first line, no URL)."""
    import store
    from sqlalchemy import text
    from sqlalchemy.exc import SQLAlchemyError

    kwargs: dict[str, Any] = {}
    if backend == "postgresql":
        kwargs["connect_args"] = {"connect_timeout": max(1, round(timeout))}
    engine = store.make_engine(url, **kwargs)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        reason = str(getattr(exc, "orig", None) or type(exc).__name__).strip().splitlines()
        return (reason[0] if reason else type(exc).__name__)[:200]
    finally:
        engine.dispose()
    return None


def check_schema(url: str) -> Check:
    """The database's migration revision against the newest one this code ships."""
    import store

    current, head = store.current_revision(url), store.head_revision()
    if current == head:
        return Check("database schema", OK, f"at the newest revision {head}")
    if current is None:
        return Check("database schema", FAIL, "not migrated: the database has no schema yet", UPGRADE_FIX)
    if not _known_revision(current):
        return Check("database schema", FAIL, f"at revision {current}, which this vangnet version does not know "
                     "(a newer vangnet migrated it)", "Run the vangnet version that migrated this database.")
    return Check("database schema", FAIL, f"at revision {current}, this code needs {head}", UPGRADE_FIX)


def _known_revision(revision: str) -> bool:
    from alembic.script import ScriptDirectory

    from store.migrate import alembic_config

    try:
        return ScriptDirectory.from_config(alembic_config()).get_revision(revision) is not None
    except Exception:  # noqa: BLE001 - alembic raises several kinds for an unknown revision
        return False


# -- 3. certificates ---------------------------------------------------------------------------------------
_PEM_FILES: tuple[tuple[str, str | None, bool], ...] = (
    # (setting of the certificate file, setting of its private key, is a CA bundle)
    ("ib_client_cert", "ib_client_key", False),
    ("ib_ca_bundle", None, True),
    ("ib_signing_cert", "ib_signing_key", False),
    ("ib_sender_cert", None, False),
    ("suwinet_client_cert", "suwinet_client_key", False),
    ("suwinet_ca_bundle", None, True),
    ("suwinet_signing_cert", "suwinet_signing_key", False),
    ("suwinet_sender_cert", None, False),
    # Rows for settings that don't exist (yet) are skipped: arbodienst / feed client certificates.
    ("arbodienst_client_cert", "arbodienst_client_key", False),
    ("arbodienst_ca_bundle", None, True),
)


class _Finding(Exception):
    """A problem that ends one check (of a certificate file, or of a partner connection)."""

    def __init__(self, status: Status, detail: str, fix: str | None):
        super().__init__(detail)
        self.status, self.detail, self.fix = status, detail, fix


def check_certificates(settings: Settings, *, now: datetime | None = None) -> list[Check]:
    """Every configured PEM: readable, parses, valid at `now` (warn within 30 days), its key matches."""
    now = now or datetime.now(UTC)
    checks = []
    for cert_field, key_field, bundle in _PEM_FILES:
        path = getattr(settings, cert_field, None)
        if path is None:
            continue
        key_path = getattr(settings, key_field, None) if key_field else None
        name = f"certificate {_var(cert_field)}"
        checks += _guarded(name, lambda: check_pem(name, _var(cert_field), Path(path), now=now, bundle=bundle,
                                                   key_var=_var(key_field) if key_field else None,
                                                   key_path=Path(key_path) if key_path else None))
    return checks or [Check("certificates", SKIP, "no certificate files configured",
                            "Set the VANGNET_IB_* / VANGNET_SUWINET_* certificate variables when connecting to IB or "
                            "Suwinet.")]


def check_pem(name: str, var: str, path: Path, *, now: datetime, bundle: bool = False, key_var: str | None = None,
              key_path: Path | None = None) -> Check:
    """One certificate file (a CA bundle may hold several) and, when given, its private key."""
    try:
        certs = _load_certificates(var, path, bundle=bundle)
        status, detail, fix = _validity(var, path, certs, now=now, bundle=bundle)
        if key_path is not None and key_var is not None:
            key_problem = _key_problem(key_var, key_path, certs[0], var)
            if key_problem:
                status, detail, fix = _worse((status, detail, fix), key_problem)
            else:
                detail += ", key matches"
    except _Finding as finding:
        return Check(name, finding.status, finding.detail, finding.fix)
    return Check(name, status, detail, fix)


def _worse(first: _Problem, second: _Problem) -> _Problem:
    status = max(first[0], second[0], key=_RANK.__getitem__)
    fix = " ".join(f for f in (first[2], second[2]) if f) or None
    return status, f"{first[1]}; {second[1]}", fix


def _read(var: str, path: Path) -> bytes:
    path = path.expanduser()
    if not path.exists():
        raise _Finding(FAIL, f"{path} does not exist", f"Set {var} to the PEM file's path.")
    if not path.is_file():
        raise _Finding(FAIL, f"{path} is not a file", f"Set {var} to the PEM file's path.")
    try:
        return path.read_bytes()
    except OSError:
        raise _Finding(FAIL, f"{path} is not readable by this process",
                       f"Give the user running vangnet read access to {path}.") from None


def _load_certificates(var: str, path: Path, *, bundle: bool) -> list[Any]:
    from cryptography import x509

    data = _read(var, path)
    try:
        certs = x509.load_pem_x509_certificates(data)
    except ValueError:
        certs = []
    if not certs:
        raise _Finding(FAIL, f"{path} holds no PEM certificate", f"Set {var} to a PEM file (-----BEGIN CERTIFICATE"
                       "-----); convert DER with `openssl x509 -inform der -in FILE -out FILE.pem`.")
    return certs


def _validity(var: str, path: Path, certs: list[Any], *, now: datetime, bundle: bool) -> _Problem:
    expired = [c for c in certs if c.not_valid_after_utc < now]
    early = [c for c in certs if c.not_valid_before_utc > now]
    valid = [c for c in certs if c not in expired and c not in early]
    renew = f"Renew it and replace {path} (or point {var} at the new file)."
    if expired and (not bundle or not valid):
        return FAIL, f"{path} ({_cn(expired[0])}) expired on {_day(expired[0].not_valid_after_utc)}", renew
    if early and (not bundle or not valid):
        return FAIL, f"{path} ({_cn(early[0])}) is not valid before {_day(early[0].not_valid_before_utc)}", \
            "Check the system clock, or use the certificate that is valid now."
    first = min(valid, key=lambda c: c.not_valid_after_utc)
    ends = first.not_valid_after_utc
    what = f"{len(certs)} CA certificates" if bundle else _cn(certs[0])
    if ends - now < EXPIRY_WARNING:
        return WARN, f"{path} ({_cn(first)}) expires on {_day(ends)} (in {(ends - now).days} days)", \
            f"Renew before {_day(ends)} and replace {path}."
    if bundle and expired:
        return WARN, f"{path}: {len(expired)} of {len(certs)} CA certificates expired ({_cn(expired[0])})", \
            f"Remove the expired certificates from {path}."
    return OK, f"{path}: {what}, valid until {_day(ends)}", None


def _key_problem(key_var: str, key_path: Path, cert: Any, cert_var: str) -> _Problem | None:
    from cryptography.hazmat.primitives import serialization

    data = _read(key_var, key_path)
    try:
        key = serialization.load_pem_private_key(data, password=None)
    except TypeError:
        return FAIL, f"the key {key_path} is encrypted", f"Give vangnet an unencrypted key ({key_var}), readable " \
            "by its user only (chmod 600)."
    except Exception:  # noqa: BLE001 - ValueError, UnsupportedAlgorithm: the file is no usable PEM key
        return FAIL, f"{key_path} holds no PEM private key", f"Set {key_var} to the PEM private key of {cert_var}."
    spki = serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    if key.public_key().public_bytes(*spki) != cert.public_key().public_bytes(*spki):
        return FAIL, f"the key {key_path} does not belong to the certificate", \
            f"Set {key_var} to the key the certificate {cert_var} was issued for (or the certificate to its own)."
    mode = key_path.expanduser().stat().st_mode & 0o777
    if os.name == "posix" and mode & 0o077:
        return WARN, f"the key {key_path} is readable by other users (mode {mode:o})", f"Run `chmod 600 {key_path}`."
    return None


def _cn(cert: Any) -> str:
    from cryptography.x509.oid import NameOID

    names = cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    return f"CN={names[0].value}" if names else cert.subject.rfc4514_string() or "no subject"


def _day(moment: datetime) -> str:
    return f"{moment:%Y-%m-%d}"


# -- 4. partners -------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Endpoint:
    """A partner address to probe, with the TLS files its connector uses."""

    name: str
    url: str | None
    setting: str
    ca_bundle: Path | None = None
    client_cert: Path | None = None
    client_key: Path | None = None
    tls_prefix: str | None = None  # `ib` → its VANGNET_IB_* TLS variables, for the fix text


def endpoints(settings: Settings) -> list[Endpoint]:
    """Every partner address vangnet may call, configured or not."""
    ib_tls = {"ca_bundle": settings.ib_ca_bundle, "client_cert": settings.ib_client_cert,
              "client_key": settings.ib_client_key, "tls_prefix": "ib"}
    suwinet_tls = {"ca_bundle": settings.suwinet_ca_bundle, "client_cert": settings.suwinet_client_cert,
                   "client_key": settings.suwinet_client_key, "tls_prefix": "suwinet"}
    found = [
        Endpoint("partner IB", settings.ib_endpoint, "VANGNET_IB_ENDPOINT", **ib_tls),
        Endpoint("partner Suwinet GSDDossierReintegratie", settings.suwinet_reintegratie_endpoint,
                 "VANGNET_SUWINET_REINTEGRATIE_ENDPOINT", **suwinet_tls),
        Endpoint("partner Suwinet UWVDossierWerknemersverzekeringenGSD", settings.suwinet_wv_endpoint,
                 "VANGNET_SUWINET_WV_ENDPOINT", **suwinet_tls),
        Endpoint("partner zaaksysteem (ZGW)", settings.zgw_base_url, "VANGNET_ZGW_BASE_URL"),
        Endpoint("partner arbodienst", settings.arbodienst_base_url, "VANGNET_ARBODIENST_BASE_URL"),
    ]
    found += [Endpoint(f"partner invoice feed {feed}", url, "VANGNET_PROVIDER_FEEDS")
              for feed, url in settings.provider_feeds.items()]
    return found


def check_partners(settings: Settings, *, timeout: float = 3.0) -> list[Check]:
    """Every configured partner (and the Prefect API), probed in parallel; unconfigured ones are skipped."""
    from flows.prefect_server import is_healthy

    jobs: list[tuple[str, Callable[[], Check]]] = []
    for endpoint in endpoints(settings):
        if endpoint.url:
            jobs.append((endpoint.name, lambda e=endpoint: probe(e, timeout=timeout)))
        else:
            jobs.append((endpoint.name, lambda e=endpoint: Check(e.name, SKIP, "not configured",
                                                                 f"Set {e.setting} to connect.")))
    if not settings.provider_feeds:
        jobs.append(("partner invoice feeds", lambda: Check("partner invoice feeds", SKIP, "none configured",
                                                            "Set VANGNET_PROVIDER_FEEDS.")))
    jobs.append(("partner Prefect API", lambda: check_prefect(settings, is_healthy)))
    with ThreadPoolExecutor(max_workers=8) as pool:
        futures = [pool.submit(_guarded, name, job) for name, job in jobs]
        return [check for future in futures for check in future.result()]


def check_prefect(settings: Settings, is_healthy: Callable[[str], bool]) -> Check:
    """The Prefect API answers its health call."""
    url = settings.resolved_prefect_api_url
    if is_healthy(url):
        return Check("partner Prefect API", OK, f"{url} answers")
    if settings.prefect_api_url:
        return Check("partner Prefect API", WARN, f"the Prefect server at {url} (VANGNET_PREFECT_API_URL) does not "
                     "answer: flows can't run",
                     "Start that server, or unset VANGNET_PREFECT_API_URL to use the local one.")
    return Check("partner Prefect API", WARN, f"no Prefect server answers at {url}: flows can't run",
                 "Run `vangnet server start`.")


def probe(endpoint: Endpoint, *, timeout: float = 3.0) -> Check:
    """TCP connect, TLS handshake for https (with the endpoint's CA bundle and client certificate) and one
    `HEAD` request within `timeout` seconds. Any HTTP answer is reachable; nothing else is sent."""
    try:
        parts = urlsplit(endpoint.url or "")
        scheme, host, port = parts.scheme, parts.hostname, parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError:
        scheme, host, port = "", None, 0
    if host is None or scheme not in ("http", "https"):
        return Check(endpoint.name, FAIL, f"{endpoint.setting} is not an http(s) URL with a host",
                     f"Set {endpoint.setting} to the partner's https:// URL.")
    started = time.monotonic()
    deadline = started + timeout
    try:
        with _connect(endpoint, host, port, deadline, tls=scheme == "https") as sock:
            status = _http_status(sock, endpoint, host, port, parts.path or "/", deadline)
            tls = f" over {sock.version()}" if isinstance(sock, ssl.SSLSocket) else ""
    except _Finding as finding:
        return Check(endpoint.name, finding.status, finding.detail, finding.fix)
    if status is None:
        return Check(endpoint.name, WARN, f"{host}:{port} accepted the connection{tls} but gave no HTTP answer",
                     f"Check that {endpoint.setting} points at the partner's HTTP service.")
    spent = round((time.monotonic() - started) * 1000)
    return Check(endpoint.name, OK, f"{host}:{port} answered HTTP {status}{tls} in {spent} ms")


def _unreachable(endpoint: Endpoint) -> str:
    return f"Check the URL in {endpoint.setting}, firewall/VPN, or that the partner is up."


def _connect(endpoint: Endpoint, host: str, port: int, deadline: float, *, tls: bool) -> socket.socket:
    where = f"{host}:{port}"
    try:
        sock = socket.create_connection((host, port), timeout=_left(deadline))
    except socket.gaierror:
        raise _Finding(FAIL, f"the host name {host} does not resolve", _unreachable(endpoint)) from None
    except ConnectionRefusedError:
        raise _Finding(FAIL, f"{where} refused the connection", _unreachable(endpoint)) from None
    except TimeoutError:
        raise _Finding(FAIL, f"{where} did not answer within the timeout", _unreachable(endpoint)) from None
    except OSError as exc:
        raise _Finding(FAIL, f"{where} is unreachable ({exc.strerror or type(exc).__name__})",
                       _unreachable(endpoint)) from None
    if not tls:
        return sock
    try:
        context = _tls_context(endpoint)
        sock.settimeout(_left(deadline))
        return context.wrap_socket(sock, server_hostname=host)
    except Exception as exc:  # noqa: BLE001 - every TLS failure becomes a finding naming the setting to check
        sock.close()
        raise _tls_finding(endpoint, where, exc) from None


def _tls_context(endpoint: Endpoint) -> ssl.SSLContext:
    from connectors.tls import TlsFilesError, client_ssl_context

    try:
        return client_ssl_context(ca_bundle=endpoint.ca_bundle, client_cert=endpoint.client_cert,
                                  client_key=endpoint.client_key)
    except TlsFilesError:
        files = (f"{_var(endpoint.tls_prefix + '_ca_bundle')} / _CLIENT_CERT / _CLIENT_KEY" if endpoint.tls_prefix
                 else "CA bundle, client certificate or key")
        raise _Finding(FAIL, f"the TLS files ({files}) can't be loaded",
                       "See the certificate checks for the file that is wrong.") from None


def _tls_finding(endpoint: Endpoint, where: str, exc: BaseException) -> _Finding:
    """What a failed TLS handshake (or the alert right after it) means, and which setting to look at."""
    if isinstance(exc, _Finding):
        return exc
    prefix = endpoint.tls_prefix
    ca_var = _var(f"{prefix}_ca_bundle") if prefix else "the system CA store"
    cert_var = _var(f"{prefix}_client_cert") if prefix else "the client certificate"
    if isinstance(exc, ssl.SSLCertVerificationError):
        return _Finding(FAIL, f"{where}: the server's certificate is not trusted ({exc.verify_message})",
                        f"Check that {ca_var} holds the partner's CA and that the host in {endpoint.setting} is the "
                        "name on its certificate.")
    if isinstance(exc, (ssl.SSLError, ConnectionResetError, BrokenPipeError)):
        reason = getattr(exc, "reason", None) or type(exc).__name__
        fix = (f"Check that {cert_var} is the certificate registered with the partner." if endpoint.client_cert
               else f"The partner may require a client certificate: set {cert_var} and its key.")
        return _Finding(FAIL, f"{where}: the partner refused the TLS connection ({reason})", fix)
    if isinstance(exc, TimeoutError):
        return _Finding(FAIL, f"{where}: the TLS handshake did not finish within the timeout", _unreachable(endpoint))
    return _Finding(FAIL, f"{where}: TLS failed ({type(exc).__name__})", _unreachable(endpoint))


def _http_status(sock: socket.socket, endpoint: Endpoint, host: str, port: int, path: str,
                 deadline: float) -> int | None:
    """Send one HEAD request; the answer's status code, or None when no HTTP answer came in time."""
    authority = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
    request = (f"HEAD {path} HTTP/1.1\r\nHost: {authority}\r\nUser-Agent: vangnet-doctor\r\n"
               "Connection: close\r\n\r\n").encode("ascii", "replace")
    head = b""
    try:
        sock.settimeout(_left(deadline))
        sock.sendall(request)
        while b"\r\n" not in head and len(head) < 1024:
            chunk = sock.recv(256)
            if not chunk:
                break
            head += chunk
    except TimeoutError:
        return None
    except (ssl.SSLError, ConnectionResetError, BrokenPipeError) as exc:  # TLS 1.3: a refused client cert shows here
        if isinstance(sock, ssl.SSLSocket):
            raise _tls_finding(endpoint, f"{host}:{port}", exc) from None
        raise _Finding(FAIL, f"{host}:{port} closed the connection", _unreachable(endpoint)) from None
    match = re.match(rb"HTTP/\d(?:\.\d)? (\d{3})", head)
    return int(match.group(1)) if match else None


def _left(deadline: float) -> float:
    return max(0.05, deadline - time.monotonic())


# -- 5. e-invoicing rules ----------------------------------------------------------------------------------
def check_rules(settings: Settings, *, deep: bool = False) -> Check:
    """The official e-invoicing artefacts: every profile's stylesheet and every XSD present; with `deep`,
    compiled (10-20 s on a cold start, so only when asked)."""
    import einvoicing

    name = "e-invoicing rules"
    configured = settings.einvoice_rules_dir is not None
    rules = settings.einvoice_rules_dir.expanduser() if configured else einvoicing.default_rules_dir()
    if rules is None:
        return Check(name, WARN, "no rules folder: only structural checks run on invoices",
                     "Set VANGNET_EINVOICE_RULES_DIR to the folder with the official UBL XSD and SI-UBL / Peppol "
                     "XSLT (corpus layout).")
    if not rules.is_dir():
        return Check(name, FAIL, f"the rules folder {rules} does not exist: every invoice would be rejected",
                     "Point VANGNET_EINVOICE_RULES_DIR at the folder with the official artefacts, or unset it.")
    needed = rule_files()
    missing = [relative for relative in needed if not (rules / relative).is_file()]
    if missing:
        return Check(name, FAIL, f"{len(missing)} of {len(needed)} rule files missing in {rules}: {', '.join(missing)}",
                     "Copy them from the shared corpus (same relative paths), or point VANGNET_EINVOICE_RULES_DIR at "
                     "a complete copy.")
    if not deep:
        return Check(name, OK, f"all {len(needed)} rule files present in {rules} (--deep compiles them)")
    compiled = einvoicing.Validator(rules).warm_up()
    broken = [relative for relative in needed if relative not in compiled]
    if broken:
        return Check(name, FAIL, f"{len(broken)} rule files in {rules} do not compile: {', '.join(broken)}",
                     "Replace them with the official files (same relative paths).")
    return Check(name, OK, f"all {len(needed)} rule files in {rules} compile")


def rule_files() -> list[str]:
    """Every rule file the profile and document-type tables name, relative to the rules folder."""
    from einvoicing import DOCUMENT_TYPES, PROFILES

    stylesheets = {s for profile in PROFILES for s in profile.stylesheets}
    return sorted(stylesheets | {t.xsd for t in DOCUMENT_TYPES if t.xsd is not None})


# -- 6. provider contracts ---------------------------------------------------------------------------------
def check_contracts(settings: Settings) -> list[Check]:
    """The provider contract files parse, and the configured arbodienst contract is one of them."""
    from flows.runtime import contracts_dir
    from mappings.provider_contract import ContractError, load_contracts

    folder = contracts_dir(settings)
    try:
        contracts = load_contracts(folder)
    except ContractError as exc:
        return [Check("provider contracts", FAIL, f"can't be read: {exc}",
                      "Fix the file, or point VANGNET_PROVIDER_CONTRACTS_DIR at the right folder."),
                Check("arbodienst contract", SKIP, "the provider contracts can't be read")]
    if not contracts:
        first = Check("provider contracts", WARN, f"no contract files (*.json) in {folder}: orders can't be priced",
                      "Put the provider contract files in VANGNET_PROVIDER_CONTRACTS_DIR (format: simulators/data/providers/).")
    elif settings.provider_contracts_dir is None:
        first = Check("provider contracts", WARN, f"{len(contracts)} demo contracts ({folder})",
                      "Set VANGNET_PROVIDER_CONTRACTS_DIR to the gemeente's own contracts.")
    else:
        first = Check("provider contracts", OK, f"{len(contracts)} contracts in {folder}")
    return [first, check_arbodienst_contract(settings, folder, contracts)]


def check_arbodienst_contract(settings: Settings, folder: Path, contracts: dict[str, Any]) -> Check:
    """VANGNET_ARBODIENST_CONTRACT names a contract in the contracts folder."""
    from mappings.provider_contract import ContractError, find_contract

    name = "arbodienst contract"
    if not settings.arbodienst_contract:
        if settings.arbodienst_base_url:
            return Check(name, WARN, "VANGNET_ARBODIENST_CONTRACT is not set: no arbodienst is ordered after takeover",
                         "Set VANGNET_ARBODIENST_CONTRACT to the arbodienst's contract file or provider id.")
        return Check(name, SKIP, "not configured: no arbodienst is ordered after takeover",
                     "Set VANGNET_ARBODIENST_CONTRACT to the arbodienst's contract file or provider id.")
    try:
        contract = find_contract(folder, settings.arbodienst_contract)
    except ContractError as exc:
        return Check(name, FAIL, f"VANGNET_ARBODIENST_CONTRACT can't be used: {exc}",
                     "Check VANGNET_ARBODIENST_CONTRACT and VANGNET_PROVIDER_CONTRACTS_DIR.")
    if contract.provider_id not in contracts:
        return Check(name, FAIL, f"{contract.provider_id} is not in the contracts folder {folder}: its invoices "
                     "can't be checked against it", f"Move the contract file into {folder}, or point "
                     "VANGNET_ARBODIENST_CONTRACT at one there.")
    return Check(name, OK, f"{contract.naam} ({contract.provider_id})")
