// Softmax and log-softmax along the last axis, one row per work-item (CPU drivers) or per
// work-group (GPUs). The leading axes of the view are `so`/`vo` (vo carries its offset); a row
// is `columns` elements `stride` apart; the output is contiguous, row after row.
//
// Both kernels compute what the composed ops would: the row's maximum (NaN wins), then
// exp(x - max) / sum for softmax, and x - (shift + log(sum(exp(x - shift)))) for log-softmax,
// where shift is the maximum unless it is infinite (then 0, so +inf gives -inf and NaN rather
// than NaN everywhere). As in PyTorch, a row with a NaN, or of -inf only, gives NaN.

static inline float nan_max(float a, float b) { return (isnan(a) || isnan(b)) ? NAN : fmax(a, b); }

__kernel void softmax_items(int rows, int columns, int stride, Shape so, View vo,
                            __global const float* x, __global float* y, int logMode) {
    int r = get_global_id(0);
    if (r >= rows) return;
    __global const float* in = x + view_offset(so, vo, r);
    __global float* out = y + (long)r * columns;
    float peak = -INFINITY;
    int j = 0;
    if (stride == 1) {
        float16 lanes = (float16)(-INFINITY);
        int16 nanLanes = (int16)0;
        for (; j + 16 <= columns; j += 16) {
            float16 v = vload16(0, in + j);
            nanLanes |= isnan(v);
            lanes = fmax(lanes, v);
        }
        for (int lane = 0; lane < 16; ++lane) peak = fmax(peak, ((float*)&lanes)[lane]);
        if (any(nanLanes)) peak = NAN;
    }
    for (; j < columns; ++j) peak = nan_max(peak, in[j * stride]);
    float shift = (logMode && isinf(peak)) ? 0.0f : peak;
    float sum = 0.0f;
    j = 0;
    if (stride == 1) {
        float16 sums = (float16)0.0f;
        for (; j + 16 <= columns; j += 16) {
            float16 e = exp(vload16(0, in + j) - shift);
            if (!logMode) vstore16(e, 0, out + j);
            sums += e;
        }
        float8 eight = sums.lo + sums.hi;
        float4 four = eight.lo + eight.hi;
        sum = (four.x + four.y) + (four.z + four.w);
    }
    for (; j < columns; ++j) {
        float e = exp(in[j * stride] - shift);
        if (!logMode) out[j] = e;
        sum += e;
    }
    if (logMode) {
        float offset = shift + log(sum);
        for (j = 0; j < columns; ++j) out[j] = in[j * stride] - offset;
    } else {
        float scale = 1.0f / sum;
        for (j = 0; j < columns; ++j) out[j] *= scale;
    }
}

__kernel void softmax_groups(int rows, int columns, int stride, Shape so, View vo,
                             __global const float* x, __global float* y, int logMode, __local float* scratch) {
    int r = get_group_id(0);
    int lid = get_local_id(0), size = get_local_size(0);
    __global const float* in = x + view_offset(so, vo, r);
    __global float* out = y + (long)r * columns;
    float peak = -INFINITY;
    for (int j = lid; j < columns; j += size) peak = nan_max(peak, in[j * stride]);
    scratch[lid] = peak;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = size / 2; width > 0; width /= 2) {
        if (lid < width) scratch[lid] = nan_max(scratch[lid], scratch[lid + width]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    peak = scratch[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    float shift = (logMode && isinf(peak)) ? 0.0f : peak;
    float sum = 0.0f;
    for (int j = lid; j < columns; j += size) {
        float e = exp(in[j * stride] - shift);
        if (!logMode) out[j] = e;
        sum += e;
    }
    scratch[lid] = sum;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (int width = size / 2; width > 0; width /= 2) {
        if (lid < width) scratch[lid] += scratch[lid + width];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    sum = scratch[0];
    // Each work-item rescales the elements it wrote itself: no barrier on global memory needed.
    if (logMode) {
        float offset = shift + log(sum);
        for (int j = lid; j < columns; j += size) out[j] = in[j * stride] - offset;
    } else {
        float scale = 1.0f / sum;
        for (int j = lid; j < columns; j += size) out[j] *= scale;
    }
}
