#!/bin/sh
# Cross-validated per-slot figures of the built-in extractor on MUC DEV (the
# tuning set): dumps the candidates with the current rules, fits the
# relevance model 4 x 5-fold by message (train_relevance.py), scores every
# DEV message with the fold model that did not see it (muc_score
# --fold-models) at the CV-chosen threshold, and prints the per-slot F1 of
# each fold assignment and their mean. Also writes the full-DEV model to
# OUT/relevance_model.tsv (copy it over tests/data/muc34/relevance_model.tsv
# when the rules change). TST1/TST2 are never read.
#
#   tests/data/muc34/cv_dev.sh MUC_SCORE DEV_DIR OUT_DIR
set -eu
score=$1 dev=$2 out=$3
here=$(dirname "$0")
mkdir -p "$out"
set --
for f in "$dev"/dev-muc3-*; do set -- "$@" --texts "$f"; done
for f in "$dev"/key-dev-*; do set -- "$@" --keys "$f"; done
pos=$("$score" "$@" --data "$here" --relevance-model none --dump-candidates "$out/candidates.tsv" |
  awk '/^incident type/ { print $8 }')
python3 "$here/train_relevance.py" "$out/candidates.tsv" "$dev" "$pos" "$out/folds" > "$out/relevance_model.tsv"
th=$(cat "$out/folds/min_confidence")
for d in "$out"/folds/seed*; do
  "$score" "$@" --data "$here" --fold-models "$d" --min-confidence "$th" --json "$d/scores.json" > "$d/scores.txt"
done
python3 - "$out"/folds/seed*/scores.json <<'PY'
import json, sys
runs = [json.load(open(p)) for p in sys.argv[1:]]
slots = ["incident_type", "date", "location", "perp_org", "targets"]
print("CV on DEV (per fold assignment, then mean):", " ".join(f"{s:>13}" for s in slots))
for p, r in zip(sys.argv[1:], runs):
    print(f"{p.split('/')[-2]:>44}", " ".join(f"{r['slots'][s]['f1']:13.3f}" for s in slots))
mean = {s: [sum(r["slots"][s][k] for r in runs) / len(runs) for k in ("f1", "precision", "recall")] for s in slots}
print(f"{'mean F1':>44}", " ".join(f"{mean[s][0]:13.3f}" for s in slots))
print(f"{'mean P / R':>44}", " ".join(f"{mean[s][1]:6.3f}/{mean[s][2]:6.3f}" for s in slots))
PY
