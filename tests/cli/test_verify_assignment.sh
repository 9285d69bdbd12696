#!/bin/bash
# CLI tests of `tdl verify --assignment` (issue 21): the example assignment of
# examples/verify/ (its committed answers: no Python needed) gets full points
# for the correct solution and the planted slips, per task, for the wrong
# one; each task is graded as the single command grades it; malformed
# assignments give one line naming the task and the key.
# usage: test_verify_assignment.sh PATH/TO/tdl FIXTURES_DIR
TDL=$1
FIX=$2
. "$(dirname "$0")/lib.sh"
EX=$(cd "$(dirname "$0")/../../examples/verify" && pwd)
F=$FIX/verify

# task NAME: the task's JSON object of the last --json output (one line)
task() {
    tr -d '\n' <"$WORK/out" | sed 's/},{"name"/}\n{"name"/g; s/"tasks":\[{/"tasks":[\n{/' | grep "^{\"name\":\"$1\""
}
# task_key NAME KEY: the value of KEY in that task
task_key() {
    task "$1" | awk -v k="\"$2\":" '{ i = index($0, k); if (i) { s = substr($0, i + length(k)); match(s, /^[^,}]*/); print substr(s, 1, RLENGTH); exit } }'
}
# the totals come after the tasks array
total_key() {
    tr -d '\n' <"$WORK/out" | sed 's/.*\]//' | awk -v k="\"$1\":" '{ i = index($0, k); if (i) { s = substr($0, i + length(k)); match(s, /^[^,}]*/); print substr(s, 1, RLENGTH); exit } }'
}
expect_task() { # NAME KEY VALUE
    local v
    v=$(task_key "$1" "$2")
    if [ "$v" = "$3" ]; then ok; else bad "task $1: $2 = '$v', expected '$3'"; fi
}
expect_total() { # KEY VALUE DESCRIPTION
    local v
    v=$(total_key "$1")
    if [ "$v" = "$2" ]; then ok; else bad "$3: $1 = '$v', expected '$2'"; fi
}
TASKS="a1-linreg-gradient a2-linreg-hessian b-strict-saddle c-relu-ntk d-pac-bayes-kl-inverse"

# ---- the correct solution: every task passes, full points 13 / 13, exit 0
# (its answers are numpy's float64 closed forms: ~1e-16 from tdl's, far
# inside the default 1e-8)
run "$TDL" verify --assignment "$EX/assignment.json" --answers "$EX/answers_correct" --json
expect_status 0 "correct solution"
for t in $TASKS; do
    expect_task "$t" verdict '"PASS"'
    expect_task "$t" slip '"none"'
    expect_task "$t" points "$(task_key "$t" points_possible)"
done
expect_total points 13 "correct solution"
expect_total points_possible 13 "correct solution"
expect_total tasks_passed 5 "correct solution"
expect_total passed true "correct solution"
# the text table
run "$TDL" verify --assignment "$EX/assignment.json" --answers "$EX/answers_correct"
expect_status 0 "correct solution, text"
expect_out "total 13 / 13 points; 5 of 5 tasks passed" "correct solution: the total"
if [ "$(grep -c ' PASS ' "$WORK/out")" -eq 5 ]; then ok; else bad "correct solution: 5 PASS rows expected"; fi

# ---- the wrong solution: a1 right (2 points), the four planted slips named
run "$TDL" verify --assignment "$EX/assignment.json" --answers "$EX/answers_wrong" --json
expect_status 1 "wrong solution"
expect_task a1-linreg-gradient verdict '"PASS"'
expect_task a2-linreg-hessian verdict '"FAIL"'
expect_task a2-linreg-hessian slip '"sum_not_mean"'
expect_task a2-linreg-hessian factor 20          # n = 20 examples
expect_task a2-linreg-hessian points 0
expect_task b-strict-saddle slip '"descending"'
expect_task c-relu-ntk slip '"outputs_summed"'
expect_task c-relu-ntk factor 3                  # C = 3 outputs
# kl in bits is not a transformation of tdl's value: it fails with no slip
# named, and the diagnosis gives both values
expect_task d-pac-bayes-kl-inverse verdict '"FAIL"'
expect_task d-pac-bayes-kl-inverse slip '"none"'
if task d-pac-bayes-kl-inverse | grep -q "0.0866752"; then ok; else bad "task d: tdl's value 0.0866752... not in the diagnosis"; fi
expect_total points 2 "wrong solution"
expect_total points_possible 13 "wrong solution"
expect_total tasks_passed 1 "wrong solution"
expect_total passed false "wrong solution"
# each task is graded as the single command grades it: same diagnosis
run "$TDL" verify --assignment "$EX/assignment.json" --answers "$EX/answers_wrong" --json
want=$(task_key a2-linreg-hessian diagnosis)
run "$TDL" verify --quantity hessian --model "$EX/linear.npz" --act identity --loss mse --data "$EX/linreg.npz" \
    --answer "$EX/answers_wrong/a2_hessian.npy" --json
