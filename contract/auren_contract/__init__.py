"""What the AUREN server and its clients agree on, in one place both import.

Standard library only, so the thin client can ship it without the server's stack.
Nothing else in either code base spells these out again:

- the devices (sources of data), the graphs users run, and how an assistant's name
  becomes its id;
- the user-id rule, applied wherever a user id enters (tokens, routes, the client);
- the canonical metric vocabulary: names, fixed units, kinds (`shared/brief/metrics.md`);
- day numbers (a local calendar day as the integer YYYYMMDD);
- the store namespaces, and the size above which a payload travels by reference;
- how a user's thread id is derived from a server secret (so ids cannot be guessed);
- where `make dev` says which URL it serves on;
- what travels (`wire`): the ingestion graph's input and when a payload goes by
  reference, and the shapes of the answers: ingestion reports, metric rows, device
  connections.
"""

from __future__ import annotations

import difflib
import hashlib
import hmac
import json
import os
import re
import uuid
from datetime import date
from pathlib import Path
from typing import Final, Literal, NamedTuple

from auren_contract.wire import INLINE_LIMIT as INLINE_LIMIT

# Re-exported: the answers' shapes are part of the contract.
from auren_contract.wire import OUTCOMES as OUTCOMES
from auren_contract.wire import PACKED_ENCODING as PACKED_ENCODING
from auren_contract.wire import ConnectionStatus as ConnectionStatus
from auren_contract.wire import DeviceConnection as DeviceConnection
from auren_contract.wire import IngestReport as IngestReport
from auren_contract.wire import MetricRow as MetricRow
from auren_contract.wire import RecordOutcomes as RecordOutcomes
from auren_contract.wire import Rejection as Rejection
from auren_contract.wire import Rejections as Rejections
from auren_contract.wire import fits_inline as fits_inline
from auren_contract.wire import ingestion_input as ingestion_input
from auren_contract.wire import upload_item as upload_item

# --------------------------------------------------------------------------- devices

Device = Literal["oura", "whoop", "apple_health", "manual"]
DEVICES: Final[tuple[Device, ...]] = ("oura", "whoop", "apple_health", "manual")
#: Vendors whose cloud API AUREN calls (webhooks, OAuth, backfill).
API_VENDORS: Final[tuple[Device, ...]] = ("oura", "whoop")
#: Devices that push whole documents with a per-user ingest token.
PUSH_DEVICES: Final[tuple[Device, ...]] = ("apple_health", "manual")


def unknown_device_message(device: object) -> str | None:
    """Why `device` is not one AUREN knows, or None when it is."""
    if device in DEVICES:
        return None
    return f"unknown device {device!r}; use one of: {', '.join(DEVICES)}"


# ---------------------------------------------------------------------------- graphs

INGESTION_GRAPH: Final = "ingestion"
ANALYSIS_GRAPH: Final = "analysis"
ROLLOUT_GRAPH: Final = "rollout"
#: Graphs a user (or a service acting for one) may run; the rollout is for operators.
USER_GRAPHS: Final[tuple[str, ...]] = (INGESTION_GRAPH, ANALYSIS_GRAPH)
GRAPHS: Final[tuple[str, ...]] = (INGESTION_GRAPH, ANALYSIS_GRAPH, ROLLOUT_GRAPH)

# ------------------------------------------------------------------------ assistants

#: Fixed forever: the assistant kept in `assistants/<name>.json` has the id
#: `uuid5(ASSISTANT_NAMESPACE, name)` on every server, so a name is enough to find it.
ASSISTANT_NAMESPACE: Final = uuid.UUID("3b0c6a57-1d7e-4c2f-9a8e-5f4d2b61c0a9")
#: An assistant file's name (and its file name): lowercase letters, digits and `-`.
ASSISTANT_NAME_PATTERN: Final = r"^[a-z0-9][a-z0-9-]{0,79}$"


def assistant_id(name: str) -> str:
    """The id of the assistant named `name` (as synced from its file): the same everywhere."""
    return str(uuid.uuid5(ASSISTANT_NAMESPACE, name))


