#!/usr/bin/env bash
# The project's row in ../shared/bench-peers (see its README, "Adding the project as a row"):
# settles the peers' generated claims (workload/POLICY.md) with `yibao batch` under the project's
# own encoding of that policy (bench/policies/bench.policy) and prints the RESULT checksum line;
# with `--out FILE` it also writes the per-claim `claim_id,fund,si,aid,oop` CSV the peers compare.
#
#   bench/peers-row.sh CLAIMS.csv [--out FILE]
#
# The peers' CSV (claim_id,person_id,date,care I/O,level,category N/L/D,…) is renamed into
# `yibao batch`'s columns first. eval_s is the time inside settle as `yibao batch --time-settle`
# reports it: wall time summed over the worker threads, so it includes any time a worker waits
# for a core (more threads than cores). Sums are exact (Python's decimal), never floats.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(dirname "$HERE")
YIBAO=${YIBAO:-${CARGO_TARGET_DIR:-$ROOT/target}/release/yibao}
CSV=${1:?usage: peers-row.sh CLAIMS.csv [--out FILE]}
shift
OUT=""
if [ "${1:-}" = "--out" ]; then OUT=${2:?--out needs a file}; fi
[ -x "$YIBAO" ] || { echo "peers-row.sh: $YIBAO not built (cargo build --release -p yibao-cli)" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

awk -F, 'NR == 1 { print "id,person,date,care,level,categories,total,out_of_list,pre_self_pay,over_limit"; next }
{
  care = ($4 == "I") ? "inpatient" : "general_outpatient"
  cat = ($6 == "L") ? "low_income" : (($6 == "D") ? "destitute" : "")
  print $1 "," $2 "," $3 "," care "," $5 "," cat "," $7 "," $8 "," $9 "," $10
}' "$CSV" > "$TMP/in.csv"

start=$(date +%s.%N)
"$YIBAO" batch --quiet --input "$TMP/in.csv" --output "$TMP/out.csv" \
  --policy bench.resident --policies "$HERE/policies/bench.policy" \
  --time-settle --summary-json "$TMP/summary.json"
end=$(date +%s.%N)

python3 - "$TMP/out.csv" "$OUT" "$start" "$end" "$TMP/summary.json" <<'PY'
import csv, json, sys
from decimal import Decimal
src, out, start, end = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
# eval_s: the time inside settle (yibao batch --time-settle), summed over the worker threads.
eval_s = Decimal(json.load(open(sys.argv[5]))["settle_ns"]) / Decimal(10**9)
sums = {k: Decimal(0) for k in ("fund", "si", "aid", "oop", "total")}
n = 0
w = open(out, "w", newline="") if out else None
if w:
    w.write("claim_id,fund,si,aid,oop\n")
with open(src, newline="") as f:
    for row in csv.DictReader(f):
        n += 1
        fund, si, aid, oop = row["basic"], row["serious_illness"], row["medical_aid"], row["out_of_pocket"]
        for k, v in (("fund", fund), ("si", si), ("aid", aid), ("oop", oop), ("total", row["total"])):
            sums[k] += Decimal(v)
        if w:
            w.write(f"{row['id']},{fund},{si},{aid},{oop}\n")
if w:
    w.close()
print(f"RESULT peer=yibao claims={n} fund={sums['fund']} si={sums['si']} aid={sums['aid']} "
      f"oop={sums['oop']} total={sums['total']} eval_s={eval_s:.6f}")
PY
