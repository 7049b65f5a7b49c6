"""Alert sinks: group-robot webhooks (企业微信, 钉钉) and email, behind one Protocol.

The API feed and ``/metrics`` read the ``alerts`` table directly; these sinks push. Each delivery
row goes to one sink with that sink's own timeout, so a slow or failing sink only delays itself.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import smtplib
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any, Protocol

import httpx

from gateway.alerts.messages import SEVERITY_LABELS
from gateway.alerts.store import Route
from gateway.settings import AlertSettings, EmailSinkSettings, WebhookSinkSettings

EMAIL = "email"


class SinkError(Exception):
    """A sink could not take the notification; ``permanent`` means retrying will not help."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


@dataclass(frozen=True)
class Attachment:
    """A file a notification carries (a bulletin's workbook)."""

    filename: str
    content: bytes
    mime: str = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@dataclass(frozen=True)
class Notification:
    """What one delivery says: a title, one line per grouped alert, the highest severity; a bulletin
    (``kind`` "bulletin") may carry its workbook, which only sinks that take files send."""

    title: str
    lines: tuple[str, ...]
    severity: str
    kind: str = "alert"  # alert | bulletin
    attachment: Attachment | None = None


class AlertSink(Protocol):
    """Somewhere alerts are pushed to (a robot group, a mailbox)."""

    name: str

    def send(self, note: Notification) -> None:
        """Deliver ``note`` within the sink's timeout.

        Raises ``SinkError`` (``permanent=False``: retry later with backoff; ``permanent=True``: give
        up and record why). Not idempotent: a retry after a lost answer can repeat a chat message,
        so deliveries are at-least-once; the alert itself is emitted exactly once. A sink that cannot
        carry a file (a robot) sends the text and ignores ``note.attachment``.
        """
        ...


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """钉钉加签: base64(HMAC-SHA256(secret, f"{timestamp}\\n{secret}")), URL-encoded."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest).decode())


def _text(note: Notification) -> str:
    if note.kind == "bulletin":
        return "\n".join([f"【{note.title}】", *note.lines])
    return "\n".join([f"[{SEVERITY_LABELS.get(note.severity, note.severity)}] {note.title}", *note.lines])


class _RobotSink:
    """Common HTTP handling of the WeCom and DingTalk robots: both answer {"errcode": 0, "errmsg"}."""

    throttled: tuple[int, ...] = ()

    def __init__(self, config: WebhookSinkSettings, client: httpx.Client | None = None) -> None:
        self.name = config.name
        self.config = config
        self._client = client or httpx.Client(timeout=config.timeout_s)

    def url(self) -> str:
        """The URL to post to."""
        return self.config.url.get_secret_value()

    def body(self, note: Notification) -> dict[str, Any]:
        """The robot's JSON body."""
        raise NotImplementedError

    def send(self, note: Notification) -> None:
        """Post one message; errcode 0 is success."""
        try:
            response = self._client.post(self.url(), json=self.body(note), timeout=self.config.timeout_s)
        except httpx.HTTPError as exc:
            raise SinkError(f"{self.name}: {type(exc).__name__}: {exc}") from exc
        if response.status_code >= 500 or response.status_code == 429:
            raise SinkError(f"{self.name}: HTTP {response.status_code}")
        if response.status_code >= 400:
            raise SinkError(f"{self.name}: HTTP {response.status_code} {response.text[:200]}", permanent=True)
        try:
            answer = response.json()
        except ValueError as exc:
            raise SinkError(f"{self.name}: not JSON: {response.text[:200]}") from exc
        code = int(answer.get("errcode", -1))
        if code != 0:
            raise SinkError(f"{self.name}: errcode {code} {answer.get('errmsg', '')}",
                            permanent=code not in self.throttled and code != -1)

    def close(self) -> None:
        """Release the HTTP client."""
        self._client.close()

    def _mentions(self, note: Notification) -> list[str]:
        return list(self.config.mention_mobiles) if note.severity == "critical" else []


class WeComSink(_RobotSink):
    """企业微信群机器人: POST …/cgi-bin/webhook/send?key=KEY, msgtype text."""

    throttled = (45009,)  # 接口调用超过限制: retry later

    def body(self, note: Notification) -> dict[str, Any]:
        """{"msgtype": "text", "text": {"content", "mentioned_mobile_list"}}."""
        text: dict[str, Any] = {"content": _text(note)}
        if mentions := self._mentions(note):
            text["mentioned_mobile_list"] = mentions
        return {"msgtype": "text", "text": text}


class DingTalkSink(_RobotSink):
    """钉钉群机器人: POST …/robot/send?access_token=T[&timestamp=…&sign=…], msgtype text."""

    throttled = (130101,)  # send too fast: retry later

    def __init__(self, config: WebhookSinkSettings, client: httpx.Client | None = None,
                 clock_ms: Callable[[], int] = lambda: int(time.time() * 1000)) -> None:
        super().__init__(config, client)
        self._clock_ms = clock_ms

    def url(self) -> str:
        """The access-token URL, signed with timestamp and sign when a secret is configured."""
        base = self.config.url.get_secret_value()
        if self.config.secret is None:
            return base
        stamp = self._clock_ms()
        sign = dingtalk_sign(self.config.secret.get_secret_value(), stamp)
        return f"{base}{'&' if '?' in base else '?'}timestamp={stamp}&sign={sign}"

    def body(self, note: Notification) -> dict[str, Any]:
        """{"msgtype": "text", "text": {"content"}, "at": {"atMobiles", "isAtAll": false}}."""
        return {"msgtype": "text", "text": {"content": _text(note)},
                "at": {"atMobiles": self._mentions(note), "isAtAll": False}}


