"""Throwaway PostgreSQL and Redis servers on free loopback ports.

Used by the test suite (and the benchmark command) to get servers of their own instead of the
ones that may already run on the standard ports 5432 and 6379, which are never touched.

- :func:`start_postgres` runs ``initdb`` then ``pg_ctl start`` from the installed server
  binaries (``/usr/lib/postgresql/<highest version>/bin``, else ``pg_config --bindir``) in a
  fresh temporary folder. PostgreSQL refuses to run as root, so when this process is root the
  binaries run as the ``postgres`` OS user (through ``runuser``, found by its absolute path)
  and the data, socket and log paths are handed over to that user.
- :func:`start_redis` runs ``redis-server`` in the foreground, without persistence.

Both return a server object that can be stopped, started again on the same port, restarted
(fault tests) and destroyed (stopped and its temporary folder removed). The context managers
:func:`running_postgres` and :func:`running_redis` destroy the server when they exit. Nothing is
registered globally: a server that is never destroyed keeps running.

Only processes started here are ever stopped: Redis by the id of the process we spawned,
PostgreSQL through ``pg_ctl`` on our own data folder.
"""

from __future__ import annotations

import logging
import math
import os
import pwd
import secrets
import shlex
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Protocol
from urllib.parse import quote

import psycopg
import redis
from psycopg import sql
from psycopg.conninfo import make_conninfo
from redis.backoff import NoBackoff
from redis.retry import Retry

from ctworkflow.errors import ConfigurationError

__all__ = [
    "DEFAULT_TIMEOUT",
    "HOST",
    "PostgresServer",
    "RedisServer",
    "ServerUnavailable",
    "find_postgres_bindir",
    "find_redis_server",
    "free_port",
    "running_postgres",
    "running_redis",
    "start_postgres",
    "start_redis",
]

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
"""Every server listens on the loopback interface only."""

DEFAULT_TIMEOUT = 30.0
"""Seconds a server gets to start (or stop) before we give up."""

POSTGRES_LIB_DIR = Path("/usr/lib/postgresql")
POSTGRES_OS_USER = "postgres"
POSTGRES_SUPERUSER = "postgres"
STANDARD_PORTS = frozenset({5432, 6379})

_PORT_ATTEMPTS = 3
_LOG_TAIL_LINES = 20
_UNIX_SOCKET_PATH_MAX = 107  # sizeof(sockaddr_un.sun_path) - 1 on Linux
_POSTGRES_BINARIES = ("initdb", "pg_ctl", "postgres")
_POSTGRES_SETTINGS = (
    f"listen_addresses={HOST}",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
)


class ServerUnavailable(ConfigurationError):
    """A throwaway server could not be started or stopped."""


# --------------------------------------------------------------------------- helpers


def free_port() -> int:
    """A TCP port nobody listens on right now on the loopback interface.

    The kernel picks it (bind to port 0); the standard PostgreSQL and Redis ports are never
    returned, even if they happen to be free.
    """
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
            sock.bind((HOST, 0))
            port: int = sock.getsockname()[1]
        if port not in STANDARD_PORTS:
            return port


def _log_tail(path: Path, offset: int = 0, lines: int = _LOG_TAIL_LINES) -> str:
    """The last ``lines`` lines of the log written after byte ``offset``."""
    try:
        with path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode("utf-8", errors="replace")
    except OSError as error:
        return f"(cannot read {path}: {error})"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join(tail) if tail else "(empty)"


def _log_size(path: Path) -> int:
    try:
        return path.stat().st_size
    except OSError:
        return 0


class _Server(Protocol):
    port: int
    log_path: Path

    def start(self) -> None: ...


def _start_on_free_port(server: _Server) -> None:
    """Start ``server``, moving to another free port if someone took its port meanwhile."""
    for attempt in range(1, _PORT_ATTEMPTS + 1):
        offset = _log_size(server.log_path)
        try:
            server.start()
        except ServerUnavailable:
            log_text = _log_tail(server.log_path, offset)
            if "Address already in use" not in log_text or attempt == _PORT_ATTEMPTS:
                raise
            logger.debug("port %d was taken meanwhile, trying another one", server.port)
            server.port = free_port()
        else:
            return


def _clean_env() -> dict[str, str]:
    """Our environment without libpq's ``PG*`` variables, which must not steer the servers."""
    return {key: value for key, value in os.environ.items() if not key.startswith("PG")}


