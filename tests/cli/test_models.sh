#!/bin/bash
# CLI tests of model files as users have them (issue 18): PyTorch MLP state
# dicts of any naming (nn.Sequential, fc1/fc2/fc3, fc1..fc10, layers.N,
# model.layers.N, no biases, features.N + classifier) as .safetensors, .npz
# and torch.save .pt (float64, float32, float16, bfloat16, strided views of a
# shared storage) evaluate to PyTorch's own loss; `tdl info --model` shows the
# layout and the chain; --layer-order; hostile pickles are refused in one line.
# Fixtures: tests/fixtures/make_state_dict_fixtures.py (PyTorch, float64).
# usage: test_models.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2/state_dicts
. "$(dirname "$0")/lib.sh"

# relative difference |a - b| <= tol |b|
close() { awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; s = b < 0 ? -b : b; exit !(d <= t * s) }'; }

# Every file against PyTorch's mean cross-entropy.  tdl and torch sum the
# same float64 products in other orders: the losses (about 1, from 60
# examples of at most 10 layers of width <= 8) agree to a few ulps; 1e-12
# relative leaves room for BLAS's blocking and nothing for a wrong weight.
n_files=0
while read -r name act loss; do
    for ext in safetensors npz pt; do
        f="$FIX/$name.$ext"
        [ -f "$f" ] || continue
        n_files=$((n_files + 1))
        run "$TDL" eval --model "$f" --data "$FIX/data.npz" --act "$act" --loss ce --json
        expect_status 0 "eval $name.$ext"
        got=$(json_get loss)
        if close "$got" "$loss" 1e-12; then ok; else bad "$name.$ext: loss $got vs PyTorch $loss"; fi
    done
done < "$FIX/expected.txt"
# 7 layouts x 3 formats, 7 float32 .pt, float16, bfloat16, strided
if [ "$n_files" -eq 31 ]; then ok; else bad "evaluated $n_files files, expected 31"; fi

# info --model: the layout and the chain, with or without an activation
run "$TDL" info --model "$FIX/fc10.safetensors"
expect_status 0 "info fc10"
expect_out "layout       fc<k>.weight, fc<k>.bias (order: natural order of the names)" "fc10 layout"
expect_out "chain        fc1: 6 -> 8, fc2: 8 -> 8, fc3: 8 -> 8," "fc10 chain starts fc1, fc2"
expect_out "fc9: 8 -> 8, fc10: 8 -> 3" "fc10 chain ends fc10"
run "$TDL" info --model "$FIX/mixed.pt" --act tanh
expect_out "arch         6-8-5-3 (3 layers)" "mixed arch"
expect_out "layout       named modules (order: the only order the shapes chain)" "mixed layout"
expect_out "chain        features.0: 6 -> 8, features.2: 8 -> 5, classifier: 5 -> 3" "mixed chain"
run "$TDL" info --model "$FIX/nobias.npz" --json
expect_out '"layout":{"scheme":"fc<k>.weight, fc<k>.bias","order":"natural order of the names","chain":[{"layer":"fc1","in":6,"out":8,"bias":false}' "nobias layout --json"
run "$TDL" info --model "$FIX/nested.pt"
expect_out "layout       model.layers.<k>.weight, model.layers.<k>.bias" "nested layout"
run "$TDL" info --model "$FIX/seq.pt"
expect_out "layout       nn.Sequential (<k>.weight, <k>.bias)" "seq layout"
expect_out "  0.weight                 F64   [8, 6]" "seq .pt tensors listed"
run "$TDL" info --model "$FIX/seq_bf16.pt"
expect_out "  0.weight                 BF16  [8, 6]" "bf16 dtype as stored"

# --layer-order: the order given; a wrong one is refused naming the mismatch
run "$TDL" eval --model "$FIX/fc.pt" --data "$FIX/data.npz" --act relu --layer-order fc1,fc2,fc3 --json
expect_status 0 "explicit order"
refuse "tensor 'fc1.weight' takes 6 inputs but the previous layer has 5 outputs (layer order 'fc2,fc1,fc3')" "wrong order" \
    "$TDL" eval --model "$FIX/fc.pt" --data "$FIX/data.npz" --act relu --layer-order fc2,fc1,fc3
refuse "'fc4' is not a Linear layer of the file (the file's Linear layers: fc1,fc2,fc3)" "unknown layer" \
    "$TDL" eval --model "$FIX/fc.pt" --data "$FIX/data.npz" --act relu --layer-order fc1,fc2,fc4
run "$TDL" eval --arch 6-3 --data "$FIX/data.npz" --layer-order fc1
expect_status 2 "--layer-order without --model"
run "$TDL" info --data iris --layer-order fc1
expect_status 2 "info --layer-order without --model"
# an ambiguous order names the candidates and --layer-order; given, it loads
refuse "the order of the Linear layers is ambiguous: their names follow several patterns and several orders chain: fc1,fc2,out or fc1,out,fc2 or out,fc1,fc2; give the order with --layer-order fc1,fc2,out" \
    "ambiguous order" "$TDL" eval --model "$FIX/ambiguous.safetensors" --data "$FIX/data.npz" --act relu
run "$TDL" info --model "$FIX/ambiguous.safetensors" --act relu --layer-order out,fc1,fc2
expect_status 0 "ambiguous with --layer-order"
expect_out "layout       named modules (order: as given)" "order as given"
expect_out "chain        out: 6 -> 6 (no bias), fc1: 6 -> 6 (no bias), fc2: 6 -> 6 (no bias)" "chain as given"

# hostile and broken pickles: one line, exit 1, nothing run
refuse "the pickle calls for 'os.system', which is not part of a state dict" "GLOBAL os.system" \
    "$TDL" info --model "$FIX/hostile/os_system.pt"
refuse "the pickle calls for 'builtins.eval'" "GLOBAL builtins.eval" \
    "$TDL" eval --model "$FIX/hostile/builtins_eval.pt" --data "$FIX/data.npz" --act relu
refuse "REDUCE calls a dict, not a whitelisted callable" "REDUCE chain" "$TDL" info --model "$FIX/hostile/reduce_chain.pt"
refuse "memo index 2147483648 over the limit 1048576" "memo index 2^31" "$TDL" info --model "$FIX/hostile/memo_huge.pt"
refuse "FRAME of 255 bytes runs past the end (truncated)" "truncated frame" "$TDL" info --model "$FIX/hostile/frame_truncated.pt"
refuse "a tensor view reaches element 15 of a storage of 12 elements" "view past its storage" \
    "$TDL" info --model "$FIX/hostile/view_too_big.pt"
refuse "MARKs nested deeper than 32" "deep nesting" "$TDL" info --model "$FIX/hostile/deep_marks.pt"
refuse "a bare pickle (torch.save before torch 1.6" "legacy torch.save" "$TDL" info --model "$FIX/hostile/legacy.pt"
refuse "export with safetensors instead" "says how to export" "$TDL" info --model "$FIX/hostile/legacy.pt"
refuse "entry 'epoch' is an int, not a tensor" "a checkpoint" "$TDL" info --model "$FIX/hostile/checkpoint.pt"
refuse "member 'archive/data.pkl' is compressed (method 8)" "a deflated archive" "$TDL" info --model "$FIX/hostile/compressed.pt"

finish
