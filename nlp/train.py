"""``python -m nlp train``: fit the relevance model on the labelled corpus and write its weights.

    python -m nlp train [--corpus nlp/data/corpus] [--out nlp/data/relevance_model.json] [--folds 5]

The corpus is JSON Lines under ``nlp/data/corpus/`` (``{"id", "text", "relevant", ...}``, see its
README). Features are those of ``nlp.relevance.features`` computed with the shipped Tagger (its
segmentation, lexicon and entities), so training and tagging read a text the same way. The
model is scikit-learn's logistic regression (liblinear, L2, classes balanced); its weights are
written as plain JSON, never a pickle, and the tagger reads them without scikit-learn.

Cross-validation (stratified, seeded, so the run is reproducible) picks the regularisation and
the operating point, recall first (a missed closure report costs an analyst more than a stray
near miss): the lowest threshold at which out-of-fold precision is still ``PRECISION_FLOOR``. The bias is then shifted so that this threshold is a score of 0.5. The figures are
printed and stored in the model file (``cv``), where the bench reads them.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import math
import re
import sys
from pathlib import Path

from nlp.relevance import Features, features
from nlp.resources import DATA_DIR

CORPUS_DIR = DATA_DIR / "corpus"
MODEL_PATH = DATA_DIR / "relevance_model.json"
PRECISION_FLOOR = 0.91    # the issue asks for 0.90 at recall >= 0.95; 0.91 held out better on new writers (docs/nlp.md)
MIN_DF = 2                 # an n-gram must occur in two training texts to get a weight
C_GRID = (3.0, 10.0, 30.0, 100.0)
SEED = 13
_LETTER = re.compile(r"[^\W\d_]")


def load_corpus(directory: Path = CORPUS_DIR) -> list[dict]:
    items = []
    for path in sorted(directory.glob("*.jsonl")):
        with open(path, encoding="utf-8") as fh:
            for lineno, line in enumerate(fh, 1):
                if line.strip():
                    item = json.loads(line)
                    if not isinstance(item.get("text"), str) or not isinstance(item.get("relevant"), bool):
                        raise ValueError(f"{path.name}:{lineno}: needs a string 'text' and a boolean 'relevant'")
                    items.append(item)
    return items


def featurise(tagger, texts: list[str]) -> list[Features]:
    out = []
    for text in texts:
        simple = tagger.simplifier.simplify(text)
        seg = tagger.segment(simple)
        out.append(features(simple, seg, tagger.entities.find(simple, seg), tagger.relevance.lexicon))
    return out


def vocabulary(rows: list[Features]) -> dict[tuple[str, str], int]:
    """(kind, n-gram) -> column, for the n-grams in at least MIN_DF training texts."""
    df: dict[tuple[str, str], int] = {}
    for doc in rows:
        for kind, grams in doc.grams().items():
            for g in grams:
                df[kind, g] = df.get((kind, g), 0) + 1
    # words without a letter (punctuation, numbers) carry no meaning of their own
    kept = sorted(key for key, n in df.items() if n >= MIN_DF and _LETTER.search(key[1]))
    return {key: i for i, key in enumerate(kept)}


def matrix(rows: list[Features], vocab: dict[tuple[str, str], int], lexicon: list[str]):
    """n-gram columns scaled to unit length per row, then one binary column per lexicon feature
    (as nlp.relevance.RelevanceModel.score reads a document)."""
    from scipy.sparse import csr_matrix

    data, indices, indptr = [], [], [0]
    offset = len(vocab)
    for doc in rows:
        known = sorted(vocab[kind, g] for kind, grams in doc.grams().items() for g in grams if (kind, g) in vocab)
        scale = 1.0 / math.sqrt(len(known)) if known else 0.0
        indices += known
        data += [scale] * len(known)
        for k, name in enumerate(lexicon):
            if name in doc.hits:
                indices.append(offset + k)
                data.append(1.0)
        indptr.append(len(indices))
    return csr_matrix((data, indices, indptr), shape=(len(rows), offset + len(lexicon)))


def fit(rows, labels, c: float, lexicon: list[str]):
    from sklearn.linear_model import LogisticRegression

    vocab = vocabulary(rows)
    model = LogisticRegression(C=c, solver="liblinear", class_weight="balanced", max_iter=1000)
    model.fit(matrix(rows, vocab, lexicon), labels)
    return vocab, model


def out_of_fold(rows, labels, c: float, folds: int, lexicon: list[str]) -> list[float]:
    from sklearn.model_selection import StratifiedKFold

    scores = [0.0] * len(rows)
    for train, test in StratifiedKFold(folds, shuffle=True, random_state=SEED).split(rows, labels):
        vocab, model = fit([rows[i] for i in train], [labels[i] for i in train], c, lexicon)
        probabilities = model.predict_proba(matrix([rows[i] for i in test], vocab, lexicon))[:, 1]
        for i, p in zip(test, probabilities):
            scores[i] = float(p)
    return scores


def precision_recall(scores, labels, threshold: float) -> tuple[float, float]:
    tp = sum(s >= threshold and y for s, y in zip(scores, labels))
    fp = sum(s >= threshold and not y for s, y in zip(scores, labels))
    fn = sum(s < threshold and y for s, y in zip(scores, labels))
    return (tp / (tp + fp) if tp + fp else 1.0), (tp / (tp + fn) if tp + fn else 1.0)


def operating_point(scores, labels) -> float:
    """Recall first: the lowest threshold whose out-of-fold precision is still PRECISION_FLOOR."""
    for threshold in sorted(set(scores)):
        if precision_recall(scores, labels, threshold)[0] >= PRECISION_FLOOR:
            return threshold
    return max(scores)


def average_precision(scores, labels) -> float:
    from sklearn.metrics import average_precision_score

    return float(average_precision_score(labels, scores))


def train(tagger, items: list[dict], folds: int = 5, log=print) -> dict:
    """The model file's content: weights, bias shifted to the operating point, CV figures."""
    texts, labels = [i["text"] for i in items], [bool(i["relevant"]) for i in items]
    rows = featurise(tagger, texts)
    lexicon = tagger.relevance.lexicon.feature_names
    by_c = {}
    for c in C_GRID:
        scores = out_of_fold(rows, labels, c, folds, lexicon)
        by_c[c] = (average_precision(scores, labels), scores)
        log(f"  C={c:<5} out-of-fold average precision {by_c[c][0]:.4f}")
    best_c = max(C_GRID, key=lambda c: (round(by_c[c][0], 4), -c))
    scores = by_c[best_c][1]
    threshold = operating_point(scores, labels)
    precision, recall = precision_recall(scores, labels, threshold)
    at_half = precision_recall(scores, labels, 0.5)
    vocab, model = fit(rows, labels, best_c, lexicon)
    coef = model.coef_[0]
    shift = math.log(threshold / (1 - threshold)) if 0 < threshold < 1 else 0.0
    cv = {"folds": folds, "seed": SEED, "C": best_c, "texts": len(items), "relevant": sum(labels),
          "average_precision": round(by_c[best_c][0], 4), "precision_floor": PRECISION_FLOOR,
          "threshold": round(threshold, 4), "precision": round(precision, 4), "recall": round(recall, 4),
          "precision_at_0.5": round(at_half[0], 4), "recall_at_0.5": round(at_half[1], 4)}
    log(f"  chosen C={best_c}; operating point {threshold:.4f}: out-of-fold precision {precision:.4f}, "
        f"recall {recall:.4f} (at 0.5: precision {at_half[0]:.4f}, recall {at_half[1]:.4f})")
    return {
        "_doc": "Relevance model of nlp/relevance.py, written by `python -m nlp train` (nlp/train.py); "
                "do not edit by hand. weights: n-gram feature -> coefficient (features scaled to unit "
                "length per document); lexicon_weights: relevance.yaml group or entity type -> coefficient; "
                "bias shifted so the cross-validated operating point is a score of 0.5.",
        "corpus": {"texts": len(items), "sha256": _corpus_hash(items)},
        "cv": cv,
        "bias": round(float(model.intercept_[0]) - shift, 6),
        "lexicon_weights": {name: round(float(coef[len(vocab) + k]), 6) for k, name in enumerate(lexicon)},
        "weights": _weights_by_kind(vocab, coef),
    }


