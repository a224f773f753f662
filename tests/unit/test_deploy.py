"""The self-hosted deploy, checked without a Docker engine.

The image: what `langgraph dockerfile` writes from langgraph.platform.json (the config the
image is built from) is the official Python 3.11 server image with this package installed
from /deps/<checkout>, and every path the server loads (graphs, `http.app`, `auth.path`)
resolves to a file of this checkout and an attribute that exists. The image config names
no checkpointer or store: the server runtime's own Postgres persistence is the only saver.

docker-compose.yml: valid against the Compose specification's JSON schema
(tests/fixtures/compose-spec.json), healthchecks, restart policies, resource limits,
dependencies on healthy services, the API/queue-worker split, and every variable it uses
documented in .env.example and the README.
"""

from __future__ import annotations

import fnmatch
import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any

import jsonschema
import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures"
IMAGE_CONFIG = "langgraph.platform.json"
DEV_CONFIG = "langgraph.json"
BASE_IMAGE = "langchain/langgraph-api"
# Environment lines the CLI writes for a custom checkpointer or store.
PERSISTENCE_ENV = ("LANGGRAPH_CHECKPOINTER", "LANGGRAPH_STORE")
# Config sections whose paths the server loads, the key holding the path, and the
# environment variable the CLI writes them into.
LOADED_SECTIONS = (("http", "app", "LANGGRAPH_HTTP"), ("auth", "path", "LANGGRAPH_AUTH"))
GRAPHS = ("ingestion", "analysis")


