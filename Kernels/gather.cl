// gather: output[i...] = x[i... with `axis` replaced by index[i...]];
// scatter_add: output[i... with `axis` replaced by index[i...]] += source[i...].
//
// The host passes the indexed operand as a view of the index's shape whose stride along `axis`
// is 0 (the axis "frozen" at position 0): its decoded offset then needs only position *
// axisStride added. A kernel cannot stop the program, so an out-of-range index touches no
// memory and is reported in `fault` (flag, index, axis size); the host checks it at its next
// synchronisation and stops there with the same message as the CPU backend (`tag` says which
// op and axis launched the kernel).

static inline bool in_range(int position, int axisSize, int tag, volatile __global int* fault) {
    if (position >= 0 && position < axisSize) return true;
    if (atomic_cmpxchg(fault, 0, 1) == 0) {
        fault[1] = position;
        fault[2] = axisSize;
        fault[3] = tag;
    }
    return false;
}

__kernel void gather_u32_1d(int n, __global const int* pi, int oi, int si, __global const uint* px, int ox, int sx,
                            __global uint* pout, int oout, int sout, int axisStride, int axisSize, int tag,
                            volatile __global int* fault) {
    int i = get_global_id(0);
    if (i >= n) return;
    int position = pi[oi + i * si];
    pout[oout + i * sout] = in_range(position, axisSize, tag, fault) ? px[ox + i * sx + position * axisStride] : 0u;
}

__kernel void gather_u32_nd(int n, int run, Shape s, __global const int* pi, View vi, __global const uint* px, View vx,
                            __global uint* pout, View vout, int axisStride, int axisSize, int tag, volatile __global int* fault) {
    int i = get_global_id(0) * run, end = min(i + run, n), last = s.rank - 1;
    if (run == 1) { // GPUs: one element, no row arithmetic
        if (i >= n) return;
        OFFSETS3(s, i, vi, oi, vx, ox, vout, oout);
        int position = pi[oi];
        pout[oout] = in_range(position, axisSize, tag, fault) ? px[ox + position * axisStride] : 0u;
        return;
    }
    while (i < end) {
        OFFSETS3(s, i, vi, oi, vx, ox, vout, oout);
        for (int stop = min(end, i - i % s.dims[last] + s.dims[last]); i < stop; ++i) {
            int position = pi[oi];
            pout[oout] = in_range(position, axisSize, tag, fault) ? px[ox + position * axisStride] : 0u;
            oi += vi.strides[last]; ox += vx.strides[last]; oout += vout.strides[last];
        }
    }
}

// Float adds through compare-and-swap on the bits (OpenCL 1.2 has no float atomics); repeated
// indices may meet in any order, so float sums can differ in the last bits from run to run.
static inline void atomic_add_f(volatile __global uint* p, float value) {
    uint old = *p, seen;
    while ((seen = atomic_cmpxchg(p, old, as_uint(as_float(old) + value))) != old) old = seen;
}

#define SCATTER_ADD(NAME, T, ADD) \
__kernel void NAME##_1d(int n, __global const int* pi, int oi, int si, __global const T* ps, int os, int ss, \
                        volatile __global uint* pout, int oout, int sout, int axisStride, int axisSize, int tag, \
                        volatile __global int* fault) { \
    int i = get_global_id(0); \
    if (i >= n) return; \
    int position = pi[oi + i * si]; \
    if (in_range(position, axisSize, tag, fault)) ADD(pout + oout + i * sout + position * axisStride, ps[os + i * ss]); \
} \
__kernel void NAME##_nd(int n, int run, Shape s, __global const int* pi, View vi, __global const T* ps, View vs, \
                        volatile __global uint* pout, View vout, int axisStride, int axisSize, int tag, volatile __global int* fault) { \
    int i = get_global_id(0) * run, end = min(i + run, n); \
    for (; i < end; ++i) { \
        OFFSETS3(s, i, vi, oi, vs, os, vout, oout); \
        int position = pi[oi]; \
        if (in_range(position, axisSize, tag, fault)) ADD(pout + oout + position * axisStride, ps[os]); \
    } \
}

#define ADD_F(p, v) atomic_add_f((p), (v))
#define ADD_I(p, v) atomic_add((volatile __global int*)(p), (v))
SCATTER_ADD(scatter_add_f, float, ADD_F)
SCATTER_ADD(scatter_add_i, int, ADD_I)
