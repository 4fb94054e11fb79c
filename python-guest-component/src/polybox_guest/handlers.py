"""Handlers: Python source that defines `def handler(event)` (or `async
def`), compiled into a module of its own, and called with a JSON event."""

import builtins
import collections.abc
import json
import types

# Bound here, so that guest code replacing a builtin breaks only itself, not
# the runtime's handling of the call.
from builtins import callable, isinstance, type  # noqa: A004

from wit_world.imports.types import ErrorKind

from . import bytes_values, errors, loop, streams
from .text import is_utf8, remember_source

_handlers = {}
# Bound now, so that guest code replacing `json.dumps` breaks only itself.
_dumps = json.dumps
# The builtins as the guest was built with them (`remember_builtins`).
_BUILTINS = {}


def remember_builtins():
    """Records the builtins as they are once the guest is built (`open`
    served by the filesystem capability included); run last, at build
    time."""
    _BUILTINS.update(builtins.__dict__)


def restore_builtins():
    """Puts back the builtins guest code replaced (what it added stays)."""
    builtins.__dict__.update(_BUILTINS)


def add(name, source):
    """Compiles and runs handler `name`'s source; keeps its `handler`."""
    filename = name if name.endswith(".py") else f"{name}.py"
    remember_source(filename, source)
    try:
        code = compile(source, filename, "exec")
    except (SyntaxError, ValueError) as error:
        raise errors.report(error, compiling=True) from None
    module = types.ModuleType(f"handler:{name}")
    module.__file__ = filename
    try:
        exec(code, module.__dict__)
    except Exception as error:
        raise errors.report(error) from None
    finally:
        streams.flush()
    handler = module.__dict__.get("handler")
    if not callable(handler):
        what = "defines no function named `handler`" if handler is None else (
            f"defines `handler` as {type(handler).__name__}, not a function"
        )
        raise errors.fail(ErrorKind.MISSING_HANDLER, f"handler {name!r} {what}")
    _handlers[name] = handler


def remove(name):
    """Forgets handler `name`."""
    return _handlers.pop(name, None) is not None


def _encode(value, ascii=False, default=None):
    return _dumps(
        value, allow_nan=False, ensure_ascii=ascii, separators=(",", ":"), default=default
    )


def to_json(value, what="the handler's result", with_bytes=False):
    """JSON text of `value`: dicts, lists, tuples, strings, numbers, booleans
    and None, and with `with_bytes` bytes (as bytes values); anything else
    (a set, NaN) is an error. A string with a lone surrogate is written as
    its `\\u` escape, as JSON allows."""
    default = bytes_values.encode if with_bytes else None
    try:
        try:
            text = _encode(value, default=default)
        except (TypeError, ValueError):
            # Guest code may have broken what the encoder uses (a builtin):
            # once more with the builtins as they were built.
            restore_builtins()
            text = _encode(value, default=default)
    except (TypeError, ValueError, RecursionError) as error:
        raise errors.fail(
            ErrorKind.UNSERIALIZABLE_RESULT,
            f"{what} cannot be turned into JSON: {errors.message(error)}",
        ) from None
    return text if is_utf8(text) else _encode(value, ascii=True, default=default)


def call(name, event):
    """Calls handler `name` with the JSON `event`; returns its JSON result."""
    handler = _handlers.get(name)
    if handler is None:
        raise errors.fail(ErrorKind.UNKNOWN_HANDLER, f"no handler is registered as {name!r}")
    try:
        value = bytes_values.loads(event)
    except ValueError as error:
        raise errors.fail(ErrorKind.INVALID_EVENT, f"the event is not valid JSON: {error}") from None
    try:
        result = handler(value)
        if isinstance(result, collections.abc.Awaitable):
            result = loop.run(result)
    except Exception as error:
        raise errors.report(error) from None
    finally:
        streams.flush()
    if isinstance(result, (types.GeneratorType, types.AsyncGeneratorType)):
        raise errors.fail(
            ErrorKind.UNSERIALIZABLE_RESULT,
            "the handler returned a generator; return a JSON value (a list of its items, say)",
        )
    return to_json(result, with_bytes=True)