if [ "$(json_get diagnosis)" = "$want" ] && [ -n "$want" ]; then ok; else bad "a2: the single command's diagnosis differs: $(json_get diagnosis) vs $want"; fi
run "$TDL" verify --assignment "$EX/assignment.json" --answers "$EX/answers_wrong"
expect_status 1 "wrong solution, text"
expect_out "total 2 / 13 points; 1 of 5 tasks passed" "wrong solution: the total"
expect_out "[sum_not_mean]" "wrong solution: a2's slip in the table"
expect_out "[descending]" "wrong solution: b's slip in the table"
expect_out "[outputs_summed]" "wrong solution: c's slip in the table"

# ---- without --answers the answers are next to the JSON file; a bare array
# of tasks; a literal number as the answer; a task that cannot be computed
# is an ERROR row (0 points, exit 1) and the others are still graded
A=$WORK/a
mkdir -p "$A"
cp "$EX/answers_correct/a2_hessian.npy" "$A/"
cat >"$A/bare.json" <<JSON
[{"name": "h", "quantity": "hessian", "points": 1.5, "model": "$EX/linear.npz", "act": "identity",
  "loss": "mse", "data": "$EX/linreg.npz", "answer": "a2_hessian.npy"},
 {"name": "kl", "quantity": "kl-inverse", "q": 0.1, "c": 0.2, "points": 1, "answer": $(cat "$F/kl_inv.txt")},
 {"name": "broken", "quantity": "gradient", "points": 2, "model": "$EX/linear.npz", "act": "identity",
  "data": "$EX/linreg.npz", "answer": "$F/bad3d.npy"}]
JSON
run "$TDL" verify --assignment "$A/bare.json" --json
expect_status 1 "bare array with a broken task"
expect_task h verdict '"PASS"'
expect_task kl verdict '"PASS"'
expect_task broken verdict '"ERROR"'
if task broken | grep -q '"error":".*3-D'; then ok; else bad "broken task: the error names the 3-D answer: $(task broken)"; fi
expect_total points 2.5 "bare array"
expect_total points_possible 4.5 "bare array"

# ---- malformed assignments: one line naming the task and the key
bad_assignment() { # STATUS FRAGMENT DESCRIPTION JSON-TEXT
    local want=$1 frag=$2 what=$3
    printf '%s\n' "$4" >"$A/bad.json"
    run "$TDL" verify --assignment "$A/bad.json"
    expect_status "$want" "$what"
    if [ "$(wc -l <"$WORK/err")" -eq 1 ]; then ok; else bad "$what: not one line: $(head -c 300 "$WORK/err")"; fi
    expect_err "$frag" "$what: names the problem"
    expect_empty_out "$what: no output on stdout"
}
GOOD='"model": "'$EX'/linear.npz", "act": "identity", "data": "'$EX'/linreg.npz"'
bad_assignment 2 "not valid JSON" "bad JSON" '{"tasks": [{"name": "x",}'
bad_assignment 2 "task 'x': key \"quantity\" missing" "missing quantity" \
    '{"tasks": [{"name": "x", "points": 1, '"$GOOD"', "answer": "a2_hessian.npy"}]}'
bad_assignment 2 "task 2: key \"name\" missing" "missing name" \
    '{"tasks": [{"name": "x", "quantity": "hessian", "points": 1, '"$GOOD"', "answer": "a2_hessian.npy"},
                {"quantity": "hessian", "points": 1, '"$GOOD"', "answer": "a2_hessian.npy"}]}'
bad_assignment 2 "task 'x': key \"points\" missing" "points not a number" \
    '{"tasks": [{"name": "x", "quantity": "hessian", "points": "three", '"$GOOD"', "answer": "a2_hessian.npy"}]}'
bad_assignment 2 "task 'x': unknown key \"modle\"" "unknown key" \
    '{"tasks": [{"name": "x", "quantity": "hessian", "points": 1, "modle": "m.npz", "answer": "a2_hessian.npy"}]}'
bad_assignment 2 "key \"tasks\" missing" "no tasks" '{"title": "nothing"}'
bad_assignment 1 "task 'x': key \"answer\": no such file" "missing answer file" \
    '{"tasks": [{"name": "x", "quantity": "hessian", "points": 1, '"$GOOD"', "answer": "nope.npy"}]}'
bad_assignment 1 "task 'x': key \"model\": no such file" "missing model file" \
    '{"tasks": [{"name": "x", "quantity": "hessian", "points": 1, "model": "nope.npz", "data": "'$EX'/linreg.npz", "answer": "a2_hessian.npy"}]}'
refuse "cannot read" "missing assignment file" "$TDL" verify --assignment "$A/none.json"
run "$TDL" verify --assignment "$EX/assignment.json" --quantity loss
expect_status 2 "--assignment with a single-answer option"
expect_err "takes only --answers DIR and --json" "--assignment with a single-answer option: names it"

finish
