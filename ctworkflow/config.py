"""Settings: one object, read from ``CTW_*`` environment variables; nothing else reads them.

With nothing set, everything runs embedded: SQLite files and a server-less broker in a local
data folder. Point ``CTW_DATABASE_URL`` at PostgreSQL and ``CTW_BROKER_URL`` at Redis and the
same code runs distributed.

A setting can also be a file named after its variable in lower case (``ctw_database_url``) in
the secrets folder, ``/run/secrets`` (where Docker mounts ``secrets:``) unless
``CTW_SECRETS_DIR`` names another: credentials then never sit in the environment. An
environment variable wins over a file.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any, Final, Literal

from pydantic import SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ctworkflow import errors
from ctworkflow.domain.retry import RetryPolicy
from ctworkflow.logs import FORMATS as LOG_FORMATS
from ctworkflow.logs import LEVELS as LOG_LEVELS

MIB: Final = 1 << 20


def _default_data_dir() -> Path:
    return Path.home() / ".local" / "share" / "ctworkflow"


class Settings(BaseSettings):
    """Every setting of ctworkflow (environment variable: ``CTW_`` + the upper-cased name)."""

    model_config = SettingsConfigDict(env_prefix="CTW_", extra="ignore", frozen=True)

    #: Folder for the embedded database, broker and results, and the workers' git cache.
    data_dir: Path = _default_data_dir()
    #: SQLAlchemy URL of the database; empty means SQLite in ``data_dir``.
    database_url: str = ""
    #: Celery broker URL; empty means the server-less SQLite broker in ``data_dir``.
    broker_url: str = ""
    #: Celery result backend (chord counters); empty means Redis DB+1 of a Redis broker,
    #: else SQLite in ``data_dir``.
    result_backend: str = ""
    #: How long one broker connection attempt or command may block; a publish tries three
    #: times, so it gives up after about three times this.
    broker_timeout_s: float = 5.0
    #: Where workers keep mirror clones and worktrees; empty means ``data_dir/workspaces``.
    workspace_dir: Path | None = None

    #: Where workers build the targets' environments (one per project and recipe, shared by
    #: every run on the host); empty means ``data_dir/environments``.
    environment_dir: Path | None = None
    #: The installers' download cache (uv's, pip's), shared by every build of the host; empty
    #: means ``<environment_dir>/.cache``.
    environment_cache_dir: Path | None = None
    #: Time limit of one environment build (installing a target's dependencies).
    environment_timeout_s: float = 1800.0

    #: Fan-out rounds of a context session (and attempts of any other step).
    max_attempts: int = 3
    #: Times a component session hands failing tests back to its agent.
    max_fix_rounds: int = 2
    #: Delay before the second spawn round; doubled for each later one, up to the cap.
    retry_backoff_s: float = 2.0
    retry_backoff_cap_s: float = 300.0

    #: Default agent and its time limit per run.
    agent: str = "scaffold"
    agent_timeout_s: float = 900.0
    #: Time limit of one test run.
    test_timeout_s: float = 600.0

    #: Time limits of one component run (Celery soft and hard limits) and the broker's
    #: visibility timeout; they must grow in this order.
    component_soft_time_limit_s: float = 3000.0
    component_time_limit_s: float = 3300.0
    visibility_timeout_s: float = 3600.0

    #: A component run's lease: renewed while it runs; a run silent this long is taken over.
    lease_ttl_s: float = 30.0
    #: Runs of one component lost with their worker before the component is failed.
    max_worker_losses: int = 3
    #: A pool process whose resident memory has peaked above this many MB is replaced by a
    #: fresh one once its task ends (Celery's ``worker_max_memory_per_child``), so the memory
    #: of a wide round's spawn or validation is not carried into the next task; 0 for never.
    worker_max_memory_mb: int = 128
    #: How often the reconciler looks for sessions that stopped moving (Celery beat).
    reconcile_interval_s: float = 30.0
    #: How long a step, round or component run may sit still before the reconciler re-drives it.
    stale_after_s: float = 120.0

    #: How agents, test runs, environment builds and validation runs are contained:
    #: ``bubblewrap`` (the default) or ``none``, which must be set explicitly; a worker with
    #: ``none`` logs a warning at start.
    sandbox: Literal["bubblewrap", "none"] = "bubblewrap"
    #: Limits of every process of a sandboxed run, 0 for none: CPU seconds, memory (data
    #: segment, bytes) and the largest file it may write (bytes).
    sandbox_cpu_s: int = 3600
    sandbox_memory_bytes: int = 4096 * MIB
    sandbox_file_size_bytes: int = 1024 * MIB
    #: Folders of the worker a command agent may also write (its own state, e.g. ``~/.claude``);
    #: credential files inside one stay hidden unless the folder is inside them.
    sandbox_agent_paths: tuple[Path, ...] = ()
    #: Files and folders no run may see, besides ctworkflow's own data and well-known
    #: credential files (``~/.ssh``, ``~/.netrc`` ...), which are always hidden.
    sandbox_hidden_paths: tuple[Path, ...] = ()

    #: Size limits: a test file, each output stream of an agent or a test run, a test run's
    #: report, and an artifact (test file and report) as stored. Beyond one, the component fails.
    max_test_file_bytes: int = MIB
    max_output_bytes: int = 8 * MIB
    max_report_bytes: int = 16 * MIB
    max_artifact_bytes: int = 2 * MIB

    #: Log level of every process; empty means INFO for workers, beat and the server, and
    #: ERROR for other ``ctw`` commands, whose output is their answer (``ctworkflow.logs``).
    log_level: str = ""
    #: ``text``, or ``json``: one JSON object per line with the session, step, attempt and
    #: component of the work in hand.
    log_format: str = "text"

    #: The server key webhook signing secrets are derived from (HMAC of it over a webhook's
    #: id), so the database holds no secret; empty refuses to create or sign webhooks.
    webhook_key: SecretStr = SecretStr("")
    #: Sends of one webhook event before its delivery is given up as failed.
    webhook_max_attempts: int = 8
    #: Delay before the second send of an event, doubled for each later one, up to the cap.
    webhook_backoff_s: float = 5.0
    webhook_backoff_cap_s: float = 3600.0
    #: Time limit of one send (connect and response).
    webhook_timeout_s: float = 10.0
    #: How often Celery beat looks for deliveries whose send was lost.
    webhook_sweep_interval_s: float = 15.0
    #: Largest request body the HTTP API reads; past it the request is refused with 413.
    api_max_body_bytes: int = 65536

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        if value and value.upper() not in LOG_LEVELS:
            raise ValueError(
                f"{value!r} is not a level: use one of {', '.join(LOG_LEVELS)}, or leave it empty"
            )
        return value

    @field_validator("log_format")
    @classmethod
    def _log_format(cls, value: str) -> str:
        if value not in LOG_FORMATS:
            raise ValueError(f"{value!r}: use text or json")
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        self._check_time_limits()
        self._check_limits_and_sizes()
        self._check_retries()
        return self

    def _check_time_limits(self) -> None:
        soft, hard = self.component_soft_time_limit_s, self.component_time_limit_s
        visibility = self.visibility_timeout_s
        if soft <= 0:
            raise ValueError("CTW_COMPONENT_SOFT_TIME_LIMIT_S must be positive")
        if hard <= soft:
            raise ValueError(
                f"CTW_COMPONENT_TIME_LIMIT_S ({hard:g}) must be above "
                f"CTW_COMPONENT_SOFT_TIME_LIMIT_S ({soft:g}): raise the first or lower the second"
            )
        if visibility <= hard:
            raise ValueError(
                f"CTW_VISIBILITY_TIMEOUT_S ({visibility:g}) must be above "
                f"CTW_COMPONENT_TIME_LIMIT_S ({hard:g}), or Redis hands a running component "
                "to a second worker: raise CTW_VISIBILITY_TIMEOUT_S or lower the time limits"
            )
        if (
            min(
                self.lease_ttl_s,
                self.reconcile_interval_s,
                self.stale_after_s,
                self.broker_timeout_s,
            )
            <= 0
        ):
            raise ValueError(
                "CTW_LEASE_TTL_S, CTW_RECONCILE_INTERVAL_S, CTW_STALE_AFTER_S and "
                "CTW_BROKER_TIMEOUT_S must be positive"
            )
        if self.max_worker_losses < 1:
            raise ValueError("CTW_MAX_WORKER_LOSSES must be at least 1")

    def _check_limits_and_sizes(self) -> None:
        limits = {
            "CTW_SANDBOX_CPU_S": self.sandbox_cpu_s,
            "CTW_SANDBOX_MEMORY_BYTES": self.sandbox_memory_bytes,
            "CTW_SANDBOX_FILE_SIZE_BYTES": self.sandbox_file_size_bytes,
            "CTW_WORKER_MAX_MEMORY_MB": self.worker_max_memory_mb,
        }
        for name, value in limits.items():
            if value < 0:
                raise ValueError(f"{name} must be 0 (no limit) or positive")
        sizes = {
            "CTW_MAX_TEST_FILE_BYTES": self.max_test_file_bytes,
            "CTW_MAX_OUTPUT_BYTES": self.max_output_bytes,
            "CTW_MAX_REPORT_BYTES": self.max_report_bytes,
            "CTW_MAX_ARTIFACT_BYTES": self.max_artifact_bytes,
        }
        for name, value in sizes.items():
            if value < 1:
                raise ValueError(f"{name} must be positive")

    def _check_retries(self) -> None:
        if self.webhook_max_attempts < 1 or self.api_max_body_bytes < 1:
            raise ValueError(
                "CTW_WEBHOOK_MAX_ATTEMPTS and CTW_API_MAX_BODY_BYTES must be at least 1"
            )
        if min(self.webhook_backoff_s, self.webhook_timeout_s, self.webhook_sweep_interval_s) <= 0:
            raise ValueError(
                "CTW_WEBHOOK_BACKOFF_S, CTW_WEBHOOK_TIMEOUT_S and CTW_WEBHOOK_SWEEP_INTERVAL_S "
                "must be positive"
            )
        if self.max_attempts < 1 or self.max_fix_rounds < 0:
            raise ValueError(
                "CTW_MAX_ATTEMPTS must be at least 1 and CTW_MAX_FIX_ROUNDS at least 0"
            )

    @property
    def step_retry(self) -> RetryPolicy:
        """The router's rounds: ``CTW_MAX_ATTEMPTS`` tries, ``CTW_RETRY_BACKOFF_S`` doubled."""
        return RetryPolicy(
            initial_s=self.retry_backoff_s,
            cap_s=self.retry_backoff_cap_s,
            attempts=self.max_attempts,
        )

    @property
    def webhook_retry(self) -> RetryPolicy:
        """A webhook event's sends: ``CTW_WEBHOOK_MAX_ATTEMPTS``, ``CTW_WEBHOOK_BACKOFF_S`` up."""
        return RetryPolicy(
            initial_s=self.webhook_backoff_s,
            cap_s=self.webhook_backoff_cap_s,
            attempts=self.webhook_max_attempts,
        )

    @property
    def sqlalchemy_url(self) -> str:
        """The database URL, with ``postgres://`` normalised to psycopg 3."""
        url = self.database_url or f"sqlite:///{self.data_dir / 'ctworkflow.sqlite3'}"
        for prefix in ("postgres://", "postgresql://"):
            if url.startswith(prefix):
                return "postgresql+psycopg://" + url[len(prefix) :]
        return url

    @property
    def celery_broker_url(self) -> str:
        """The broker URL, embedded by default."""
        return self.broker_url or f"sqla+sqlite:///{self.data_dir / 'broker.sqlite3'}"

    @property
    def celery_result_backend(self) -> str:
        """The result backend: Redis next to a Redis broker, else SQLite."""
        if self.result_backend:
            return self.result_backend
        broker = self.celery_broker_url
        if broker.startswith(("redis://", "rediss://")):
            base, _, db = broker.rpartition("/")
            return f"{base}/{int(db) + 1}" if db.isdigit() else f"{broker.rstrip('/')}/1"
        return f"db+sqlite:///{self.data_dir / 'results.sqlite3'}"

    @property
    def embedded(self) -> bool:
        """Tell whether the broker is the server-less one (single host)."""
        return not self.broker_url

    @property
    def environments(self) -> Path:
        """Where the targets' environments are built."""
        return self.environment_dir or self.data_dir / "environments"

    @property
    def environment_cache(self) -> Path:
        """The installers' download cache."""
        return self.environment_cache_dir or self.environments / ".cache"

    @property
    def workspaces(self) -> Path:
        """Folder of the per-host git cache."""
        return self.workspace_dir or self.data_dir / "workspaces"


def _describe(error: Any) -> str:
    message = str(error["msg"]).removeprefix("Value error, ")
    where = ".".join(str(p) for p in error["loc"])
    return f"CTW_{where.upper()}: {message}" if where else message


#: Where Docker mounts secrets; ``CTW_SECRETS_DIR`` names another folder.
SECRETS_DIR = Path("/run/secrets")


@functools.cache
def get_settings() -> Settings:
    """Return the settings, read once; raise ConfigurationError with one line if invalid."""
    secrets = Path(os.environ.get("CTW_SECRETS_DIR") or SECRETS_DIR)
    try:
        return Settings(_secrets_dir=secrets) if secrets.is_dir() else Settings()  # type: ignore[call-arg]
    except ValidationError as exc:
        problems = "; ".join(_describe(e) for e in exc.errors())
        raise errors.ConfigurationError(f"invalid settings: {problems}") from exc
