"""A small HTTP/1.1 keep-alive client for the benchmark's one-connection loops.

Why not http.client: on 2 cores shared with the server, the client's CPU time is taken from the
server, so the per-request cost matters. This client sends pre-built request bytes and parses
only what the checks need (status, headers, Content-Length or chunked body). It talks only to
127.0.0.1 (the constructor refuses anything else) and every read has a timeout. Interim (1xx)
responses before the final one are skipped and kept on the Response (keepdav's 102 Processing
during a long COPY, MOVE or DELETE; http.client would take a 102 for the final answer).
"""

import re
import socket
import time

# <D:response ...> in any prefix (or none), but not <D:responsedescription>.
_RESPONSE_ELEMENT = re.compile(rb"<(?:[A-Za-z_][\w.-]*:)?response[\s>]")


def count_responses(body: bytes) -> int:
    """Number of <response> elements in a multistatus body."""
    return len(_RESPONSE_ELEMENT.findall(body))


class Response:
    __slots__ = ("status", "headers", "body", "body_len", "interim")

    def __init__(self, status, headers, body, body_len, interim=()):
        self.status = status
        self.headers = headers
        self.body = body
        self.body_len = body_len
        # (status, headers, seconds since the request was sent) of each 1xx before this one.
        self.interim = interim


class Connection:
    """One keep-alive connection to 127.0.0.1:port. Not thread-safe."""

    def __init__(self, port, host="127.0.0.1", timeout=60.0, source=None, headers=None):
        """source: a local address to connect from (127.0.0.x), so that many connections do
        not all count against one client address's cap. headers: sent with every request
        (the Authorization of the keepdav-auth server)."""
        self.headers = dict(headers or {})
        if host != "127.0.0.1" or (source is not None and not source.startswith("127.")):
            raise ValueError("the benchmark talks only to 127.0.0.1")
        self.host = host
        self.source = source
        self.port = port
        self.timeout = timeout
        self.sock = None
        self.buf = bytearray()

    def _connect(self):
        self.sock = socket.create_connection(
            (self.host, self.port), timeout=self.timeout,
            source_address=(self.source, 0) if self.source else None)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = bytearray()

    def close(self):
        if self.sock is not None:
            self.sock.close()
            self.sock = None

    def build(self, method, path, headers=None, body=b""):
        """Request bytes, built once and reusable."""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {self.host}:{self.port}"]
        for k, v in {**self.headers, **(headers or {})}.items():
            lines.append(f"{k}: {v}")
        if body or method in ("PUT", "POST", "PROPFIND", "PROPPATCH"):
            lines.append(f"Content-Length: {len(body)}")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def request(self, method, path, headers=None, body=b"", keep_body=True, sink=None):
        return self.send_raw(self.build(method, path, headers, body), method == "HEAD",
                             keep_body, sink)

    def send_raw(self, raw, head=False, keep_body=True, sink=None):
        """Send pre-built request bytes; return a Response. keep_body=False counts bytes only;
        sink, if given, is called with each body chunk (for counting elements as they stream)."""
        if self.sock is None:
            self._connect()
        self.sock.sendall(raw)
        status, headers, interim = self._read_head(time.perf_counter())
        body_len = 0
        parts = [] if keep_body else None

        def take(chunk):
            nonlocal body_len
            body_len += len(chunk)
            if parts is not None:
                parts.append(chunk)
            if sink is not None:
                sink(chunk)

        te = headers.get("transfer-encoding", "").lower()
        if head or status in (101, 204, 304):
            pass
        elif "chunked" in te:
            while True:
                line = self._read_line()
                size = int(line.split(b";")[0].strip(), 16)
                if size == 0:
                    while self._read_line():  # trailers, then the empty line
                        pass
                    break
                self._read_exact(size, take)
                self._read_line()
        elif "content-length" in headers:
            self._read_exact(int(headers["content-length"]), take)
        else:  # body until close
            while True:
                chunk = self._recv()
                if not chunk:
                    break
                take(chunk)
            self.close()
        if headers.get("connection", "").lower() == "close" and self.sock is not None:
            self.close()
        body = b"".join(parts) if parts is not None else b""
        return Response(status, headers, body, body_len, interim)

    def _recv(self):
        if self.buf:
            data = bytes(self.buf)
            self.buf = bytearray()
            return data
        return self.sock.recv(1 << 20)

    def _read_line(self):
        while True:
            i = self.buf.find(b"\r\n")
            if i >= 0:
                line = bytes(self.buf[:i])
                del self.buf[: i + 2]
                return line
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("connection closed by the server")
            self.buf += chunk

    def _read_exact(self, n, take):
        if self.buf:
            k = min(n, len(self.buf))
            take(bytes(self.buf[:k]))
            del self.buf[:k]
            n -= k
        while n > 0:
            chunk = self.sock.recv(min(n, 1 << 20))
            if not chunk:
                raise ConnectionError("connection closed mid-body")
            take(chunk)
            n -= len(chunk)

    def _read_head(self, sent_at):
        """(status, headers, interim) of the final response; 101 counts as final."""
        interim = []
        while True:
            line = self._read_line()
            status = int(line.split(b" ", 2)[1])
            headers = {}
            while True:
                h = self._read_line()
                if not h:
                    break
                k, _, v = h.partition(b":")
                headers[k.strip().lower().decode("latin-1")] = v.strip().decode("latin-1")
            if 100 <= status < 200 and status != 101:  # interim; the final response follows
                interim.append((status, headers, time.perf_counter() - sent_at))
                continue
            return status, headers, interim


class ResponseCounter:
    """Counts <response> elements in a streamed body without keeping it (bounded memory)."""

    def __init__(self):
        self.count = 0
        self.tail = b""

    def __call__(self, chunk):
        data = self.tail + chunk
        # An element cut at the chunk boundary is counted in the next call: a match contains
        # exactly one '<', at its start, so every match before the last '<' is complete.
        cut = data.rfind(b"<")
        if cut < 0:
            self.tail = b""
            return
        self.count += count_responses(data[:cut])
        self.tail = data[cut:]

    def finish(self):
        self.count += count_responses(self.tail)
        self.tail = b""
        return self.count


def timed(fn):
    """(result, wall seconds, client CPU seconds) of fn()."""
    c0 = time.process_time()
    t0 = time.perf_counter()
    r = fn()
    return r, time.perf_counter() - t0, time.process_time() - c0
