"""A user's device connections: `GET /users/{user}/devices`, `PUT .../devices/{device}`.

The server writes connections, in one statement: a vendor account is bound to one user
at a time (409 for everyone else, nothing written), and tokens are sealed before they
are stored, never returned. Binding a vendor account by its id takes a trusted service
acting for the user (a service that did the vendor's OAuth itself); a user's own token
may set the push token of their Apple Health and manual devices.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Body, Depends, HTTPException, Path, Request
from pydantic import BaseModel, Field

from auren_contract import API_VENDORS, DeviceConnection, unknown_device_message
from auren_graphs.devices import connect
from auren_graphs.http.principal import ServedUser
from auren_graphs.identity import ACTING
from auren_graphs.records.connections import ConnectionConflictError, connection_of
from auren_graphs.records.connections import connect as store_connection
from auren_graphs.records.connections import connections_of as stored_connections
from auren_graphs.webhooks.runtime import runtime_of

router = APIRouter(prefix="/users/{user_id}/devices", tags=["devices"])


class ConnectDevice(BaseModel):
    """What a connection holds. Connecting again replaces it, tokens included."""

    vendor_user_id: str | None = Field(
        default=None, min_length=1, max_length=200, description="The user's id at the vendor."
    )
    access_token: str | None = Field(
        default=None,
        min_length=1,
        max_length=8192,
        description="Vendor API token the server fetches announced data with (WHOOP, Oura).",
    )
    refresh_token: str | None = Field(
        default=None, min_length=1, max_length=8192, description="Vendor OAuth refresh token."
    )
    expires_at: datetime | None = Field(
        default=None, description="When the access token expires (refreshed before that)."
    )
    ingest_token: str | None = Field(
        default=None,
        min_length=16,
        max_length=512,
        description="The secret a device pushes with (Apple Health, manual); only its "
        "SHA-256 is kept. Make one with secrets.token_urlsafe(32).",
    )


def _device(device: Annotated[str, Path(description="oura, whoop, apple_health or manual")]) -> str:
    if problem := unknown_device_message(device):
        raise HTTPException(404, problem)
    return device


@router.get("", response_model=list[DeviceConnection])
async def list_devices(user_id: ServedUser) -> list[DeviceConnection]:
    """The user's device connections: vendor account, status, last sync."""
    return await stored_connections(user_id)


class Disconnected(BaseModel):
    device: str
    status: Literal["disconnected"] = "disconnected"
    revoked: bool | None = Field(
        description="True: revoked at the vendor; False: the vendor did not confirm; "
        "None: nothing to revoke (a push device, or no API tokens)."
    )


@router.delete(
    "/{device}",
    response_model=Disconnected,
    responses={404: {"description": "the user has no connection of this device"}},
)
async def disconnect_device(
    request: Request, user_id: ServedUser, device: Annotated[str, Depends(_device)]
) -> Disconnected:
    """Disconnect `device`: revoke at the vendor where it offers revocation, delete the
    tokens, keep the data. Later webhooks for that vendor account are acknowledged and
    dropped."""
    found = await connection_of(user_id, device)
    if found is None:
        raise HTTPException(404, f"{user_id} has no {device} connection")
    revoked = await connect.disconnect(user_id, device)
    if found.vendor_user_id is not None:
        runtime_of(request).forget_owner(device, found.vendor_user_id)
    return Disconnected(device=device, revoked=revoked)


@router.put(
    "/{device}",
    response_model=DeviceConnection,
    responses={409: {"description": "the vendor account is connected to another user"}},
)
async def connect_device(
    request: Request,
    user_id: ServedUser,
    device: Annotated[str, Depends(_device)],
    body: Annotated[ConnectDevice, Body()],
) -> DeviceConnection:
    """Connect `device` to the user, atomically."""
    acting_service = ACTING in (getattr(request.scope.get("auth"), "scopes", None) or [])
    vendor_claims = body.vendor_user_id or body.access_token or body.refresh_token
    if vendor_claims and not acting_service:
        raise HTTPException(
            403,
            "a vendor account is bound by a trusted service acting for the user, or through "
            f"the vendor's OAuth (GET /connect/{device})",
        )
    if device not in API_VENDORS and (body.access_token or body.refresh_token):
        raise HTTPException(422, f"{device} has no vendor API: send an ingest_token instead")
    tokens = {
        key: value.isoformat() if isinstance(value, datetime) else value
        for key, value in body.model_dump(
            include={"access_token", "refresh_token", "expires_at"}
        ).items()
        if value is not None
    }
    ingest = hashlib.sha256(body.ingest_token.encode()).hexdigest() if body.ingest_token else None
    try:
        stored = await store_connection(
            user_id, device, body.vendor_user_id, tokens=tokens or None, ingest_token_sha256=ingest
        )
    except ConnectionConflictError as exc:
        raise HTTPException(409, str(exc)) from None
    return stored
