// Reductions over the trailing axes of a strided view.
//
// The host splits the view into an outer part `so`/`vo` (one output per element, vo carries the
// view's offset) and an inner part `si`/`vi` (the reduced elements, offset 0). Two strategies:
// - NAME_chunks: one work-item per (output, chunk of its row), no local memory or barriers.
//   Work-item ids run over outputs first, so neighbouring work-items read neighbouring addresses
//   when the outputs are adjacent (a sum over the first axis). Contiguous float rows are summed
//   16 lanes at a time. CPU drivers use it for everything; GPUs for strided or short rows.
// - NAME_columns (sums on CPU drivers): one work-item per 64 adjacent outputs (the outer view is
//   contiguous) and a chunk of their rows, summing 64 columns at once down a strided inner view:
//   a sum over the first axis reads runs of 256 bytes instead of one float from each row.
// - NAME_groups: `groupsPerOutput` work-groups per output each reduce a `chunk` of the row in
//   local memory (a tree, so float sums add numbers of similar size); GPUs use it for long
//   contiguous rows, where the work-items of a group read consecutive addresses.
// When a row is cut into several chunks or groups, the kernel writes one partial per piece and
// the host reduces the partials with a second launch. All kernels share one argument list after
// their first ones, so one host routine launches them; arguments a kernel does not need (indices
// for sums) are ignored.
//
// max/min carry (value, index) pairs and argmax/argmin are the same kernels writing the index.
// A pair replaces another when its value is better, or equal with a smaller index, so the first
// occurrence wins whatever order the tree combines in; NaN beats every number (NumPy's rule),
// and index -1 marks "no element yet".

/// Offset of element `j` of the inner view, and the coordinates a `walk_step` from it needs.
static inline int walk_start(int* coord, int j, const Shape s, const View v) {
    int offset = 0;
    for (int d = s.rank - 1; d >= 0; --d) {
        coord[d] = j % s.dims[d];
        j /= s.dims[d];
        offset += coord[d] * v.strides[d];
    }
    return offset;
}

// The argument list every reduction kernel shares after its first arguments.
#define REDUCE_ARGUMENTS(T) Shape so, View vo, Shape si, View vi, \
    __global const T* x, __global const int* xIndex, int useXIndex, \
    __global T* outValue, __global int* outIndex, int writeValue, int writeIndex
#define CHUNK_ARGUMENTS(T) int nOut, int chunk, int chunksPerOutput, int nIn, REDUCE_ARGUMENTS(T)

// Which output `o` and which chunk `g` of its row (elements start..end) this work-item reduces;
// `base` is the output's offset in x. Returns from work-items past the end.
#define CHUNK_OF_ROW \
    int id = get_global_id(0); \
    if (id >= nOut * chunksPerOutput) return; \
    int o = id % nOut, g = id / nOut; \
    int base = view_offset(so, vo, o); \
    int start = g * chunk, end = min(start + chunk, nIn);

/// True when the inner view is one contiguous run (the common "last axis" case).
static inline bool inner_contiguous(const Shape s, const View v) { return s.rank == 1 && v.strides[0] == 1; }

#define NO_NAN(x) 0

