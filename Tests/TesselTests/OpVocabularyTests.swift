import Synchronization
import XCTest
@testable import Tessel

/// Every public operation reaches the backends through the one entry point: a recording
/// observer sees it, and the tensor it returns is the output of a recorded op.
final class OpVocabularyTests: XCTestCase {
    final class Recorder: OpObserver {
        let records = Mutex<[OpRecord]>([])
        func record(_ record: OpRecord) { records.withLock { $0.append(record) } }
    }

    /// A public operation applied to prepared inputs.
    typealias Operation = (name: String, run: @Sendable (Inputs) -> Tensor)

    /// Tensors made before recording starts, so the records are the operation's own.
    struct Inputs: Sendable {
        let device: Device
        let m: Tensor        // [3, 4] float32
        let v: Tensor        // [4] float32
        let ints: Tensor     // [3, 4] int32
        let mask: Tensor     // [3, 4] bool
        let index: Tensor    // [3, 2] int32 into axis 1 of m
    }

    static let operations: [Operation] = [
        ("Tensor(_:)", { Tensor([1, 2, 3] as [Float], device: $0.device) }),
        ("Tensor(_:shape:)", { try! Tensor([1, 2, 3, 4] as [Int32], shape: [2, 2], device: $0.device) }),
        ("Tensor(scalar)", { Tensor(Float(2), device: $0.device) }),
        ("Tensor(nested)", { Tensor([[1, 2], [3, 4]] as [[Float]], device: $0.device) }),
        ("zeros", { Tensor.zeros([2, 3], device: $0.device) }),
        ("ones", { Tensor.ones([2, 3], device: $0.device) }),
        ("full", { Tensor.full([2], 5, dtype: .int32, device: $0.device) }),
        ("arange", { Tensor.arange(0, 10, step: 3, device: $0.device) }),
        ("arange float", { Tensor.arange(Float(0), 1, step: 0.25, device: $0.device) }),
        ("eye", { Tensor.eye(3, device: $0.device) }),
        ("rand", { Tensor.rand([4], device: $0.device) }),
        ("randn", { Tensor.randn([4], device: $0.device) }),
        ("randint", { Tensor.randint(0, 5, [4], device: $0.device) }),
        ("reshape", { $0.m.reshape([4, 3]) }),
        ("reshape copy", { $0.m.T.reshape([12]) }),
        ("flatten", { $0.m.flatten() }),
        ("squeeze", { $0.m.reshape([3, 1, 4]).squeeze() }),
        ("unsqueeze", { $0.m.unsqueeze(axis: 1) }),
        ("permute", { $0.m.permute(1, 0) }),
        ("transpose", { $0.m.transpose(0, 1) }),
        ("T", { $0.m.T }),
        ("expand", { $0.v.expand([3, 4]) }),
        ("subscript", { $0.m[1, 1..<3] }),
        ("slice", { $0.m.slice([.range(start: nil, end: nil, step: -1)]) }),
        ("flip", { $0.m.flip(1) }),
        ("asStrided", { $0.m.asStrided(shape: [2, 2], strides: [1, 1], offset: 1) }),
        ("clone", { $0.m.clone() }),
        ("contiguous", { $0.m.T.contiguous() }),
        ("to", { $0.m.to($0.device == .cpu ? (Device.all.last ?? .cpu) : .cpu) }),
        ("cast", { $0.m.cast(.int32) }),
        ("cat", { Tensor.cat([$0.m, $0.m], axis: 1) }),
        ("stack", { Tensor.stack([$0.v, $0.v]) }),
        ("+", { $0.m + $0.v }), ("-", { $0.m - $0.v }), ("*", { $0.m * $0.v }), ("/", { $0.m / $0.v }),
        ("+ scalar", { $0.m + 1 }), ("scalar -", { 1 - $0.m }), ("* scalar", { $0.m * Float(2) }), ("scalar /", { 2 / $0.m }),
        ("prefix -", { -$0.m }), ("neg", { $0.m.neg() }), ("abs", { $0.m.abs() }), ("exp", { $0.m.exp() }),
        ("log", { $0.m.log() }), ("sqrt", { $0.m.sqrt() }), ("sin", { $0.m.sin() }), ("cos", { $0.m.cos() }),
        ("tanh", { $0.m.tanh() }), ("sigmoid", { $0.m.sigmoid() }), ("relu", { $0.m.relu() }), ("square", { $0.m.square() }),
        ("floor", { $0.m.floor() }), ("logicalNot", { $0.mask.logicalNot() }),
        ("pow", { $0.m.pow($0.v) }), ("pow scalar", { $0.m.pow(2) }),
        ("floorDivide", { $0.ints.floorDivide(3) }),
        ("maximum", { $0.m.maximum($0.v) }), ("minimum", { $0.m.minimum(0) }), ("clamp", { $0.m.clamp(min: 0, max: 5) }),
        (".==", { $0.m .== $0.v }), (".!=", { $0.m .!= 1 }), (".<", { $0.m .< $0.v }), (".<=", { $0.m .<= 1 }),
        (".>", { $0.m .> $0.v }), (".>=", { $0.m .>= 1 }),
        ("where", { Tensor.where($0.mask, $0.m, $0.v) }),
        ("addingProduct", { $0.m.addingProduct($0.v, 2) }),
        ("addProduct", { var x = $0.m.clone(); x.addProduct($0.v, $0.m); return x }),
        ("multiply(by:adding:)", { var x = $0.m.clone(); x.multiply(by: 0.5, adding: $0.v); return x }),
        ("sum", { $0.m.sum() }), ("sum axis", { $0.m.sum(axis: 1, keepDims: true) }), ("mean", { $0.m.mean(axis: 0) }),
        ("max", { $0.m.max(axis: 1) }), ("min", { $0.m.min() }), ("argmax", { $0.m.argmax(axis: 1) }), ("argmin", { $0.m.argmin() }),
        ("logSumExp", { $0.m.logSumExp(axis: 1) }), ("softmax", { $0.m.softmax(axis: 0) }), ("logSoftmax", { $0.m.logSoftmax() }),
        ("matmul", { $0.m.matmul($0.v) }),
        ("addmm", { Tensor.addmm($0.v, $0.m.T, $0.m) }),
        ("gather", { $0.m.gather(axis: 1, index: $0.index) }),
        ("indexSelect", { $0.m.indexSelect(axis: 0, indices: Tensor([2, 0] as [Int32], device: $0.device)) }),
        ("scatterAdd", { $0.m.scatterAdd(axis: 1, index: $0.index, source: $0.m) }),
        ("indexAdd", { $0.m.indexAdd(axis: 0, indices: Tensor([2, 2, 0] as [Int32], device: $0.device), source: $0.m) }),
        ("oneHot", { $0.index.oneHot(classes: 4) }),
        ("cumsum", { $0.m.cumsum(axis: 1) }), ("cumprod", { $0.m.cumprod(axis: 0) }), ("prod", { $0.m.prod(axis: 1) }),
        ("variance", { $0.m.variance(axis: 0) }), ("std", { $0.m.std() }),
        ("warpAffine", { $0.m.reshape([1, 1, 3, 4]).warpAffine(Tensor([[1, 0, 0.5, 0, 1, 0, 1, 0]] as [[Float]], device: $0.device)) }),
        ("unfold", { $0.m.reshape([1, 1, 3, 4]).unfold(WindowGeometry(kernel: (2, 2))) }),
        ("fold", { $0.m.reshape([1, 2, 3, 2]).fold(WindowGeometry(kernel: (2, 1)), height: 3, width: 3) }),
        ("windowArgmax", { $0.m.reshape([1, 1, 3, 4]).windowArgmax(WindowGeometry(kernel: (2, 2))) }),
        ("windowMax", { $0.m.reshape([1, 1, 3, 4]).windowMax(WindowGeometry(kernel: (2, 2))) }),
        ("windowMaxGradient", { $0.m.reshape([1, 1, 3, 4]).windowMaxGradient($0.m[0..<2, 0..<3].reshape([1, 1, 2, 3]), WindowGeometry(kernel: (2, 2))) }),
        ("argsort", { $0.m.argsort(axis: 0) }), ("sort", { $0.m.sort().values }), ("topk", { $0.m.topk(2).indices }),
        ("pad", { $0.m.pad([(1, 1), (0, 2)]) }), ("pad reflect", { $0.m.pad([(1, 1), (2, 0)], mode: .reflect) }),
        ("split", { $0.m.split(size: 2, axis: 1)[1] }), ("chunk", { $0.m.chunk(3)[2] }), ("unbind", { $0.m.unbind(axis: 1)[3] }),
        ("maskedFill", { $0.m.maskedFill($0.mask, -1) }), ("isnan", { $0.m.isnan() }), ("isinf", { $0.m.isinf() }),
        ("isfinite", { $0.m.isfinite() }), ("any", { $0.mask.any(axes: [1]) }), ("all", { $0.mask.all() }),
        ("nonzero", { $0.mask.nonzero() }), ("mask subscript", { $0.m[$0.mask] }),
        ("linspace", { Tensor.linspace(0, 1, count: 5, device: $0.device) }),
        ("Tensor(bytes:)", { try! Tensor(bytes: [1, 2, 3], shape: [3], device: $0.device) }),
        ("Tensor(packingBytes:)", { try! Tensor(packingBytes: [1, 2, 3, 4, 5], shape: [5], device: $0.device) }),
        ("unpackingBytes", { $0.ints.unpackingBytes(count: 15) }),
        ("randperm", { Tensor.randperm(5, device: $0.device) }), ("uniform", { Tensor.uniform([3], low: -1, high: 1, device: $0.device) }),
        ("normal", { Tensor.normal([3], mean: 1, std: 2, device: $0.device) }), ("bernoulli", { ($0.m / 5).bernoulli() }),
        ("+=", { var x = $0.m.clone(); x += $0.v; return x }),
        ("-=", { var x = $0.m.clone(); x -= 1; return x }),
        ("*=", { var x = $0.m.clone(); x *= $0.v; return x }),
        ("/=", { var x = $0.m.clone(); x /= 2; return x }),
        ("subscript set", { var x = $0.m.clone(); x[0] = $0.v; return x }),
        ("copy(from:)", { var x = $0.m.clone(); x.copy(from: $0.v); return x }),
        ("zero", { var x = $0.m.clone(); x.zero(); return x }),
        ("fill", { var x = $0.m.clone(); x.fill(3); return x }),
    ]

