// The gradient rules: one exhaustive switch over `Op`, so a primitive without a rule does not
// compile (tinygrad's gradient.py, candle's backprop match). Each rule turns the gradient of
// the op's output into one gradient per input (nil for inputs that have none: indices, masks,
// constants). Rules run with recording off, out of ordinary tensor ops. `needs` says which
// inputs take a gradient (PyTorch's needs_input_grad): the costly rules skip the others (a
// layer's input batch, a convolution's unfolded columns).

enum Gradients {
    static func of(_ op: Op, inputs: [Tensor], output: Tensor, gradient g: Tensor, needs: [Bool]) -> [Tensor?] {
        switch op {
        case .full, .fromHost, .fromBytes:
            return []
        case .unpackBytes:
            return [nil]

        // Views.
        case .reshape:
            return [g.reshape(inputs[0].shape)]
        case .permute(let order):
            var inverse = [Int](repeating: 0, count: order.count)
            for (position, axis) in order.enumerated() { inverse[axis] = position }
            return [g.permute(inverse)]
        case .expand:
            return [sum(g, to: inputs[0].shape)]
        case .slice(let indices):
            // Zeros with the window written: the window is a view, so the write lands in `full`.
            let full = Tensor.zeros(inputs[0].shape, device: inputs[0].device)
            var window = full.slice(indices)
            window.copy(from: g)
            return [full]
        case .asStrided(let shape, let strides, let offset):
            return [asStridedGradient(inputs[0], Layout(shape: shape, strides: strides, offset: offset), g)]

        // Movement.
        case .contiguous:
            return [g]
        case .cast:
            return [inputs[0].dtype == .float32 ? g : nil]
        case .transfer:
            return [g.to(inputs[0].device)]
        case .cat(let axis):
            return g.split(sizes: inputs.map { $0.shape[axis] }, axis: axis)
        case .assign:
            // The destination's old values are overwritten: only the source gets a gradient.
            return [inputs[0].dtype == .float32 ? sum(g, to: inputs[0].shape) : nil]
        case .pad(let widths, let mode):
            let x = inputs[0]
            if case .constant = mode {
                return [g.slice(x.shape.indices.map { .range(start: widths[2 * $0], end: widths[2 * $0] + x.shape[$0], step: 1) })]
            }
            // The op gathered each padded axis from the input's positions: scatter back, the
            // axes in reverse order (each padded position adds into the one it copied).
            var gradient = g
            for axis in x.shape.indices.reversed() where widths[2 * axis] > 0 || widths[2 * axis + 1] > 0 {
                let positions = PadMode.sourcePositions(mode, size: x.shape[axis], before: widths[2 * axis], padded: gradient.shape[axis])
                var target = gradient.shape
                target[axis] = x.shape[axis]
                gradient = Tensor.zeros(target, device: g.device)
                    .indexAdd(axis: axis, indices: Tensor(positions, device: g.device), source: gradient)
            }
            return [gradient]

        // Compute.
        case .unary(let unary):
            return [unaryGradient(unary, x: inputs[0], output: output, g)]
        case .binary(let binary):
            return binaryGradients(binary, inputs[0], inputs[1], output: output, g, needs: needs)
        case .select:
            let zero = Tensor.zeros([], device: g.device)
            return [nil, needs[1] ? sum(Tensor.where(inputs[0], g, zero), to: inputs[1].shape) : nil,
                    needs[2] ? sum(Tensor.where(inputs[0], zero, g), to: inputs[2].shape) : nil]
        case .addingProduct:
            let (x, a, b) = (inputs[0], inputs[1], inputs[2])
            return [needs[0] ? sum(g, to: x.shape) : nil, needs[1] ? sum(g * b, to: a.shape) : nil,
                    needs[2] ? sum(g * a, to: b.shape) : nil]
        case .reduce(let reduction, let axes):
            return [reduceGradient(reduction, axes: axes, x: inputs[0], output: output, g)]
        case .softmax(let axis, let log):
            if log { return [g - output.exp() * g.sum(axis: axis, keepDims: true)] }
            return [output * (g - (g * output).sum(axis: axis, keepDims: true))]
        case .matmul:
            return matmulGradients(inputs[0], inputs[1], g, needs: (needs[0], needs[1]))
        case .addmm:
            return [needs[0] ? sum(g, to: inputs[0].shape) : nil] + matmulGradients(inputs[1], inputs[2], g, needs: (needs[1], needs[2]))
        case .gather(let axis):
            // Added in place into fresh zeros (scatterAdd out of place would copy them first),
            // laid out as the input is, so the gradient flows on in the forward pass's layout.
            let base = zeros(like: inputs[0])
            return [Dispatch.run(.scatterAdd(axis: axis), [base, inputs[1], g], into: base), nil]
        case .scatterAdd(let axis):
            let index = inputs[1], source = inputs[2]
            guard needs[2] else { return [g, nil, nil] }
            // Only the source elements the index reaches were added; the rest get zero.
            let sourceGradient = Tensor.zeros(source.shape, device: source.device)
            var window = sourceGradient.slice(index.shape.map { .range(start: 0, end: $0, step: 1) })
            // The gather needs g's shape outside `axis` to be the index's: the index may cover
            // only the leading part of the other axes.
            let covered = g.slice(index.shape.indices.map { $0 == axis ? .range(start: nil, end: nil, step: 1) : .range(start: 0, end: index.shape[$0], step: 1) })
            window.copy(from: covered.gather(axis: axis, index: index))
            return [g, nil, sourceGradient]
        case .scan(let scan, let axis):
            switch scan {
            case .sum:
                // Each input reaches every later running sum: a reversed running sum.
                return [g.flip(axis).cumsum(axis: axis).flip(axis)]
            case .prod:
                return [cumprodGradient(inputs[0], output: output, g, axis: axis)]
            }
        case .argsort:
            return [nil]
        case .warpAffine:
            return [nil, nil]
        case .unfold(let windows, let channelsLast):
            return [g.fold(windows, height: inputs[0].shape[2], width: inputs[0].shape[3], channelsLast: channelsLast)]
        case .fold(let windows, _, _, let channelsLast):
            return [g.unfold(windows, channelsLast: channelsLast)]
        case .windowArgmax:
            return [nil]
        case .windowMax(let windows):
            return [Dispatch.run(.windowMaxGradient(windows), [inputs[0], g])]
        case .windowMaxGradient(let windows):
            // Linear in the gradient: its adjoint picks each window's maximum position of g.
            guard needs[1] else { return [nil, nil] }
            let x = inputs[0], positions = x.windowArgmax(windows)
            let (n, c, h, w) = (x.shape[0], x.shape[1], x.shape[2], x.shape[3])
            let picked = g.reshape([n, c, h * w]).gather(axis: 2, index: positions.reshape([n, c, positions.shape[2] * positions.shape[3]]))
            return [nil, picked.reshape(positions.shape)]
        }
    }

