// Reductions over the trailing axes of a strided view.
//
// The host splits the view into an outer part `so`/`vo` (one output per element, vo carries the
// view's offset) and an inner part `si`/`vi` (the reduced elements, offset 0). Two strategies:
// - NAME_rows: one work-item per output walks its reduced elements (short rows, < 256);
// - NAME_groups: `groupsPerOutput` work-groups per output each reduce a `chunk` of the row in
//   local memory (a tree, so float sums add numbers of similar size) and write one partial; when
//   there is more than one group per output, the host reduces the partials with a second launch.
// All kernels share one signature so one host routine launches them; arguments a kernel does not
// need (indices for sums) are ignored.
//
// max/min carry (value, index) pairs and argmax/argmin are the same kernels writing the index.
// A pair replaces another when its value is better, or equal with a smaller index, so the first
// occurrence wins whatever order the tree combines in; NaN beats every number (NumPy's rule),
// and index -1 marks "no element yet".

#define NO_NAN(x) 0

#define REDUCE_MINMAX(NAME, T, IS_NAN, CMP) \
inline bool NAME##_better(T v, int i, T bestValue, int bestIndex) { \
    if (i < 0) return false; \
    if (bestIndex < 0) return true; \
    if (IS_NAN(bestValue)) return IS_NAN(v) && i < bestIndex; \
    return IS_NAN(v) || v CMP bestValue || (v == bestValue && i < bestIndex); \
} \
__kernel void NAME##_rows(int nOut, int nIn, Shape so, View vo, Shape si, View vi, \
                          __global const T* x, __global const int* xIndex, int useXIndex, \
                          __global T* outValue, __global int* outIndex, int writeValue, int writeIndex) { \
    int o = get_global_id(0); \
    if (o >= nOut) return; \
    int base = view_offset(so, vo, o); \
    T best = 0; \
    int bestIndex = -1; \
    int coord[MAX_RANK] = {0}; \
    int offset = 0; \
    for (int j = 0; j < nIn; ++j) { \
        T v = x[base + offset]; \
        int index = useXIndex ? xIndex[base + offset] : j; \
        if (NAME##_better(v, index, best, bestIndex)) { best = v; bestIndex = index; } \
        offset = walk_step(coord, offset, si, vi); \
    } \
    if (writeValue) outValue[o] = best; \
    if (writeIndex) outIndex[o] = bestIndex; \
} \
__kernel void NAME##_groups(int groupsPerOutput, int chunk, int nIn, Shape so, View vo, Shape si, View vi, \
                            __global const T* x, __global const int* xIndex, int useXIndex, \
                            __global T* outValue, __global int* outIndex, int writeValue, int writeIndex, \
                            __local T* values, __local int* indices) { \
    int flat = get_group_id(0); \
    int o = flat / groupsPerOutput, g = flat % groupsPerOutput; \
    int lid = get_local_id(0), size = get_local_size(0); \
    int base = view_offset(so, vo, o); \
    int end = min(g * chunk + chunk, nIn); \
    T best = 0; \
    int bestIndex = -1; \
    for (int j = g * chunk + lid; j < end; j += size) { \
        int at = base + view_offset(si, vi, j); \
        T v = x[at]; \
        int index = useXIndex ? xIndex[at] : j; \
        if (NAME##_better(v, index, best, bestIndex)) { best = v; bestIndex = index; } \
    } \
    values[lid] = best; \
    indices[lid] = bestIndex; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int width = size / 2; width > 0; width /= 2) { \
        if (lid < width && NAME##_better(values[lid + width], indices[lid + width], values[lid], indices[lid])) { \
            values[lid] = values[lid + width]; \
            indices[lid] = indices[lid + width]; \
        } \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    if (lid == 0) { \
        if (writeValue) outValue[flat] = values[0]; \
        if (writeIndex) outIndex[flat] = indices[0]; \
    } \
}

// ACC is the accumulator type: float for float, uint for int (so overflow wraps).
#define REDUCE_SUM(NAME, T, ACC) \
__kernel void NAME##_rows(int nOut, int nIn, Shape so, View vo, Shape si, View vi, \
                          __global const T* x, __global const int* xIndex, int useXIndex, \
                          __global T* outValue, __global int* outIndex, int writeValue, int writeIndex) { \
    int o = get_global_id(0); \
    if (o >= nOut) return; \
    int base = view_offset(so, vo, o); \
    ACC total = 0; \
    int coord[MAX_RANK] = {0}; \
    int offset = 0; \
    for (int j = 0; j < nIn; ++j) { \
        total += (ACC)x[base + offset]; \
        offset = walk_step(coord, offset, si, vi); \
    } \
    outValue[o] = (T)total; \
} \
__kernel void NAME##_groups(int groupsPerOutput, int chunk, int nIn, Shape so, View vo, Shape si, View vi, \
                            __global const T* x, __global const int* xIndex, int useXIndex, \
                            __global T* outValue, __global int* outIndex, int writeValue, int writeIndex, \
                            __local T* values, __local int* indices) { \
    int flat = get_group_id(0); \
    int o = flat / groupsPerOutput, g = flat % groupsPerOutput; \
    int lid = get_local_id(0), size = get_local_size(0); \
    int base = view_offset(so, vo, o); \
    int end = min(g * chunk + chunk, nIn); \
    ACC total = 0; \
    for (int j = g * chunk + lid; j < end; j += size) total += (ACC)x[base + view_offset(si, vi, j)]; \
    values[lid] = (T)total; \
    barrier(CLK_LOCAL_MEM_FENCE); \
    for (int width = size / 2; width > 0; width /= 2) { \
        if (lid < width) values[lid] = (T)((ACC)values[lid] + (ACC)values[lid + width]); \
        barrier(CLK_LOCAL_MEM_FENCE); \
    } \
    if (lid == 0) outValue[flat] = values[0]; \
}

REDUCE_SUM(reduce_sum_f, float, float)
REDUCE_SUM(reduce_sum_i, int, uint)
REDUCE_MINMAX(reduce_max_f, float, isnan, >)
REDUCE_MINMAX(reduce_min_f, float, isnan, <)
REDUCE_MINMAX(reduce_max_i, int, NO_NAN, >)
REDUCE_MINMAX(reduce_min_i, int, NO_NAN, <)
