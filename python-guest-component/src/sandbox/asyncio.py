"""`await hostcall(name, payload)`: the host's hostcall `name` (the
sandbox's hostcall handler decides; none is granted by default), and
`run(coroutine)` to drive async work from synchronous code."""

from polybox_guest import imports, loop


async def hostcall(call_type, payload=None):
    """Calls the host's hostcall `call_type` with `payload` (JSON); returns
    what the host returned."""
    return imports.call("polybox:hostcall", str(call_type), [payload])


def run(main):
    """Runs a coroutine (or collects an async generator into a list) on the
    guest's loop, from synchronous code."""
    if hasattr(main, "__anext__"):

        async def collect():
            return [item async for item in main]

        main = collect()
    return loop.run(main)


async def subscribe(pollable):
    """isola's low-level pollable wait: Polybox guests have no pollables."""
    raise NotImplementedError(
        "subscribe() is not supported by Polybox: use hostcall() or sandbox.http"
    )


__all__ = ["hostcall", "run", "subscribe"]
