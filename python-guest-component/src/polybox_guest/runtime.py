"""The `runtime` export: each function of `polybox:sandbox/runtime` for
CPython. Every export returns promptly with an error when the host stops a
call (a `Stopped` unwinding), and turns any exception that escapes into a
guest error: an exception leaving an export would trap the instance."""

import functools
import sys

from wit_world.imports.types import ErrorKind

from . import errors, handlers, imports, platform, programs, streams
from . import session  # noqa: F401  (defines `__polybox_session` for sessions' calls)

# Bytes of the host's stack limit (a quarter of the sandbox's stack) per
# level of Python recursion. A call of pure Python takes no native stack,
# but one through C (a `__repr__`, `__getattr__`, a `sorted` key) takes
# about 1.3 KiB (measured): 640 bytes of the quarter is 2.5 KiB of stack per
# level, so the `RecursionError` comes well before the engine's stack
# overflow, which poisons the sandbox. About 400 levels per MiB of stack.
_BYTES_PER_FRAME = 640


def _guarded(function):
    @functools.wraps(function)
    def guarded(*args):
        platform.forget_seed()
        try:
            return function(*args)
        except errors.Err:
            raise
        except platform.Stopped as stop:
            handlers.restore_builtins()
            streams.flush()
            raise errors.fail(ErrorKind.EXCEPTION, str(stop)) from None
        except BaseException as error:  # SystemExit, KeyboardInterrupt, bugs
            # Reporting needs the builtins, which guest code may have broken.
            handlers.restore_builtins()
            streams.flush()
            raise errors.report(error) from None

    return guarded


class Runtime:
    """`polybox:sandbox/runtime`, served by CPython."""

    @_guarded
    def set_host_modules(self, modules):
        imports.declare(modules)

    @_guarded
    def set_stack_limit(self, bytes):
        sys.setrecursionlimit(max(50, min(bytes // _BYTES_PER_FRAME, 100_000)))

    @_guarded
    def set_heap_limit(self, bytes):
        # CPython's allocator fails cleanly (MemoryError) when memory cannot
        # grow; hosts that cap memory growth need nothing more.
        pass

    @_guarded
    def prepare_programs(self):
        pass

    @_guarded
    def add_module(self, namespace, name, source):
        if namespace in imports.RESERVED:
            raise errors.fail(ErrorKind.INVALID_ARGUMENT, f"the `{namespace}` namespace is reserved")
        if not namespace.isidentifier() or not name.isidentifier():
            raise errors.fail(
                ErrorKind.INVALID_ARGUMENT,
                f"invalid module name {namespace!r}:{name!r} (Python imports need identifiers)",
            )
        try:
            compile(source, f"{namespace}/{name}.py", "exec")
        except (SyntaxError, ValueError) as error:
            raise errors.report(error, compiling=True) from None
        imports.add_source(namespace, name, source)

    @_guarded
    def remove_module(self, namespace, name):
        return imports.remove_source(namespace, name)

    @_guarded
    def add_handler(self, name, source):
        handlers.add(name, source)

    @_guarded
    def remove_handler(self, name):
        return handlers.remove(name)

    @_guarded
    def run_program(self, program):
        return programs.run(program)

    @_guarded
    def call_handler(self, name, event, run_gc):
        # CPython frees by reference counting and collects cycles on its own
        # thresholds: `run_gc` asks for nothing more.
        return handlers.call(name, event)
