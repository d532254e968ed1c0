"""A throwaway PostgreSQL 15 cluster for the test suite, on a free port.

The suite owns it, so tests may change settings, pg_hba.conf and restart it without
touching the machine's own server. It is started with pg_stat_statements, pgaudit and
TLS, like a well-run production server; tests create the bad states they need.
"""

from __future__ import annotations

import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PG_BIN = Path(os.environ.get("DBWRIGHT_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))
SUPERUSER = "postgres"
APP_PASSWORD = "s3cret-Pa55word"

HBA = """\
local all all trust
host all postgres 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.data = root / "data"
        self.socket_dir = root / "sock"
        self.port = free_port()
        self.log = root / "server.log"
        self.run_as = "postgres" if os.geteuid() == 0 else None

    # --- lifecycle -------------------------------------------------------------------------
    def _run(self, *args: str) -> None:
        cmd = [str(a) for a in args]
        if self.run_as:
            cmd = ["runuser", "-u", self.run_as, "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)

    def init(self) -> None:
        if not (PG_BIN / "initdb").exists():
            raise RuntimeError(f"PostgreSQL 15 binaries not found in {PG_BIN}: run .ci/run to install them")
        self.root.mkdir(parents=True, exist_ok=True)
        self.socket_dir.mkdir(exist_ok=True)
        if self.run_as:
            owner = pwd.getpwnam(self.run_as)
            for path in (self.root, self.socket_dir):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        self._run(
            PG_BIN / "initdb",
            "-D",
            self.data,
            "-U",
            SUPERUSER,
            "--auth=trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C",
        )
        self._make_certificate()
        (self.data / "pg_hba.conf").write_text(HBA)
        with (self.data / "postgresql.conf").open("a") as conf:
            conf.write(
                f"port = {self.port}\n"
                f"unix_socket_directories = '{self.socket_dir}'\n"
                "listen_addresses = '127.0.0.1'\n"
                "shared_preload_libraries = 'pg_stat_statements,pgaudit'\n"
                "pg_stat_statements.track = all\n"
                "ssl = on\nssl_cert_file = 'server.crt'\nssl_key_file = 'server.key'\n"
                "password_encryption = 'scram-sha-256'\n"
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
                "log_min_duration_statement = 1000\n"
                "random_page_cost = 1.1\n"
                "max_wal_size = '2GB'\ncheckpoint_timeout = '15min'\n"
                "shared_buffers = '128MB'\n"
                "effective_cache_size = '384MB'\n"
                "work_mem = '4MB'\n"
                "maintenance_work_mem = '64MB'\n"
                "autovacuum_naptime = '1h'\n"  # tests decide when tables are analyzed
            )

    def _make_certificate(self) -> None:
        self._run(
            "openssl",
            "req",
            "-new",
            "-x509",
            "-days",
            "2",
            "-nodes",
            "-subj",
            "/CN=localhost",
            "-keyout",
            self.data / "server.key",
            "-out",
            self.data / "server.crt",
        )
        if self.run_as is None:
            os.chmod(self.data / "server.key", 0o600)

    def start(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-w", "-t", "60", "start")

    def stop(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-m", "immediate", "-w", "stop")

    def restart(self) -> None:
        self._run(PG_BIN / "pg_ctl", "-D", self.data, "-l", self.log, "-m", "fast", "-w", "restart")

    # --- addresses -------------------------------------------------------------------------
    def url(
        self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None, tcp: bool = False
    ) -> str:
        auth = f"{user}:{password}" if password else user
        if tcp:
            return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"
        return f"postgresql://{auth}@/{dbname}?host={self.socket_dir}&port={self.port}"

    @property
    def hba_path(self) -> Path:
        return self.data / "pg_hba.conf"


def start_cluster() -> Cluster:
    root = Path(tempfile.mkdtemp(prefix="dbwright-pg-"))
    os.chmod(root, 0o755)
    cluster = Cluster(root)
    cluster.init()
    cluster.start()
    deadline = time.time() + 30
    while not (cluster.socket_dir / f".s.PGSQL.{cluster.port}").exists():
        if time.time() > deadline:
            raise RuntimeError(f"test cluster did not start; see {cluster.log}")
        time.sleep(0.1)
    return cluster


def remove_cluster(cluster: Cluster) -> None:
    try:
        cluster.stop()
    finally:
        shutil.rmtree(cluster.root, ignore_errors=True)
