#!/bin/bash
# CLI tests of the encoding of --json output: every JSON string is valid
# UTF-8 whatever bytes a file name holds (src/cli/json.h).  A well-formed
# UTF-8 name passes through unchanged; each byte that is not part of a
# well-formed sequence (0xFF, 0xFE, a stray continuation byte, an overlong
# form, a UTF-16 surrogate, a truncated sequence) becomes U+FFFD.
# usage: test_encoding.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
. "$(dirname "$0")/lib.sh"

# json_spec: the "spec" string of the JSON on stdout, decoded as strict UTF-8
# and printed back as UTF-8 (fails when the document is not strict UTF-8 JSON)
json_spec() {
    python3 -c 'import json,sys; sys.stdout.buffer.write(json.loads(sys.stdin.buffer.read().decode("utf-8"))["spec"].encode("utf-8"))' <"$WORK/out"
}

csv() { printf 'a,b,label\n1,2,0\n3,4,1\n' >"$1"; }
cd "$WORK" || exit 1

# name (bytes) -> the spec string expected after decoding
check_name() {
    local name=$1 want=$2 what=$3 got
    csv "$name"
    run "$TDL" info --data "$name" --json
    expect_status 0 "info --json on $what"
    if got=$(json_spec 2>"$WORK/pyerr"); then
        [ "$got" = "$want" ] && ok || bad "$what: spec decodes to '$got', expected '$want'"
    else
        bad "$what: --json output is not valid UTF-8 JSON: $(head -c 200 "$WORK/pyerr")"
    fi
}

check_name $'bad\xff\xfe.csv' $'bad\xef\xbf\xbd\xef\xbf\xbd.csv' "a name with bytes 0xFF 0xFE"
check_name $'cont\x80.csv' $'cont\xef\xbf\xbd.csv' "a stray continuation byte"
check_name $'over\xc0\xaf.csv' $'over\xef\xbf\xbd\xef\xbf\xbd.csv' "an overlong '/' (C0 AF)"
check_name $'surr\xed\xa0\x80.csv' $'surr\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.csv' "a UTF-16 surrogate (ED A0 80)"
check_name $'trunc\xe6\x95.csv' $'trunc\xef\xbf\xbd\xef\xbf\xbd.csv' "a truncated 3-byte sequence"
check_name $'big\xf4\x90\x80\x80.csv' $'big\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd.csv' "a code point above U+10FFFF"
# valid UTF-8 (2-, 3- and 4-byte sequences) passes through byte for byte
check_name 'é数据.csv' 'é数据.csv' "a valid UTF-8 name (é, 数据)"
check_name $'emoji\xf0\x9f\x98\x80.csv' $'emoji\xf0\x9f\x98\x80.csv' "a valid 4-byte sequence (U+1F600)"
# the valid name appears raw in the output, not as \u escapes
run "$TDL" info --data 'é数据.csv' --json
grep -qF '"spec":"é数据.csv"' "$WORK/out" && ok || bad "valid UTF-8 is not written unchanged: $(head -c 200 "$WORK/out")"
# an invalid byte is written as the escape \ufffd, never raw
run "$TDL" info --data $'bad\xff\xfe.csv' --json
grep -qF '"spec":"bad\ufffd\ufffd.csv"' "$WORK/out" && ok || bad "invalid bytes not written as \\ufffd: $(head -c 200 "$WORK/out")"

finish
