"""A data-set mirror on loopback: serves gzipped copies of small IDX files a test writes, in
modes that misbehave on purpose (``/<mode>/<file>.gz``)."""

from __future__ import annotations

import gzip
import hashlib
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from lenet_gui.core import data

RESOURCE_ORDER = (
    "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
    "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte",
)


class _Handler(BaseHTTPRequestHandler):
    """``/<mode>/<file>.gz``; mode good | nolength | drop | corrupt | missing | stall."""

    def log_message(self, *args):  # keep pytest's output clean
        pass

    def do_GET(self):
        server = self.server
        server.requests.append(self.path)
        server.agents.append(self.headers.get("User-Agent"))
        _, mode, name = self.path.split("/", 2)
        body = server.files.get(name)
        if body is None or mode == "missing":
            self.send_error(404)
            return
        if mode == "corrupt":
            body = body[:-9] + bytes(b ^ 0xFF for b in body[-9:])
        self.send_response(200)
        self.send_header("Content-Type", "application/gzip")
        if mode == "nolength":  # the size is unknown until the server closes the connection
            self.end_headers()
            self.wfile.write(body)
            self.close_connection = True
            return
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if mode in ("drop", "stall"):
            # Half the promised bytes, then hang up (or go silent until the test ends).
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            if mode == "stall":
                server.stalled.set()
                server.release.wait(10)
            self.close_connection = True
            return
        self.wfile.write(body)


class Mirror:
    def __init__(self, files: dict[str, bytes]):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.httpd.daemon_threads = True
        self.httpd.files = files
        self.httpd.requests = []
        self.httpd.agents = []
        self.httpd.release = threading.Event()
        self.httpd.stalled = threading.Event()  # a stalled download is waiting for the rest
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/{mode}/"

    @property
    def requests(self) -> list[str]:
        return self.httpd.requests

    def close(self):
        self.httpd.release.set()
        self.httpd.shutdown()
        self.httpd.server_close()


def serve_fake_dataset(make_fake_dataset, folder: Path, monkeypatch, key: str = "fashion-mnist",
                       n_train: int = 60, n_test: int = 30) -> Mirror:
    """A mirror of a tiny fake data set. torchvision's MD5s belong to the real files, so
    ``download_resources`` is patched to list these files' MD5s (the real list is tested on its
    own). The caller closes the mirror."""
    source = make_fake_dataset(folder, key, n_train=n_train, n_test=n_test)
    originals = {stem: (source / stem).read_bytes() for stem in RESOURCE_ORDER}
    files = {f"{stem}.gz": gzip.compress(raw) for stem, raw in originals.items()}
    resources = [(f"{stem}.gz", hashlib.md5(files[f"{stem}.gz"]).hexdigest()) for stem in RESOURCE_ORDER]
    monkeypatch.setattr(data, "download_resources", lambda info: list(resources))
    mirror = Mirror(files)
    mirror.originals = originals
    return mirror
