"""A throwaway PostgreSQL server for tests and benchmarks: ``initdb`` and ``pg_ctl`` in a temporary
directory, on a free port of 127.0.0.1, as an unprivileged user (PostgreSQL refuses to run as
root: as root, the server runs as ``nobody`` through ``runuser``). Durability is off (``fsync``),
as nothing here outlives the run.

The superuser ``postgres`` connects without a password; any other role needs its password
(SCRAM), so wrong credentials can be tested. Binaries: ``SIAMESE_PG_BIN``, else the newest
``/usr/lib/postgresql/*/bin`` (Debian's ``postgresql`` package), else ``PATH``.
"""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

SUPERUSER = "postgres"
SERVER_USER = "nobody"
"""The operating-system user the server runs as when we are root."""
HBA = f"""local all all trust
host all {SUPERUSER} 127.0.0.1/32 trust
host all all 127.0.0.1/32 scram-sha-256
"""


class ClusterError(RuntimeError):
    """PostgreSQL cannot be started here; the message says what is missing."""


def bin_dir() -> Path:
    """The directory holding ``initdb``, ``pg_ctl`` and ``postgres``.

    Raises:
        ClusterError: none found.
    """
    candidates = [os.environ.get("SIAMESE_PG_BIN", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True)
    candidates += [str(Path(shutil.which("initdb")).parent)] if shutil.which("initdb") else []
    for c in candidates:
        if c and all((Path(c) / b).is_file() for b in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    raise ClusterError("PostgreSQL's server binaries (initdb, pg_ctl, postgres) were not found: install them "
                       "(apt-get install postgresql, as .ci/run does) or set SIAMESE_PG_BIN to their directory.")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """One PostgreSQL server in a temporary directory. :meth:`start` it, :meth:`stop` it (and
    :meth:`start` it again: the data stays until :meth:`remove`)."""

    def __init__(self):
        self.bin = bin_dir()
        self.dir = Path(tempfile.mkdtemp(prefix="siamese-pg-"))
        self.data, self.port = self.dir / "data", free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, SERVER_USER)
        self._run("initdb", "-D", str(self.data), "-U", SUPERUSER, "-E", "UTF8", "--locale=C", "-N", "--auth=trust")
        (self.data / "pg_hba.conf").write_text(HBA)

    def _run(self, program: str, *args: str) -> str:
        cmd = [str(self.bin / program), *args]
        if self.as_root:
            cmd = ["runuser", "-u", SERVER_USER, "--", *cmd]
        done = subprocess.run(cmd, capture_output=True, text=True, cwd=self.dir)
        if done.returncode:
            log = self.dir / "server.log"
            raise ClusterError(f"{' '.join(cmd)} failed: {done.stderr.strip() or done.stdout.strip()}"
                               + (f"\n{log.read_text()[-2000:]}" if log.exists() else ""))
        return done.stdout

    def start(self) -> Cluster:
        options = (f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
                   "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300")
        self._run("pg_ctl", "-D", str(self.data), "-l", str(self.dir / "server.log"), "-w", "-t", "60",
                  "-o", options, "start")
        return self

    def stop(self, mode: str = "fast") -> None:
        """Stop the server (``fast``: connections are closed, as when the database goes away)."""
        self._run("pg_ctl", "-D", str(self.data), "-m", mode, "-w", "stop")

    def remove(self) -> None:
        try:
            self.stop("immediate")
        except ClusterError:
            pass  # already stopped
        shutil.rmtree(self.dir, ignore_errors=True)

    def url(self, dbname: str = "postgres", user: str = SUPERUSER, password: str | None = None) -> str:
        auth = user if password is None else f"{user}:{password}"
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{dbname}"

    def admin(self):
        """A new autocommit superuser connection to the ``postgres`` database (close it)."""
        import psycopg
        return psycopg.connect(self.url(), autocommit=True)

    def create_database(self, name: str, owner: str = SUPERUSER) -> str:
        """A new empty database; returns its URL (as the superuser)."""
        with self.admin() as con:
            con.execute(f'CREATE DATABASE "{name}" OWNER "{owner}"')
        return self.url(name)

    def create_role(self, name: str, password: str) -> None:
        from psycopg import sql
        with self.admin() as con:
            con.execute(sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(sql.Identifier(name), sql.Literal(password)))
