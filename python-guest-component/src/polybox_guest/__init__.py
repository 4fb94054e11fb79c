"""The Python guest's runtime: what serves `polybox:sandbox/runtime` in
CPython. One concern per module: `platform` (the standard library routed to
the host), `files` (`open()` and `os` over the filesystem capability),
`streams` (stdout and stderr), `text` (strings the host can take, source
lines for tracebacks), `imports` (host, user and program modules), `loop`
(asyncio on the host's clock), `errors` (exceptions as guest errors),
`handlers`, `programs`, `session` (isola's calls) and `runtime` (the export
itself).
"""
