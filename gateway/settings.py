"""Typed settings from the environment (prefix ``GATEWAY_``, nested with ``__``) or a ``.env`` file.

Every field is described; ``deploy/.env.example`` lists them all. ``Settings.check_secrets`` refuses
to start outside demo/dev mode while a secret is missing or still a placeholder.
"""

from __future__ import annotations

from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from gateway.secret_strength import is_placeholder, weakness
from gateway.sla.policy import DeadlinePolicy

# Platform secrets that sign or verify messages (held to the strength rule, not just "no placeholder").
SIGNING_SECRETS = frozenset({"app_secret"})


class Mode(StrEnum):
    """How strictly start-up checks configuration."""

    production = "production"
    dev = "dev"
    demo = "demo"


class Role(StrEnum):
    """Who a caller is to the bureau (RULES.md §2). A role grants what it names, nothing more."""

    duty = "duty"  # 值班员
    unit = "unit"  # 承办单位
    unit_head = "unit_head"  # 部门负责人: reviews the unit's replies before the leader (002 三(二))
    leader = "leader"  # 分管领导
    supervisor = "supervisor"  # 督察
    admin = "admin"  # 管理员: users, units, settings; no other role implied


# A unit role reads one unit's tickets and needs that unit; the wide roles read every unit's.
UNIT_ROLES = (Role.unit, Role.unit_head)
WIDE_ROLES = (Role.duty, Role.leader, Role.supervisor, Role.admin)


def role_problem(roles: list[Role] | list[str], unit: str | None) -> str | None:
    """Why a set of roles cannot be granted (fail closed), or None: explicit, non-empty, a unit role with a unit."""
    if not roles:
        return "roles must be listed explicitly and not be empty"
    unknown = [str(r) for r in roles if str(r) not in Role.__members__]
    if unknown:
        return f"unknown role(s) {', '.join(unknown)}"
    if any(str(r) in UNIT_ROLES for r in roles) and not (unit or "").strip():
        return "a unit or unit_head role needs its unit"
    return None


class ApiToken(BaseModel):
    """A bearer token for a machine client, with the name recorded on every action and its roles."""

    name: str = Field(min_length=1, description="Actor name written to the ticket timeline")
    token: SecretStr = Field(description="The bearer token itself (long and random)")
    roles: list[Role] = Field(description="Roles the token acts with: required, never empty (no default role)")
    unit: str | None = Field(default=None, description="Handling unit of a unit/unit_head token (required for them)")

    @model_validator(mode="before")
    @classmethod
    def _explicit_roles(cls, data: object) -> object:
        # Fail closed (roles are never guessed): the entry is named so the operator can find it.
        if isinstance(data, dict):
            name = data.get("name") or "?"
            if "roles" not in data or not data["roles"]:
                raise ValueError(f"GATEWAY_API_TOKENS entry {name!r}: roles must be listed explicitly and not be empty")
            problem = role_problem(list(data["roles"]), data.get("unit"))
            if problem:
                raise ValueError(f"GATEWAY_API_TOKENS entry {name!r}: {problem}")
        return data


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
    heartbeat_s: float = Field(default=2.0, gt=0, description="How often a delivering process says it is alive")
    owner_ttl_s: float = Field(
        default=10.0, gt=0,
        description="A lease whose owner has not beaten for this long is abandoned: read back and taken over "
                    "at once, not after lease_s (keep it several heartbeats long)",
    )


class LinkingSettings(BaseModel):
    """一事多投 / 重复投诉: when two tickets are one matter (same phone, near-identical content)."""

    window_days: int = Field(default=7, description="Days within which tickets on other platforms are linked")
    repeat_window_days: int = Field(default=90, description="Days within which a matter filed again is a repeat")
    similarity: float = Field(default=0.6, ge=0, le=1, description="Text similarity (0-1) that makes one matter")


class SchedulerSettings(BaseModel):
    """The scheduler's ticks."""

    sweep_interval_s: float = Field(default=1.0, description="Outbox/inbox sweeper period")
    lock_ttl_s: float = Field(default=30.0, description="Leader lock lease for one scheduler process")


