// Row-wise kernels that walk each row in order, one work-item per row: running sums and
// products (accumulated from the start of the row, as the CPU backend does, so both round the
// same way), a stable argsort, and byte unpacking.
//
// Rows: `so` is the shape of the leading axes (rank >= 1), `vi`/`vo` give each row's start in
// the input and output, `si`/`sout` the step along the row.

#define SCAN(NAME, T, INIT, OP) \
__kernel void NAME(int rows, int length, Shape so, __global const T* in, View vi, int si, \
                   __global T* out, View vo, int sout) { \
    int r = get_global_id(0); \
    if (r >= rows) return; \
    int i = view_offset(so, vi, r), o = view_offset(so, vo, r); \
    T running = INIT; \
    for (int k = 0; k < length; ++k) { \
        running = OP(running, in[i + k * si]); \
        out[o + k * sout] = running; \
    } \
}

#define ADD_F(a, b) ((a) + (b))
#define MUL_F(a, b) ((a) * (b))
#define ADD_I(a, b) ((int)((uint)(a) + (uint)(b)))
#define MUL_I(a, b) ((int)((uint)(a) * (uint)(b)))
SCAN(scan_sum_f, float, 0.0f, ADD_F)
SCAN(scan_prod_f, float, 1.0f, MUL_F)
SCAN(scan_sum_i, int, 0, ADD_I)
SCAN(scan_prod_i, int, 1, MUL_I)

// Does position i (value a) come before position j (value b)? A total order: value (NaN the
// largest), then position, so the sort is stable and the same as the CPU backend's.
#define BEFORE_F(a, i, b, j, descending) \
    ((isnan(a) || isnan(b)) ? ((isnan(a) && isnan(b)) ? (i) < (j) : ((descending) ? isnan(a) : isnan(b))) \
                            : ((a) == (b) ? (i) < (j) : ((descending) ? (a) > (b) : (a) < (b))))
#define BEFORE_I(a, i, b, j, descending) \
    ((a) == (b) ? (i) < (j) : ((descending) ? (a) > (b) : (a) < (b)))

// Bottom-up merge sort of positions, through `scratch` (2 x length ints per row, contiguous).
#define ARGSORT(NAME, T, BEFORE) \
__kernel void NAME(int rows, int length, Shape so, __global const T* in, View vi, int si, \
                   __global int* out, View vo, int sout, __global int* scratch, int descending) { \
    int r = get_global_id(0); \
    if (r >= rows) return; \
    int base = view_offset(so, vi, r), o = view_offset(so, vo, r); \
    __global int* from = scratch + (long)r * 2 * length; \
    __global int* to = from + length; \
    for (int k = 0; k < length; ++k) from[k] = k; \
    for (int width = 1; width < length; width *= 2) { \
        for (int left = 0; left < length; left += 2 * width) { \
            int middle = min(left + width, length), right = min(left + 2 * width, length); \
            int a = left, b = middle, k = left; \
            while (a < middle && b < right) { \
                int pa = from[a], pb = from[b]; \
                T va = in[base + pa * si], vb = in[base + pb * si]; \
                if (BEFORE(vb, pb, va, pa, descending)) { to[k++] = pb; ++b; } else { to[k++] = pa; ++a; } \
            } \
            while (a < middle) to[k++] = from[a++]; \
            while (b < right) to[k++] = from[b++]; \
        } \
        __global int* swap = from; from = to; to = swap; \
    } \
    for (int k = 0; k < length; ++k) out[o + k * sout] = from[k]; \
}

ARGSORT(argsort_f, float, BEFORE_F)
ARGSORT(argsort_i, int, BEFORE_I)

// Bytes to int32 or float32: element i is byte i % 4 of word i / 4 (little-endian); a float is
// byte * scale + shift (one fma, as the CPU's), an int the byte itself.
#define WIDEN_F(b) fma((float)(b), scale, shift)
#define WIDEN_I(b) (int)(b)
#define UNPACK(NAME, T, WIDEN) \
__kernel void NAME(int n, Shape s, __global const uint* packed, __global T* out, View vo, float scale, float shift) { \
    int i = get_global_id(0); \
    if (i >= n) return; \
    out[view_offset(s, vo, i)] = WIDEN((packed[i / 4] >> (8 * (i % 4))) & 0xffu); \
}
UNPACK(unpack_bytes_f, float, WIDEN_F)
UNPACK(unpack_bytes_i, int, WIDEN_I)

// The same into a contiguous output (a batch of images): `run` words per work-item, each word
// read once and its four bytes written side by side, no index arithmetic per element.
#define UNPACK_DENSE(NAME, T, WIDEN) \
__kernel void NAME(int n, int run, __global const uint* packed, __global T* out, int offset, float scale, float shift) { \
    int words = (n + 3) / 4, first = get_global_id(0) * run, last = min(first + run, words); \
    for (int w = first; w < last; ++w) { \
        uint word = packed[w]; \
        int i = 4 * w; \
        for (int k = 0; k < 4 && i + k < n; ++k) out[offset + i + k] = WIDEN((word >> (8 * k)) & 0xffu); \
    } \
}
UNPACK_DENSE(unpack_bytes_dense_f, float, WIDEN_F)
UNPACK_DENSE(unpack_bytes_dense_i, int, WIDEN_I)
