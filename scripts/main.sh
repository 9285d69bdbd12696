#!/bin/sh
# main.sh — the main job on shipped data: set up, build, train a shallow ReLU
# net on digits (train split), evaluate it on the train and test splits.
set -eu
cd "$(dirname "$0")/.."
sh scripts/setup.sh
tdl=build/tdl
mkdir -p build/main
"$tdl" train --data digits:split=train --arch 64-128-10 --act relu --seed 0 \
    --log build/main/digits-train.csv -o build/main/digits.safetensors
echo
echo "== train split"
"$tdl" eval --model build/main/digits.safetensors --data digits:split=train
echo
echo "== test split"
"$tdl" eval --model build/main/digits.safetensors --data digits:split=test
