#!/usr/bin/env bash
# The real-photo GPU round of the "real photos and real voices" issue, as one device call:
# flex1d warm-started from image/flex1d-photo64, trained on realphoto64 (held-out sources never
# read), evaluated on its test split; checkpoint, config.json and the log come back in $OUT.
#
#   run(command="bash tools/gpu/real_photos.sh", carry=[".cache/tokenworks/datasets/realphoto64-train.npz",
#       ".cache/tokenworks/datasets/realphoto64-test.npz"], timeout_s=540)
#   PYTHON=.venv/bin/python PRESET=cpu-tiny INIT= MINUTES=0.2 OUT=/tmp/rp bash tools/gpu/real_photos.sh   # the CPU check first
#
# The data sets travel built (carry; 35 MB for realphoto64: realphoto128's 110 MB is over the
# 64 MiB a call carries, so a 128x128 round builds its crops there from a smaller source pack).
set -euo pipefail
PRESET=${PRESET:-gpu}
MINUTES=${MINUTES:-6}
INIT=${INIT-data/checkpoints/image/flex1d-photo64}
OUT=${OUT:?set OUT to a folder for the results}
export PYTHONUNBUFFERED=1 PYTHONPATH=lib TOKENWORKS_CACHE="$PWD/.cache/tokenworks"
mkdir -p "$OUT"
run=runs/image/flex1d-realphoto64-$PRESET
"${PYTHON:-python3}" -m tokenworks.image.train --model flex1d --data realphoto64 --preset "$PRESET" --minutes "$MINUTES" \
    ${INIT:+--init "$INIT"} --out "$run" 2>&1 | tee "$OUT/train.log"
cp "$run/model.safetensors" "$run/config.json" "$OUT/"
