"""The attacks of `reliability.identity`, by class (the numbers of issue 12's findings).

Each is one attempt by Bob (or by nobody) on Alice's data; `identity.judge` decides what
it did. Where an attack needs one of Alice's thread ids, it is given: an attacker who
learned it must still get nothing. Classes 1-4 are here, 5-8 and AUREN's routes in
`identity_attacks_http`; `ATTACKS` lists them all.
"""

from __future__ import annotations

import uuid
from typing import Any

from reliability.identity import (
    ALICE,
    BOB,
    DAY,
    Attack,
    BreachError,
    Scene,
    ServerFaultError,
    canary_entries,
)
from reliability.identity_attacks_http import (
    INTERNAL,
    ROUTES,
    STORE,
    TOKENS,
    oversized_headers,
    read_my_connection_tokens,
    service_names_a_wildcard,
    slow_bodies,
    tokens_in_the_database,
    user_token_names_another_user,
)
from tests.support.config import SERVICE_KEY
from tests.support.users import user_thread

OVERWRITE = canary_entries(99.0, "alice-canary")  # Alice's entry id, another value


async def _bob_thread(scene: Scene, graph: str) -> str:
    return await user_thread(scene.url, BOB, graph, SERVICE_KEY)


def _run_input(user: str | None = ALICE, payload: Any = OVERWRITE) -> dict[str, Any]:
    return {"user_id": user, "device": "manual", "payload": payload, "uploads": []}


# -- 1. graphs trusting input, state, command -----------------------------------------


async def input_names_alice(scene: Scene) -> Any:
    return await scene.bob().runs.wait(
        await _bob_thread(scene, "ingestion"), "ingestion", input=_run_input(), raise_error=False
    )


async def stateless_ingestion_naming_alice(scene: Scene) -> Any:
    return await scene.bob().runs.wait(None, "ingestion", input=_run_input(), raise_error=False)


