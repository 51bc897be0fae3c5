#!/usr/bin/env bash
# Trains the model only when config, domain, training data or custom NLU code changed
# (content fingerprint, not file times); Rasa's own cache speeds up partial changes.
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=models/panchayat.tar.gz
STAMP=models/.fingerprint
inputs=(config.yml domain.yml)
for dir in data nlu; do
  [ -d "$dir" ] && while IFS= read -r file; do inputs+=("$file"); done < <(find "$dir" -type f \( -name '*.yml' -o -name '*.py' -o -name '*.txt' \))
done
fingerprint=$(printf '%s\n' "${inputs[@]}" | LC_ALL=C sort | xargs sha256sum | sha256sum | cut -d' ' -f1)
if [ -f "$MODEL" ] && [ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$fingerprint" ] && [ "${FORCE_TRAIN:-0}" != 1 ]; then
  echo "train: model is up to date ($MODEL)"
  exit 0
fi
echo "train: training $MODEL (a few minutes on 2 cores)"
.venv/bin/rasa train --fixed-model-name panchayat --out models --quiet
echo "$fingerprint" > "$STAMP"
