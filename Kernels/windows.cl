// im2col and col2im for convolutions and pools, one work-item per element written.
//
// unfold: out [N, OH, OW, C*KH*KW] from images x [N, C, H, W] read through strides s0..s3 from
// offset ox (zero padding reads 0). fold: out [N, C, H, W] (contiguous), each pixel the sum of
// the window entries of the rows [N, OH, OW, C*KH*KW] that read it, gathered (no atomics).

__kernel void unfold_f(int total, int c, int h, int w, int oh, int ow, int kh, int kw,
                       int sh, int sw, int ph, int pw, int dh, int dw,
                       __global const float* x, int ox, int s0, int s1, int s2, int s3,
                       __global float* out, int oout) {
    int i = get_global_id(0);
    if (i >= total) return;
    int rowLength = c * kh * kw;
    int row = i / rowLength, entry = i - row * rowLength;
    int outX = row % ow, rest = row / ow;
    int outY = rest % oh, image = rest / oh;
    int kx = entry % kw, rest2 = entry / kw;
    int ky = rest2 % kh, channel = rest2 / kh;
    int inY = outY * sh - ph + ky * dh, inX = outX * sw - pw + kx * dw;
    float value = 0.0f;
    if (inY >= 0 && inY < h && inX >= 0 && inX < w) value = x[ox + image * s0 + channel * s1 + inY * s2 + inX * s3];
    out[oout + i] = value;
}

__kernel void fold_f(int total, int c, int h, int w, int oh, int ow, int kh, int kw,
                     int sh, int sw, int ph, int pw, int dh, int dw,
                     __global const float* rows, int orows, __global float* out, int oout) {
    int i = get_global_id(0);
    if (i >= total) return;
    int inX = i % w, rest = i / w;
    int inY = rest % h, rest2 = rest / h;
    int channel = rest2 % c, image = rest2 / c;
    int rowLength = c * kh * kw;
    float sum = 0.0f;
    for (int ky = 0; ky < kh; ++ky) {
        int ty = inY + ph - ky * dh;
        if (ty < 0 || ty % sh != 0) continue;
        int outY = ty / sh;
        if (outY >= oh) continue;
        for (int kx = 0; kx < kw; ++kx) {
            int tx = inX + pw - kx * dw;
            if (tx < 0 || tx % sw != 0) continue;
            int outX = tx / sw;
            if (outX >= ow) continue;
            sum += rows[orows + ((image * oh + outY) * ow + outX) * rowLength + (channel * kh + ky) * kw + kx];
        }
    }
    out[oout + i] = sum;
}
