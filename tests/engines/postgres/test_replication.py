"""Replication status from a real primary and a real streaming standby (pg_basebackup -R of the test
cluster): the standby in pg_stat_replication, a slot with the WAL it holds, the standby's WAL receiver."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from dbwright import api
from tests.pgcluster import PG_BIN, Cluster, free_port

SLOT = "dbwright_standby_test"


def _as_postgres(cluster: Cluster, *args: str) -> None:
    command = [str(a) for a in args]
    if cluster.run_as:
        command = ["runuser", "-u", cluster.run_as, "--", *command]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=120)


@pytest.fixture
def standby(cluster: Cluster) -> Iterator[str]:
    """A hot standby streaming from the test cluster through a physical slot; its URL."""
    hba = cluster.hba_path
    original = hba.read_text()
    hba.write_text("local replication postgres trust\n" + original)
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
        admin.execute("SELECT pg_reload_conf()")
    time.sleep(0.3)
    root = Path(tempfile.mkdtemp(prefix="dbwright-standby-"))
    data, port = root / "data", free_port()
    if cluster.run_as:
        shutil.chown(root, cluster.run_as, cluster.run_as)
    try:
        _as_postgres(
            cluster,
            PG_BIN / "pg_basebackup",
            "-h",
            cluster.socket_dir,
            "-p",
            cluster.port,
            "-U",
            "postgres",
            "-D",
            data,
            "-R",
            "-C",
            "-S",
            SLOT,
            "-X",
            "stream",
        )
        with (data / "postgresql.auto.conf").open("a") as conf:
            conf.write(f"port = {port}\nunix_socket_directories = '{root}'\nlisten_addresses = ''\n")
        _as_postgres(cluster, PG_BIN / "pg_ctl", "-D", data, "-l", root / "log", "-w", "-t", "60", "start")
        url = f"postgresql://postgres@/postgres?host={root}&port={port}"
        deadline = time.monotonic() + 30
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as primary:
            while not primary.execute(
                "SELECT count(*) FROM pg_stat_replication WHERE state = 'streaming' AND replay_lsn IS NOT NULL"
            ).fetchone()[0]:
                assert time.monotonic() < deadline, "the standby never reported a replayed position"
                time.sleep(0.2)
        yield url
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(cluster, PG_BIN / "pg_ctl", "-D", data, "-m", "immediate", "-w", "stop")
        hba.write_text(original)
        with psycopg.connect(cluster.url("postgres"), autocommit=True) as admin:
            admin.execute("SELECT pg_reload_conf()")
            admin.execute(
                "SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = %s",
                (SLOT,),
            )
        shutil.rmtree(root, ignore_errors=True)


def test_primary_sees_its_standby_and_slot_and_the_standby_its_receiver(cluster, standby):
    primary = api.replication_status(cluster.url("postgres"))
    assert primary.role == "primary" and not primary.in_recovery
    (streaming,) = primary.standbys
    assert streaming["state"] == "streaming" and streaming["replay_lag_bytes"] is not None
    (slot,) = [s for s in primary.slots if s["slot_name"] == SLOT]
    assert slot["active"] is True and slot["slot_type"] == "physical" and slot["retained_wal_bytes"] >= 0

    replica = api.replication_status(standby)
    assert replica.role == "standby" and replica.in_recovery
    assert replica.wal_receiver is not None
    assert replica.wal_receiver["status"] == "streaming" and replica.wal_receiver["slot_name"] == SLOT
    assert replica.standbys == []
    assert replica.to_dict()["role"] == "standby"


def test_an_inactive_slot_is_noted(pg):
    pg.execute("SELECT pg_create_physical_replication_slot('dbwright_idle_slot', true)")
    try:
        status = api.replication_status(pg.url)
    finally:
        pg.execute("SELECT pg_drop_replication_slot('dbwright_idle_slot')")
    (slot,) = [s for s in status.slots if s["slot_name"] == "dbwright_idle_slot"]
    assert slot["active"] is False and slot["retained_wal_bytes"] >= 0
    assert any("dbwright_idle_slot" in note and "keep WAL" in note for note in status.notes)
