#!/bin/sh
# Prints the swift build flags that give the CPU backend fast SIMD code on this machine.
# Swift SIMD arithmetic compiles to scalar calls unless a CPU target is set; -Xcc -march also
# steers Swift's code generation. SIMD16 only pays off with AVX-512 (on AVX2 it splits in two).
# TESSEL_SIMD=portable builds without a target (correct, slow); a -march binary may not run on
# an older CPU than the one it was built for.
flags=$(grep -m1 '^flags' /proc/cpuinfo 2>/dev/null)
has() { case " $flags " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if [ "${TESSEL_SIMD:-auto}" = portable ]; then
    exit 0
elif has avx512f && has avx512bw && has avx512dq && has avx512vl; then
    echo "-Xcc -march=x86-64-v4 -Xswiftc -DTESSEL_SIMD16 -Xswiftc -DTESSEL_CPU_TARGET"
elif has avx2 && has fma; then
    echo "-Xcc -march=x86-64-v3 -Xswiftc -DTESSEL_CPU_TARGET"
fi