class DoorbellSettings(BaseModel):
    """Ringing workers after a commit (issue 12 point 2): best-effort, never blocking a request."""

    queue_size: int = Field(
        default=1000, ge=1,
        description="Rings waiting for the broker in this process; a ring beyond this is dropped (the sweeper "
                    "rings the row again) and counted on /metrics",
    )
    socket_timeout_s: float = Field(
        default=0.5, gt=0, description="Redis read/write timeout for sending a ring; a slower ring is dropped")
    connect_timeout_s: float = Field(default=0.5, gt=0, description="Redis connect timeout for sending a ring")
    close_timeout_s: float = Field(
        default=2.0, ge=0, description="At shutdown, how long queued rings may still be sent before they are dropped")


class AutoSignRule(BaseModel):
    """Auto sign-off safety net for one platform (off unless enabled)."""

    enabled: bool = Field(default=False, description="Sign automatically when nobody has signed or returned")
    before_due_s: float = Field(default=3600.0, description="Seconds before the sign-off deadline to sign")


class SlaSettings(DeadlinePolicy):
    """SLA timers: the deadline policy (GATEWAY_SLA__PROFILE and overrides of its rules) and the engine."""

    thresholds: list[float] = Field(
        default_factory=lambda: [0.5, 0.75, 0.9], description="Warning fractions of each window; breach is 1.0"
    )
    refresh_interval_s: float = Field(default=2.0, description="Seconds between heap refreshes from the DB")
    horizon_s: float = Field(default=120.0, description="The heap holds thresholds due within this many seconds")
    heap_limit: int = Field(default=20_000, description="Most thresholds held in the heap at once")
    sweep_interval_s: float = Field(default=30.0, description="Safety sweep period (catches anything missed)")
    housekeeping_interval_s: float = Field(default=5.0, description="Repeats, escalations, auto sign-off period")
    batch_size: int = Field(default=500, description="Timers handled per transaction by the engine")
    auto_sign: dict[str, AutoSignRule] = Field(
        default_factory=dict, description="Platform key → auto sign-off rule (default: off everywhere)"
    )
    calendar_alert_hour: int = Field(
        default=9, ge=0, le=23, description="Local hour from which the daily missing-calendar alert goes out"
    )

    @field_validator("thresholds", mode="after")
    @classmethod
    def _fractions(cls, value: list[float]) -> list[float]:
        if any(not 0 < f < 1 for f in value):
            raise ValueError("warning thresholds are fractions between 0 and 1 (breach at 1.0 is implicit)")
        return sorted(set(value))


AlertAudience = Literal["duty", "leader"]


def _both_audiences() -> list[AlertAudience]:
    return ["duty", "leader"]


class WebhookSinkSettings(BaseModel):
    """One group-robot webhook (企业微信 or 钉钉)."""

    name: str = Field(description="Unique sink name, shown in delivery records")
    kind: Literal["wecom", "dingtalk"] = Field(description="Message format: wecom (企业微信) or dingtalk (钉钉)")
    url: SecretStr = Field(description="Robot webhook URL including its key/access_token")
    secret: SecretStr | None = Field(default=None, description="DingTalk 加签 secret (signed URL); None = unsigned")
    audiences: list[AlertAudience] = Field(
        default_factory=_both_audiences, description="Whose alerts go here: duty, leader (escalations)"
    )
    min_severity: Literal["info", "warning", "critical"] = Field(default="info", description="Lowest severity sent")
    mention_mobiles: list[str] = Field(default_factory=list, description="Mobiles to @ on critical alerts")
    timeout_s: float = Field(default=5.0, description="HTTP timeout; a slow robot never holds the others")
    unit: str | None = Field(
        default=None, max_length=100,
        description="A handling unit's own robot group (承办单位, as named in the unit directory): it gets that "
                    "unit's daily reminder only, never alerts or other units' tickets; unset = a duty/leader robot",
    )


class EmailSinkSettings(BaseModel):
    """Alerts by email over SMTP."""

    enabled: bool = Field(default=False, description="Send alert emails")
    host: str = Field(default="127.0.0.1", description="SMTP server")
    port: int = Field(default=25, description="SMTP port (465 with ssl, 587 with starttls)")
    ssl: bool = Field(default=False, description="SMTP over TLS from the first byte (port 465)")
    starttls: bool = Field(default=False, description="Upgrade with STARTTLS (port 587)")
    username: str = Field(default="", description="SMTP login; empty = the server wants none")
    password: SecretStr = Field(default=SecretStr(""), description="SMTP password (used with username)")
    sender: str = Field(default="hotline-gateway@localhost", description="From address")
    recipients: list[str] = Field(default_factory=list, description="Duty office addresses (all alerts)")
    leader_recipients: list[str] = Field(default_factory=list, description="Leaders' addresses (escalations)")
    unit_recipients: dict[str, list[str]] = Field(
        default_factory=dict,
        description="Unit name (unit directory) -> its addresses: that unit's own daily reminder only "
                    '(JSON, e.g. {"城关派出所": ["cg@example.gov.cn"]})',
    )
    min_severity: Literal["info", "warning", "critical"] = Field(default="warning", description="Lowest severity")
    timeout_s: float = Field(default=10.0, description="SMTP connect/send timeout")


