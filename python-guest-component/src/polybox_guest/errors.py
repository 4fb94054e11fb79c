"""Python exceptions as the runtime interface's guest errors: the message is
`Type: message` (a `SyntaxError` names its file and line), the stack is the
traceback without the runtime's own frames."""

import traceback

from componentize_py_types import Err
from wit_world.imports.types import ErrorKind, GuestError

from . import imports
from .text import for_host
from .loop import Unsettled

_OWN = __file__.rsplit("/", 1)[0]


def fail(kind, message, stack=None):
    """The `Err` a runtime function raises to return a guest error."""
    stack = None if stack is None else for_host(stack)
    return Err(GuestError(kind=kind, message=for_host(message), stack=stack))


def message(error):
    """`Type: message`, as Python's last traceback line reads."""
    text = str(error)
    name = type(error).__qualname__
    return f"{name}: {text}" if text else name


def stack(error):
    """The traceback of `error`, from the first frame of guest code."""
    tb = error.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename.startswith(_OWN):
        tb = tb.tb_next
    return "".join(traceback.format_exception(type(error), error, tb)).rstrip()


def kind_of(error, compiling=False):
    """The error kind an uncaught exception is reported as."""
    if isinstance(error, RecursionError):
        return ErrorKind.STACK_OVERFLOW
    if isinstance(error, MemoryError):
        return ErrorKind.OUT_OF_MEMORY
    if isinstance(error, Unsettled):
        return ErrorKind.UNSETTLED
    if compiling and isinstance(error, SyntaxError):
        return ErrorKind.SYNTAX
    if imports.is_unregistered(error):
        return ErrorKind.MODULE_NOT_FOUND
    return ErrorKind.EXCEPTION


def report(error, compiling=False):
    """`error` as the `Err` the runtime raises."""
    return fail(kind_of(error, compiling), message(error), stack(error))
