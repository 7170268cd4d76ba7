"""Throwaway PostgreSQL and Redis servers (ctworkflow.servers)."""

from __future__ import annotations

import os
import socket
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg.conninfo import make_conninfo
from psycopg.rows import TupleRow
from redis.backoff import NoBackoff
from redis.retry import Retry

from ctworkflow.errors import ConfigurationError
from tests import servers
from tests.servers import (
    HOST,
    STANDARD_PORTS,
    PostgresServer,
    RedisServer,
    ServerUnavailable,
    find_postgres_bindir,
    find_redis_server,
    free_port,
    running_postgres,
    running_redis,
    start_postgres,
    start_redis,
)


def port_answers(port: int) -> bool:
    try:
        with socket.create_connection((HOST, port), timeout=1):
            return True
    except OSError:
        return False


@contextmanager
def listening_on(port: int) -> Iterator[socket.socket]:
    """Somebody else (this test) takes ``port`` on the loopback interface."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, port))
        sock.listen()
        yield sock


def pg_connect(server: PostgresServer, database: str = "postgres") -> psycopg.Connection[TupleRow]:
    return psycopg.connect(server.conninfo(database), connect_timeout=2, autocommit=True)


def redis_client(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(
        server.url(), socket_connect_timeout=1, socket_timeout=2, retry=Retry(NoBackoff(), 0)
    )


def pg_rows(
    server: PostgresServer, query: str, database: str = "postgres"
) -> list[tuple[object, ...]]:
    with pg_connect(server, database) as connection:
        return list(connection.execute(query).fetchall())


# --------------------------------------------------------------------------- PostgreSQL


@pytest.mark.integration
def test_both_servers_refuse_a_client_without_their_password(tmp_path: Path) -> None:
    with running_postgres() as postgres, running_redis(tmp_path) as broker:
        anonymous = make_conninfo(host="127.0.0.1", port=postgres.port, user="postgres")
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(anonymous, connect_timeout=2).close()
        assert pg_rows(postgres, "SELECT 1") == [(1,)]
        anonymous_client = redis.Redis(host="127.0.0.1", port=broker.port)
        with anonymous_client as client, pytest.raises(redis.AuthenticationError):
            client.ping()
        with redis_client(broker) as client:
            assert client.ping()


@pytest.mark.integration
def test_postgres_server_accepts_connections_and_keeps_data_across_restart() -> None:
    server = start_postgres()
    try:
        assert server.port not in STANDARD_PORTS
        user = f"postgres:{server.password}"
        assert server.url() == f"postgresql+psycopg://{user}@127.0.0.1:{server.port}/postgres"
        assert server.is_running()
        with psycopg.connect(
            f"host=127.0.0.1 port={server.port} user=postgres password={server.password} "
            "dbname=postgres"
        ) as connection:
            connection.execute("CREATE TABLE note (body text)")
            connection.execute("INSERT INTO note VALUES ('kept')")

        server.restart()

        assert pg_rows(server, "SELECT body FROM note") == [("kept",)]
        assert pg_rows(server, "SHOW fsync") == [("off",)]
        assert pg_rows(server, "SHOW max_connections") == [("200",)]
    finally:
        server.destroy()


@pytest.mark.integration
def test_postgres_server_creates_databases_stops_starts_and_is_gone_once_destroyed() -> None:
    server = start_postgres()
    base_dir = server.base_dir
    try:
        url = server.create_database("ctw_test")
        user = f"postgres:{server.password}"
        assert url == f"postgresql+psycopg://{user}@127.0.0.1:{server.port}/ctw_test"
        assert pg_rows(server, "SELECT current_database()", "ctw_test") == [("ctw_test",)]

        server.stop()
        assert not server.is_running()
        with pytest.raises(psycopg.OperationalError):
            pg_connect(server).close()
        server.stop()  # stopping a stopped server does nothing

        server.start()
        assert pg_rows(server, "SELECT count(*) FROM pg_database WHERE datname = 'ctw_test'") == [
            (1,)
        ]
    finally:
        server.destroy()

    assert not base_dir.exists()
    assert not port_answers(server.port)
    with pytest.raises(psycopg.OperationalError):
        pg_connect(server).close()
    server.destroy()  # idempotent
    with pytest.raises(ServerUnavailable, match="destroyed"):
        server.start()


@pytest.mark.integration
def test_postgres_start_on_a_taken_port_raises_server_unavailable_naming_the_log() -> None:
    with running_postgres() as server:
        server.stop()
        with listening_on(server.port), pytest.raises(ServerUnavailable) as raised:
            server.start()
        message = str(raised.value)
        assert str(server.log_path) in message
        assert "Address already in use" in message
        assert not server.is_running()

        server.start()  # the port is free again
        assert pg_rows(server, "SELECT 1") == [(1,)]


@pytest.mark.skipif(os.geteuid() != 0, reason="only root hands the folder to the postgres user")
def test_postgres_in_a_folder_the_postgres_user_cannot_enter_is_refused_up_front(
    tmp_path: Path,
) -> None:
    private = tmp_path / "private"
    private.mkdir(mode=0o700)
    with pytest.raises(ServerUnavailable, match="cannot enter"):
        start_postgres(private)
    assert list(private.iterdir()) == []


def test_missing_postgres_binaries_raise_server_unavailable_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no pg_config either
    with pytest.raises(ServerUnavailable, match="apt-get install -y postgresql") as raised:
        find_postgres_bindir(tmp_path)
    assert isinstance(raised.value, ConfigurationError)


def test_runuser_is_found_by_its_absolute_path_even_when_path_lacks_sbin(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("PATH", "/usr/local/bin:/usr/bin:/bin")
    found = servers.find_runuser()
    assert found.is_absolute() and os.access(found, os.X_OK) and found.name == "runuser"


def test_missing_runuser_raises_server_unavailable_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerUnavailable, match="apt-get install -y util-linux"):
        servers.find_runuser((tmp_path / "runuser",))


def test_postgres_binaries_of_the_highest_complete_version_are_chosen(tmp_path: Path) -> None:
    for version, programs in {
        "9.6": ("initdb", "pg_ctl", "postgres"),
        "15": ("initdb", "pg_ctl", "postgres"),
        "16": ("pg_ctl",),  # a client-only install: not a candidate
        "not-a-version": ("initdb", "pg_ctl", "postgres"),
    }.items():
        bindir = tmp_path / version / "bin"
        bindir.mkdir(parents=True)
        for program in programs:
            (bindir / program).touch(mode=0o755)
    assert find_postgres_bindir(tmp_path) == tmp_path / "15" / "bin"


# --------------------------------------------------------------------------- Redis


@pytest.mark.integration
def test_redis_server_answers_forgets_data_on_restart_and_is_gone_once_destroyed(
    tmp_path: Path,
) -> None:
    server = start_redis(tmp_path)
    base_dir = server.base_dir
    try:
        assert base_dir.parent == tmp_path
        assert server.port not in STANDARD_PORTS
        password = server.password
        assert server.url() == f"redis://:{password}@127.0.0.1:{server.port}/0"
        assert server.url(3) == f"redis://:{password}@127.0.0.1:{server.port}/3"
        first_pid = server.pid
        with redis_client(server) as client:
            assert client.ping()
            client.set("note", "written")
            assert client.get("note") == b"written"

        server.restart()

        assert server.pid is not None
        assert server.pid != first_pid
        with redis_client(server) as client:
            assert client.ping()
            assert client.get("note") is None  # nothing persists, on purpose

        server.stop()
        assert server.pid is None
        assert not port_answers(server.port)
        server.start()
        assert port_answers(server.port)
    finally:
        server.destroy()

    assert not base_dir.exists()
    assert not port_answers(server.port)
    with redis_client(server) as client, pytest.raises(redis.ConnectionError):
        client.ping()
    server.destroy()  # idempotent


@pytest.mark.integration
def test_redis_start_on_a_taken_port_raises_server_unavailable_naming_the_log() -> None:
    with running_redis() as server:
        server.stop()
        with listening_on(server.port), pytest.raises(ServerUnavailable) as raised:
            server.start()
        message = str(raised.value)
        assert str(server.log_path) in message
        assert "Address already in use" in message
        assert server.pid is None

        server.start()
        with redis_client(server) as client:
            assert client.ping()


@pytest.mark.integration
def test_a_port_taken_between_picking_and_starting_is_replaced_by_another(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    taken, spare = free_port(), free_port()
    ports = iter([taken, spare])
    monkeypatch.setattr(servers, "free_port", lambda: next(ports))
    with listening_on(taken), running_redis() as server:
        assert server.port == spare
        with redis_client(server) as client:
            assert client.ping()


def test_missing_redis_server_raises_server_unavailable_saying_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ServerUnavailable, match="apt-get install -y redis-server"):
        find_redis_server()


# --------------------------------------------------------------------------- both


@pytest.mark.integration
def test_context_managers_destroy_both_servers_on_exit_even_after_an_error() -> None:
    with (
        pytest.raises(RuntimeError, match="boom"),
        running_postgres() as postgres,
        running_redis() as cache,
    ):
        assert port_answers(postgres.port)
        assert port_answers(cache.port)
        raise RuntimeError("boom")
    assert not postgres.base_dir.exists()
    assert not cache.base_dir.exists()
    assert not port_answers(postgres.port)
    assert not port_answers(cache.port)


def test_free_ports_are_bindable_and_never_the_standard_ones() -> None:
    for _ in range(20):
        port = free_port()
        assert port not in STANDARD_PORTS
        with listening_on(port):
            pass
