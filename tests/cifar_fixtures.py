"""Small CIFAR-10 stand-ins for tests: batches, tarballs (good and hostile), a local HTTP server.

Reusable by any test (`from tests.cifar_fixtures import ...`); nothing here touches the network
beyond 127.0.0.1 or writes outside the folders it is given.

- `make_batches(n_per_batch, n_test, seed)`: the arrays, as a dict name -> (data, labels).
- `write_cifar_folder(folder, ...)`: an extracted `cifar-10-batches-py` folder.
- `make_cifar_tarball(path, ...)`: `cifar-10-python.tar.gz` in the official layout (protocol-2
  pickles with str keys 'data' (uint8 N x 3072, R, G, B planes), 'labels', 'batch_label',
  'filenames'; plus `batches.meta`); returns its MD5.
- `make_hostile_tarball(path, kind)`: a tarball with one dangerous member.
- `serve(routes)`: a threaded HTTP server on 127.0.0.1 with scripted faults (drops, statuses,
  Range support); yields its base URL and the log of requests.
- `require_cifar10()`: the real CIFAR-10 folder, for the tests that need the real data; skips
  the calling test, saying why and what to do, when the data is not there.
"""

import contextlib
import hashlib
import http.server
import io
import pickle
import tarfile
import threading
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

FOLDER = "cifar-10-batches-py"
TRAIN_NAMES = tuple(f"data_batch_{i}" for i in range(1, 6))
CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
           "truck")


def require_cifar10():
    """The complete CIFAR-10 folder the notebooks use (`CIFAR10_DIR`, else
    `datasets/cifar-10-batches-py`); skips the calling test when it is missing."""
    from assignment.datasets.fetch import default_dir, is_complete

    folder = default_dir()
    if not is_complete(folder):
        pytest.skip(f"needs CIFAR-10, which is not (completely) in {folder}: run `make data` "
                    "(or point CIFAR10_DIR at a complete cifar-10-batches-py folder)")
    return folder


def make_batches(n_per_batch=8, n_test=None, seed=0):
    """Random CIFAR-format batches.

    Returns a dict batch name -> (data, labels): data uint8 (N, 3072) with R, G, B planes of
    32x32, labels int list of length N; names `data_batch_1..5` (n_per_batch rows each) and
    `test_batch` (n_test rows, default n_per_batch).
    """
    rng = np.random.default_rng(seed)
    out = {}
    for name in TRAIN_NAMES + ("test_batch",):
        n = n_per_batch if name != "test_batch" or n_test is None else n_test
        out[name] = (rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
                     [int(v) for v in rng.integers(0, 10, size=n)])
    return out


def batch_bytes(name, data, labels):
    """One batch as the official pickle bytes (protocol 2, str keys)."""
    return pickle.dumps({"batch_label": f"{name} of 5", "labels": list(labels), "data": data,
                         "filenames": [f"img_{i:05d}.png" for i in range(len(labels))]},
                        protocol=2)


def _meta_bytes():
    return pickle.dumps({"num_cases_per_batch": 10000, "label_names": list(CLASSES),
                         "num_vis": 3072}, protocol=2)


def write_cifar_folder(folder, n_per_batch=8, n_test=None, seed=0, omit=()):
    """Write an extracted CIFAR folder (batches + batches.meta); returns `make_batches`' dict."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    batches = make_batches(n_per_batch, n_test, seed)
    for name, (data, labels) in batches.items():
        if name not in omit:
            (folder / name).write_bytes(batch_bytes(name, data, labels))
    (folder / "batches.meta").write_bytes(_meta_bytes())
    return batches


def _add(tar, name, payload, mtime=1239999999):
    info = tarfile.TarInfo(name)
    info.size, info.mtime, info.mode = len(payload), mtime, 0o644
    tar.addfile(info, io.BytesIO(payload))


def md5_of(path):
    """MD5 hex digest of a file."""
    return hashlib.md5(Path(path).read_bytes()).hexdigest()


def make_cifar_tarball(path, n_per_batch=8, n_test=None, seed=0, omit=()):
    """Write a small `cifar-10-python.tar.gz` in the official layout; returns its MD5.

    `omit`: batch names to leave out (an incomplete archive).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    batches = make_batches(n_per_batch, n_test, seed)
    with tarfile.open(path, "w:gz") as tar:
        dir_info = tarfile.TarInfo(FOLDER)
        dir_info.type, dir_info.mode = tarfile.DIRTYPE, 0o755
        tar.addfile(dir_info)
        _add(tar, f"{FOLDER}/batches.meta", _meta_bytes())
        for name, (data, labels) in batches.items():
            if name not in omit:
                _add(tar, f"{FOLDER}/{name}", batch_bytes(name, data, labels))
        _add(tar, f"{FOLDER}/readme.html", b"<html>test stand-in</html>\n")
    return md5_of(path)


