"""AUREN's client: ingest device data and read a user's metrics from an AUREN deployment.

```python
from auren_client import AurenClient, AurenError

async with AurenClient(url="http://127.0.0.1:2024") as auren:
    await auren.connect_device("user-alice", "oura", vendor_user_id="7XKQ2MZP4R")
    report = await auren.ingest("user-alice", "oura", payload)
    rows = await auren.metrics("user-alice", "hrv_rmssd", start, end)
```

Everything public is listed in ``__all__``; the underscored modules are private.
"""

from auren_contract import (
    DEVICES,
    METRICS,
    DeviceConnection,
    IngestReport,
    Metric,
    MetricRow,
    RecordOutcomes,
    Rejection,
    Rejections,
)

from ._analysis import AnalysisEvent, AnalysisResult
from ._client import AurenClient
from ._errors import (
    AurenError,
    AurenTimeoutError,
    AuthenticationError,
    ConnectionFailedError,
    DeviceConflictError,
    InvalidArgumentError,
    InvalidPayloadError,
    NotFoundError,
    RequestRejectedError,
    RunFailedError,
    ServerError,
    ServiceUnavailableError,
    StatusError,
    UnexpectedResponseError,
)
from ._settings import API_KEY_ENV, DEFAULT_URL, URL_ENV, resolve_url
from ._sync import SyncAurenClient
from ._version import __version__

__all__ = [
    "API_KEY_ENV",
    "DEFAULT_URL",
    "DEVICES",
    "METRICS",
    "URL_ENV",
    "AnalysisEvent",
    "AnalysisResult",
    "AurenClient",
    "AurenError",
    "AurenTimeoutError",
    "AuthenticationError",
    "ConnectionFailedError",
    "DeviceConflictError",
    "DeviceConnection",
    "IngestReport",
    "InvalidArgumentError",
    "InvalidPayloadError",
    "Metric",
    "MetricRow",
    "NotFoundError",
    "RecordOutcomes",
    "Rejection",
    "Rejections",
    "RequestRejectedError",
    "RunFailedError",
    "ServerError",
    "ServiceUnavailableError",
    "StatusError",
    "SyncAurenClient",
    "UnexpectedResponseError",
    "__version__",
    "resolve_url",
]

# Public objects report this package as their home (as httpx does), so reprs,
# tracebacks and docs do not point into private modules.
for _name in __all__:
    _obj = globals()[_name]
    if hasattr(_obj, "__module__") and getattr(_obj, "__module__", "").startswith(__name__ + "."):
        _obj.__module__ = __name__
del _name, _obj