    func testEveryPublicOperationGoesThroughTheEntryPoint() {
        forEachDevice { device in
            let m = Tensor((0..<12).map { Float($0) / 3 + 0.5 }, device: device).reshape([3, 4])
            let inputs = Inputs(device: device, m: m, v: Tensor([1, 2, 3, 4] as [Float], device: device),
                                ints: Tensor((0..<12).map { Int32($0) - 5 }, device: device).reshape([3, 4]),
                                mask: m .> 2, index: Tensor([[0, 3], [1, 1], [2, 0]] as [[Int32]], device: device))
            var seen = Set<String>()
            for operation in Self.operations {
                let recorder = Recorder()
                let result = Tensor.observingOps(recorder) { operation.run(inputs) }
                let records = recorder.records.withLock { $0 }
                XCTAssertFalse(records.isEmpty, "[\(device)] \(operation.name) recorded no op")
                XCTAssertTrue(records.contains { $0.output.storage === result.storage && $0.output.layout == result.layout },
                              "[\(device)] \(operation.name) returned a tensor that no recorded op produced")
                for record in records { seen.insert(Self.caseName(record.op)) }
            }
            // Every primitive is reached by some public operation.
            let primitives = ["full", "fromHost", "reshape", "permute", "expand", "slice", "asStrided", "contiguous", "cast",
                              "transfer", "cat", "assign", "unary", "binary", "select", "addingProduct", "reduce", "softmax", "matmul", "gather",
                              "scatterAdd", "fromBytes", "unpackBytes", "pad", "scan", "argsort", "addmm", "warpAffine", "unfold", "fold", "windowArgmax", "windowMax", "windowMaxGradient"]
            for primitive in primitives where !(primitive == "transfer" && Device.all.count == 1) {
                XCTAssertTrue(seen.contains(primitive), "[\(device)] no public operation reached Op.\(primitive)")
            }
        }
    }

