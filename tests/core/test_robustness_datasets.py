"""Damaged data set files, an unwritable cache and no network: a DatasetError that names the
file and says what to do, and from `lenet-gui train` one line and a non-zero exit."""

from __future__ import annotations

import gzip
import http.server
import socket
import struct
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest

from lenet_gui.core.data import DatasetError, download_dataset, load_dataset
from tests.support import hostile

TRAIN_IMAGES = "train-images-idx3-ubyte"
TRAIN_LABELS = "train-labels-idx1-ubyte"
FIX_WORDS = ("delete", "replace")


def _rewrite(raw: Path, name: str, change) -> Path:
    path = raw / name
    path.write_bytes(change(path.read_bytes()))
    return path


def _gzip_instead(raw: Path, name: str, change) -> Path:
    plain = raw / name
    packed = raw / f"{name}.gz"
    packed.write_bytes(change(gzip.compress(plain.read_bytes())))
    plain.unlink()
    return packed


def _flip(data: bytes, index: int) -> bytes:
    data = bytearray(data)
    data[index] ^= 0xFF
    return bytes(data)


def _gzip_bomb(raw: Path, name: str) -> Path:
    """A sane IDX header and data, then 200 MB of zeros (over the 128 MB cap): 200 KB on disk."""
    packer = zlib.compressobj(1, zlib.DEFLATED, 31)
    body = packer.compress((raw / name).read_bytes())
    zeros = b"\0" * (1 << 20)
    body += b"".join(packer.compress(zeros) for _ in range(200)) + packer.flush()
    (raw / name).unlink()
    (raw / f"{name}.gz").write_bytes(body)
    return raw / f"{name}.gz"


def _huge_plain(raw: Path, name: str) -> Path:
    with open(raw / name, "r+b") as f:  # sparse: no disk space used
        f.truncate(300 << 20)
    return raw / name


