"""One typed Settings class for the whole system (env prefix ``PRECINCT_``)."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_SECRET = "precinct-local-development-secret-change-me"  # noqa: S105 - refused in production
_SIZE = re.compile(r"^\s*(?P<n>\d+(?:\.\d+)?)\s*(?P<unit>[kmgt]i?b|b)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40}


class Settings(BaseSettings):
    """Runtime configuration; every value can be set as ``PRECINCT_<NAME>``."""

    model_config = SettingsConfigDict(env_prefix="PRECINCT_", extra="ignore")

    environment: Literal["local", "test", "production"] = "local"
    data_dir: Path = Path("./var")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; unset means embedded SQLite in data_dir"
    )
    secret_key: SecretStr = SecretStr(DEFAULT_SECRET)
    token_ttl_minutes: int = Field(default=15, ge=1, le=24 * 60)
    idle_timeout_minutes: int = Field(default=30, ge=1)
    max_failed_logins: int = Field(default=5, ge=1)
    lockout_minutes: int = Field(default=15, ge=1)
    bus_url: str | None = Field(default=None, description="nats://host:port for JetStream; unset = in-process")
    bus_max_age_hours: float = Field(default=24.0, gt=0, description="JetStream: events kept this long")
    bus_max_msgs: int = Field(default=1_000_000, ge=100, description="JetStream: at most this many events kept")
    bus_replay_max: int = Field(default=10_000, ge=100, description="events each worker keeps for replay")
    audit_anchor_dir: Path | None = Field(
        default=None, description="append-only directory for signed audit checkpoints; unset = data_dir/anchors")
    audit_anchor_every_s: float = Field(default=300.0, ge=0, description="checkpoint period (0 = on demand only)")
    warehouse_here: bool = Field(
        default=True, description="this process may open the DuckDB warehouse (false on API pool workers "
        "when a dedicated warehouse process serves /api/v1/anpr/)")
    retention_every_hours: float = Field(default=24.0, ge=0, description="retention run period (0 = CLI only)")
    spark: bool = Field(default=False, description="run analytics on Apache Spark instead of DuckDB")
    spark_master: str = Field(
        default="local[2]", min_length=1,
        description="Spark master URL for --engine spark: local[N] in-process, spark://host:7077 for a cluster")
    warehouse_max_spill: str = Field(
        default="auto", description="most disk DuckDB may fill with temporary (spill) files, in data_dir/warehouse/"
        "spill: 'auto' (half the free disk there when the warehouse opens), a size ('20GiB', '500MB'), a bare number "
        "of GiB, or 0 (never spill); a query that needs more fails with the error spill_limit")
    anpr_retention_days: int = Field(default=365, ge=1)
    public_sender: str = Field(default="precinct@police.example", description="CAP <sender> of public alerts")
    public_sender_name: str = Field(default="Precinct 公安局 / Precinct Police", description="CAP <senderName>")
    public_signing_key: Path | None = Field(
        default=None, description="PEM private key signing CAP alerts; unset = generated into data_dir/public")
    public_signing_cert: Path | None = Field(default=None, description="PEM certificate of public_signing_key")
    public_k: int = Field(default=5, ge=2, description="open data: smallest count ever published (k-anonymity)")
    public_complaint_to: str = Field(
        default="", max_length=2000, description="default recipients of the order a callback complaint opens "
        "(comma-separated user:NAME, station:NAME, group:NAME); empty = an order only when recipients are given")
    fraud_wave_reports: int = Field(default=10, ge=2, description="a fraud wave: this many reports of one cluster, "
                                    "or of one fraud type, within fraud_wave_days proposes a public alert draft")
    fraud_wave_days: float = Field(default=7.0, gt=0, le=90, description="the window of fraud_wave_reports")
    ack_late_s: float = Field(default=120.0, gt=0,
                              description="a dispatched unit that has not acknowledged after this long is late")

    @model_validator(mode="after")
    def _refuse_default_secret(self) -> Settings:
        if self.environment == "production" and self.secret_key.get_secret_value() == DEFAULT_SECRET:
            raise ValueError(
                "PRECINCT_SECRET_KEY is the built-in default; set a secret before running in production"
            )
        if self.environment == "production" and len(self.secret_key.get_secret_value()) < 32:
            raise ValueError("PRECINCT_SECRET_KEY must be at least 32 characters in production")
        return self

    @field_validator("warehouse_max_spill")
    @classmethod
    def _check_spill(cls, value: str) -> str:
        if value.strip().lower() != "auto" and not _SIZE.match(value):
            raise ValueError("PRECINCT_WAREHOUSE_MAX_SPILL: 'auto', a size such as '20GiB' or '500MB', "
                             "or a number of GiB")
        return value

    @property
    def warehouse_max_spill_bytes(self) -> int | None:
        """``warehouse_max_spill`` in bytes; None for ``auto`` (decided when the warehouse opens)."""
        m = _SIZE.match(self.warehouse_max_spill)
        if m is None:  # "auto" (anything else was refused above)
            return None
        return int(float(m["n"]) * _UNITS[(m["unit"] or "gib").lower()])

    @property
    def sqlalchemy_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'precinct.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.sqlalchemy_url.startswith("sqlite")

    @property
    def anchor_dir(self) -> Path:
        """Where signed audit checkpoints are appended (outside the database)."""
        return self.audit_anchor_dir or self.data_dir / "anchors"

    def ensure_dirs(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings (cached; tests call ``get_settings.cache_clear()``)."""
    return Settings()


MIB = 1024 * 1024


# Read on each call rather than cached with the Settings: cheap, and the limits tests change them.
class Limits(BaseSettings):
    """Size limits (env prefix ``PRECINCT_``)."""

    model_config = SettingsConfigDict(env_prefix="PRECINCT_", extra="ignore")

    max_body_bytes: int = Field(default=1 * MIB, ge=1024, description="request body limit of every route")
    max_bulk_body_bytes: int = Field(default=256 * MIB, ge=1024,
                                     description="request body limit of the bulk ingest routes, when allowed")
    max_large_body_bytes: int = Field(default=32 * MIB, ge=1024,
                                      description="request body limit of the list-taking routes, when allowed")
    max_decompressed_bytes: int = Field(default=256 * MIB, ge=1024,
                                        description="decompressed size limit of one compressed upload")
    max_rows: int = Field(default=10_000_000, ge=1, description="row limit of one upload")
    max_attachment_bytes: int = Field(default=12 * MIB, ge=1024,
                                      description="request body limit of a scene photo or note, when allowed")
    max_image_pixels: int = Field(default=64_000_000, ge=10_000,
                                  description="pixel limit of an uploaded JPEG (PNG/WebP: a quarter of it), "
                                  "checked on the header before decoding")
    session_max_hours: float = Field(default=12.0, gt=0, description="absolute session limit (one shift)")
    login_backoff_after: int = Field(default=5, ge=1,
                                     description="failed logins from one source before it must wait")
    login_backoff_max_s: float = Field(default=900.0, gt=0, description="longest wait of a source")


def get_limits() -> Limits:
    """The limits from the environment (read on each call: cheap, and tests may change them)."""
    return Limits()
