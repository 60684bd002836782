/// The tiling of the GEMM kernel (`Kernels/gemm.cl`), chosen from the device's limits.
struct CLGemmTile: Sendable, Equatable {
    /// Output rows and columns of one work-group's tile.
    let rows: Int, columns: Int
    /// Depth of the tiles staged in local memory per step.
    let depth: Int
    /// Outputs per work-item along rows and columns (held in registers).
    let perItemRows: Int, perItemColumns: Int

    /// Work-group shape: (columns, rows) of work-items.
    var localSize: [Int] { [columns / perItemColumns, rows / perItemRows, 1] }
    var threads: Int { localSize[0] * localSize[1] }
    /// Local memory of the two staged tiles (one padding column each, as in the kernel).
    var localMemoryBytes: Int { depth * (rows + 1 + columns + 1) * 4 }

    var buildOptions: String {
        "-DTM=\(rows) -DTN=\(columns) -DTK=\(depth) -DWM=\(perItemRows) -DWN=\(perItemColumns)"
    }

    var summary: String {
        "\(rows)x\(columns)x\(depth) tile, \(localSize[0])x\(localSize[1]) work-items"
    }

    /// 64x64 tiles by 16x16 work-items of 4x4 outputs; then smaller ones for devices (or
    /// register-hungry builds) that allow fewer work-items per group.
    static let candidates = [
        CLGemmTile(rows: 64, columns: 64, depth: 16, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(rows: 32, columns: 32, depth: 16, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(rows: 16, columns: 16, depth: 8, perItemRows: 4, perItemColumns: 4),
        CLGemmTile(rows: 4, columns: 4, depth: 4, perItemRows: 4, perItemColumns: 4),
    ]

    /// The candidates a device with these limits can run, largest first.
    static func candidates(maxWorkGroupSize: Int, localMemoryBytes: Int) -> [CLGemmTile] {
        candidates.filter { $0.threads <= maxWorkGroupSize && $0.localMemoryBytes <= localMemoryBytes }
    }
}