    /// An observer makes every op take the general path; without one, common element-wise ops
    /// skip its bookkeeping. Both must give the same tensor: values, dtype, shape and strides.
    func testThePathWithoutBookkeepingGivesWhatTheGeneralPathGives() {
        struct Silent: OpObserver { func record(_ record: OpRecord) {} }
        let random: Set<String> = ["rand", "randn", "randint", "randperm", "uniform", "normal", "bernoulli"]
        // Cases the element-wise path decides on: aliasing in place, broadcasting both ways,
        // 0-d operands on either side, casts it must leave to the general path, empty tensors.
        let extra: [Operation] = [
            ("x += x", { var x = $0.m.clone(); x += x; return x }),
            ("x += view of x", { var x = $0.m.clone(); x += x.T.T; return x }),
            ("x -= x[0]", { var x = $0.m.clone(); let row = x[0]; x -= row; return x }),
            ("column + row", { $0.m[0..., 0..<1] + $0.v }),
            ("0-d + 0-d", { Tensor(Float(2), device: $0.device) + Tensor(Float(3), device: $0.device) }),
            ("0-d * matrix", { Tensor(Float(2), device: $0.device) * $0.m }),
            ("int / int", { $0.ints / $0.ints.abs().maximum(1) }),
            ("int + float", { $0.ints + $0.m }),
            ("int relu", { $0.ints.relu() }),
            ("empty + empty", { $0.m[0..<0] + $0.m[0..<0] }),
            ("transposed + matrix", { $0.m.T + $0.m.T.contiguous() }),
            ("in place into a view", { let x = $0.m.clone(); var row = x[1]; row += $0.v; return x + row.sum() }),
            ("in place int into float", { var x = $0.m.clone(); x += $0.ints; return x }),
            // Dense runs (one shape, or one element against many, at any offset), which skip
            // layouts altogether: each operand side, comparisons, ints, in place.
            ("0-d - matrix", { Tensor(Float(2), device: $0.device) - $0.m }),
            ("matrix .< [1, 1]", { $0.m .< Tensor([[0.25]] as [[Float]], device: $0.device) }),
            ("[1, 4] + [4]", { $0.m[1..<2] + $0.v }),
            ("row + row at offsets", { $0.m[1] * $0.m[2] }),
            ("int * an int element", { $0.ints * $0.ints[2, 1] }),
            ("x += 0-d", { var x = $0.m.clone(); x += Tensor(Float(0.5), device: $0.device); return x }),
            ("x += an element of x", { var x = $0.m.clone(); let first = x[0, 0]; x += first; return x }),
            ("row view -= 0-d", { let x = $0.m.clone(); var row = x[2]; row -= 1; return x }),
        ]
        forEachDevice { device in
            let m = Tensor((0..<12).map { Float($0) / 3 - 1.5 }, device: device).reshape([3, 4])
            let inputs = Inputs(device: device, m: m, v: Tensor([1, 2, 3, 4] as [Float], device: device),
                                ints: Tensor((0..<12).map { Int32($0) - 5 }, device: device).reshape([3, 4]),
                                mask: m .> 0, index: Tensor([[0, 3], [1, 1], [2, 0]] as [[Int32]], device: device))
            for operation in Self.operations + extra where !random.contains(operation.name) {
                let direct = operation.run(inputs)
                let general = Tensor.observingOps(Silent()) { operation.run(inputs) }
                let label = "[\(device)] \(operation.name)"
                XCTAssertEqual(direct.dtype, general.dtype, label)
                XCTAssertEqual(direct.shape, general.shape, label)
                XCTAssertEqual(direct.strides, general.strides, label)
                XCTAssertEqual(Dispatch.download(direct), Dispatch.download(general), "\(label): the bits differ")
            }
        }
    }

