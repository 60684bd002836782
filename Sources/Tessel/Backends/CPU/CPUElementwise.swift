import Foundation

// Element-wise kernels of the CPU backend. Each op (one case of a switch) hands the run walker
// (`forEachUnaryRun`, `forEachBinaryRun`, which spread runs over all cores) a small closure of
// its own, which calls an `@inline(__always)` run loop with the op's SIMD and scalar arithmetic
// as closure literals: a literal passed straight to an inlined loop compiles into it. An op
// closure handed through `parallelFor` as a parameter instead stays an indirect call per vector
// (spills, no unrolling), which halved the speed of an in-cache add.

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

/// Calls `body(source, stride, target, length)` for every run of `x` (output contiguous, at
/// any offset), on all cores.
@inline(__always)
func forEachUnaryRun<T, R>(_ x: StridedView, into output: StridedView,
                           _ body: (UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
    let input = UnsafePointer(x.cpuBase(T.self))
    let out = UncheckedSendable(output.cpuBase(R.self))
    if let stride = x.layout.flatStride {
        // One run over the whole tensor: no collapse, no run walk (small ops are all dispatch).
        let inputOffset = x.layout.offset, outputOffset = output.layout.offset
        parallelFor(x.count, grain: elementwiseGrain) { range in
            body(input + inputOffset + range.lowerBound * stride, stride, out.value + outputOffset + range.lowerBound,
                 range.count)
        }
        return
    }
    let runs = StridedRuns([x.layout, output.layout])
    let stride = runs.innerStride(0)
    parallelFor(x.count, grain: elementwiseGrain) { range in
        runs.forEachRun(in: range) { offsets, length in
            body(input + offsets[0], stride, out.value + offsets[1], length)
        }
    }
}

/// `body(a, strideA, b, strideB, target, length)` over `count` elements of two operands, each
/// read with step 1, or 0 for one element, into a dense target, in one run per core.
@inline(__always)
func forEachDenseRun<T, R>(_ a: UnsafePointer<T>, _ strideA: Int, _ b: UnsafePointer<T>, _ strideB: Int,
                           into target: UnsafeMutablePointer<R>, count: Int,
                           _ body: (UnsafePointer<T>, Int, UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
    let out = UncheckedSendable(target)
    parallelFor(count, grain: elementwiseGrain) { range in
        body(a + range.lowerBound * strideA, strideA, b + range.lowerBound * strideB, strideB, out.value + range.lowerBound,
             range.count)
    }
}

/// How a two-operand op table (`CPUBackend.binaryKernel`) reaches its runs: two strided views'
/// walk, or one dense run. Generic, so each table is specialised per walker and inlined into
/// its entry point, where the op's arithmetic compiles into the run loop.
protocol BinaryRunWalker {
    func callAsFunction<T, R>(_ body: (UnsafePointer<T>, Int, UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void)
}

/// The runs of two same-shape strided views into a contiguous output.
struct StridedBinaryWalk: BinaryRunWalker {
    let a: StridedView, b: StridedView, output: StridedView
    @inline(__always)
    func callAsFunction<T, R>(_ body: (UnsafePointer<T>, Int, UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
        forEachBinaryRun(a, b, into: output, body)
    }
}

/// One dense run of two operands (see `DenseRun`).
struct DenseBinaryWalk: BinaryRunWalker {
    let a: DenseRun, b: DenseRun, output: DenseRun, count: Int
    @inline(__always)
    func callAsFunction<T, R>(_ body: (UnsafePointer<T>, Int, UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
        forEachDenseRun(UnsafePointer(a.cpuStart(T.self)), a.step, UnsafePointer(b.cpuStart(T.self)), b.step,
                        into: output.cpuStart(R.self), count: count, body)
    }
}

/// One run of a unary op: SIMD where the input is contiguous, scalar otherwise and for the tail.
@inline(__always)
func unaryRun<T: SIMDScalar, R: SIMDScalar>(_ source: UnsafePointer<T>, _ stride: Int, _ target: UnsafeMutablePointer<R>,
                                            _ length: Int, vector: (Vector<T>) -> Vector<R>, scalar: (T) -> R) {
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

/// Calls `body(x, strideX, y, strideY, target, length)` for every run of `a` and `b` (same
/// shape, output contiguous at any offset), on all cores.
@inline(__always)
func forEachBinaryRun<T, R>(_ a: StridedView, _ b: StridedView, into output: StridedView,
                            _ body: (UnsafePointer<T>, Int, UnsafePointer<T>, Int, UnsafeMutablePointer<R>, Int) -> Void) {
    let left = UnsafePointer(a.cpuBase(T.self)), right = UnsafePointer(b.cpuBase(T.self))
    let out = UncheckedSendable(output.cpuBase(R.self))
    if let strideA = a.layout.flatStride, let strideB = b.layout.flatStride {
        // One run over the whole tensor: no collapse, no run walk (small ops are all dispatch).
        forEachDenseRun(left + a.layout.offset, strideA, right + b.layout.offset, strideB,
                        into: out.value + output.layout.offset, count: a.count, body)
        return
    }
    let runs = StridedRuns([a.layout, b.layout, output.layout])
    let strideA = runs.innerStride(0), strideB = runs.innerStride(1)
    if runs.shape.count == 2 {
        // Rows of one shape (a bias row over a batch, a transposed operand): a plain row loop,
        // each row one run, without the general walk's per-row bookkeeping.
        let columns = runs.shape[1]
        let rowA = runs.stride(0, 0), rowB = runs.stride(1, 0), rowOut = runs.stride(2, 0)
        let startA = left + runs.offsets[0], startB = right + runs.offsets[1], startOut = runs.offsets[2]
        parallelFor(runs.shape[0], grain: Swift.max(1, elementwiseGrain / Swift.max(columns, 1))) { rows in
            for row in rows {
                body(startA + row * rowA, strideA, startB + row * rowB, strideB, out.value + startOut + row * rowOut, columns)
            }
        }
        return
    }
    parallelFor(a.count, grain: elementwiseGrain) { range in
        runs.forEachRun(in: range) { offsets, length in
            body(left + offsets[0], strideA, right + offsets[1], strideB, out.value + offsets[2], length)
        }
    }
}

/// One run of a comparison into 0/1 int32, as plain loops per stride case: LLVM vectorises
/// these itself, while Swift's SIMD comparison operators compiled to one lane at a time
/// (ten times slower).
@inline(__always)
func compareRun<T: SIMDScalar & Comparable>(_ x: UnsafePointer<T>, _ strideX: Int, _ y: UnsafePointer<T>, _ strideY: Int,
                                           _ target: UnsafeMutablePointer<Int32>, _ length: Int, _ test: (T, T) -> Bool) {
    switch (strideX, strideY) {
    case (1, 1): for i in 0..<length { target[i] = test(x[i], y[i]) ? 1 : 0 }
    case (1, 0):
        let right = y[0]
        for i in 0..<length { target[i] = test(x[i], right) ? 1 : 0 }
    case (0, 1):
        let left = x[0]
        for i in 0..<length { target[i] = test(left, y[i]) ? 1 : 0 }
    default: for i in 0..<length { target[i] = test(x[i * strideX], y[i * strideY]) ? 1 : 0 }
    }
}

/// One run of a binary op: SIMD where each operand is contiguous or broadcast (stride 0).
@inline(__always)
func binaryRun<T: SIMDScalar, R: SIMDScalar>(_ x: UnsafePointer<T>, _ strideX: Int, _ y: UnsafePointer<T>, _ strideY: Int,
                                             _ target: UnsafeMutablePointer<R>, _ length: Int,
                                             vector: (Vector<T>, Vector<T>) -> Vector<R>, scalar: (T, T) -> R) {
    let width = Vector<T>.scalarCount
    var i = 0
    switch (strideX, strideY) {
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
        target[i] = scalar(x[i * strideX], y[i * strideY])
        i += 1
    }
}

extension CPUBackend {
    // Every case below hands its own small closure to the run walker: one op per closure keeps
    // each closure small enough for the optimiser to inline the run loop and the op's arithmetic
    // (a single closure switching over all ops grew past its inlining limits, and exp then ran
    // as an out-of-line call on four 128-bit pieces).

    func unary(_ op: UnaryOp, _ x: StridedView, into output: StridedView) {
        if !output.layout.isContiguous {
            if let order = output.layout.denseAxisOrder { return unary(op, x.permuted(order), into: output.permuted(order)) }
            return throughDense(output) { unary(op, x, into: $0) }
        }
        if x.dtype != .float32 {
            let out = output
            switch op {
            case .neg: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Int32>, stride, t, n) in unaryRun(s, stride, t, n, vector: { 0 &- $0 }, scalar: { 0 &- $0 }) }
            case .abs:
                forEachUnaryRun(x, into: out) { (s: UnsafePointer<Int32>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.replacing(with: 0 &- $0, where: $0 .< 0) }, scalar: { $0 < 0 ? 0 &- $0 : $0 }) }
            case .square: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Int32>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0 &* $0 }, scalar: { $0 &* $0 }) }
            case .relu: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Int32>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.replacing(with: 0, where: $0 .< 0) }, scalar: { Swift.max($0, 0) }) }
            default: checkFailure("\(op.rawValue): needs a float32 tensor, got \(x.dtype)")
            }
            return
        }
        let out = output
        switch op {
        case .floor: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.rounded(.down) }, scalar: { $0.rounded(.down) }) }
        case .neg: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { -$0 }, scalar: { -$0 }) }
        case .abs: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.replacing(with: -$0, where: $0 .< 0) }, scalar: { Swift.abs($0) }) }
        case .square: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0 * $0 }, scalar: { $0 * $0 }) }
        case .relu: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.replacing(with: 0, where: $0 .< 0) }, scalar: { $0 < 0 ? 0 : $0 }) }
        case .sqrt: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { $0.squareRoot() }, scalar: { $0.squareRoot() }) }
        case .exp: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { vectorExp($0) }, scalar: { viaVector($0, vectorExp) }) }
        case .log: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { lanewise($0, Foundation.log) }, scalar: { Foundation.log($0) }) }
        case .sin: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { lanewise($0, Foundation.sin) }, scalar: { Foundation.sin($0) }) }
        case .cos: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { lanewise($0, Foundation.cos) }, scalar: { Foundation.cos($0) }) }
        case .tanh: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { vectorTanh($0) }, scalar: { viaVector($0, vectorTanh) }) }
        case .sigmoid: forEachUnaryRun(x, into: out) { (s: UnsafePointer<Float>, stride, t, n) in unaryRun(s, stride, t, n, vector: { vectorSigmoid($0) }, scalar: { viaVector($0, vectorSigmoid) }) }
        }
    }

    func binary(_ op: BinaryOp, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        check(a.dtype == b.dtype && a.shape == b.shape, "binary \(op.rawValue): operands differ")
        if !output.layout.isContiguous {
            if let order = output.layout.denseAxisOrder {
                return binary(op, a.permuted(order), b.permuted(order), into: output.permuted(order))
            }
            return throughDense(output) { binary(op, a, b, into: $0) }
        }
        binaryKernel(op, a.dtype, StridedBinaryWalk(a: a, b: b, output: output))
    }

    func binary(_ op: BinaryOp, dtype: DType, _ a: DenseRun, _ b: DenseRun, into output: DenseRun, count: Int) {
        binaryKernel(op, dtype, DenseBinaryWalk(a: a, b: b, output: output, count: count))
    }

    /// The two-operand op tables, over the runs `walk` visits.
    @inline(__always)
    private func binaryKernel<Walk: BinaryRunWalker>(_ op: BinaryOp, _ dtype: DType, _ walk: Walk) {
        if op.isComparison {
            if dtype == .float32 {
                compare(op, Float.self, walk)
            } else {
                compare(op, Int32.self, walk)
            }
        } else if dtype == .float32 {
            binaryFloat(op, walk)
        } else {
            binaryInt(op, walk)
        }
    }

    @inline(__always)
    private func binaryFloat<Walk: BinaryRunWalker>(_ op: BinaryOp, _ walk: Walk) {
        switch op {
        case .add: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 + $1 }, scalar: { $0 + $1 })
            }
        case .sub: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 - $1 }, scalar: { $0 - $1 })
            }
        case .mul: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 * $1 }, scalar: { $0 * $1 })
            }
        case .div: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 / $1 }, scalar: { $0 / $1 })
            }
        case .pow: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { lanewise2($0, $1, Foundation.pow) }, scalar: { Foundation.pow($0, $1) })
            }
        case .maximum: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { cpuMaximum($0, $1) }, scalar: { cpuMaximum($0, $1) })
            }
        case .minimum: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { cpuMinimum($0, $1) }, scalar: { cpuMinimum($0, $1) })
            }
        case .floorDivide: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { ($0 / $1).rounded(.down) }, scalar: { ($0 / $1).rounded(.down) })
            }
        case .reluGradient: walk { (x: UnsafePointer<Float>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0.replacing(with: 0, where: .!($1 .> 0)) }, scalar: { $1 > 0 ? $0 : 0 })
            }
        default: checkFailure("binary \(op.rawValue): not arithmetic")
        }
    }

    @inline(__always)
    private func binaryInt<Walk: BinaryRunWalker>(_ op: BinaryOp, _ walk: Walk) {
        switch op {
        case .add: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 &+ $1 }, scalar: { $0 &+ $1 })
            }
        case .sub: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 &- $1 }, scalar: { $0 &- $1 })
            }
        case .mul: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0 &* $1 }, scalar: { $0 &* $1 })
            }
        case .floorDivide, .div:
            // Rounded down, as PyTorch's floor_divide; x / 0 is defined as 0 instead of
            // trapping (OpenCL does the same). `div` never reaches here with int32 operands.
            walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { lanewise2($0, $1, cpuFloorDivide) }, scalar: { cpuFloorDivide($0, $1) })
            }
        case .pow: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { lanewise2($0, $1, cpuIntPow) }, scalar: { cpuIntPow($0, $1) })
            }
        case .maximum: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0.replacing(with: $1, where: $1 .> $0) }, scalar: { Swift.max($0, $1) })
            }
        case .minimum: walk { (x: UnsafePointer<Int32>, sx, y, sy, t, n) in
                binaryRun(x, sx, y, sy, t, n, vector: { $0.replacing(with: $1, where: $1 .< $0) }, scalar: { Swift.min($0, $1) })
            }
        default: checkFailure("binary \(op.rawValue): not arithmetic")
        }
    }

    /// Comparisons of float32 or int32 operands: 1 where it holds, else 0 (int32 masks).
    // Inlined into each call site, so T is concrete: unspecialised, the SIMD comparisons ran
    // through generic witnesses, ten times slower than the scalar loop.
    @inline(__always)
    private func compare<T: SIMDScalar & Comparable, Walk: BinaryRunWalker>(_ op: BinaryOp, _: T.Type, _ walk: Walk)
        where T.SIMDMaskScalar == Int32 {
        switch op {
        case .equal: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 == $1 } }
        case .notEqual: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 != $1 } }
        case .less: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 < $1 } }
        case .lessEqual: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 <= $1 } }
        case .greater: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 > $1 } }
        case .greaterEqual: walk { (x: UnsafePointer<T>, sx, y, sy, t, n) in compareRun(x, sx, y, sy, t, n) { $0 >= $1 } }
        default: checkFailure("\(op.rawValue): not a comparison")
        }
    }

    func select(_ condition: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        // Two passes through the generic binary loop would need a temporary; a direct run walk does not.
        forEachTernaryRun(condition, a, b, into: output) { (c: UnsafePointer<Int32>, x: UnsafePointer<UInt32>, y: UnsafePointer<UInt32>,
                                                            target: UnsafeMutablePointer<UInt32>, strides, length) in
            let (sc, sx, sy, so) = strides
            for i in 0..<length { target[i &* so] = c[i &* sc] != 0 ? x[i &* sx] : y[i &* sy] }
        }
    }

    func addingProduct(_ x: StridedView, _ a: StridedView, _ b: StridedView, into output: StridedView) {
        forEachTernaryRun(x, a, b, into: output) { (xp: UnsafePointer<Float>, ap: UnsafePointer<Float>, bp: UnsafePointer<Float>,
                                                    target: UnsafeMutablePointer<Float>, strides, length) in
            let (sx, sa, sb, so) = strides
            var i = 0
            if so == 1 && (sx == 0 || sx == 1) && (sa == 0 || sa == 1) && (sb == 0 || sb == 1) {
                // Dense runs, each operand moving along or broadcast (a Swift scalar, a row);
                // a reversed operand (stride -1) takes the element loop.
                @inline(__always) func lanes(_ p: UnsafePointer<Float>, _ stride: Int) -> Vector<Float> {
                    stride == 0 ? Vector(repeating: p[0]) : loadVector(p + i)
                }
                while i + simdWidth <= length {
                    var sum = lanes(xp, sx)
                    sum.addProduct(lanes(ap, sa), lanes(bp, sb))
                    storeVector(sum, target + i)
                    i += simdWidth
                }
            }
            while i < length {
                target[i &* so] = xp[i &* sx].addingProduct(ap[i &* sa], bp[i &* sb])
                i += 1
            }
        }
    }

    /// Walks three operands and an output of one shape run by run on all cores (an output in a
    /// permuted dense order, channels-last, in that order): `body(a, b, c, output, strides,
    /// length)` gets each run's pointers and the four inner strides.
    private func forEachTernaryRun<A, B, C, R>(_ a: StridedView, _ b: StridedView, _ c: StridedView, into output: StridedView,
                                               _ body: (UnsafePointer<A>, UnsafePointer<B>, UnsafePointer<C>, UnsafeMutablePointer<R>,
                                                        (Int, Int, Int, Int), Int) -> Void) {
        if !output.layout.isContiguous, let order = output.layout.denseAxisOrder {
            return forEachTernaryRun(a.permuted(order), b.permuted(order), c.permuted(order), into: output.permuted(order), body)
        }
        let runs = StridedRuns([a.layout, b.layout, c.layout, output.layout])
        let pa = UnsafePointer(a.cpuBase(A.self)), pb = UnsafePointer(b.cpuBase(B.self)), pc = UnsafePointer(c.cpuBase(C.self))
        let out = UncheckedSendable(output.cpuBase(R.self))
        let strides = (runs.innerStride(0), runs.innerStride(1), runs.innerStride(2), runs.innerStride(3))
        parallelFor(a.count, grain: elementwiseGrain) { range in
            runs.forEachRun(in: range) { offsets, length in
                body(pa + offsets[0], pb + offsets[1], pc + offsets[2], out.value + offsets[3], strides, length)
            }
        }
    }

    func cast(_ source: StridedView, to dtype: DType, into output: StridedView) {
        if !output.layout.isContiguous && source.dtype != dtype && !(source.dtype == .bool && dtype == .int32) {
            if let order = output.layout.denseAxisOrder { return cast(source.permuted(order), to: dtype, into: output.permuted(order)) }
            return throughDense(output) { cast(source, to: dtype, into: $0) }
        }
        let out = output
        switch (source.dtype, dtype) {
        case (.float32, .int32):
            forEachUnaryRun(source, into: out) { (x: UnsafePointer<Float>, stride, target, length) in
                unaryRun(x, stride, target, length, vector: { lanewise($0, cpuFloatToInt) }, scalar: { cpuFloatToInt($0) })
            }
        case (.float32, .bool):
            forEachUnaryRun(source, into: out) { (x: UnsafePointer<Float>, stride, target, length) in
                unaryRun(x, stride, target, length, vector: { maskToInt($0 .!= 0) }, scalar: { $0 != 0 ? 1 : 0 })
            }
        case (.int32, .float32), (.bool, .float32):
            forEachUnaryRun(source, into: output) { (x: UnsafePointer<Int32>, stride, target, length) in
                unaryRun(x, stride, target, length, vector: { Vector<Float>($0) }, scalar: { Float($0) })
            }
        case (.int32, .bool):
            forEachUnaryRun(source, into: out) { (x: UnsafePointer<Int32>, stride, target, length) in
                unaryRun(x, stride, target, length, vector: { maskToInt($0 .!= 0) }, scalar: { $0 != 0 ? 1 : 0 })
            }
        default:
            copy(source, to: output)
        }
    }

    func copy(_ source: StridedView, to destination: StridedView) {
        check(source.shape == destination.shape, "copy: shapes \(source.shape) and \(destination.shape) differ")
        let runs = StridedRuns([source.layout, destination.layout])
        let from = source.cpuBase(UInt32.self)
        let to = UncheckedSendable(destination.cpuBase(UInt32.self))
        let strideFrom = runs.innerStride(0), strideTo = runs.innerStride(1)
        let rank = runs.shape.count
        if rank >= 2 && strideFrom != 1 && runs.stride(0, rank - 2) == 1 {
            copyTransposed(runs, from: UnsafePointer(from), to: to.value)
            return
        }
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

    /// A copy whose source is contiguous along the second-last axis instead of the last (a
    /// transpose, `contiguous()` after `permute`), in 32 x 32 tiles through a 4 KB buffer: the
    /// source is read 32 contiguous elements at a time and the target written 32 at a time, so
    /// every cache line is used whole when it is touched. Row by row, every read took a new
    /// cache line (5.2 GB/s on a [1024, 1024] transpose, now 27); tiles without the buffer
    /// thrashed L1 when both strides are multiples of 4 KB, as a power-of-two transpose's are,
    /// since all those lines share a set. Taller tiles (128 x 32, 256 x 16) read longer runs and
    /// helped a [16384, 1024] transpose from memory (5.3 -> 7-8 GB/s) but cost in-cache ones a
    /// fifth; training-sized tensors are the in-cache kind.
    private func copyTransposed(_ runs: StridedRuns, from source: UnsafePointer<UInt32>, to target: UnsafeMutablePointer<UInt32>) {
        let rank = runs.shape.count, tile = 32
        let rows = runs.shape[rank - 2], columns = runs.shape[rank - 1]
        let sourceColumn = runs.stride(0, rank - 1)
        let targetRow = runs.stride(1, rank - 2), targetColumn = runs.stride(1, rank - 1)
        let bands = (rows + tile - 1) / tile, columnTiles = (columns + tile - 1) / tile
        let outer = runs.shape[..<(rank - 2)].reduce(1, *)
        // Tasks are (leading position, band of rows, group of column tiles): a short, wide
        // transpose ([4, 4M], an NHWC image to NCHW) has one band, so its columns are split too.
        let groups = Swift.max(1, Swift.min(columnTiles, cpuCoreCount * 4 / Swift.max(outer * bands, 1)))
        let tilesPerGroup = (columnTiles + groups - 1) / groups
        let out = UncheckedSendable(target)
        parallelFor(outer * bands * groups, grain: Swift.max(1, elementwiseGrain * 4 / Swift.max(tile * tilesPerGroup * tile, 1))) { tasks in
            withUnsafeTemporaryAllocation(of: UInt32.self, capacity: tile * tile) { buffer in
                let staged = buffer.baseAddress!
                for task in tasks {
                    let group = task % groups, band = task / groups % bands
                    // Offsets of this position of the leading axes (row-major).
                    var rest = task / groups / bands, from = runs.offsets[0], to = runs.offsets[1]
                    for axis in stride(from: rank - 3, through: 0, by: -1) {
                        let index = rest % runs.shape[axis]
                        rest /= runs.shape[axis]
                        from += index * runs.stride(0, axis)
                        to += index * runs.stride(1, axis)
                    }
                    let firstRow = band * tile, height = Swift.min(tile, rows - firstRow)
                    let groupStart = group * tilesPerGroup * tile, groupEnd = Swift.min(columns, groupStart + tilesPerGroup * tile)
                    for firstColumn in stride(from: groupStart, to: groupEnd, by: tile) {
                        let width = Swift.min(tile, columns - firstColumn)
                        for j in 0..<width {
                            let s = source + from + (firstColumn + j) * sourceColumn + firstRow
                            for i in 0..<height { staged[i * tile + j] = s[i] }
                        }
                        for i in 0..<height {
                            let d = out.value + to + (firstRow + i) * targetRow + firstColumn * targetColumn
                            if targetColumn == 1 {
                                d.update(from: staged + i * tile, count: width)
                            } else {
                                for j in 0..<width { d[j * targetColumn] = staged[i * tile + j] }
                            }
                        }
                    }
                }
            }
        }
    }

    /// Runs `body` into a dense temporary of `output`'s shape, then copies it into `output`:
    /// the SIMD run loops write contiguous targets only, and strided in-place updates are rare.
    func throughDense(_ output: StridedView, _ body: (StridedView) -> Void) {
        let dense = StridedView(buffer: allocate(count: output.count), dtype: output.dtype, layout: Layout(contiguous: output.shape))
        body(dense)
        copy(dense, to: output)
    }

    func fill(_ buffer: any BackendBuffer, offset: Int, count: Int, bits: UInt32) {
        let target = UncheckedSendable(buffer.cpuPointer(UInt32.self) + offset)
        parallelFor(count, grain: elementwiseGrain * 4) { range in
            (target.value + range.lowerBound).update(repeating: bits, count: range.count)
        }
    }
}

