// im2col and col2im for convolutions and pools, and the windows' maxima for max pooling (positions,
// values and the backward).
//
// unfold: one work-item per window (n, oh, ow) writes its row of C*KH*KW values of out
// [N, OH, OW, C*KH*KW], ordered (c, ky, kx) or, with channelsLast, (ky, kx, c), reading images
// x [N, C, H, W] through strides s0..s3 from offset ox (zero padding reads 0). fold: one work-item per image row (n, c, ih) sums, for each pixel of the row,
// the window entries of rows [N, OH, OW, C*KH*KW] that read it (a gather: no atomics), into out
// [N, C, H, W] through strides s0..s3. Loops
// rather than a division per element: CPU drivers run long work-items well, and GPUs have
// rows' worth of parallelism anyway.

__kernel void unfold_f(int windows, int c, int h, int w, int oh, int ow, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw,
                       __global const float* x, int ox, int s0, int s1, int s2, int s3,
                       __global float* out, int oout, int channelsLast) {
    int r = get_global_id(0);
    if (r >= windows) return;
    int outX = r % ow, rest = r / ow;
    int outY = rest % oh, image = rest / oh;
    int top = outY * sh - ph, left = outX * sw - pw;
    __global float* row = out + oout + r * (c * kh * kw);
    // Entry (channel, ky, kx) of the row: channel-major, or tap-major (channels adjacent).
    int channelStep = channelsLast ? 1 : kh * kw, tapStep = channelsLast ? c : 1;
    for (int channel = 0; channel < c; ++channel) {
        __global const float* plane = x + ox + image * s0 + channel * s1;
        for (int ky = 0; ky < kh; ++ky) {
            int inY = top + ky * dh;
            bool rowInside = inY >= 0 && inY < h;
            for (int kx = 0; kx < kw; ++kx) {
                int inX = left + kx * dw;
                row[channel * channelStep + (ky * kw + kx) * tapStep] =
                    rowInside && inX >= 0 && inX < w ? plane[inY * s2 + inX * s3] : 0.0f;
            }
        }
    }
}

__kernel void fold_f(int lines, int c, int h, int w, int oh, int ow, int kh, int kw,
                     int sh, int sw, int ph, int pw, int dh, int dw,
                     __global const float* rows, int orows, __global float* out, int oout,
                     int s0, int s1, int s2, int s3, int channelsLast) {
    int l = get_global_id(0);
    if (l >= lines) return;
    int inY = l % h, rest = l / h;
    int channel = rest % c, image = rest / c;
    int rowLength = c * kh * kw;
    int channelStep = channelsLast ? 1 : kh * kw, tapStep = channelsLast ? c : 1;
    __global float* line = out + oout + image * s0 + channel * s1 + inY * s2;
    for (int inX = 0; inX < w; ++inX) line[inX * s3] = 0.0f;
    for (int ky = 0; ky < kh; ++ky) {
        int ty = inY + ph - ky * dh;
        if (ty < 0 || ty % sh != 0) continue;
        int outY = ty / sh;
        if (outY >= oh) continue;
        for (int outX = 0; outX < ow; ++outX) {
            __global const float* window = rows + orows + ((image * oh + outY) * ow + outX) * rowLength + channel * channelStep;
            int left = outX * sw - pw;
            for (int kx = 0; kx < kw; ++kx) {
                int inX = left + kx * dw;
                if (inX >= 0 && inX < w) line[inX * s3] += window[(ky * kw + kx) * tapStep];
            }
        }
    }
}

// The first maximum of window (outY, outX) of one image plane (strides s2, s3): its position
// iy * w + ix, the value in *best. Positions in the padding are skipped, and a NaN wins.
inline int window_first_max(__global const float* plane, int s2, int s3, int h, int w, int outY, int outX,
                            int kh, int kw, int sh, int sw, int ph, int pw, int dh, int dw, float* best) {
    float current = -INFINITY;
    int position = -1;
    int top = outY * sh - ph, left = outX * sw - pw;
    // The window's rows and columns inside the image: bounds worked out once, no test per tap.
    int firstY = top < 0 ? (-top + dh - 1) / dh : 0, firstX = left < 0 ? (-left + dw - 1) / dw : 0;
    int endY = min(kh, (h - top + dh - 1) / dh), endX = min(kw, (w - left + dw - 1) / dw);
    for (int ky = firstY; ky < endY; ++ky) {
        int inY = top + ky * dh;
        __global const float* line = plane + inY * s2;
        for (int kx = firstX; kx < endX; ++kx) {
            int inX = left + kx * dw;
            float value = line[inX * s3];
            if (position < 0 || value > current || (isnan(value) && !isnan(current))) {
                current = value;
                position = inY * w + inX;
            }
        }
    }
    *best = current;
    return position;
}

