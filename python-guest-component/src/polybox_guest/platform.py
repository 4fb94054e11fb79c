"""Routes the standard library's clocks, randomness and filesystem to the
host.

The guest is built with WASI stubbed out, so any C function that would reach
WASI traps. Everything ordinary code calls is replaced here by the host's
`platform` and `process` interfaces: `time.time`, `time.monotonic`,
`time.sleep`, `os.urandom`, `random`'s seed; `open()` and the filesystem
functions of `os` go to the sandbox's filesystem capability (`files`). An
audit hook refuses what no sandbox reaches (processes, sockets, files
opened by C code), so a guest sees the error Python code expects instead of
a trap.
"""

import builtins
import errno
import io
import linecache
import os
import posix
import random
import select
import sqlite3
import sys
import threading
import time
import types

from wit_world.imports import platform, process

from . import files

def _time():
    return platform.now_ms() / 1000.0


def _time_ns():
    return int(platform.now_ms() * 1_000_000)


def _monotonic():
    return platform.monotonic_ns() / 1e9


def _monotonic_ns():
    return platform.monotonic_ns()


def _now_or(seconds):
    return _time() if seconds is None else seconds


def _clocked(function):
    """`time.gmtime`/`localtime`/`ctime` with the host's clock as the default
    (the C default reads the clock through WASI)."""

    def clocked(seconds=None):
        return function(_now_or(seconds))

    clocked.__name__ = function.__name__
    clocked.__doc__ = function.__doc__
    return clocked


def _with_local_time(function, at):
    """`time.strftime`/`asctime` with the host's local time as the default
    tuple (argument `at`)."""

    def formatted(*args):
        if len(args) == at:
            args = (*args, time.localtime())
        return function(*args)

    formatted.__name__ = function.__name__
    formatted.__doc__ = function.__doc__
    return formatted


def _clock_info(name):
    """`time.get_clock_info`: every clock is the host's, in microseconds."""
    if name not in ("time", "monotonic", "perf_counter", "process_time", "thread_time"):
        raise ValueError("unknown clock")
    return types.SimpleNamespace(
        implementation="polybox:sandbox/platform",
        monotonic=name != "time",
        adjustable=name == "time",
        resolution=1e-06,
    )


def _clock_gettime(clock):
    """`time.clock_gettime`: the realtime and monotonic clocks, the host's."""
    if clock == time.CLOCK_REALTIME:
        return _time()
    if clock in (time.CLOCK_MONOTONIC, getattr(time, "CLOCK_MONOTONIC_RAW", None)):
        return _monotonic()
    raise OSError(errno.EINVAL, "only CLOCK_REALTIME and CLOCK_MONOTONIC are available in a sandbox")


def _clock_gettime_ns(clock):
    return int(_clock_gettime(clock) * 1e9)


def _clock_getres(clock):
    _clock_gettime(clock)
    return 1e-06


def _unavailable(what):
    return files.refusal(errno.ENOSYS, f"{what} is not available in a sandbox", what.rpartition(".")[2])


def _sleep(seconds):
    if seconds < 0:
        raise ValueError("sleep length must be non-negative")
    wait(platform.monotonic_ns() + int(seconds * 1e9))


class Stopped(BaseException):
    """The host stopped the call (a limit, a kill): unwind at once."""


def wait(deadline_ns):
    """Waits on the host's monotonic clock until `deadline_ns`."""
    if not process.wait_until(deadline_ns):
        raise Stopped("the call was stopped")


def urandom(size):
    """`size` bytes from the host's secure random source."""
    size = int(size)
    if size < 0:
        raise ValueError("negative argument not allowed")
    chunks = []
    while size > 0:
        take = min(size, 65536)
        chunks.append(platform.random_bytes(take))
        size -= take
    return b"".join(chunks)


