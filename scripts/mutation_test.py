#!/usr/bin/env python3
"""Mutation testing for lenet_gui/core: do the tests notice when the code is wrong?

Each mutant is the module with one small change a slip of the keyboard could make: a comparison
or arithmetic operator swapped, ``and`` for ``or``, a ``not`` dropped, a condition negated, a
constant changed, a returned value replaced by None, a statement deleted. The tests that cover
the module (MODULE_TESTS below) run against each mutant; a failing run kills it, a passing run
means the tests cannot tell that version from the real one: the mutant survived.

    nice .venv/bin/python scripts/mutation_test.py checkpoint data --sample 60 --seed 1
    nice .venv/bin/python scripts/mutation_test.py preprocess --only 12,40 --show
    .venv/bin/python scripts/mutation_test.py data --list

The source is never edited: the mutants are written into a temporary copy of the checkout,
which the tests run in (also the ones that start the CLI in a subprocess), and which is deleted
when the run ends, Ctrl-C included. Each mutant runs in a child forked from a process that has
already imported torch, so that it pays only for the tests; ``--no-fork`` starts a fresh
interpreter instead. A mutant is a timeout when its tests run past ``--timeout``; timeouts count
as killed (the change made the tests hang, which a run notices).

The score is (killed + timeouts) / (mutants - equivalent). An equivalent mutant behaves exactly
like the original for every input (for example ``x >= 0`` for ``x > 0`` where x is never 0):
no test can kill it. EQUIVALENT below lists the ones argued so far, each with its argument;
they are reported but left out of the score.
"""

from __future__ import annotations

import argparse
import ast
import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CORE = REPO / "lenet_gui" / "core"

# The tests that exercise each module, fastest first (with -x the first failure ends the run).
MODULE_TESTS: dict[str, list[str]] = {
    "checkpoint": ["tests/core/test_checkpoint.py", "tests/core/test_robustness_checkpoints.py"],
    "data": ["tests/core/test_data.py", "tests/core/test_download.py", "tests/core/test_robustness_datasets.py"],
    "preprocess": ["tests/core/test_preprocess.py", "tests/core/test_robustness_images.py",
                   "tests/core/test_robustness_fuzz.py"],
    "inference": ["tests/core/test_inference.py", "tests/core/test_robustness_images.py"],
    "resources": ["tests/core/test_resources.py", "tests/cli/test_cli_classify.py", "tests/ui/test_translation.py"],
    "engine": ["tests/core/test_engine.py", "tests/core/test_robustness_training.py"],
    "model": ["tests/core/test_model.py", "tests/core/test_fast_layers.py", "tests/core/test_checkpoint.py"],
    "fast_layers": ["tests/core/test_fast_layers.py", "tests/core/test_model.py"],
    "presets": ["tests/core/test_presets.py", "tests/core/test_engine.py", "tests/cli/test_cli.py"],
    "evaluation": ["tests/core/test_engine.py", "tests/cli/test_cli.py"],
    "runs": ["tests/core/test_failure_descriptions.py", "tests/core/test_run_outcome.py"],
    "export": ["tests/cli/test_export.py", "tests/cli/test_cli.py"],
    "files": ["tests/core/test_download.py", "tests/core/test_checkpoint.py"],
    "architecture": ["tests/core/test_architecture.py", "tests/cli/test_cli_summary.py"],
    "stepthrough": ["tests/core/test_stepthrough.py"],
}

# (module, the mutated line with surrounding spaces stripped, the mutation, its column) -> why
# no test can tell the mutant from the original. Keyed by text, not line number, so that it
# survives edits elsewhere in the file; a changed line drops out of this list and is reported
# again. Where the same line occurs twice, a fifth item says which (0 for the first). "Tolerance" marks a constant whose exact value no requirement fixes (a limit far from
# every real input, the length a message is cut at): changed by one unit, nothing a user does
# can tell; they are argued, and reported apart, not hidden.
_POSIX = ("Only Windows lacks this flag; on the POSIX systems the tests run on, getattr finds it "
          "and never uses the default (for O_BINARY: never finds it, either name).")