    func testRecordsCarryInputsAndInPlaceFlag() {
        forEachDevice { device in
            let a = Tensor([1, 2] as [Float], device: device), b = Tensor([3, 4] as [Float], device: device)
            let recorder = Recorder()
            var sum = Tensor.zeros([2], device: device)
            Tensor.observingOps(recorder) {
                sum = a + b
                sum += a
            }
            let records = recorder.records.withLock { $0 }
            XCTAssertEqual(records.map(\.op), [.binary(.add), .binary(.add)], "[\(device)]")
            XCTAssertTrue(records[0].inputs[0].storage === a.storage && records[0].inputs[1].storage === b.storage)
            XCTAssertEqual(records.map(\.inPlace), [false, true], "[\(device)]")
            XCTAssertTrue(records[1].output.storage === sum.storage, "[\(device)] the in-place record's output is the destination")
            XCTAssertEqual(sum.toArray(), [5, 8])
        }
    }

    func testObserversAreScopedToTheirTask() async {
        let recorder = Recorder(), other = Recorder()
        await withTaskGroup(of: Void.self) { group in
            group.addTask {
                Tensor.observingOps(recorder) { _ = Tensor.ones([2], device: .cpu) + Tensor.ones([2], device: .cpu) }
            }
            group.addTask {
                Tensor.observingOps(other) { _ = Tensor.zeros([3], device: .cpu).exp() }
            }
        }
        _ = Tensor.ones([2], device: .cpu) * 3 // outside any observer: recorded nowhere
        XCTAssertEqual(recorder.records.withLock { $0.map(\.op.name) }, ["full", "full", "add"])
        XCTAssertEqual(other.records.withLock { $0.map(\.op.name) }, ["full", "exp"])
    }

    /// The case of `op` without its arguments.
    static func caseName(_ op: Op) -> String {
        switch op {
        case .unary: return "unary"
        case .binary: return "binary"
        case .reduce: return "reduce"
        case .softmax: return "softmax"
        case .select: return "select"
        case .scan: return "scan"
        default: return op.name
        }
    }
}
