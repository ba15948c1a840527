"""Integration fixtures: the real PostgreSQL and Redis, Celery workers as subprocesses.

Each test gets its own database (cloned from one migrated template, so workers, the
coordinator and the test read the same rows) and its own Redis queue. Every process a test
starts runs in its own session and is killed with its process group afterwards, pass or fail.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import pytest
import redis

from inventory.sample_archive import build_sample_archive, make_camera_corpus

REPO = Path(__file__).resolve().parents[2]
PYTHON = sys.executable
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/postgres"
REDIS_URL = os.environ.get("PROVENA_IT_REDIS_URL", "redis://127.0.0.1:6379/15")
# Settings a test's processes must not inherit from the shell that runs pytest.
_OWN_SETTINGS = ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "PROVENA_")


def _admin_url() -> str:
    """Return a URL of the PostgreSQL server's maintenance database."""
    url = os.environ.get("DATABASE_URL", "")
    if not url.startswith(("postgres://", "postgresql://")):
        url = DEFAULT_PG
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/postgres"))


def _database_url(name: str) -> str:
    return urlunsplit(urlsplit(_admin_url())._replace(path=f"/{name}"))


@pytest.fixture(scope="session")
def services() -> None:
    """Require PostgreSQL and Redis: fail when CI=true, skip otherwise."""
    problems = []
    try:
        psycopg.connect(_admin_url(), connect_timeout=3).close()
    except psycopg.Error as exc:
        problems.append(f"PostgreSQL ({_admin_url()}): {str(exc).strip()}")
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        problems.append(f"Redis ({REDIS_URL}): {exc}")
    if problems:
        message = "the integration tests need PostgreSQL and Redis: " + "; ".join(problems)
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)


def _admin(sql: str) -> None:
    with psycopg.connect(_admin_url(), autocommit=True) as conn:
        conn.execute(sql)


