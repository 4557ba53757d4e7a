"""A throwaway PostgreSQL + PostGIS server on a temporary directory, for tests and benchmarks.

``initdb`` a cluster in a fresh directory under the system temp dir, start it with ``pg_ctl`` on a
unix socket inside that directory (no TCP port, so nothing to collide with), and remove it all on
:meth:`TempPostgres.stop`. PostgreSQL refuses to run as root: when we are root, the server runs as
the ``postgres`` system user (``runuser``), which owns the directory.

The binaries are found under ``$EMBER_PG_BIN`` or ``/usr/lib/postgresql/*/bin`` (Debian), else on
``PATH``. :func:`find_postgis` says why PostGIS cannot be used, or returns the bin directory.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from urllib.parse import quote

PG_PORT = 5432  # only names the socket file inside our private directory


def find_pg_bin() -> Path | None:
    """Directory holding ``initdb``, ``pg_ctl`` and ``postgres``, newest version first."""
    wanted = os.environ.get("EMBER_PG_BIN")
    candidates = [wanted] if wanted else []
    candidates += sorted(
        glob.glob("/usr/lib/postgresql/*/bin"), key=lambda p: int(p.split("/")[-2]), reverse=True
    )
    on_path = shutil.which("pg_ctl")
    candidates += [str(Path(on_path).parent)] if on_path else []
    for c in candidates:
        if all((Path(c) / exe).is_file() for exe in ("initdb", "pg_ctl", "postgres")):
            return Path(c)
    return None


def _share_dir(bin_dir: Path) -> Path | None:
    try:
        out = subprocess.run(
            [str(bin_dir / "pg_config"), "--sharedir"], capture_output=True, text=True, check=True
        ).stdout.strip()
        return Path(out)
    except (OSError, subprocess.CalledProcessError):
        version = bin_dir.parent.name  # /usr/lib/postgresql/15/bin -> 15
        guess = Path("/usr/share/postgresql") / version
        return guess if guess.is_dir() else None


def find_postgis() -> tuple[Path | None, str]:
    """``(bin_dir, "")`` when a PostgreSQL with the PostGIS extension is installed, else
    ``(None, reason)``."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        return None, "PostgreSQL server binaries not found (/usr/lib/postgresql/*/bin)"
    share = _share_dir(bin_dir)
    if share is None or not (share / "extension" / "postgis.control").is_file():
        return None, f"the PostGIS extension is not installed for {bin_dir} (postgis.control)"
    if os.geteuid() == 0:
        try:
            pwd.getpwnam("postgres")
        except KeyError:
            return None, "running as root and no 'postgres' system user to run the server"
        if shutil.which("runuser") is None:
            return None, "running as root and no runuser(1) to start the server as 'postgres'"
    return bin_dir, ""


class TempPostgres:
    """A private PostgreSQL cluster; ``url(db)`` names a database on it.

    ``durable=False`` (tests) turns fsync off; benchmarks keep the defaults so that the figures
    are honest.
    """

    def __init__(self, bin_dir: Path, *, durable: bool = False):
        self.bin_dir = bin_dir
        self.durable = durable
        self.root = Path(tempfile.mkdtemp(prefix="ember-pg-"))
        self.data = self.root / "data"
        self.user = "postgres"
        self._as: list[str] = []
        if os.geteuid() == 0:
            pw = pwd.getpwnam("postgres")
            os.chown(self.root, pw.pw_uid, pw.pw_gid)
            self._as = ["runuser", "-u", "postgres", "--"]
        self.started = False

    def _run(self, *args: str) -> None:
        proc = subprocess.run([*self._as, *args], capture_output=True, text=True)
        if proc.returncode != 0:
            log = self.root / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.exists() else ""
            raise RuntimeError(f"{args[0]} failed: {proc.stderr.strip()}\n{tail}")

    def start(self) -> TempPostgres:
        self._run(
            str(self.bin_dir / "initdb"),
            "-D", str(self.data), "-U", self.user, "--auth=trust",
            "-E", "UTF8", "--locale=C.UTF-8", "--no-instructions",
        )  # fmt: skip
        opts = f"-k {self.root} -p {PG_PORT} -c listen_addresses= -c max_connections=60"
        if not self.durable:
            opts += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.root / "server.log"),
            "-w", "-t", "60", "-o", opts, "start",
        )  # fmt: skip
        self.started = True
        return self

    def url(self, dbname: str = "postgres") -> str:
        """A ``postgresql://`` URL for ``dbname`` over the unix socket."""
        host = quote(str(self.root), safe="/")
        return f"postgresql://{self.user}@/{dbname}?host={host}&port={PG_PORT}"

    def stop(self) -> None:
        if self.started:
            self.started = False
            try:
                self._run(
                    str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop"
                )
            finally:
                shutil.rmtree(self.root, ignore_errors=True)
        else:
            shutil.rmtree(self.root, ignore_errors=True)

    def __enter__(self) -> TempPostgres:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
