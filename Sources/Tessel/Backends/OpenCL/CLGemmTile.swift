/// The tiling of the GEMM kernel (`Kernels/gemm.cl`), chosen from the device's type and limits.
struct CLGemmTile: Sendable, Equatable {
    /// Which of the two kernels of `gemm.cl` this tiling builds.
    enum Variant: Sendable, Equatable {
        /// GPUs: work-groups stage A and B tiles in local memory between barriers.
        case localMemory
        /// CPU drivers (pocl): one work-item per register block of C, no local memory or
        /// barriers, B packed into column panels first (`gemm_pack_b`).
        case registerBlocked
    }

    let variant: Variant
    /// Output rows and columns of one work-group's tile.
    let rows: Int, columns: Int
    /// Depth of the tiles staged in local memory per step (0: nothing staged).
    let depth: Int
    /// Outputs per work-item along rows and columns (held in registers).
    let perItemRows: Int, perItemColumns: Int

    /// Work-group shape: (columns, rows) of work-items.
    var localSize: [Int] { [columns / perItemColumns, rows / perItemRows, 1] }
    var threads: Int { localSize[0] * localSize[1] }
    /// Local memory of the two staged tiles (two padding columns each, as in the kernel).
    var localMemoryBytes: Int { variant == .localMemory ? depth * (rows + 2 + columns + 2) * 4 : 0 }

    var buildOptions: String {
        switch variant {
        case .localMemory:
            "-DTM=\(rows) -DTN=\(columns) -DTK=\(depth) -DWM=\(perItemRows) -DWN=\(perItemColumns)"
        case .registerBlocked:
            "-DGEMM_CPU -DRM=\(perItemRows)"
        }
    }

    var summary: String {
        switch variant {
        case .localMemory: "\(rows)x\(columns)x\(depth) tile, \(localSize[0])x\(localSize[1]) work-items"
        case .registerBlocked: "\(rows)x\(columns) register block per work-item, packed B panels"
        }
    }

    /// 64x64 tiles by 8x8 work-items of 8x8 outputs (16 local-memory loads per 64 FMAs; 4x4
    /// outputs need 8 per 16, which caps a GPU near half its FMA rate), then 16x16 work-items of
    /// 4x4, then smaller ones for devices (or register-hungry builds) that allow fewer work-items.
    static let candidates = [
        CLGemmTile(variant: .localMemory, rows: 64, columns: 64, depth: 16, perItemRows: 8, perItemColumns: 8),
        CLGemmTile(variant: .localMemory, rows: 64, columns: 64, depth: 16, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(variant: .localMemory, rows: 32, columns: 32, depth: 16, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(variant: .localMemory, rows: 16, columns: 16, depth: 8, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(variant: .localMemory, rows: 4, columns: 4, depth: 4, perItemRows: 4, perItemColumns: 4),
    ]

    /// The CPU kernel's block: 8 rows by 32 columns (the kernel's fixed `RN`), 16 float16
    /// accumulators, which fit the 32 AVX-512 registers with room for the B row and the A
    /// broadcast. On pocl (2 cores, AVX-512) 8 rows measured as fast as 12 or 14 at 1024^3 and
    /// faster at 256^3, where taller blocks leave too few work-items; 4 and 6 were slower.
    static let registerBlocked = CLGemmTile(variant: .registerBlocked, rows: 8, columns: 32, depth: 0,
                                            perItemRows: 8, perItemColumns: 32)

    /// The candidates a device with these limits can run, best first: on CPU drivers
    /// (`accelerator` false) the register-blocked kernel, then the local-memory tilings; on
    /// GPUs the other way round (the register-blocked kernel needs neither local memory nor
    /// more than one work-item per group, so it is the last resort there).
    /// `TESSEL_OPENCL_GEMM=local` or `=blocked` forces one variant (to test either on any device).
    static func candidates(maxWorkGroupSize: Int, localMemoryBytes: Int, accelerator: Bool,
                           override: String? = nil) -> [CLGemmTile] {
        let tiled = candidates.filter { $0.threads <= maxWorkGroupSize && $0.localMemoryBytes <= localMemoryBytes }
        switch override {
        case "local": return tiled
        case "blocked": return [registerBlocked]
        default: return accelerator ? tiled + [registerBlocked] : [registerBlocked] + tiled
        }
    }
}
