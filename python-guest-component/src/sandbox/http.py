"""isola's guest HTTP client: `fetch(method, url, ...)` gives a request
that is a context manager, synchronous (`with`, a `Response`) or
asynchronous (`async with`, an `AsyncResponse`). The request goes to the
host's network capability (the internal module `polybox:net`, which the JS
guest's `fetch` uses too): it is sent only as the sandbox's permissions
allow (nothing by default) or answered by the host's handler. Bodies are
buffered both ways; a refused request raises `PermissionError`, a failed
one `ConnectionError`.
"""

import base64
import json
import urllib.parse
import uuid

from polybox_guest import imports

__all__ = ["fetch", "Request", "Response", "AsyncResponse", "ServerSentEvent"]


class ServerSentEvent:
    """One event of a `text/event-stream` body."""

    def __init__(self, id=None, event=None, data=""):
        self.id = id
        self.event = event
        self.data = data

    def __repr__(self):
        return f"ServerSentEvent(id={self.id!r}, event={self.event!r}, data={self.data!r})"


def _multipart(files):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in files.items():
        filename, content_type = None, "application/octet-stream"
        if isinstance(value, tuple):
            filename, value, *rest = value
            if rest:
                content_type = rest[0]
        if hasattr(value, "read"):
            filename = filename or getattr(value, "name", name)
            value = value.read()
        if isinstance(value, str):
            value = value.encode()
        disposition = f'form-data; name="{name}"'
        if filename is not None:
            disposition += f'; filename="{filename}"'
            head = f"Content-Disposition: {disposition}\r\nContent-Type: {content_type}\r\n\r\n"
        else:
            head = f"Content-Disposition: {disposition}\r\n\r\n"
        parts.append(f"--{boundary}\r\n".encode() + head.encode() + bytes(value) + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


class Request:
    """A request to send, as `fetch` makes it."""

    def __init__(self, method, url, *, params=None, headers=None, files=None, body=None, timeout=None, proxy=None):
        if params:
            split = urllib.parse.urlsplit(url)
            query = urllib.parse.urlencode(params, doseq=True)
            url = urllib.parse.urlunsplit(split._replace(query=f"{split.query}&{query}" if split.query else query))
        self.method = str(method).upper()
        self.url = url
        self.headers = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        # The call's own limits bound the request; `timeout` is accepted for
        # isola's signature.
        self.timeout = timeout
        if proxy is not None:
            self.headers["x-isola-proxy"] = str(proxy)
        if files:
            body, content_type = _multipart(files)
            self.headers.setdefault("content-type", content_type)
        elif body is not None and not isinstance(body, (bytes, bytearray, memoryview, str)):
            body = json.dumps(body).encode()
            self.headers.setdefault("content-type", "application/json")
        if isinstance(body, str):
            body = body.encode()
        self.body = bytes(body) if body is not None else None

    def send(self):
        """Sends the request; the response's parts."""
        request = {
            "url": self.url,
            "method": self.method,
            "headers": list(self.headers.items()),
            "redirect": "follow",
            "body": base64.b64encode(self.body).decode("ascii") if self.body is not None else None,
        }
        answer = imports.call("polybox:net", "fetch", [request])
        if "err" in answer:
            failure = answer["err"]
            detail = failure.get("detail") or failure.get("code")
            if failure.get("code") == "EACCES":
                raise PermissionError(f"fetch of {self.url} refused: {detail}")
            raise ConnectionError(f"fetch of {self.url} failed: {detail}")
        got = answer["ok"]
        headers = {}
        for name, value in got["headers"]:
            headers[name.lower()] = f"{headers[name.lower()]}, {value}" if name.lower() in headers else value
        return got["status"], headers, base64.b64decode(got["body"] or "")

    def __enter__(self):
        self._response = Response(*self.send())
        return self._response

    def __exit__(self, *exc):
        self._response.close()

    async def __aenter__(self):
        self._response = AsyncResponse(*self.send())
        return self._response

    async def __aexit__(self, *exc):
        self._response.close()


class Response:
    """A response, read synchronously."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = headers
        self._body = body
        self._offset = 0

    def read(self, size=-1):
        """The next `size` bytes of the body (all of it for -1)."""
        end = len(self._body) if size is None or size < 0 else self._offset + size
        piece = self._body[self._offset:end]
        self._offset += len(piece)
        return piece

    def _charset(self):
        for part in self.headers.get("content-type", "").split(";")[1:]:
            key, _, value = part.strip().partition("=")
            if key.lower() == "charset":
                return value.strip('"') or "utf-8"
        return "utf-8"

    def text(self):
        """The body as text."""
        return self.read().decode(self._charset(), "replace")

    def json(self):
        """The body as JSON."""
        return json.loads(self.read())

    def iter_bytes(self, chunk_size=65536):
        """The body in chunks."""
        while True:
            chunk = self.read(chunk_size)
            if not chunk:
                return
            yield chunk

    def iter_lines(self):
        """The body's lines, without their endings."""
        yield from self.read().decode(self._charset(), "replace").splitlines()

    def iter_sse(self):
        """The body's server-sent events."""
        event = ServerSentEvent()
        data = []
        for line in self.iter_lines():
            if not line:
                if data or event.event is not None or event.id is not None:
                    event.data = "\n".join(data)
                    yield event
                event, data = ServerSentEvent(), []
            elif line.startswith(":"):
                continue
            else:
                field, _, value = line.partition(":")
                value = value[1:] if value.startswith(" ") else value
                if field == "data":
                    data.append(value)
                elif field == "event":
                    event.event = value
                elif field == "id":
                    event.id = value
        if data:
            event.data = "\n".join(data)
            yield event

    def close(self):
        """Drops the body."""
        self._body = b""
        self._offset = 0


class AsyncResponse(Response):
    """A response, read with `await` and `async for`."""

    async def aread(self, size=-1):
        return self.read(size)

    async def atext(self):
        return self.text()

    async def ajson(self):
        return self.json()

    async def aiter_bytes(self, chunk_size=65536):
        for chunk in self.iter_bytes(chunk_size):
            yield chunk

    async def aiter_lines(self):
        for line in self.iter_lines():
            yield line

    async def aiter_sse(self):
        for event in self.iter_sse():
            yield event


def fetch(method, url, *, params=None, headers=None, files=None, body=None, timeout=None, proxy=None):
    """A request: `with fetch(...) as resp` or `async with fetch(...) as resp`."""
    return Request(method, url, params=params, headers=headers, files=files, body=body, timeout=timeout, proxy=proxy)
