"""Files: `open()` and the filesystem functions of `os` (and `posix`), served
by the sandbox's filesystem capability (the host's internal module
`polybox:fs`), as the JS guest's `fs` is. The host decides every operation
by the sandbox's permissions: by default the sandbox sees an in-memory
`/tmp` and whatever was mounted or seeded, nothing of the host's own files.

A file is read whole when it is opened and written back whole when it is
flushed or closed: contents cross the host boundary as base64, a piece (at
most 4 MiB) per host call.
"""

import base64
import errno
import io
import os
import stat as stat_module
import sys

from . import imports

_MODULE = "polybox:fs"
# What the host reads per call.
_PIECE = 4 * 1024 * 1024


def _call(function, *args):
    answer = imports.call(_MODULE, function, args)
    if "err" in answer:
        failure = answer["err"]
        code = getattr(errno, failure.get("code", ""), errno.EIO)
        path = args[0] if args and isinstance(args[0], str) else None
        raise OSError(code, failure.get("detail") or os.strerror(code), path)
    return answer.get("ok")


def _path(path):
    path = os.fspath(path)
    if isinstance(path, bytes):
        path = path.decode("utf-8", "surrogateescape")
    if not isinstance(path, str):
        raise TypeError(f"expected str, bytes or os.PathLike object, not {type(path).__name__}")
    if "\0" in path:
        raise ValueError("embedded null byte")
    return path if path.startswith("/") else os.path.join(os.getcwd(), path)


def read_bytes(path):
    """The whole contents of `path`."""
    path = _path(path)
    chunks = []
    offset = 0
    while True:
        piece = base64.b64decode(_call("read", path, offset, _PIECE))
        chunks.append(piece)
        offset += len(piece)
        if len(piece) < _PIECE:
            return b"".join(chunks)


def load_source(path):
    """A module's source at `path`, read as imports read it: a program's
    directory may be readable by imports only (`polybox:fs`'s `load`)."""
    return _call("load", _path(path))


def write_bytes(path, data, append=False, exclusive=False):
    """Writes `data` to `path` (replacing it, or at its end)."""
    _call("write", _path(path), base64.b64encode(data).decode("ascii"), append, exclusive)


class _File(io.BytesIO):
    """An open file's bytes, written back to the host on flush and close
    when the mode writes: whole, or (appending) what was added."""

    def __init__(self, path, initial, readable, writable, append):
        super().__init__(initial)
        self.name = path
        self._readable = readable
        self._writable = writable
        self._append = append
        self._dirty = False
        # What the host already has of the buffer, when appending.
        self._written = len(initial)
        if append:
            self.seek(0, io.SEEK_END)

    def readable(self):
        return self._readable

    def writable(self):
        return self._writable

    def read(self, size=-1):
        if not self._readable:
            raise io.UnsupportedOperation("not readable")
        return super().read(size)

    def write(self, data):
        if not self._writable:
            raise io.UnsupportedOperation("not writable")
        self._dirty = True
        if self._append:
            self.seek(0, io.SEEK_END)
        return super().write(data)

    def truncate(self, size=None):
        if not self._writable:
            raise io.UnsupportedOperation("not writable")
        self._dirty = True
        return super().truncate(size)

    def flush(self):
        if self._dirty and not self.closed:
            data = self.getvalue()
            if self._append:
                write_bytes(self.name, data[self._written:], append=True)
                self._written = len(data)
            else:
                write_bytes(self.name, data)
            self._dirty = False
        super().flush()

    def close(self):
        if not self.closed:
            self.flush()
        super().close()


def open_file(file, mode="r", buffering=-1, encoding=None, errors=None, newline=None, closefd=True, opener=None):
    """`open()`, on the sandbox's filesystem."""
    if isinstance(file, int):
        raise OSError(errno.EBADF, "file descriptors cannot be opened in a sandbox")
    if opener is not None:
        raise ValueError("opener is not supported in a sandbox")
    kinds = set(mode)
    if not kinds <= set("rwxabt+") or len(kinds & set("rwxa")) != 1 or {"b", "t"} <= kinds:
        raise ValueError(f"invalid mode: {mode!r}")
    binary = "b" in kinds
    if binary and (encoding is not None or errors is not None or newline is not None):
        raise ValueError("binary mode doesn't take an encoding, errors or newline argument")
    path = _path(file)
    update = "+" in kinds
    if "r" in kinds:
        initial = read_bytes(path)
    elif "x" in kinds:
        write_bytes(path, b"", exclusive=True)
        initial = b""
    elif "a" in kinds:
        # Made if missing; its contents are read only to be read back.
        write_bytes(path, b"", append=True)
        initial = read_bytes(path) if update else b""
    else:
        write_bytes(path, b"")
        initial = b""
    raw = _File(
        path,
        initial,
        readable="r" in kinds or update,
        writable="r" not in kinds or update,
        append="a" in kinds,
    )
    raw.mode = mode
    if binary:
        return raw
    text = io.TextIOWrapper(raw, encoding=encoding or "utf-8", errors=errors, newline=newline, write_through=True)
    text.mode = mode
    return text


