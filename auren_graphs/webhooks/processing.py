"""Processing a claimed batch: fetch each announced object once, ingest them in one run."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, Hashable
from typing import Any

from auren_graphs.devices.api import VendorError
from auren_graphs.devices.tokens import access_token, get_json
from auren_graphs.records.connections import vendor_account_of
from auren_graphs.webhooks.events import Event, Outcome, Results, done, skipped
from auren_graphs.webhooks.ingest import ingest, remove

FETCHES_AT_ONCE = 8


async def fetch_and_ingest(
    device: str,
    events: list[Event],
    fetch: Callable[[Event], Awaitable[list[Any]]],
    key: Callable[[Event], Hashable],
) -> Results:
    """`fetch` the documents of each event (events with the same `key` announce the same
    object: fetched once), then ingest everything fetched in one run for the batch's user.
    An event whose fetch failed gets its exception; the others share the run's outcome."""
    results: dict[int, Outcome | BaseException] = {}
    if not events:
        return results
    groups: dict[Hashable, list[Event]] = {}
    for event in events:
        groups.setdefault(key(event), []).append(event)
    limit = asyncio.Semaphore(FETCHES_AT_ONCE)

    async def fetch_once(event: Event) -> list[Any]:
        async with limit:
            return await fetch(event)

    fetched = await asyncio.gather(
        *(fetch_once(group[0]) for group in groups.values()), return_exceptions=True
    )
    documents: dict[str, Any] = {}
    succeeded: list[Event] = []
    for group, outcome in zip(groups.values(), fetched, strict=True):
        if isinstance(outcome, BaseException):
            results.update({event.id: outcome for event in group})
            continue
        succeeded.extend(group)
        for document in outcome:
            # The same record reached by two events (a recovery brings its sleep) once.
            documents.setdefault(json.dumps(document, sort_keys=True), document)
    if succeeded:
        upload_key = f"webhook-{min(event.id for event in succeeded)}"
        try:
            report = await ingest(
                events[0].user_id, device, list(documents.values()), upload_key=upload_key
            )
        except Exception as exc:
            results.update({event.id: exc for event in succeeded})
        else:
            results.update({event.id: done(report) for event in succeeded})
    return results


Get = Callable[[str], Awaitable[Any]]


async def delete_and_report(
    device: str, events: list[Event], record_of: Callable[[dict[str, Any]], str]
) -> Results:
    """Remove what the deleted records produced, in one run for the batch's user. (A
    deletion is honoured even when the account was disconnected since: the data came
    from the vendor, and the vendor says it is gone.)"""
    try:
        report = await remove(events[0].user_id, device, [record_of(e.payload) for e in events])
    except Exception as exc:
        return {event.id: exc for event in events}
    return {event.id: done(report) for event in events}


async def split_connected(
    rt: Any, events: list[Event], vendor: str, label: str
) -> tuple[Results, list[Event], Get | None]:
    """The events whose vendor account is still connected to their user, the outcomes of
    the others (skipped, or failed when the connection has no usable token), and a GET on
    the vendor's API with the connection's token (refreshed when it must be)."""
    user_id = events[0].user_id
    connected = await vendor_account_of(user_id, vendor)
    results: dict[int, Outcome | BaseException] = {}
    live = []
    for event in events:
        account = str(event.payload["user_id"])
        if account != connected:
            results[event.id] = skipped(f"{label} user {account} is no longer connected")
        else:
            live.append(event)
    if not live:
        return results, [], None
    try:
        await access_token(user_id, vendor)  # usable now (refreshed if it had to be)
    except VendorError as exc:
        return {**results, **{event.id: exc for event in live}}, [], None
    client = rt.vendors[vendor]

    async def get(path: str) -> Any:
        return await get_json(client, user_id, vendor, path)

    return results, live, get
