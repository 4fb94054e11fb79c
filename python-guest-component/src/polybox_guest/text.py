"""Text that crosses to the host: a WIT string is UTF-8, and a Python
string may hold a lone surrogate, which UTF-8 cannot encode (handing one to
the host would trap). Also the source lines tracebacks show, which the
runtime registers because there are no files to read them from."""

import linecache


def is_utf8(text):
    """Whether `text` encodes as UTF-8 (no lone surrogate). ASCII, the
    common case, is answered without encoding."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
        return True
    except UnicodeEncodeError:
        return False


def for_host(text):
    """`text` as a string the host can take: a lone surrogate is written as
    its backslash escape."""
    if is_utf8(text):
        return text
    return text.encode("utf-8", "backslashreplace").decode("utf-8")


def remember_source(filename, source):
    """Lets tracebacks show the lines of `source` (a handler, a module, a
    program) as those of `filename`."""
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
