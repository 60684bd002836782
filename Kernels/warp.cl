// Batch augmentation: each image of a [N, C, H, W] batch resampled through its own affine map
// (one work-item per output pixel), bilinearly with the coordinates clamped to the image, then
// scaled and shifted: out = sample(p0 x + p1 y + p2, p3 x + p4 y + p5) * p6 + p7, with p the
// image's 8 parameters. The same arithmetic as the CPU backend's CPUWarp.swift.

__kernel void warp_affine_f(int total, int channels, int height, int width,
                            __global const float* in, int oin, __global const float* params, int oparams,
                            __global float* out, int oout) {
    int i = get_global_id(0);
    if (i >= total) return;
    int plane = height * width;
    int image = i / plane, pixel = i - image * plane;
    int ox = pixel % width, oy = pixel / width;
    __global const float* p = params + oparams + (image / channels) * 8;
    __global const float* src = in + oin + image * plane;
    float maxX = (float)(width - 1), maxY = (float)(height - 1);
    float x = p[0] * (float)ox + p[1] * (float)oy + p[2];
    float y = p[3] * (float)ox + p[4] * (float)oy + p[5];
    x = x > 0.0f ? x : 0.0f;
    y = y > 0.0f ? y : 0.0f;
    x = x < maxX ? x : maxX;
    y = y < maxY ? y : maxY;
    float x0 = floor(x), y0 = floor(y);
    float fx = x - x0, fy = y - y0;
    int ix0 = (int)x0, iy0 = (int)y0;
    int ix1 = min(ix0 + 1, width - 1), iy1 = min(iy0 + 1, height - 1);
    float top = (1.0f - fx) * src[iy0 * width + ix0] + fx * src[iy0 * width + ix1];
    float bottom = (1.0f - fx) * src[iy1 * width + ix0] + fx * src[iy1 * width + ix1];
    out[oout + i] = ((1.0f - fy) * top + fy * bottom) * p[6] + p[7];
}
