"""``lstmkit text train|generate|evaluate``: LSTM language models over characters, words or BPE.

``train`` reads a UTF-8 text file (or ``bundled:char_text``), trains a
:class:`~lstmkit.tasks.LanguageModel` with the end of the text held out, prints the held-out loss,
perplexity and bits per character beside a unigram-frequency baseline, and writes under
``--out DIR``::

    DIR/model/         the saved model (config.json, weights.safetensors, state.json)
    DIR/metrics.json   the held-out scores, the baseline, training time and characters/second
    DIR/loss.png       training and validation loss per epoch
    DIR/run/           Lightning's CSV logs and checkpoints

``generate`` continues a prompt with a saved model; ``evaluate`` scores a text file with one.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from lstmkit.cli._options import (
    add_command,
    add_count_option,
    add_network_options,
    add_path_option,
    add_seed_option,
    add_threads_option,
    add_tokenizer_option,
    add_training_options,
    add_verb,
    apply_threads,
    check_output_dir,
    load_model,
    network_kwargs,
    non_negative_float,
    print_training_outputs,
    probability,
    run_fit,
    training_kwargs,
    write_json,
)


def _corpus(arg: str, what: str) -> str:
    from lstmkit.data.corpus import read_text
    from lstmkit.data.datasets import resolve_data_path

    return read_text(resolve_data_path(arg), what)


def register(subparsers: Any) -> None:
    verbs = add_command(
        subparsers,
        "text",
        help="train, sample from and evaluate LSTM language models",
        description="Language models over characters, words or BPE subwords (AWD-LSTM style).",
    )

    train = add_verb(
        verbs,
        "train",
        cmd_train,
        help="train a language model on a text file and save it",
        description="Train a language model with truncated BPTT; hold out the end of the text; "
        "print held-out loss, perplexity and bits per character beside a unigram baseline.",
    )
    add_path_option(
        train,
        "--corpus",
        "UTF-8 text file, or bundled:NAME (e.g. bundled:char_text)",
        required=True,
    )
    add_path_option(
        train, "--val-corpus", "held-out text (default: the last --val-fraction of the corpus)"
    )
    train.add_argument(
        "--val-fraction",
        type=probability,
        default=0.1,
        metavar="F",
        help="share of the corpus held out at its end when there is no --val-corpus (default: 0.1)",
    )
    add_count_option(
        train, "--max-chars", None, "use only the first N characters of the corpus (quick runs)"
    )
    add_tokenizer_option(train, "char")
    add_count_option(
        train, "--bpe-vocab-size", 2000, "subword vocabulary size for --tokenizer bpe (default: {})"
    )
    train.add_argument(
        "--lowercase", action="store_true", help="lowercase the text before tokenising"
    )
    add_count_option(train, "--embed-size", 64, "embedding size (default: {})")
    add_network_options(
        train,
        hidden_size=256,
        num_layers=2,
        units="LSTM units per layer (default: {}; with weight tying the last layer has "
        "--embed-size units)",
        layers="LSTM layers (default: {})",
    )
    train.add_argument(
        "--no-tie",
        action="store_true",
        help="do not tie the decoder to the embedding matrix",
    )
    for name, default, what in (
        ("embed-dropout", 0.0, "drop whole token types from the embedding matrix"),
        ("input-dropout", 0.1, "locked dropout on the embeddings"),
        ("hidden-dropout", 0.1, "locked dropout between LSTM layers"),
        ("output-dropout", 0.1, "locked dropout on the last layer's output"),
        ("recurrent-dropout", 0.0, "variational dropout on h(t-1) inside each layer"),
        ("weight-drop", 0.0, "DropConnect on the recurrent weight matrices"),
    ):
        train.add_argument(
            f"--{name}",
            type=probability,
            default=default,
            metavar="P",
            help=f"{what} (default: {default:g})",
        )
    train.add_argument(
        "--ar",
        type=non_negative_float,
        default=0.0,
        metavar="A",
        help="activation regularisation weight (AWD-LSTM uses 2; default: 0)",
    )
    train.add_argument(
        "--tar",
        type=non_negative_float,
        default=0.0,
        metavar="B",
        help="temporal activation regularisation weight (AWD-LSTM uses 1; default: 0)",
    )
    add_count_option(train, "--bptt", 100, "tokens per truncated-BPTT window (default: {})")
    train.add_argument(
        "--fixed-bptt",
        action="store_true",
        help="always cut windows of exactly --bptt tokens (default: AWD-style variable lengths)",
    )
    add_training_options(
        train,
        epochs=20,
        patience=5,
        batch_size=32,
        batch_help="parallel streams the text is cut into",
        lr=2e-3,
        impl=True,
        writes="the model and metrics",
    )

    generate = add_verb(
        verbs,
        "generate",
        cmd_generate,
        help="continue a prompt with a saved language model",
        description="Sample a continuation of --prompt, --length tokens long (characters for a "
        "char model), and print the prompt followed by it.",
        model="text",
    )
    generate.add_argument(
        "--prompt", default="", help="text to continue (default: empty, the start of a text)"
    )
    generate.add_argument(
        "--length", required=True, type=int, metavar="N", help="tokens to generate"
    )
    generate.add_argument(
        "--temperature",
        type=float,
        default=1.0,
        metavar="T",
        help="sampling temperature: below 1 safer, above 1 wilder, 0 greedy (default: 1)",
    )
    generate.add_argument(
        "--top-k",
        type=int,
        default=None,
        metavar="K",
        help="sample only among the K most likely tokens",
    )
    generate.add_argument(
        "--top-p",
        type=float,
        default=None,
        metavar="P",
        help="nucleus sampling: only the most likely tokens holding probability mass P",
    )
    add_seed_option(generate)
    add_threads_option(generate)

    evaluate = add_verb(
        verbs,
        "evaluate",
        cmd_evaluate,
        help="score a text file with a saved language model",
        description="Print the loss per token, perplexity and bits per character of a text "
        "beside the unigram-frequency baseline of the model's training text.",
        model="text",
    )
    add_path_option(evaluate, "--corpus", "UTF-8 text file, or bundled:NAME", required=True)
    add_count_option(
        evaluate,
        "--batch-size",
        1,
        "score N parallel streams (faster, slightly pessimistic; default: {}, exact)",
    )
    add_threads_option(evaluate)


def cmd_train(args: argparse.Namespace) -> int:
    from lstmkit.tasks.language_model import LanguageModel
    from lstmkit.tasks.language_model.metrics import format_scores

    apply_threads(args)
    text = _corpus(args.corpus, "the training corpus")
    if args.max_chars is not None:
        text = text[: args.max_chars]
    val = _corpus(args.val_corpus, "the validation text") if args.val_corpus else None
    options: dict[str, Any] = {"lowercase": args.lowercase}
    if args.tokenizer == "bpe":
        options["vocab_size"] = args.bpe_vocab_size
    lm = LanguageModel(
        args.tokenizer,
        tokenizer_options=options,
        embed_size=args.embed_size,
        **network_kwargs(args),
        tie_weights=not args.no_tie,
        embed_dropout=args.embed_dropout,
        input_dropout=args.input_dropout,
        hidden_dropout=args.hidden_dropout,
        output_dropout=args.output_dropout,
        weight_drop=args.weight_drop,
        ar=args.ar,
        tar=args.tar,
        bptt=args.bptt,
        variable_bptt=not args.fixed_bptt,
        recurrent_dropout=args.recurrent_dropout,  # an LSTM option, like impl
        impl=args.impl,
    )
    out = check_output_dir(args.out)  # before any work
    seconds = run_fit(
        lm.fit,
        text,
        val,
        val_fraction=args.val_fraction,
        **training_kwargs(args, out / "run"),
    )
    train_characters = lm.train_characters or 0
    val = lm.held_out  # the text fit held out (or --val-corpus)
    result = lm.fit_result
    epochs = len(lm.history) if lm.history is not None else 0
    chars_per_s = train_characters * epochs / seconds if seconds > 0 else float("nan")
    print(
        f"trained in {seconds:.1f} s: {epochs} epochs, best epoch {result.best_epoch}, "
        f"about {chars_per_s:,.0f} training characters/s (validation included)"
    )
    metrics: dict[str, Any] = {
        "train_seconds": seconds,
        "epochs": epochs,
        "best_epoch": result.best_epoch,
        "train_characters": train_characters,
        "train_chars_per_second": chars_per_s,
    }
    if val is not None:
        scores = lm.perplexity(val)
        print(f"\nheld-out text ({len(val):,} characters):")
        print(format_scores(scores))
        metrics["held_out"] = scores
    paths: dict[str, Path] = {"model": lm.save(out / "model")}
    paths["metrics"] = write_json(metrics, out / "metrics.json")
    return print_training_outputs(paths, lm, out, title="language model", heading="\nwrote:")


def cmd_generate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.language_model import LanguageModel

    lm = load_model(args, LanguageModel)
    continuation = lm.generate(
        args.prompt,
        args.length,
        temperature=args.temperature,
        top_k=args.top_k,
        top_p=args.top_p,
        seed=args.seed,
    )
    print(args.prompt + continuation)
    return 0


def cmd_evaluate(args: argparse.Namespace) -> int:
    from lstmkit.tasks.language_model import LanguageModel
    from lstmkit.tasks.language_model.metrics import format_scores

    lm = load_model(args, LanguageModel)
    text = _corpus(args.corpus, "the text to score")
    scores = lm.perplexity(text, batch_size=args.batch_size)
    print(f"{int(scores['tokens']):,} tokens, {int(scores['characters']):,} characters")
    print(format_scores(scores))
    return 0
