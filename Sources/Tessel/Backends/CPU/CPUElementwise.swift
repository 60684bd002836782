import Foundation

// Element-wise kernels of the CPU backend. Each op is one call of a generic loop with two
// closures, a SIMD one for unit-stride and broadcast (stride-0) runs and a scalar one for
// everything else; `@inline(__always)` makes the compiler specialise the loop per op.

/// Elements below which an element-wise kernel stays on one thread. With the spinning worker
/// pool two cores already win at 65536 (an add: 0.023 ms against 0.035 on one core); with
/// Dispatch's parked threads they lost up to 262144.
let elementwiseGrain = 1 << 15

@inline(__always)
func loadVector<T: SIMDScalar>(_ pointer: UnsafePointer<T>) -> Vector<T> {
    UnsafeRawPointer(pointer).loadUnaligned(as: Vector<T>.self)
}

@inline(__always)
func storeVector<T: SIMDScalar>(_ value: Vector<T>, _ pointer: UnsafeMutablePointer<T>) {
    UnsafeMutableRawPointer(pointer).storeBytes(of: value, as: Vector<T>.self)
}

/// Applies a lane-wise scalar function to a vector (for libm functions with no SIMD form).
@inline(__always)
func lanewise<T: SIMDScalar, R: SIMDScalar>(_ v: Vector<T>, _ f: (T) -> R) -> Vector<R> {
    var result = Vector<R>()
    for lane in v.indices { result[lane] = f(v[lane]) }
    return result
}

@inline(__always)
func mapUnary<T: SIMDScalar, R: SIMDScalar>(
    _ x: StridedView, into output: UnsafeMutablePointer<R>,
    vector: (Vector<T>) -> Vector<R>, scalar: (T) -> R
) {
    let runs = StridedRuns([x.layout, Layout(contiguous: x.shape)])
    let input = UnsafePointer(x.cpuBase(T.self))
    let stride = runs.innerStride(0)
    let out = UncheckedSendable(output)
    parallelFor(x.count, grain: elementwiseGrain) { range in
        runs.forEachRun(in: range) { offsets, length in
            let source = input + offsets[0], target = out.value + offsets[1]
            var i = 0
            if stride == 1 {
                while i + Vector<T>.scalarCount <= length {
                    storeVector(vector(loadVector(source + i)), target + i)
                    i += Vector<T>.scalarCount
                }
            }
            while i < length {
                target[i] = scalar(source[i * stride])
                i += 1
            }
        }
    }
}

@inline(__always)
func mapBinary<T: SIMDScalar, R: SIMDScalar>(
    _ a: StridedView, _ b: StridedView, into output: UnsafeMutablePointer<R>,
    vector: (Vector<T>, Vector<T>) -> Vector<R>, scalar: (T, T) -> R
) {
    let runs = StridedRuns([a.layout, b.layout, Layout(contiguous: a.shape)])
    let left = UnsafePointer(a.cpuBase(T.self)), right = UnsafePointer(b.cpuBase(T.self))
    let strideA = runs.innerStride(0), strideB = runs.innerStride(1)
    let out = UncheckedSendable(output)
    let width = Vector<T>.scalarCount
    parallelFor(a.count, grain: elementwiseGrain) { range in
        runs.forEachRun(in: range) { offsets, length in
            let x = left + offsets[0], y = right + offsets[1], target = out.value + offsets[2]
            var i = 0
            switch (strideA, strideB) {
            case (1, 1):
                while i + width <= length {
                    storeVector(vector(loadVector(x + i), loadVector(y + i)), target + i)
                    i += width
                }
            case (1, 0):
                let splat = Vector<T>(repeating: y[0])
                while i + width <= length {
                    storeVector(vector(loadVector(x + i), splat), target + i)
                    i += width
                }
            case (0, 1):
                let splat = Vector<T>(repeating: x[0])
                while i + width <= length {
                    storeVector(vector(splat, loadVector(y + i)), target + i)
                    i += width
                }
            default:
                break
            }
            while i < length {
                target[i] = scalar(x[i * strideA], y[i * strideB])
                i += 1
            }
        }
    }
}

