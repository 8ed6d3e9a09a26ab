"""Paired speed run of the tagger against an earlier commit's, with identical output checked first.

    .venv/bin/python bench/bench_nlp_paired.py REF [--rounds 11] [--chars 200000] [--changed-output]

Loads the ``nlp`` package of git ``REF`` (``git archive`` into a temporary directory) and of the
working tree into one process, tags every text of tests/data/nlp, nlp/data/corpus and
``$BANWAVE_EVALDATA/nlp_dev.jsonl`` (alone and eight to a document) with both and stops if any
output differs (``--changed-output``: counts the differences and goes on, to time a change meant
to alter the output, such as new entity rules); then times both and bare ``jieba.Tokenizer.lcut`` on the speed corpus of
``bench_nlp.py``, alternating within each round (CPU time), and prints each tagger's median ratio
to ``lcut`` and the new tagger's time as a share of the old one's, round by round.
"""
from __future__ import annotations

import argparse
import importlib
import io
import logging
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import config  # noqa: E402
from bench_nlp import DATA, build_corpus  # noqa: E402
from nlp.evaluation import load_gold  # noqa: E402


def tagger_from(root: Path):
    """A Tagger built from the ``nlp`` package under ``root`` (the package is imported afresh)."""
    for name in [m for m in sys.modules if m == "nlp" or m.startswith("nlp.")]:
        del sys.modules[name]
    sys.path.insert(0, str(root))
    try:
        nlp = importlib.import_module("nlp")
        assert Path(nlp.__file__).resolve().is_relative_to(root.resolve()), nlp.__file__
        return nlp.Tagger()
    finally:
        sys.path.remove(str(root))


def all_texts() -> list[str]:
    paths = [*sorted(DATA.glob("*.jsonl")), *sorted((ROOT / "nlp" / "data" / "corpus").glob("*.jsonl")),
             config.evaldata_dir() / "nlp_dev.jsonl"]
    texts = [g["text"] for path in paths for g in load_gold(path)]
    return texts + ["\n".join(texts[i:i + 8]) for i in range(0, len(texts), 8)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("ref", help="the git commit (or branch) to compare with")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--chars", type=int, default=200_000, help="size of the speed corpus")
    parser.add_argument("--changed-output", action="store_true",
                        help="count differing outputs and time anyway (a change meant to alter the output)")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("jieba").setLevel(logging.WARNING)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.ref, "nlp"], check=True,
                             capture_output=True).stdout
    with tempfile.TemporaryDirectory() as old_root:
        tarfile.open(fileobj=io.BytesIO(archive)).extractall(old_root, filter="data")
        compare(tagger_from(Path(old_root)), tagger_from(ROOT), args)


def compare(old, new, args) -> None:
    texts = all_texts()
    differ = sum(old.tag(text) != new.tag(text) for text in texts)
    print(f"{len(texts)} outputs compared, {differ} differ")
    if differ and not args.changed_output:
        sys.exit(1)
    gold = [g["text"] for name in ("gold.jsonl", "gold_plain.jsonl") for g in load_gold(DATA / name)]
    docs = build_corpus(gold, args.chars)
    runs = {"lcut": [], "old": [], "new": []}
    functions = {"lcut": new.tokenizer.lcut, "old": old.tag, "new": new.tag}
    for round_number in range(args.rounds):  # alternate the order too: neither always runs first
        for name in (list(functions) if round_number % 2 == 0 else list(reversed(functions))):
            start = time.process_time()
            for doc in docs:
                functions[name](doc)
            runs[name].append(time.process_time() - start)
    print(f"{len(docs)} documents, {sum(map(len, docs)):,} characters, {args.rounds} rounds (CPU time)")
    for name in ("old", "new"):
        ratio = statistics.median(t / b for t, b in zip(runs[name], runs["lcut"]))
        print(f"  {name} ({args.ref if name == 'old' else 'working tree'}): best {min(runs[name]):.3f} s, "
              f"median of the rounds' ratios to bare lcut {ratio:.2f}x")
    shares = [n / o for n, o in zip(runs["new"], runs["old"])]
    print(f"  new / old time per round: median {statistics.median(shares):.3f} "
          f"({', '.join(f'{s:.2f}' for s in shares)})")


if __name__ == "__main__":
    main()
