// CPU hints and timing Swift has no spelling for. Static inline, so the Swift optimiser inlines them into
// the GEMM micro-kernel like any other instruction.
#ifndef TESSEL_CPU_H
#define TESSEL_CPU_H

/// Asks the CPU to bring the cache line holding `address` into L1 ahead of a read or write.
static inline __attribute__((always_inline)) void tessel_prefetch(const void *address) {
    __builtin_prefetch(address, 0, 3);
}

/// Tells the CPU that this is a spin-wait loop (saves power, frees the sibling hyperthread).
static inline __attribute__((always_inline)) void tessel_spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/// Runs `iterations` x 8 additions, each depending on the one before (one cycle each on any
/// x86-64 core, whatever its width), and returns how many ran: timing it gives the clock.
/// Register operands, not immediates: some cores fold chains of immediate adds at rename.
/// Returns 0 where there is no implementation.
static inline long tessel_dependent_adds(long iterations) {
#if defined(__x86_64__)
    if (iterations <= 0) return 0;  // the loop tests after its first pass
    long value = 0, one = 1, count = iterations;
    __asm__ __volatile__(
        "1:\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "add %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\tadd %2, %0\n\t"
        "dec %1\n\t"
        "jnz 1b\n\t"
        : "+r"(value), "+r"(count)
        : "r"(one)
        : "cc");
    return value;
#else
    (void)iterations;
    return 0;
#endif
}

#endif