class _HostSeededRandom(random.Random):
    """`random`'s shared generator, seeded from the host's random source at
    its first use in each call into the instance. Its state is in every
    image, snapshot and template taken after a use, and the guest cannot
    tell that it was restored: seeded once, every restore would replay the
    same sequence. Unless guest code seeds it itself (`random.seed(42)`, for
    a sequence it can repeat), each export forgets the seed
    (`forget_seed`)."""

    def __init__(self):
        super().__init__(0)
        self._host_seeded = False
        self._seeded_by_guest = False

    def _from_host(self):
        self._host_seeded = True
        super().seed()

    def seed(self, a=None, version=2):
        self._host_seeded = True
        self._seeded_by_guest = a is not None
        super().seed(a, version)

    def forget_seed(self):
        if not self._seeded_by_guest:
            self._host_seeded = False

    def random(self):
        if not self._host_seeded:
            self._from_host()
        return super().random()

    def getrandbits(self, k):
        if not self._host_seeded:
            self._from_host()
        return super().getrandbits(k)

    def getstate(self):
        if not self._host_seeded:
            self._from_host()
        return super().getstate()

    def setstate(self, state):
        self._host_seeded = True
        self._seeded_by_guest = True
        super().setstate(state)


def forget_seed():
    """Makes `random`'s shared generator draw a new seed from the host at
    its next use (each export calls this on entry)."""
    inst = random._inst
    if isinstance(inst, _HostSeededRandom):
        inst.forget_seed()


_random_seed = random.Random.seed


def _seed(self, a=None, version=2):
    """`Random.seed`: with no seed, one from the host (CPython's own comes
    from WASI, which the guest does not have), as for `Random()`."""
    _random_seed(self, int.from_bytes(urandom(32), "big") if a is None else a, version)


def _seed_random_from_host():
    """Seeds every `Random` from the host, and replaces `random`'s shared
    generator (every module-level function is a method of it) with one the
    host seeds at its first use."""
    random.Random.seed = _seed
    old, new = random._inst, _HostSeededRandom()
    for name in dir(random):
        method = getattr(random, name)
        if getattr(method, "__self__", None) is old:
            setattr(random, name, getattr(new, name))
    random._inst = new


def _cached_lines(filename, module_globals=None):
    """`linecache.getlines` without files: only sources the runtime
    registered (handlers, modules, programs)."""
    entry = linecache.cache.get(filename)
    return entry[2] if entry is not None and len(entry) == 4 else []


_cwd = "/"


def set_cwd(path):
    """What `os.getcwd()` answers (a program's working directory)."""
    global _cwd
    _cwd = path or "/"


def _getcwd():
    return _cwd


def _patched_modules():
    """The modules whose functions `install` replaces."""
    return (time, os, posix, select, random, sqlite3)


def _wait_alone(self, timeout=None):
    """`threading.Condition.wait` in a guest, which has one thread: nothing
    can notify it, so a wait with a timeout sleeps it out (on the host's
    clock) and one without would never end."""
    if not self._is_owned():
        raise RuntimeError("cannot wait on un-acquired lock")
    if timeout is None:
        raise RuntimeError("waiting without a timeout would never end: a sandbox runs one thread")
    if timeout > 0:
        _sleep(timeout)
    return False


def _swap_captured(before):
    """Points every module-level name that still holds a function `install`
    replaced (`from time import monotonic as _time`, as `queue`, `threading`
    and `timeit` have it) at its replacement."""
    replaced = {}
    for module, functions in before.items():
        for name, old in functions.items():
            new = getattr(module, name, old)
            if new is not old:
                replaced[id(old)] = (old, new)

    def swapped(value):
        swap = replaced.get(id(value))
        return swap[1] if swap is not None and swap[0] is value else value

    def swap_defaults(function):
        defaults = getattr(function, "__defaults__", None)
        if defaults:
            function.__defaults__ = tuple(swapped(value) for value in defaults)

    for module in list(sys.modules.values()):
        namespace = getattr(module, "__dict__", None)
        own = getattr(module, "__name__", "").startswith(("polybox_guest", "sandbox"))
        if not isinstance(namespace, dict) or module in before or own:
            # The runtime's own modules keep the originals they wrap.
            continue
        for name, value in list(namespace.items()):
            namespace[name] = swapped(value)
            # Defaults bound at definition (`timer=default_timer`).
            if isinstance(value, types.FunctionType):
                swap_defaults(value)
            elif isinstance(value, type) and value.__module__ == module.__name__:
                for member in vars(value).values():
                    if isinstance(member, types.FunctionType):
                        swap_defaults(member)


def install():
    """Applies the routing; run once, at build time."""
    before = {module: dict(vars(module)) for module in _patched_modules()}
    _route()
    _swap_captured(before)