def _config(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((REPO / name).read_text())
    return loaded


def _langgraph_cli() -> str:
    """The venv's `langgraph` (the one pytest runs beside), else the one on PATH."""
    beside = Path(sys.executable).with_name("langgraph")
    found = str(beside) if beside.exists() else shutil.which("langgraph")
    assert found, "the LangGraph CLI is not installed: run `make install`"
    return found


# -- the Dockerfile the CLI writes ---------------------------------------------------


@dataclass(frozen=True)
class Dockerfile:
    text: str
    instructions: list[tuple[str, str]]  # (INSTRUCTION, arguments), continuations joined

    @classmethod
    def parse(cls, text: str) -> Dockerfile:
        instructions: list[tuple[str, str]] = []
        pending = ""
        for raw in text.splitlines():
            line = raw.rstrip()
            if not pending and (not line.strip() or line.lstrip().startswith("#")):
                continue
            if line.endswith("\\"):
                pending += line[:-1] + " "
                continue
            whole = (pending + line).strip()
            pending = ""
            keyword, _, arguments = whole.partition(" ")
            instructions.append((keyword.upper(), arguments.strip()))
        return cls(text, instructions)

    def all(self, keyword: str) -> list[str]:
        return [arguments for name, arguments in self.instructions if name == keyword]

    @property
    def base(self) -> str:
        (first_keyword, arguments) = self.instructions[0]
        assert first_keyword == "FROM", self.instructions[0]
        return arguments

    @property
    def env(self) -> dict[str, str]:
        values: dict[str, str] = {}
        for arguments in self.all("ENV"):
            name, _, value = arguments.partition("=")
            (values[name],) = shlex.split(value)
        return values

    @property
    def workdir(self) -> str:
        return self.all("WORKDIR")[-1]

    @property
    def local_packages(self) -> dict[str, Path]:
        """Container directory -> the host directory the Dockerfile ADDs there."""
        packages = {}
        for arguments in self.all("ADD"):
            source, destination = shlex.split(arguments)
            packages[destination.rstrip("/")] = (REPO / source).resolve()
        return packages

    def host_path(self, container_path: str) -> Path:
        """The file of this checkout that lands at `container_path` in the image."""
        path = PurePosixPath(container_path)
        for destination, source in self.local_packages.items():
            if path.is_relative_to(destination):
                return source / path.relative_to(destination)
        raise AssertionError(f"{container_path} is not inside any directory the image ADDs")


def _generate(config: str, directory: Path) -> Dockerfile:
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / "Dockerfile"
    result = subprocess.run(
        [_langgraph_cli(), "dockerfile", "-c", str(REPO / config), str(target)],
        cwd=directory,
        capture_output=True,
        text=True,
        timeout=180,
        env={**os.environ, "LANGGRAPH_CLI_NO_ANALYTICS": "1"},
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return Dockerfile.parse(target.read_text())


@pytest.fixture(scope="module")
def image(tmp_path_factory: pytest.TempPathFactory) -> Dockerfile:
    return _generate(IMAGE_CONFIG, tmp_path_factory.mktemp("image"))


@pytest.fixture(scope="module")
def dev_image(tmp_path_factory: pytest.TempPathFactory) -> Dockerfile:
    return _generate(DEV_CONFIG, tmp_path_factory.mktemp("dev"))


def _load_by_path(path: Path) -> ModuleType:
    # How the server loads a "/deps/.../file.py:attr" path.
    spec = importlib.util.spec_from_file_location(f"_auren_image_{path.stem}", path)
    assert spec is not None and spec.loader is not None, path
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _installed_packages() -> set[str]:
    from setuptools import find_packages

    setuptools = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]
    finding = dict(setuptools["packages"]["find"])
    return {
        p.split(".")[0]
        for where in finding.pop("where", ["."])
        for p in find_packages(str(REPO / where), **finding)
    }


def _resolve_in_image(target: str, image: Dockerfile) -> object:
    """The object a "module:attr" or "/container/path.py:attr" string names in the image,
    found through the checkout files the image is built from."""
    location, _, attribute = target.rpartition(":")
    assert location and attribute, f"{target!r} is not <module or file>:<attribute>"
    if "/" in location:
        assert location.startswith("/"), f"{target!r}: the CLI should make paths absolute"
        path = image.host_path(location)
        assert path.is_file(), f"{target!r} -> {path} does not exist in this checkout"
        assert path.resolve().is_relative_to(REPO), path
        module = _load_by_path(path)
    else:
        # A dotted module is imported from the package `pip install -e .` installs in
        # /deps/<checkout>: the editable install maps each top-level package to its directory.
        package = location.split(".", 1)[0]
        assert package in _installed_packages(), (
            f"{target!r}: {package!r} is not in pyproject's [tool.setuptools] packages, "
            "so `pip install -e .` in the image would not install it"
        )
        module = importlib.import_module(location)
        assert module.__file__ is not None
        source = Path(module.__file__).resolve()
        assert source.is_relative_to(REPO), f"{location} imports from {source}, not this checkout"
        landing = PurePosixPath(image.workdir) / source.relative_to(REPO).as_posix()
        assert image.host_path(str(landing)) == source
    assert hasattr(module, attribute), f"{target!r}: {module.__name__} has no {attribute!r}"
    return getattr(module, attribute)


def test_the_image_is_the_official_python_3_11_server(image: Dockerfile) -> None:
    assert _config(IMAGE_CONFIG)["python_version"] == "3.11"
    name, _, tag = image.base.partition(":")
    assert name == BASE_IMAGE
    # "3.11" (latest server), "3.11-<distro>", or "<api_version>-py3.11" when pinned.
    assert tag == "3.11" or tag.startswith("3.11-") or tag.endswith("-py3.11"), image.base


def test_the_image_installs_this_package_from_the_checkout(image: Dockerfile) -> None:
    assert "." in _config(IMAGE_CONFIG)["dependencies"]
    workdir = image.workdir
    assert image.local_packages.get(workdir) == REPO, (workdir, image.local_packages)
    assert PurePosixPath(workdir).parent == PurePosixPath("/deps")
    installs = " ".join(image.all("RUN"))
    assert "for dep in /deps/*" in installs
    assert "-c /api/constraints.txt -e ." in installs  # editable, pinned to the server's deps
    # The image does not depend on where this checkout lives on the build machine.
    assert str(REPO) not in image.text


@pytest.mark.parametrize("folder", ["contract", "client"])
def test_the_image_installs_the_distributions_the_server_imports(
    image: Dockerfile, folder: str
) -> None:
    # auren_contract (contract/) is imported by the server, auren_client (client/) by the
    # operators' tooling in the same package: each a package of its own in the image,
    # installed before the server (/deps/* in order).
    assert f"./{folder}" in _config(IMAGE_CONFIG)["dependencies"]
    places = {path: host for path, host in image.local_packages.items() if host == REPO / folder}
    assert places, image.local_packages
    assert all(sorted([str(p), image.workdir])[0] == str(p) for p in places)


def test_the_image_serves_both_graphs_from_this_package(image: Dockerfile) -> None:
    served = json.loads(image.env["LANGSERVE_GRAPHS"])
    assert served == _config(IMAGE_CONFIG)["graphs"]
    assert set(GRAPHS) <= served.keys()
    for name in GRAPHS:
        graph = _resolve_in_image(served[name], image)
        assert callable(getattr(graph, "astream", None)), f"{name} is not a compiled graph"


def test_the_image_leaves_checkpoints_and_the_store_to_the_server_runtime(
    image: Dockerfile,
) -> None:
    """No custom saver or store in the image: the runtime's own Postgres persistence is the
    only writer of its tables. Runtime options (a thread TTL, say) may still be set."""
    config = _config(IMAGE_CONFIG)
    for section, variable in zip(("checkpointer", "store"), PERSISTENCE_ENV, strict=True):
        options = config.get(section) or {}
        assert "path" not in options, f"{section}.path: a second saver on the runtime's tables"
        assert options.get("backend") != "custom", f"{section}.backend is custom"
        written = json.loads(image.env.get(variable, "{}"))
        assert "path" not in written, f"{variable} names a custom implementation: {written}"


def test_the_image_differs_from_the_dev_config_only_by_the_custom_persistence(
    image: Dockerfile, dev_image: Dockerfile
) -> None:
    """`make dev` keeps its own Postgres saver and store; the image drops exactly those."""
    assert set(PERSISTENCE_ENV) <= dev_image.env.keys()
    persistence = tuple(f"{name}=" for name in PERSISTENCE_ENV)

    def without_persistence(dockerfile: Dockerfile) -> list[tuple[str, str]]:
        return [
            (keyword, arguments)
            for keyword, arguments in dockerfile.instructions
            if not (keyword == "ENV" and arguments.startswith(persistence))
        ]

    assert without_persistence(image) == without_persistence(dev_image)


@pytest.mark.parametrize(("section", "key", "variable"), LOADED_SECTIONS)
def test_custom_routes_and_auth_resolve_inside_the_image(
    image: Dockerfile, section: str, key: str, variable: str
) -> None:
    """`http.app` and `auth.path` load in the image when configured; when one is not, both
    configs agree that it is not, and the image carries none."""
    platform, dev = _config(IMAGE_CONFIG), _config(DEV_CONFIG)
    assert platform.get(section) == dev.get(section), f"{section} differs between the configs"
    if section not in platform:
        assert variable not in image.env, f"{variable} written without a {section} section"
        return
    written = json.loads(image.env[variable])
    configured = platform[section].get(key)
    assert (configured is None) == (written.get(key) is None), (configured, written)
    assert {k: v for k, v in written.items() if k != key} == {
        k: v for k, v in platform[section].items() if k != key
    }
    if configured is not None:
        assert _resolve_in_image(written[key], image) is not None


def test_the_build_context_keeps_secrets_and_local_data_out_of_the_image() -> None:
    """`langgraph build` runs `docker build` on this directory and the Dockerfile ADDs all
    of it: without these entries in .dockerignore the image would carry .env (every secret)
    and .auren/ (the embedded dev Postgres, health data)."""
    ignore_file = REPO / ".dockerignore"
    assert ignore_file.is_file(), ".dockerignore is missing: .env and .auren/ would be in the image"
    patterns = [
        line.strip()
        for line in ignore_file.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    for path in (".env", ".auren", ".venv", ".git", ".langgraph_api"):
        assert _docker_ignores(patterns, path), f".dockerignore lets {path} into the image"


def _docker_ignores(patterns: list[str], path: str) -> bool:
    """Docker's rule for a top-level entry: the last matching pattern wins, `!` re-includes."""
    ignored = False
    for pattern in patterns:
        negated = pattern.startswith("!")
        body = pattern.lstrip("!").strip().lstrip("/").rstrip("/")
        candidates = {body, body.removeprefix("**/")}
        if any(fnmatch.fnmatchcase(path, candidate) for candidate in candidates):
            ignored = not negated
    return ignored


# -- docker-compose.yml ---------------------------------------------------------------

COMPOSE = REPO / "docker-compose.yml"
ENV_EXAMPLE = REPO / ".env.example"
README = REPO / "README.md"
SMOKE = REPO / "scripts" / "deploy-smoke.sh"
# $$ is a literal dollar; otherwise ${NAME...} and $NAME are interpolated, nested included.
_VARIABLE = re.compile(r"\$(?:\{([A-Za-z_][A-Za-z0-9_]*)|([A-Za-z_][A-Za-z0-9_]*))")
_HEALTHY = "service_healthy"
_RESTARTS = ("always", "unless-stopped", "on-failure")


def interpolated_variables(text: str) -> set[str]:
    return {braced or bare for braced, bare in _VARIABLE.findall(text.replace("$$", ""))}


def _strings(value: object) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _default(value: str) -> str:
    """The default of a "${NAME:-default}" value, or the value itself."""
    match = re.fullmatch(r"\$\{[A-Za-z_][A-Za-z0-9_]*:?-(.*)\}", value)
    return match.group(1) if match else value


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return loaded


@pytest.fixture(scope="module")
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


def _environment(service: dict[str, Any]) -> dict[str, str]:
    environment = service.get("environment", {})
    assert isinstance(environment, dict), "environment as a mapping, please"
    return {name: str(value) for name, value in environment.items()}


def interpolate(text: str, env: dict[str, str]) -> str:
    """Compose's interpolation (the reference's operators, nesting and $$), enough to see
    what the file resolves to without Docker."""
    out: list[str] = []
    i = 0
    while i < len(text):
        if text.startswith("$$", i):
            out.append("$")
            i += 2
        elif text.startswith("${", i):
            depth, j = 1, i + 2
            while depth:
                assert j < len(text), f"unbalanced ${{ in {text!r}"
                if text.startswith("${", j):
                    depth, j = depth + 1, j + 2
                    continue
                depth -= text[j] == "}"
                j += 1
            out.append(_expand(text[i + 2 : j - 1], env))
            i = j
        elif bare := re.match(r"\$([A-Za-z_][A-Za-z0-9_]*)", text[i:]):
            out.append(env.get(bare.group(1), ""))
            i += bare.end()
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def _expand(body: str, env: dict[str, str]) -> str:
    match = re.fullmatch(r"([A-Za-z_][A-Za-z0-9_]*)(?:(:?[-?+])(.*))?", body, re.DOTALL)
    assert match, f"not an interpolation: ${{{body}}}"
    name, operator, argument = match.groups()
    value = env.get(name)
    if operator is None:
        return value or ""
    present = bool(value) if operator.startswith(":") else value is not None
    kind = operator[-1]
    if kind == "-":
        return value if present and value is not None else interpolate(argument, env)
    if kind == "+":
        return interpolate(argument, env) if present else ""
    if not present or value is None:
        raise ValueError(f"{name}: {interpolate(argument, env)}")
    return value


def _resolved(value: Any, env: dict[str, str]) -> Any:
    if isinstance(value, str):
        return interpolate(value, env)
    if isinstance(value, dict):
        return {key: _resolved(item, env) for key, item in value.items()}
    if isinstance(value, list):
        return [_resolved(item, env) for item in value]
    return value


def test_variable_parser_reads_every_interpolation_form() -> None:
    text = "${A} ${B:-x} ${C-x} ${D:?say} ${E?say} ${F:+y} ${G:-${H:-${I}}} $J $$K $${L}"
    assert interpolated_variables(text) == set("ABCDEFGHIJ")
    env = {"A": "a", "C": "", "J": "j"}
    assert interpolate("${A}/${B:-b}/${C-c}/${C:-d}/${G:-${H:-${A}}}/$J/$$K", env) == (
        "a/b//d/a/j/$K"
    )
    with pytest.raises(ValueError, match="D: say"):
        interpolate("${D:?say}", env)


def test_compose_resolves_to_the_bundled_services_from_a_minimal_env(
    compose: dict[str, Any],
) -> None:
    resolved = _resolved(compose, {"POSTGRES_PASSWORD": "pw", "LANGSMITH_API_KEY": "lsv2"})
    api, queue = resolved["services"]["api"], resolved["services"]["queue"]
    assert api["environment"]["DATABASE_URI"] == (
        "postgres://auren:pw@postgres:5432/auren?sslmode=disable"
    )
    assert resolved["services"]["postgres"]["environment"]["POSTGRES_PASSWORD"] == "pw"
    assert api["environment"]["REDIS_URI"] == "redis://redis:6379/0"
    assert api["environment"]["LANGSMITH_API_KEY"] == "lsv2"
    assert api["image"] == queue["image"] == "auren-api"
    assert api["ports"] == ["127.0.0.1:8123:8000"]
    assert int(queue["deploy"]["replicas"]) >= 1
    assert int(queue["environment"]["N_JOBS_PER_WORKER"]) > 0
    external = _resolved(compose, {"POSTGRES_PASSWORD": "pw", "DATABASE_URI": "postgres://db/x"})
    assert external["services"]["queue"]["environment"]["DATABASE_URI"] == "postgres://db/x"


def test_compose_refuses_to_start_without_a_postgres_password(compose: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="POSTGRES_PASSWORD"):
        _resolved(compose, {})


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    schema = json.loads((FIXTURES / "compose-spec.json").read_text())
    jsonschema.Draft7Validator.check_schema(schema)
    errors = sorted(jsonschema.Draft7Validator(schema).iter_errors(compose), key=str)
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors)


def test_the_stack_is_postgres_redis_the_api_and_queue_workers(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == {"postgres", "redis", "api", "queue"}
    assert services["postgres"]["image"].startswith("pgvector/pgvector:pg")
    assert services["redis"]["image"].startswith("redis:")
    assert services["api"]["image"] == services["queue"]["image"]  # one image, two roles


def test_every_service_has_a_healthcheck_restart_policy_and_resource_limits(
    services: dict[str, dict[str, Any]],
) -> None:
    for name, service in services.items():
        check = service.get("healthcheck", {})
        assert check.get("test") and not check.get("disable"), f"{name}: no healthcheck"
        assert check["test"][0] in ("CMD", "CMD-SHELL"), f"{name}: {check['test']}"
        assert service.get("restart", "no").startswith(_RESTARTS), f"{name}: restart policy"
        limits = service.get("deploy", {}).get("resources", {}).get("limits", {})
        assert limits.get("cpus") and limits.get("memory"), f"{name}: no cpu/memory limits"


def test_services_start_only_after_their_dependencies_are_healthy(
    services: dict[str, dict[str, Any]],
) -> None:
    assert {"postgres", "redis"} <= set(services["api"]["depends_on"])
    assert {"postgres", "redis", "api"} <= set(services["queue"]["depends_on"])
    for name, service in services.items():
        depends_on = service.get("depends_on", {})
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for dependency, rule in depends_on.items():
            assert rule.get("condition") == _HEALTHY, f"{name} -> {dependency}: {rule}"
            assert "healthcheck" in services[dependency], dependency


def test_state_lives_on_a_named_volume_and_nowhere_else(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    declared = set(compose.get("volumes", {}))
    mounts = {name: service.get("volumes", []) for name, service in services.items()}
    assert any(m.endswith(":/var/lib/postgresql/data") for m in mounts["postgres"])
    for name, volumes in mounts.items():
        for mount in volumes:
            source = mount.split(":", 1)[0]
            assert source in declared, f"{name}: {mount} is not a declared named volume"
    assert not mounts["api"] and not mounts["queue"]  # the server keeps its state in Postgres
    # Redis holds only pub/sub and wake-ups; it must not pretend to persist without a volume.
    assert not mounts["redis"]
    command = services["redis"]["command"]
    assert command[command.index("--appendonly") + 1] == "no"
    assert command[command.index("--save") + 1] == ""


def _health_url(service: dict[str, Any]) -> str:
    test = " ".join(service["healthcheck"]["test"])
    match = re.search(r"http://127\.0\.0\.1:(\d+)(/\S*?)['\"]", test)
    assert match, test
    assert match.group(1) == _environment(service)["PORT"], "healthcheck port != PORT"
    return match.group(2)


def test_the_api_serves_http_only_and_checks_its_ok_endpoint(
    services: dict[str, dict[str, Any]],
) -> None:
    api = services["api"]
    environment = _environment(api)
    assert environment["N_JOBS_PER_WORKER"] == "0"
    assert _health_url(api) == "/ok"
    assert "entrypoint" not in api and "command" not in api  # the image's own API entrypoint
    (published,) = api["ports"]
    assert published.endswith(":8000") and environment["PORT"] == "8000"


def test_queue_workers_run_the_runs_and_scale(services: dict[str, dict[str, Any]]) -> None:
    queue = services["queue"]
    environment = _environment(queue)
    assert queue["entrypoint"] == ["/storage/queue_entrypoint.sh"]
    assert int(_default(environment["N_JOBS_PER_WORKER"])) > 0
    assert _health_url(queue) == "/ok"
    # --scale needs no fixed name and no published port; replicas gives the default count.
    assert "container_name" not in queue and "ports" not in queue
    assert int(_default(str(queue["deploy"]["replicas"]))) >= 1


def test_api_and_workers_share_one_configuration(services: dict[str, dict[str, Any]]) -> None:
    api, queue = _environment(services["api"]), _environment(services["queue"])
    role = {"PORT", "N_JOBS_PER_WORKER"}
    assert {k: v for k, v in api.items() if k not in role} == {
        k: v for k, v in queue.items() if k not in role
    }
    assert "@postgres:5432/" in _default(api["DATABASE_URI"])
    assert _default(api["REDIS_URI"]).startswith("redis://redis:6379/")
    for licence in ("LANGSMITH_API_KEY", "LANGGRAPH_CLOUD_LICENSE_KEY"):
        assert licence in api
    assert _default(api["LANGSMITH_TRACING"]) == "false"  # no health data to LangSmith by default
    assert _default(api["AUREN_AUTH_MODE"]) == "required"  # never open when keys are missing


def test_no_service_runs_the_dev_saver(services: dict[str, dict[str, Any]]) -> None:
    """AUREN_POSTGRES_URI drives langgraph.json's custom saver; the image must not get it."""
    for name, service in services.items():
        assert "AUREN_POSTGRES_URI" not in _environment(service), name


def _env_example_names() -> dict[str, str | None]:
    """Variables .env.example lists: NAME -> value when set, None when commented out."""
    names: dict[str, str | None] = {}
    for line in ENV_EXAMPLE.read_text().splitlines():
        match = re.fullmatch(r"(#\s*)?([A-Z][A-Z0-9_]*)=(.*)", line.strip())
        if match:
            names.setdefault(match.group(2), None if match.group(1) else match.group(3))
    return names


def test_every_compose_variable_is_in_env_example(compose: dict[str, Any]) -> None:
    used = set().union(*(interpolated_variables(text) for text in _strings(compose)))
    assert used, "no variables found: the parser is broken"
    listed = _env_example_names()
    assert sorted(used - listed.keys()) == []
    assert sorted(listed.keys() - used) == []  # nothing stale either
    # Placeholders only: no value, secret or not, is committed.
    assert {name: value for name, value in listed.items() if value} == {}


def test_every_compose_variable_is_in_the_readme(compose: dict[str, Any]) -> None:
    used = set().union(*(interpolated_variables(text) for text in _strings(compose)))
    readme = README.read_text()
    missing = sorted(name for name in used if not re.search(rf"\b{name}\b", readme))
    assert missing == [], f"README.md does not document {missing}"


def test_smoke_script_is_strict_and_always_brings_the_stack_down() -> None:
    assert os.access(SMOKE, os.X_OK), f"{SMOKE} is not executable"
    text = SMOKE.read_text()
    assert text.startswith("#!/usr/bin/env bash\n")
    assert "set -euo pipefail" in text
    assert re.search(r"^trap .*\bEXIT\b", text, re.MULTILINE)
    assert "compose down" in text or 'compose" down' in text or "compose[@]} down" in text
    assert f"-c {IMAGE_CONFIG}" in text  # the image is built from the image config
    result = subprocess.run(["bash", "-n", str(SMOKE)], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr
