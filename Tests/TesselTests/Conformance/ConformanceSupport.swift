import Foundation
import XCTest
@testable import Tessel

// Shared machinery of the backend conformance suite: every test runs unchanged on every device in
// `Device.all` (as Burn's backend tests do) and compares against a plain reference written here,
// `RefArray`, a row-major `[Double]` with a shape. Nothing here uses Tessel to compute expected
// values; the reference only ever reads tensors back.

// MARK: - Tolerances

/// Float32 element-wise arithmetic (+ - * /, maximum, comparisons' operands) is exact up to one
/// rounding: half an ulp is 6e-8 relative, so 1e-6 leaves room without hiding a wrong result.
let elementwiseTolerance = Tolerance(relative: 1e-6, absolute: 1e-7)
/// Transcendental functions (exp, log, sin, cos, tanh, sigmoid, pow): OpenCL's full profile
/// allows 3-16 ulp (pow is 16 ulp = 1e-6 relative); 1e-5 relative plus 1e-6 absolute near zero.
let transcendentalTolerance = Tolerance(relative: 1e-5, absolute: 1e-6)
/// Reductions of n float32 terms: the error grows with n (tree/blocked sums grow with log n, a
/// naive loop with n). Checked against `reductionRelativeBound * sum(|x|)`, 1e-5 of the sum of
/// magnitudes (so cancellation does not make the bound meaningless).
let reductionRelativeBound = 1e-5
/// GEMM: a float32 dot product of length k has a typical error of sqrt(k) * eps * sum|a_ip b_pj|;
/// the bound allows sqrt(k) * 1e-6 (about 8 eps) of that magnitude, plus 1e-6 absolute for
/// outputs that cancel to ~0.
let gemmRelativePerSqrtK = 1e-6
/// softmax / logSoftmax / logSumExp: exp, a sum and a log or a division, each a few ulp.
let softmaxTolerance = Tolerance(relative: 1e-5, absolute: 1e-6)
/// logSoftmax = x - logSumExp(x) rounds twice at the magnitude of x: near |x| = 1000 a float32 ulp
/// is 6.1e-5, so an absolute 2.5e-4 (4 ulp there) on top of the softmax bound.
let logSoftmaxTolerance = Tolerance(relative: 1e-5, absolute: 2.5e-4)
/// Cross-backend agreement for random inputs: the same as the worst per-op tolerance above.
let crossBackendTolerance = Tolerance(relative: 2e-5, absolute: 2e-6)
/// Cross-backend agreement of sums, means, matmul and the softmax family on the [37, 29] inputs:
/// their terms reach ~1e3 in magnitude, so two summation orders may differ by ~1e-4 absolute
/// where the result cancels towards 0.
let crossBackendAccumulationTolerance = Tolerance(relative: 2e-5, absolute: 1e-3)

/// `|got - expected| <= absolute + relative * |expected|`; NaN matches NaN, infinities match exactly.
struct Tolerance: Sendable {
    var relative: Double
    var absolute: Double

    func accepts(_ got: Double, _ expected: Double) -> Bool {
        if expected.isNaN { return got.isNaN }
        if expected.isInfinite || got.isInfinite { return got == expected }
        return Swift.abs(got - expected) <= absolute + relative * Swift.abs(expected)
    }
}

// MARK: - Devices

/// Every device of this machine, CPU first; the suite's loop variable.
func conformanceDevices() -> [Device] {
    let devices = Device.all
    precondition(devices.first == .cpu, "Device.all must list the CPU first, got \(devices)")
    return devices
}

/// Runs `body` once per device of `Device.all`, with the device also the default for tensors
/// created without one. (swift-corelibs-xctest has no `XCTContext` activities, so instead every
/// failure message of the `assert*` helpers below starts with the tensor's device, `[opencl:0]`,
/// and the hand-written assertions name `device` themselves.)
func forEachDevice(_ body: (Device) -> Void) {
    for device in conformanceDevices() {
        Device.withDefault(device) { body(device) }
    }
}

// MARK: - Deterministic inputs

/// SplitMix64: reproducible inputs independent of Tessel's own generator.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed &* 0x9E37_79B9_7F4A_7C15 &+ 0x1234_5678 }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

func randomFloats(_ count: Int, in range: ClosedRange<Float> = -1...1, seed: UInt64) -> [Float] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Float.random(in: range, using: &generator) }
}

func randomInts(_ count: Int, in range: ClosedRange<Int32>, seed: UInt64) -> [Int32] {
    var generator = SeededGenerator(seed: seed)
    return (0..<count).map { _ in Int32.random(in: range, using: &generator) }
}

/// Small whole numbers as floats, so comparisons, maxima and argmax see plenty of ties.
func tieFloats(_ count: Int, levels: Int32 = 4, seed: UInt64) -> [Float] {
    randomInts(count, in: 0...(levels - 1), seed: seed).map { Float($0) }
}

// MARK: - Reference array

/// A plain row-major array of Doubles with a shape: the reference every op is checked against.
struct RefArray: Equatable, CustomStringConvertible {
    var shape: [Int]
    var data: [Double]

    init(shape: [Int], data: [Double]) {
        precondition(shape.reduce(1, *) == data.count, "RefArray: \(data.count) values for shape \(shape)")
        self.shape = shape
        self.data = data
    }

    init(shape: [Int], floats: [Float]) { self.init(shape: shape, data: floats.map(Double.init)) }
    init(shape: [Int], ints: [Int32]) { self.init(shape: shape, data: ints.map(Double.init)) }

    /// A tensor's values read back (float32 exactly, int32 and bool converted).
    init(_ tensor: Tensor) {
        switch tensor.dtype {
        case .float32: self.init(shape: tensor.shape, floats: tensor.scalars(as: Float.self))
        case .int32: self.init(shape: tensor.shape, ints: tensor.scalars(as: Int32.self))
        case .bool: self.init(shape: tensor.shape, data: tensor.scalars(as: Bool.self).map { $0 ? 1 : 0 })
        }
    }

    var count: Int { data.count }
    var rank: Int { shape.count }
    var description: String { "RefArray(shape: \(shape), data: \(data.prefix(12))\(count > 12 ? "..." : ""))" }

    static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var running = 1
        for axis in shape.indices.reversed() {
            strides[axis] = running
            running *= shape[axis]
        }
        return strides
    }

    /// Coordinates of the `flat`-th element in row-major order.
    static func coordinates(_ flat: Int, _ shape: [Int]) -> [Int] {
        var rest = flat
        var coords = [Int](repeating: 0, count: shape.count)
        for axis in shape.indices.reversed() where shape[axis] > 0 {
            coords[axis] = rest % shape[axis]
            rest /= shape[axis]
        }
        return coords
    }

    func flatIndex(_ coords: [Int]) -> Int {
        Swift.zip(coords, RefArray.strides(shape)).reduce(0) { $0 + $1.0 * $1.1 }
    }

    subscript(_ coords: [Int]) -> Double { data[flatIndex(coords)] }

    /// A new array of `shape` whose element at each coordinate is `value(coords)`.
    static func generate(_ shape: [Int], _ value: ([Int]) -> Double) -> RefArray {
        let count = shape.reduce(1, *)
        return RefArray(shape: shape, data: (0..<count).map { value(coordinates($0, shape)) })
    }

    func map(_ f: (Double) -> Double) -> RefArray { RefArray(shape: shape, data: data.map(f)) }

    // MARK: Views

    func reshaped(_ newShape: [Int]) -> RefArray { RefArray(shape: newShape, data: data) }

    func permuted(_ order: [Int]) -> RefArray {
        let newShape = order.map { shape[$0] }
        return RefArray.generate(newShape) { coords in
            var source = [Int](repeating: 0, count: rank)
            for (i, axis) in order.enumerated() { source[axis] = coords[i] }
            return self[source]
        }
    }

    /// Elements `start, start + step, ...` (`count` of them) along `axis`.
    func sliced(axis: Int, start: Int, step: Int, count: Int) -> RefArray {
        var newShape = shape
        newShape[axis] = count
        return RefArray.generate(newShape) { coords in
            var source = coords
            source[axis] = start + coords[axis] * step
            return self[source]
        }
    }

    /// NumPy's broadcast shape, or nil when the shapes are incompatible (written independently of
    /// `Layout.broadcastShape`).
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = Swift.max(a.count, b.count)
        let pa = [Int](repeating: 1, count: rank - a.count) + a
        let pb = [Int](repeating: 1, count: rank - b.count) + b
        var result: [Int] = []
        for (x, y) in Swift.zip(pa, pb) {
            if x == y || y == 1 { result.append(x) } else if x == 1 { result.append(y) } else { return nil }
        }
        return result
    }

    func broadcast(to target: [Int]) -> RefArray {
        let lead = target.count - rank
        precondition(lead >= 0, "broadcast \(shape) to \(target)")
        return RefArray.generate(target) { coords in
            self[(0..<rank).map { shape[$0] == 1 ? 0 : coords[lead + $0] }]
        }
    }

    static func zip(_ a: RefArray, _ b: RefArray, _ f: (Double, Double) -> Double) -> RefArray {
        guard let shape = broadcastShape(a.shape, b.shape) else { preconditionFailure("zip \(a.shape) \(b.shape)") }
        let x = a.broadcast(to: shape), y = b.broadcast(to: shape)
        return RefArray(shape: shape, data: Swift.zip(x.data, y.data).map { f($0.0, $0.1) })
    }

    // MARK: Reductions

    enum Reduction { case sum, mean, max, min, argmax, argmin, sumOfMagnitudes }

    /// Reduces `axes` (negative allowed; all when nil). Arg reductions take a single axis, or all
    /// axes meaning the flat row-major index. max/min propagate NaN; arg ties keep the first index.
    func reduce(_ op: Reduction, axes: [Int]?, keepDims: Bool = false) -> RefArray {
        let reduced = Set((axes ?? Array(0..<rank)).map { $0 < 0 ? $0 + rank : $0 })
        let kept = (0..<rank).filter { !reduced.contains($0) }
        let innerAxes = (0..<rank).filter { reduced.contains($0) }
        let outShape = kept.map { shape[$0] }
        let innerShape = innerAxes.map { shape[$0] }
        let innerCount = innerShape.reduce(1, *)
        let result = RefArray.generate(outShape) { outCoords in
            var coords = [Int](repeating: 0, count: rank)
            for (i, axis) in kept.enumerated() { coords[axis] = outCoords[i] }
            var values: [Double] = []
            values.reserveCapacity(innerCount)
            for j in 0..<innerCount {
                let inner = RefArray.coordinates(j, innerShape)
                for (i, axis) in innerAxes.enumerated() { coords[axis] = inner[i] }
                values.append(self[coords])
            }
            return RefArray.combine(op, values)
        }
        guard keepDims else { return result }
        return result.reshaped(shape.indices.map { reduced.contains($0) ? 1 : shape[$0] })
    }

    static func combine(_ op: Reduction, _ values: [Double]) -> Double {
        switch op {
        case .sum: return values.reduce(0, +)
        case .sumOfMagnitudes: return values.reduce(0) { $0 + Swift.abs($1) }
        case .mean: return values.reduce(0, +) / Double(values.count)
        case .max: return values.contains { $0.isNaN } ? .nan : values.max()!
        case .min: return values.contains { $0.isNaN } ? .nan : values.min()!
        case .argmax:
            if let nan = values.firstIndex(where: { $0.isNaN }) { return Double(nan) }
            return Double(values.firstIndex(of: values.max()!)!)
        case .argmin:
            if let nan = values.firstIndex(where: { $0.isNaN }) { return Double(nan) }
            return Double(values.firstIndex(of: values.min()!)!)
        }
    }

    /// Stable `log(sum(exp(x)))` along `axis` in Double, keeping the axis.
    func logSumExp(axis: Int) -> RefArray {
        let a = axis < 0 ? axis + rank : axis
        let peak = reduce(.max, axes: [a], keepDims: true)
        let lse = RefArray.generate(peak.shape) { coords in
            let m = peak[coords]
            if m.isInfinite { return m == -.infinity ? -.infinity : .infinity }
            var total = 0.0
            var c = coords
            for i in 0..<shape[a] { c[a] = i; total += Foundation.exp(self[c] - m) }
            return m + Foundation.log(total)
        }
        return lse
    }

    func logSoftmax(axis: Int) -> RefArray { RefArray.zip(self, logSumExp(axis: axis), -) }
    func softmax(axis: Int) -> RefArray { logSoftmax(axis: axis).map { Foundation.exp($0) } }

    // MARK: Matrix product

    /// NumPy's `matmul` in Double: 1-D operands are promoted and the added axis removed again;
    /// batch axes broadcast.
    static func matmul(_ x: RefArray, _ y: RefArray) -> RefArray {
        let a = x.rank == 1 ? x.reshaped([1] + x.shape) : x
        let b = y.rank == 1 ? y.reshaped(y.shape + [1]) : y
        let m = a.shape[a.rank - 2], k = a.shape[a.rank - 1], n = b.shape[b.rank - 1]
        precondition(b.shape[b.rank - 2] == k)
        guard let batch = broadcastShape(Array(a.shape.dropLast(2)), Array(b.shape.dropLast(2))) else {
            preconditionFailure("matmul batch \(a.shape) \(b.shape)")
        }
        let left = a.broadcast(to: batch + [m, k]), right = b.broadcast(to: batch + [k, n])
        let batchCount = batch.reduce(1, *)
        var out = [Double](repeating: 0, count: batchCount * m * n)
        for p in 0..<batchCount {
            for i in 0..<m {
                for j in 0..<n {
                    var total = 0.0
                    for q in 0..<k { total += left.data[p * m * k + i * k + q] * right.data[p * k * n + q * n + j] }
                    out[p * m * n + i * n + j] = total
                }
            }
        }
        var shape = batch + [m, n]
        if y.rank == 1 { shape.removeLast() }
        if x.rank == 1 { shape.remove(at: shape.count - (y.rank == 1 ? 1 : 2)) }
        return RefArray(shape: shape, data: out)
    }
}

// MARK: - Tensors from references

/// A float32 tensor holding `ref`'s values (which must be float32-representable to be exact).
func floatTensor(_ ref: RefArray, device: Device) -> Tensor {
    do { return try Tensor(ref.data.map { Float($0) }, shape: ref.shape, device: device) } catch {
        preconditionFailure("\(error)")
    }
}

func intTensor(_ ref: RefArray, device: Device) -> Tensor {
    do { return try Tensor(ref.data.map { Int32($0) }, shape: ref.shape, device: device) } catch {
        preconditionFailure("\(error)")
    }
}

/// One operand of a conformance check: a tensor (possibly a strided view) and its reference.
struct Operand {
    let name: String
    let tensor: Tensor
    let ref: RefArray
}

enum OperandKind { case float, int }

/// The same logical array of `shape` in several memory layouts on `device`: contiguous,
/// transposed/permuted, sliced with negative bounds and a step of 2 (non-zero offset), and
/// broadcast from a size-1 leading axis (stride 0). Values come from `values(count, seed)`.
func layoutVariants(_ shape: [Int], device: Device, seed: UInt64, kind: OperandKind = .float,
                    values: (Int, UInt64) -> [Float]) -> [Operand] {
    func make(_ ref: RefArray) -> Tensor { kind == .float ? floatTensor(ref, device: device) : intTensor(ref, device: device) }
    func source(_ shape: [Int], _ salt: UInt64) -> RefArray {
        RefArray(shape: shape, floats: values(shape.reduce(1, *), seed &+ salt))
    }
    let base = source(shape, 0)
    var result = [Operand(name: "contiguous", tensor: make(base), ref: base)]
    let rank = shape.count
    guard rank > 0 else { return result }

    if rank >= 2 {
        let order = Array((0..<rank).reversed())
        let stored = source(order.map { shape[$0] }, 1)
        result.append(Operand(name: "permuted", tensor: make(stored).permute(order), ref: stored.permuted(order)))
    }

    // Leading axis: negative bounds -(n+1)..<-1 out of n + 3; trailing axis: step 2 from 1.
    var storedShape = shape
    storedShape[0] += 3
    storedShape[rank - 1] = storedShape[rank - 1] * 2 + 1
    if rank == 1 { storedShape[0] = shape[0] * 2 + 4 }
    let stored = source(storedShape, 2)
    var tensor: Tensor
    var ref: RefArray
    if rank == 1 {
        tensor = make(stored)[.stride(-(2 * shape[0] + 1) ..< -1, by: 2)]
        ref = stored.sliced(axis: 0, start: storedShape[0] - (2 * shape[0] + 1), step: 2, count: shape[0])
    } else {
        var indices: [TensorIndex] = [.range(start: -(shape[0] + 1), end: -1, step: 1)]
        indices += [TensorIndex](repeating: .range(start: nil, end: nil, step: 1), count: rank - 2)
        indices.append(.range(start: 1, end: nil, step: 2))
        tensor = make(stored).slice(indices)
        ref = stored.sliced(axis: 0, start: 2, step: 1, count: shape[0])
            .sliced(axis: rank - 1, start: 1, step: 2, count: shape[rank - 1])
    }
    result.append(Operand(name: "sliced(neg,step)", tensor: tensor, ref: ref))

    if shape[0] > 1 {
        var small = shape
        small[0] = 1
        let one = source(small, 3)
        result.append(Operand(name: "expanded", tensor: make(one).expand(shape), ref: one.broadcast(to: shape)))
    }
    for operand in result {
        precondition(operand.tensor.shape == shape && operand.ref.shape == shape,
                     "layoutVariants: \(operand.name) has shape \(operand.tensor.shape), wanted \(shape)")
        precondition(operand.name == "contiguous" || !operand.tensor.isContiguous || shape.last! == 1,
                     "layoutVariants: \(operand.name) should be a strided view")
    }
    return result
}

