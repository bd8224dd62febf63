"""``lenet-gui``: the desktop app, and headless sub-commands train, runs, predict, evaluate, export,
export-script, summary."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time

PROG = "lenet-gui"


def _add_data_root(parser: argparse.ArgumentParser, top_level: bool = False) -> None:
    # Sub-commands must not reset a --data-root given before them.
    parser.add_argument(
        "--data-root", metavar="DIR", default=None if top_level else argparse.SUPPRESS,
        help="folder holding the data sets (torchvision layout); default: $LENET_DATA_ROOT, "
             "else a per-user cache folder",
    )


def _add_runs_dir(parser: argparse.ArgumentParser, top_level: bool = False) -> None:
    parser.add_argument(
        "--runs-dir", metavar="DIR", default=None if top_level else argparse.SUPPRESS,
        help="folder of the run history; default: $LENET_RUNS_DIR, else the folder chosen in the "
             "window, else a per-user data folder (on Linux ~/.local/share/lenet-studio/runs)",
    )


def _whole_number(text: str, minimum: int, refusal: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < minimum:
        raise argparse.ArgumentTypeError(f"{refusal}, not {value}")
    return value


def _positive_int(text: str) -> int:
    """For counts: a negative --limit sliced [:-5] and trained on all but five images."""
    return _whole_number(text, 1, "must be at least 1")


def _count(text: str) -> int:
    """For counts that may be zero."""
    return _whole_number(text, 0, "cannot be negative")


# The options of the desktop app itself; each takes a value.
WINDOW_OPTIONS = ("--data-root", "--runs-dir", "--lang")


def opens_the_window(argv: list[str]) -> bool:
    """Whether these arguments are the desktop app's own options only: then the sub-commands,
    whose choices import torch, need not be built before the window's start-up screen shows.
    Anything else (a command, --help, a mistake) gets the whole parser and its messages."""
    i = 0
    while i < len(argv):
        name, has_value, _ = argv[i].partition("=")
        if name not in WINDOW_OPTIONS:
            return False
        i += 1 if has_value else 2
    return True


def build_parser(with_commands: bool = True) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="LeNet Studio. Without a sub-command, opens the desktop app.",
    )
    parser.add_argument("--version", action="store_true", help="print the version and exit")
    desktop = parser.add_mutually_exclusive_group()
    desktop.add_argument("--install-desktop-entry", action="store_true",
                         help="add LeNet Studio to this user's application menu (Linux: a desktop "
                              "entry and an icon under $XDG_DATA_HOME, default ~/.local/share) and exit")
    desktop.add_argument("--uninstall-desktop-entry", action="store_true",
                         help="remove what --install-desktop-entry wrote and exit")
    _add_data_root(parser, top_level=True)
    _add_runs_dir(parser, top_level=True)
    # The window's languages (ui.i18n.LANGUAGES, which a test keeps equal to this list; naming
    # them here keeps Qt out of the command line's start).
    parser.add_argument("--lang", choices=["en", "zh_CN"], default=None,
                        help="the window's language for this start (default: the one chosen in "
                             "View > Language, else the system's)")
    if not with_commands:
        parser.set_defaults(command=None)
        return parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    from .core.data import DATASETS
    from .core.export import EXPORT_FORMATS
    from .core.presets import PRESET_NAMES

    datasets = list(DATASETS)
    train = sub.add_parser("train", help="train LeNet and print one line per epoch")
    _add_recipe_arguments(train)
    train.add_argument("--limit", type=_positive_int, metavar="N",
                       help="train on the first N training images only (quick experiments)")
    train.add_argument("--holdout", type=_count, metavar="N",
                       help="keep the last N training images out of training, to calibrate the model "
                            "(default: the preset's; robust holds out 5000)")
    train.add_argument("--save", metavar="PATH", help="save the trained model as a checkpoint")
    _add_runs_dir(train)
    _add_data_root(train)

    runs = sub.add_parser("runs", help="list the recorded training runs, one line each")
    runs.add_argument("--json", action="store_true",
                      help="one JSON object per line: settings, per-epoch history, diagnostics")
    _add_runs_dir(runs)

    predict = sub.add_parser("predict", help="classify image files")
    predict.add_argument("images", nargs="+", metavar="IMAGE")
    predict.add_argument("--model", default="mnist",
                         help="mnist, fashion-mnist (the bundled models) or a checkpoint path")
    predict.add_argument("--json", action="store_true", help="one JSON object per line")

    evaluate = sub.add_parser("evaluate", help="accuracy of a model on the official test set")
    evaluate.add_argument("--model", default="mnist",
                          help="mnist, fashion-mnist (the bundled models) or a checkpoint path")
    evaluate.add_argument("--dataset", choices=datasets,
                          help="test set to use (default: the one the model was trained on)")
    _add_data_root(evaluate)

    formats = ", ".join(f"{fmt.suffix} for {fmt.description}" for fmt in EXPORT_FORMATS.values())
    export = sub.add_parser("export", help="export a model, or its metrics")
    export.add_argument("output", metavar="OUTPUT", help=f"file to write, by its suffix: {formats}")
    export.add_argument("--model", default="mnist",
                        help="mnist, fashion-mnist (the bundled models) or a checkpoint path")

    script = sub.add_parser(
        "export-script", help="write the training recipe as a standalone Python script (torch and torchvision only)",
        description="Write the recipe that `train` with the same options would run as one standalone "
                    "script in the tutorial's style; run it as: python OUTPUT --data-root DIR "
                    "[--epochs N] [--device cpu|cuda].")
    script.add_argument("output", metavar="OUTPUT", help="the .py file to write")
    _add_recipe_arguments(script)

    summary = sub.add_parser("summary", help="the network layer by layer: shapes and their arithmetic, "
                                             "parameters and their formula, multiply-adds")
    which = summary.add_mutually_exclusive_group()
    which.add_argument("--model", help="mnist, fashion-mnist (the bundled models) or a checkpoint path")
    which.add_argument("--preset", choices=PRESET_NAMES,
                       help="the untrained network of a recipe (default: classic)")
    return parser


def _add_recipe_arguments(parser: argparse.ArgumentParser) -> None:
    """What to train: `train` and `export-script` take the same options, read by recipe_config."""
    from .core.data import DATASETS
    from .core.engine import OPTIMIZERS
    from .core.presets import PRESET_NAMES, PRESET_SUMMARIES

    parser.add_argument("--dataset", choices=list(DATASETS), default="fashion-mnist")
    parser.add_argument("--preset", choices=PRESET_NAMES, default="classic",
                        help="; ".join(f"{name}: {PRESET_SUMMARIES[name]}" for name in PRESET_NAMES))
    parser.add_argument("--epochs", type=int)
    parser.add_argument("--batch-size", type=int)
    parser.add_argument("--lr", type=float, help="learning rate (the peak rate for one-cycle)")
    parser.add_argument("--optimizer", choices=list(OPTIMIZERS))
    parser.add_argument("--device", default="auto", help="auto, cpu, cuda or cuda:N (default: auto)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, help="PyTorch intra-op threads on the CPU")


def recipe_config(args):
    """The validated TrainConfig of the options _add_recipe_arguments defines (TrainingError)."""
    from .core.presets import preset_config

    config = preset_config(
        args.preset, args.dataset, epochs=args.epochs, batch_size=args.batch_size, lr=args.lr,
        optimizer=args.optimizer, device=args.device, seed=args.seed, threads=args.threads,
        holdout=getattr(args, "holdout", None),  # train's own option: a script trains on every image
    )
    config.validate()
    return config


def _fail(message: str, code: int = 1) -> int:
    print(f"{PROG}: error: {message}", file=sys.stderr)
    return code


def _load_model(name: str):
    from .core.checkpoint import load_checkpoint
    from .core.resources import model_path

    return load_checkpoint(model_path(name))


class _ProgressBar:
    """A one-line bar on stderr, only when stderr is a terminal."""

    def __init__(self, stream=sys.stderr):
        self.stream = stream
        self.enabled = stream.isatty()
        self.last = 0.0

    def update(self, event) -> None:
        now = time.monotonic()
        if not self.enabled or (now - self.last < 0.1 and event.batch != event.batches):
            return
        self.last = now
        width = 30
        filled = int(width * event.batch / event.batches)
        self.stream.write(
            f"\repoch {event.epoch}/{event.epochs} [{'#' * filled}{'.' * (width - filled)}] "
            f"{event.batch}/{event.batches} loss {event.loss:.4f} {event.samples_per_sec:,.0f} img/s "
            f"eta {event.eta_seconds:4.1f}s"
        )
        self.stream.flush()

    def clear(self) -> None:
        if self.enabled:
            self.stream.write("\r\033[K")
            self.stream.flush()


def _runs_dir(args):
    """--runs-dir, else $LENET_RUNS_DIR, else the folder chosen in the window, else the default."""
    from .core.history import RUNS_DIR_ENV, resolve_runs_dir

    explicit = getattr(args, "runs_dir", None)
    chosen = None if explicit or os.environ.get(RUNS_DIR_ENV) else _runs_folder_chosen_in_the_window()
    return resolve_runs_dir(explicit, chosen)


def _runs_folder_chosen_in_the_window() -> str | None:
    try:
        from PySide6.QtCore import QSettings

        from .ui.app import APPLICATION, ORGANIZATION
        from .ui.settings import Settings

        value = QSettings(ORGANIZATION, APPLICATION).value(Settings.runs_folder.key, "")
    except Exception:  # noqa: BLE001 - no Qt here (or no readable settings): the default folder
        return None
    return value if isinstance(value, str) and value else None


def cmd_train(args) -> int:
    from .core import history
    from .core.checkpoint import save_checkpoint
    from .core.data import DatasetError, load_dataset
    from .core.engine import BatchProgress, EpochResult, EvaluationStarted, Trainer, TrainingError

    bar = _ProgressBar()

    def download_progress(name, done, total):
        if bar.enabled:
            pct = f"{100 * done / total:5.1f}%" if total else f"{done // 1024} KB"
            sys.stderr.write(f"\rdownloading {name} {pct}")
            sys.stderr.flush()

    try:
        config = recipe_config(args)
        dataset = load_dataset(args.dataset, args.data_root, progress=download_progress)
        bar.clear()
        trainer = Trainer(config, dataset, train_limit=args.limit)
    except (DatasetError, TrainingError) as exc:
        bar.clear()
        return _fail(str(exc))
    command = shlex.join([PROG, *args.argv])
    title = history.model_title(config.preset, dataset.info.title)
    recorder = history.RunRecorder(_runs_dir(args), config, source="cli", command=command, title=title)
    recorder.run_started(str(trainer.device), train_samples=len(trainer.train_split),
                         test_samples=len(trainer.test_split), batches_per_epoch=trainer.batches_per_epoch,
                         data_source=str(dataset.source))
    print(f"training on {trainer.device}", flush=True)
    try:
        for event in trainer.run():
            # Recorded before it is printed: a line on the screen is a line on disk.
            recorder.record(event, trainer)
            if isinstance(event, BatchProgress):
                bar.update(event)
            elif isinstance(event, EvaluationStarted):
                bar.clear()
            elif isinstance(event, EpochResult):
                bar.clear()
                print(event.line(), flush=True)
    except KeyboardInterrupt:
        bar.clear()
        recorder.log("interrupted: training stopped")
        recorder.finish(history.STOPPED)
        print("interrupted: training stopped", file=sys.stderr)
        if not trainer.history:
            _report_record(recorder)
            return 130
    except TrainingError as exc:
        bar.clear()
        recorder.finish(history.FAILED, str(exc))
        _report_record(recorder)
        return _fail(str(exc))
    except BaseException as exc:
        recorder.finish(history.FAILED, f"{type(exc).__name__}: {exc}")
        raise
    _report_record(recorder)
    if args.save:
        # After Ctrl+C mid-epoch: the weights of the last completed epoch, matching the history.
        state, meta = trainer.checkpoint_state()
        meta["command"] = command
        meta["title"] = title
        try:
            save_checkpoint(args.save, trainer.model, meta, state_dict=state)
        except Exception as exc:  # the run's figures are printed already; say why the file is missing
            return _fail(str(exc))
        block = meta.get("calibration")
        if block:
            details = block.get("details") or {}
            line = (f"calibrated on {details.get('fitted_on', 'held-out images')}: temperature "
                    f"{block['temperature']:.3f}, expected calibration error "
                    f"{details.get('ece_before', float('nan')):.4f} -> {details.get('ece_after', float('nan')):.4f} "
                    f"({details.get('ece_bins', 15)} bins)")
            if block.get("ood"):
                line += f"; out-of-distribution threshold {block['ood']['threshold']:.2f} ({block['ood']['method']})"
            print(line)
        print(f"saved {args.save}")
    return 0


def _report_record(recorder) -> None:
    # On stderr, with the progress: stdout holds the tutorial's lines and nothing else.
    if recorder.ok:
        print(f"run recorded in {recorder.folder}", file=sys.stderr)
    else:
        print(f"{PROG}: warning: {recorder.problem}", file=sys.stderr)


def _runs_line(record) -> str:
    if record.damaged:
        return f"{record.id}  damaged: {record.problem}"
    acc = record.final_test_acc
    date = record.started_at[:16].replace("T", " ")
    parts = [record.id, date, record.dataset, record.preset,
             f"{len(record.epochs)}/{record.planned_epochs} epochs",
             f"test acc {acc:.3f}" if acc is not None else "test acc -", record.status]
    if record.name:
        parts.append(repr(record.name))
    return "  ".join(parts)


def cmd_runs(args) -> int:
    from .core.history import list_runs

    runs_dir = _runs_dir(args)
    records = list_runs(runs_dir)
    if not records and not args.json:
        print(f"no runs recorded in {runs_dir}", file=sys.stderr)
    for record in records:
        if args.json:
            print(json.dumps(record.to_dict(), ensure_ascii=False), flush=True)
        else:
            print(_runs_line(record), flush=True)
    return 0


def cmd_predict(args) -> int:
    import torch

    from .core.checkpoint import CheckpointError
    from .core.inference import Predictor, classify
    from .core.ood import unfamiliar_message
    from .core.preprocess import ImageError

    # One image at a time is far too small to split across threads; on a busy 2-core machine
    # torch's default (every core) made each prediction 30x slower (68 ms against 2.5 ms).
    torch.set_num_threads(1)
    try:
        loaded = _load_model(args.model)
    except CheckpointError as exc:
        return _fail(str(exc))
    predictor = Predictor(loaded)
    failures = 0
    for path in args.images:
        try:
            pre, prediction = classify(loaded, path, predictor)
        except ImageError as exc:
            print(f"{path}: {exc}", file=sys.stderr)
            failures += 1
            continue
        if prediction is None:
            print(f"{path}: the image is blank: there is nothing to classify", file=sys.stderr)
            failures += 1
            continue
        if args.json:
            record = {
                "file": path,
                "index": prediction.index,
                "label": prediction.label,
                "probabilities": [round(float(p), 6) for p in prediction.probabilities],
                "unfamiliar": prediction.unfamiliar,
                "novelty": None if prediction.novelty is None else round(float(prediction.novelty), 3),
            }
            line = json.dumps(record, ensure_ascii=False)
            try:
                line.encode(sys.stdout.encoding or "utf-8")
            except (UnicodeEncodeError, LookupError):
                # A name the console cannot show (or not valid UTF-8 at all): \u escapes keep
                # the line valid JSON that any reader decodes back to the same name.
                line = json.dumps(record, ensure_ascii=True)
            print(line, flush=True)
        elif prediction.unfamiliar:
            print(f"{path}: {unfamiliar_message(loaded.input_kind)} "
                  f"(nearest class {prediction.label}, {prediction.confidence:.1%})", flush=True)
        else:
            print(f"{path}: {prediction.label} ({prediction.confidence:.1%})", flush=True)
    if failures:
        print(f"{failures} of {len(args.images)} file(s) could not be classified", file=sys.stderr)
        return 1
    return 0


def cmd_evaluate(args) -> int:
    from .core.calibration import ECE_BINS
    from .core.checkpoint import CheckpointError
    from .core.data import DatasetError, load_dataset
    from .core.evaluation import evaluate_split

    try:
        loaded = _load_model(args.model)
        key = args.dataset or loaded.dataset
        if key is None:
            return _fail("the model does not say which data set it was trained on; pass --dataset")
        dataset = load_dataset(key, args.data_root)
    except (CheckpointError, DatasetError) as exc:
        return _fail(str(exc))
    result = evaluate_split(loaded.model, dataset.test, key, loaded)
    report = result.calibration()
    print(f"test acc {result.accuracy:.4f}")
    print(f"mean top-1 probability {report.mean_confidence:.4f}, expected calibration error "
          f"{report.ece:.4f} ({ECE_BINS} equal-width bins), temperature {result.temperature:.3f}"
          + (", each image read with its mirror image" if loaded.calibration.average_mirror else ""))
    if result.unfamiliar_share is not None:
        print(f"called unfamiliar: {result.unfamiliar_share:.4f} of the test images")
    print("per-class accuracy:")
    width = max(len(c) for c in loaded.classes)
    for index, (name, acc, count) in enumerate(zip(loaded.classes, result.per_class_accuracy, result.class_counts)):
        print(f"  {index}  {name:<{width}}  {acc:.4f}  ({count} images)")
    return 0


def cmd_export(args) -> int:
    from .core.checkpoint import CheckpointError
    from .core.export import ExportError, export

    try:
        loaded = _load_model(args.model)
    except CheckpointError as exc:
        return _fail(str(exc))
    output = args.output
    try:
        export(loaded, output)
    except ExportError as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {output}: {exc.strerror or exc}")
    print(f"wrote {output}")
    return 0


def cmd_export_script(args) -> int:
    from .core.engine import TrainingError
    from .core.script_export import ScriptExportError, write_script

    try:
        write_script(recipe_config(args), args.output)
    except (TrainingError, ScriptExportError) as exc:
        return _fail(str(exc))
    except OSError as exc:
        return _fail(f"cannot write {args.output}: {exc.strerror or exc}")
    print(f"wrote {args.output}; run it with: python {shlex.quote(args.output)} --data-root DIR")
    return 0


def cmd_summary(args) -> int:
    from .core.architecture import describe, table_lines
    from .core.checkpoint import CheckpointError
    from .core.model import LeNet
    from .core.presets import preset_config

    if args.model is not None:
        try:
            loaded = _load_model(args.model)
        except CheckpointError as exc:
            return _fail(str(exc))
        model, title = loaded.model, loaded.title
    else:
        preset = args.preset or "classic"
        # The shapes and counts do not depend on the data set's mean and deviation.
        model, title = LeNet(preset_config(preset).model_config(0.0, 1.0)), f"LeNet ({preset} preset, untrained)"
    table = describe(model)
    print(title)
    print()
    for line in table_lines(table):
        print(line)
    print()
    print("print(net):")
    print(table.printed)
    return 0


def cmd_desktop_entry(install: bool) -> int:
    from .core.desktop_entry import DesktopEntryError, install_desktop_entry, uninstall_desktop_entry

    if sys.platform == "win32" or sys.platform == "darwin":
        return _fail("desktop entries are for Linux desktops (freedesktop.org); this system has its own launchers")
    try:
        if install:
            for path in install_desktop_entry():
                print(f"wrote {path}")
        else:
            removed = uninstall_desktop_entry()
            for path in removed:
                print(f"removed {path}")
            if not removed:
                print("no desktop entry to remove")
    except DesktopEntryError as exc:
        return _fail(str(exc))
    return 0


def run_gui(args) -> int:
    from .ui.app import run_app

    return run_app(data_root=args.data_root, language=args.lang, runs_dir=args.runs_dir)


def _printable_streams() -> None:
    """File names need not fit the console's encoding (a Chinese name on a Latin-1 console, a
    name that is not valid UTF-8): print them escaped instead of dying with a traceback."""
    for stream in (sys.stdout, sys.stderr):
        if getattr(stream, "errors", None) == "strict" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="backslashreplace")


def main(argv: list[str] | None = None) -> int:
    _printable_streams()
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser(with_commands=not opens_the_window(argv))
    args = parser.parse_args(argv)
    args.argv = argv  # recorded in saved checkpoints, to say how a model was made
    if args.version:
        from . import app_version

        print(f"LeNet Studio {app_version()}")
        return 0
    if args.install_desktop_entry or args.uninstall_desktop_entry:
        return cmd_desktop_entry(install=args.install_desktop_entry)
    commands = {"train": cmd_train, "runs": cmd_runs, "predict": cmd_predict, "evaluate": cmd_evaluate,
                "export": cmd_export, "export-script": cmd_export_script, "summary": cmd_summary}
    if args.command is None:
        return run_gui(args)
    try:
        return commands[args.command](args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