HOSTILE_KINDS = ("dotdot", "absolute", "symlink_out", "hardlink_out", "device")


def make_hostile_tarball(path, kind, escape_to):
    """A CIFAR tarball (complete) plus one dangerous member; returns its MD5.

    Inputs:
    - kind: one of HOSTILE_KINDS: `dotdot` (`cifar-10-batches-py/../../<name>`), `absolute`
      (absolute path `escape_to`), `symlink_out` / `hardlink_out` (link to `escape_to`),
      `device` (a character device).
    - escape_to: absolute Path where the dangerous member would write (tests check it stays
      absent); for `dotdot` only its name is used and the member climbs two levels.
    """
    path = Path(path)
    make_cifar_tarball(path)
    # Re-pack the good members with the hostile one first, so it is met before anything else.
    with tarfile.open(path, "r:gz") as tar:
        members = [(m, tar.extractfile(m).read() if m.isfile() else None) for m in tar]
    with tarfile.open(path, "w:gz") as tar:
        if kind == "dotdot":
            _add(tar, f"{FOLDER}/../../{Path(escape_to).name}", b"escaped\n")
        elif kind == "absolute":
            _add(tar, str(escape_to), b"escaped\n")
        elif kind in ("symlink_out", "hardlink_out"):
            info = tarfile.TarInfo(f"{FOLDER}/link")
            info.type = tarfile.SYMTYPE if kind == "symlink_out" else tarfile.LNKTYPE
            info.linkname = str(escape_to)
            tar.addfile(info)
        elif kind == "device":
            info = tarfile.TarInfo(f"{FOLDER}/null")
            info.type, info.devmajor, info.devminor = tarfile.CHRTYPE, 1, 3
            tar.addfile(info)
        else:
            raise ValueError(f"kind is {kind!r}, expected one of {HOSTILE_KINDS}")
        for member, payload in members:
            tar.addfile(member, io.BytesIO(payload) if payload is not None else None)
    return md5_of(path)


@dataclass
class Route:
    """How the server answers one path.

    - body: bytes to serve (with Content-Length; `Range: bytes=K-` honoured with 206).
    - status: HTTP status to answer instead of the body (e.g. 404, 500).
    - drop_at: if set, the first `drops` responses stop at this offset of the body (also when
      resuming from an earlier offset) and close the connection, although Content-Length
      announced the full rest.
    - drops: how many responses are cut short (a large number: always).
    - honour_range: False to ignore `Range` and always send the whole body with 200.
    """

    body: bytes = b""
    status: int = 200
    drop_at: int | None = None
    drops: int = 1
    honour_range: bool = True


@dataclass
class RequestLog:
    """What the server saw: (path, Range header or None) per request."""

    requests: list = field(default_factory=list)

    def count(self, path):
        return sum(1 for p, _ in self.requests if p == path)

    def ranges(self, path):
        return [r for p, r in self.requests if p == path]


@contextlib.contextmanager
def serve(routes):
    """Serve `routes` (dict path -> Route) on 127.0.0.1 in a thread; yields (base_url, log)."""
    log = RequestLog()
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # keep test output clean
            pass

        def do_GET(self):  # noqa: N802 (http.server's name)
            rng = self.headers.get("Range")
            with lock:
                log.requests.append((self.path, rng))
                route = routes.get(self.path)
                drop = route is not None and route.drop_at is not None and route.drops > 0
                if drop:
                    route.drops -= 1
            if route is None or route.status != 200:
                status = 404 if route is None else route.status
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()
                return
            body, start = route.body, 0
            if route.honour_range and rng and rng.startswith("bytes=") and rng.endswith("-"):
                start = int(rng[len("bytes="):-1])
                if start >= len(body):
                    self.send_response(416)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
            else:
                self.send_response(200)
            self.send_header("Content-Length", str(len(body) - start))
            self.send_header("Connection", "close")
            self.end_headers()
            payload = body[start:route.drop_at] if drop else body[start:]
            self.wfile.write(payload)
            self.wfile.flush()
            self.close_connection = True

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", log
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
