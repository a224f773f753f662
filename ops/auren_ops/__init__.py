"""AUREN's operator tooling: thin clients of the server's `/ops/...` routes and the
`auren ops` command group (an `auren.cli` plugin of the client's CLI).

```python
from auren_ops import OpsClient

async with OpsClient(url="http://127.0.0.1:2024", api_key=key) as ops:
    outcomes = await ops.sync_assistants("assistants")
    status = await ops.start_rollout("analysis-standard", candidate_version=2)
```

The server does the work (validation, sync, the switch, rollouts); this package only
reads files, calls routes and prints answers. It needs a service API key.
"""

from auren_graphs.assistants.models import (
    AssistantDiff,
    AssistantFile,
    AssistantHistory,
    AssistantVersion,
    KeyChange,
    SwitchOutcome,
    SyncOutcome,
)
from auren_graphs.rollout.models import RolloutDecision, RolloutStatus
from auren_ops._client import (
    ASSISTANTS_DIR,
    InvalidAssistantFileError,
    OpsClient,
    RolloutConflictError,
    SyncOpsClient,
    load_assistant_files,
)

__all__ = [
    "ASSISTANTS_DIR",
    "AssistantDiff",
    "AssistantFile",
    "AssistantHistory",
    "AssistantVersion",
    "InvalidAssistantFileError",
    "KeyChange",
    "OpsClient",
    "RolloutConflictError",
    "RolloutDecision",
    "RolloutStatus",
    "SwitchOutcome",
    "SyncOpsClient",
    "SyncOutcome",
    "load_assistant_files",
]
