"""Programs: a Python script run as a process, with `sys.argv`,
`os.environ`, its standard streams, top-level `await`, and its event loop
run until nothing is pending. A script run of kind `script` continues the
namespace of the script before it (a REPL's lines; isola's sessions)."""

import ast
import builtins
import inspect
import os
import sys

from wit_world.exports.runtime import ProgramExit, ProgramKind

from . import errors, loop, platform, streams
from .handlers import to_json
from .text import remember_source
from .loop import Unsettled

# The namespace `script` runs share.
_main = None


def _namespace(program):
    global _main
    if program.kind == ProgramKind.SCRIPT and _main is not None:
        return _main
    namespace = {
        "__name__": "__main__",
        "__file__": program.filename,
        "__builtins__": builtins,
    }
    if program.kind == ProgramKind.SCRIPT:
        _main = namespace
    return namespace


def _exit_code(exit):
    code = exit.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF if code >= 0 else code
    print(code, file=sys.stderr)
    return 1


def _report(error):
    print(errors.stack(error), file=sys.stderr)


def run(program):
    """Runs `program`; returns how it ended."""
    streams.to_process(True)
    sys.argv = [program.filename, *program.args]
    # The program's own modules are found next to it (through the
    # sandbox's filesystem, which decides what is readable).
    directory = program.filename.rpartition("/")[0]
    sys.path[:] = [directory or "/"] if program.filename.startswith("/") else []
    os.environ.clear()
    os.environ.update(dict(program.env))
    platform.set_cwd(program.cwd)
    namespace = _namespace(program)
    remember_source(program.filename, program.source)
    code = 0
    value = None
    try:
        tree = compile(
            program.source,
            program.filename,
            "exec",
            flags=ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT,
        )
        # A script's last expression is its value, as a REPL's line's is.
        last = None
        if program.kind == ProgramKind.SCRIPT and tree.body and isinstance(tree.body[-1], ast.Expr):
            last = ast.Expression(tree.body.pop().value)
        _evaluate(compile(tree, program.filename, "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
        if last is not None:
            value = _json_of(
                _evaluate(compile(last, program.filename, "eval", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT), namespace)
            )
        loop.drain()
    except SystemExit as exit:
        code = _exit_code(exit)
    except Unsettled as error:
        print(f"Warning: {error}", file=sys.stderr)
        code = 13
    except platform.Stopped:
        raise
    except BaseException as error:
        _report(error)
        code = 1
    finally:
        loop.cancel_pending()
        streams.to_process(False)
    return ProgramExit(code=code, value=value)


def _evaluate(code, namespace):
    """Runs compiled `code` in `namespace`, awaiting it if it awaits."""
    result = eval(code, namespace)
    if inspect.iscoroutine(result):
        result = loop.loop.run_until_complete(result)
    return result


def _json_of(value):
    """A script's value as JSON: `None` is no value; what has no JSON form
    is its `repr`."""
    if value is None:
        return None
    try:
        return to_json(value, "the script's value")
    except errors.Err:
        return to_json(repr(value))
