"""isola's calls (see host/src/session/): the host runs
`await __polybox_session.call("name", lambda: name, args, kwargs, streams)`
as a script of the session; the call binds the arguments, drives a
generator, and writes what it produced as records on the events stream
(fd 3), one JSON line each: `{"result": v}` per yielded value, then
`{"end": v}` or `{"error": message}`."""

import builtins
import inspect
import json

from wit_world.imports import process

from . import errors
from .handlers import to_json


def _emit(key, value, what):
    try:
        text = to_json(value, what)
    except errors.Err as failure:
        raise TypeError(failure.value.message) from None
    process.write(3, f'{{"{key}":{text}}}\n'.encode())


class _Stream:
    """A streamed argument: an async iterable pulling items from the host."""

    def __init__(self, id):
        self._id = id

    def __aiter__(self):
        return self

    async def __anext__(self):
        from sandbox.asyncio import hostcall

        step = await hostcall("__polybox_stream", {"id": self._id})
        if isinstance(step, dict) and step.get("error") is not None:
            raise RuntimeError(step["error"])
        if not isinstance(step, dict) or step.get("done"):
            raise StopAsyncIteration
        return step.get("value")


def _describe(error):
    return errors.stack(error) if error.__traceback__ else errors.message(error)


async def call(name, lookup, args_json, kwargs_json, streams):
    """Calls what `lookup()` returns with the arguments; never raises."""
    try:
        args = json.loads(args_json)
        kwargs = json.loads(kwargs_json)
        for slot, id in streams:
            if isinstance(slot, int):
                args[slot] = _Stream(id)
            else:
                kwargs[slot] = _Stream(id)
        try:
            function = lookup()
        except NameError:
            raise NameError(f"name '{name}' is not defined") from None
        if not callable(function):
            raise TypeError(f"'{name}' is not callable")
        value = function(*args, **kwargs)
        if inspect.isgenerator(value):
            for item in value:
                _emit("result", item, "a yielded value")
            value = None
        elif inspect.isasyncgen(value):
            async for item in value:
                _emit("result", item, "a yielded value")
            value = None
        elif inspect.isawaitable(value):
            value = await value
        _emit("end", value, "the result")
    except Exception as error:
        process.write(3, (json.dumps({"error": _describe(error)}) + "\n").encode())


def begin():
    """Nothing to define: Python code imports `hostcall` from
    `sandbox.asyncio`."""


class _Session:
    call = staticmethod(call)
    begin = staticmethod(begin)


builtins.__polybox_session = _Session()