def assistant_ref(assistant: str) -> str:
    """What a run names as its assistant: an assistant id as is, a graph's name as is (the
    server's default assistant of that graph), and an assistant's name as its id."""
    if assistant in GRAPHS:
        return assistant
    try:
        return str(uuid.UUID(assistant))
    except ValueError:
        return assistant_id(assistant)


#: `make dev` writes `{"url", "pid"}` here (relative to where it runs) while it serves,
#: so the CLI and `AurenClient()` started there find it even on another port.
DEV_SERVER_FILE: Final = ".auren/dev-server.json"


def dev_server_url(directory: Path | None = None) -> str | None:
    """The URL of the `make dev` serving from `directory` (the current one), if its
    process still runs."""
    try:
        found = json.loads(((directory or Path.cwd()) / DEV_SERVER_FILE).read_text())
        os.kill(int(found["pid"]), 0)  # raises when that process is gone
        return str(found["url"])
    except (OSError, ValueError, KeyError, TypeError):
        return None


# ----------------------------------------------------------------------------- users

#: Letters, digits, `_` and `-`, starting with a letter or digit, at most 128 long. No
#: `.` (the store joins namespace labels with it), no `*` or `:` (service identities
#: contain `:`, so no user id can ever be mistaken for one), no spaces.
USER_ID_PATTERN: Final = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$"
_USER_ID = re.compile(USER_ID_PATTERN)
#: The header with which a service names the user it acts for (and a device the user
#: it pushes for): the one explicit field through which anyone but the user speaks
#: for them.
USER_HEADER: Final = "X-Auren-User"


def user_id_problem(value: object) -> str | None:
    """What is wrong with `value` as an AUREN user id, or None when it is one."""
    if not isinstance(value, str):
        return f"a user id must be a string, not {type(value).__name__}"
    if _USER_ID.fullmatch(value):
        return None
    shown = value if len(value) <= 40 else value[:37] + "..."
    return (
        f"{shown!r} is not a user id: use 1-128 letters, digits, '_' or '-', "
        "starting with a letter or digit"
    )


def is_user_id(value: object) -> bool:
    return user_id_problem(value) is None


# --------------------------------------------------------------------------- metrics

MetricKind = Literal["sample", "daily", "workout"]


class Metric(NamedTuple):
    """A canonical metric: its name fixes its unit."""

    name: str
    unit: str
    kind: MetricKind
    meaning: str


def _metrics(kind: MetricKind, unit: str, *named: tuple[str, str]) -> list[Metric]:
    return [Metric(name, unit, kind, meaning) for name, meaning in named]