extension CPUBackend {
    func unary(_ op: UnaryOp, _ x: StridedView, into output: any BackendBuffer) {
        if x.dtype != .float32 {
            let out = output.cpuPointer(Int32.self)
            switch op {
            case .neg: mapUnary(x, into: out, vector: { 0 &- $0 }, scalar: { 0 &- $0 })
            case .abs: mapUnary(x, into: out, vector: { $0.replacing(with: 0 &- $0, where: $0 .< 0) },
                                scalar: { $0 < 0 ? 0 &- $0 : $0 })
            case .square: mapUnary(x, into: out, vector: { $0 &* $0 }, scalar: { $0 &* $0 })
            case .relu: mapUnary(x, into: out, vector: { $0.replacing(with: 0, where: $0 .< 0) }, scalar: { Swift.max($0, 0) })
            default: preconditionFailure("\(op.rawValue): needs a float32 tensor, got \(x.dtype)")
            }
            return
        }
        let out = output.cpuPointer(Float.self)
        switch op {
        case .neg: mapUnary(x, into: out, vector: { -$0 }, scalar: { -$0 })
        case .abs: mapUnary(x, into: out, vector: { $0.replacing(with: -$0, where: $0 .< 0) }, scalar: { Swift.abs($0) })
        case .square: mapUnary(x, into: out, vector: { $0 * $0 }, scalar: { $0 * $0 })
        case .relu: mapUnary(x, into: out, vector: { $0.replacing(with: 0, where: $0 .< 0) }, scalar: { $0 < 0 ? 0 : $0 })
        case .sqrt: mapUnary(x, into: out, vector: { $0.squareRoot() }, scalar: { $0.squareRoot() })
        case .exp: mapUnary(x, into: out, vector: vectorExp, scalar: { viaVector($0, vectorExp) })
        case .log: mapUnary(x, into: out, vector: { lanewise($0, Foundation.log) }, scalar: { Foundation.log($0) })
        case .sin: mapUnary(x, into: out, vector: { lanewise($0, Foundation.sin) }, scalar: { Foundation.sin($0) })
        case .cos: mapUnary(x, into: out, vector: { lanewise($0, Foundation.cos) }, scalar: { Foundation.cos($0) })
        case .tanh: mapUnary(x, into: out, vector: vectorTanh, scalar: { viaVector($0, vectorTanh) })
        case .sigmoid: mapUnary(x, into: out, vector: vectorSigmoid, scalar: { viaVector($0, vectorSigmoid) })
        }
    }

    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        precondition(a.dtype == b.dtype && a.shape == b.shape, "binary \(op.rawValue): operands differ")
        if a.dtype == .float32 {
            binaryFloat(op, a, b, output)
        } else {
            binaryInt(op, a, b, output)
        }
    }

    private func binaryFloat(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, _ output: any BackendBuffer) {
        let out = output.cpuPointer(Float.self), mask = output.cpuPointer(Int32.self)
        typealias V = Vector<Float>
        switch op {
        case .add: mapBinary(a, b, into: out, vector: { $0 + $1 }, scalar: { $0 + $1 })
        case .sub: mapBinary(a, b, into: out, vector: { $0 - $1 }, scalar: { $0 - $1 })
        case .mul: mapBinary(a, b, into: out, vector: { $0 * $1 }, scalar: { $0 * $1 })
        case .div: mapBinary(a, b, into: out, vector: { $0 / $1 }, scalar: { $0 / $1 })
        case .pow:
            mapBinary(a, b, into: out, vector: { x, y in
                var r = V(); for i in x.indices { r[i] = Foundation.pow(x[i], y[i]) }; return r
            }, scalar: { Foundation.pow($0, $1) })
        case .maximum: mapBinary(a, b, into: out, vector: { cpuMaximum($0, $1) }, scalar: { cpuMaximum($0, $1) })
        case .minimum: mapBinary(a, b, into: out, vector: { cpuMinimum($0, $1) }, scalar: { cpuMinimum($0, $1) })
        case .equal: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .== y) }, scalar: { (x: Float, y: Float) -> Int32 in x == y ? 1 : 0 })
        case .notEqual: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .!= y) }, scalar: { (x: Float, y: Float) -> Int32 in x != y ? 1 : 0 })
        case .less: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .< y) }, scalar: { (x: Float, y: Float) -> Int32 in x < y ? 1 : 0 })
        case .lessEqual: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .<= y) }, scalar: { (x: Float, y: Float) -> Int32 in x <= y ? 1 : 0 })
        case .greater: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .> y) }, scalar: { (x: Float, y: Float) -> Int32 in x > y ? 1 : 0 })
        case .greaterEqual: mapBinary(a, b, into: mask, vector: { (x: Vector<Float>, y: Vector<Float>) in maskToInt(x .>= y) }, scalar: { (x: Float, y: Float) -> Int32 in x >= y ? 1 : 0 })
        }
    }

    private func binaryInt(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, _ output: any BackendBuffer) {
        let out = output.cpuPointer(Int32.self)
        switch op {
        case .add: mapBinary(a, b, into: out, vector: { $0 &+ $1 }, scalar: { $0 &+ $1 })
        case .sub: mapBinary(a, b, into: out, vector: { $0 &- $1 }, scalar: { $0 &- $1 })
        case .mul: mapBinary(a, b, into: out, vector: { $0 &* $1 }, scalar: { $0 &* $1 })
        case .div:
            // Truncating, as C and OpenCL; x / 0 is defined as 0 instead of trapping.
            mapBinary(a, b, into: out, vector: { x, y in lanewise2(x, y, cpuIntDivide) }, scalar: cpuIntDivide)
        case .pow:
            mapBinary(a, b, into: out, vector: { x, y in lanewise2(x, y, cpuIntPow) }, scalar: cpuIntPow)
        case .maximum: mapBinary(a, b, into: out, vector: { $0.replacing(with: $1, where: $1 .> $0) }, scalar: { Swift.max($0, $1) })
        case .minimum: mapBinary(a, b, into: out, vector: { $0.replacing(with: $1, where: $1 .< $0) }, scalar: { Swift.min($0, $1) })
        case .equal: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .== y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x == y ? 1 : 0 })
        case .notEqual: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .!= y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x != y ? 1 : 0 })
        case .less: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .< y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x < y ? 1 : 0 })
        case .lessEqual: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .<= y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x <= y ? 1 : 0 })
        case .greater: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .> y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x > y ? 1 : 0 })
        case .greaterEqual: mapBinary(a, b, into: out, vector: { (x: Vector<Int32>, y: Vector<Int32>) in maskToInt(x .>= y) }, scalar: { (x: Int32, y: Int32) -> Int32 in x >= y ? 1 : 0 })
        }
    }

    func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into output: any BackendBuffer) {
        // Two passes through the generic binary loop would need a temporary; a direct run walk does not.
        let runs = StridedRuns([condition.layout, a.layout, b.layout, Layout(contiguous: a.shape)])
        let c = condition.cpuBase(Int32.self), x = a.cpuBase(UInt32.self), y = b.cpuBase(UInt32.self)
        let out = UncheckedSendable(output.cpuPointer(UInt32.self))
        let strides = (0..<3).map(runs.innerStride)
        parallelFor(a.count, grain: elementwiseGrain) { range in
            runs.forEachRun(in: range) { offsets, length in
                let cp = c + offsets[0], xp = x + offsets[1], yp = y + offsets[2], target = out.value + offsets[3]
                for i in 0..<length {
                    target[i] = cp[i * strides[0]] != 0 ? xp[i * strides[1]] : yp[i * strides[2]]
                }
            }
        }
    }

    func cast(_ source: StridedView, to dtype: DType, into output: any BackendBuffer) {
        switch (source.dtype, dtype) {
        case (.float32, .int32):
            mapUnary(source, into: output.cpuPointer(Int32.self), vector: { lanewise($0, cpuFloatToInt) }, scalar: cpuFloatToInt)
        case (.float32, .bool):
            mapUnary(source, into: output.cpuPointer(Int32.self), vector: { maskToInt($0 .!= 0) }, scalar: { $0 != 0 ? 1 : 0 })
        case (.int32, .float32), (.bool, .float32):
            mapUnary(source, into: output.cpuPointer(Float.self), vector: { (v: Vector<Int32>) in Vector<Float>(v) }, scalar: { (v: Int32) in Float(v) })
        case (.int32, .bool):
            mapUnary(source, into: output.cpuPointer(Int32.self), vector: { (v: Vector<Int32>) in maskToInt(v .!= 0) },
                     scalar: { (v: Int32) -> Int32 in v != 0 ? 1 : 0 })
        default:
            copy(source, to: StridedView(buffer: output, dtype: dtype, layout: Layout(contiguous: source.shape)))
        }
    }

    func copy(_ source: StridedView, to destination: StridedView) {
        precondition(source.shape == destination.shape, "copy: shapes \(source.shape) and \(destination.shape) differ")
        let runs = StridedRuns([source.layout, destination.layout])
        let from = source.cpuBase(UInt32.self)
        let to = UncheckedSendable(destination.cpuBase(UInt32.self))
        let strideFrom = runs.innerStride(0), strideTo = runs.innerStride(1)
        parallelFor(source.count, grain: elementwiseGrain * 4) { range in
            runs.forEachRun(in: range) { offsets, length in
                let s = from + offsets[0], d = to.value + offsets[1]
                if strideFrom == 1 && strideTo == 1 {
                    d.update(from: s, count: length)
                } else {
                    for i in 0..<length { d[i * strideTo] = s[i * strideFrom] }
                }
            }
        }
    }

    func fill(_ buffer: any BackendBuffer, count: Int, bits: UInt32) {
        let target = UncheckedSendable(buffer.cpuPointer(UInt32.self))
        parallelFor(count, grain: elementwiseGrain * 4) { range in
            (target.value + range.lowerBound).update(repeating: bits, count: range.count)
        }
    }
}

