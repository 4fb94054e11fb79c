"""asyncio on the host's clock. The event loop's "selector" is a wait on
the host (`process.wait-until`): a guest has no file descriptors to poll,
only timers, so the loop sleeps until its next timer, and a stop (a limit,
a kill) ends the wait at once. A coroutine that waits on nothing that can
ever happen is reported as unsettled instead of hanging.

The loop is made at build time (its constructor reads clock information
through WASI, which a running guest does not have)."""

import asyncio
import asyncio.base_events

from wit_world.imports import platform as host_platform

from . import platform


class Unsettled(Exception):
    """Nothing is scheduled, yet the awaited work is not done."""


class _Clock:
    """The loop's selector: waits for the next timer."""

    def select(self, timeout):
        if timeout is None:
            raise Unsettled(
                "the coroutine can never finish: it awaits something nothing will complete"
            )
        if timeout > 0:
            platform.wait(host_platform.monotonic_ns() + int(timeout * 1e9))
        return []

    def close(self):
        pass


class HostLoop(asyncio.base_events.BaseEventLoop):
    """An event loop whose only events are timers."""

    def __init__(self):
        super().__init__()
        self._selector = _Clock()

    def time(self):
        return host_platform.monotonic_ns() / 1e9

    def _process_events(self, event_list):
        pass

    def _write_to_self(self):
        pass


loop = HostLoop()
asyncio.set_event_loop(loop)


def _new_event_loop():
    """`asyncio.new_event_loop` (and so `asyncio.run`): a loop on the
    host's clock; asyncio's own selector loop needs sockets and `select`,
    which a guest does not have."""
    return HostLoop()


asyncio.events.new_event_loop = _new_event_loop
asyncio.new_event_loop = _new_event_loop


def run(awaitable):
    """Runs `awaitable` to completion on the guest's loop, then cancels what
    it left scheduled (nothing of a call runs later)."""
    if loop.is_running():
        return run_nested(awaitable)
    try:
        return loop.run_until_complete(awaitable)
    finally:
        cancel_pending()


def run_nested(awaitable):
    """Runs `awaitable` to completion from synchronous code called by a
    running coroutine (isola's `run()` in a function a session calls): on a
    loop of its own, the running one set aside meanwhile. asyncio refuses to
    nest loops only because their callbacks would interleave; this one runs
    to completion before the caller continues."""
    outer = asyncio.events._get_running_loop()
    inner = HostLoop()
    # The running loop and task, set aside: a thread runs one of each.
    outer_task = asyncio.tasks._swap_current_task(outer, None)
    asyncio.events._set_running_loop(None)
    try:
        return inner.run_until_complete(awaitable)
    finally:
        for task in asyncio.all_tasks(inner):
            task.cancel()
        inner.close()
        asyncio.events._set_running_loop(outer)
        asyncio.tasks._swap_current_task(outer, outer_task)


async def _idle():
    me = asyncio.current_task()
    while True:
        others = [task for task in asyncio.all_tasks(loop) if task is not me]
        if others:
            await asyncio.wait(others)
        elif loop._scheduled:
            next_timer = min(handle.when() for handle in loop._scheduled)
            await asyncio.sleep(max(0.0, next_timer - loop.time()))
        else:
            return


def drain():
    """Runs what is scheduled (tasks, timers) until nothing is left: a
    program's event loop after its top level."""
    loop.run_until_complete(_idle())


def cancel_pending():
    """Cancels the tasks and timers a call left."""
    for task in asyncio.all_tasks(loop):
        task.cancel()
    if asyncio.all_tasks(loop):
        try:
            loop.run_until_complete(asyncio.sleep(0))
        except BaseException:
            pass
    for handle in loop._scheduled:
        handle.cancel()
    loop._scheduled.clear()
    loop._ready.clear()