def _route():
    threading.Condition.wait = _wait_alone
    time.time, time.time_ns = _time, _time_ns
    # Every other clock is the host's monotonic one (a guest has no CPU
    # clock of its own).
    for clock in ("monotonic", "perf_counter", "process_time", "thread_time"):
        setattr(time, clock, _monotonic)
        setattr(time, f"{clock}_ns", _monotonic_ns)
    time.sleep = _sleep
    time.get_clock_info = _clock_info
    if hasattr(time, "clock_gettime"):
        time.clock_gettime = _clock_gettime
        time.clock_gettime_ns = _clock_gettime_ns
        time.clock_getres = _clock_getres
    os.times = _unavailable("os.times")
    sqlite3.connect = sqlite3.dbapi2.connect = _connect
    # Waiting on descriptors: a guest has none (timers wait through the host).
    select.select = _unavailable("select.select")
    for name in ("poll", "epoll", "devpoll", "kqueue"):
        if hasattr(select, name):
            setattr(select, name, _unavailable(f"select.{name}"))
    for name in ("gmtime", "localtime", "ctime"):
        setattr(time, name, _clocked(getattr(time, name)))
    time.strftime = _with_local_time(time.strftime, 1)
    time.asctime = _with_local_time(time.asctime, 0)
    os.urandom = urandom
    random._urandom = urandom
    _seed_random_from_host()
    os.getcwd = _getcwd
    os.getcwdb = lambda: _cwd.encode("utf-8", "surrogateescape")
    os.system = files.refusal(errno.EPERM, "a sandbox cannot start processes", "system")
    # Tracebacks read source lines through `linecache`, which would open
    # files; it serves what the runtime registered instead.
    linecache.getlines = _cached_lines
    linecache.checkcache = lambda filename=None: None
    linecache.updatecache = lambda filename, module_globals=None: _cached_lines(filename)


# Audit events of what no sandbox reaches: files, processes, sockets,
# native code. CPython raises an event before each such operation, in C
# code too (the parser opens a file to quote the line of a syntax error), so
# refusing it here turns what would reach a stubbed WASI function (a trap)
# into an exception Python code expects. Hooks cannot be removed.
_DENIED_EVENTS = ("open", "os.", "shutil.", "socket.", "subprocess.", "ctypes.", "pty.", "fcntl.")
# Raised by Python code that the sandbox serves: the environment (kept in the
# guest), and `os.walk`, whose `scandir` is the filesystem capability's.
_ALLOWED_EVENTS = ("os.putenv", "os.unsetenv", "os.walk")


def _in_memory(database):
    """Whether a SQLite database name keeps it in memory."""
    name = database.decode("utf-8", "replace") if isinstance(database, bytes) else str(database)
    return name == ":memory:" or (name.startswith("file:") and ("mode=memory" in name or name.startswith("file::memory:")))


def _refuse_attach(action, name, *rest):
    """A SQLite authorizer: `ATTACH` of a file (which SQLite would open
    through WASI) is refused; everything else is allowed."""
    if action == sqlite3.SQLITE_ATTACH and not _in_memory(name or ""):
        return sqlite3.SQLITE_DENY
    return sqlite3.SQLITE_OK


def _connect(database, *args, **kwargs):
    """`sqlite3.connect`, its connections refusing to attach files."""
    connection = _sqlite_connect(database, *args, **kwargs)
    connection.set_authorizer(_refuse_attach)
    return connection


_sqlite_connect = sqlite3.connect


def _audit(event, args):
    if event == "sqlite3.connect" and not _in_memory(args[0]):
        # SQLite's own file access goes through WASI.
        raise PermissionError(errno.EACCES, "SQLite databases live in memory in a sandbox: connect to ':memory:'")
    if event.startswith(_DENIED_EVENTS) and event not in _ALLOWED_EVENTS:
        if event == "open" or event.startswith(("os.listdir", "os.scandir", "os.mkdir", "os.remove", "os.rename", "os.rmdir", "os.chdir")):
            raise PermissionError(
                errno.EACCES, "files are reached through open() and os, which the sandbox's filesystem serves"
            )
        raise PermissionError(errno.EPERM, f"{event} is not available in a sandbox")


def serve_files():
    """Serves `open()` and the filesystem functions of `os` and `posix` from
    the sandbox's filesystem (`files`), and installs the audit hook; run
    last, at build time (the build itself imports from files)."""
    for module in (os, posix):
        for name, function in files.SERVED.items():
            if hasattr(module, name):
                setattr(module, name, function)
    builtins.open = files.open_file
    io.open = files.open_file
    sys.addaudithook(_audit)

