"""`dumps(value, format)` and `loads(text, format)`: JSON. isola's YAML and
CBOR are not in Polybox's guest; asking for them raises ValueError."""

import json


def _check(format):
    if format != "json":
        raise ValueError(f"format {format!r} is not supported by Polybox's guest (only 'json')")


def dumps(value, format="json"):
    """`value` as text in `format`."""
    _check(format)
    return json.dumps(value)


def loads(value, format="json"):
    """The value `value` holds, in `format`."""
    _check(format)
    if isinstance(value, (bytes, bytearray)):
        value = value.decode("utf-8")
    return json.loads(value)


__all__ = ["dumps", "loads"]