_BOUNDED_READ = "Any count over the limit makes the following check see a file that grew: one byte is enough."
_STALE = ("A file's age equal to the threshold to the nanosecond: no test (and no user) can aim at that "
          "instant; either side of it behaves the same.")
_TOLERANCE_LIMIT = ("Tolerance: a size limit far above every real file of this kind and far below what "
                    "exhausts memory; the tests pin both sides and the boundary, not the exact figure.")
_TOLERANCE_CUT = "Tolerance: the length a long message is cut at; any length that keeps it on one line serves."
_KIND_CODE = ("A failure kind is a code that the front ends compare with its own name (FAILURE_KINDS), "
              "never shown or stored: any string distinct from the others serves.")
_TOLERANCE_AGE = "Tolerance: how old a leftover temporary must be; the tests use one an hour old and one fresh."
EQUIVALENT: dict[tuple, str] = {
    ("evaluation", "y = labels[start : start + batch_size].to(device, non_blocking=True)", "True -> False", 71):
        "A blocking copy instead of an asynchronous one: the same labels arrive before the comparison "
        "that reads them (on the CPU there is nothing to overlap); only a GPU's overlap is lost.",
    ("runs", 'DIVERGED = "diverged"', "'diverged' -> 'XdivergedX'", 11): _KIND_CODE,
    ("runs", 'DATA_SET = "data-set"', "'data-set' -> 'Xdata-setX'", 11): _KIND_CODE,
    ("runs", 'INVALID_SETTINGS = "invalid-settings"', "'invalid-settings' -> 'Xinvalid-settingsX'", 19): _KIND_CODE,
    ("runs", 'OUT_OF_MEMORY = "out-of-memory"', "'out-of-memory' -> 'Xout-of-memoryX'", 16): _KIND_CODE,
    ("runs", 'UNEXPECTED = "unexpected"', "'unexpected' -> 'XunexpectedX'", 13): _KIND_CODE,
    ("fast_layers", "grad_out.contiguous(), x_nchw, weight_cl.contiguous(), bias_sizes, *common, [True, False, False]",
     "False -> True", 99):
        "This call is made for the input's gradient only and discards the weight gradient it would "
        "also compute (`grad_input, _, _`); asking for it costs time, never changes a result.",
    ("engine", "optimizer.zero_grad(set_to_none=True)", "True -> False", 52):
        "Zeroed gradients instead of None: every parameter gets a gradient on every step, so the "
        "optimizers (SGD, Adam, their weight decay) see the same values either way; None only saves "
        "the memory writes.",
    ("stepthrough", 'INPUT = "input"', "'input' -> 'XinputX'", 8):
        "A tag that names the image as a step's source: every reader (the module and the window) compares "
        "against this constant, never against its text, so any other string behaves the same.",
    ("checkpoint", 'fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))',
     "0 -> 1", 67): _POSIX,
    ("checkpoint", 'fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))',
     "'O_BINARY' -> 'XO_BINARYX'", 84): _POSIX,
    ("checkpoint", "data = f.read(MAX_CHECKPOINT_BYTES + 1)", "1 -> 2", 49): _BOUNDED_READ,
    ("checkpoint", 'folder = path.parent if str(path.parent) else Path(".")', "'.' -> 'X.X'", 55):
        "Unreachable: a Path's parent is never the empty path (that of 'model.pt' is '.').",
    ("checkpoint", "STALE_TEMPORARY_SECONDS = 60.0", "60.0 -> 120.0", 26): _TOLERANCE_AGE,
    ("checkpoint", "f.flush()", "statement deleted", 12):
        "torch.save flushes a file object it wrote to before it returns (torch.serialization's "
        "_open_buffer_writer); this flush only keeps the order explicit before fsync.",
    ("checkpoint", "MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024", "64 -> 65", 23): _TOLERANCE_LIMIT,
    ("checkpoint", "MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024", "1024 -> 1025", 28): _TOLERANCE_LIMIT,
    ("checkpoint", "MAX_CHECKPOINT_BYTES = 64 * 1024 * 1024", "1024 -> 1025", 35): _TOLERANCE_LIMIT,
    ("checkpoint", "return lines[0][:160] if lines else type(exc).__name__", "160 -> 161", 21): _TOLERANCE_CUT,
    ("data", "timeout: float = 30.0,", "30.0 -> 60.0", 21):
        "Tolerance: how long a silent mirror is waited for; the tests pass their own timeouts.",
    ("data", "MAX_IDX_BYTES = 128 * 1024 * 1024", "128 -> 129", 16): _TOLERANCE_LIMIT,
    ("data", "MAX_IDX_BYTES = 128 * 1024 * 1024", "1024 -> 1025", 22): _TOLERANCE_LIMIT,
    ("data", "MAX_IDX_BYTES = 128 * 1024 * 1024", "1024 -> 1025", 29): _TOLERANCE_LIMIT,
    ("data", "raise DatasetError(offline_message(info, root_path))", "statement deleted", 12, 1):
        "The second of the two identical lines (the first, for download=False, is killed): "
        "unreachable, download_dataset returns only when the four files are in ROOT/<folder>/raw, "
        "the first folder find_files reads.",
    ("data", "if count is None or count >= len(self):", ">= -> >", 28):
        "subset(len(split)) then slices [:len], a view of every image and label: the same split.",
    ("data", "inflater = zlib.decompressobj(wbits=31)", "31 -> 32", 44):
        "wbits=32 detects gzip or zlib from the header and takes the window size from it; this branch "
        "only sees data that starts with gzip's magic bytes, which it then reads exactly as wbits=31.",
    ("data", 'for block in iter(lambda: f.read(1 << 20), b""):', "1 -> 2", 41):
        "The block size of a checksum's reads does not change the checksum.",
    ("data", 'for block in iter(lambda: f.read(1 << 20), b""):', "20 -> 21", 46):
        "The block size of a checksum's reads does not change the checksum.",
    ("data", "chunk = response.read(1 << 16)", "16 -> 17", 39):
        "The size of each network read changes how often progress is reported, not what is downloaded.",
    ("data", "chunk = response.read(1 << 16)", "1 -> 2", 34):
        "The size of each network read changes how often progress is reported, not what is downloaded.",
    ("files", "if now - candidate.lstat().st_mtime > older_than_seconds and candidate.is_file():",
     "> -> >=", 15): _STALE,
    ("data", "STALE_PARTIAL_SECONDS = 10 * 60", "10 -> 11", 24): _TOLERANCE_AGE,
    ("data", "STALE_PARTIAL_SECONDS = 10 * 60", "60 -> 61", 29): _TOLERANCE_AGE,
    ("preprocess", 'fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))',
     "0 -> 1", 63): _POSIX,
    ("preprocess", 'fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))',
     "'O_BINARY' -> 'XO_BINARYX'", 80): _POSIX,
    ("preprocess", "data = f.read(MAX_FILE_BYTES + 1)", "1 -> 2", 39): _BOUNDED_READ,
    ("preprocess", "MAX_IMAGE_PIXELS = 64_000_000", "64000000 -> 64000001", 19): _TOLERANCE_LIMIT,
    ("preprocess", "MAX_FILE_BYTES = 200 * 1024 * 1024", "200 -> 201", 17): _TOLERANCE_LIMIT,
    ("preprocess", "MAX_FILE_BYTES = 200 * 1024 * 1024", "1024 -> 1025", 23): _TOLERANCE_LIMIT,
    ("preprocess", "MAX_FILE_BYTES = 200 * 1024 * 1024", "1024 -> 1025", 30): _TOLERANCE_LIMIT,
    ("preprocess", "return text[0][:120] if text else type(exc).__name__", "120 -> 121", 20): _TOLERANCE_CUT,
    ("preprocess", "backdrop = 0.0 if opaque_mean > 0.5 else 1.0", "> -> >=", 26):
        "Tolerance: ink of exactly middle grey contrasts equally with a black and a white backdrop; "
        "which one a tie picks is no requirement.",
    ("preprocess", "arr[positive_infinity] = 1.0", "1.0 -> 2.0", 37):
        "The clip to [0, 1] on the next line brings it back to 1.",
    ("preprocess", "ink = (ink > 0.5).astype(np.float64)", "> -> >=", 11):
        "Tolerance: a pixel exactly halfway between paper and ink; which way a tie goes is no requirement.",
    ("preprocess", "return np.clip(np.nan_to_num(arr), 0.0, 1.0)", "1.0 -> 2.0", 48):
        "Nothing above 1 reaches it: 16-bit values are divided by 65535, float ones scaled by their own "
        "finite range ((x - lo) / (hi - lo) <= 1 in floating point too), +inf set to 1.",
    ("preprocess", "if background > 0.5:", "> -> >=", 7):
        "Tolerance: a background of exactly middle grey is as light as it is dark; which way a tie "
        "inverts is no requirement.",
    ("preprocess", "small = np.minimum(small, 1.0)", "1.0 -> 2.0", 30):
        "_result clips the canvas to [0, 1] anyway before it becomes the model's input.",
    ("preprocess", "top, left = (28 - new_h) // 2, (28 - new_w) // 2", "28 -> 29", 17):
        "Tolerance: it moves the garment only when the margin is odd, by the odd pixel: which side "
        "gets it is no requirement.",
    ("preprocess", "top, left = (28 - new_h) // 2, (28 - new_w) // 2", "28 -> 29", 36):
        "Tolerance: it moves the garment only when the margin is odd, by the odd pixel: which side "
        "gets it is no requirement.",
    ("preprocess", 'if mode not in ("L", "RGB"):', "'L' -> 'XLX'", 20):
        "An L image then goes through RGB and back to L, which gives back exactly the same values.",
}

COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "__pycache__", ".pytest_cache", ".hypothesis",
                                     "build", "dist", "out", "*.egg-info", "mutants")


# ---------------------------------------------------------------------------------------------
# Mutants


@dataclass
class Mutant:
    id: int
    line: int
    col: int
    description: str
    source_line: str
    start: tuple[int, int]  # (line, byte offset): the span the replacement takes the place of
    end: tuple[int, int]
    replacement: str
    occurrence: int = 0  # how many mutants before it have the same line text, mutation and column

    def key(self, module: str) -> tuple[str, str, str, int]:
        return (module, self.source_line, self.description, self.col)

    def why_equivalent(self, module: str) -> str:
        return EQUIVALENT.get((*self.key(module), self.occurrence)) or EQUIVALENT.get(self.key(module), "")


COMPARE_SWAPS = {
    ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt, ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq, ast.Is: ast.IsNot, ast.IsNot: ast.Is, ast.In: ast.NotIn, ast.NotIn: ast.In,
}
BINOP_SWAPS = {
    ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult, ast.FloorDiv: ast.Div,
    ast.Mod: ast.FloorDiv, ast.Pow: ast.Mult, ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd,
    ast.BitXor: ast.BitOr, ast.LShift: ast.RShift, ast.RShift: ast.LShift,
}
SYMBOLS = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.Is: "is", ast.IsNot: "is not", ast.In: "in", ast.NotIn: "not in", ast.Add: "+", ast.Sub: "-",
    ast.Mult: "*", ast.Div: "/", ast.FloorDiv: "//", ast.Mod: "%", ast.Pow: "**", ast.BitAnd: "&",
    ast.BitOr: "|", ast.BitXor: "^", ast.LShift: "<<", ast.RShift: ">>", ast.And: "and", ast.Or: "or",
}
DELETABLE = (ast.Expr, ast.Assign, ast.AugAssign, ast.AnnAssign, ast.Raise, ast.Assert, ast.Delete,
             ast.Break, ast.Continue)
