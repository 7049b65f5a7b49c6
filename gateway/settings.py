"""Typed settings from the environment (prefix ``GATEWAY_``, nested with ``__``) or a ``.env`` file.

Every field is described; ``deploy/.env.example`` lists them all. ``Settings.check_secrets`` refuses
to start outside demo/dev mode while a secret is missing or still a placeholder.
"""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

from pydantic import BaseModel, Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

PLACEHOLDER_MARKERS = ("change-me", "changeme", "placeholder", "xxx", "demo-")


class Mode(StrEnum):
    """How strictly start-up checks configuration."""

    production = "production"
    dev = "dev"
    demo = "demo"


class Role(StrEnum):
    """Who a caller is to the bureau (RULES.md §2)."""

    duty = "duty"  # 值班员
    unit = "unit"  # 承办单位
    leader = "leader"  # 分管领导
    supervisor = "supervisor"  # 督察
    admin = "admin"  # 管理员


class ApiToken(BaseModel):
    """A bearer token for a machine client, with the name recorded on every action and its roles."""

    name: str = Field(description="Actor name written to the ticket timeline")
    token: SecretStr = Field(description="The bearer token itself (long and random)")
    roles: list[Role] = Field(default_factory=lambda: [Role.duty], description="Roles the token acts with")
    unit: str | None = Field(default=None, description="Handling unit the token is limited to, if any")


class PlatformSettings(BaseModel):
    """What every platform connection has."""

    enabled: bool = Field(default=False, description="Poll and deliver for this platform")
    base_url: str = Field(default="http://127.0.0.1:9001", description="Platform API base URL")
    poll_interval_s: float = Field(default=30.0, description="Seconds between pull cycles")
    poll_overlap_s: float = Field(default=120.0, description="Pull window overlap, against clock skew")
    page_size: int = Field(default=50, description="Items per pull page")
    timeout_s: float = Field(default=10.0, description="HTTP timeout per request, seconds")
    rate_limit_per_s: float = Field(default=10.0, description="Our own ceiling on requests per second")
    circuit_failure_threshold: int = Field(default=5, description="Consecutive failures that open the circuit")
    circuit_reset_s: float = Field(default=30.0, description="Seconds the circuit stays open before a probe")
    operator_name: str = Field(default="市公安局", description="Operator name sent with sign-offs")

    def secrets(self) -> dict[str, SecretStr]:
        """The secret fields of this platform, by name."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, SecretStr)}


class P12345Settings(PlatformSettings):
    """12345 government hotline (PLATFORMS.md §1): signed JSON, push and pull."""

    base_url: str = Field(default="http://127.0.0.1:9101", description="Platform API base URL")
    rate_limit_per_s: float = Field(default=15.0, description="Below the platform's 20 req/s")
    app_id: str = Field(default="gw-demo", description="X-App-Id issued by the platform")
    app_secret: SecretStr = Field(default=SecretStr("demo-secret-p12345"), description="HMAC key")
    signature_window_s: int = Field(default=300, description="Accepted clock difference on pushes")


class P12389Settings(PlatformSettings):
    """12389 police complaint platform (PLATFORMS.md §2): OAuth2 client credentials, XML, pull only."""

    base_url: str = Field(default="http://127.0.0.1:9102", description="Platform API base URL")
    client_id: str = Field(default="gw-demo", description="OAuth2 client id")
    client_secret: SecretStr = Field(default=SecretStr("demo-secret-p12389"), description="OAuth2 secret")


class MayorSettings(PlatformSettings):
    """Mayor's hotline (PLATFORMS.md §3): GBK JSON, token in the query string, pull only."""

    base_url: str = Field(default="http://127.0.0.1:9103", description="Platform API base URL")
    token: SecretStr = Field(default=SecretStr("demo-token-mayor"), description="Static query token")