METRICS: Final[dict[str, Metric]] = {
    m.name: m
    for m in [
        *_metrics("sample", "bpm", ("heart_rate", "one heart-rate sample at an instant")),
        *_metrics(
            "daily",
            "bpm",
            ("resting_heart_rate", "daily resting heart rate"),
            ("heart_rate_daily_min", "lowest heart rate of the day"),
            ("heart_rate_daily_avg", "average heart rate of the day"),
            ("heart_rate_daily_max", "highest heart rate of the day"),
            ("average_heart_rate", "average heart rate over a WHOOP cycle"),
            ("max_heart_rate", "highest heart rate over a WHOOP cycle"),
            ("sleep_average_heart_rate", "average heart rate asleep"),
        ),
        *_metrics(
            "daily",
            "ms",
            ("hrv_rmssd", "nightly HRV as rMSSD (Oura, WHOOP)"),
            ("hrv_sdnn", "HRV as SDNN (Apple spot checks)"),
        ),
        *_metrics(
            "daily",
            "s",
            ("sleep_duration", "time asleep in the main sleep ending on the day"),
            ("time_in_bed", "time in bed for the main sleep"),
            ("sleep_light_duration", "light (Apple: core) sleep of the main sleep"),
            ("sleep_deep_duration", "deep sleep of the main sleep"),
            ("sleep_rem_duration", "REM sleep of the main sleep"),
            ("sleep_awake_duration", "time awake during the main sleep"),
            ("nap_duration", "sleep in naps (never part of sleep_duration)"),
        ),
        *_metrics(
            "daily",
            "percent",
            ("sleep_efficiency", "time asleep / time in bed"),
            ("sleep_performance", "WHOOP sleep performance"),
            ("spo2", "blood oxygen saturation"),
            ("recovery_score", "WHOOP recovery 0-100"),
        ),
        *_metrics(
            "daily",
            "score",
            ("sleep_score", "Oura sleep score 0-100"),
            ("readiness_score", "Oura readiness 0-100"),
            ("activity_score", "Oura activity score 0-100"),
        ),
        *_metrics("daily", "strain_0_21", ("strain", "WHOOP cycle strain 0-21")),
        *_metrics("daily", "count", ("steps", "steps in the local day")),
        *_metrics("daily", "au", ("training_load", "additive daily training load (sRPE, TRIMP)")),
        *_metrics(
            "daily",
            "kcal",
            ("active_energy", "active energy in the local day"),
            ("total_energy", "total energy expended in the day"),
        ),
        *_metrics("daily", "breaths/min", ("respiratory_rate", "breaths per minute asleep")),
        *_metrics(
            "daily",
            "degC",
            ("skin_temperature", "absolute skin temperature (WHOOP)"),
            ("temperature_deviation", "deviation from the user's baseline (Oura)"),
        ),
        *_metrics("workout", "s", ("workout_duration", "duration of a workout")),
        *_metrics("workout", "kcal", ("workout_energy", "energy of a workout")),
        *_metrics("workout", "strain_0_21", ("workout_strain", "WHOOP strain of a workout")),
        *_metrics(
            "workout",
            "bpm",
            ("workout_average_heart_rate", "average heart rate of a workout"),
            ("workout_max_heart_rate", "highest heart rate of a workout"),
        ),
        *_metrics("workout", "m", ("workout_distance", "distance of a workout")),
    ]
}


#: What people type for a metric, and the canonical name they mean.
METRIC_ALIASES: Final[dict[str, str]] = {
    "hr": "heart_rate",
    "rhr": "resting_heart_rate",
    "hrv": "hrv_rmssd",
    "rmssd": "hrv_rmssd",
    "sdnn": "hrv_sdnn",
    "sleep": "sleep_duration",
    "load": "training_load",
    "temperature": "temperature_deviation",
}


def unknown_metric_message(name: object) -> str | None:
    """Why `name` is not a canonical metric (with the nearest names), or None."""
    if isinstance(name, str) and name in METRICS:
        return None
    alias = METRIC_ALIASES.get(str(name).lower())
    # A prefix ("hrv") names a family: its metrics in catalog order (rMSSD first).
    family = [m for m in METRICS if str(name) and m.startswith(str(name)) and m != alias]
    close = ([alias] if alias else []) + family[: 2 if alias else 3]
    close = close or difflib.get_close_matches(str(name), list(METRICS), n=3, cutoff=0.5)
    close = close or [m for m in METRICS if str(name) and str(name) in m][:3]
    hint = f"; did you mean {' or '.join(close)}?" if close else ""
    return f"unknown metric {name!r}{hint} (every metric: `auren metrics --list`)"


# ------------------------------------------------------------------------------ days


def day_number(day: date | str) -> int:
    """A local calendar day (a date, or its ISO text) as the integer YYYYMMDD (the store's
    range-query key: the in-memory store compares range filters as floats, so not the
    ISO string)."""
    if isinstance(day, str):
        return int(day[:10].replace("-", ""))
    return day.year * 10_000 + day.month * 100 + day.day


# ----------------------------------------------------------------------------- store

Namespace = tuple[str, ...]


def user_namespace(user_id: str) -> Namespace:
    """The root of everything stored about one user (metrics, raw intervals, findings)."""
    return ("users", user_id)


