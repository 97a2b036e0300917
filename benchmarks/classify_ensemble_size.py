"""How many members the numeric classifier's ensemble of seeds needs (issue 13): accuracy and
seed spread of K = 1, 3, 5 (and, with --sizes, more) members on the dev sets
(docs/sequence-classification.md).

    python benchmarks/classify_ensemble_size.py ../shared/data/classify-dev \
        --sets ArrowHead PickupGestureWiimoteZ ACSF1 --json /tmp/ensemble-size.json
    python benchmarks/classify_ensemble_size.py --table /tmp/ensemble-size.json

One fit of the largest K per set and seed: member k has seed s + 10007 k, so its first K members
are exactly the ensemble=K model of seed s (K = 1 is the single network), and every K costs one
fit.
Series are shortened to 128 steps as ``lstmkit classify benchmark --max-steps 128`` does; one
torch thread. Prints a Markdown table: mean test accuracy over the seeds (spread max - min).
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np

SIZES = (1, 3, 5)


def measure(
    folder: str, sets: list[str] | None, seeds: list[int], out: str, sizes: tuple[int, ...] = SIZES
) -> list[dict]:
    import torch

    torch.set_num_threads(1)
    from lstmkit.tasks.classify import SequenceClassifier
    from lstmkit.tasks.classify.benchmark import find_pairs, shorten

    rows: list[dict] = []
    for pair in find_pairs(folder, sets):
        train_x, test_x = shorten(pair.train.series, 128), shorten(pair.test.series, 128)
        for seed in seeds:
            start = time.perf_counter()
            clf = SequenceClassifier(None, ensemble=max(sizes))
            clf.fit(train_x, pair.train.labels, seed=seed, enable_progress_bar=False)
            seconds = time.perf_counter() - start
            members = clf.nets
            for k in sizes:
                clf.nets = members[:k]  # the first k members: the ensemble=k model
                predicted = clf.predict(test_x)
                hits = [str(p) == str(t) for p, t in zip(predicted, pair.test.labels, strict=True)]
                acc = float(np.mean(hits))
                rows.append({"set": pair.name, "seed": seed, "K": k, "accuracy": acc,
                             "fit_seconds": seconds, "fit_members": max(sizes)})  # fmt: skip
                print(f"{pair.name:<24} seed {seed} K={k}: {acc:.4f}", flush=True)
            with open(out, "w", encoding="utf-8") as f:  # after every fit: a partial run counts
                json.dump(rows, f, indent=1)
    return rows


def table(rows: list[dict]) -> str:
    sets = sorted({r["set"] for r in rows})
    sizes = sorted({r["K"] for r in rows})
    most = max(r.get("fit_members", 5) for r in rows)
    lines = ["| set | " + " | ".join(f"K={k} acc (spread)" for k in sizes)
             + f" | {most}-member fit s |", "|---" * (len(sizes) + 2) + "|"]  # fmt: skip
    for name in sets:
        cells = []
        for k in sizes:
            acc = [r["accuracy"] for r in rows if r["set"] == name and r["K"] == k]
            cells.append(f"{np.mean(acc):.3f} ({max(acc) - min(acc):.3f})")
        secs = np.mean(
            [r.get("fit_seconds", r.get("fit_seconds_k5")) for r in rows if r["set"] == name]
        )
        lines.append(f"| {name} | " + " | ".join(cells) + f" | {secs:.0f} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", help="folder of NAME_TRAIN.ts / NAME_TEST.ts pairs")
    parser.add_argument("--sets", nargs="+", default=None)
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1, 2])
    parser.add_argument("--sizes", nargs="+", type=int, default=list(SIZES), help="K to score")
    parser.add_argument("--json", default="ensemble-size.json", help="where the rows go")
    parser.add_argument("--table", metavar="JSON", help="only print the table of a saved run")
    args = parser.parse_args()
    if args.table:
        with open(args.table, encoding="utf-8") as f:
            rows = json.load(f)
    elif args.folder:
        rows = measure(args.folder, args.sets, args.seeds, args.json, tuple(sorted(args.sizes)))
    else:
        parser.error("give a folder to measure, or --table JSON")
    print(table(rows))


if __name__ == "__main__":
    main()