class EmailSink:
    """Alerts and bulletins by SMTP; duty recipients get everything, leaders escalations and reports, a
    unit's addresses its own daily reminder (``unit``: never a file, which holds every unit's tickets)."""

    def __init__(self, config: EmailSinkSettings, *, name: str = EMAIL, leaders: bool = False,
                 unit: str | None = None) -> None:
        self.name = name
        self.config = config
        self.recipients = (config.unit_recipients.get(unit, []) if unit is not None
                           else config.leader_recipients if leaders else config.recipients)
        self.attachments = unit is None

    def send(self, note: Notification) -> None:
        """One UTF-8 email to the configured recipients, with the bulletin's workbook attached if it has one."""
        cfg = self.config
        if not self.recipients:
            raise SinkError(f"{self.name}: no recipients configured", permanent=True)
        message = EmailMessage()
        message["Subject"] = f"【热线网关{'通报' if note.kind == 'bulletin' else '告警'}】{note.title}"
        message["From"], message["To"] = cfg.sender, ", ".join(self.recipients)
        footer = "（内部通报，请勿外传；本邮件由 hotline-gateway 自动发送）" if note.kind == "bulletin" else \
            "（本邮件由 hotline-gateway 自动发送）"
        message.set_content(_text(note) + "\n\n" + footer)
        if note.attachment is not None and self.attachments:
            main, _, sub = note.attachment.mime.partition("/")
            message.add_attachment(note.attachment.content, maintype=main, subtype=sub,
                                   filename=note.attachment.filename)
        smtp_class = smtplib.SMTP_SSL if cfg.ssl else smtplib.SMTP
        try:
            with smtp_class(cfg.host, cfg.port, timeout=cfg.timeout_s) as smtp:
                if cfg.starttls and not cfg.ssl:
                    smtp.starttls()
                if cfg.username:
                    smtp.login(cfg.username, cfg.password.get_secret_value())
                smtp.send_message(message)
        except smtplib.SMTPResponseException as exc:
            raise SinkError(f"{self.name}: SMTP {exc.smtp_code} {exc.smtp_error!r}",
                            permanent=500 <= exc.smtp_code < 600) from exc
        except (OSError, smtplib.SMTPException) as exc:
            raise SinkError(f"{self.name}: {type(exc).__name__}: {exc}") from exc

    def close(self) -> None:
        """Nothing held between sends."""


def unit_email(unit: str) -> str:
    """The sink name of a unit's own addresses."""
    return f"{EMAIL}:{unit}"[:64]


def routes(config: AlertSettings) -> list[Route]:
    """Where alerts are delivered, by sink name (no connections are made here). A unit's own robot takes
    no alerts: they name every unit's tickets."""
    found = [Route(w.name, tuple(w.audiences), w.min_severity) for w in config.webhooks if w.unit is None]
    if config.email.enabled:
        if config.email.recipients:
            found.append(Route(EMAIL, ("duty",), config.email.min_severity))
        if config.email.leader_recipients:
            found.append(Route(f"{EMAIL}-leaders", ("leader",), config.email.min_severity))
    return found


def build_sinks(config: AlertSettings) -> dict[str, AlertSink]:
    """The sink objects for ``routes(config)``, by name."""
    sinks: dict[str, AlertSink] = {}
    for webhook in config.webhooks:
        sinks[webhook.name] = WeComSink(webhook) if webhook.kind == "wecom" else DingTalkSink(webhook)
    if config.email.enabled:
        sinks[EMAIL] = EmailSink(config.email)
        sinks[f"{EMAIL}-leaders"] = EmailSink(config.email, name=f"{EMAIL}-leaders", leaders=True)
        for unit in config.email.unit_recipients:
            sinks[unit_email(unit)] = EmailSink(config.email, name=unit_email(unit), unit=unit)
    return sinks


@dataclass(frozen=True)
class BulletinRoute:
    """A sink a bulletin goes to: ``email`` sinks get the full text (and the workbook, where they take
    files), robots a short summary."""

    sink: str
    email: bool


def bulletin_routes(config: AlertSettings, audiences: tuple[str, ...]) -> list[BulletinRoute]:
    """The duty or leader sinks (no unit's own) serving any of ``audiences``, each once."""
    found = [BulletinRoute(w.name, False) for w in config.webhooks
             if w.unit is None and set(w.audiences) & set(audiences)]
    if config.email.enabled:
        if "duty" in audiences and config.email.recipients:
            found.append(BulletinRoute(EMAIL, True))
        if "leader" in audiences and config.email.leader_recipients:
            found.append(BulletinRoute(f"{EMAIL}-leaders", True))
    return found


def unit_routes(config: AlertSettings) -> dict[str, list[BulletinRoute]]:
    """Each unit's own sinks: its robot groups and its addresses (for its daily reminder only)."""
    found: dict[str, list[BulletinRoute]] = {}
    for webhook in config.webhooks:
        if webhook.unit is not None:
            found.setdefault(webhook.unit, []).append(BulletinRoute(webhook.name, False))
    if config.email.enabled:
        for unit, addresses in config.email.unit_recipients.items():
            if addresses:
                found.setdefault(unit, []).append(BulletinRoute(unit_email(unit), True))
    return found