TRUTHY_TESTS = (ast.Name, ast.Call, ast.Attribute, ast.Subscript)
SHORT_WORD = re.compile(r"\S{0,24}")


def _is_docstring(node: ast.AST) -> bool:
    return (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)
            and isinstance(node.value.value, str))


def _constant_mutation(value):
    """(new value, description) for a constant worth changing, else None."""
    if isinstance(value, bool):
        return (not value), f"{value} -> {not value}"
    if isinstance(value, int):
        return value + 1, f"{value} -> {value + 1}"
    if isinstance(value, float):
        new = value * 2 if value else 1.0
        return new, f"{value!r} -> {new!r}"
    if isinstance(value, str) and SHORT_WORD.fullmatch(value):
        return f"X{value}X", f"{value!r} -> {'X' + value + 'X'!r}"
    if isinstance(value, bytes) and len(value) <= 24:
        return b"X" + value + b"X", f"{value!r} -> {b'X' + value + b'X'!r}"
    return None


class _Collector:
    """Walks a module's tree and records every mutant with the source span it replaces."""

    def __init__(self, source: str):
        self.lines = source.splitlines(keepends=True)
        self.found: list[tuple] = []

    def _line_text(self, lineno: int) -> str:
        return self.lines[lineno - 1].strip()

    def add(self, node: ast.AST, description: str, replacement: str, *, statement: bool = False):
        padding = "\n" * (node.end_lineno - node.lineno)
        text = f"{replacement}{padding}" if statement else f"({replacement}{padding})"
        self.found.append((node.lineno, node.col_offset, description, self._line_text(node.lineno),
                           (node.lineno, node.col_offset), (node.end_lineno, node.end_col_offset), text))

    def add_expression(self, node: ast.AST, new: ast.AST, description: str):
        self.add(node, description, ast.unparse(ast.fix_missing_locations(new)))

    def visit(self, node: ast.AST, in_function: bool = False):
        if isinstance(node, ast.JoinedStr) or _is_docstring(node):
            return  # messages: their wording is checked where it matters, not mutated
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            args = node.args
            for default in [*args.defaults, *args.kw_defaults]:
                if default is not None:
                    self.visit(default, in_function)
            for decorator in getattr(node, "decorator_list", []):
                self.visit(decorator, in_function)
            body = node.body if isinstance(node.body, list) else [node.body]
            for child in body:
                self.visit(child, True)
            return
        if isinstance(node, ast.ImportFrom) or isinstance(node, ast.Import):
            return
        if isinstance(node, ast.AnnAssign):
            if node.value is not None:
                self.visit(node.value, in_function)
            return
        if isinstance(node, ast.ClassDef):
            for child in node.body:
                if not _is_docstring(child):
                    self.visit(child, in_function)
            return
        if isinstance(node, ast.Module):
            for child in node.body:
                if not _is_docstring(child):
                    self.visit(child, in_function)
            return
        self.mutate(node, in_function)
        for child in ast.iter_child_nodes(node):
            if isinstance(node, ast.stmt) and _is_docstring(child):
                continue
            self.visit(child, in_function)

    def mutate(self, node: ast.AST, in_function: bool):
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                swap = COMPARE_SWAPS.get(type(op))
                if swap:
                    new = copy.deepcopy(node)
                    new.ops[index] = swap()
                    self.add_expression(node, new, f"{SYMBOLS[type(op)]} -> {SYMBOLS[swap]}")
        elif isinstance(node, ast.BinOp):
            swap = BINOP_SWAPS.get(type(node.op))
            if swap:
                new = copy.deepcopy(node)
                new.op = swap()
                self.add_expression(node, new, f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[swap]}")
        elif isinstance(node, ast.BoolOp):
            new = copy.deepcopy(node)
            new.op = ast.Or() if isinstance(node.op, ast.And) else ast.And()
            self.add_expression(node, new, f"{SYMBOLS[type(node.op)]} -> {SYMBOLS[type(new.op)]}")
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.Not, ast.USub, ast.Invert)):
            symbol = {ast.Not: "not ", ast.USub: "-", ast.Invert: "~"}[type(node.op)]
            self.add_expression(node, node.operand, f"{symbol.strip()} removed")
        elif isinstance(node, ast.Constant):
            change = _constant_mutation(node.value)
            if change is not None:
                self.add_expression(node, ast.Constant(change[0]), change[1])
        if isinstance(node, (ast.If, ast.While, ast.IfExp, ast.Assert)) and isinstance(node.test, TRUTHY_TESTS):
            self.add_expression(node.test, ast.UnaryOp(ast.Not(), copy.deepcopy(node.test)), "condition negated")
        if in_function and isinstance(node, ast.Return) and node.value is not None:
            if not (isinstance(node.value, ast.Constant) and node.value.value is None):
                self.add_expression(node.value, ast.Constant(None), "returns None")
        if in_function and isinstance(node, DELETABLE) and not _is_docstring(node):
            self.add(node, "statement deleted", "pass", statement=True)