def _weights_by_kind(vocab: dict[tuple[str, str], int], coef) -> dict[str, dict[str, float]]:
    weights: dict[str, dict[str, float]] = {"w": {}, "c": {}, "b": {}}
    for (kind, g), i in vocab.items():
        weights[kind][g] = round(float(coef[i]), 6)
    return weights


def _corpus_hash(items: list[dict]) -> str:
    digest = hashlib.sha256()
    for item in items:
        digest.update(f"{item['relevant']}\t{item['text']}\n".encode("utf-8"))
    return digest.hexdigest()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m nlp train", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=CORPUS_DIR)
    parser.add_argument("--out", type=Path, default=MODEL_PATH)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args(argv)
    from nlp.tagger import Tagger

    items = load_corpus(args.corpus)
    if len(items) < 2 * args.folds:
        print(f"{args.corpus}: {len(items)} labelled texts, too few to train", file=sys.stderr)
        return 1
    print(f"training on {len(items)} texts ({sum(i['relevant'] for i in items)} relevant) from {args.corpus}")
    model = train(Tagger(keywords=0, relevance_model=None), items, args.folds)
    args.out.write_text(json.dumps(model, ensure_ascii=False, indent=0, sort_keys=True) + "\n", encoding="utf-8")
    print(f"wrote {args.out}: {sum(map(len, model['weights'].values()))} n-gram weights")
    return 0