def _version_key(name: str) -> tuple[int, ...] | None:
    try:
        return tuple(int(part) for part in name.split("."))
    except ValueError:
        return None


def _has_postgres_binaries(bindir: Path) -> bool:
    return all(os.access(bindir / name, os.X_OK) for name in _POSTGRES_BINARIES)


def _bindir_from_pg_config() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    try:
        result = subprocess.run(
            [pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    if result.returncode != 0 or not result.stdout.strip():
        return None
    return Path(result.stdout.strip())


def find_postgres_bindir(lib_dir: Path = POSTGRES_LIB_DIR) -> Path:
    """The folder of ``initdb``/``pg_ctl``/``postgres`` of the highest installed version.

    Looks under ``lib_dir/<version>/bin`` first, then asks ``pg_config --bindir``.
    """
    candidates: list[tuple[tuple[int, ...], Path]] = []
    if lib_dir.is_dir():
        for entry in lib_dir.iterdir():
            key = _version_key(entry.name)
            if key is not None and _has_postgres_binaries(entry / "bin"):
                candidates.append((key, entry / "bin"))
    if candidates:
        return max(candidates)[1]
    bindir = _bindir_from_pg_config()
    if bindir is not None and _has_postgres_binaries(bindir):
        return bindir
    raise ServerUnavailable(
        f"PostgreSQL server binaries not found under {lib_dir}/*/bin nor by pg_config: "
        "apt-get install -y postgresql"
    )


def find_redis_server() -> Path:
    """The ``redis-server`` executable found on ``PATH``."""
    found = shutil.which("redis-server")
    if found is None:
        raise ServerUnavailable("redis-server not found on PATH: apt-get install -y redis-server")
    return Path(found)


#: Where Debian and others install ``runuser`` (util-linux); root's PATH may lack ``/usr/sbin``.
RUNUSER_PATHS = (Path("/usr/sbin/runuser"), Path("/sbin/runuser"), Path("/usr/bin/runuser"))


def find_runuser(candidates: tuple[Path, ...] = RUNUSER_PATHS) -> Path:
    """The absolute path of ``runuser``, which starts PostgreSQL as its own user when we are
    root; ServerUnavailable naming the package when it is missing."""
    for candidate in candidates:
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which("runuser")
    if found is not None:
        return Path(found).absolute()
    where = ", ".join(str(c) for c in candidates)
    raise ServerUnavailable(
        f"runuser not found ({where} nor on PATH); PostgreSQL refuses to run as root and needs "
        "it to run as its own user: apt-get install -y util-linux"
    )


def _postgres_os_user() -> pwd.struct_passwd | None:
    """The account PostgreSQL runs as: ``postgres`` when we are root, else None (ourselves)."""
    if os.geteuid() != 0:
        return None
    try:
        return pwd.getpwnam(POSTGRES_OS_USER)
    except KeyError:
        raise ServerUnavailable(
            f"PostgreSQL refuses to run as root and there is no {POSTGRES_OS_USER!r} OS user "
            "to run it as: apt-get install -y postgresql"
        ) from None


def _can_traverse(path: Path, user: pwd.struct_passwd, groups: set[int]) -> bool:
    info = path.stat()
    if info.st_uid == user.pw_uid:
        return bool(info.st_mode & stat.S_IXUSR)
    if info.st_gid in groups:
        return bool(info.st_mode & stat.S_IXGRP)
    return bool(info.st_mode & stat.S_IXOTH)


def _check_reachable(folder: Path, user: pwd.struct_passwd) -> None:
    """Fail early when ``user`` cannot reach ``folder`` (e.g. under pytest's 0700 tmp_path)."""
    groups = set(os.getgrouplist(user.pw_name, user.pw_gid))
    for path in (folder, *folder.parents):
        if not _can_traverse(path, user, groups):
            raise ServerUnavailable(
                f"PostgreSQL runs as the {user.pw_name!r} OS user, which cannot enter {path}: "
                f"choose a base folder it can reach (e.g. {tempfile.gettempdir()})"
            )


# --------------------------------------------------------------------------- PostgreSQL


class PostgresServer:
    """A PostgreSQL cluster of our own in a temporary folder, listening on ``HOST:port``.

    Create it with :func:`start_postgres` or :func:`running_postgres`. The superuser is
    ``postgres``; a TCP connection needs its password (:attr:`password`, new for each server,
    in :meth:`url` and :meth:`conninfo`), as a deployment's does; only the server's own unix
    socket, in its private folder, is trusted.
    """

    def __init__(
        self,
        *,
        bindir: Path,
        base_dir: Path,
        port: int,
        os_user: pwd.struct_passwd | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.bindir = bindir
        self.base_dir = base_dir
        self.data_dir = base_dir / "data"
        self.socket_dir = base_dir / "run"
        self.log_path = base_dir / "postgres.log"
        self.port = port
        self.timeout = timeout
        self._os_user = os_user
        self._runuser = find_runuser() if os_user is not None else None
        self.password = secrets.token_hex(16)

    def __repr__(self) -> str:
        return f"PostgresServer(port={self.port}, base_dir={str(self.base_dir)!r})"

    # -- addresses

    def url(self, database: str = "postgres") -> str:
        """SQLAlchemy URL of ``database`` on this server (psycopg 3 driver)."""
        user = f"{POSTGRES_SUPERUSER}:{self.password}"
        return f"postgresql+psycopg://{user}@{HOST}:{self.port}/{quote(database)}"

    def conninfo(self, database: str = "postgres") -> str:
        """libpq connection string of ``database`` on this server."""
        return make_conninfo(
            host=HOST,
            port=self.port,
            user=POSTGRES_SUPERUSER,
            password=self.password,
            dbname=database,
        )

    def create_database(self, name: str, *, template: str | None = None) -> str:
        """Create database ``name`` (a copy of ``template`` if given); return its URL."""
        with psycopg.connect(
            self.conninfo(),
            autocommit=True,
            connect_timeout=math.ceil(self.timeout),
        ) as connection:
            statement = sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name))
            if template is not None:
                statement = sql.SQL("{} TEMPLATE {}").format(statement, sql.Identifier(template))
            connection.execute(statement)
        return self.url(name)

    # -- running the binaries

    def _argv(self, program: str, *args: str) -> list[str]:
        command = [str(self.bindir / program), *args]
        if self._os_user is None or self._runuser is None:
            return command
        return [str(self._runuser), "-u", self._os_user.pw_name, "--", *command]

    def _run(self, program: str, *args: str, timeout: float) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self._argv(program, *args),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            cwd=self.base_dir,
            env=_clean_env(),
        )

    def _pg_ctl(self, *args: str) -> subprocess.CompletedProcess[str]:
        wait = str(math.ceil(self.timeout))
        return self._run(
            "pg_ctl", "-D", str(self.data_dir), "-w", "-t", wait, *args, timeout=self.timeout + 10
        )

    def initdb(self) -> None:
        """Create the cluster in the (empty) data folder: TCP connections need the password."""
        password_file = self.base_dir / "password"
        password_file.write_text(self.password + "\n")
        password_file.chmod(0o600)
        if self._os_user is not None:
            os.chown(password_file, self._os_user.pw_uid, self._os_user.pw_gid)
        try:
            result = self._run(
                "initdb",
                "-D",
                str(self.data_dir),
                "-U",
                POSTGRES_SUPERUSER,
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                f"--pwfile={password_file}",
                "--encoding=UTF8",
                "--locale=C",
                "--no-sync",
                timeout=self.timeout,
            )
        except subprocess.TimeoutExpired:
            raise ServerUnavailable(f"initdb ran past {self.timeout}s in {self.data_dir}") from None
        finally:
            password_file.unlink(missing_ok=True)
        if result.returncode != 0:
            output = (result.stdout + result.stderr).strip()
            raise ServerUnavailable(f"initdb failed in {self.data_dir}:\n{output}")

    # -- life cycle

    def is_running(self) -> bool:
        """Whether a postmaster runs on our data folder (``pg_ctl status``)."""
        if not self.data_dir.is_dir():
            return False
        return self._run("pg_ctl", "-D", str(self.data_dir), "status", timeout=10).returncode == 0

    def start(self) -> None:
        """Start the server on :attr:`port`; does nothing if it already runs."""
        if not (self.data_dir / "PG_VERSION").is_file():
            raise ServerUnavailable(f"no PostgreSQL cluster in {self.data_dir} (destroyed?)")
        if self.is_running():
            return
        options = ["-p", str(self.port), "-k", str(self.socket_dir)]
        for setting in _POSTGRES_SETTINGS:
            options += ["-c", setting]
        offset = _log_size(self.log_path)
        try:
            result = self._pg_ctl("-o", shlex.join(options), "-l", str(self.log_path), "start")
            output = (result.stdout + result.stderr).strip()
            failed = result.returncode != 0
        except subprocess.TimeoutExpired:
            output, failed = f"pg_ctl ran past {self.timeout}s", True
        if failed:
            self._stop_after_failed_start()
            raise ServerUnavailable(
                f"PostgreSQL did not start on {HOST}:{self.port} ({output}); "
                f"last lines of {self.log_path}:\n{_log_tail(self.log_path, offset)}"
            )
        logger.debug("PostgreSQL started on %s:%d (%s)", HOST, self.port, self.base_dir)

    def _stop_after_failed_start(self) -> None:
        if (self.data_dir / "postmaster.pid").exists():
            with suppress(subprocess.TimeoutExpired):
                self._pg_ctl("-m", "immediate", "stop")

    def stop(self) -> None:
        """Fast shutdown (the data folder stays, :meth:`start` brings the server back)."""
        if not (self.data_dir / "postmaster.pid").exists():
            return
        messages = []
        for mode in ("fast", "immediate"):
            try:
                result = self._pg_ctl("-m", mode, "stop")
            except subprocess.TimeoutExpired:
                messages.append(f"{mode}: timed out")
                continue
            if result.returncode == 0 or not self.is_running():
                logger.debug("PostgreSQL stopped on %s:%d", HOST, self.port)
                return
            messages.append(f"{mode}: {(result.stdout + result.stderr).strip()}")
        raise ServerUnavailable(
            f"PostgreSQL on {HOST}:{self.port} did not stop ({'; '.join(messages)}); "
            f"last lines of {self.log_path}:\n{_log_tail(self.log_path)}"
        )

    def restart(self) -> None:
        """Stop then start again on the same port; the data persists."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server if it runs and remove its temporary folder (idempotent)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def _prepare_postgres_folder(base_dir: Path | None, os_user: pwd.struct_passwd | None) -> Path:
    if os_user is not None:
        _check_reachable(Path(base_dir or tempfile.gettempdir()).resolve(), os_user)
    folder = Path(tempfile.mkdtemp(prefix="ctw-postgres-", dir=base_dir)).resolve()
    folder.chmod(0o755)
    (folder / "data").mkdir(mode=0o700)
    (folder / "run").mkdir(mode=0o755)
    (folder / "postgres.log").touch(mode=0o644)
    if os_user is not None:
        for path in (folder / "data", folder / "run", folder / "postgres.log"):
            os.chown(path, os_user.pw_uid, os_user.pw_gid)
    socket_path = folder / "run" / ".s.PGSQL.65535"
    if len(str(socket_path)) > _UNIX_SOCKET_PATH_MAX:
        shutil.rmtree(folder, ignore_errors=True)
        raise ServerUnavailable(
            f"the unix socket path {socket_path} would be too long: choose a shorter base folder"
        )
    return folder


def start_postgres(
    base_dir: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> PostgresServer:
    """Create a cluster in a new temporary folder (inside ``base_dir`` if given) and start it.

    Raises :class:`ServerUnavailable` when the binaries are missing or the server does not
    come up within ``timeout`` seconds.
    """
    bindir = find_postgres_bindir()
    os_user = _postgres_os_user()
    folder = _prepare_postgres_folder(base_dir, os_user)
    server = PostgresServer(
        bindir=bindir, base_dir=folder, port=free_port(), os_user=os_user, timeout=timeout
    )
    try:
        server.initdb()
        _start_on_free_port(server)
    except BaseException:
        server.destroy()
        raise
    return server


@contextmanager
def running_postgres(
    base_dir: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[PostgresServer]:
    """A started :class:`PostgresServer`, destroyed on exit."""
    server = start_postgres(base_dir, timeout=timeout)
    try:
        yield server
    finally:
        server.destroy()


# --------------------------------------------------------------------------- Redis


def _redis_pid(port: int, password: str | None = None) -> int | None:
    """Process id of the Redis answering PING on ``port`` (None if nothing answers).

    Telling whose server answers matters while ours starts: another one may hold the port.
    """
    # No retries: redis-py's default retry policy takes seconds to give up on a refused port.
    client = redis.Redis(
        host=HOST,
        port=port,
        password=password,
        socket_connect_timeout=0.5,
        socket_timeout=0.5,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        if not client.ping():
            return None
        info = client.info("server")
        return int(info["process_id"])
    except (redis.RedisError, KeyError, TypeError, ValueError):
        return None
    finally:
        client.close()


class RedisServer:
    """A ``redis-server`` process of our own on ``HOST:port``, without persistence, that asks
    for a password (:attr:`password`, new for each server, in :meth:`url`), as a deployment's
    broker does.

    Create it with :func:`start_redis` or :func:`running_redis`.
    """

    def __init__(
        self,
        *,
        executable: Path,
        base_dir: Path,
        port: int,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.executable = executable
        self.base_dir = base_dir
        self.log_path = base_dir / "redis.log"
        self.port = port
        self.timeout = timeout
        self.password = secrets.token_hex(16)
        self._process: subprocess.Popen[bytes] | None = None

    def __repr__(self) -> str:
        return f"RedisServer(port={self.port}, base_dir={str(self.base_dir)!r})"

    @property
    def pid(self) -> int | None:
        """Process id of the running server, None when stopped."""
        return self._process.pid if self.is_running() and self._process is not None else None

    def url(self, db: int = 0) -> str:
        """``redis://`` URL of logical database ``db`` on this server."""
        return f"redis://:{self.password}@{HOST}:{self.port}/{db}"

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server on :attr:`port` (empty: nothing persists); no-op if it runs."""
        if self.is_running():
            return
        if not self.base_dir.is_dir():
            raise ServerUnavailable(f"{self.base_dir} is gone (destroyed?)")
        # The password in a file, not on the command line every process can read.
        config = self.base_dir / "redis.conf"
        config.write_text(f"requirepass {self.password}\n")
        config.chmod(0o600)
        argv = [
            str(self.executable),
            str(config),
            "--port",
            str(self.port),
            "--bind",
            HOST,
            "--save",
            "",
            "--appendonly",
            "no",
            "--daemonize",
            "no",
            "--dir",
            str(self.base_dir),
        ]
        offset = _log_size(self.log_path)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        problem = self._wait_until_ready()
        if problem is not None:
            self.stop()
            raise ServerUnavailable(
                f"Redis did not start on {HOST}:{self.port}: {problem}; "
                f"last lines of {self.log_path}:\n{_log_tail(self.log_path, offset)}"
            )
        logger.debug("Redis started on %s:%d (pid %s)", HOST, self.port, self.pid)

    def _wait_until_ready(self) -> str | None:
        """None once the server answers PING, else why it never will."""
        deadline = time.monotonic() + self.timeout
        while True:
            if self._process is None:
                return "not started"
            code = self._process.poll()
            if code is not None:
                return f"redis-server exited with code {code}"
            if _redis_pid(self.port, self.password) == self._process.pid:
                return None
            if time.monotonic() >= deadline:
                return f"it did not answer PING within {self.timeout}s"
            time.sleep(0.05)

    def stop(self) -> None:
        """Terminate our process (SIGTERM, then SIGKILL past the deadline); data is lost."""
        process, self._process = self._process, None
        if process is None:
            return
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=self.timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        logger.debug("Redis stopped on %s:%d", HOST, self.port)

    def restart(self) -> None:
        """Stop then start again on the same port, empty."""
        self.stop()
        self.start()

    def destroy(self) -> None:
        """Stop the server if it runs and remove its temporary folder (idempotent)."""
        try:
            self.stop()
        finally:
            shutil.rmtree(self.base_dir, ignore_errors=True)


def start_redis(base_dir: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT) -> RedisServer:
    """Start ``redis-server`` on a free port, its log in a new temporary folder.

    Raises :class:`ServerUnavailable` when ``redis-server`` is missing or does not answer PING
    within ``timeout`` seconds.
    """
    executable = find_redis_server()
    folder = Path(tempfile.mkdtemp(prefix="ctw-redis-", dir=base_dir))
    server = RedisServer(executable=executable, base_dir=folder, port=free_port(), timeout=timeout)
    try:
        _start_on_free_port(server)
    except BaseException:
        server.destroy()
        raise
    return server


@contextmanager
def running_redis(
    base_dir: Path | None = None, *, timeout: float = DEFAULT_TIMEOUT
) -> Iterator[RedisServer]:
    """A started :class:`RedisServer`, destroyed on exit."""
    server = start_redis(base_dir, timeout=timeout)
    try:
        yield server
    finally:
        server.destroy()