def find_mutants(source: str) -> list[Mutant]:
    collector = _Collector(source)
    collector.visit(ast.parse(source))
    found = sorted(collector.found, key=lambda m: (m[0], m[1], m[2]))
    mutants, seen = [], {}
    for i, (line, col, description, text, start, end, replacement) in enumerate(found):
        occurrence = seen.get((text, description, col), 0)
        seen[(text, description, col)] = occurrence + 1
        mutants.append(Mutant(i + 1, line, col, description, text, start, end, replacement, occurrence))
    return mutants


def apply(source: str, mutant: Mutant) -> str:
    """The source with the mutant's span replaced (offsets are UTF-8 bytes, as ast gives them)."""
    lines = [line.encode() for line in source.splitlines(keepends=True)]
    (l1, c1), (l2, c2) = mutant.start, mutant.end
    head = b"".join(lines[: l1 - 1]) + lines[l1 - 1][:c1]
    tail = lines[l2 - 1][c2:] + b"".join(lines[l2:])
    return (head + mutant.replacement.encode() + tail).decode()


def valid(mutant_source: str) -> bool:
    try:
        compile(mutant_source, "<mutant>", "exec")
        return True
    except SyntaxError:
        return False


# ---------------------------------------------------------------------------------------------
# Running


@dataclass
class Outcome:
    id: int
    line: int
    col: int
    description: str
    source_line: str
    status: str  # killed | survived | timeout | equivalent (survived, and argued in EQUIVALENT)
    seconds: float
    killed_by: str = ""
    why_equivalent: str = ""


