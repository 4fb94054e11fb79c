"""isola's `sandbox.importlib.http(url)`: importing modules over HTTP is not
supported by Polybox (a guest imports the standard library it was built
with, and the host's modules). Register modules with the host instead
(`add_module`)."""


def http(url):
    """Not supported: raises `NotImplementedError`."""
    raise NotImplementedError(
        "sandbox.importlib.http is not supported by Polybox: register the modules with the host (add_module)"
    )


__all__ = ["http"]
