// CPU hints Swift has no spelling for. Static inline, so the Swift optimiser inlines them into
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

#endif