/// 1 where the mask is set, else 0 (float and int32 vectors share this mask type). A set lane
/// is all ones (-1), so negating it gives 1: `replacing(with:where:)` compiled to a lane-by-lane loop.
@inline(__always) func maskToInt(_ mask: SIMDMask<Vector<Int32>>) -> Vector<Int32> {
    Vector<Int32>(repeating: 0) &- unsafeBitCast(mask, to: Vector<Int32>.self)
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
@inline(__always) func cpuFloorDivide(_ x: Int32, _ y: Int32) -> Int32 {
    guard y != 0 else { return 0 }
    let quotient = x.dividedReportingOverflow(by: y).partialValue // Int32.min / -1 wraps
    let remainder = x.remainderReportingOverflow(dividingBy: y).partialValue
    return (remainder != 0 && (x < 0) != (y < 0)) ? quotient &- 1 : quotient
}
/// Exact integer power by squaring, wrapping on overflow (the OpenCL kernel does the same); a
/// negative exponent gives 1 / x^|y| truncated: 0 unless x is 1 or -1.
@inline(__always) func cpuIntPow(_ x: Int32, _ y: Int32) -> Int32 {
    if y < 0 { return x == 1 ? 1 : (x == -1 ? (y & 1 == 1 ? -1 : 1) : 0) }
    var result: UInt32 = 1, base = UInt32(bitPattern: x), exponent = y
    while exponent > 0 {
        if exponent & 1 == 1 { result &*= base }
        base &*= base
        exponent >>= 1
    }
    return Int32(bitPattern: result)
}
/// Truncates toward zero, saturating out-of-range values and mapping NaN to 0 instead of trapping.
@inline(__always) func cpuFloatToInt(_ x: Float) -> Int32 {
    if x.isNaN { return 0 }
    if x >= 2_147_483_648 { return .max }
    if x <= -2_147_483_648 { return .min }
    return Int32(x)
}