class InterventionSettings(BaseModel):
    """提级介入 (000 提级介入调查制度 一; 001 三(三)): when a matter is raised to the leader in charge (分管领导)."""

    enabled: bool = Field(default=True, description="Raise matters to the leader by the rules below (the scheduler)")
    overdue_after_s: float = Field(
        default=0.0, ge=0, description="久拖不决: raise this long after the binding resolution deadline (办结 or the "
        "granted 延期) passed unmet; 0 = at the breach")
    repeat_complaints: int = Field(
        default=3, ge=2, description="反复投诉: raise when one matter (a linked case, 一事多投 and 重复投诉) was filed "
        "this many times; 12389 filings count only with 12389 filings (001 五)")
    impact_levels: list[str] = Field(
        default_factory=lambda: ["重大"], description="Platform 案件等级 values that mark 重大、敏感 (001 三(二)(三))")
    impact_urgencies: list[str] = Field(
        default_factory=lambda: ["critical"], description="Urgency values that mark 重大、敏感: critical = 特急 "
        "(001 三(三) 群众现场紧急举报、即时投诉)")


class AlertSettings(BaseModel):
    """Alerting: repeats, escalation, the sinks, and durable delivery to them."""

    repeat_interval_s: float = Field(default=3600.0, description="Repeat an unacknowledged breach this often")
    escalate_after_s: float = Field(
        default=1800.0, description="Escalate an unacknowledged breach to the leaders after this long"
    )
    group_max_lines: int = Field(default=20, description="Most alerts grouped into one robot message or email")
    digest_threshold: int = Field(
        default=5, ge=1, description="More alerts than this to one sink within digest_window_s are sent as one "
        "digest message (counts by kind and unit) instead of one message each")
    digest_window_s: float = Field(default=60.0, gt=0, description="The window in which alerts count towards a digest")
    webhooks: list[WebhookSinkSettings] = Field(default_factory=list, description="JSON list of robot webhooks")
    email: EmailSinkSettings = Field(default_factory=EmailSinkSettings)
    delivery_lease_s: float = Field(default=60.0, description="How long a worker owns a claimed delivery")
    delivery_backoff_base_s: float = Field(default=5.0, description="First retry delay; doubles per attempt")
    delivery_backoff_max_s: float = Field(default=600.0, description="Longest delay between attempts")
    delivery_max_attempts: int = Field(default=20, description="Attempts before a delivery is given up (dead)")
    sink_failure_threshold: int = Field(
        default=3, ge=1, description="Failures in a row after which a sink is paused (probed once per reset)"
    )
    sink_reset_s: float = Field(default=60.0, description="How long a failing sink stays paused before a probe")
    dashboard_url: str = Field(default="", description="Link added to robot messages (optional)")
    intervention: InterventionSettings = Field(default_factory=InterventionSettings)


class BulletinSettings(BaseModel):
    """Bulletins on a schedule (002 二(一) 日提醒、周反馈、月通报; 004 每周小结、每月通报; 000 督办 二; 001 三(五)).

    Times are Beijing time (+08:00). Each is generated once per period by the scheduler, stored (报表 → 定期通报)
    and delivered to the alert sinks; internal only, never sent to a platform or a citizen.
    """

    daily_enabled: bool = Field(
        default=True, description="日提醒: each unit's tickets due today and the next working day"
    )
    daily_at: time = Field(
        default=time(8, 30), description="日提醒 time (HH:MM, +08:00), on working days of the official calendar only"
    )
    weekly_enabled: bool = Field(default=True, description="周反馈 of the week just closed (to duty and leaders)")
    monthly_enabled: bool = Field(default=True, description="月通报 of the month just closed (to duty and leaders)")
    analysis_12389_enabled: bool = Field(
        default=True, description="12389 季度/半年/年度分析 (001 三(五)): counts only, to the leaders' sinks"
    )
    report_at: time = Field(
        default=time(8, 30),
        description="Time (HH:MM, +08:00) of the weekly, monthly and 12389 reports, on the first working day "
                    "after their period closes",
    )
    robot_max_lines: int = Field(
        default=12, ge=1, le=40, description="Most lines in a robot message (a summary; the rest is on the page)"
    )