DAMAGES = {
    "truncated_data": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: d[: len(d) // 2]), "truncated"),
    "truncated_header": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: d[:10]), "truncated"),
    "empty_file": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: b""), "0 bytes"),
    "wrong_magic_labels": (lambda raw: _rewrite(raw, TRAIN_LABELS, lambda d: _flip(d, 2)), "magic"),
    "wrong_magic_images": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: b"\x1f\x8c" + d[2:]), "magic"),
    "labels_out_of_range": (lambda raw: _rewrite(raw, TRAIN_LABELS, lambda d: d[:20] + b"\xc8" + d[21:]), "label 200"),
    "count_mismatch": (lambda raw: _rewrite(raw, TRAIN_LABELS, lambda d: hostile.idx_bytes(np.zeros(10))), "do not belong together"),
    "images_32x32": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: hostile.idx_bytes(np.zeros((64, 32, 32)))), "28x28"),
    "labels_with_3_dims": (lambda raw: _rewrite(raw, TRAIN_LABELS, lambda d: hostile.idx_bytes(np.zeros((64, 28, 28)))), "dimensions"),
    "trailing_garbage": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: d + b"xx"), "unexpected bytes"),
    "dims_overflow": (lambda raw: _rewrite(raw, TRAIN_IMAGES, lambda d: bytes([0, 0, 8, 3]) + struct.pack(">III", *[0xFFFFFFFF] * 3) + b"\0" * 100), "truncated"),
    "zero_images": (lambda raw: (_rewrite(raw, TRAIN_IMAGES, lambda d: hostile.idx_bytes(np.zeros((0, 28, 28)))),
                                 _rewrite(raw, TRAIN_LABELS, lambda d: hostile.idx_bytes(np.zeros(0))))[0], "no images"),
    "gzip_crc_mismatch": (lambda raw: _gzip_instead(raw, TRAIN_IMAGES, lambda d: d[:-8] + _flip(d[-8:], 0)), "damaged gzip"),
    "gzip_bad_deflate": (lambda raw: _gzip_instead(raw, TRAIN_IMAGES, lambda d: _flip(d, 10)), "damaged gzip"),
    "gzip_truncated": (lambda raw: _gzip_instead(raw, TRAIN_IMAGES, lambda d: d[: len(d) // 2]), "damaged gzip"),
    "gzip_bomb_200MB": (lambda raw: _gzip_bomb(raw, TRAIN_IMAGES), "more than"),
    "plain_file_300MB": (lambda raw: _huge_plain(raw, TRAIN_IMAGES), "MB"),
}


@pytest.mark.parametrize("name", list(DAMAGES))
def test_damaged_file_is_a_dataset_error_naming_it_and_the_fix(name, tmp_path):
    damage, words = DAMAGES[name]
    raw = hostile.write_idx_dataset(tmp_path)
    damaged = damage(raw)
    with pytest.raises(DatasetError) as caught:
        hostile.call_with_timeout(lambda: load_dataset("mnist", tmp_path, download=False), 20)
    message = str(caught.value)
    assert str(damaged) in message, message
    assert words.lower() in message.lower(), message
    assert any(word in message.lower() for word in FIX_WORDS), message
    assert "\n" not in message


def test_a_good_dataset_loads_after_a_damaged_one(tmp_path):
    """Guards the cases above: the untouched generated data set is valid."""
    hostile.write_idx_dataset(tmp_path)
    data = load_dataset("mnist", tmp_path, download=False)
    assert len(data.train) == 64 and len(data.test) == 32


def test_unwritable_cache_folder_says_how_to_choose_another(tmp_path):
    blocker = tmp_path / "a_file"
    blocker.write_text("the data root's parent is a file: no one can create folders in it")
    root = blocker / "datasets"
    with pytest.raises(DatasetError) as caught:
        load_dataset("fashion-mnist", root, mirrors=["http://127.0.0.1:9/"])
    message = str(caught.value)
    assert "Cannot write" in message and str(root) in message
    assert "--data-root" in message and "LENET_DATA_ROOT" in message


def test_no_network_says_where_to_put_the_files(tmp_path, monkeypatch):
    monkeypatch.setenv("LENET_MIRRORS", "http://127.0.0.1:9/")  # the discard port: refused
    with pytest.raises(DatasetError) as caught:
        hostile.call_with_timeout(lambda: load_dataset("mnist", tmp_path), 60)
    message = str(caught.value)
    assert "could not be downloaded" in message and "127.0.0.1:9" in message
    assert "--data-root" in message and "MNIST/raw/" in message
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []  # nothing half-written left


class _BadMirror(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_GET(self):
        mode = self.path.split("/")[1]
        if mode == "garbage":  # a wrong file under the right name
            body = b"x" * 1000
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        elif mode == "cut":  # the connection drops half-way
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"\x1f\x8b" + b"y" * 500)
            self.wfile.flush()
            self.connection.shutdown(socket.SHUT_RDWR)
        elif mode == "portal":  # a captive portal answers every URL with a login page
            self.send_response(200)
            self.end_headers()
            self.wfile.write(b"<html>please log in</html>")
        elif mode == "stall":  # sends the headers, then nothing
            self.send_response(200)
            self.send_header("Content-Length", "100000")
            self.end_headers()
            self.wfile.write(b"z" * 10)
            self.wfile.flush()
            threading.Event().wait(3)
        else:
            self.send_response(404)
            self.end_headers()


@pytest.fixture(scope="module")
def bad_mirror():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _BadMirror)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode, words", [
    ("garbage", "checksum mismatch"), ("cut", "connection closed"), ("portal", "checksum mismatch"),
    ("missing", "Not Found"), ("stall", "timed out"),
])
def test_a_bad_mirror_is_a_clear_error_and_leaves_no_partial_file(mode, words, bad_mirror, tmp_path):
    with pytest.raises(DatasetError) as caught:
        hostile.call_with_timeout(
            lambda: download_dataset("mnist", tmp_path, mirrors=[f"{bad_mirror}/{mode}/"], timeout=1.0), 30)
    assert words in str(caught.value)
    assert list((tmp_path / "MNIST" / "raw").iterdir()) == []


@pytest.mark.slow
def test_cli_train_reports_damaged_data_and_no_network_in_one_line(tmp_path):
    damaged_root = tmp_path / "damaged"
    raw = hostile.write_idx_dataset(damaged_root)
    damaged = DAMAGES["gzip_bad_deflate"][0](raw)
    empty_root = tmp_path / "empty"
    empty_root.mkdir()
    env = hostile.cli_env(LENET_MIRRORS="http://127.0.0.1:9/")
    damaged_run, offline_run = hostile.run_cli_many([
        hostile.cli_command("train", "--dataset", "mnist", "--epochs", "1", "--data-root", damaged_root),
        hostile.cli_command("train", "--dataset", "mnist", "--epochs", "1", "--data-root", empty_root),
    ], env=env)
    stderr = hostile.assert_clean_failure(damaged_run)
    assert stderr.startswith("lenet-gui: error: ") and str(damaged) in stderr
    stderr = hostile.assert_clean_failure(offline_run)
    assert "could not be downloaded" in stderr and "--data-root" in stderr


@pytest.mark.parametrize("limit", ["-5", "0", "many"])
def test_cli_train_refuses_a_limit_that_is_not_a_positive_count(limit):
    """--limit -5 used to slice [:-5] and silently train on all but five images."""
    result = hostile.run_cli("train", "--limit", limit, timeout=60)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "--limit" in result.stderr.splitlines()[-1]
    assert "training on" not in result.stdout
