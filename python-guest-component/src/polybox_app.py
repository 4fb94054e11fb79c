"""Polybox's Python guest: CPython, made a component by componentize-py,
serving the `runtime` interface of `polybox:sandbox` (the `python-runtime`
world) as the JS guest does.

componentize-py runs this module at build time and snapshots the
interpreter, so whatever it imports is in the guest's first memory image and
costs a sandbox nothing to start. The guest is built with WASI stubbed out
(`--stub-wasi`): it imports nothing but `polybox:sandbox`, so its whole
state is its linear memory (images, snapshots and templates work as for the
JS guest) and everything it reaches (time, randomness, output) goes through
the host's interfaces, which `polybox_guest.platform` routes the standard
library to.
"""

import importlib
import pkgutil
import sys

# Before anything imports `datetime`: the C implementation reads the clock
# through WASI; the pure-Python one reads `time.time`, which
# `polybox_guest.platform` routes to the host.
sys.modules["_datetime"] = None

# The standard library a guest can import: only what is imported here is in
# the guest (at run time there is no filesystem to import the rest from).
STDLIB = (
    "_strptime abc argparse array ast asyncio base64 binascii bisect calendar cmath codecs "
    "collections collections.abc colorsys contextlib contextvars copy csv dataclasses datetime "
    "decimal difflib email.message email.parser email.utils enum fnmatch fractions functools gc "
    "getopt glob gzip hashlib heapq hmac html html.parser inspect io itertools json keyword "
    "locale logging math numbers operator pathlib pprint queue random re secrets shlex sqlite3 "
    "statistics string struct textwrap timeit tomllib traceback types typing unicodedata "
    "urllib.parse uuid weakref xml.dom.minidom xml.etree.ElementTree zipfile zlib"
).split()

for _name in STDLIB:
    importlib.import_module(_name)

# Codecs are imported by name when first used: all of them, now.
import encodings  # noqa: E402

for _codec in pkgutil.iter_modules(encodings.__path__):
    try:
        importlib.import_module(f"encodings.{_codec.name}")
    except ImportError:  # platform-specific codecs (mbcs, oem)
        pass

from polybox_guest import imports as _imports  # noqa: E402
from polybox_guest import platform as _platform  # noqa: E402
from polybox_guest import streams as _streams  # noqa: E402

_platform.install()
_streams.install()
_imports.install()

import sandbox  # noqa: E402, F401
import sandbox.asyncio  # noqa: E402, F401
import sandbox.http  # noqa: E402, F401
import sandbox.importlib  # noqa: E402, F401
import sandbox.logging  # noqa: E402, F401
import sandbox.serde  # noqa: E402, F401
from polybox_guest import handlers as _handlers  # noqa: E402
from polybox_guest.runtime import Runtime as _Runtime  # noqa: E402
from wit_world import exports  # noqa: E402


class Runtime(_Runtime, exports.Runtime):
    """The export componentize-py binds `polybox:sandbox/runtime` to."""


# Last: no more imports from files; files come from the sandbox's filesystem.
_imports.seal()
_platform.serve_files()
_handlers.remember_builtins()

