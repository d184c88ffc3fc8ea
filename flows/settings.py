"""The one place vangnet reads its configuration: environment variables `VANGNET_*` or a `.env` file.

Every setting has a working default for a local run (SQLite and Prefect's home under `var/`), except
secrets, which have none: a missing secret is an error when the feature that needs it is used.
See the README's "Configuration" table.
"""

from __future__ import annotations

from functools import cached_property
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """vangnet's settings. Field `x` is set with `VANGNET_X`."""

    model_config = SettingsConfigDict(env_prefix="VANGNET_", env_file=".env", extra="ignore")

    home: Path = Field(default=Path("var"), description="Folder for local state: database, Prefect home, logs.")
    database_url: str | None = Field(default=None, repr=False,  # may hold a password
                                     description="SQLAlchemy URL; default SQLite in `home`.")
    gemeentecode: str | None = Field(default=None, description="CBS code of the gemeente this install serves.")

    prefect_host: str = "127.0.0.1"
    prefect_port: int = 4200
    prefect_api_url: str | None = Field(default=None, description="Use an existing Prefect server instead.")
    prefect_start_timeout: float = 120.0

    ib_endpoint: str | None = Field(default=None, description="IB signal service URL; unset: local simulator.")
    ib_client_cert: Path | None = None
    ib_client_key: Path | None = None
    ib_ca_bundle: Path | None = None
    ib_profile: str = Field(default="2W-be-S", description="Digikoppeling profile: 2W-be-S (signed) or 2W-be.")
    ib_own_oin: str | None = Field(default=None, description="Our OIN (wsa:From).")
    ib_receiver_oin: str | None = Field(default=None, description="IB's OIN (added to wsa:To as ?OIN=).")
    ib_signing_key: Path | None = Field(default=None, description="Our 2W-be-S signing key (PEM).")
    ib_signing_cert: Path | None = Field(default=None, description="Our 2W-be-S signing certificate (PEM).")
    ib_sender_cert: Path | None = Field(default=None, description="IB's signing certificate we trust (PEM).")
    ib_timeout: float = 30.0
    partner_timeout: float | None = Field(default=None, gt=0, description=(
        "Seconds any one partner call may take (IB, Suwinet, ZGW, arbodienst, invoice feeds); unset: each "
        "connector's own (IB: ib_timeout)."))
    ib_page_size: int = Field(default=100, ge=1, le=1000)
    ib_max_attempts: int = Field(default=4, ge=1, le=10)

    suwinet_reintegratie_endpoint: str | None = Field(default=None, description="GSDDossierReintegratie URL.")
    suwinet_wv_endpoint: str | None = Field(default=None, description="UWVDossierWerknemersverzekeringenGSD URL.")
    suwinet_safety_net: bool = Field(default=False, description="Poll Suwinet for changes of open cases.")
    suwinet_profile: str = Field(default="2W-be-S", description="Digikoppeling profile towards Suwinet.")
    suwinet_client_cert: Path | None = None
    suwinet_client_key: Path | None = None
    suwinet_ca_bundle: Path | None = None
    suwinet_signing_key: Path | None = None
    suwinet_signing_cert: Path | None = None
    suwinet_sender_cert: Path | None = Field(default=None, description="BKWI's signing certificate we trust.")

    zgw_base_url: str | None = Field(default=None, description="ZGW Zaken API base URL; unset: no zaak is made.")
    zgw_client_id: str | None = None
    zgw_secret: SecretStr | None = Field(default=None, description="JWT secret for the Zaken API (no default).")
    zgw_user_id: str = "vangnet"
    zgw_user_representation: str = "vangnet (automatisch)"
    zgw_zaaktype: str | None = None
    zgw_statustype_intake: str | None = None
    zgw_statustype_einde: str | None = None
    zgw_roltype_betrokkene: str | None = None
    zgw_bronorganisatie: str | None = Field(default=None, description="RSIN of the gemeente (9 digits).")

    arbodienst_name: str = Field(default="arbodienst", description="Short name; also names the Prefect concurrency limit.")
    arbodienst_base_url: str | None = Field(default=None, description="Booking API root; unset: no consults are booked.")
    arbodienst_token: SecretStr | None = Field(default=None, description="Bearer token agreed with the arbodienst.")
    arbodienst_regio: str = Field(default="default", description="Region of the arbodienst's locations to book in.")
    arbodienst_max_no_shows: int = Field(default=2, ge=1, description="No-shows after which a person takes over.")
    arbodienst_contract: str | None = Field(
        default=None, description="Contract (file name or provider id) of the arbodienst ordered after takeover.")
    provider_contracts_dir: Path | None = Field(
        default=None, description="Folder of provider contract files (JSON); unset: the demo contracts.")

    einvoice_rules_dir: Path | None = Field(
        default=None, description="Folder with the official e-invoicing rules (UBL XSD, SI-UBL/Peppol/EN 16931 "
        "XSLT) in the corpus layout; unset: ../shared/corpus/einvoicing when present, else structural checks only.")
    provider_feeds: dict[str, str] = Field(
        default_factory=dict, description='Invoice feeds as JSON, name → base URL: {"reintegratie": "https://..."}; '
        "unset: the demo uses its simulator.")
    provider_feed_tokens: dict[str, SecretStr] = Field(
        default_factory=dict, description="Bearer token per invoice feed name (JSON, no default).")
    invoice_drop_dir: Path | None = Field(
        default=None, description="Drop folder for UBL files (Peppol access point, manual upload); unset: none.")
    finance_export_dir: Path | None = Field(
        default=None, description="Folder for booking files of approved invoices; unset: `home`/exports.")
    invoice_review_timeout: int = Field(
        default=3600, ge=0, description="Seconds a review flow waits for a clerk before leaving invoices DISPUTED.")

    alert_webhook_url: SecretStr | None = Field(
        default=None, description="Webhook operator alerts are POSTed to (JSON subject/body/text); the URL may "
        "itself be the credential.")
    alert_webhook_token: SecretStr | None = Field(default=None, description="Bearer token for the alert webhook.")
    alert_email_to: str | None = Field(
        default=None, description='Mailbox a mail-relay webhook sends alerts to (sent as "to").')
    alert_intake_window: int = Field(
        default=86400, ge=10, description="Seconds without a completed signal-intake run before alerting.")

    schedule_intake_minutes: int = Field(default=15, ge=1, le=1440, description="Minutes between intake runs.")
    schedule_consults_minutes: int = Field(default=30, ge=1, le=1440, description="Minutes between consult runs.")

    riv_lead_weeks: int = Field(
        default=6, ge=1, le=91, description="Weeks before week 91 the RIV task starts assembling drafts and listing gaps.")
    report_dir: Path | None = Field(
        default=None, description="Folder the monthly management report is written to; unset: `home`/reports.")
    research_key: SecretStr | None = Field(
        default=None, description="Key of the keyed hash (HMAC-SHA256) that pseudonymises the research export; "
        "no default, never in the repo. Keep it the same across exports to follow a person.")
    research_key_file: Path | None = Field(default=None, description="File holding the research key instead.")
    retention_years: int = Field(
        default=2, ge=1, le=30, description="Years after a case closed before the retention flow anonymises it.")
    retention_wia_years: int = Field(
        default=7, ge=1, le=30, description="The same when a WIA application followed (ASSUMPTION: the gemeente "
        "sets its own term for cases that go on to WIA/WGA).")

    batch_size: int = Field(default=500, ge=1, description="Records per store batch (one Prefect task each).")

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.home / 'vangnet.db').resolve()}"

    @property
    def prefect_home(self) -> Path:
        return (self.home / "prefect").resolve()

    @property
    def log_dir(self) -> Path:
        return (self.home / "logs").resolve()

    @cached_property
    def resolved_prefect_api_url(self) -> str:
        return self.prefect_api_url or f"http://{self.prefect_host}:{self.prefect_port}/api"
