#!/bin/bash
# CLI tests of the data sets in their distributed formats (issue 18,
# tdl/datasets.h): idx:images=,labels= (plain and gzip),
# mnist:root= / fashion-mnist:root= in torchvision's layouts with the
# official split, cifar10:root= (binary batches), the modifiers on top, and
# the one-line errors of tests/BAD_INPUT.md.  Every file is written here
# (printf, gzip): nothing is downloaded.
# usage: test_datasets.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

# ---- writers --------------------------------------------------------------
# be32 N: 4 bytes, big-endian
be32() { printf "\\x$(printf %02x $((($1 >> 24) & 255)))\\x$(printf %02x $((($1 >> 16) & 255)))\\x$(printf %02x $((($1 >> 8) & 255)))\\x$(printf %02x $(($1 & 255)))"; }
# bytes V...: one byte each
bytes() { local fmt; printf -v fmt '\\x%02x' "$@"; printf "$fmt"; }
# images FILE N H W SEED: u8 IDX images; pixel k of the file is (k*37 + SEED) % 256,
# and the first pixel is set to 0 and the second to 255 (range [0, 1] after / 255)
images() {
    local k n=$(($2 * $3 * $4)) v=()
    for ((k = 0; k < n; k++)); do v+=($(((k * 37 + $5) % 256))); done
    v[0]=0; v[1]=255
    { printf '\x00\x00\x08\x03'; be32 "$2"; be32 "$3"; be32 "$4"; bytes "${v[@]}"; } >"$1"
}
# labels FILE L...: u8 IDX labels
labels() {
    local f=$1; shift
    { printf '\x00\x00\x08\x01'; be32 $#; bytes "$@"; } >"$f"
}
# mnist DIR: train 6 images (labels 0..5), test 3 (labels 7 8 9), 4 x 4 pixels
mnist() {
    mkdir -p "$1"
    images "$1/train-images-idx3-ubyte" 6 4 4 11
    labels "$1/train-labels-idx1-ubyte" 0 1 2 3 4 5
    images "$1/t10k-images-idx3-ubyte" 3 4 4 5
    labels "$1/t10k-labels-idx1-ubyte" 7 8 9
}
# cifar FILE LABEL...: one record a label: the label byte, then 3072 pixel
# bytes (k*7 + label) % 256 with the first 0 and the second 255
cifar() {
    local f=$1 l k v; shift
    : >"$f"
    for l in "$@"; do
        v=(0 255)
        for ((k = 2; k < 3072; k++)); do v+=($(((k * 7 + l) % 256))); done
        bytes "$l" "${v[@]}" >>"$f"
    done
}

# ---- mnist:root= in torchvision's layout ----------------------------------
mnist "$WORK/tv/MNIST/raw"
run "$TDL" info --data "mnist:root=$WORK/tv,split=train"
expect_status 0 "mnist:root= split=train"
expect_out "official train split: 6 examples" "the official training files"
expect_out "$WORK/tv/MNIST/raw" "names the folder read"
expect_out "examples     6" "split=train: the training file's 6"
expect_out "features     16" "4 x 4 images flattened"
expect_out "input range  [0, 1]" "u8 pixels / 255"
expect_out "classes      10" "MNIST's 10 classes"
expect_out "per class    1 1 1 1 1 1 0 0 0 0" "the training labels"
run "$TDL" info --data "mnist:root=$WORK/tv,split=test" --json
expect_json n 3 "split=test: the test file's 3"
if grep -q '"class_counts":\[0,0,0,0,0,0,0,1,1,1\]' "$WORK/out"; then ok; else bad "split=test labels: $(cat "$WORK/out")"; fi
run "$TDL" info --data "mnist:root=$WORK/tv" --json
expect_json n 9 "no split: train and test"
# the same files gzipped (some of them), in DIR/raw and in DIR itself
mnist "$WORK/r/raw"
gzip "$WORK/r/raw/train-images-idx3-ubyte" "$WORK/r/raw/t10k-labels-idx1-ubyte"
mnist "$WORK/d"
gzip "$WORK/d/"*
for root in r d; do
    run "$TDL" info --data "mnist:root=$WORK/$root,split=test" --json
    expect_status 0 "mnist:root= with the files in $root"
    expect_json n 3 "$root: split=test"
    if grep -q '"class_counts":\[0,0,0,0,0,0,0,1,1,1\]' "$WORK/out"; then ok; else bad "$root: labels"; fi
done
run "$TDL" info --data "mnist:root=$WORK/d,split=train"
expect_out "(IDX, gzip)" "gzip files are named so"
# fashion-mnist: FashionMNIST/raw
mnist "$WORK/f/FashionMNIST/raw"
run "$TDL" info --data "fashion-mnist:root=$WORK/f,split=train" --json
expect_status 0 "fashion-mnist:root="
expect_json n 6 "fashion-mnist split=train"

# the modifiers on top of the official split
run "$TDL" info --data "mnist:root=$WORK/tv,split=train,n=4,binary=3,normalize=unit,seed=2"
expect_status 0 "modifiers on mnist:root="
expect_out "examples     4" "n=4 of the 6 training images"
expect_out "classes      2" "binary=3"
expect_out "normalize=unit" "normalize=unit applied"
run "$TDL" info --data "mnist:root=$WORK/tv,split=test,normalize=standard"
expect_out "normalize=standard (mean and std of the official training files)" "standard: training statistics"
# without root= the shipped subset stays
run "$TDL" info --data mnist --json
expect_json n 10000 "mnist without root=: the shipped 10,000"

# train on the official training part, evaluate on the test part
run "$TDL" train --data "mnist:root=$WORK/tv,split=train" --arch 16-5-10 --epochs 3 --seed 1 --quiet \
    -o "$WORK/m.safetensors"
expect_status 0 "train on mnist:root=,split=train"
run "$TDL" eval --model "$WORK/m.safetensors" --data "mnist:root=$WORK/tv,split=test" --json
expect_status 0 "eval on mnist:root=,split=test"
expect_json n 3 "eval sees the 3 test images"

# ---- idx:images=,labels= ------------------------------------------------
run "$TDL" info --data "idx:images=$WORK/d/train-images-idx3-ubyte.gz,labels=$WORK/tv/MNIST/raw/train-labels-idx1-ubyte"
expect_status 0 "idx: gzip images, plain labels"
expect_out "U8, 6 x 4 x 4, gzip" "the dtype and shape read"
expect_out "examples     6" "idx: 6 images"
expect_out "input range  [0, 1]" "idx u8 / 255"
# i16 images are read as they are
{ printf '\x00\x00\x0b\x02'; be32 3; be32 2; bytes 255 254 0 5 1 0 0 0 127 255 0 1; } >"$WORK/i16.idx"
labels "$WORK/l3.idx" 0 1 1
run "$TDL" info --data "idx:images=$WORK/i16.idx,labels=$WORK/l3.idx" --json
expect_json x_min -2 "i16 0xfffe read as -2"
expect_json x_max 32767 "i16 0x7fff read as 32767"
expect_json classes 2 "idx labels 0 1 1: two classes"

# ---- cifar10:root= --------------------------------------------------------
mkdir -p "$WORK/c/cifar-10-batches-bin"
for i in 1 2 3 4 5; do cifar "$WORK/c/cifar-10-batches-bin/data_batch_$i.bin" $((i - 1)) $((i + 4)); done
cifar "$WORK/c/cifar-10-batches-bin/test_batch.bin" 9 9 3
run "$TDL" info --data "cifar10:root=$WORK/c,split=train"
expect_status 0 "cifar10:root= split=train"
expect_out "examples     10" "five batches of 2 records"
expect_out "features     3072" "32 x 32 x 3"
expect_out "input range  [0, 1]" "CIFAR bytes / 255"
expect_out "per class    1 1 1 1 1 1 1 1 1 1" "the labels of the five batches"
run "$TDL" info --data "cifar10:root=$WORK/c/cifar-10-batches-bin,split=test" --json
expect_json n 3 "the folder itself as root; test_batch's 3"

# ---- bad input: one line, exit 1 ------------------------------------------
printf '\x01\x00\x08\x01\x00\x00\x00\x01\x07' >"$WORK/bad.idx"
refuse "bad.idx: not an IDX file" "bad magic" "$TDL" info --data "idx:images=$WORK/bad.idx,labels=$WORK/l3.idx"
head -c 40 "$WORK/tv/MNIST/raw/train-images-idx3-ubyte" >"$WORK/short.idx"
refuse "short.idx: truncated: the header declares 96 values" "truncated IDX" \
    "$TDL" info --data "idx:images=$WORK/short.idx,labels=$WORK/l3.idx"
# 65536^4 = 2^64 values: the product overflows size_t
{ printf '\x00\x00\x08\x04'; be32 65536; be32 65536; be32 65536; be32 65536; } >"$WORK/huge.idx"
refuse "huge.idx: the dimensions' product overflows" "dims overflow" \
    "$TDL" info --data "idx:images=$WORK/huge.idx,labels=$WORK/l3.idx"
# a file as large as its header says (sparse: no disk used) whose values do
# not fit in memory as doubles: the memory guard refuses before allocating
{ printf '\x00\x00\x08\x02'; be32 60000; be32 1000000; } >"$WORK/sparse.idx"
truncate -s $((12 + 60000 * 1000000)) "$WORK/sparse.idx"
{ printf '\x00\x00\x08\x01'; be32 60000; head -c 60000 /dev/zero; } >"$WORK/zeros.idx"
if [ "$(awk '/^MemAvailable:/ { print ($2 < 480e9 / 1024) }' /proc/meminfo)" = 1 ]; then
    refuse "sparse.idx: the data set needs 480 GB (60000 x 1000000 values as doubles) but" "over the memory guard" \
        "$TDL" info --data "idx:images=$WORK/sparse.idx,labels=$WORK/zeros.idx"
fi
rm -f "$WORK/sparse.idx"
refuse "has 6 images but" "image/label count mismatch" \
    "$TDL" info --data "idx:images=$WORK/tv/MNIST/raw/train-images-idx3-ubyte,labels=$WORK/l3.idx"
head -c 30 "$WORK/d/train-images-idx3-ubyte.gz" >"$WORK/cut.gz"
refuse "cut.gz: truncated gzip data" "truncated gzip" \
    "$TDL" info --data "idx:images=$WORK/cut.gz,labels=$WORK/l3.idx"
cp -r "$WORK/c" "$WORK/c10"
cifar "$WORK/c10/cifar-10-batches-bin/data_batch_2.bin" 1 10
refuse "data_batch_2.bin: record 1 has label byte 10 (CIFAR-10 labels are 0..9)" "CIFAR label 10" \
    "$TDL" info --data "cifar10:root=$WORK/c10,split=train"
head -c 5000 "$WORK/c/cifar-10-batches-bin/test_batch.bin" >"$WORK/c10/cifar-10-batches-bin/test_batch.bin"
refuse "test_batch.bin: 5000 bytes is not a whole number of 3073-byte records" "CIFAR partial record" \
    "$TDL" info --data "cifar10:root=$WORK/c10,split=test"
mnist "$WORK/tv10/MNIST/raw"
labels "$WORK/tv10/MNIST/raw/t10k-labels-idx1-ubyte" 7 10 9
refuse "t10k-labels-idx1-ubyte: label 10 of example 1 is not a class 0..9" "MNIST label 10" \
    "$TDL" info --data "mnist:root=$WORK/tv10,split=test"
refuse "no train-images-idx3-ubyte[.gz] found in $WORK/none/MNIST/raw" "no MNIST folder" \
    "$TDL" info --data "mnist:root=$WORK/none"
refuse "test= does not apply to mnist:root=" "test= with the official split" \
    "$TDL" info --data "mnist:root=$WORK/tv,split=train,test=0.5"
refuse "cifar10 needs root=DIR" "cifar10 without root=" "$TDL" info --data cifar10
refuse "idx needs images=PATH and labels=PATH" "idx without labels=" "$TDL" info --data "idx:images=$WORK/bad.idx"
refuse "unknown key 'images'" "a key of another set" "$TDL" info --data "mnist:root=$WORK/tv,images=x"

finish
