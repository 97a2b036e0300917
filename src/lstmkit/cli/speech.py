"""``lstmkit speech make-data|train|transcribe|evaluate|loso``: spoken digit strings to text with
a BiLSTM trained by CTC.

``make-data`` writes connected digit strings (WAV files and ``transcripts.tsv``) from a folder of
isolated recordings ``{digit}_{speaker}_{index}.wav`` (default: the small subset bundled with
lstmkit). ``train`` trains a :class:`~lstmkit.tasks.speech.SpeechRecognizer` and writes, under
``--out DIR``::

    DIR/model/         the saved recogniser (config.json, weights.safetensors, state.json)
    DIR/metrics.json   error rates on --val (when given)
    DIR/loss.png       training and validation CTC loss per epoch
    DIR/run/           Lightning's CSV logs and checkpoints

``transcribe`` prints ``FILE<TAB>TRANSCRIPT`` per file; ``evaluate`` prints the character and
digit error rates, string accuracy and a digit confusion table, and can plot the CTC posteriors
of one utterance over its spectrogram; ``loso`` runs leave-one-speaker-out and prints its table.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_command,
    add_count_option,
    add_network_options,
    add_path_option,
    add_seed_option,
    add_threads_option,
    add_training_options,
    add_verb,
    apply_threads,
    check_output_dir,
    load_model,
    network_kwargs,
    positive_int,
    print_paths,
    print_training_outputs,
    run_fit,
    training_kwargs,
    write_csv,
    write_json,
)


def _index_range(text: str) -> range:
    try:
        start, stop = (int(part) for part in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected START:STOP, got {text!r}") from None
    if not 0 <= start < stop:
        raise argparse.ArgumentTypeError(f"expected 0 <= START < STOP, got {text!r}")
    return range(start, stop)


def _seeds(text: str) -> list[int]:
    try:
        return [int(part) for part in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected comma-separated integers, got {text!r}"
        ) from None


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def _model_options(parser: argparse.ArgumentParser) -> None:
    add_network_options(
        parser,
        hidden_size=96,
        num_layers=2,
        dropout=0.2,
        units="LSTM units ({})",
        layers="BiLSTM layers ({})",
        dropout_help="dropout ({:g})",
    )
    add_count_option(parser, "--stack", 3, "10 ms frames joined into one LSTM step ({})")
    parser.add_argument(
        "--no-spec-augment", action="store_true", help="no time and mel-band masking in training"
    )
    parser.add_argument(
        "--no-speed-perturb", action="store_true", help="no 0.9/1.1 speed changes in training"
    )
    parser.add_argument(
        "--vtlp",
        type=float,
        default=0.0,
        metavar="W",
        help="vocal-tract-length perturbation: stretch each training utterance's mel axis by a "
        "factor in 1 +- W (default: 0, off; 0.1 did not help on two measured folds)",
    )
    _frontend_option(parser)


def _frontend_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--frontend",
        choices=("none", "conv"),
        default="none",
        help="before the BiLSTM: nothing (default) or two convolutions over (time, mel) with "
        "max-pooling along the mel axis (measured worse on two folds: docs/speech.md)",
    )


def _decoder_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--decoder",
        choices=("greedy", "beam"),
        default=None,
        help="CTC decoding (default: the model's, prefix beam search)",
    )


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "speech",
        help="speech recognition: spoken digit strings to text (BiLSTM + CTC)",
        description="Train, apply and evaluate BiLSTM-CTC speech recognisers on WAV files.",
    )

    make = add_verb(
        verbs,
        "make-data",
        cmd_make_data,
        help="write connected digit strings (WAV files + transcripts.tsv) from isolated digits",
    )
    add_path_option(
        make,
        "--source",
        "folder of {digit}_{speaker}_{index}.wav recordings (default: the bundled subset)",
        metavar="DIR",
    )
    add_path_option(make, "--out", "folder to write", metavar="DIR", required=True)
    make.add_argument(
        "-n", type=positive_int, default=200, metavar="N", help="utterances to write (200)"
    )
    make.add_argument("--speakers", type=_names, default=None, help="comma-separated speakers")
    make.add_argument(
        "--indices", type=_index_range, default=None, metavar="START:STOP", help="recordings used"
    )
    make.add_argument("--max-digits", type=positive_int, default=7, metavar="N", help="(7)")
    add_seed_option(make)

    train = add_verb(verbs, "train", cmd_train, help="train a recogniser on a transcript folder")
    add_path_option(
        train, "--data", "folder with transcripts.tsv and audio", metavar="DIR", required=True
    )
    add_path_option(train, "--val", "validation folder: early stopping (advised)", metavar="DIR")
    _model_options(train)
    add_training_options(
        train,
        epochs=30,
        patience=5,
        batch_size=32,
        batch_help="utterances per batch",
        lr=3e-3,
        impl=True,
        writes="the model, metrics, loss plot and training logs",
    )

    transcribe = add_verb(
        verbs,
        "transcribe",
        cmd_transcribe,
        help="print one transcript per audio file",
        model="speech",
    )
    transcribe.add_argument("files", nargs="+", metavar="FILE", help="audio files (WAV)")
    _decoder_option(transcribe)
    add_threads_option(transcribe)

    evaluate = add_verb(
        verbs,
        "evaluate",
        cmd_evaluate,
        help="error rates, string accuracy and digit confusions on a transcript folder",
        model="speech",
    )
    add_path_option(evaluate, "--data", "transcript folder", metavar="DIR", required=True)
    _decoder_option(evaluate)
    add_path_option(evaluate, "--json", "also write every score and transcript")
    add_path_option(
        evaluate,
        "--plot",
        "plot the CTC posteriors of the first utterance over its spectrogram (PNG)",
    )
    add_threads_option(evaluate)

    loso = add_verb(
        verbs,
        "loso",
        cmd_loso,
        help="leave-one-speaker-out: train on the other speakers, test on each in turn",
    )
    add_path_option(
        loso, "--source", "folder of isolated digit recordings", metavar="DIR", required=True
    )
    add_path_option(loso, "--work", "folder for the fold data", metavar="DIR", required=True)
    loso.add_argument("--seeds", type=_seeds, default=[0], help="comma-separated seeds (0)")
    loso.add_argument(
        "--held-out", type=_names, default=None, help="the folds to run (default: every speaker)"
    )
    loso.add_argument("--n-train", type=positive_int, default=600, metavar="N", help="(600)")
    loso.add_argument("--epochs", type=positive_int, default=20, metavar="N", help="(20)")
    _frontend_option(loso)
    add_path_option(loso, "--out", "write the folds as CSV")
    add_threads_option(loso)


def cmd_make_data(args: argparse.Namespace) -> int:
    from lstmkit.data.spoken_digits import bundled_digits_dir, make_digit_strings

    source = args.source or bundled_digits_dir()
    path = make_digit_strings(
        source,
        args.out,
        n_utterances=args.n,
        speakers=args.speakers,
        indices=args.indices,
        max_digits=args.max_digits,
        seed=args.seed,
    )
    print(f"wrote {args.n} utterances from {source}")
    print_paths({"transcripts": path, "audio": path.parent / "wav"})
    return 0


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.speech import SpeechRecognizer
    from lstmkit.tasks.speech.metrics import format_scores

    apply_threads(args)
    out = check_output_dir(args.out)  # before training, not after
    options = {} if args.impl == "auto" else {"impl": args.impl}
    model = SpeechRecognizer(
        **network_kwargs(args),
        stack=args.stack,
        spec_augment=not args.no_spec_augment,
        speed_perturb=not args.no_speed_perturb,
        vtlp=args.vtlp,
        frontend=args.frontend,
        **options,
    )
    seconds = run_fit(model.fit, args.data, args.val, **training_kwargs(args, out / "run"))
    result = model.fit_result
    print(
        f"trained in {seconds:.1f} s: {result.epochs} epochs, best epoch "
        f"{result.best_epoch}; tokens {''.join(model.tokens)!r}"
    )
    paths = {"model": model.save(out / "model")}
    if args.val is not None:
        scores = model.evaluate(args.val).loc["model"].to_dict()
        print(format_scores(scores, f"validation ({args.val})"))
        paths["metrics"] = write_json({"validation": scores}, out / "metrics.json")
    return print_training_outputs(paths, model, out, title="speech recogniser", heading="\nwrote:")


def cmd_transcribe(args: argparse.Namespace) -> int:
    from lstmkit.tasks.speech import SpeechRecognizer

    model = load_model(args, SpeechRecognizer)
    for path, text in zip(args.files, model.predict(args.files, decoder=args.decoder), strict=True):
        print(f"{path}\t{text}")
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.speech import SpeechRecognizer
    from lstmkit.tasks.speech.metrics import format_confusions, format_scores

    model = load_model(args, SpeechRecognizer)
    report = model.report(args.data, decoder=args.decoder)
    print(format_scores(report, f"{int(report['n_utterances'])} utterances ({args.data})"))
    print("\ndigit confusions (rows: said; columns: transcribed; <del>/<ins>: missed/extra):")
    print(format_confusions(report["confusions"]))
    paths: dict[str, Path] = {}
    if args.json:
        paths["scores"] = write_json(report, args.json, sort_keys=False)
    if args.plot:
        from lstmkit.tasks.speech.plot import plot_posteriors

        first = report["transcripts"][0]
        paths["plot"] = plot_posteriors(model, first["file"], args.plot, title=first["reference"])
    print_paths(paths)
    return 0


def cmd_loso(args: argparse.Namespace) -> int:
    from lstmkit.tasks.speech.loso import leave_one_speaker_out, summarise

    apply_threads(args)
    start = time.perf_counter()
    folds = leave_one_speaker_out(
        args.source,
        args.work,
        held_out=args.held_out,
        seeds=args.seeds,
        n_train=args.n_train,
        model_options={"frontend": args.frontend},
        fit_options={"max_epochs": args.epochs},
    )
    print(f"leave-one-speaker-out, {time.perf_counter() - start:.0f} s:")
    print(summarise(folds).to_string(float_format=lambda v: f"{v:.3f}"))
    if args.out:
        print_paths({"folds": write_csv(folds, args.out)})
    return 0


__all__ = ["register"]