def metric_namespace(user_id: str, metric: str) -> Namespace:
    """One item per local day: `"YYYY-MM-DD"` -> the day's rows of `metric`."""
    return (*user_namespace(user_id), "metrics", metric)


def raw_namespace(user_id: str, kind: str) -> Namespace:
    """Raw intervals by local start day, for values derived across deliveries."""
    return (*user_namespace(user_id), "raw", kind)


def findings_namespace(user_id: str) -> Namespace:
    """The user's remembered findings: `"<day>:<finding id>"` -> finding."""
    return (*user_namespace(user_id), "findings")


def sources_namespace(user_id: str) -> Namespace:
    """Where each vendor record's values went (so a vendor's delete can remove them)."""
    return (*user_namespace(user_id), "sources")


def uploads_namespace(user_id: str) -> Namespace:
    """Payloads staged for an ingestion run; deleted once ingested."""
    return ("uploads", user_id)


#: The key of the `n`th upload of a series (the documents a file is cut into), sent over
#: several runs: `<series>-<n>`. The server reads ahead the uploads that follow a run's
#: last one by name (`following_upload_keys`): the next run starts with them.
_SERIES_KEY = re.compile(r"^([0-9a-f]{32})-([0-9]{6})$")


def series_upload_key(series: str, n: int) -> str:
    """The key of upload `n` (from 0) of the series `series` (a uuid4 hex)."""
    return f"{series}-{n:06d}"


def following_upload_keys(key: str, count: int) -> list[str]:
    """The keys of the `count` uploads that follow `key` in its series; none when `key`
    is not one of a series."""
    match = _SERIES_KEY.match(key)
    if match is None or count < 1:
        return []
    series, n = match.group(1), int(match.group(2))
    return [series_upload_key(series, n + step) for step in range(1, count + 1)]


def active_rollouts_namespace() -> Namespace:
    """Each assistant's current (or last) rollout, keyed by the assistant's id: one small
    namespace, so finding every rollout in progress is one read."""
    return ("rollouts", "active")


def rollout_history_namespace(assistant_id: str, rollout_id: str) -> Namespace:
    """Every decision of one rollout, in order (`"NNN-event"`)."""
    return ("rollouts", assistant_id, rollout_id)


#: The label of run records under an assistant's rollouts (never a rollout's id).
ROLLOUT_RUNS: Final = "runs"


def rollout_runs_namespace(assistant_id: str) -> Namespace:
    """One record per analysis run of the assistant during a rollout, keyed by run id."""
    return ("rollouts", assistant_id, ROLLOUT_RUNS)


#: Namespace roots a user's own token may touch through the store API at all (and then
#: only under their own id): staging their uploads. Everything else goes through routes.
USER_WRITABLE_ROOTS: Final[tuple[str, ...]] = ("uploads",)

# --------------------------------------------------------------------------- threads


_VERSION_MASK = 0xF << 76
_VARIANT_MASK = 0x3 << 62


def derive_thread_id(key: bytes, user_id: str, graph: str) -> str:
    """The id of `user_id`'s thread of `graph`, keyed with the server's secret.

    Deterministic, so every delivery for a user lands on one thread and overlapping
    ones queue there; keyed, so nobody without the server's key can name (or claim)
    another user's thread. Only the server holds the key: clients ask for their ids.
    The id is a version 8 UUID (RFC 9562's "custom" layout), a form the server never
    gives any other thread, so it refuses callers who try to create one themselves.
    """
    digest = hmac.new(key, f"{graph}\x00{user_id}".encode(), hashlib.sha256).digest()
    value = int.from_bytes(digest[:16], "big")
    value = (value & ~_VERSION_MASK) | (8 << 76)
    value = (value & ~_VARIANT_MASK) | (0x2 << 62)
    return str(uuid.UUID(int=value))


def is_server_thread_id(thread_id: object) -> bool:
    """Whether `thread_id` has the form only `derive_thread_id` gives (version 8)."""
    try:
        return uuid.UUID(str(thread_id)).version == 8
    except ValueError:
        return False
