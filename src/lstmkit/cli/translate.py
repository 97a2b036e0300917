"""``lstmkit translate train|run|evaluate|make-data``: sequence-to-sequence models on text pairs.

A pairs file is UTF-8 text, one ``source<TAB>target`` per line (blank lines skipped); a file
argument also accepts ``bundled:NAME``. ``train`` writes, under ``--out DIR``::

    DIR/model/       the saved model (config.json, weights.safetensors, state.json)
    DIR/loss.png     training and validation loss per epoch
    DIR/run/         Lightning's CSV logs and checkpoints
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_command,
    add_count_option,
    add_dropout_option,
    add_path_option,
    add_seed_option,
    add_threads_option,
    add_tokenizer_option,
    add_training_options,
    add_val_size_option,
    add_verb,
    apply_threads,
    check_output_dir,
    load_model,
    network_kwargs,
    non_negative_float,
    positive_int,
    print_paths,
    print_training_outputs,
    run_fit,
    training_kwargs,
)
from lstmkit.errors import DataError


def _add_decoding(parser: argparse.ArgumentParser) -> None:
    add_count_option(parser, "--beam", 1, "beam size (default: {}, greedy decoding)")
    parser.add_argument(
        "--length-penalty",
        type=non_negative_float,
        default=0.0,
        metavar="A",
        help="beam search picks the hypothesis maximising log P / ((5 + length) / 6) ** A "
        "(default: 0, plain log-probability; larger values favour longer outputs)",
    )


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "translate",
        help="train and apply sequence-to-sequence models on text pairs",
        description="Sequence-to-sequence models (BiLSTM encoder, attentional LSTM decoder) "
        "trained on pairs of texts: source<TAB>target per line.",
    )

    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a model on a pairs file and save it",
        description="Train a Seq2Seq model on a TSV of source<TAB>target lines; print its "
        "validation (and, with --test, test) exact match and BLEU; write the model under --out.",
    )
    add_path_option(train, "--pairs", "training pairs: source<TAB>target per line", required=True)
    add_path_option(
        train,
        "--val",
        "validation pairs for early stopping (default: hold out --val-size of --pairs)",
    )
    add_path_option(train, "--test", "also evaluate on these pairs after training")
    add_val_size_option(
        train,
        0.1,
        "share of --pairs held out for validation when --val is not given (default: 0.1)",
    )
    add_tokenizer_option(train, "char")
    train.add_argument(
        "--attention",
        choices=("additive", "multiplicative", "none"),
        default="additive",
        help="attention score: additive (Bahdanau), multiplicative (Luong 'general') or none "
        "(default: additive)",
    )
    add_count_option(train, "--hidden-size", 128, "LSTM units per direction (default: {})")
    add_count_option(train, "--embed-size", 64, "embedding size (default: {})")
    add_count_option(train, "--num-layers", 1, "stacked layers (default: {})")
    add_dropout_option(train, 0.0)
    train.add_argument(
        "--teacher-forcing",
        type=float,
        default=1.0,
        metavar="P",
        help="probability of feeding the true previous token in training (default: 1)",
    )
    train.add_argument(
        "--no-input-feeding",
        action="store_true",
        help="do not feed the previous attentional vector to the decoder",
    )
    add_training_options(
        train,
        epochs=30,
        patience=5,
        batch_size=64,
        batch_help="pairs per batch",
        lr=2e-3,
        writes="the model and logs",
    )

    run = add_verb(
        verbs,
        "run",
        cmd_run,
        help="translate texts with a saved model",
        description="Translate one or more texts with a saved model and print one output per line.",
        model="translate",
    )
    run.add_argument(
        "--text",
        required=True,
        action="append",
        metavar="TEXT",
        help="a text to translate (repeat for several)",
    )
    _add_decoding(run)
    add_path_option(
        run,
        "--plot",
        "also write the attention map of the first text (greedy decoding)",
        metavar="FILE.png",
    )
    add_threads_option(run)

    evaluate = add_verb(
        verbs,
        "evaluate",
        cmd_evaluate,
        help="exact match, BLEU and chrF of a saved model on a pairs file",
        description="Translate the sources of a pairs file and print exact match (the share of "
        "outputs equal to the reference), corpus BLEU and chrF (sacrebleu).",
        model="translate",
    )
    add_path_option(
        evaluate, "--pairs", "pairs to score: source<TAB>target per line", required=True
    )
    _add_decoding(evaluate)
    add_threads_option(evaluate)

    data = add_verb(
        verbs,
        "make-data",
        cmd_make_data,
        help="write a synthetic pairs file (date conversion or string reversal)",
        description="Write pairs of a synthetic task: 'date' (a date in one of several English "
        "formats -> YYYY-MM-DD) or 'reverse' (a random string -> the string reversed).",
    )
    data.add_argument(
        "--task",
        required=True,
        choices=("date", "dates", "reverse"),
        help="the task ('dates' is the same as 'date')",
    )
    data.add_argument("--n", required=True, type=positive_int, metavar="N", help="number of pairs")
    add_seed_option(data)
    add_path_option(
        data,
        "--exclude",
        "leave out pairs whose source appears in this pairs file (e.g. the training file, "
        "to write a truly held-out test set); draws go on until N pairs are found",
    )
    add_path_option(data, "--out", "the pairs file to write", metavar="FILE.tsv", required=True)


def _print_scores(what: str, metrics: Any, n_pairs: int) -> None:
    """One line from ``Seq2Seq.evaluate``'s frame (its "model" row)."""
    scores = metrics.loc["model"]
    print(
        f"{what}: exact match {scores['exact_match']:.2%} ({n_pairs} pairs), "
        f"BLEU {scores['bleu']:.2f}, chrF {scores['chrf']:.2f}"
    )


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.data.transduction import read_pairs
    from lstmkit.tasks.seq2seq import Seq2Seq

    apply_threads(args)
    out = check_output_dir(args.out)  # before any work
    pairs = read_pairs(args.pairs)
    val = read_pairs(args.val) if args.val else None
    test = read_pairs(args.test) if args.test else None
    model = Seq2Seq(
        tokenizer=args.tokenizer,
        attention=args.attention,
        embed_size=args.embed_size,
        **network_kwargs(args),
        input_feeding=not args.no_input_feeding,
        teacher_forcing=args.teacher_forcing,
        val_size=args.val_size,
    )
    seconds = run_fit(
        model.fit,
        pairs,
        val,
        **training_kwargs(args, out / "run"),
    )
    result = model.fit_result
    assert result is not None
    print(
        f"trained in {seconds:.1f} s: {result.epochs} epochs, best epoch {result.best_epoch} "
        f"(attention {args.attention}, {len(pairs)} pairs)"
    )
    if test is not None:
        _print_scores("test", model.evaluate(test), len(test))
    paths: dict[str, Path] = {"model": model.save(out / "model")}
    return print_training_outputs(paths, model, out)


