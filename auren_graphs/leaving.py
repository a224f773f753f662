"""A user leaving: everything stored about them as one archive, or everything erased.

`export_archive`: a zip of JSON lines, one file per metric (every stored row, as the
metrics route gives them), the remembered findings, and the device connections (never a
token), with a manifest. `erase`: every trace of the user gone: metric items, raw
intervals, the source index, findings, staged uploads, threads with their runs and
checkpoints, crons, rollout run records and feedback, connections (tokens revoked at the
vendor first, where it offers revocation), pending connect flows, webhook event rows.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import tempfile
import zipfile
from dataclasses import asdict
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from langgraph.store.base import BaseStore, PutOp

from auren_contract import (
    ROLLOUT_RUNS,
    findings_namespace,
    uploads_namespace,
    user_namespace,
)
from auren_graphs.auth import OWNER
from auren_graphs.devices import oauth, pending
from auren_graphs.devices.vendors import vendor_api
from auren_graphs.platform import loopback, server_store
from auren_graphs.readings import day_items, rows_of_item
from auren_graphs.records import connections
from auren_graphs.records.database import connection
from auren_graphs.settings import get_settings
from auren_graphs.threads import forget_user_threads
from auren_graphs.webhooks.events import TABLE as EVENTS

logger = logging.getLogger(__name__)
_PAGE = 1000
_EPOCH = date(2000, 1, 1)


async def _metrics_with_data(store: BaseStore, user_id: str) -> list[str]:
    prefix = (*user_namespace(user_id), "metrics")
    found = await store.alist_namespaces(prefix=prefix, max_depth=len(prefix) + 1, limit=1000)
    return sorted({ns[len(prefix)] for ns in found if len(ns) > len(prefix)})


async def _all_items(store: BaseStore, namespace: tuple[str, ...]) -> list[Any]:
    """Every item of a namespace (pages until one comes back short)."""
    items: list[Any] = []
    while True:
        page = await store.asearch(namespace, limit=_PAGE, offset=len(items))
        items += page
        if len(page) < _PAGE:
            return items


async def export_archive(user_id: str) -> Path:
    """The archive's path (a temporary file the caller removes once sent). Read here, in
    the event loop; written in a worker thread (file I/O must not hold the loop)."""
    store = await server_store()
    last = datetime.now(UTC).date() + timedelta(days=2)
    files: dict[str, str] = {}
    counts: dict[str, int] = {}
    for metric in await _metrics_with_data(store, user_id):
        rows = [
            row
            async for item in day_items(store, user_id, metric, _EPOCH, last)
            for row in rows_of_item(item.value, metric)
        ]
        counts[metric] = len(rows)
        files[f"metrics/{metric}.jsonl"] = "".join(json.dumps(row.to_dict()) + "\n" for row in rows)
    findings = [item.value for item in await _all_items(store, findings_namespace(user_id))]
    files["findings.jsonl"] = "".join(json.dumps(f) + "\n" for f in findings)
    devices = [asdict(c) for c in await connections.connections_of(user_id)]
    files["devices.json"] = json.dumps(devices, default=str, indent=1)
    manifest = {
        "user_id": user_id,
        "exported_at": datetime.now(UTC).isoformat(),
        "rows_per_metric": counts,
        "findings": len(findings),
        "devices": len(devices),
    }
    files["manifest.json"] = json.dumps(manifest, indent=1)
    return await asyncio.to_thread(_write_zip, files)


def _write_zip(files: dict[str, str]) -> Path:
    fd, name = tempfile.mkstemp(prefix="auren-export-", suffix=".zip")
    os.close(fd)
    with zipfile.ZipFile(name, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return Path(name)


async def _erase_store(store: BaseStore, user_id: str) -> int:
    removed = 0
    for prefix in (user_namespace(user_id), uploads_namespace(user_id)):
        for namespace in await store.alist_namespaces(prefix=prefix, limit=10_000):
            items = await _all_items(store, namespace)
            await store.abatch([PutOp(namespace, item.key, None) for item in items])
            removed += len(items)
    # Rollout run records (with their feedback) name the user.
    for namespace in await store.alist_namespaces(prefix=("rollouts",), limit=10_000):
        if len(namespace) == 3 and namespace[-1] == ROLLOUT_RUNS:
            mine = await store.asearch(namespace, filter={"user_id": user_id}, limit=100_000)
            await store.abatch([PutOp(namespace, item.key, None) for item in mine])
            removed += len(mine)
    return removed


async def _erase_threads_and_crons(user_id: str) -> tuple[int, int]:
    sdk = loopback()
    crons = await sdk.crons.search(metadata={OWNER: user_id}, limit=1000)
    for cron in crons:
        await sdk.crons.delete(cron["cron_id"])
    threads = 0
    while found := await sdk.threads.search(metadata={OWNER: user_id}, limit=100):
        for thread in found:
            await sdk.threads.delete(thread["thread_id"])  # its runs and checkpoints too
            threads += 1
    forget_user_threads(user_id)
    return threads, len(crons)


async def _revoke(vendor: str, tokens: dict[str, Any]) -> None:
    if vendor in ("whoop", "oura") and tokens.get("access_token"):
        sealed = oauth.Tokens(str(tokens["access_token"]), tokens.get("refresh_token"), None, None)
        if not await oauth.revoke(vendor_api(vendor), get_settings(), sealed):
            logger.warning("erase: %s did not confirm revoking a grant", vendor)


async def erase(user_id: str) -> dict[str, int]:
    """Erase every trace of the user; what was removed, by kind."""
    store = await server_store()
    threads, crons = await _erase_threads_and_crons(user_id)
    items = await _erase_store(store, user_id)
    for vendor, tokens in await connections.erase_user(user_id):
        await _revoke(vendor, tokens)
    await pending.forget_user(user_id)
    async with connection() as conn:
        cursor = await conn.execute(f"DELETE FROM {EVENTS} WHERE user_id = %s", [user_id])
        events = cursor.rowcount
    return {"threads": threads, "crons": crons, "store_items": items, "webhook_events": events}
