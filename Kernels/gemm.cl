// Batched float32 matrix product C[b] = A[b] x B[b] with A [batch, M, K] and B [batch, K, N]
// through any strides (transposed views, stride-0 broadcast batch); C is contiguous [batch, M, N].
// Two variants of `gemm_f32`, picked by the host with build options (see CLGemmTile.swift):
// the default one for GPUs, and with -DGEMM_CPU one for CPU drivers such as pocl.
//
// GPU variant. Tiling, sized by the host from the device's limits and passed as build options:
//   TM x TN  output tile of one work-group (e.g. 64 x 64),
//   TK       depth of the A and B tiles staged in local memory per step (e.g. 16),
//   WM x WN  outputs per work-item, held in registers (e.g. 4 x 4), so the work-group is
//            (TN / WN) x (TM / WM) work-items (16 x 16).
// Each work-item computes the outputs (ty + i * LY, tx + j * LX): interleaved rather than a
// block, so neighbouring work-items read neighbouring local-memory words. Edge tiles load zeros
// outside the matrices and store only inside, so any M, N, K work.

#ifndef GEMM_CPU

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
              __global float* C, int cOffset, int accumulate) {
    // Two padding columns: a row of 66 floats starts 2 banks on, so the stores of an operand
    // whose K axis is contiguous hit 32 different banks (with 1, two work-items share each).
    __local float tileA[TK][TM + 2];
    __local float tileB[TK][TN + 2];

    const int tx = get_local_id(0), ty = get_local_id(1);
    const int tid = ty * LX + tx;
    const int n0 = get_group_id(0) * TN, m0 = get_group_id(1) * TM;
    const int batch = get_global_id(2);
    A += aOffset + batch * aBatch;
    B += bOffset + batch * bBatch;
    C += cOffset + batch * M * N;

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
            // The epilogue: with `accumulate`, C already holds a bias (addmm) to add to.
            if (gn < N) C[gm * N + gn] = accumulate ? C[gm * N + gn] + acc[i][j] : acc[i][j];
        }
    }
}

#else // GEMM_CPU

// CPU variant. A CPU driver runs a work-group's work-items as a loop per stretch between
// barriers, so the GPU variant's local-memory staging costs barriers and spills its register
// tile to memory at each one, and nothing vectorises. Here one work-item is one task with no
// local memory and no barriers: it computes an RM x RN block of C (RN = 32 columns, two float16
// registers per row, RM rows: 2 * RM accumulator registers) with explicit vector types, which
// the driver's compiler maps straight onto SIMD registers (AVX-512 zmm on pocl/x86).
//
// B is first copied by `gemm_pack_b` into panels of RN columns, [batch][N / RN][K][RN], zero
// padded past N: the K loop then reads one contiguous stream through any B strides, without
// the cache-set conflicts of stepping a row-major B by its row stride (a multiple of 4 KiB for
// N = 1024), and without edge checks. A row-major A is read in place (each of the RM rows is a
// stream along K); rows past M are clamped to row M - 1 so edge blocks read valid memory, and
// their results are never stored. An A whose K axis is strided (transposed) would step by its
// row stride at every k, with the same cache-set conflicts, so the host first packs it with
// `gemm_pack_a` into blocks of RM rows, [batch][M / RM][K][RM], zero padded past M.
// `gemm_f32` reads either through one formula: element (m, k) of A is at
//   (m / RM) * aBlock + (m % RM) * aRow + k * aCol,
// where in place aBlock = RM * aRow, and packed aBlock = K * RM, aRow = 1, aCol = RM.

#ifndef RM
#define RM 8
#endif
#define RN 32

// Work-item (k, panel, batch) copies row k of one B panel.
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_pack_b(int N, int K, __global const float* B, int bOffset, int bBatch, int bRow, int bCol,
                 __global float* P) {
    const int k = get_global_id(0), panel = get_global_id(1), batch = get_global_id(2);
    const int n0 = panel * RN;
    B += bOffset + batch * bBatch + k * bRow;
    P += ((batch * (int)get_global_size(1) + panel) * K + k) * RN;
    if (bCol == 1 && n0 + RN <= N) {
        vstore16(vload16(0, B + n0), 0, P);
        vstore16(vload16(0, B + n0 + 16), 0, P + 16);
    } else {
        for (int j = 0; j < RN; ++j) P[j] = n0 + j < N ? B[(n0 + j) * bCol] : 0.0f;
    }
}

// Work-item (k, block, batch) copies column k of one block of RM rows of A.
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_pack_a(int M, int K, __global const float* A, int aOffset, int aBatch, int aRow, int aCol,
                 __global float* P) {
    const int k = get_global_id(0), block = get_global_id(1), batch = get_global_id(2);
    const int m0 = block * RM;
    A += aOffset + batch * aBatch + k * aCol;
    P += ((batch * (int)get_global_size(1) + block) * K + k) * RM;
    for (int i = 0; i < RM; ++i) P[i] = m0 + i < M ? A[(m0 + i) * aRow] : 0.0f;
}

// Work-item (row block, column panel, batch) computes C[m0 ..< m0 + RM, n0 ..< n0 + RN] from
// A (in place or packed, see above) and the packed B (`pBatch`: elements between batches of P,
// 0 when B is broadcast), over k in kBegin ..< kEnd, adding to C when `accumulate` is set. The
// host cuts a long K into blocks, one launch each: every panel re-reads the row blocks of A, and
// a whole 4096 x 4096 A (64 MB) would come from memory each time; a 1024-deep slice (16 MB)
// stays in L3.
__kernel __attribute__((reqd_work_group_size(1, 1, 1)))
void gemm_f32(int M, int N, int K, int kBegin, int kEnd, int accumulate,
              __global const float* A, int aOffset, int aBatch, int aBlock, int aRow, int aCol,
              __global const float* P, int pBatch, __global float* C) {
    const int m0 = get_global_id(0) * RM, panel = get_global_id(1), batch = get_global_id(2);
    const int n0 = panel * RN;
    A += aOffset + batch * aBatch + (int)get_global_id(0) * aBlock;
    P += batch * pBatch + (panel * K + kBegin) * RN;
    C += batch * M * N;

    const __global float* a[RM];
    float16 c0[RM], c1[RM];
    #pragma unroll
    for (int i = 0; i < RM; ++i) {
        a[i] = A + (min(m0 + i, M - 1) - m0) * aRow;
        c0[i] = 0.0f;
        c1[i] = 0.0f;
    }
    for (int k = kBegin; k < kEnd; ++k, P += RN) {
        const float16 b0 = vload16(0, P), b1 = vload16(1, P);
        const int ak = k * aCol;
        #pragma unroll
        for (int i = 0; i < RM; ++i) {
            const float16 ai = (float16)(a[i][ak]);
            c0[i] = mad(ai, b0, c0[i]);
            c1[i] = mad(ai, b1, c1[i]);
        }
    }

    #pragma unroll
    for (int i = 0; i < RM; ++i) {
        if (m0 + i >= M) break;
        __global float* c = C + (m0 + i) * N + n0;
        if (n0 + RN <= N) {
            vstore16(accumulate ? c0[i] + vload16(0, c) : c0[i], 0, c);
            vstore16(accumulate ? c1[i] + vload16(1, c) : c1[i], 1, c);
        } else {
            float row[RN];
            vstore16(c0[i], 0, row);
            vstore16(c1[i], 1, row);
            for (int j = 0; j < N - n0; ++j) c[j] = accumulate ? c[j] + row[j] : row[j];
        }
    }
}

#endif // GEMM_CPU
