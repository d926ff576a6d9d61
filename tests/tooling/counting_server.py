"""A server that counts the connections it accepts, for the tests that prove student code
reaches no socket of the host (test_grading: TCP on 127.0.0.1; test_sandbox_filesystem: a Unix
socket).

Its own module so that the sandbox scenarios, which also run in a separate grader process
(tests/tooling/sandbox_harness.py), import it by the same path as pytest does.
"""

import contextlib
import socket
import threading


@contextlib.contextmanager
def counting_server(family, address):
    """Listen on ``address`` (``family``: socket.AF_INET or AF_UNIX) in a thread; yields
    ``(bound address, hits)``, ``hits`` a list that gets one item per accepted connection."""
    srv = socket.socket(family)
    srv.bind(address)
    srv.listen()
    srv.settimeout(0.2)
    hits, stop = [], threading.Event()

    def serve():
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except OSError:
                continue
            hits.append(1)
            conn.close()
    server = threading.Thread(target=serve, daemon=True)
    server.start()
    try:
        yield srv.getsockname(), hits
    finally:
        stop.set()
        server.join()
        srv.close()