    /// A strided view's gradient: each of its elements adds into the storage element it reads
    /// (overlapping windows add up), and the input takes its own elements of that storage. When
    /// the input itself overlaps (an expanded tensor), each storage element's gradient is shared
    /// evenly by the input elements that alias it, as PyTorch's `as_strided_backward` does, so the
    /// input's gradient sums back to the view's instead of counting it once per alias.
    private static func asStridedGradient(_ x: Tensor, _ view: Layout, _ g: Tensor) -> Tensor {
        let span = Swift.max(view.span.map { $0.high + 1 } ?? 0, x.layout.span.map { $0.high + 1 } ?? 0)
        func offsets(_ layout: Layout) -> Tensor { Tensor(layout.elementOffsets.map { Int32($0) }, device: x.device) }
        let inputOffsets = offsets(x.layout)
        var storage = Tensor.zeros([span], device: x.device).scatterAdd(axis: 0, index: offsets(view), source: g.reshape([g.count]))
        if !x.layout.hasNoSelfOverlap && !x.layout.elementsAreDistinct {
            let aliases = Tensor.zeros([span], device: x.device)
                .scatterAdd(axis: 0, index: inputOffsets, source: Tensor.ones([x.count], device: x.device))
            storage = storage / aliases.maximum(Tensor(Float(1), device: x.device))
        }
        return storage.gather(axis: 0, index: inputOffsets).reshape(x.shape)
    }

