"""What guest code imports besides the standard library: host modules
(`from host import math` for the host's `host:math`), component modules
(`<namespace>:<name>`, imported as `<namespace>.<name>`) and user modules
registered with `add-module` (`from user import util`). One finder on
`sys.meta_path` serves them all; a namespace is a package of its modules."""

import importlib.abc
import importlib.machinery
import importlib.util
import json
import sys

from componentize_py_types import Err
from wit_world.imports import host_call

from . import bytes_values
from .text import is_utf8, remember_source

HOST_NAMESPACE = "host"
RESERVED = (HOST_NAMESPACE, "sandbox", "polybox_guest")

# Declared host and component modules: Python name -> (specifier, functions).
_declared = {}
# Registered user modules: Python name -> source.
_sources = {}


class HostError(Exception):
    """A host function failed; the message is the host's."""


def call(specifier, function, args):
    """Calls `function` of host module `specifier` with `args` (a list of
    JSON values, bytes among them); returns its JSON result as a Python
    value (its bytes values as `bytes`)."""
    try:
        payload = json.dumps(
            list(args), allow_nan=False, separators=(",", ":"), default=bytes_values.encode
        )
    except (TypeError, ValueError) as error:
        raise TypeError(f"the arguments of {function}() cannot be sent to the host as JSON: {error}") from None
    if not is_utf8(function):
        raise ValueError(f"{function!r} cannot name a host function (it is not UTF-8)")
    try:
        result = host_call.call(specifier, function, payload)
    except Err as error:
        failure = error.value
        if type(failure).__name__ == "CallError_TypeMismatch":
            raise TypeError(failure.value) from None
        raise HostError(failure.value) from None
    return bytes_values.loads(result)


def _python_name(specifier):
    namespace, _, name = specifier.partition(":")
    return f"{namespace}.{name}"


def _host_function(specifier, name):
    def function(*args):
        return call(specifier, name, args)

    function.__name__ = name if name.isidentifier() else "host_function"
    function.__qualname__ = function.__name__
    function.__doc__ = f"The host function {name} of {specifier}."
    return function


def declare(modules):
    """Replaces the declared host and component modules."""
    for name in list(_declared):
        sys.modules.pop(name, None)
    _declared.clear()
    for module in modules:
        _declared[_python_name(module.specifier)] = (module.specifier, list(module.functions))


def add_source(namespace, name, source):
    """Registers a user module's source (already compiled once to check it)."""
    python_name = f"{namespace}.{name}"
    _sources[python_name] = source
    sys.modules.pop(python_name, None)


def remove_source(namespace, name):
    """Forgets a user module; modules that imported it keep what they hold."""
    python_name = f"{namespace}.{name}"
    sys.modules.pop(python_name, None)
    return _sources.pop(python_name, None) is not None


def _namespaces():
    names = {HOST_NAMESPACE}
    names.update(name.partition(".")[0] for name in _declared)
    names.update(name.partition(".")[0] for name in _sources)
    return names


class _Loader(importlib.abc.Loader):
    def create_module(self, spec):
        return None

    def exec_module(self, module):
        name = module.__name__
        if "." not in name:
            module.__path__ = []
            if name == HOST_NAMESPACE:
                module.HostError = HostError
            return
        if name in _declared:
            specifier, functions = _declared[name]
            for function in functions:
                setattr(module, function, _host_function(specifier, function))
            module.__all__ = list(functions)
            return
        source = _sources[name]
        module.__file__ = f"{name.replace('.', '/')}.py"
        remember_source(module.__file__, source)
        exec(compile(source, module.__file__, "exec"), module.__dict__)


class _Finder(importlib.abc.MetaPathFinder):
    _loader = _Loader()

    def find_spec(self, fullname, path, target=None):
        if fullname in _declared or fullname in _sources:
            return importlib.machinery.ModuleSpec(fullname, self._loader)
        if fullname in _namespaces():
            return importlib.machinery.ModuleSpec(fullname, self._loader, is_package=True)
        if fullname.partition(".")[0] in _namespaces():
            namespace, _, module = fullname.partition(".")
            kind = "host" if namespace == HOST_NAMESPACE else "user"
            # No `name`: `from host import x` would turn an error naming
            # the module it looked for into "cannot import name 'x'".
            raise ModuleNotFoundError(
                f"module {namespace}:{module} is not registered ({kind} modules are "
                f"registered by the host)"
            )
        return None


class _SourceLoader(importlib.abc.Loader):
    """A module's source read from the sandbox's filesystem."""

    def __init__(self, path):
        self.path = path

    def create_module(self, spec):
        return None

    def exec_module(self, module):
        from . import files

        source = files.load_source(self.path)
        module.__file__ = self.path
        remember_source(self.path, source)
        exec(compile(source, self.path, "exec"), module.__dict__)


class _SourceFinder(importlib.abc.MetaPathFinder):
    """Modules of a program's own: `.py` files and packages in the
    directories of `sys.path` (a program's directory), read through the
    sandbox's filesystem, so the permissions decide what is importable."""

    def find_spec(self, fullname, path, target=None):
        from . import files

        name = fullname.rpartition(".")[2]
        for directory in path if path is not None else sys.path:
            if not isinstance(directory, str) or not directory.startswith("/"):
                continue
            package = f"{directory.rstrip('/')}/{name}"
            for candidate, is_package in ((f"{package}/__init__.py", True), (f"{package}.py", False)):
                try:
                    files.stat(candidate)
                except OSError:
                    continue
                return importlib.util.spec_from_file_location(
                    fullname,
                    candidate,
                    loader=_SourceLoader(candidate),
                    submodule_search_locations=[package] if is_package else None,
                )
        return None


def install():
    """Puts the finder first on `sys.meta_path`."""
    sys.meta_path.insert(0, _Finder())


def seal():
    """Leaves the standard library as it was imported at build time: the
    path finder would look for files through WASI, which a running guest
    does not have, so an import of anything else is a `ModuleNotFoundError`
    rather than a trap. Source files on the sandbox's filesystem are found
    in `sys.path`, which is empty but for a program's directory. Run last,
    at build time."""
    sys.meta_path[:] = [
        finder for finder in sys.meta_path if finder is not importlib.machinery.PathFinder
    ]
    sys.meta_path.append(_SourceFinder())
    sys.path_importer_cache.clear()
    sys.path[:] = []


def is_unregistered(error):
    """Whether `error` says a host or user module is not registered."""
    return isinstance(error, ModuleNotFoundError) and "is not registered" in str(error)


__all__ = ["HostError", "call", "declare", "add_source", "remove_source", "install"]