def cmd_run(args: argparse.Namespace) -> int:
    from lstmkit.tasks.seq2seq import Seq2Seq

    model = load_model(args, Seq2Seq)
    outputs = model.translate(args.text, beam_size=args.beam, length_penalty=args.length_penalty)
    for text in outputs:
        print(text)
    if args.plot:
        from lstmkit.viz.attention import plot_attention

        src, out, weights = model.attention_weights(args.text[0])
        path = plot_attention(weights, src, out, args.plot)
        print_paths({"attention plot": path})
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.data.transduction import read_pairs
    from lstmkit.tasks.seq2seq import Seq2Seq

    model = load_model(args, Seq2Seq)
    pairs = read_pairs(args.pairs)
    scores = model.evaluate(pairs, beam_size=args.beam, length_penalty=args.length_penalty)
    decoding = "greedy" if args.beam == 1 else f"beam {args.beam}"
    _print_scores(f"{args.pairs} ({decoding})", scores, len(pairs))
    return 0


def cmd_make_data(args: argparse.Namespace) -> int:
    from lstmkit.data.transduction import held_out_pairs, make_pairs, read_pairs, write_pairs

    task = "date" if args.task == "dates" else args.task
    if args.exclude is None:
        pairs = make_pairs(task, args.n, seed=args.seed)
    else:
        seen = {src for src, _ in read_pairs(args.exclude)}
        try:
            pairs = held_out_pairs(task, args.n, seed=args.seed, exclude=seen)
        except DataError as err:
            raise DataError(f"{err} (excluding the sources in {args.exclude})") from None
    path = write_pairs(args.out, pairs)
    note = f", none with a source in {args.exclude}" if args.exclude else ""
    print(f"wrote {args.n} {task} pairs (seed {args.seed}{note}) to {path}")
    return 0
