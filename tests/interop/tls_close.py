"""How keepdav ends a TLS connection, seen from a strict Python ssl client (tls_https.sh).

A TLS peer that ends a connection should send a close_notify alert first (RFC 8446 6.1, RFC 5246
7.2.1): without one the client cannot tell a complete answer from a truncated one. Python's ssl
module, with suppress_ragged_eofs=False, tells the three endings apart:
    close_notify  recv() returns b'' (SSL_ERROR_ZERO_RETURN: the alert arrived, then EOF)
    eof           ssl.SSLEOFError (the TCP connection closed without the alert)
    reset         ConnectionResetError (RST)
Each mode prints one JSON line: {"status": N or null, "ending": ..., "seconds": S, ...}.

Usage: tls_close.py MODE PORT CA_FILE [ARG...]
  close          GET / with "Connection: close", read the answer, then how the connection ended
  idle           GET / (keep-alive), read the answer, then wait for the server to end the
                 connection (its keep-alive timeout); "seconds" is how long that took
  stop           GET / (keep-alive), read the answer, print "ready", then wait as in idle (the
                 caller stops the server meanwhile)
  client-close   GET / (keep-alive), read the answer, then close with close_notify ourselves
                 (SSLSocket.unwrap: sends the alert and waits for the server's)
  refused PATH BYTES
                 PUT PATH with Content-Length BYTES and no Expect: 100-continue, sending the
                 whole body (as Windows and Office do), then reading the answer; "sent" is how
                 much of the body went out
"""

import json
import socket
import ssl
import sys
import time


def connect(port, ca):
    context = ssl.create_default_context(cafile=ca)
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    return context.wrap_socket(raw, server_hostname="localhost", suppress_ragged_eofs=False)


def read_answer(tls):
    """Reads one response (head and a Content-Length or chunked body): (status, rest)."""
    data = b""
    while b"\r\n\r\n" not in data:
        piece = tls.recv(65536)
        if not piece:
            raise EOFError("connection ended inside the response head")
        data += piece
    head, _, rest = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        want = int(headers["content-length"])
        while len(rest) < want:
            piece = tls.recv(65536)
            if not piece:
                raise EOFError("connection ended inside the body")
            rest += piece
        rest = rest[want:]
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while not rest.endswith(b"0\r\n\r\n"):
            piece = tls.recv(65536)
            if not piece:
                raise EOFError("connection ended inside the chunked body")
            rest += piece
        rest = b""
    return status, headers, rest


def ending(tls, timeout):
    """How the connection ends: close_notify, eof or reset (or data/timeout if it does not)."""
    tls.settimeout(timeout)
    try:
        piece = tls.recv(65536)
        return "close_notify" if piece == b"" else "data"
    except ssl.SSLEOFError:
        return "eof"
    except ssl.SSLZeroReturnError:
        return "close_notify"
    except (ConnectionResetError, BrokenPipeError):
        return "reset"
    except socket.timeout:
        return "timeout"
    except ssl.SSLError as e:
        return "ssl-error " + e.reason if e.reason else "ssl-error"


def get(tls, close):
    request = "GET / HTTP/1.1\r\nHost: localhost\r\n"
    if close:
        request += "Connection: close\r\n"
    tls.sendall((request + "\r\n").encode())
    return read_answer(tls)


def main():
    mode, port, ca = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    out = {"mode": mode, "status": None}
    tls = connect(port, ca)
    out["protocol"] = tls.version()
    started = time.monotonic()
    if mode == "close":
        out["status"], _, _ = get(tls, close=True)
        out["ending"] = ending(tls, 10)
    elif mode in ("idle", "stop"):
        out["status"], _, _ = get(tls, close=False)
        if mode == "stop":
            print("ready", flush=True)
        started = time.monotonic()
        out["ending"] = ending(tls, 30)
    elif mode == "client-close":
        out["status"], _, _ = get(tls, close=False)
        try:
            tls.unwrap()  # our close_notify, then the server's
            out["ending"] = "close_notify"
        except ssl.SSLEOFError:
            out["ending"] = "eof"
        except (ConnectionResetError, BrokenPipeError):
            out["ending"] = "reset"
    elif mode == "refused":
        path, size = sys.argv[4], int(sys.argv[5])
        head = f"PUT {path} HTTP/1.1\r\nHost: localhost\r\nContent-Length: {size}\r\n\r\n"
        tls.sendall(head.encode())
        # The whole body first, then the answer, as the plain-HTTP test of the same case
        # (tests/integration/http_test.cc, HttpTest.RefusedLargeBodyStillGetsTheAnswer) does:
        # the server must keep reading (lingering close) so that the sends complete.
        chunk, sent = b"x" * 65536, 0
        try:
            while sent < size:
                n = min(len(chunk), size - sent)
                tls.sendall(chunk[:n])
                sent += n
        except (OSError, ssl.SSLError) as e:
            out["send_error"] = type(e).__name__
        out["sent"] = sent
        try:
            out["status"], _, _ = read_answer(tls)
            out["ending"] = ending(tls, 10)
        except (ConnectionResetError, BrokenPipeError):
            out["ending"] = "reset"
        except ssl.SSLEOFError:
            out["ending"] = "eof before the answer"
    else:
        raise SystemExit(f"unknown mode {mode}")
    out["seconds"] = round(time.monotonic() - started, 2)
    tls.close()
    print(json.dumps(out), flush=True)


if __name__ == "__main__":
    main()