class DashboardSettings(BaseModel):
    """The dashboard: sessions, uploads, the unit directory, workflow policy and report weights."""

    session_secret: SecretStr | None = Field(
        default=None, description="HMAC key for cookies and login forms; unset = one generated and kept in the DB"
    )
    session_ttl_s: float = Field(default=43_200.0, description="A login lasts at most this long (one shift)")
    session_idle_s: float = Field(default=7_200.0, description="A login idle this long must sign in again")
    cookie_name: str = Field(default="hg_session", description="Session cookie name")
    cookie_secure: bool = Field(default=False, description="Send cookies over HTTPS only (set true behind TLS)")
    login_max_failures: int = Field(
        default=5, ge=1, description="Failed logins to one account (from browsers that never signed in to it) before "
        "its logins are delayed; a browser it signed in from counts only its own failures")
    login_address_max_failures: int = Field(
        default=20, ge=1, description="Failed logins from one client address (any account) before it is delayed")
    login_delay_s: float = Field(
        default=60.0, gt=0, description="First delay past a limit; doubles per further failure")
    login_lockout_s: float = Field(default=900.0, gt=0, description="Longest delay (lock-out) of an account or address")
    login_failure_window_s: float = Field(
        default=3600.0, gt=0, description="Failures older than this (with none since) are forgotten")
    device_cookie_days: int = Field(
        default=180, ge=1, description="How long a browser that signed in is recognised (its own failure count)")
    upload_max_bytes: int = Field(default=20 * 1_048_576, description="Largest evidence file accepted")
    evidence_link_days: int = Field(
        default=90, ge=1, description="How long a platform may fetch a reply's evidence file from its signed link"
    )
    upload_types: list[str] = Field(
        default_factory=lambda: ["jpeg", "png", "gif", "webp", "pdf", "mp3", "wav", "amr", "m4a", "mp4"],
        description="Evidence file types accepted, by content (magic bytes), not by name",
    )
    units_file: Path | None = Field(default=None, description="JSON unit directory to seed from; unset = bundled")
    dispatch_approval: Literal["after", "before"] = Field(
        default="before",
        description="Leader approval of a duty dispatch (000 二): before (takes effect when approved) or after "
                    "(the unit starts at once, the leader confirms)",
    )
    unit_head_review: bool = Field(
        default=True,
        description="A unit's reply draft is reviewed by its unit head (部门负责人) before the leader "
                    "(002 三(二), 000 督办 三)",
    )
    refresh_s: float = Field(default=10.0, description="Seconds between live updates of the overview")
    satisfaction_weights: dict[str, float] = Field(
        default_factory=lambda: {"satisfied": 1.0, "basically_satisfied": 0.9, "dissatisfied": 0.0},
        description="满意率: what each callback answer counts (unrated answers are left out)",
    )
    resolution_weights: dict[str, float] = Field(
        default_factory=lambda: {"已解决": 1.0, "部分解决": 0.0, "未解决": 0.0},
        description="解决率: what each callback resolution counts",
    )
    composite_weights: dict[str, float] = Field(
        default_factory=lambda: {"response": 0.1, "resolution": 0.5, "satisfaction": 0.4},
        description="三率 composite: weights of 响应率, 解决率, 满意率",
    )

    @field_validator("session_secret", mode="before")
    @classmethod
    def _unset(cls, value: object) -> object:
        # deploy/.env.example writes an unset secret as "None": that means unset, not the key "None".
        return None if isinstance(value, str) and value.strip().lower() in ("", "none", "null") else value


