// Prelude of every kernel family: the host prepends this file to each other Kernels/*.cl file
// before building it (it is never built alone). It describes strided views as kernels see them.
//
// Host and device agree on these structs' layout because every field is a 32-bit int: the host
// passes them as arrays of Int32 (see CLStridedArgs.swift). Element indices are 32-bit; the host
// checks that every buffer holds fewer than 2^31 elements.

#define MAX_RANK 8

/// The iteration space of an element-wise kernel: `rank` axes of sizes `dims`, row-major.
typedef struct { int rank; int dims[MAX_RANK]; } Shape;

/// Where an operand's elements are: element (i0, i1, ...) is at offset + sum(i_d * strides[d]).
typedef struct { int offset; int strides[MAX_RANK]; } View;

// Offsets of element `i` (flat row-major index into `s`) in two, three or four views, from one
// decode of the coordinates (a division per axis, shared by the operands).
#define OFFSETS2(s, i, v0, o0, v1, o1) \
    int o0 = (v0).offset, o1 = (v1).offset; \
    { int rest_ = (i); \
      for (int d_ = (s).rank - 1; d_ >= 0; --d_) { \
          int c_ = rest_ % (s).dims[d_]; rest_ /= (s).dims[d_]; \
          o0 += c_ * (v0).strides[d_]; o1 += c_ * (v1).strides[d_]; } }

#define OFFSETS3(s, i, v0, o0, v1, o1, v2, o2) \
    int o0 = (v0).offset, o1 = (v1).offset, o2 = (v2).offset; \
    { int rest_ = (i); \
      for (int d_ = (s).rank - 1; d_ >= 0; --d_) { \
          int c_ = rest_ % (s).dims[d_]; rest_ /= (s).dims[d_]; \
          o0 += c_ * (v0).strides[d_]; o1 += c_ * (v1).strides[d_]; o2 += c_ * (v2).strides[d_]; } }

#define OFFSETS4(s, i, v0, o0, v1, o1, v2, o2, v3, o3) \
    int o0 = (v0).offset, o1 = (v1).offset, o2 = (v2).offset, o3 = (v3).offset; \
    { int rest_ = (i); \
      for (int d_ = (s).rank - 1; d_ >= 0; --d_) { \
          int c_ = rest_ % (s).dims[d_]; rest_ /= (s).dims[d_]; \
          o0 += c_ * (v0).strides[d_]; o1 += c_ * (v1).strides[d_]; \
          o2 += c_ * (v2).strides[d_]; o3 += c_ * (v3).strides[d_]; } }

/// Offset of element `i` in one view.
static inline int view_offset(const Shape s, const View v, int i) {
    if (s.rank == 1) return v.offset + i * v.strides[0];
    int offset = v.offset;
    for (int d = s.rank - 1; d >= 0; --d) {
        offset += (i % s.dims[d]) * v.strides[d];
        i /= s.dims[d];
    }
    return offset;
}

/// Advances `coord` (and returns the matching `offset`) to the next element of `s` in row-major
/// order: an odometer, so walking a strided view costs no division per element.
static inline int walk_step(int* coord, int offset, const Shape s, const View v) {
    // One axis (the usual case): no coordinates to carry, so `coord` can stay out of memory.
    if (s.rank == 1) return offset + v.strides[0];
    for (int d = s.rank - 1; d >= 0; --d) {
        offset += v.strides[d];
        if (++coord[d] < s.dims[d] || d == 0) return offset;
        offset -= s.dims[d] * v.strides[d];
        coord[d] = 0;
    }
    return offset;
}
