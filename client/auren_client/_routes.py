"""AUREN's own server routes (`/users/{user}/...`), called as the user they serve.

Every call names its user in the contract's `X-Auren-User` header: a service key acts
for that user only, and a user's own token must name themselves. The server owns what
these routes return; the client only turns it into its models and errors.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from auren_contract import USER_HEADER

from ._errors import AurenError, StatusError, server_message
from ._retry import Retrier

Refusals = Mapping[int, type[AurenError]]


class Routes:
    """One request, retried when safe, its errors translated."""

    def __init__(self, http: httpx.AsyncClient, retrier: Retrier) -> None:
        self._http, self._retrier = http, retrier

    async def call(
        self,
        method: str,
        path: str,
        *,
        user: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        refusals: Refusals | None = None,
    ) -> Any:
        """The route's JSON answer (None for 204). A status in `refusals` raises that
        error with the server's message (no retry: the request itself was refused)."""
        response = await self.send(method, path, user=user, json=json, params=params,
                                   refusals=refusals)  # fmt: skip
        return None if response.status_code == 204 or not response.content else response.json()

    async def send(
        self,
        method: str,
        path: str,
        *,
        user: str,
        json: Any = None,
        params: Mapping[str, str] | None = None,
        refusals: Refusals | None = None,
    ) -> httpx.Response:
        """The route's response, successful or a redirect (anything else raised as an
        AurenError)."""

        async def attempt() -> httpx.Response:
            response = await self._http.request(
                method, path, json=json, params=params, headers={USER_HEADER: user}
            )
            if refusals and (refused := refusals.get(response.status_code)):
                if issubclass(refused, StatusError):
                    raise refused(server_message(response), response.status_code)
                raise refused(server_message(response))
            if not response.is_redirect:
                response.raise_for_status()
            return response

        return await self._retrier.call(attempt)
