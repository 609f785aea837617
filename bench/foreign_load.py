"""How much of the machine other processes use while a measurement runs (other sessions share the 2 cores), and
the CPU the server under test and the benchmark database spend: the "other load" and "CPU per request" columns."""
import os
import time
from pathlib import Path

from bench.database import db_params, sql


def cpu_busy_fraction(seconds: float = 2.0) -> float:
    """Share of the machine's CPU time that was busy over a short window (other sessions' load)."""
    def sample():
        fields = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]
        return sum(fields), idle
    total1, idle1 = sample()
    time.sleep(seconds)
    total2, idle2 = sample()
    return 1 - (idle2 - idle1) / max(1, total2 - total1)


def _proc_cpu() -> dict[int, tuple[str, int, float, int]]:
    """pid -> (command name, process group, CPU seconds used so far, parent pid) for every process."""
    ticks = os.sysconf("SC_CLK_TCK")
    out = {}
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            raw = Path(f"/proc/{entry.name}/stat").read_text()
        except OSError:
            continue
        comm, rest = raw[raw.index("(") + 1:raw.rindex(")")], raw[raw.rindex(")") + 2:].split()
        out[int(entry.name)] = (comm, int(rest[2]), (int(rest[11]) + int(rest[12])) / ticks, int(rest[1]))
    return out


def _foreign_backends() -> set[int]:
    """PostgreSQL backends that serve other databases than the benchmark's (other sessions' test runs)."""
    try:
        return {row[0] for row in sql("SELECT pid FROM pg_stat_activity WHERE datname IS DISTINCT FROM %s "
                                      "AND backend_type = 'client backend'", db_params()["dbname"])}
    except Exception:
        return set()


_postmaster: list[int] = []


def _benchmark_cluster(snapshot) -> set[int]:
    """The benchmark database's PostgreSQL processes: its postmaster and all its children (other sessions'
    clusters on this machine are other processes)."""
    if not _postmaster:
        import psycopg
        p = db_params()
        with psycopg.connect(host=p["host"], port=p["port"], dbname=p["dbname"], user=p["user"],
                             password=p["password"]) as conn:  # the parent of a live backend
            backend = conn.execute("SELECT pg_backend_pid()").fetchone()[0]
            _postmaster.append(int(Path(f"/proc/{backend}/stat").read_text().rsplit(")", 1)[1].split()[1]))
    return {_postmaster[0]} | {pid for pid, entry in snapshot.items() if entry[3] == _postmaster[0]}


class ForeignLoad:
    """CPU used while a measurement runs: by processes that are not part of it (not the server under test, not
    wrk, not the benchmark cluster's PostgreSQL serving the benchmark database, not this script), as a share of
    the machine's cores - other sessions' test suites and clusters on the same machine show up here -, and
    by the server under test and by the benchmark database, in seconds."""

    def __init__(self, server_pgid: int):
        self.server_pgid = server_pgid

    def _split(self, snapshot, backends) -> tuple[dict[int, float], float, float]:
        mine, cluster = {os.getpid()}, _benchmark_cluster(snapshot)
        foreign, server, database = {}, 0.0, 0.0
        for pid, (comm, pgid, cpu, _) in snapshot.items():
            if pgid == self.server_pgid and self.server_pgid:
                server += cpu
            elif pid in cluster and pid not in backends:
                database += cpu
            elif pid not in mine and comm not in ("wrk", "pgbench"):  # the load generators are part of it
                foreign[pid] = cpu
        return foreign, server, database

    def __enter__(self):
        self.backends = _foreign_backends()
        self.start, self.server_start, self.database_start = self._split(_proc_cpu(), self.backends)
        self.t0 = time.monotonic()
        return self

    def __exit__(self, *exc):
        self.backends |= _foreign_backends()
        end, server, database = self._split(_proc_cpu(), self.backends)
        used = sum(cpu - self.start.get(pid, 0.0) for pid, cpu in end.items())
        self.share = max(0.0, used / max(0.001, time.monotonic() - self.t0) / (os.cpu_count() or 1))
        self.server_cpu = max(0.0, server - self.server_start)  # workers that exit meanwhile are missed
        self.database_cpu = max(0.0, database - self.database_start)
        return False


def wait_for_quiet(server_pgid: int, limit: float = 0.10, patience: float = 180) -> float:
    """Wait (at most `patience` s) until other processes use less than `limit` of the machine for 5 s."""
    deadline = time.monotonic() + patience
    while True:
        with ForeignLoad(server_pgid) as load:
            time.sleep(5)
        if load.share < limit or time.monotonic() > deadline:
            return load.share
