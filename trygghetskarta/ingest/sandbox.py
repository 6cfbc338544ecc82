"""Every import is read in a child process with a time and memory budget.

A hostile file can make a parser run for ever (a GeoPackage layer that is a view with an endless recursive
query) or swell to many gigabytes (a CSV of a million columns). ``run`` calls the reader in a child process
with

- an address-space limit of ``import_max_memory_mb`` above what the child starts with (``RLIMIT_AS``), and
- a wall-clock limit of ``import_max_seconds``, after which the child is killed.

Either stops the import with one line that names the file and the limit. The child's own errors
(``ValidationError`` naming a row, …) come back as they are; any other failure in the child comes back as a
``ValidationError`` naming the file, never as a traceback or a half-read result.

The children are forked by a small server process (``sandbox.serve``), started once per process with the
readers already imported: it is single-threaded, so forking it is safe (forking
the multi-threaded app is not), and a read costs milliseconds of start-up instead of the 1.3 s of a fresh
interpreter. Jobs go to it one at a time; if it dies it is started again on the next import.
"""

from __future__ import annotations

import atexit
import os
import pickle
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any, TypeVar

from trygghetskarta import gdalsafe, settings
from trygghetskarta.errors import TrygghetskartaError, ValidationError

T = TypeVar("T")

_ENV_PREFIX = "TRYGGHETSKARTA_"
_HEADER = struct.Struct("!Q")
_lock = threading.Lock()
LAST_PEAK_MB: list[float] = []  # the peak memory (RSS) of the last reader child, for benchmarks
LAST_CPU_S: list[float] = []  # the CPU seconds (user + system) the last reader child took to read, for benchmarks


class _Server:
    """The fork server of this process (a forked copy of the process must start its own)."""

    proc: subprocess.Popen[bytes] | None = None
    owner_pid = 0


def budget() -> tuple[float, float]:
    """(seconds, megabytes) one import may use."""
    return float(settings.get("import_max_seconds")), float(settings.get("import_max_memory_mb"))


# ---------------------------------------------------------------------------------------------- the caller


def run(fn: Callable[..., T], *args: Any, file: str, **kwargs: Any) -> T:
    """``fn(*args, **kwargs)`` in a child process within the import budget; its result or a ValidationError.

    ``fn`` must be a module-level function (it is pickled by name).
    """
    seconds, memory_mb = budget()
    env = {k: v for k, v in os.environ.items() if k.startswith(_ENV_PREFIX)}
    with tempfile.TemporaryDirectory(prefix="tk-import-") as folder:
        out = Path(folder) / "result.pickle"
        job = {"fn": fn, "args": args, "kwargs": kwargs, "env": env, "cwd": str(Path.cwd()),
               "seconds": seconds, "memory_mb": memory_mb, "out": str(out)}
        with _lock:
            status = _ask_server(job)
        if status == "timeout":
            msg = (f"{file}: the import was stopped after {seconds:g} s (setting import_max_seconds); "
                   f"the file takes too long to read")
            raise ValidationError(msg)
        if status != "exited" or not out.is_file():
            msg = (f"{file}: the import was stopped: reading the file needed more than {memory_mb:g} MB of memory "
                   f"(setting import_max_memory_mb) or could not be completed ({status})")
            raise ValidationError(msg)
        with out.open("rb") as fh:
            kind, value, text, peak_kb, cpu_s = pickle.load(fh)  # noqa: S301 - written by our own child process
    LAST_PEAK_MB[:] = [peak_kb / 1024]
    LAST_CPU_S[:] = [cpu_s]
    if kind == "ok":
        return value
    if kind == "memory":
        msg = (f"{file}: the import was stopped: reading the file needed more than {memory_mb:g} MB of memory "
               f"(setting import_max_memory_mb)")
        raise ValidationError(msg)
    if kind == "error":
        error = {cls.__name__: cls for cls in _error_classes()}.get(value, ValidationError)
        raise error(text)
    msg = f"{file}: cannot be read ({text})"
    raise ValidationError(msg)


def _ask_server(job: dict[str, Any]) -> str:
    """Send one job to the fork server and wait for its status line (``exited``, ``timeout``, ``signal N``)."""
    for attempt in range(2):
        server = _ensure_server()
        try:
            _write_frame(server.stdin, pickle.dumps(job, protocol=pickle.HIGHEST_PROTOCOL))
            line = server.stdout.readline() if server.stdout else b""
        except (BrokenPipeError, OSError):
            line = b""
        if line:
            return line.decode().strip()
        _stop_server()
        if attempt:
            break
    return "the import process did not answer"