// MARK: - Assertions

/// Checks shape and every element of a float tensor against a reference; reports the first few
/// mismatches with the device, the op and the coordinates.
func assertClose(_ tensor: Tensor, _ expected: RefArray, _ tolerance: Tolerance, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    let label = "[\(tensor.device)] \(what())"
    guard tensor.shape == expected.shape else {
        XCTFail("\(label): shape \(tensor.shape), expected \(expected.shape)", file: file, line: line)
        return
    }
    let got = tensor.scalars(as: Float.self)
    assertValues(got.map(Double.init), expected, label: label, file: file, line: line) { tolerance.accepts($0, $1) }
}

/// Checks shape, dtype and every element exactly (int32 and bool tensors, or exact float results).
func assertExact(_ tensor: Tensor, _ expected: RefArray, dtype: DType? = nil, _ what: @autoclosure () -> String,
                 file: StaticString = #filePath, line: UInt = #line) {
    let label = "[\(tensor.device)] \(what())"
    if let dtype, tensor.dtype != dtype {
        XCTFail("\(label): dtype \(tensor.dtype), expected \(dtype)", file: file, line: line)
        return
    }
    guard tensor.shape == expected.shape else {
        XCTFail("\(label): shape \(tensor.shape), expected \(expected.shape)", file: file, line: line)
        return
    }
    assertValues(RefArray(tensor).data, expected, label: label, file: file, line: line) {
        $0 == $1 || ($0.isNaN && $1.isNaN)
    }
}