def _pytest_args(tests: list[str]) -> list[str]:
    return ["-x", "-q", "-p", "no:cacheprovider", "--no-header", "-o", "addopts=", *tests]


def _run_forked(workdir: Path, tests: list[str], timeout: float, log: Path) -> tuple[str, float]:
    started = time.monotonic()
    pid = os.fork()
    if pid == 0:  # the child: run pytest in the copy, in its own process group
        code = 3
        try:
            os.setsid()
            fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            os.dup2(fd, 1)
            os.dup2(fd, 2)
            os.chdir(workdir)
            sys.path.insert(0, str(workdir))
            import pytest

            code = int(pytest.main(_pytest_args(tests)))
        except BaseException:  # noqa: BLE001 - anything the child does must end in _exit
            import traceback

            traceback.print_exc()
        finally:
            sys.stdout.flush()
            sys.stderr.flush()
            os._exit(code)
    while True:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return ("passed" if os.waitstatus_to_exitcode(status) == 0 else "failed"), time.monotonic() - started
        if time.monotonic() - started > timeout:
            try:
                os.killpg(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            os.waitpid(pid, 0)
            return "timeout", time.monotonic() - started
        time.sleep(0.05)


def _run_subprocess(workdir: Path, tests: list[str], timeout: float, log: Path) -> tuple[str, float]:
    started = time.monotonic()
    with open(log, "wb") as out:
        proc = subprocess.Popen([sys.executable, "-m", "pytest", *_pytest_args(tests)], cwd=workdir,
                                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            code = proc.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            return "timeout", time.monotonic() - started
    return ("passed" if code == 0 else "failed"), time.monotonic() - started


def _first_failure(log: Path) -> str:
    text = log.read_text(errors="replace")
    match = re.search(r"^(?:FAILED|ERROR) (\S+)", text, re.MULTILINE)
    return match.group(1) if match else ""


def _preload() -> None:
    """What every test run imports anyway, loaded once in the parent so that forked children
    skip it. Nothing here starts a thread (a fork would copy a half-held lock)."""
    import numpy  # noqa: F401
    import PIL.Image  # noqa: F401
    import pytest  # noqa: F401
    import torch  # noqa: F401
    import torchvision  # noqa: F401

    try:
        import hypothesis  # noqa: F401
    except ImportError:
        pass


def run_module(module: str, workdir: Path, args) -> list[Outcome]:
    path = workdir / "lenet_gui" / "core" / f"{module}.py"
    original = path.read_text()
    mutants = find_mutants(original)
    total = len(mutants)
    present = {m.key(module) for m in mutants} | {(*m.key(module), m.occurrence) for m in mutants}
    for key in EQUIVALENT:
        if key[0] == module and key not in present:
            print(f"{module}: EQUIVALENT names a mutant the source no longer has (its line changed): {key}")
    if args.only:
        mutants = [m for m in mutants if m.id in args.only]
    elif args.sample and args.sample < len(mutants):
        rng = random.Random(f"{args.seed}:{module}")
        mutants = sorted(rng.sample(mutants, args.sample), key=lambda m: m.id)
    if args.list:
        for m in mutants:
            print(f"{module} #{m.id} line {m.line} col {m.col}: {m.description}    {m.source_line}")
        return []
    tests = args.tests or MODULE_TESTS[module]
    runner = _run_subprocess if args.no_fork or not hasattr(os, "fork") else _run_forked
    log = workdir / f".mutation-{module}.log"
    status, baseline = runner(workdir, tests, args.baseline_timeout, log)
    if status != "passed":
        print(f"{module}: the tests fail on the unmutated code ({_first_failure(log) or status}); "
              f"fix them first. Log: {log.read_text(errors='replace')[-3000:]}")
        return []
    timeout = args.timeout or max(60.0, 3 * baseline)
    print(f"{module}: {total} mutants, running {len(mutants)}; tests {' '.join(tests)} "
          f"({baseline:.0f} s unmutated, timeout {timeout:.0f} s a mutant)", flush=True)
    outcomes = []
    try:
        for index, mutant in enumerate(mutants, 1):
            mutated = apply(original, mutant)
            if not valid(mutated):
                print(f"  [{index}/{len(mutants)}] #{mutant.id} line {mutant.line}: {mutant.description}: "
                      "not valid Python, skipped")
                continue
            if args.show:
                _show(original, mutated, module, mutant)
            path.write_text(mutated)
            try:
                status, seconds = runner(workdir, tests, timeout, log)
            finally:
                path.write_text(original)
            verdict = {"passed": "survived", "failed": "killed", "timeout": "timeout"}[status]
            why = mutant.why_equivalent(module)
            if why and verdict == "survived":
                verdict = "equivalent"
            elif why:
                print(f"  #{mutant.id} is listed in EQUIVALENT but was {verdict}: its argument is wrong, "
                      "remove it from the list")
            outcome = Outcome(mutant.id, mutant.line, mutant.col, mutant.description, mutant.source_line, verdict,
                              round(seconds, 1), _first_failure(log) if status == "failed" else "", why)
            outcomes.append(outcome)
            print(f"  [{index}/{len(mutants)}] #{mutant.id} line {mutant.line}: {mutant.description}: "
                  f"{verdict} ({seconds:.0f} s){' by ' + outcome.killed_by if outcome.killed_by else ''}",
                  flush=True)
    finally:
        path.write_text(original)
    return outcomes


def _show(original: str, mutated: str, module: str, mutant: Mutant) -> None:
    import difflib

    diff = difflib.unified_diff(original.splitlines(), mutated.splitlines(), f"{module}.py", f"{module}.py #{mutant.id}",
                                n=1, lineterm="")
    print("\n".join(diff))


def summarise(module: str, outcomes: list[Outcome]) -> dict:
    count = {s: sum(o.status == s for o in outcomes) for s in ("killed", "survived", "timeout", "equivalent")}
    equivalent = count["equivalent"]
    scored = len(outcomes) - equivalent
    score = (count["killed"] + count["timeout"]) / scored if scored else float("nan")
    print(f"\n{module}: {len(outcomes)} mutants, {count['killed']} killed, {count['survived']} survived, "
          f"{count['timeout']} timeouts, {equivalent} equivalent; score {score:.0%}")
    for o in outcomes:
        if o.status == "survived":
            print(f"  survived #{o.id} line {o.line} col {o.col}: {o.description}    {o.source_line}")
    for o in outcomes:
        if o.status == "equivalent":
            print(f"  equivalent #{o.id} line {o.line}: {o.description}    {o.source_line}\n      {o.why_equivalent}")
    return {"module": module, "mutants": len(outcomes), **count, "score": score}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("modules", nargs="*", help=f"modules of lenet_gui/core (default: all of {', '.join(MODULE_TESTS)})")
    parser.add_argument("--sample", type=int, default=0, help="run N mutants a module, drawn at random")
    parser.add_argument("--seed", default="0", help="the draw of --sample (default 0)")
    parser.add_argument("--only", type=lambda s: {int(x) for x in s.split(",")}, default=None,
                        help="run only these mutant numbers (as --list or a report shows them)")
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--show", action="store_true", help="print each mutant's diff before running it")
    parser.add_argument("--tests", nargs="+", help="run these test files instead of MODULE_TESTS'")
    parser.add_argument("--timeout", type=float, default=0, help="seconds a mutant's tests may take "
                        "(default: 3x the unmutated run, at least 60)")
    parser.add_argument("--baseline-timeout", type=float, default=900)
    parser.add_argument("--no-fork", action="store_true", help="a fresh interpreter for each mutant")
    parser.add_argument("--json", type=Path, help="also write every outcome to this file")
    args = parser.parse_args(argv)
    modules = [Path(m).stem for m in args.modules] or list(MODULE_TESTS)
    unknown = [m for m in modules if not (CORE / f"{m}.py").is_file()]
    if unknown:
        parser.error(f"not a module of lenet_gui/core: {', '.join(unknown)}")
    if args.tests is None:
        unmapped = [m for m in modules if m not in MODULE_TESTS]
        if unmapped:
            parser.error(f"no tests mapped for {', '.join(unmapped)}: pass --tests or add them to MODULE_TESTS")
    sys.dont_write_bytecode = True
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    started = time.monotonic()
    summaries, results = [], {}
    with tempfile.TemporaryDirectory(prefix="lenet-mutants-") as scratch:
        workdir = Path(scratch) / "checkout"
        shutil.copytree(REPO, workdir, ignore=COPY_IGNORE)
        # Subprocesses the tests start (the CLI) import the mutated copy, never the checkout.
        os.environ["PYTHONPATH"] = str(workdir) + os.pathsep + os.environ.get("PYTHONPATH", "")
        if not args.list and not (args.no_fork or not hasattr(os, "fork")):
            _preload()
        for module in modules:
            outcomes = run_module(module, workdir, args)
            if outcomes:
                summaries.append(summarise(module, outcomes))
                results[module] = [asdict(o) for o in outcomes]
    if summaries:
        print(f"\n{'module':<12} {'mutants':>7} {'killed':>6} {'survived':>8} {'timeouts':>8} {'equiv.':>6} {'score':>6}")
        for s in summaries:
            print(f"{s['module']:<12} {s['mutants']:>7} {s['killed']:>6} {s['survived']:>8} {s['timeout']:>8} "
                  f"{s['equivalent']:>6} {s['score']:>6.0%}")
        print(f"({time.monotonic() - started:.0f} s)")
    if args.json:
        args.json.write_text(json.dumps({"summaries": summaries, "outcomes": results}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
