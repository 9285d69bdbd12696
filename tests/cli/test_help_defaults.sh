#!/bin/bash
# CLI tests of the defaults printed by `tdl help` (src/cli/help_defaults.c):
# every @{NAME} placeholder of every help text expands (exit 0, no "@{" left),
# every entry of the table is printed by some help text, the text follows the
# table (a value replaced through the test hook TDL_TEST_HELP_DEFAULT shows
# up in place, and only there), and the table agrees with what the commands
# really do (their --json echoes the defaults).
# usage: test_help_defaults.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"
same_number() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a + 0 == b + 0) }'; }

# the commands, from the main help's list, and the topics
run "$TDL" help
expect_status 0 "help"
commands=$(sed -n '/^commands:/,/^$/s/^  \([a-z][a-z-]*\) .*/\1/p' "$WORK/out")
[ "$(echo "$commands" | wc -w)" -ge 12 ] && ok || bad "help lists the commands: '$commands'"
topics="data conventions help"

# all help texts, concatenated, into $1
all_help() {
    : >"$1"
    for t in $commands $topics; do
        "$TDL" help "$t" >>"$1" 2>>"$WORK/help_err" || echo "EXIT $? for help $t" >>"$WORK/help_err"
    done
}

# every text expands: exit 0, nothing on stderr, no placeholder left
for t in $commands $topics; do
    run "$TDL" help "$t"
    expect_status 0 "help $t"
    [ ! -s "$WORK/err" ] && ok || bad "help $t: stderr $(head -c 200 "$WORK/err")"
    grep -q '@{' "$WORK/out" && bad "help $t: an unexpanded placeholder: $(grep '@{' "$WORK/out" | head -n 2)" || ok
    grep -q 'default' "$WORK/out" || [ "$t" = help ] || [ "$t" = conventions ] && ok || bad "help $t: no default"
done
# `tdl CMD --help` is the same text
for t in $commands; do
    "$TDL" help "$t" >"$WORK/a" 2>&1
    "$TDL" "$t" --help >"$WORK/b" 2>&1
    cmp -s "$WORK/a" "$WORK/b" && ok || bad "tdl $t --help differs from tdl help $t"
done

# the listing: NAME VALUE SOURCE, names unique, documented in `tdl help help`
run "$TDL" help --defaults
expect_status 0 "help --defaults"
cp "$WORK/out" "$WORK/defaults"
n=$(wc -l <"$WORK/defaults")
[ "$n" -ge 40 ] && ok || bad "help --defaults lists $n entries"
awk 'NF < 3 { exit 1 }' "$WORK/defaults" && ok || bad "help --defaults: a line without NAME VALUE SOURCE"
[ -z "$(awk '{ print $1 }' "$WORK/defaults" | sort | uniq -d)" ] && ok || bad "help --defaults: a name twice"
run "$TDL" help help
expect_out "--defaults" "help help documents --defaults"
value_of() { awk -v k="$1" '$1 == k { print $2 }' "$WORK/defaults"; }

# every entry is printed, and the text follows the table: with every value
# replaced by a marker <<NAME>>, each marker appears, and putting the values
# back gives the usual texts byte for byte
all_help "$WORK/plain"
[ ! -s "$WORK/help_err" ] && ok || bad "help texts: $(head -c 300 "$WORK/help_err")"
TDL_TEST_HELP_DEFAULT='*' all_help "$WORK/marked"
while read -r name value _; do
    grep -qF -- "<<$name>>" "$WORK/marked" && ok || bad "default $name ($value) is printed by no help text"
done <"$WORK/defaults"
awk 'NR == FNR { v[$1] = $2; next }
     { out = ""
       while (match($0, /<<[a-z0-9_.]+>>/)) {
           k = substr($0, RSTART + 2, RLENGTH - 4)
           out = out substr($0, 1, RSTART - 1) (k in v ? v[k] : "<<?" k ">>")
           $0 = substr($0, RSTART + RLENGTH) }
       print out $0 }' "$WORK/defaults" "$WORK/marked" >"$WORK/restored"
cmp -s "$WORK/plain" "$WORK/restored" && ok || bad "help with the values replaced differs elsewhere: $(diff "$WORK/plain" "$WORK/restored" | head -n 4)"
# one value replaced (NAME=VALUE): it shows up in place, nothing else moves
TDL_TEST_HELP_DEFAULT='train.lr=0.25' "$TDL" help train >"$WORK/a"
"$TDL" help train | sed 's/(default 0\.1; /(default 0.25; /' >"$WORK/b"
grep -qF "(default 0.25; " "$WORK/a" && cmp -s "$WORK/a" "$WORK/b" && ok || bad "train.lr=0.25 is not printed as --lr's default"

# the table says what the commands do: their --json echoes the defaults
data="gauss:n=300,d=2,classes=2"  # n > the default batch, which --json reports as used
run "$TDL" train --data "$data" --arch 2-2 --threads 1 --json -o "$WORK/m.safetensors"
expect_status 0 "train with the defaults"
[ "$(sed -n 's/.*"optimizer":"\([^"]*\)".*/\1/p' "$WORK/out")" = "$(value_of train.opt)" ] && ok || bad "train.opt"
for pair in lr:train.lr momentum:train.momentum batch:train.batch epochs:train.epochs diverge_factor:train.diverge_factor; do
    same_number "$(json_get "${pair%%:*}")" "$(value_of "${pair#*:}")" && ok || bad "${pair#*:}: --json ${pair%%:*} $(json_get "${pair%%:*}")"
done
run "$TDL" train --data "$data" --arch 2-2 --threads 1 --opt adam --epochs 1 --json -o "$WORK/m.safetensors"
same_number "$(json_get lr)" "$(value_of train.lr_adam)" && ok || bad "train.lr_adam: --json lr $(json_get lr)"
run "$TDL" train --data "$data" --arch 2-2 --threads 1 --opt sgd --epochs 1 --json -o "$WORK/m.safetensors"
same_number "$(json_get momentum)" "$(value_of train.momentum_sgd)" && ok || bad "train.momentum_sgd: --json momentum $(json_get momentum)"
run "$TDL" hessian --data "$data" --arch 2-3-2 --method lanczos --k 2 --threads 1 --json
expect_status 0 "hessian lanczos with the defaults"
same_number "$(json_get tolerance)" "$(value_of lanczos.tol)" && ok || bad "lanczos.tol: --json tolerance $(json_get tolerance)"
run "$TDL" signal --json
expect_status 0 "signal with the defaults"
[ "$(sed -n 's/.*"activation":"\([^"]*\)".*/\1/p' "$WORK/out")" = "$(value_of signal.act)" ] && ok || bad "signal.act"
same_number "$(json_get sigma_w)" "$(value_of signal.sigma_w)" && ok || bad "signal.sigma_w: --json $(json_get sigma_w)"
same_number "$(json_get sigma_b)" "$(value_of signal.sigma_b)" && ok || bad "signal.sigma_b: --json $(json_get sigma_b)"

finish
