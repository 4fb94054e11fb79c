"""Bytes in JSON: JSON has none, so bytes travel as an object with the
single key "\\u0000bytes" holding their base64 (the host's Node addon and the
JavaScript guest use the same form), in handler events and results and in
host functions' arguments and results. A text is read with the reviving hook
only when it holds the key; only bytes reach the encoder's `default`."""

import base64
import json

# Bound here, so that guest code replacing a builtin breaks only itself, not
# the runtime's handling of a call.
from builtins import isinstance, len, str, type  # noqa: A004

KEY = "\0bytes"
IN_JSON = '"\\u0000bytes":'
_loads = json.loads
_b64encode = base64.b64encode
_b64decode = base64.b64decode


def encode(value):
    """The JSON form of bytes, as the encoder's `default`; anything else the
    encoder cannot write is still a `TypeError`."""
    if isinstance(value, (bytes, bytearray, memoryview)):
        return {KEY: _b64encode(value).decode("ascii")}
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def revive(members):
    """A parsed JSON object, or the bytes it stands for (`ValueError` when
    they are not base64)."""
    if len(members) == 1 and type(members.get(KEY)) is str:
        return _b64decode(members[KEY], validate=True)
    return members


def loads(text):
    """The JSON `text` parsed, its bytes values as `bytes`."""
    return _loads(text, object_hook=revive) if IN_JSON in text else _loads(text)
