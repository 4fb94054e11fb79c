"""`sys.stdout` and `sys.stderr`: in a handler call, lines of the sandbox's
log (info and error, as `console.log` and `console.error` are in the JS
guest); in a program, its standard output and error (`process.write`).
Text is buffered until a newline, a `flush()` or the end of the call."""

import io
import sys

from wit_world.imports import platform, process

from .text import for_host

_to_process = False


def _emit(fd, text):
    if _to_process:
        process.write(fd, text.encode("utf-8", "surrogateescape"))
        return
    level = platform.LogLevel.INFO if fd == 1 else platform.LogLevel.ERROR
    for line in text.splitlines():
        platform.log(level, for_host(line))


class _Bytes(io.RawIOBase):
    """`sys.stdout.buffer`: bytes written as they are."""

    def __init__(self, text):
        self._text = text

    def writable(self):
        return True

    def write(self, data):
        data = bytes(data)
        self._text.flush()
        if _to_process:
            process.write(self._text.fd, data)
        else:
            _emit(self._text.fd, data.decode("utf-8", "replace"))
        return len(data)


class Output(io.TextIOBase):
    """A standard stream of the guest (`fd` 1 or 2)."""

    def __init__(self, fd):
        self.fd = fd
        self._pending = []
        self._buffer = _Bytes(self)

    @property
    def encoding(self):
        return "utf-8"

    @property
    def errors(self):
        return "strict"

    @property
    def buffer(self):
        return self._buffer

    def writable(self):
        return True

    def isatty(self):
        return False

    def write(self, text):
        if not isinstance(text, str):
            raise TypeError(f"write() argument must be str, not {type(text).__name__}")
        self._pending.append(text)
        if "\n" in text:
            self.flush()
        return len(text)

    def flush(self):
        if self._pending:
            text = "".join(self._pending)
            self._pending.clear()
            _emit(self.fd, text)


class Input(io.TextIOBase):
    """`sys.stdin`: a program's standard input, read from the host in
    chunks."""

    def __init__(self):
        self._buffered = bytearray()
        self._ended = False

    def readable(self):
        return True

    def _fill(self):
        if self._ended:
            return False
        chunk = process.read_stdin(65536)
        if not chunk:
            self._ended = True
            return False
        self._buffered += chunk
        return True

    def read(self, size=-1):
        while (size < 0 or len(self._buffered) < size) and self._fill():
            pass
        end = len(self._buffered) if size < 0 else size
        taken = bytes(self._buffered[:end])
        del self._buffered[:end]
        return taken.decode("utf-8", "replace")

    def readline(self, size=-1):
        while b"\n" not in self._buffered and self._fill():
            pass
        end = self._buffered.find(b"\n") + 1 or len(self._buffered)
        if size >= 0:
            end = min(end, size)
        taken = bytes(self._buffered[:end])
        del self._buffered[:end]
        return taken.decode("utf-8", "replace")

    def __iter__(self):
        return self

    def __next__(self):
        line = self.readline()
        if not line:
            raise StopIteration
        return line


stdout = Output(1)
stderr = Output(2)
stdin = Input()


def install():
    """Makes these the interpreter's streams."""
    sys.stdout = sys.__stdout__ = stdout
    sys.stderr = sys.__stderr__ = stderr
    sys.stdin = sys.__stdin__ = stdin


def to_process(enabled):
    """Sends output to the process's streams (a program) or the log (a
    handler)."""
    global _to_process
    flush()
    _to_process = enabled


def flush():
    """Writes what is buffered."""
    stdout.flush()
    stderr.flush()