/// Checks a sum-like reduction: |got - expected| <= reductionRelativeBound * magnitude (+ tiny), or
/// both equal (infinities) or both NaN.
func assertReduced(_ tensor: Tensor, _ expected: RefArray, magnitude: RefArray, _ what: @autoclosure () -> String,
                   file: StaticString = #filePath, line: UInt = #line) {
    let label = "[\(tensor.device)] \(what())"
    guard tensor.shape == expected.shape else {
        XCTFail("\(label): shape \(tensor.shape), expected \(expected.shape)", file: file, line: line)
        return
    }
    let got = tensor.scalars(as: Float.self).map(Double.init)
    var failures = 0
    func accepts(_ got: Double, _ expected: Double, _ magnitude: Double) -> Bool {
        got == expected || (got.isNaN && expected.isNaN) || Swift.abs(got - expected) <= reductionRelativeBound * magnitude + 1e-6
    }
    for i in got.indices where !accepts(got[i], expected.data[i], magnitude.data[i]) {
        failures += 1
        if failures <= 3 {
            XCTFail("\(label): element \(RefArray.coordinates(i, expected.shape)) got \(got[i]), expected \(expected.data[i])",
                    file: file, line: line)
        }
    }
    if failures > 3 { XCTFail("\(label): \(failures) mismatches in all", file: file, line: line) }
}

private func assertValues(_ got: [Double], _ expected: RefArray, label: String, file: StaticString, line: UInt,
                          _ matches: (Double, Double) -> Bool) {
    guard got.count == expected.count else {
        XCTFail("\(label): \(got.count) elements, expected \(expected.count)", file: file, line: line)
        return
    }
    var failures = 0
    for i in got.indices where !matches(got[i], expected.data[i]) {
        failures += 1
        if failures <= 3 {
            XCTFail("\(label): element \(RefArray.coordinates(i, expected.shape)) got \(got[i]), expected \(expected.data[i])",
                    file: file, line: line)
        }
    }
    if failures > 3 { XCTFail("\(label): \(failures) of \(got.count) elements differ", file: file, line: line) }
}

// MARK: - Fixtures

/// Loads `Tests/Fixtures/<name>` (written by `Tests/Fixtures/make_fixtures.py`).
func loadFixture<T: Decodable>(_ name: String, as type: T.Type) throws -> T {
    let url = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent()   // Conformance
        .deletingLastPathComponent()   // TesselTests
        .deletingLastPathComponent()   // Tests
        .appendingPathComponent("Fixtures")
        .appendingPathComponent(name)
    return try JSONDecoder().decode(T.self, from: Data(contentsOf: url))
}

/// A fixture array: shape plus row-major values. Non-finite values are spelled as strings
/// ("nan", "inf", "-inf") because JSON has no literal for them.
struct FixtureArray: Decodable {
    let shape: [Int]
    let values: [Double]

    enum CodingKeys: String, CodingKey { case shape, values }
    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        shape = try container.decode([Int].self, forKey: .shape)
        var list = try container.nestedUnkeyedContainer(forKey: .values)
        var values: [Double] = []
        while !list.isAtEnd {
            if let number = try? list.decode(Double.self) {
                values.append(number)
            } else {
                switch try list.decode(String.self) {
                case "nan": values.append(.nan)
                case "inf": values.append(.infinity)
                case "-inf": values.append(-.infinity)
                case let other: throw DecodingError.dataCorruptedError(in: list, debugDescription: "bad value \(other)")
                }
            }
        }
        self.values = values
    }

    var ref: RefArray { RefArray(shape: shape, data: values) }
}
