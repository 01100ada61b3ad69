"""A Python client for the 102 Processing interop tests (processing_clients.sh).

Sends one COPY, then a PROPFIND Depth 0 of the destination on the SAME connection, and prints
what it saw as one JSON line. Python's http.client takes a 102 for the final response (it returns
102 with an empty body, and the next request on that connection reads the previous answer), so
the second request is what shows that keepdav sent it no interim response at all.

Usage: processing_copy_client.py http.client|requests SOURCE_URL DESTINATION_URL [USER_AGENT]
  http.client  the standard library as most Python WebDAV tools use it; sends no User-Agent
               unless one is given
  requests     the requests library with its own User-Agent (python-requests/X.Y); when it is
               not installed, http.client with User-Agent "python-requests/2.31" stands in and
               "emulated" is true in the output
Output: {"client": ..., "user_agent": ..., "copy_status": N, "next_status": N,
         "next_names_destination": bool, "same_connection": bool, "emulated": bool}
"""

import http.client
import json
import os
import ssl
import sys
import urllib.parse

PROPFIND_BODY = (
    '<?xml version="1.0" encoding="utf-8"?>'
    '<D:propfind xmlns:D="DAV:"><D:prop><D:resourcetype/></D:prop></D:propfind>'
)


def with_http_client(source, destination, user_agent):
    url = urllib.parse.urlsplit(source)
    if url.scheme == "https":
        # Over HTTPS (tls_over.sh) the default context trusts the test CA through SSL_CERT_FILE.
        conn = http.client.HTTPSConnection(url.hostname, url.port, timeout=60,
                                           context=ssl.create_default_context())
    else:
        conn = http.client.HTTPConnection(url.hostname, url.port, timeout=60)
    headers = {"Destination": destination, "Overwrite": "F", "Depth": "infinity"}
    if user_agent:
        headers["User-Agent"] = user_agent
    conn.request("COPY", url.path, headers=headers)
    first = conn.getresponse()
    first.read()
    sock = conn.sock  # None if the server closed the connection after the answer
    conn.request(
        "PROPFIND",
        urllib.parse.urlsplit(destination).path,
        body=PROPFIND_BODY,
        headers={"Depth": "0", "Content-Type": "application/xml", **(
            {"User-Agent": user_agent} if user_agent else {})},
    )
    second = conn.getresponse()
    body = second.read().decode("utf-8", "replace")
    same = sock is not None and conn.sock is sock
    conn.close()
    return first.status, second.status, body, same


def with_requests(source, destination):
    import logging

    import requests  # imported here so that http.client mode never needs it

    # urllib3 logs each connection it opens; one for both requests means the second reused it.
    opened = []
    pool_log = logging.getLogger("urllib3.connectionpool")
    pool_log.setLevel(logging.DEBUG)
    pool_log.propagate = False
    handler = logging.Handler()
    handler.emit = lambda record: opened.append(record) if record.getMessage().startswith(
        ("Starting new HTTP connection", "Starting new HTTPS connection")) else None
    pool_log.addHandler(handler)

    session = requests.Session()
    session.trust_env = False  # no proxy from the environment for 127.0.0.1
    # ... which also makes requests ignore REQUESTS_CA_BUNDLE: over HTTPS name the test CA
    # (tls_over.sh's KEEPDAV_TLS_CA) itself.
    if os.environ.get("KEEPDAV_TLS_CA"):
        session.verify = os.environ["KEEPDAV_TLS_CA"]
    first = session.request(
        "COPY", source, headers={"Destination": destination, "Overwrite": "F",
                                 "Depth": "infinity"}, timeout=60)
    second = session.request(
        "PROPFIND", destination, data=PROPFIND_BODY,
        headers={"Depth": "0", "Content-Type": "application/xml"}, timeout=60)
    same = len(opened) == 1
    ua = first.request.headers.get("User-Agent")
    session.close()
    return first.status_code, second.status_code, second.text, same, ua


def main():
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in ("http.client", "requests"):
        print(__doc__, file=sys.stderr)
        return 2
    client, source, destination = sys.argv[1:4]
    user_agent = sys.argv[4] if len(sys.argv) == 5 else None
    emulated = False
    if client == "requests":
        try:
            import requests  # noqa: F401
        except ImportError:
            emulated = True
    if client == "requests" and not emulated:
        copy_status, next_status, body, same, user_agent = with_requests(source, destination)
    else:
        if client == "requests":
            user_agent = "python-requests/2.31"
        copy_status, next_status, body, same = with_http_client(source, destination, user_agent)
    dest_path = urllib.parse.urlsplit(destination).path.rstrip("/")
    print(json.dumps({
        "client": client,
        "user_agent": user_agent,
        "copy_status": copy_status,
        "next_status": next_status,
        "next_names_destination": dest_path + "<" in body or dest_path + "/<" in body,
        "same_connection": same,
        "emulated": emulated,
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
