#!/usr/bin/python3
"""Trains the attack-vs-benign flow model shipped with Sentinel.

Input: the canonical feature table written by
    sentinel flows features --input tests/data/netflows/... --out features.csv
(the 79 features of src/flows/flow.h by their CIC names, then label, layout
and source file), so training sees exactly the vectors the C++ reader makes.

Output: an XGBoost 1.7 JSON model (evaluated natively by Sentinel, see
src/flows/gbdt.h), its normaliser beside it (<model>.norm.json, the format of
src/flows/normaliser.h), and a report (per-class recall, held-out F1,
cross-layout checks) as JSON and text.

The reference files differ by capture day and by layout, and some hold one
class only (the Friday file is all benign, the derived sample mostly
attacks). A model could learn "which file" instead of "which traffic", so:
  * features a layout lacks (Destination Port in the derived sample, Protocol
    in the MachineLearningCVE files) are left out of training, since their
    absence alone would give the file away;
  * every (layout, class) group gets the same total weight, so no file's size
    dominates;
  * the report includes leave-one-layout-out checks: trained without a
    layout, evaluated on it.

Runs offline with Debian's python3-xgboost, python3-numpy, python3-sklearn:
    /usr/bin/python3 scripts/train_flow_model.py --features F.csv --out examples/flows/model.json
"""
import argparse
import csv
import json
import math
import sys

import numpy as np
import xgboost as xgb
from sklearn.metrics import f1_score, precision_score, recall_score
from sklearn.model_selection import train_test_split

SEED = 7

# Class names differ between the layouts' label sets; one name per class for
# the report (the model itself is binary).
CLASS_ALIASES = {
    "benign": "BENIGN",
    "ddos": "DoS/DDoS", "dos": "DoS/DDoS", "dos hulk": "DoS/DDoS", "dos goldeneye": "DoS/DDoS",
    "dos slowloris": "DoS/DDoS", "dos slowhttptest": "DoS/DDoS",
    "portscan": "PortScan",
    "bot": "Botnet", "botnet": "Botnet",
    "bruteforce": "BruteForce", "ssh-patator": "BruteForce", "ftp-patator": "BruteForce",
    "webattack": "WebAttack", "web attack - brute force": "WebAttack", "web attack - xss": "WebAttack",
    "web attack - sql injection": "WebAttack",
    "infiltration": "Infiltration",
    "heartbleed": "Heartbleed",
}


def class_of(label):
    return CLASS_ALIASES.get(label.strip().lower(), label.strip())