async def analysis_naming_alice(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().runs.wait(
        thread, "analysis", input={"user_id": ALICE, "as_of": DAY}, raise_error=False
    )


async def stateless_analysis_naming_alice(scene: Scene) -> Any:
    return await scene.bob().runs.wait(
        None, "analysis", input={"user_id": ALICE, "as_of": DAY}, raise_error=False
    )


async def command_update_to_analysis(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    command = {"update": {"user_id": ALICE, "as_of": DAY}, "goto": "load_series"}
    return await scene.bob().runs.wait(thread, "analysis", command=command, raise_error=False)


async def command_update_to_ingestion(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "ingestion")
    command = {"update": _run_input(), "goto": "ingest_manual"}
    return await scene.bob().runs.wait(thread, "ingestion", command=command, raise_error=False)


async def command_resume(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().runs.wait(
        thread, "analysis", command={"resume": {"user_id": ALICE}}, raise_error=False
    )


async def state_update_naming_alice(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "ingestion")
    return await scene.bob().threads.update_state(thread, _run_input(), as_node="check_input")


async def state_update_then_continue(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    bob = scene.bob()
    await bob.threads.update_state(thread, {"user_id": ALICE})
    return await bob.runs.wait(thread, "analysis", input=None, raise_error=False)


async def cron_with_command(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().crons.create_for_thread(
        thread, "analysis", schedule="* * * * *", input=None, interrupt_before=["load_series"]
    )


async def cron_naming_alice_fires_as_bob(scene: Scene) -> Any:
    # A cron's run is a run of its owner: naming Alice in its input changes nothing.
    thread = await _bob_thread(scene, "ingestion")
    bob = scene.bob()
    cron = await bob.crons.create_for_thread(
        thread, "ingestion", schedule="0 4 * * *", input=_run_input()
    )
    await bob.crons.delete(cron["cron_id"])
    return cron


async def run_metadata_names_alice(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().runs.wait(
        thread, "analysis", input={"as_of": DAY}, metadata={"user_id": ALICE}
    )


async def context_names_alice(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().runs.wait(
        thread, "analysis", input={"as_of": DAY}, context={"user_id": ALICE}, raise_error=False
    )


async def config_thread_is_alices(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "ingestion")
    config = {"configurable": {"thread_id": scene.alice_threads["ingestion"]}}
    return await scene.bob().runs.wait(
        thread, "ingestion", input=_run_input(BOB), config=config, raise_error=False
    )


async def interrupt_before(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "ingestion")
    return await scene.bob().runs.wait(
        thread, "ingestion", input=_run_input(BOB), interrupt_before=["ingest_manual"]
    )


async def run_webhook(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().runs.create(
        thread, "analysis", input={"as_of": DAY}, webhook="http://127.0.0.1:9/steal"
    )


async def batch_of_stateless_runs(scene: Scene) -> Any:
    return await scene.bob().runs.create_batch(
        [{"assistant_id": "ingestion", "input": _run_input()}]
    )


# -- 2. thread ids --------------------------------------------------------------------


async def squat_the_old_predictable_id(scene: Scene) -> Any:
    # The id the old client derived for Alice (uuid5 of user/graph): now just an id.
    legacy = uuid.uuid5(uuid.UUID("6f1c1d2e-8f5a-4a63-9a43-2f7f6d0b9e11"), f"{ALICE}/ingestion")
    return await scene.bob().threads.create(thread_id=str(legacy), if_exists="do_nothing")


async def claim_carols_thread_before_her(scene: Scene) -> Any:
    return await scene.bob().threads.create(thread_id=scene.carol_ingestion)


async def claim_carols_thread_by_a_run(scene: Scene) -> Any:
    return await scene.bob().runs.wait(
        scene.carol_ingestion, "ingestion", input=_run_input(BOB), if_not_exists="create"
    )


async def _first_part(stream: Any) -> Any:
    parts = await stream
    return await anext(aiter(parts), None)


def _on_alices_thread(name: str, call: Any) -> Attack:
    async def attempt(scene: Scene) -> Any:
        return await call(scene.bob(), scene.alice_threads["ingestion"], scene)

    return Attack("2 thread ids", name, attempt, knows_threads=True)


THREAD_DOORS = [
    _on_alices_thread("get", lambda sdk, t, s: sdk.threads.get(t)),
    _on_alices_thread("state", lambda sdk, t, s: sdk.threads.get_state(t)),
    _on_alices_thread("history", lambda sdk, t, s: sdk.threads.get_history(t)),
    _on_alices_thread("runs", lambda sdk, t, s: sdk.runs.list(t)),
    _on_alices_thread("copy", lambda sdk, t, s: sdk.threads.copy(t)),
    _on_alices_thread("patch", lambda sdk, t, s: sdk.threads.update(t, metadata={"x": 1})),
    _on_alices_thread("update state", lambda sdk, t, s: sdk.threads.update_state(t, {})),
    _on_alices_thread("delete", lambda sdk, t, s: sdk.threads.delete(t)),
    _on_alices_thread(
        "run on it", lambda sdk, t, s: sdk.runs.wait(t, "ingestion", input=_run_input(BOB))
    ),
    _on_alices_thread(
        "run with rollback",
        lambda sdk, t, s: sdk.runs.create(
            t, "ingestion", input=_run_input(BOB), multitask_strategy="rollback"
        ),
    ),
    _on_alices_thread("join stream", lambda sdk, t, s: _first_part(sdk.threads.join_stream(t))),
    _on_alices_thread(
        "search by owner", lambda sdk, t, s: sdk.threads.search(metadata={"user_id": ALICE})
    ),
    _on_alices_thread("cron on it", lambda sdk, t, s: sdk.crons.create_for_thread(
        t, "ingestion", schedule="0 1 * * *", input=_run_input(BOB))),
]  # fmt: skip


# -- 3. operator-only graphs and records -------------------------------------------------


async def run_the_rollout_graph(scene: Scene) -> Any:
    return await scene.bob().runs.wait(
        None, "rollout", input={"assistant": "analysis", "candidate_version": 1}
    )


async def create_an_assistant(scene: Scene) -> Any:
    return await scene.bob().assistants.create("analysis", context={"swc_multiplier": 3})


async def update_an_assistant(scene: Scene) -> Any:
    found = await scene.bob().assistants.search(graph_id="analysis", limit=1)
    return await scene.bob().assistants.update(found[0]["assistant_id"], metadata={"x": 1})


async def set_an_assistants_version(scene: Scene) -> Any:
    found = await scene.bob().assistants.search(graph_id="analysis", limit=1)
    return await scene.bob().assistants.set_latest(found[0]["assistant_id"], 1)


async def delete_an_assistant(scene: Scene) -> Any:
    found = await scene.bob().assistants.search(graph_id="analysis", limit=1)
    return await scene.bob().assistants.delete(found[0]["assistant_id"])


async def write_the_active_rollout(scene: Scene) -> Any:
    record = {"status": "rolling_out", "percent": 100}
    return await scene.bob().store.put_item(["rollouts", "any-assistant"], "active", record)


# -- 4. owner metadata --------------------------------------------------------------------


async def thread_owned_by_alice(scene: Scene) -> Any:
    return await scene.bob().threads.create(metadata={"user_id": ALICE})


async def change_my_threads_owner(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().threads.update(thread, metadata={"user_id": ALICE})


async def stateless_run_stays_visible(scene: Scene) -> Any:
    # Not an attack on Alice: a stateless run must keep its owner (no 200 with an empty
    # body). Refused by the graph is fine; a reset connection or an empty answer is not.
    answer = await scene.bob().runs.wait(None, "analysis", input={"as_of": DAY})
    if not isinstance(answer, dict) or not answer:
        raise ServerFaultError(f"a stateless run answered {answer!r}")
    return answer


async def cron_owned_by_alice(scene: Scene) -> Any:
    thread = await _bob_thread(scene, "analysis")
    return await scene.bob().crons.create_for_thread(
        thread, "analysis", schedule="0 2 * * *", input={}, metadata={"user_id": ALICE}
    )


async def more_crons_than_allowed(scene: Scene) -> Any:
    bob, made = scene.bob(), []
    thread = await _bob_thread(scene, "analysis")
    try:
        for _ in range(50):
            made.append(await bob.crons.create_for_thread(thread, "analysis", schedule="0 5 * * *"))
        raise BreachError(f"{len(made)} crons made: no per-user limit")
    finally:
        for cron in made:
            await bob.crons.delete(cron["cron_id"])


async def alices_cron(scene: Scene) -> Any:
    return await scene.bob().crons.delete(scene.alice_cron)


async def search_alices_crons(scene: Scene) -> Any:
    found = await scene.bob().crons.search(thread_id=scene.alice_threads["analysis"])
    if found:
        return found  # judged: her thread id is a canary
    raise PermissionError("not visible")


ATTACKS: list[Attack] = [
    *(Attack("1 graph identity", f.__name__.replace("_", " "), f) for f in (
        input_names_alice, stateless_ingestion_naming_alice, analysis_naming_alice,
        stateless_analysis_naming_alice, command_update_to_analysis,
        command_update_to_ingestion, command_resume, state_update_naming_alice,
        state_update_then_continue, cron_with_command, cron_naming_alice_fires_as_bob,
        run_metadata_names_alice, context_names_alice, interrupt_before, run_webhook,
        batch_of_stateless_runs)),
    Attack("1 graph identity", "config names alice's thread", config_thread_is_alices, True),
    *(Attack("2 thread ids", f.__name__.replace("_", " "), f) for f in (
        squat_the_old_predictable_id, claim_carols_thread_before_her,
        claim_carols_thread_by_a_run)),
    *THREAD_DOORS,
    *(Attack("3 operator only", f.__name__.replace("_", " "), f) for f in (
        run_the_rollout_graph, create_an_assistant, update_an_assistant,
        set_an_assistants_version, delete_an_assistant, write_the_active_rollout)),
    *(Attack("4 owners", f.__name__.replace("_", " "), f) for f in (
        thread_owned_by_alice, change_my_threads_owner, stateless_run_stays_visible,
        cron_owned_by_alice, more_crons_than_allowed, alices_cron)),
    Attack("4 owners", "search alice's crons", search_alices_crons, knows_threads=False),
    *INTERNAL,
    *TOKENS,
    Attack("6 tokens", "user token names another user", user_token_names_another_user),
    Attack("6 tokens", "service names a wildcard user", service_names_a_wildcard),
    Attack("7 secrets", "read my connection", read_my_connection_tokens),
    Attack("7 secrets", "tokens in the database", tokens_in_the_database),
    Attack("8 unauthenticated", "64 slow 1 MiB bodies", slow_bodies),
    Attack("8 unauthenticated", "60 KB of headers", oversized_headers),
    *ROUTES,
    *STORE,
]  # fmt: skip
