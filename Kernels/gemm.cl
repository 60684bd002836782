// Batched float32 matrix product C[b] = A[b] x B[b] with A [batch, M, K] and B [batch, K, N]
// through any strides (transposed views, stride-0 broadcast batch); C is contiguous [batch, M, N].
//
// Tiling, sized by the host from the device's limits and passed as build options:
//   TM x TN  output tile of one work-group (e.g. 64 x 64),
//   TK       depth of the A and B tiles staged in local memory per step (e.g. 16),
//   WM x WN  outputs per work-item, held in registers (e.g. 4 x 4), so the work-group is
//            (TN / WN) x (TM / WM) work-items (16 x 16).
// Each work-item computes the outputs (ty + i * LY, tx + j * LX): interleaved rather than a
// block, so neighbouring work-items read neighbouring local-memory words. Edge tiles load zeros
// outside the matrices and store only inside, so any M, N, K work.

#ifndef TM
#define TM 64
#endif
#ifndef TN
#define TN 64
#endif
#ifndef TK
#define TK 16
#endif
#ifndef WM
#define WM 4
#endif
#ifndef WN
#define WN 4
#endif

#define LX (TN / WN)
#define LY (TM / WM)
#define THREADS (LX * LY)

__kernel __attribute__((reqd_work_group_size(LX, LY, 1)))
void gemm_f32(int M, int N, int K,
              __global const float* A, int aOffset, int aBatch, int aRow, int aCol,
              __global const float* B, int bOffset, int bBatch, int bRow, int bCol,
              __global float* C) {
    // One padding column keeps the column-wise stores of a tile off a single local-memory bank.
    __local float tileA[TK][TM + 1];
    __local float tileB[TK][TN + 1];

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * LX + tx;
    const int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM;
    const int batch = get_global_id(2);
    A += aOffset + batch * aBatch;
    B += bOffset + batch * bBatch;
    C += batch * M * N;

    float acc[WM][WN];
    for (int i = 0; i < WM; ++i)
        for (int j = 0; j < WN; ++j) acc[i][j] = 0.0f;

    for (int k0 = 0; k0 < K; k0 += TK) {
        // Stage the tiles. Consecutive work-items take consecutive addresses of whichever axis has
        // unit stride, so global reads coalesce for both row-major and transposed operands.
        for (int e = tid; e < TM * TK; e += THREADS) {
            int m, k;
            if (aCol == 1) { m = e / TK; k = e % TK; } else { k = e / TM; m = e % TM; }
            int gm = m0 + m, gk = k0 + k;
            tileA[k][m] = (gm < M && gk < K) ? A[gm * aRow + gk * aCol] : 0.0f;
        }
        for (int e = tid; e < TN * TK; e += THREADS) {
            int n, k;
            if (bCol == 1) { k = e / TN; n = e % TN; } else { n = e / TK; k = e % TK; }
            int gn = n0 + n, gk = k0 + k;
            tileB[k][n] = (gn < N && gk < K) ? B[gk * bRow + gn * bCol] : 0.0f;
        }
        barrier(CLK_LOCAL_MEM_FENCE);

        for (int k = 0; k < TK; ++k) {
            float a[WM], b[WN];
            for (int i = 0; i < WM; ++i) a[i] = tileA[k][ty + i * LY];
            for (int j = 0; j < WN; ++j) b[j] = tileB[k][tx + j * LX];
            for (int i = 0; i < WM; ++i)
                for (int j = 0; j < WN; ++j) acc[i][j] = mad(a[i], b[j], acc[i][j]);
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }

    for (int i = 0; i < WM; ++i) {
        int gm = m0 + ty + i * LY;
        if (gm >= M) continue;
        for (int j = 0; j < WN; ++j) {
            int gn = n0 + tx + j * LX;
            if (gn < N) C[gm * N + gn] = acc[i][j];
        }
    }
}