// This work-item's element (n, c, y, x) of [N, C, Y, X], launched over three axes (no division
// but one): (c, x, y * n) when the tensor is channels-last (neighbouring work-items then read
// neighbouring channels of a pixel), (x, y, c * n) otherwise.
inline void window_element(int channelsLast, int c, int rows, int* image, int* channel, int* y, int* x) {
    int first = get_global_id(0), second = get_global_id(1), third = get_global_id(2);
    if (channelsLast) {
        *channel = first; *x = second; *y = third % rows; *image = third / rows;
    } else {
        *x = first; *y = second; *channel = third % c; *image = third / c;
    }
}

// One work-item per output (n, c, oy, ox) of out [N, C, OH, OW] (strides t0..t3), from images
// x [N, C, H, W] (strides s0..s3 from offset ox): the position of the window's first maximum
// (window_argmax_f) or its value (window_max_f).
__kernel void window_argmax_f(int channelsLast, int c, int h, int w, int oh, int ow, int kh, int kw,
                              int sh, int sw, int ph, int pw, int dh, int dw,
                              __global const float* x, int ox, int s0, int s1, int s2, int s3,
                              __global int* out, int oout, int t0, int t1, int t2, int t3) {
    int image, channel, outY, outX;
    window_element(channelsLast, c, oh, &image, &channel, &outY, &outX);
    float best;
    out[oout + image * t0 + channel * t1 + outY * t2 + outX * t3] =
        window_first_max(x + ox + image * s0 + channel * s1, s2, s3, h, w, outY, outX, kh, kw, sh, sw, ph, pw, dh, dw, &best);
}

__kernel void window_max_f(int channelsLast, int c, int h, int w, int oh, int ow, int kh, int kw,
                           int sh, int sw, int ph, int pw, int dh, int dw,
                           __global const float* x, int ox, int s0, int s1, int s2, int s3,
                           __global float* out, int oout, int t0, int t1, int t2, int t3) {
    int image, channel, outY, outX;
    window_element(channelsLast, c, oh, &image, &channel, &outY, &outX);
    float best;
    window_first_max(x + ox + image * s0 + channel * s1, s2, s3, h, w, outY, outX, kh, kw, sh, sw, ph, pw, dh, dw, &best);
    out[oout + image * t0 + channel * t1 + outY * t2 + outX * t3] = best;
}

// Max pooling's backward, one work-item per input element (n, c, iy, ix) of out [N, C, H, W]
// (strides t0..t3): the sum of the gradients g [N, C, OH, OW] (strides r0..r3 from offset og)
// of the windows whose first maximum is this element. Each window holding it is found from
// the geometry and its maximum found again: no atomics, and the sum is in window order.
__kernel void window_max_gradient_f(int channelsLast, int c, int h, int w, int oh, int ow, int kh, int kw,
                                    int sh, int sw, int ph, int pw, int dh, int dw,
                                    __global const float* x, int ox, int s0, int s1, int s2, int s3,
                                    __global const float* g, int og, int r0, int r1, int r2, int r3,
                                    __global float* out, int oout, int t0, int t1, int t2, int t3) {
    int image, channel, inY, inX;
    window_element(channelsLast, c, h, &image, &channel, &inY, &inX);
    __global const float* plane = x + ox + image * s0 + channel * s1;
    __global const float* gradient = g + og + image * r0 + channel * r1;
    int position = inY * w + inX;
    float sum = 0.0f;
    for (int ky = 0; ky < kh; ++ky) {
        int top = inY + ph - ky * dh;
        if (top < 0 || top % sh != 0 || top / sh >= oh) continue;
        for (int kx = 0; kx < kw; ++kx) {
            int left = inX + pw - kx * dw;
            if (left < 0 || left % sw != 0 || left / sw >= ow) continue;
            float best;
            if (window_first_max(plane, s2, s3, h, w, top / sh, left / sw, kh, kw, sh, sw, ph, pw, dh, dw, &best) == position) {
                sum += gradient[(top / sh) * r2 + (left / sw) * r3];
            }
        }
    }
    out[oout + image * t0 + channel * t1 + inY * t2 + inX * t3] = sum;
}
