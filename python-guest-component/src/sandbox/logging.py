"""Structured log lines to the sandbox's log sink (`print` still writes to
standard output)."""

from polybox_guest.text import for_host
from wit_world.imports import platform


def _log(level, message, args):
    text = str(message) % args if args else str(message)
    platform.log(level, for_host(text))


def debug(message, *args):
    """A debug line."""
    _log(platform.LogLevel.DEBUG, message, args)


def info(message, *args):
    """An info line."""
    _log(platform.LogLevel.INFO, message, args)


def warning(message, *args):
    """A warning line."""
    _log(platform.LogLevel.WARN, message, args)


def error(message, *args):
    """An error line."""
    _log(platform.LogLevel.ERROR, message, args)


warn = warning
__all__ = ["debug", "info", "warning", "warn", "error"]