def _ensure_server() -> subprocess.Popen[bytes]:
    proc = _Server.proc
    if proc is not None and _Server.owner_pid == os.getpid() and proc.poll() is None:
        return proc
    proc = subprocess.Popen(
        [sys.executable, "-c", "from trygghetskarta.ingest.plan import warm_up; "
         "from trygghetskarta.ingest.sandbox import serve; serve(warm_up)"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, env=os.environ.copy(), close_fds=True)
    _Server.proc, _Server.owner_pid = proc, os.getpid()
    return proc


def _stop_server() -> None:
    proc = _Server.proc
    if proc is not None and _Server.owner_pid == os.getpid():
        for stream in (proc.stdin, proc.stdout):
            if stream is not None:
                stream.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait()
    _Server.proc = None


atexit.register(_stop_server)


def _write_frame(stream: IO[bytes] | None, data: bytes) -> None:
    if stream is None:
        raise BrokenPipeError
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def _error_classes() -> list[type[TrygghetskartaError]]:
    seen: list[type[TrygghetskartaError]] = []
    todo: list[type[TrygghetskartaError]] = [TrygghetskartaError]
    while todo:
        cls = todo.pop()
        seen.append(cls)
        todo.extend(cls.__subclasses__())
    return seen


# ---------------------------------------------------------------------------------------------- the server


def _vm_bytes() -> int:
    """This process's current virtual size (what RLIMIT_AS counts)."""
    return int(Path("/proc/self/statm").read_text().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def _child(job: dict[str, Any]) -> None:
    """Run one job in the forked child and write its outcome; never returns."""
    code = 0
    try:
        for name in [n for n in os.environ if n.startswith(_ENV_PREFIX)]:
            del os.environ[name]
        os.environ.update(job["env"])
        os.chdir(job["cwd"])
        limit = _vm_bytes() + int(job["memory_mb"] * 1024 * 1024)
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
        try:
            outcome: tuple[str, Any, str] = ("ok", job["fn"](*job["args"], **job["kwargs"]), "")
        except TrygghetskartaError as exc:
            outcome = ("error", type(exc).__name__, str(exc))
        except MemoryError:
            outcome = ("memory", "", "")
        except RecursionError:
            outcome = ("crash", "RecursionError", "nested too deeply to read")
        except BaseException as exc:  # noqa: BLE001 - reported to the caller as a clear error, never lost
            outcome = ("crash", type(exc).__name__, "".join(traceback.format_exception_only(exc)).strip())
        usage = resource.getrusage(resource.RUSAGE_SELF)  # of this child alone (a forked child starts at zero)
        peak_kb, cpu_s = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
        try:
            data = pickle.dumps((*outcome, peak_kb, cpu_s), protocol=pickle.HIGHEST_PROTOCOL)
        except MemoryError:
            data = pickle.dumps(("memory", "", "", peak_kb, cpu_s))
        tmp = Path(job["out"] + ".part")
        tmp.write_bytes(data)
        tmp.replace(job["out"])  # the caller sees the whole result or none
    except BaseException:  # noqa: BLE001 - the exit status says it failed
        code = 1
    finally:
        os._exit(code)


def serve(warm_up: Callable[[], None] | None = None) -> None:
    """Read jobs from stdin; fork a child per job; answer each with one status line on stdout. ``warm_up``
    runs once first (the importer reads a small file, so every forked child shares what it loaded)."""
    gdalsafe.harden()
    if warm_up is not None:
        warm_up()

    stdin, stdout = sys.stdin.buffer, sys.stdout.buffer
    sys.stdout = sys.stderr  # a reader's stray print must not corrupt the status lines
    while True:
        head = stdin.read(_HEADER.size)
        if len(head) < _HEADER.size:
            return
        job = pickle.loads(stdin.read(_HEADER.unpack(head)[0]))  # noqa: S301 - sent by the parent process
        pid = os.fork()
        if pid == 0:
            _child(job)
        deadline = time.monotonic() + float(job["seconds"])
        status = ""
        delay = 0.001
        while not status:
            done, wait_status = os.waitpid(pid, os.WNOHANG)
            if done:
                status = ("exited" if os.WIFEXITED(wait_status) and os.WEXITSTATUS(wait_status) == 0
                          else f"signal {os.WTERMSIG(wait_status)}" if os.WIFSIGNALED(wait_status)
                          else f"exit {os.WEXITSTATUS(wait_status)}")
            elif time.monotonic() > deadline:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                status = "timeout"
            else:
                time.sleep(delay)
                delay = min(delay * 2, 0.05)
        stdout.write(status.encode() + b"\n")
        stdout.flush()