// Value-only reductions of contiguous rows take a vector path: VBEST combines 16 lanes
// (fmax/fmin, which skip NaN) and VNAN flags NaN lanes, so a NaN still wins.
#define REDUCE_MINMAX(NAME, T, T16, IS_NAN, CMP, VBEST, VNAN) \
static inline bool NAME##_better(T v, int i, T bestValue, int bestIndex) { \
    if (i < 0) return false; \
    if (bestIndex < 0) return true; \
    if (IS_NAN(bestValue)) return IS_NAN(v) && i < bestIndex; \
    return IS_NAN(v) || v CMP bestValue || (v == bestValue && i < bestIndex); \
} \
__kernel void NAME##_chunks(CHUNK_ARGUMENTS(T)) { \
    CHUNK_OF_ROW \
    T best = 0; \
    int bestIndex = -1; \
    if (inner_contiguous(si, vi) && !useXIndex && !writeIndex && end - start >= 16) { \
        __global const T* row = x + base; \
        T16 lanes = vload16(0, row + start); \
        int16 nanLanes = VNAN(lanes); \
        int j = start + 16; \
        for (; j + 16 <= end; j += 16) { \
            T16 v = vload16(0, row + j); \
            lanes = VBEST(lanes, v); \
            nanLanes |= VNAN(v); \
        } \
        best = lanes.s0; \
        for (int lane = 1; lane < 16; ++lane) { \
            T v = ((T*)&lanes)[lane]; \
            if (v CMP best) best = v; \
        } \
        for (; j < end; ++j) if (IS_NAN(row[j]) || row[j] CMP best) best = row[j]; \
        if (any(nanLanes)) for (int k = start; k < end; ++k) if (IS_NAN(row[k])) { best = row[k]; break; } \
    } else if (inner_contiguous(si, vi)) { \
        for (int j = start; j < end; ++j) { \
            T v = x[base + j]; \
            int index = useXIndex ? xIndex[base + j] : j; \
            if (NAME##_better(v, index, best, bestIndex)) { best = v; bestIndex = index; } \
        } \
    } else { \
        int coord[MAX_RANK]; \
        int offset = walk_start(coord, start, si, vi); \
        for (int j = start; j < end; ++j) { \
            T v = x[base + offset]; \
            int index = useXIndex ? xIndex[base + offset] : j; \
            if (NAME##_better(v, index, best, bestIndex)) { best = v; bestIndex = index; } \
            offset = walk_step(coord, offset, si, vi); \
        } \
    } \
    int at = o * chunksPerOutput + g; \
    if (writeValue) outValue[at] = best; \
    if (writeIndex) outIndex[at] = bestIndex; \
} \
__kernel void NAME##_groups(int groupsPerOutput, int chunk, int nIn, REDUCE_ARGUMENTS(T), \
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

// Kahan summation: `error` keeps what rounding dropped from `sum` (the true total is sum - error),
// so a work-item's long sequential run is as accurate as a tree. An infinity breaks it (inf - inf
// turns the error, then the sum, into NaN), and guarding every step costs pocl half its speed, so
// a piece whose compensated sum comes out NaN is summed again plainly: that gives inf, -inf or
// NaN exactly as IEEE addition does.
#define COMPENSATED_ADD(sum, error, value, TYPE) { \
    TYPE y_ = (value) - (error); \
    TYPE t_ = (sum) + y_; \
    (error) = (t_ - (sum)) - y_; \
    (sum) = t_; }
// Plain addition: the fallback above, and integer sums (uint, exact, overflow wraps).
#define PLAIN_ADD(sum, error, value, TYPE) { (sum) += (value); }

// Sum of elements start..end of the inner view from `base`, with ADD.
#define SUM_PIECE(FN, T, ACC, ACC16, ACC8, ACC4, VLOAD, ADD) \
static inline ACC FN(__global const T* x, int base, int start, int end, const Shape si, const View vi) { \
    ACC total = 0, error = 0; \
    if (inner_contiguous(si, vi)) { \
        __global const T* row = x + base; \
        ACC16 lanes = 0, errors = 0; \
        int j = start; \
        for (; j + 16 <= end; j += 16) ADD(lanes, errors, VLOAD(row + j), ACC16); \
        for (; j < end; ++j) ADD(total, error, (ACC)row[j], ACC); \
        lanes -= errors; \
        ACC8 eight = lanes.lo + lanes.hi; \
        ACC4 four = eight.lo + eight.hi; \
        total += (four.x + four.y) + (four.z + four.w); \
    } else { \
        int coord[MAX_RANK]; \
        int offset = walk_start(coord, start, si, vi); \
        for (int j = start; j < end; ++j) { \
            ADD(total, error, (ACC)x[base + offset], ACC); \
            offset = walk_step(coord, offset, si, vi); \
        } \
    } \
    return total - error; \
}

// The two passes of NAME_columns over rows start..end of the inner view from `column`: 64
// columns as four ACC16 accumulators, or `lanes` (< 64) columns one by one into `totals`. The
// second, plain pass runs only for a block whose compensated sums came out NaN.
#define SUM_64_COLUMNS(ADDER, T, ACC16, VLOAD, t0, t1, t2, t3) { \
    ACC16 e0_ = 0, e1_ = 0, e2_ = 0, e3_ = 0; \
    int coord_[MAX_RANK]; \
    int offset_ = walk_start(coord_, start, si, vi); \
    for (int j = start; j < end; ++j) { \
        __global const T* row = column + offset_; \
        ADDER(t0, e0_, VLOAD(row), ACC16); ADDER(t1, e1_, VLOAD(row + 16), ACC16); \
        ADDER(t2, e2_, VLOAD(row + 32), ACC16); ADDER(t3, e3_, VLOAD(row + 48), ACC16); \
        offset_ = walk_step(coord_, offset_, si, vi); \
    } \
    t0 -= e0_; t1 -= e1_; t2 -= e2_; t3 -= e3_; }
#define SUM_LANES(ADDER, T, ACC, totals) { \
    ACC errors_[64] = {0}; \
    int coord_[MAX_RANK]; \
    int offset_ = walk_start(coord_, start, si, vi); \
    for (int j = start; j < end; ++j) { \
        for (int lane = 0; lane < lanes; ++lane) ADDER(totals[lane], errors_[lane], (ACC)column[offset_ + lane], ACC); \
        offset_ = walk_step(coord_, offset_, si, vi); \
    } \
    for (int lane = 0; lane < lanes; ++lane) totals[lane] -= errors_[lane]; }