def stat(path, *, dir_fd=None, follow_symlinks=True):
    """`os.stat`: type, size and modification time from the host."""
    if isinstance(path, int):
        raise OSError(errno.EBADF, "file descriptors cannot be examined in a sandbox")
    info = _call("stat", _path(path), follow_symlinks)
    kind = {
        "file": stat_module.S_IFREG | 0o644,
        "dir": stat_module.S_IFDIR | 0o755,
        "symlink": stat_module.S_IFLNK | 0o777,
    }.get(info["type"], stat_module.S_IFREG | 0o644)
    seconds = info["mtimeMs"] / 1000.0
    return os.stat_result((kind, 0, 0, 1, 0, 0, info["size"], seconds, seconds, seconds))


def lstat(path, *, dir_fd=None):
    """`os.lstat`."""
    return stat(path, follow_symlinks=False)


def listdir(path="."):
    """`os.listdir`."""
    return [name for name, _ in _call("readdir", _path(path))]


class _DirEntry:
    """What `os.scandir` yields."""

    def __init__(self, directory, name, kind):
        self.name = name
        self.path = os.path.join(directory, name)
        self._kind = kind

    def is_dir(self, *, follow_symlinks=True):
        return self._kind == "dir"

    def is_file(self, *, follow_symlinks=True):
        return self._kind == "file"

    def is_symlink(self):
        return self._kind == "symlink"

    def stat(self, *, follow_symlinks=True):
        return stat(self.path, follow_symlinks=follow_symlinks)

    def __fspath__(self):
        return self.path

    def __repr__(self):
        return f"<DirEntry {self.name!r}>"


class _Scandir:
    def __init__(self, path):
        directory = _path(path)
        self._entries = iter([_DirEntry(directory, name, kind) for name, kind in _call("readdir", directory)])

    def __iter__(self):
        return self

    def __next__(self):
        return next(self._entries)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._entries = iter(())


def scandir(path="."):
    """`os.scandir`."""
    return _Scandir(path)


def mkdir(path, mode=0o777, *, dir_fd=None):
    """`os.mkdir`."""
    _call("mkdir", _path(path), False)


def makedirs(name, mode=0o777, exist_ok=False):
    """`os.makedirs`, as one host call."""
    if os.path.isdir(name) and exist_ok:
        return
    if os.path.exists(name):
        raise FileExistsError(errno.EEXIST, "File exists", os.fspath(name))
    _call("mkdir", _path(name), True)


def remove(path, *, dir_fd=None):
    """`os.remove` and `os.unlink`."""
    _call("rm", _path(path), "file")


def rmdir(path, *, dir_fd=None):
    """`os.rmdir`."""
    _call("rm", _path(path), "dir")


def rename(src, dst, *, src_dir_fd=None, dst_dir_fd=None):
    """`os.rename` and `os.replace`."""
    _call("rename", _path(src), _path(dst))


def readlink(path, *, dir_fd=None):
    """`os.readlink`."""
    return _call("readlink", _path(path))


def access(path, mode, *, dir_fd=None, effective_ids=False, follow_symlinks=True):
    """`os.access`: whether the host lets the path be examined."""
    try:
        stat(path)
        return True
    except OSError:
        return False


def truncate(path, length):
    """`os.truncate`."""
    _call("truncate", _path(path), length)


def refusal(code, message, name="refused"):
    """A stand-in for a function a sandbox does not offer: it raises
    `OSError(code, message)` (a `PermissionError` for `EPERM`), the error
    Python code expects, where the original would reach WASI (a trap)."""

    def refused(*args, **kwargs):
        raise OSError(code, message)

    refused.__name__ = name
    return refused


_no_links = refusal(errno.EPERM, "links cannot be created in a sandbox")
_no_descriptors = refusal(errno.EBADF, "file descriptors are not available in a sandbox: use open()")
_unsupported = refusal(errno.EPERM, "this file operation is not available in a sandbox")


def _write(fd, data):
    """`os.write`: the standard streams only (1 and 2)."""
    if fd not in (1, 2):
        _no_descriptors()
    stream = sys.stdout if fd == 1 else sys.stderr
    stream.flush()
    return stream.buffer.write(data)


def _read(fd, size):
    """`os.read`: standard input only (0)."""
    if fd != 0:
        _no_descriptors()
    return sys.stdin.read(size).encode("utf-8")


def _isatty(fd):
    return False


# Name in `os` and `posix` -> what serves it.
SERVED = {
    "stat": stat,
    "lstat": lstat,
    "listdir": listdir,
    "scandir": scandir,
    "mkdir": mkdir,
    "makedirs": makedirs,
    "remove": remove,
    "unlink": remove,
    "rmdir": rmdir,
    "rename": rename,
    "replace": rename,
    "readlink": readlink,
    "access": access,
    "truncate": truncate,
    "symlink": _no_links,
    "link": _no_links,
    "open": _unsupported,
    "write": _write,
    "read": _read,
    "isatty": _isatty,
    **{
        name: _no_descriptors
        for name in (
            "close", "closerange", "dup", "dup2", "fstat", "fsync", "fdatasync", "ftruncate",
            "lseek", "pipe", "readv", "writev", "pread", "pwrite", "device_encoding",
            "get_blocking", "set_blocking", "get_inheritable", "set_inheritable", "fchmod",
            "fchown", "fstatvfs", "posix_fallocate", "posix_fadvise", "sendfile", "ttyname",
            "fpathconf", "fchdir", "fdopendir",
        )
    },
    "chdir": _unsupported,
    "chmod": _unsupported,
    "utime": _unsupported,
    "statvfs": _unsupported,
}