def clean_env(**settings: str) -> dict[str, str]:
    """Return the environment for a Provena subprocess: this one's, minus its settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_OWN_SETTINGS)}
    env.update({"SECRET_KEY": "integration-test-only", "PYTHONUNBUFFERED": "1", **settings})
    return env


def manage(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    """Run manage.py in a subprocess and return what it did (output captured)."""
    return subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.fixture(scope="session")
def template_database(services) -> str:
    """Create and migrate one database per session; tests clone it. Return its name."""
    name = f"provena_it_{secrets.token_hex(4)}_template"
    _admin(f'CREATE DATABASE "{name}"')
    try:
        done = manage(clean_env(DATABASE_URL=_database_url(name)), "migrate", "--noinput")
        assert done.returncode == 0, done.stderr[-3000:]
        yield name
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def new_database(template_database):
    """Return a function that creates a migrated database and returns its URL."""
    created: list[str] = []

    def create() -> str:
        name = f"{template_database.removesuffix('_template')}_{len(created)}_{os.getpid()}"
        _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
        created.append(name)
        return _database_url(name)

    yield create
    for name in created:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@dataclass(frozen=True)
class Tree:
    """The scanned folder and the allowed root above it."""

    root: Path
    allowed: Path


@pytest.fixture(scope="session")
def tree(tmp_path_factory) -> Tree:
    """Build ~60 files: the sample newsroom (with its bad files) plus small camera JPEGs."""
    allowed = tmp_path_factory.mktemp("integration") / "archives"
    root = build_sample_archive(allowed)["newsroom"]
    corpus = root / "corpus"
    make_camera_corpus(corpus, 40, megapixels=0.3, seed=5)
    for path in sorted(corpus.iterdir())[:10]:
        shutil.copy2(path, corpus / f"copy_of_{path.name}")
    return Tree(root=root, allowed=allowed)


# --- reading a database back -----------------------------------------------------------------


def query(url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(url) as conn:
        return conn.execute(sql, params).fetchall()


def inventory(url: str) -> set[tuple]:
    """Return every copy as (source, path, size, sha256, state, problem, pixel_hash)."""
    return set(
        query(
            url,
            "SELECT s.name, c.path, c.size, c.sha256, c.state, c.problem, r.pixel_hash "
            "FROM inventory_copy c JOIN inventory_source s ON s.id = c.source_id "
            "LEFT JOIN inventory_rendition r ON r.id = c.rendition_id",
        )
    )


def findings(env: dict[str, str]) -> dict:
    """Return the findings export without its generation time."""
    done = manage(env, "export_findings", "--format", "json")
    assert done.returncode == 0, done.stderr[-3000:]
    document = json.loads(done.stdout)
    document.pop("generated_at")
    return document


def copy_events(url: str) -> Counter:
    """Return how many events of each kind the copies got."""
    return Counter(
        dict(
            query(
                url,
                "SELECT event_type, COUNT(*) FROM governance_auditevent "
                "WHERE object_type = 'copy' GROUP BY event_type",
            )
        )
    )


@dataclass(frozen=True)
class Reference:
    """What an in-process scan of the tree recorded."""

    inventory: set[tuple]
    findings: dict
    copy_events: Counter


@pytest.fixture(scope="session")
def reference(tree: Tree, template_database, tmp_path_factory) -> Reference:
    """Scan the tree in-process (no broker, one process) into a fresh database."""
    name = f"{template_database.removesuffix('_template')}_reference"
    _admin(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"')
    try:
        url = _database_url(name)
        env = clean_env(
            DATABASE_URL=url,
            PROVENA_ALLOWED_ROOTS=str(tree.allowed),
            PROVENA_MEDIA_ROOT=str(tmp_path_factory.mktemp("media-reference")),
        )
        done = manage(env, "scan", str(tree.root), "--workers", "1", "--no-progress")
        assert done.returncode == 0, done.stderr[-3000:]
        yield Reference(inventory(url), findings(env), copy_events(url))
    finally:
        _admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# --- a broker queue, workers and a coordinator -----------------------------------------------


@dataclass
class Cluster:
    """One database, one Redis queue, and the processes a test starts against them."""

    url: str
    queue: str
    tree: Tree
    folder: Path
    settings: dict[str, str] = field(default_factory=dict)
    processes: list[tuple[subprocess.Popen, Path]] = field(default_factory=list)

    def env(self, **extra: str) -> dict[str, str]:
        return clean_env(
            DATABASE_URL=self.url,
            CELERY_BROKER_URL=REDIS_URL,
            PROVENA_CELERY_QUEUE=self.queue,
            PROVENA_ALLOWED_ROOTS=str(self.tree.allowed),
            PROVENA_MEDIA_ROOT=str(self.folder / "media"),
            **self.settings,
            **extra,
        )

    def _start(self, args: list[str], log_name: str, env: dict[str, str]) -> subprocess.Popen:
        log = self.folder / log_name
        with log.open("ab") as out:
            proc = subprocess.Popen(
                args,
                cwd=REPO,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group, killed as one
            )
        self.processes.append((proc, log))
        return proc

    def start_worker(self, name: str) -> subprocess.Popen:
        """Start a solo Celery worker on this queue and wait until it says it is ready."""
        proc = self._start(
            [PYTHON, "-m", "celery", "-A", "governance", "worker", "--pool=solo",
             "--concurrency=1", "-Q", self.queue, "-n", f"{name}-{self.queue}@%h",
             "--without-heartbeat", "--without-gossip", "--without-mingle",
             "--loglevel=INFO"],
            f"worker-{name}.log",
            self.env(),
        )  # fmt: skip
        log = self.folder / f"worker-{name}.log"
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if " ready." in log.read_text(errors="replace"):
                return proc
            assert proc.poll() is None, f"worker {name} exited:\n{self.logs()}"
            time.sleep(0.1)
        raise AssertionError(f"worker {name} did not become ready:\n{self.logs()}")

    def start_scan(self, *args: str) -> subprocess.Popen:
        """Start `manage.py scan` of the tree (the coordinator) in the background."""
        return self._start(
            [PYTHON, "manage.py", "scan", str(self.tree.root), "--no-progress", *args],
            "scan.log",
            self.env(),
        )

    def wait(self, proc: subprocess.Popen, timeout: float = 90) -> int:
        try:
            return proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError(f"still running after {timeout} s:\n{self.logs()}") from None

    def log(self, name: str) -> str:
        return (self.folder / name).read_text(errors="replace")

    def logs(self, tail: int = 3000) -> str:
        return "\n".join(
            f"--- {log.name}\n{log.read_text(errors='replace')[-tail:]}"
            for _, log in self.processes
        )

    def kill(self, proc: subprocess.Popen) -> None:
        """SIGKILL the process and its whole group, and reap it."""
        if proc.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()

    def close(self) -> None:
        for proc, _ in self.processes:
            self.kill(proc)
        broker = redis.Redis.from_url(REDIS_URL)
        # The queue, kombu's bindings for it and its workers' remote-control queues.
        for key in broker.scan_iter(f"*{self.queue}*"):
            broker.delete(key)
        mine = self.queue.encode()
        for member in broker.zrange("_kombu.binding_deadlines", 0, -1):
            if mine in member:
                broker.zrem("_kombu.binding_deadlines", member)
        for member in broker.smembers("_kombu.binding.celery.pidbox"):
            if mine in member:
                broker.srem("_kombu.binding.celery.pidbox", member)
        # Messages a killed worker held: drop the ones addressed to this queue.
        for tag, payload in broker.hgetall("unacked").items():
            if self.queue.encode() in payload:
                broker.hdel("unacked", tag)
                broker.zrem("unacked_index", tag)


@pytest.fixture
def cluster(new_database, tree: Tree, tmp_path: Path):
    """Return a Cluster on a fresh database and queue; its processes die with the test."""
    folder = tmp_path / "cluster"
    (folder / "media").mkdir(parents=True)
    running = Cluster(
        url=new_database(),
        queue=f"provena-it-{secrets.token_hex(4)}",
        tree=tree,
        folder=folder,
        settings={"PROVENA_SCAN_BATCH_SIZE": "4"},
    )
    try:
        yield running
    finally:
        running.close()
