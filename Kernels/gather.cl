// gather: output[i...] = x[i... with `axis` replaced by index[i...]].
//
// The host passes x as a view of the index's shape whose stride along `axis` is 0 (the axis
// "frozen" at position 0): its decoded offset then needs only position * axisStride added.
// An out-of-range index reads 0 rather than memory outside x (a kernel cannot stop the program).

__kernel void gather_u32_1d(int n, __global const int* pi, int oi, int si, __global const uint* px, int ox, int sx,
                            __global uint* pout, int oout, int sout, int axisStride, int axisSize) {
    int i = get_global_id(0);
    if (i >= n) return;
    int position = pi[oi + i * si];
    pout[oout + i * sout] = (position >= 0 && position < axisSize) ? px[ox + i * sx + position * axisStride] : 0u;
}

__kernel void gather_u32_nd(int n, int run, Shape s, __global const int* pi, View vi, __global const uint* px, View vx,
                            __global uint* pout, View vout, int axisStride, int axisSize) {
    int i = get_global_id(0) * run, end = min(i + run, n), last = s.rank - 1;
    if (run == 1) { // GPUs: one element, no row arithmetic
        if (i >= n) return;
        OFFSETS3(s, i, vi, oi, vx, ox, vout, oout);
        int position = pi[oi];
        pout[oout] = (position >= 0 && position < axisSize) ? px[ox + position * axisStride] : 0u;
        return;
    }
    while (i < end) {
        OFFSETS3(s, i, vi, oi, vx, ox, vout, oout);
        for (int stop = min(end, i - i % s.dims[last] + s.dims[last]); i < stop; ++i) {
            int position = pi[oi];
            pout[oout] = (position >= 0 && position < axisSize) ? px[ox + position * axisStride] : 0u;
            oi += vi.strides[last]; ox += vx.strides[last]; oout += vout.strides[last];
        }
    }
}