    /// A running product's gradient without dividing by zero: d out_j / d x_k is the product of
    /// x_i over i <= j except k. Before a row's first zero that is out_j / x_k (a reversed running
    /// sum of g * out, over x_k); past it every product holds that zero; at the first zero z it is
    /// prod(x_i, i < z) * sum(g_j * prod(x_i, z < i <= j), j >= z), a running product that skips
    /// x_z. (PyTorch's `cumprod_backward` makes the same split.)
    private static func cumprodGradient(_ x: Tensor, output: Tensor, _ g: Tensor, axis: Int) -> Tensor {
        let one = Tensor(Float(1), device: x.device), zero = Tensor(Float(0), device: x.device)
        func reversedRunningSum(_ t: Tensor) -> Tensor { t.flip(axis).cumsum(axis: axis).flip(axis) }
        let isZero = x .== Float(0)
        let zerosSoFar = isZero.cast(.float32).cumsum(axis: axis)
        let beforeZero = zerosSoFar .== Float(0)
        let beforeZeroValues = Tensor.where(beforeZero, x, one)
        let ordinary = reversedRunningSum(g * output) / beforeZeroValues
        // Where x_z is the first zero: a running product from z on with x_z taken as 1.
        let firstZero = Tensor.where(isZero, zerosSoFar .== Float(1), isZero)
        let fromZero = zerosSoFar .>= Float(1)
        let skipping = Tensor.where(firstZero, one, Tensor.where(fromZero, x, one)).cumprod(axis: axis)
        let after = Tensor.where(fromZero, g * skipping, zero).sum(axis: axis, keepDims: true)
        let atFirstZero = beforeZeroValues.prod(axis: axis, keepDims: true) * after
        return Tensor.where(beforeZero, ordinary, Tensor.where(firstZero, atFirstZero, zero))
    }

    /// Zeros of `x`'s shape whose memory follows `x`'s axis order when that is a permutation
    /// (PyTorch's `zeros_like` keeps the memory format the same way).
    private static func zeros(like x: Tensor) -> Tensor {
        guard let order = x.layout.denseAxisOrder, order != Array(order.indices) else { return Tensor.zeros(x.shape, device: x.device) }
        var position = [Int](repeating: 0, count: order.count)
        for (memoryAxis, axis) in order.enumerated() { position[axis] = memoryAxis }
        return Tensor.zeros(order.map { x.shape[$0] }, device: x.device).permute(position)
    }

    /// `gradient` summed over the axes broadcasting added or stretched, back to `shape`.
    static func sum(_ gradient: Tensor, to shape: [Int]) -> Tensor {
        guard gradient.shape != shape else { return gradient }
        let lead = gradient.rank - shape.count
        var axes = Array(0..<lead)
        for (axis, size) in shape.enumerated() where size == 1 && gradient.shape[lead + axis] != 1 { axes.append(lead + axis) }
        return (axes.isEmpty ? gradient : gradient.sum(axes: axes, keepDims: true)).reshape(shape)
    }

    private static func unaryGradient(_ op: UnaryOp, x: Tensor, output: Tensor, _ g: Tensor) -> Tensor? {
        switch op {
        case .neg: return -g
        case .abs: return g * ((x .> Float(0)).cast(.float32) - (x .< Float(0)).cast(.float32)) // sign(x)
        case .exp: return g * output
        case .log: return g / x
        case .sqrt: return g / (output * 2)
        case .sin: return g * x.cos()
        case .cos: return -(g * x.sin())
        case .tanh: return g * (1 - output.square())
        case .sigmoid: return g * output * (1 - output)
        case .relu: return Dispatch.run(.binary(.reluGradient), g, x)
        case .square: return g * x * 2
        case .floor: return g * Float(0) // piecewise constant
        }
    }

