"""Request dependencies: the container, a database session per request, the authenticated caller."""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from gateway.container import Container
from gateway.principal import Principal


async def get_container(request: Request) -> Container:
    """The process's container, set on the app at creation (async: no thread hop for a lookup)."""
    container: Container = request.app.state.container
    return container


def get_session(container: Annotated[Container, Depends(get_container)]) -> Iterator[Session]:
    """One transaction per request: committed when the handler returns, rolled back on error."""
    with container.sessions() as session, session.begin():
        yield session


BEARER = HTTPBearer(
    auto_error=False, scheme_name="bearer",
    description="API token from GATEWAY_API_TOKENS (the dashboard's session cookie is accepted as well)",
)


async def get_principal(
    request: Request, container: Annotated[Container, Depends(get_container)],
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(BEARER)] = None,
) -> Principal:
    """Bearer token (machines) or the dashboard session's user (async: pure, no thread hop).

    Roles fail closed: a caller with no role, or a unit role without its unit, gets 403 on every route.
    ``BEARER`` declares the scheme in the OpenAPI description of every route that needs a caller.
    """
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    principal: Principal | None = None
    if scheme.lower() == "bearer" and token:
        for api_token in container.settings.api_tokens:
            if hmac.compare_digest(api_token.token.get_secret_value().encode(), token.strip().encode()):
                principal = Principal(name=api_token.name, roles=frozenset(api_token.roles), unit=api_token.unit)
                break
    session_user = getattr(request.state, "principal", None)
    if principal is None and isinstance(session_user, Principal):
        principal = session_user
    if principal is None:
        raise HTTPException(401, "未登录或令牌无效",
                            headers={"WWW-Authenticate": "Bearer"})
    principal.require_reader()
    return principal


SessionDep = Annotated[Session, Depends(get_session)]
PrincipalDep = Annotated[Principal, Depends(get_principal)]
ContainerDep = Annotated[Container, Depends(get_container)]