/// 1 where the mask is set, else 0 (float and int32 vectors share this mask type).
@inline(__always) func maskToInt(_ mask: SIMDMask<Vector<Int32>>) -> Vector<Int32> {
    Vector<Int32>(repeating: 0).replacing(with: 1, where: mask)
}

@inline(__always) func lanewise2<T: SIMDScalar>(_ x: Vector<T>, _ y: Vector<T>, _ f: (T, T) -> T) -> Vector<T> {
    var result = Vector<T>()
    for lane in x.indices { result[lane] = f(x[lane], y[lane]) }
    return result
}

/// NaN-propagating maximum, as NumPy's `maximum` and PyTorch's.
@inline(__always) func cpuMaximum(_ x: Float, _ y: Float) -> Float { x.isNaN || y.isNaN ? .nan : Swift.max(x, y) }
@inline(__always) func cpuMinimum(_ x: Float, _ y: Float) -> Float { x.isNaN || y.isNaN ? .nan : Swift.min(x, y) }
@inline(__always) func cpuMaximum(_ x: Vector<Float>, _ y: Vector<Float>) -> Vector<Float> {
    let nan = (x .!= x) .| (y .!= y)
    return x.replacing(with: y, where: y .> x).replacing(with: .nan, where: nan)
}
@inline(__always) func cpuMinimum(_ x: Vector<Float>, _ y: Vector<Float>) -> Vector<Float> {
    let nan = (x .!= x) .| (y .!= y)
    return x.replacing(with: y, where: y .< x).replacing(with: .nan, where: nan)
}
@inline(__always) func cpuIntDivide(_ x: Int32, _ y: Int32) -> Int32 { y == 0 ? 0 : x.dividedReportingOverflow(by: y).partialValue }
@inline(__always) func cpuIntPow(_ x: Int32, _ y: Int32) -> Int32 { cpuFloatToInt(Foundation.pow(Float(x), Float(y))) }
/// Truncates toward zero, saturating out-of-range values and mapping NaN to 0 instead of trapping.
@inline(__always) func cpuFloatToInt(_ x: Float) -> Int32 {
    if x.isNaN { return 0 }
    if x >= 2_147_483_648 { return .max }
    if x <= -2_147_483_648 { return .min }
    return Int32(x)
}