    private static func binaryGradients(_ op: BinaryOp, _ a: Tensor, _ b: Tensor, output: Tensor, _ g: Tensor,
                                        needs: [Bool]) -> [Tensor?] {
        // `gradient` is only evaluated for an operand that takes one.
        func fitA(_ gradient: @autoclosure () -> Tensor) -> Tensor? {
            a.dtype == .float32 && needs[0] ? sum(gradient(), to: a.shape) : nil
        }
        func fitB(_ gradient: @autoclosure () -> Tensor) -> Tensor? {
            b.dtype == .float32 && needs[1] ? sum(gradient(), to: b.shape) : nil
        }
        switch op {
        case .add: return [fitA(g), fitB(g)]
        case .sub: return [fitA(g), fitB(-g)]
        case .mul: return [fitA(g * b), fitB(g * a)]
        case .div: return [fitA(g / b), fitB(-(g * (a / b) / b))] // from the inputs (in place, the output is overwritten); b * b would underflow
        case .pow:
            // d/da a^b = b a^(b-1); d/db a^b = a^b log a (0 where a is 0 and the power is too).
            // The base's term is 0 where the exponent is (0^-1 would make it NaN at a = 0).
            let base = fitA(Tensor.where(b .== Float(0), Tensor.zeros([], device: a.device), g * b * a.pow(b - 1)))
            let exponent = fitB(Tensor.where(a .== Float(0), Tensor.zeros([], device: a.device), g * output * a.log()))
            return [base, exponent]
        case .maximum, .minimum:
            // Ties split the gradient evenly, as PyTorch's maximum/minimum do.
            let one = Tensor(Float(1), device: g.device), zero = Tensor(Float(0), device: g.device)
            let aWins = Tensor.where(op == .maximum ? a .> b : a .< b, one, zero)
            let tie = Tensor.where(a .== b, Tensor(Float(0.5), device: g.device), zero)
            let share = aWins + tie
            return [fitA(g * share), fitB(g * (1 - share))]
        case .reluGradient:
            return [fitA(Dispatch.run(.binary(.reluGradient), g, b)), nil]
        case .floorDivide, .equal, .notEqual, .less, .lessEqual, .greater, .greaterEqual:
            return [nil, nil]
        }
    }

    private static func reduceGradient(_ op: ReduceOp, axes: [Int], x: Tensor, output: Tensor, _ g: Tensor) -> Tensor? {
        // The reduced axes back as size 1, then broadcast over x.
        let kept = x.shape.indices.map { axes.contains($0) ? 1 : x.shape[$0] }
        let spread = g.reshape(kept)
        switch op {
        case .sum:
            return spread.expand(x.shape)
        case .max, .min:
            // The gradient goes to the extreme elements, split evenly between ties (PyTorch's amax).
            let hits = (x .== output.reshape(kept)).cast(.float32)
            return spread * hits / hits.sum(axes: axes, keepDims: true)
        case .argmax, .argmin:
            return nil
        }
    }

    /// NumPy-style matmul: vectors are matrices with an axis added, batch axes broadcast; only
    /// the operands in `needs` get their product.
    private static func matmulGradients(_ a: Tensor, _ b: Tensor, _ g: Tensor, needs: (a: Bool, b: Bool)) -> [Tensor?] {
        let a2 = a.rank == 1 ? a.unsqueeze(axis: 0) : a
        let b2 = b.rank == 1 ? b.unsqueeze(axis: 1) : b
        var g2 = g
        if a.rank == 1 { g2 = g2.unsqueeze(axis: g2.rank - (b.rank == 1 ? 0 : 1)) }
        if b.rank == 1 { g2 = g2.unsqueeze(axis: g2.rank) }
        // A transposed operand (x @ W.T, a weight seen as [in, out]) gets its gradient made the
        // other way up, (g.T @ a).T, a dense view in the operand's memory order (as PyTorch's mm
        // backward does), so accumulating it into the leaf is a plain copy, not a transpose.
        // Worth it when the product is short (k at most a few times the output's longer side:
        // the MLP's weights, whose transposes cost a third of a GEMM and, for the 10 x 100
        // classifier, a copy as long as its GEMM); a long product (a convolution's weight
        // gradient, k = N * OH * OW, over 50 times its sides) keeps the orientation the forward
        // used, whose GEMM tiles fit better (the CNN's two weight GEMMs ran 1.2x and 1.9x
        // slower the other way up). An operand broadcast over batch axes is summed over them
        // into a fresh tensor either way, and its true depth is k times the batch: it keeps the
        // forward's orientation too.
        func transposed(_ t: Tensor) -> Tensor { t.transpose(-2, -1) }
        func isTransposed(_ t: Tensor, depth k: Int) -> Bool {
            t.rank >= 2 && t.rank == g2.rank && !t.isContiguous && transposed(t).isContiguous
                && k < 4 * Swift.max(t.shape[t.rank - 2], t.shape[t.rank - 1])
        }
        let ga = needs.a ? sum(isTransposed(a2, depth: g2.shape[g2.rank - 1]) ? transposed(b2.matmul(transposed(g2))) : g2.matmul(transposed(b2)),
                               to: a2.shape).reshape(a.shape) : nil
        let gb = needs.b ? sum(isTransposed(b2, depth: g2.shape[g2.rank - 2]) ? transposed(transposed(g2).matmul(a2)) : transposed(a2).matmul(g2),
                               to: b2.shape).reshape(b.shape) : nil
        return [ga, gb]
    }
}
