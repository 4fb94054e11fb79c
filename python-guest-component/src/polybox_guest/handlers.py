"""Handlers: Python source that defines `def handler(event)` (or `async
def`), compiled into a module of its own, and called with a JSON event."""

import inspect
import json
import types

from wit_world.imports.types import ErrorKind

from . import errors, loop, platform, streams

_handlers = {}


def add(name, source):
    """Compiles and runs handler `name`'s source; keeps its `handler`."""
    filename = name if name.endswith(".py") else f"{name}.py"
    platform.remember_source(filename, source)
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


def to_json(value, what="the handler's result"):
    """JSON text of `value`: dicts, lists, tuples, strings, numbers, booleans
    and None; anything else (a set, bytes, NaN) is an error."""
    try:
        return json.dumps(value, allow_nan=False, ensure_ascii=False, separators=(",", ":"))
    except (TypeError, ValueError, RecursionError) as error:
        raise errors.fail(
            ErrorKind.UNSERIALIZABLE_RESULT,
            f"{what} cannot be turned into JSON: {errors.message(error)}",
        ) from None


def call(name, event):
    """Calls handler `name` with the JSON `event`; returns its JSON result."""
    handler = _handlers.get(name)
    if handler is None:
        raise errors.fail(ErrorKind.UNKNOWN_HANDLER, f"no handler is registered as {name!r}")
    try:
        value = json.loads(event)
    except ValueError as error:
        raise errors.fail(ErrorKind.INVALID_EVENT, f"the event is not valid JSON: {error}") from None
    platform.seed_random()
    try:
        result = handler(value)
        if inspect.isawaitable(result):
            result = loop.run(result)
    except Exception as error:
        raise errors.report(error) from None
    finally:
        streams.flush()
    if inspect.isgenerator(result) or inspect.isasyncgen(result):
        raise errors.fail(
            ErrorKind.UNSERIALIZABLE_RESULT,
            "the handler returned a generator; return a JSON value (a list of its items, say)",
        )
    return to_json(result)