class Settings(BaseSettings):
    """All settings of one gateway deployment."""

    model_config = SettingsConfigDict(
        env_prefix="GATEWAY_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    mode: Mode = Field(
        default=Mode.dev, description="production refuses weak or placeholder secrets and insecure cookies"
    )
    database_url: str = Field(
        default="sqlite:///var/hotline-gateway.sqlite3", description="SQLAlchemy URL (SQLite or PostgreSQL)"
    )
    broker_url: str = Field(
        default="memory://", description="memory:// (in-process broker and worker), redis://… or amqp://…"
    )
    host: str = Field(default="127.0.0.1", description="API bind address")
    port: int = Field(default=8000, description="API port")
    public_url: str = Field(
        default="",
        description="How platforms reach this gateway: /inbound pushes, and the signed links of evidence files",
    )
    api_tokens: list[ApiToken] = Field(
        default_factory=list, description='JSON list: [{"name","token","roles":["duty","leader"]}]'
    )
    max_body_bytes: int = Field(default=1_048_576, description="Largest inbound webhook body accepted")
    max_request_bytes: int = Field(
        default=1_048_576,
        description="Largest body of any other request (JSON, forms); evidence uploads: DASHBOARD__UPLOAD_MAX_BYTES",
    )
    worker_threads: int = Field(default=4, description="Worker threads (in-process broker)")
    platforms: PlatformsSettings = Field(default_factory=PlatformsSettings)
    outbox: OutboxSettings = Field(default_factory=OutboxSettings)
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    doorbell: DoorbellSettings = Field(default_factory=DoorbellSettings)
    linking: LinkingSettings = Field(default_factory=LinkingSettings)
    sla: SlaSettings = Field(default_factory=SlaSettings)
    alerts: AlertSettings = Field(default_factory=AlertSettings)
    bulletins: BulletinSettings = Field(default_factory=BulletinSettings)
    dashboard: DashboardSettings = Field(default_factory=DashboardSettings)
    data_dir: Path = Field(default=Path("var"), description="Files: evidence uploads, SQLite default")

    def _alert_sink_problems(self) -> list[str]:
        """Robot URLs and the SMTP password that are placeholders; DingTalk signing secrets that are weak."""
        problems = []
        for hook in self.alerts.webhooks:
            if is_placeholder(hook.url.get_secret_value()):
                problems.append(f"GATEWAY_ALERTS__WEBHOOKS ({hook.name}: url): missing or a placeholder")
            if hook.secret is not None and (why := weakness(hook.secret.get_secret_value())):
                problems.append(f"GATEWAY_ALERTS__WEBHOOKS ({hook.name}: secret): {why}")
        email = self.alerts.email
        if email.enabled and email.username and is_placeholder(email.password.get_secret_value()):
            problems.append("GATEWAY_ALERTS__EMAIL__PASSWORD: missing or a placeholder")
        return problems

    def _weak_settings(self) -> list[str]:
        """Every secret and flag production refuses, each named with the reason.

        Our own secrets and the 12345 signing secret (it is what keeps forged pushes out) must be
        strong (``gateway.secret_strength``); credentials the other platforms issue to us are taken
        as issued, but never a placeholder.
        """
        problems: list[str] = []
        for key, platform in self.platforms.enabled().items():
            for name, secret in platform.secrets().items():
                value = secret.get_secret_value()
                why = weakness(value) if name in SIGNING_SECRETS else (
                    "missing or a placeholder" if is_placeholder(value) else None)
                if why:
                    problems.append(f"GATEWAY_PLATFORMS__{key.upper()}__{name.upper()}: {why}")
        for token in self.api_tokens:
            if why := weakness(token.token.get_secret_value()):
                problems.append(f"GATEWAY_API_TOKENS (token of {token.name!r}): {why}")
        session_secret = self.dashboard.session_secret
        if session_secret is not None and (why := weakness(session_secret.get_secret_value())):
            problems.append(f"GATEWAY_DASHBOARD__SESSION_SECRET: {why}")
        if not self.dashboard.cookie_secure:
            problems.append("GATEWAY_DASHBOARD__COOKIE_SECURE: must be true (login cookies over HTTPS only)")
        return problems + self._alert_sink_problems()

    def check_secrets(self) -> None:
        """Refuse to start in production with a weak, missing or placeholder secret; names each setting."""
        if self.mode is not Mode.production:
            return
        problems = self._weak_settings()
        if problems:
            raise SystemExit("refusing to start: weak or missing settings: " + "; ".join(problems))
        if not self.public_url and self.platforms.p12345.enabled:
            # 12345 fetches a reply's evidence files by URL; without one every such reply would die.
            raise SystemExit("refusing to start: GATEWAY_PUBLIC_URL is not set, and the 12345 platform "
                             "fetches evidence files from it (e.g. https://gateway.example.gov.cn)")
