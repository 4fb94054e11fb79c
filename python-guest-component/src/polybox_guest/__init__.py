"""The Python guest's runtime: what serves `polybox:sandbox/runtime` in
CPython. One concern per module: `platform` (the standard library routed to
the host), `streams` (stdout and stderr), `imports` (host and user
modules), `loop` (asyncio on the host's clock), `errors` (exceptions as
guest errors), `handlers`, `programs`, `session` (isola's calls) and
`runtime` (the export itself).
"""