class MailboxSettings(PlatformSettings):
    """Director's mailbox (PLATFORMS.md §4): REST, epoch-ms times, cursor feed."""

    base_url: str = Field(default="http://127.0.0.1:9104", description="Platform API base URL")
    rate_limit_per_s: float = Field(default=4.0, description="Below the platform's 5 req/s")
    api_key: SecretStr = Field(default=SecretStr("demo-key-mailbox"), description="Bearer API key")


class PlatformsSettings(BaseModel):
    """One section per platform key."""

    p12345: P12345Settings = Field(default_factory=P12345Settings)
    p12389: P12389Settings = Field(default_factory=P12389Settings)
    mayor: MayorSettings = Field(default_factory=MayorSettings)
    mailbox: MailboxSettings = Field(default_factory=MailboxSettings)

    def enabled(self) -> dict[str, PlatformSettings]:
        """The enabled platforms, by key."""
        return {k: v for k, v in self.__dict__.items() if isinstance(v, PlatformSettings) and v.enabled}

    def get(self, key: str) -> PlatformSettings:
        """One platform's settings by key."""
        value = getattr(self, key, None)
        if not isinstance(value, PlatformSettings):
            raise KeyError(key)
        return value


class OutboxSettings(BaseModel):
    """Delivery of write-backs (DESIGN.md "Outbound")."""

    lease_s: float = Field(default=60.0, description="How long a worker owns a claimed row")
    backoff_base_s: float = Field(default=2.0, description="First retry delay; doubles per attempt")
    backoff_max_s: float = Field(default=900.0, description="Longest delay between attempts")
    max_attempts: int = Field(default=0, description="Attempts before a transient row goes dead; 0 = never")
    transport_retries: int = Field(default=2, description="Quick tenacity retries on connect errors")
    ring_again_after_s: float = Field(default=15.0, description="Sweeper re-rings a due row after this")


class SchedulerSettings(BaseModel):
    """The scheduler's ticks."""

    sweep_interval_s: float = Field(default=1.0, description="Outbox/inbox sweeper period")
    lock_ttl_s: float = Field(default=30.0, description="Leader lock lease for one scheduler process")


class Settings(BaseSettings):
    """All settings of one gateway deployment."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    mode: Mode = Field(default=Mode.dev, description="production refuses demo/placeholder secrets")
    database_url: str = Field(
        default="sqlite:///var/hotline-gateway.sqlite3", description="SQLAlchemy URL (SQLite or PostgreSQL)"
    )
    broker_url: str = Field(
        default="memory://", description="memory:// (in-process broker and worker), redis://… or amqp://…"
    )
    host: str = Field(default="127.0.0.1", description="API bind address")
    port: int = Field(default=8000, description="API port")
    public_url: str = Field(default="", description="How platforms reach /inbound (for docs and demo)")
    api_tokens: list[ApiToken] = Field(
        default_factory=list, description='JSON list: [{"name","token","roles":["duty","leader"]}]'
    )
    max_body_bytes: int = Field(default=1_048_576, description="Largest inbound webhook body accepted")
    worker_threads: int = Field(default=4, description="Worker threads (in-process broker)")
    platforms: PlatformsSettings = Field(default_factory=PlatformsSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    data_dir: Path = Field(default=Path("var"), description="Files: evidence uploads, SQLite default")

    def check_secrets(self) -> None:
        """Refuse to start in production with a missing or placeholder secret; names the setting."""
        if self.mode is not Mode.production:
            return
        problems: list[str] = []
        for key, platform in self.platforms.enabled().items():
            for name, secret in platform.secrets().items():
                value = secret.get_secret_value()
                if not value or any(m in value.lower() for m in PLACEHOLDER_MARKERS):
                    problems.append(f"GATEWAY_PLATFORMS__{key.upper()}__{name.upper()}")
        for token in self.api_tokens:
            value = token.token.get_secret_value()
            if len(value) < 16 or any(m in value.lower() for m in PLACEHOLDER_MARKERS):
                problems.append(f"GATEWAY_API_TOKENS (token of {token.name!r})")
        if problems:
            raise SystemExit(
                "refusing to start: missing or placeholder secret in " + ", ".join(problems)
            )
