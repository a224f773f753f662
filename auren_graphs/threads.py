"""A user's own threads: one per graph, with an id derived from the server's secret.

Every path that runs a graph for a user goes through `own_thread`: the thread route
clients call, webhook processing and pushes. It creates the thread (stamped with its
owner) or, when it exists, checks that its owner is that user before anything runs on
it: an id nobody can guess, and an owner nobody can change (`auren_graphs.auth`).
"""

from __future__ import annotations

import logging

from auren_graphs.auth import OWNER
from auren_graphs.platform import loopback
from auren_graphs.records.keys import thread_id_for

logger = logging.getLogger(__name__)
_checked: dict[tuple[str, str], str] = {}


class ThreadOwnerError(Exception):
    """A user's thread id names a thread someone else owns (never expected)."""


async def own_thread(user_id: str, graph: str) -> str:
    """The id of `user_id`'s thread of `graph`, created if needed, its owner checked."""
    known = _checked.get((user_id, graph))
    if known is not None:
        return known
    thread_id = await thread_id_for(user_id, graph)
    sdk = loopback()
    thread = await sdk.threads.create(
        thread_id=thread_id,
        if_exists="do_nothing",
        metadata={OWNER: user_id, "graph": graph},
    )
    owner = (thread.get("metadata") or {}).get(OWNER)
    if owner != user_id:
        logger.error("thread %s of %s for %s is owned by someone else", thread_id, graph, user_id)
        raise ThreadOwnerError(f"the {graph} thread of {user_id} is not theirs; refusing to use it")
    if len(_checked) >= 100_000:
        _checked.clear()  # bounded; owners never change, so refilling is only a lookup
    _checked[(user_id, graph)] = thread_id
    return thread_id


def forget_user_threads(user_id: str) -> None:
    """The user was erased: their threads are gone (a later use creates them anew)."""
    for key in [key for key in _checked if key[0] == user_id]:
        del _checked[key]
