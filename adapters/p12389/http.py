"""12389 HTTP plumbing: bearer token with one renewal on 401, bounded reads, answers, error translation.

Each call is one exchange with the platform's XML answer parsed as far as it is the platform's
``<response code="N">``. A refused token (401 ``invalid_token``, §2) is renewed and the call repeated
once: the refused call was not applied, so repeating even a write is safe. Connection failures
before a byte was sent are retried once at once (tenacity); any other lost answer of a write is
``OutcomeUnknown``, of a read ``TransientError``.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

import httpx

from adapters.http import NOT_SENT, quick_retry, retry_after, status_error
from adapters.p12389.xml import XmlRefused, parse, read_limited, response_message
from gateway.errors import (
    AuthenticationError,
    GatewayError,
    OutcomeUnknown,
    TransientError,
)

if TYPE_CHECKING:
    from adapters.p12389.auth import TokenSource

Params = Mapping[str, str | int] | None


@dataclass(frozen=True)
class Answer:
    """One HTTP answer of the platform, parsed as far as it is the platform's XML."""

    status: int
    root: ET.Element | None  # None: the body was not well-formed XML (a proxy page, a cut body)
    code: str | None
    message: str
    retry_after: float | None

    @property
    def platforms(self) -> bool:
        """The body is the platform's ``<response code="N">`` (not a proxy's page or a cut body)."""
        return self.root is not None and self.root.tag == "response" and self.code is not None

    @property
    def ok(self) -> bool:
        """HTTP 2xx with ``<response code="0">``."""
        return 200 <= self.status < 300 and self.platforms and self.code == "0"

    @property
    def effective_status(self) -> int:
        """The status that counts: an error code inside an HTTP 200 counts as that status."""
        if 200 <= self.status < 300 and self.code and self.code.isdigit():
            return int(self.code)
        return self.status


class Transport:
    """Authenticated XML exchanges with one 12389 platform."""

    def __init__(self, client: httpx.Client, tokens: TokenSource) -> None:
        self._client = client
        self._tokens = tokens

    def read(self, path: str, params: Params = None) -> ET.Element:
        """GET an XML document; every failure of a read is retryable or permanent, never unknown."""
        answer = self.call("GET", path, params=params)
        if answer.root is not None and (answer.ok or (200 <= answer.status < 300 and answer.root.tag == "case")):
            return answer.root  # §2 says the detail "returns one <case>": wrapped or bare, both are read
        if not answer.platforms and 200 <= answer.status < 300:
            raise TransientError(f"p12389 GET {path}: HTTP {answer.status} without the platform's XML")
        raise error_for(answer, f"GET {path}")

    def call(self, method: str, path: str, *, params: Params = None, content: bytes | None = None,
             write: bool = False) -> Answer:
        """One exchange, renewing a refused token and repeating the call once."""
        token = self._tokens.get()
        answer = self._exchange(method, path, token, params, content, write)
        if answer.status == 401:
            # §2: an expired or revoked token gets 401 invalid_token: fetch a new one, retry once.
            self._tokens.invalidate(token)
            answer = self._exchange(method, path, self._tokens.get(), params, content, write)
            if answer.status == 401:
                raise AuthenticationError(
                    f"p12389 {method} {path}: 401 {answer.message} with a fresh token", status=401, code=answer.code
                )
        return answer

    def _exchange(
        self, method: str, path: str, token: str, params: Params, content: bytes | None, write: bool
    ) -> Answer:
        headers = {"Authorization": f"Bearer {token}", "Accept": "application/xml"}
        if content is not None:
            headers["Content-Type"] = "application/xml; charset=utf-8"
        retrying = quick_retry()
        try:
            return retrying(self._once, method, path, headers, params, content)
        except NOT_SENT as exc:
            raise TransientError(f"p12389 unreachable for {method} {path}: {type(exc).__name__}") from exc
        except (httpx.RequestError, XmlRefused) as exc:
            if write:
                # The request left us (or may have): only a read-back can tell whether it was applied.
                raise OutcomeUnknown(f"p12389 {method} {path}: no usable answer ({exc!r})") from exc
            raise TransientError(f"p12389 {method} {path} failed: {exc!r}") from exc

    def _once(
        self, method: str, path: str, headers: dict[str, str], params: Params, content: bytes | None
    ) -> Answer:
        with self._client.stream(method, path, params=params, content=content, headers=headers) as response:
            body = read_limited(response)
            status, wait_s = response.status_code, retry_after(response.headers.get("Retry-After"))
        try:
            root: ET.Element | None = parse(body)
        except XmlRefused:
            root = None
        code, message = response_message(root) if root is not None else (None, "")
        return Answer(status=status, root=root, code=code, message=message, retry_after=wait_s)


def error_for(answer: Answer, what: str) -> GatewayError:
    """The error the status and the platform's code call for."""
    status = answer.effective_status
    text = f"p12389 {what}: HTTP {answer.status}, code {answer.code}: {answer.message}"
    # 400 invalid field, 404 unknown case, 409 wrong state (already signed, not signed yet, closed).
    return status_error(status, text, code=answer.code, retry_after_s=answer.retry_after)
