"""``lstmkit tag train|predict|evaluate``: BiLSTM-CRF sequence tagging of CoNLL files.

``train`` reads a CoNLL file (token column first, tag column last by default), trains a
:class:`~lstmkit.tasks.tagging.Tagger`, prints span scores on the validation (and test) file and
writes, under ``--out DIR``::

    DIR/model/         the saved tagger (config.json, weights.safetensors, state.json)
    DIR/metrics.json   span precision/recall/F1 (micro and per type) and token accuracy
    DIR/loss.png       training and validation loss per epoch
    DIR/run/           Lightning's CSV logs and checkpoints

Every file argument also takes ``bundled:NAME`` for a dataset bundled with lstmkit.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_command,
    add_count_option,
    add_network_options,
    add_path_option,
    add_threads_option,
    add_training_options,
    add_verb,
    apply_threads,
    check_output_dir,
    load_model,
    network_kwargs,
    print_paths,
    print_training_outputs,
    probability,
    run_fit,
    training_kwargs,
    write_json,
)


def _columns(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--token-col",
        type=int,
        default=None,
        metavar="I",
        help="CoNLL column of the tokens (default: 0 for train, the model's for the others)",
    )
    parser.add_argument(
        "--tag-col",
        type=int,
        default=None,
        metavar="I",
        help="CoNLL column of the tags, negative counts from the end (default: -1, the last)",
    )


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "tag",
        help="train, apply and evaluate BiLSTM-CRF sequence taggers (NER, chunking, POS)",
        description="Sequence tagging of CoNLL files: one token per line, whitespace-separated "
        "columns, a blank line between sentences.",
    )

    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a tagger on a CoNLL file, report span F1 and save it",
        description="Train a BiLSTM(-CRF) tagger; print span precision/recall/F1 on the "
        "validation (and test) file; write the model, metrics and loss plot under --out.",
    )
    add_path_option(train, "--data", "training CoNLL file", required=True)
    add_path_option(
        train, "--val", "validation CoNLL file: early stopping and best-epoch choice (recommended)"
    )
    add_path_option(train, "--test", "also score this CoNLL file after training")
    _columns(train)
    add_count_option(
        train,
        "--embedding-dim",
        100,
        "word embedding size (default: {}; the vectors' size with --vectors)",
    )
    add_network_options(
        train,
        hidden_size=100,
        num_layers=1,
        dropout=0.5,
        units="LSTM units per direction (default: {})",
        layers="stacked BiLSTM layers (default: {})",
        dropout_help="dropout on embeddings, between layers and before the tag scores "
        "(default: {:g})",
    )
    train.add_argument(
        "--no-crf",
        action="store_true",
        help="per-token softmax instead of a CRF with Viterbi decoding",
    )
    train.add_argument(
        "--constraints",
        choices=("auto", "none", "BIO", "IOBES"),
        default="auto",
        help="forbidden tag transitions in the CRF (default: auto, from the training tags)",
    )
    train.add_argument("--no-chars", action="store_true", help="no character CNN word features")
    train.add_argument(
        "--lowercase",
        action="store_true",
        help="lower-case words for the word vocabulary (characters keep their case)",
    )
    add_count_option(
        train, "--min-freq", 1, "words seen fewer times in training become <unk> (default: {})"
    )
    train.add_argument(
        "--word-dropout",
        type=probability,
        default=0.05,
        metavar="P",
        help="probability of replacing a training word by <unk> (default: 0.05)",
    )
    add_path_option(
        train,
        "--vectors",
        "pretrained word vectors (word2vec or GloVe text file) for the word embeddings",
    )
    train.add_argument(
        "--freeze-embeddings", action="store_true", help="keep the pretrained vectors fixed"
    )
    add_training_options(
        train,
        epochs=30,
        patience=5,
        batch_size=32,
        batch_help="sentences per batch",
        lr=0.005,
        writes="the model, metrics, loss plot and training logs",
    )

    predict = add_verb(
        verbs,
        "predict",
        cmd_predict,
        help="tag a text or CoNLL file with a saved tagger",
        description="Tag every sentence of a file; write token and predicted tag as CoNLL.",
        model="tag",
    )
    add_path_option(
        predict,
        "--data",
        "a .txt file (one sentence per line, tokens separated by spaces) or a CoNLL file "
        "(only its token column is read)",
        required=True,
    )
    add_path_option(predict, "--out", "CoNLL file to write: token TAB tag", required=True)
    add_threads_option(predict)

    evaluate = add_verb(
        verbs,
        "evaluate",
        cmd_evaluate,
        help="span precision/recall/F1 of a saved tagger on a tagged CoNLL file",
        description="Tag a CoNLL file with a saved tagger and compare with its tags: span "
        "precision, recall and F1 per type and micro-averaged (exact type and boundaries), "
        "and token accuracy.",
        model="tag",
    )
    add_path_option(evaluate, "--data", "tagged CoNLL file", required=True)
    _columns(evaluate)
    evaluate.add_argument(
        "--json",
        nargs="?",
        const="-",
        default=None,
        metavar="FILE",
        help="print the scores as JSON instead of a table (or write them to FILE)",
    )
    add_path_option(
        evaluate,
        "--predictions",
        "also write token, gold tag and predicted tag per line (conlleval's input)",
    )
    add_threads_option(evaluate)


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.tagging import Tagger, format_span_scores

    apply_threads(args)
    out = check_output_dir(args.out)  # before any work
    tagger = Tagger(
        embedding_dim=args.embedding_dim,
        **network_kwargs(args),
        use_crf=not args.no_crf,
        char_features=not args.no_chars,
        lowercase=args.lowercase,
        min_freq=args.min_freq,
        word_dropout=args.word_dropout,
        constraints=args.constraints,
        token_col=0 if args.token_col is None else args.token_col,
        tag_col=-1 if args.tag_col is None else args.tag_col,
        freeze_embeddings=args.freeze_embeddings,
    )
    seconds = run_fit(
        tagger.fit,
        args.data,
        args.val,
        vectors=args.vectors,
        **training_kwargs(args, out / "run"),
    )
    result = tagger.fit_result
    print(
        f"trained in {seconds:.1f} s: {result.epochs} epochs, best epoch {result.best_epoch}; "
        f"{len(tagger.tags)} tags, {len(tagger.words)} words"
        + (f", {tagger.scheme} constraints" if tagger.scheme else "")
    )
    metrics: dict[str, Any] = {}
    for name, data in (("validation", args.val), ("test", args.test)):
        if data is None:
            continue
        metrics[name] = tagger.span_report(data)
        print(f"\n{name} ({data}):")
        print(format_span_scores(metrics[name]))
    paths = {"model": tagger.save(out / "model")}
    if metrics:
        paths["metrics"] = write_json(metrics, out / "metrics.json")
    return print_training_outputs(paths, tagger, out, title="tagger", heading="\nwrote:")


def cmd_predict(args: argparse.Namespace) -> int:
    from lstmkit.data.conll import write_conll
    from lstmkit.tasks.tagging import Tagger

    tagger = load_model(args, Tagger)
    tokens = tagger.read_tokens(args.data)
    tags = tagger.predict(tokens)
    pairs = [(t, g) for t, g in zip(tokens, tags, strict=True) if t]
    path = write_conll(args.out, pairs)
    n_tokens = sum(len(t) for t in tokens)
    print(f"tagged {len(pairs)} sentences, {n_tokens} tokens")
    print_paths({"tags": path})
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.data.conll import write_conll
    from lstmkit.tasks.tagging import Tagger, format_span_scores, span_scores

    tagger = load_model(args, Tagger)
    # (tokens, gold, predicted) per sentence
    rows = tagger.compare(args.data, token_col=args.token_col, tag_col=args.tag_col)
    scores = span_scores([gold for _, gold, _ in rows], [pred for _, _, pred in rows])
    paths: dict[str, Path] = {}
    if args.json == "-":
        print(json.dumps(scores, indent=2, sort_keys=True))
    else:
        print(f"{scores['n_sentences']} sentences, {scores['n_gold']} gold spans ({args.data}):")
        print(format_span_scores(scores))
        if args.json:
            paths["scores"] = write_json(scores, args.json)
    if args.predictions:
        paths["predictions"] = write_conll(args.predictions, rows)
    if args.json != "-":
        print_paths(paths)
    return 0
