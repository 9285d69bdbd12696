#!/bin/bash
# CLI tests of the foundation: dispatch, help, exit codes, tdl info.
# usage: test_foundation.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"

run "$TDL" --version;            expect_status 0 "--version"; expect_out "tdl 0." "--version"
run "$TDL" --version;            expect_out "BLAS: OpenBLAS" "--version names OpenBLAS"
run "$TDL";                      expect_status 2 "no command"
run "$TDL" frobnicate;           expect_status 2 "unknown command"; expect_err "unknown command 'frobnicate'" "unknown command"
run "$TDL" help;                 expect_status 0 "help"; expect_out "info" "help lists info"
run "$TDL" help info;            expect_status 0 "help info"; expect_out "--json" "help info lists options"
run "$TDL" help data;            expect_status 0 "help data"; expect_out "random-labels" "help data"
run "$TDL" help conventions;     expect_status 0 "help conventions"; expect_out "MEANS" "help conventions"
run "$TDL" help nosuch;          expect_status 2 "help unknown"
run "$TDL" info --bogus;         expect_status 2 "unknown option"; expect_err "see 'tdl help info'" "usage hint"
run "$TDL" info;                 expect_status 2 "info without input"
run "$TDL" info --data;          expect_status 2 "missing argument"
run "$TDL" info --data iris --model x; expect_status 2 "both inputs"

# info --data
run "$TDL" info --data mnist --json
expect_status 0 "info mnist"
expect_json n 10000 "mnist n"; expect_json d 784 "mnist d"; expect_json classes 10 "mnist classes"
expect_out '"class_counts":[1001,1127,991,1032,980,863,1014,1070,944,978]' "mnist class counts"
run "$TDL" info --data digits:split=test
expect_status 0 "info digits test"; expect_out "examples     359" "digits test n"
run "$TDL" info --data "gauss:n=300,d=5,classes=3" --json
expect_json n 300 "gauss n"; expect_json classes 3 "gauss classes"
run "$TDL" info --data "teacher:n=40" --json
expect_json task '"regression"' "teacher task"
run "$TDL" info --data nosuchset;  expect_status 1 "unknown data set"; expect_err "tdl: error: unknown data set 'nosuchset'" "unknown set message"; expect_empty_out "unknown set"
run "$TDL" info --data iris:bogus=1 --json; expect_status 1 "unknown key"; expect_empty_out "no partial JSON"

# info --model on a PyTorch nn.Sequential(Linear(4,16), Tanh(), Linear(16,3)) state dict
# (tests/fixtures/make_torch_trained.py: trained in PyTorch, saved as F32 safetensors)
run "$TDL" info --model "$FIX/torch/tanh_f32.safetensors" --act tanh --json
expect_status 0 "info torch model"
expect_json params 131 "torch model params (4*16+16+16*3+3)"
expect_json arch '"4-16-3"' "torch model arch"
expect_json activation '"tanh"' "activation from --act"
expect_out '"tensors":[{"name":"0.weight","dtype":"F32","shape":[16,4]},{"name":"0.bias","dtype":"F32","shape":[16]},{"name":"2.weight","dtype":"F32","shape":[3,16]},{"name":"2.bias","dtype":"F32","shape":[3]}]' "tensor listing"
run "$TDL" info --model "$FIX/torch/tanh_f32.safetensors"
expect_status 0 "info torch model without act"; expect_out "not an MLP tdl can use" "explains the missing activation"
expect_out "2.weight" "lists tensors without an activation"
# the same as numpy.savez of a state dict
run "$TDL" info --model "$FIX/torch/relu_state.npz" --act relu --json
expect_status 0 "info npz state dict"; expect_json arch '"4-8-8-3"' "npz arch"
printf 'garbage' > "$WORK/bad.safetensors"
run "$TDL" info --model "$WORK/bad.safetensors"; expect_status 1 "malformed model"; expect_err "tdl: error: $WORK/bad.safetensors" "names the file"
printf '\x80\x02garbage' > "$WORK/pickle.pt"
run "$TDL" info --model "$WORK/pickle.pt"; expect_status 1 "pickle"; expect_err "pickle" "explains pickles"
run "$TDL" info --model /nonexistent.safetensors; expect_status 1 "missing model"; expect_err "cannot open" "missing model message"

finish
