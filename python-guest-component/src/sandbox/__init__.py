"""isola's guest API for Python, served by Polybox: `sandbox.asyncio`
(`hostcall`, `run`), `sandbox.logging` and `sandbox.serde`."""