def load(path):
    with open(path, newline="") as f:
        reader = csv.reader(f)
        header = next(reader)
        rows = list(reader)
    meta = {name: i for i, name in enumerate(header)}
    for required in ("label", "layout", "source"):
        if required not in meta:
            sys.exit(f"{path}: no column {required!r}: is this the output of `sentinel flows features`?")
    feature_cols = [i for i, name in enumerate(header) if name not in ("label", "layout", "source")]
    names = [header[i] for i in feature_cols]

    def num(s):
        if s == "" or s.lower() == "nan":
            return math.nan
        v = float(s)
        # XGBoost refuses inf; the largest float keeps "very large" ordered.
        if math.isinf(v):
            return math.copysign(3.4e38, v)
        return v

    x = np.array([[num(r[i]) for i in feature_cols] for r in rows], dtype=np.float64)
    labels = [r[meta["label"]] for r in rows]
    layouts = [r[meta["layout"]] for r in rows]
    return names, x, labels, layouts


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features", required=True)
    ap.add_argument("--out", required=True, help="model path (.json); the normaliser goes beside it")
    ap.add_argument("--report", help="report JSON path (default <out minus .json>.report.json)")
    ap.add_argument("--rounds", type=int, default=120)
    args = ap.parse_args()

    names, x, labels, layouts = load(args.features)
    classes = np.array([class_of(l) for l in labels])
    y = (classes != "BENIGN").astype(np.int32)
    layouts = np.array(layouts)

    # Features missing from a whole layout would identify the file.
    usable = []
    for j, name in enumerate(names):
        missing_somewhere = any(np.all(np.isnan(x[layouts == lay, j])) for lay in np.unique(layouts))
        if not missing_somewhere:
            usable.append(j)
    dropped = [names[j] for j in range(len(names)) if j not in usable]

    # Equal total weight per (layout, class) group.
    groups = np.array([f"{a}|{b}" for a, b in zip(layouts, classes)])
    weight = np.ones(len(y))
    uniq, counts = np.unique(groups, return_counts=True)
    per_group = dict(zip(uniq, counts))
    for g, n in per_group.items():
        weight[groups == g] = len(y) / (len(per_group) * n)

    params = {
        "objective": "binary:logistic", "max_depth": 6, "eta": 0.2, "subsample": 0.9,
        "colsample_bytree": 0.9, "tree_method": "hist", "seed": SEED, "nthread": 2,
        "eval_metric": "logloss",
    }

    def matrix(rows, with_weight=True):
        xs = np.full_like(x[rows], np.nan)
        xs[:, usable] = x[rows][:, usable]
        return xgb.DMatrix(xs, label=y[rows], weight=weight[rows] if with_weight else None,
                           missing=np.nan, feature_names=names)

    def fit(rows):
        return xgb.train(params, matrix(rows), num_boost_round=args.rounds)

    def evaluate(model, rows):
        p = model.predict(matrix(rows, False)) >= 0.5
        t = y[rows] == 1
        per_class = {}
        for c in sorted(set(classes[rows])):
            m = classes[rows] == c
            # Recall of the right verdict: attack for attacks, benign for benign.
            per_class[c] = {"n": int(m.sum()),
                            "correct": float(np.mean(p[m] == t[m]))}
        return {
            "n": int(len(rows)),
            "f1": float(f1_score(t, p, zero_division=0)),
            "precision": float(precision_score(t, p, zero_division=0)),
            "recall": float(recall_score(t, p, zero_division=0)),
            "accuracy": float(np.mean(p == t)),
            "per_class": per_class,
        }

    all_rows = np.arange(len(y))
    train_rows, test_rows = train_test_split(all_rows, test_size=0.25, random_state=SEED, stratify=groups)
    report = {"seed": SEED, "rows": int(len(y)), "features_used": len(usable), "features_dropped": dropped,
              "groups": {g: int(n) for g, n in per_group.items()}}
    model = fit(train_rows)
    report["held_out"] = evaluate(model, test_rows)

    # Cross-layout: trained without one layout, tested on it (a layout with
    # one class only reports its accuracy, which is that class's recall).
    report["cross_layout"] = {}
    for lay in np.unique(layouts):
        held = all_rows[layouts == lay]
        rest = all_rows[layouts != lay]
        if len(np.unique(y[rest])) < 2:
            continue
        report["cross_layout"][lay] = evaluate(fit(rest), held)

    # The shipped model learns from every row.
    final = fit(all_rows)
    final.save_model(args.out)

    # Normaliser beside it (src/flows/normaliser.h): robust centre and scale
    # of benign traffic, the baseline the math engine and the evidence
    # measure against. Same rule as NormaliserFitter: median and IQR/1.349
    # over finite values; mean and std where the IQR is 0; scale 1 where
    # that is 0 too.
    benign = x[y == 0]
    centre, scale, count = [], [], []
    for j in range(len(names)):
        col = benign[:, j]
        col = col[np.isfinite(col)]
        count.append(int(len(col)))
        if len(col) == 0:
            centre.append(0.0)
            scale.append(1.0)
            continue
        q1, med, q3 = np.percentile(col, [25, 50, 75])
        c, s = float(med), float((q3 - q1) / 1.349)
        if s <= 0:
            c, s = float(np.mean(col)), float(np.std(col))
        if not s > 0:
            s = 1.0
        centre.append(c)
        scale.append(s)
    norm_path = args.out + ".norm.json"
    with open(norm_path, "w") as f:
        json.dump({"version": 1, "features": names, "centre": centre, "scale": scale, "count": count}, f, indent=1)
        f.write("\n")

    report_path = args.report or (args.out[:-5] if args.out.endswith(".json") else args.out) + ".report.json"
    with open(report_path, "w") as f:
        json.dump(report, f, indent=1, sort_keys=True)
        f.write("\n")
    h = report["held_out"]
    print(f"held-out: F1 {h['f1']:.4f} precision {h['precision']:.4f} recall {h['recall']:.4f} "
          f"({h['n']} flows, {len(usable)} features, dropped {dropped})")
    for c, v in h["per_class"].items():
        print(f"  {c:14s} n={v['n']:6d} correct {v['correct']:.4f}")
    for lay, v in report["cross_layout"].items():
        print(f"without {lay}, tested on it: accuracy {v['accuracy']:.4f} F1 {v['f1']:.4f}")
    if h["f1"] < 0.98:
        sys.exit(f"held-out F1 {h['f1']:.4f} is below 0.98")


if __name__ == "__main__":
    main()