// ACC is the accumulator type: float for float, uint for int (so overflow wraps); ACC16, ACC8
// and ACC4 its vectors. VLOAD reads 16 elements as an ACC16 (contiguous rows are summed 16
// lanes at a time); ADD is COMPENSATED_ADD or PLAIN_ADD, and IS_NAN (NO_NAN for ints) says when
// the plain re-sum is needed.
#define REDUCE_SUM(NAME, T, ACC, ACC16, ACC8, ACC4, VLOAD, ADD, IS_NAN) \
SUM_PIECE(NAME##_piece, T, ACC, ACC16, ACC8, ACC4, VLOAD, ADD) \
SUM_PIECE(NAME##_plain_piece, T, ACC, ACC16, ACC8, ACC4, VLOAD, PLAIN_ADD) \
__kernel void NAME##_chunks(CHUNK_ARGUMENTS(T)) { \
    CHUNK_OF_ROW \
    ACC total = NAME##_piece(x, base, start, end, si, vi); \
    if (IS_NAN(total)) total = NAME##_plain_piece(x, base, start, end, si, vi); \
    outValue[o * chunksPerOutput + g] = (T)total; \
} \
__kernel void NAME##_columns(CHUNK_ARGUMENTS(T)) { \
    int blocks = (nOut + 63) / 64; \
    int id = get_global_id(0); \
    if (id >= blocks * chunksPerOutput) return; \
    int first = (id % blocks) * 64, g = id / blocks; \
    int lanes = min(64, nOut - first); \
    int start = g * chunk, end = min(start + chunk, nIn); \
    __global const T* column = x + vo.offset + first; \
    if (lanes == 64) { \
        ACC16 t0 = 0, t1 = 0, t2 = 0, t3 = 0; \
        SUM_64_COLUMNS(ADD, T, ACC16, VLOAD, t0, t1, t2, t3) \
        ACC16 totals[4] = {t0, t1, t2, t3}; \
        bool redo = false; \
        for (int lane = 0; lane < 64; ++lane) redo |= IS_NAN(((ACC*)totals)[lane]); \
        if (redo) { \
            ACC16 p0 = 0, p1 = 0, p2 = 0, p3 = 0; \
            SUM_64_COLUMNS(PLAIN_ADD, T, ACC16, VLOAD, p0, p1, p2, p3) \
            ACC16 plain[4] = {p0, p1, p2, p3}; \
            for (int lane = 0; lane < 64; ++lane) \
                if (IS_NAN(((ACC*)totals)[lane])) ((ACC*)totals)[lane] = ((ACC*)plain)[lane]; \
        } \
        for (int lane = 0; lane < 64; ++lane) outValue[(first + lane) * chunksPerOutput + g] = (T)((ACC*)totals)[lane]; \
        return; \
    } \
    ACC totals[64] = {0}; \
    SUM_LANES(ADD, T, ACC, totals) \
    bool redo = false; \
    for (int lane = 0; lane < lanes; ++lane) redo |= IS_NAN(totals[lane]); \
    if (redo) { \
        ACC plain[64] = {0}; \
        SUM_LANES(PLAIN_ADD, T, ACC, plain) \
        for (int lane = 0; lane < lanes; ++lane) if (IS_NAN(totals[lane])) totals[lane] = plain[lane]; \
    } \
    for (int lane = 0; lane < lanes; ++lane) outValue[(first + lane) * chunksPerOutput + g] = (T)totals[lane]; \
} \
__kernel void NAME##_groups(int groupsPerOutput, int chunk, int nIn, REDUCE_ARGUMENTS(T), \
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

#define VLOAD_F(p) vload16(0, p)
#define VLOAD_I(p) convert_uint16(vload16(0, p))
REDUCE_SUM(reduce_sum_f, float, float, float16, float8, float4, VLOAD_F, COMPENSATED_ADD, isnan)
REDUCE_SUM(reduce_sum_i, int, uint, uint16, uint8, uint4, VLOAD_I, PLAIN_ADD, NO_NAN)
#define NO_NAN16(v) ((int16)0)
REDUCE_MINMAX(reduce_max_f, float, float16, isnan, >, fmax, isnan)
REDUCE_MINMAX(reduce_min_f, float, float16, isnan, <, fmin, isnan)
REDUCE_MINMAX(reduce_max_i, int, int16, NO_NAN, >, max, NO_NAN16)
REDUCE_MINMAX(reduce_min_i, int, int16, NO_NAN, <, min, NO_NAN16)
