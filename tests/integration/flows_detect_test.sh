#!/usr/bin/env bash
# `sentinel flows features|detect|predict` end to end on the real CIC-IDS2017
# fixtures (tests/data/netflows) with the shipped rules and model
# (examples/flows):
#  - every layout is read, nothing skipped, and the feature table has 79
#    feature columns plus label, layout, source;
#  - detection finds the labelled attacks (F1 against the labels >= 0.95 on
#    this data; the model's held-out F1 is in examples/flows/model.report.json)
#    and writes every output; each anomaly has its evidence and its network
#    event, and the network events go through `sentinel replay` as gated
#    ml_anomaly alerts;
#  - broken rows are dead letters naming file and line, and the good rows of
#    the same file are still judged;
#  - an unknown layout is refused naming the columns it could not map;
#  - `flows predict` writes the reference library's numbers for a LightGBM and
#    an XGBoost model (exact text for the XGBoost margins).
# Usage: flows_detect_test.sh SENTINEL SOURCE_DIR WORK_DIR
set -euo pipefail
bin=$1 src=$2 work=$3
rm -rf "$work" && mkdir -p "$work"
fail() { echo "FAIL: $*" >&2; exit 1; }

cat > "$work/flows.yaml" <<EOF
detection:
  rules: $src/examples/flows/rules
  model: $src/examples/flows/model.json
EOF

# Feature table.
"$bin" flows features --input "$src/tests/data/netflows" --out "$work/features.csv" 2> "$work/features.log"
cols=$(head -1 "$work/features.csv" | tr ',' '\n' | wc -l)
[ "$cols" -eq 82 ] || fail "feature table has $cols columns, expected 79 + label, layout, source"
grep -q 'machine_learning_cve' "$work/features.log" || fail "no MachineLearningCVE rows: $(cat "$work/features.log")"
grep -q '0 skipped' "$work/features.log" || fail "rows skipped: $(cat "$work/features.log")"

# Detection on every fixture.
"$bin" flows detect -c "$work/flows.yaml" --input "$src/tests/data/netflows" --out "$work/out" 2> "$work/detect.log"
for f in verdicts.csv anomalies.jsonl evidence.jsonl network-events.jsonl dead-letter.jsonl summary.json; do
  [ -f "$work/out/$f" ] || fail "missing output $f"
done
flows=$(( $(wc -l < "$work/out/verdicts.csv") - 1 ))
total=$(( $(grep -v '^\s*$' "$work/features.csv" | wc -l) - 1 ))
[ "$flows" -eq "$total" ] || fail "$flows verdict rows for $total flows"
anomalies=$(wc -l < "$work/out/anomalies.jsonl")
[ "$anomalies" -eq "$(wc -l < "$work/out/evidence.jsonl")" ] || fail "evidence count differs from anomalies"
[ "$anomalies" -eq "$(wc -l < "$work/out/network-events.jsonl")" ] || fail "network event count differs"
/usr/bin/python3 - "$work/out/summary.json" <<'EOF'
import json, sys
s = json.load(open(sys.argv[1]))
c = s["confusion"]
assert c["f1"] >= 0.95, f"F1 {c['f1']:.4f} < 0.95: {c}"
for e in ("rules", "math", "ml"):
    assert s["engines"][e]["present"], e
    assert s["engines"][e]["batches"] > 0, e
print(f"flows detect: F1 {c['f1']:.4f} precision {c['precision']:.4f} recall {c['recall']:.4f}")
EOF
head -1 "$work/out/evidence.jsonl" | /usr/bin/python3 -c '
import json, sys
e = json.loads(sys.stdin.readline())
for k in ("flow", "ensemble", "engines", "top_features", "anomaly_id"):
    assert k in e, k
assert e["ensemble"]["anomaly"] is True
'

# The anomalies as network events through the alert pipeline.
"$bin" replay --input "$work/out/network-events.jsonl" --out "$work/replay" --quiet 2> "$work/replay.log" \
  || fail "replay of network events: $(tail -3 "$work/replay.log")"
[ ! -s "$work/replay/dead-letter.jsonl" ] || fail "network events rejected: $(head -2 "$work/replay/dead-letter.jsonl")"
grep -q '"type":"ml_anomaly"' "$work/replay/alerts.jsonl" || fail "no ml_anomaly alert from the network events"

# Broken rows: reported with file and line; the good rows are still judged.
broken="$work/broken.csv"
friday="$src/tests/data/netflows/cicids2017_machinelearningcve/Friday-WorkingHours-Afternoon-DDos.pcap_ISCX.first9998rows.csv"
sed -n '1,21p' "$friday" > "$broken"
echo '80,not-a-number,3,4' >> "$broken"
sed -n '22,31p' "$friday" >> "$broken"
printf '80,123,1' >> "$broken"  # cut short, no newline
"$bin" flows detect -c "$work/flows.yaml" --input "$broken" --out "$work/broken" 2> "$work/broken.log"
[ "$(wc -l < "$work/broken/dead-letter.jsonl")" -eq 2 ] || fail "expected 2 dead letters: $(cat "$work/broken/dead-letter.jsonl")"
grep -q 'broken.csv:22"' "$work/broken/dead-letter.jsonl" || fail "bad row not named by line 22: $(cat "$work/broken/dead-letter.jsonl")"
[ $(( $(wc -l < "$work/broken/verdicts.csv") - 1 )) -eq 30 ] || fail "good rows of the broken file not all judged"

# An unknown layout is refused naming the columns.
printf 'when,who,what\n1,2,3\n' > "$work/unknown.csv"
if "$bin" flows detect --input "$work/unknown.csv" --out "$work/unknown" 2> "$work/unknown.log"; then
  fail "an unknown layout was accepted"
fi
grep -q 'when' "$work/unknown.log" || fail "refusal does not name the columns: $(cat "$work/unknown.log")"

# predict: the libraries' own numbers.
for m in lightgbm/binary lightgbm/multiclass xgboost/binary_logistic; do
  d="$src/tests/data/ml/$m"
  [ -f "$d/input.csv" ] || continue
  model=$(ls "$d"/model.* | head -1)
  "$bin" flows predict --model "$model" --input "$d/input.csv" --out "$work/pred.csv"
  /usr/bin/python3 - "$work/pred.csv" "$d/predictions.csv" <<'EOF'
import csv, sys
ours = list(csv.reader(open(sys.argv[1])))
ref = list(csv.reader(open(sys.argv[2])))
assert len(ours) == len(ref), (len(ours), len(ref))
worst = 0.0
for a, b in zip(ours[1:], ref[1:]):
    for x, y in zip(a[1:], b[1:]):
        worst = max(worst, abs(float(x) - float(y)))
assert worst <= 1e-6, f"max abs diff {worst}"
EOF
done
echo "flows_detect_test: ok ($flows flows, $anomalies anomalies)"
