/// The one place every tensor operation reaches a backend: `run(_:_:into:host:)`.
///
/// Tensor methods validate and normalise their arguments, then call `run` with an `Op`; this
/// layer computes the output's shape and dtype, allocates it (or writes into a destination),
/// launches the kernel, and shows the op to the task's observer (the autograd tape, a tracer, a
/// test). One switch over `Op` runs every primitive, views included, so nothing reaches a
/// backend without passing here, and a lazy graph or kernel fusion can later slot in here
/// without touching the ops.
enum Dispatch {
    /// Whoever watches the ops of the current task (nil: nobody, the common case).
    @TaskLocal static var observer: (any OpObserver)?

    /// Runs `op` on `inputs`. With `destination`, the result is written into that tensor (its
    /// storage's version goes up) and the destination is returned: the in-place form.
    /// `host` carries the bytes of `.fromHost`.
    static func run(_ op: Op, _ inputs: [Tensor], into destination: Tensor? = nil,
                    host: UnsafeRawBufferPointer? = nil) -> Tensor {
        let recordable = inputs.contains(where: { $0.autograd != nil }) || destination?.autograd != nil
        if (1...2).contains(inputs.count), observer == nil, !recordable || !GradMode.isEnabled,
           let output = elementwiseWithoutBookkeeping(op, inputs[0], inputs[inputs.count - 1], into: destination) {
            return output
        }
        return runWithBookkeeping(op, inputs, into: destination, host: host)
    }

    /// `run` past the element-wise shortcut: recording, observers, failed storages, every op.
    static func runWithBookkeeping(_ op: Op, _ inputs: [Tensor], into destination: Tensor? = nil,
                                   host: UnsafeRawBufferPointer? = nil) -> Tensor {
        let output: Tensor
        // Recording needs an input (or the destination) that requires grad; the cheap test first.
        let records = (inputs.contains(where: { $0.autograd != nil }) || destination?.autograd != nil) && GradMode.isEnabled
        if records { checkCurrentHistories(op, inputs) }
        // What the tape entry keeps: in place, inputs that alias the destination are copied
        // before the write (the rule may need the old values).
        var recordedInputs = inputs
        if let destination {
            if records { recordedInputs = inputsForInPlaceRecording(op, inputs, into: destination) }
            check(!destination.storage.isFrozen, "\(op.name): this tensor is a shared constant and cannot be written; clone() it")
            if let failure = destination.storage.failure ?? firstFailure(inputs) {
                checkFailure("\(op.name): cannot write into \(destination.layout.shape): \(failure)")
            }
            do throws(TesselError) {
                try writeInPlace(op, inputs, into: destination, host: host)
            } catch {
                checkFailure("\(op.name) in place: \(error)")
            }
            destination.storage.bumpVersion()
            if records { destination.storage.bumpHistoryGeneration() }
            output = destination
        } else if let failure = firstFailure(inputs) {
            output = withoutKernels(op, inputs, host: host, failure: failure)
        } else {
            do throws(TesselError) {
                output = try execute(op, inputs, host: host)
            } catch {
                output = withoutKernels(op, inputs, host: host, failure: error)
            }
        }
        if let observer { observer.record(OpRecord(op: op, inputs: inputs, output: output, inPlace: destination != nil)) }
        return records ? recorded(op, recordedInputs, output: output) : output
    }

    /// The first input whose storage holds a failure instead of values (a plain loop: every op
    /// asks, and a key-path walk cost more than the rest of a small op's checks).
    private static func firstFailure(_ inputs: [Tensor]) -> TesselError? {
        for input in inputs { if let failure = input.storage.failure { return failure } }
        return nil
    }

    /// The output with a tape entry for `op` when an input requires grad: the one place
    /// autograd records (see Autograd/). An in-place op's entry becomes the destination's
    /// history (PyTorch's rebase): the value it held before feeds the entry as an input.
    private static func recorded(_ op: Op, _ inputs: [Tensor], output: Tensor) -> Tensor {
        // Integer and bool results (casts, comparisons, indices) carry no gradient; neither does
        // a destination overwritten by such an op (a fill): its old history is cut.
        guard op.isDifferentiable && output.dtype == .float32 else { return Tensor(storage: output.storage, layout: output.layout) }
        let node = GradNode(op: op, inputs: inputs, output: Tensor(storage: output.storage, layout: output.layout),
                            device: output.device)
        return Tensor(storage: output.storage, layout: output.layout,
                      autograd: AutogradMeta(node: node, generation: output.storage.historyGeneration))
    }

    /// Stops when an input's history is stale: its storage was since written in place while
    /// recording through another handle (a copy of the variable, another view), so its values
    /// are no longer the ones its history computed.
    private static func checkCurrentHistories(_ op: Op, _ inputs: [Tensor]) {
        for input in inputs {
            guard let meta = input.autograd, meta.generation != input.storage.historyGeneration else { continue }
            checkFailure("\(op.name): an input of shape \(input.layout.shape) was written in place (while recording) through "
                         + "another variable sharing its storage, so its history is stale; use the variable that was written")
        }
    }

    /// Checks that an in-place write into `destination` can be differentiated and returns the
    /// inputs its tape entry keeps. A leaf that requires grad cannot be overwritten (its
    /// gradient would belong to values that are gone; PyTorch refuses too), and neither can a
    /// view of part of a storage: only the view's variable would get the new history, its base
    /// would keep the old one. Inputs that alias the destination are copied first (recorded
    /// copies, so their own history still reaches backward).
    private static func inputsForInPlaceRecording(_ op: Op, _ inputs: [Tensor], into destination: Tensor) -> [Tensor] {
        if let meta = destination.autograd {
            guard let node = meta.node else {
                checkFailure("\(op.name): an in-place write into a leaf that requires grad (shape \(destination.layout.shape)) is not "
                             + "differentiable; update parameters inside Tensor.withoutGrad { }")
            }
            // A view (even of the whole storage) shares its base's storage: only the view's
            // variable would get the new history (and a view of a leaf would overwrite it).
            check(!node.op.isView, "\(op.name): an in-place write into a view (shape \(destination.layout.shape), made by "
                  + "\(node.op.name)) of a tensor that requires grad is not supported while recording; write into the "
                  + "tensor itself, or build the result out of place (cat, where, pad)")
        }
        check(!op.gradientReadsOutput, "\(op.name): has no in-place form while recording (its gradient reads its output)")
        let layout = destination.layout
        check(layout.offset == 0 && layout.count == destination.storage.elementCount && layout.hasNoSelfOverlap,
              "\(op.name): an in-place write into a view (shape \(destination.layout.shape)) of a larger tensor while recording "
              + "gradients is not supported: the base tensor would keep its old history; build the result out of place "
              + "(cat, where, pad) or write it before any input requires grad")
        return inputs.map { $0.storage === destination.storage ? $0.clone() : $0 }
    }

    /// `op` worked out on placeholders after `failure` (a full device): the result has the
    /// shape, dtype and device the op gives, and storage that only reports the failure.
    private static func withoutKernels(_ op: Op, _ inputs: [Tensor], host: UnsafeRawBufferPointer?,
                                       failure: TesselError) -> Tensor {
        let device: Device
        switch op {
        case .full(_, _, _, let target), .fromHost(_, _, let target), .fromBytes(_, _, let target), .transfer(let target):
            device = target
        default:
            device = inputs[0].device
        }
        let failed = FailedBackend(device: device, failure: failure)
        // Each placeholder stays on its own device, so mixing devices still stops.
        let placeholders = inputs.map { input in
            Tensor(storage: TensorStorage(buffer: PlaceholderBuffer(count: input.storage.buffer.count),
                                          backend: input.device == device ? failed : FailedBackend(device: input.device, failure: failure),
                                          dtype: input.dtype, elementCount: input.storage.elementCount), layout: input.layout)
        }
        do throws(TesselError) {
            return try execute(op, placeholders, host: host, creation: failed)
        } catch {
            checkFailure("\(op.name): \(error)") // placeholders never run out of memory
        }
    }

    // MARK: Out of place

    /// Runs `op` out of place. `creation` is the backend that creation ops (and transfers)
    /// allocate on instead of their device's: the placeholder backend after a failure.
    private static func execute(_ op: Op, _ inputs: [Tensor], host: UnsafeRawBufferPointer?,
                                creation: (any Backend)? = nil) throws(TesselError) -> Tensor {
        switch op {
        case .full(let shape, let dtype, _, let device):
            let output = try empty(shape, dtype: dtype, on: (creation ?? device.resolvedBackend))
            try writeElementwise(op, inputs, into: output)
            return output
        case .fromHost(let shape, let dtype, let device):
            let backend = (creation ?? device.resolvedBackend)
            let output = try empty(shape, dtype: dtype, on: backend)
            guard let host else { checkFailure("fromHost: no host bytes given") }
            check(host.count == output.count * 4, "fromHost: \(host.count) bytes for shape \(shape)")
            backend.write(host, to: output.storage.buffer)
            return output

        case .fromBytes(let shape, let dtype, let device):
            let backend = (creation ?? device.resolvedBackend)
            let output = try empty(shape, dtype: dtype, on: backend)
            guard let host else { checkFailure("fromBytes: no host bytes given") }
            check(host.count == output.count, "fromBytes: \(host.count) bytes for shape \(shape)")
            guard output.count > 0 else { return output }
            // Four bytes to a 4-byte slot: the upload is a quarter of the tensor's size.
            let packed = backend.allocate(count: (host.count + 3) / 4)
            if host.count % 4 == 0 {
                backend.write(host, to: packed)
            } else {
                var padded = [UInt8](repeating: 0, count: (host.count + 3) / 4 * 4)
                padded.withUnsafeMutableBytes { $0.copyMemory(from: host) }
                padded.withUnsafeBytes { backend.write($0, to: packed) }
            }
            backend.unpackBytes(packed, scale: 1, shift: 0, into: output.view)
            return output
        case .unpackBytes(let dtype, let scale, let shift):
            check(dtype == .float32 || (scale == 1 && shift == 0), "unpackBytes: int32 bytes are not scaled")
            // The backends read packed bytes from the start of a buffer, in order.
            let x = inputs[0]
            let packed = x.isContiguous && x.offset == 0 ? x : try copy(x)
            var shape = x.layout.shape
            shape[shape.count - 1] *= 4
            let output = try empty(shape, dtype: dtype, on: packed.storage.backend)
            if output.count > 0 { packed.storage.backend.unpackBytes(packed.storage.buffer, scale: scale, shift: shift, into: output.view) }
            return output

        case .reshape(let shape):
            let x = inputs[0]
            if let view = x.layout.reshapedView(shape) { return x.viewing(view) }
            return try copy(x).viewing(Layout(contiguous: shape))
        case .permute(let order):
            return inputs[0].viewing(inputs[0].layout.permuted(order))
        case .expand(let shape):
            return inputs[0].viewing(inputs[0].layout.broadcast(to: shape, op: "expand"))
        case .slice(let indices):
            return inputs[0].viewing(inputs[0].layout.sliced(indices))
        case .asStrided(let shape, let strides, let offset):
            let x = inputs[0]
            let layout = Layout(shape: shape, strides: strides, offset: offset)
            check(layout.fits(in: x.storage.buffer.count),
                  "asStrided: \(layout) reaches outside the storage of \(x.storage.buffer.count) elements under \(x.layout.shape)")
            return x.viewing(layout)

        case .contiguous:
            return try copy(inputs[0])
        case .transfer(let device):
            let x = inputs[0]
            let backend = creation ?? device.resolvedBackend
            let output = try empty(x.layout.shape, dtype: x.dtype, on: backend)
            // Through host memory; placeholders (after a failure) have nothing to move.
            if x.storage.failure == nil { download(x).withUnsafeBytes { backend.write($0, to: output.storage.buffer) } }
            return output
        case .cat(let axis):
            return try concatenate(inputs, axis: axis)
        case .pad(let widths, let mode):
            return try pad(inputs[0], widths: widths, mode: mode)

        case .cast, .unary, .binary, .select, .addingProduct, .gather, .assign:
            let (shape, dtype) = elementwiseResult(op, inputs)
            let output = try empty(shape, dtype: dtype, on: inputs[0].storage.backend, like: inputs)
            try writeElementwise(op, inputs, into: output)
            return output

        case .reduce(let reduction, let axes):
            return try reduce(reduction, inputs[0], axes: axes)
        case .softmax(let axis, let log):
            return try softmax(inputs[0], axis: axis, log: log)
        case .matmul:
            return try matmul(inputs[0], inputs[1], bias: nil)
        case .addmm:
            return try matmul(inputs[1], inputs[2], bias: inputs[0])
        case .scan(let scan, let axis):
            return try alongLastAxis(inputs[0], axis: axis, dtype: inputs[0].dtype) { backend, input, output in
                backend.scan(scan, input, into: output)
            }
        case .argsort(let axis, let descending):
            return try alongLastAxis(inputs[0], axis: axis, dtype: .int32) { backend, input, output in
                backend.argsort(input, descending: descending, into: output)
            }
        case .scatterAdd(let axis):
            let output = try copy(inputs[0])
            try scatterAdd(into: output, axis: axis, index: inputs[1], source: inputs[2])
            return output
        case .warpAffine:
            let images = try contiguous(inputs[0])
            let parameters = try contiguous(inputs[1])
            let output = try empty(images.layout.shape, dtype: .float32, on: images.storage.backend)
            if output.count > 0 { images.storage.backend.warpAffine(images.view, parameters: parameters.view, into: output.view) }
            return output
        case .unfold(let windows, let channelsLast):
            let x = try kernelReady(inputs[0])
            let (n, c, h, w) = (x.layout.shape[0], x.layout.shape[1], x.layout.shape[2], x.layout.shape[3])
            guard let size = windows.outputSize(height: h, width: w) else { checkFailure("unfold: the windows do not fit \(x.layout.shape)") }
            let output = try empty([n, size.height, size.width, c * windows.kernelCount], dtype: .float32, on: x.storage.backend)
            if output.count > 0 { x.storage.backend.unfold(x.view, windows, channelsLast: channelsLast, into: output.view) }
            return output
        case .fold(let windows, let height, let width, let channelsLast):
            let columns = try contiguous(inputs[0])
            let shape = [columns.layout.shape[0], columns.layout.shape[3] / windows.kernelCount, height, width]
            // Channels-last memory, the order the GEMMs around it use: a convolution's or a
            // pool's input gradient then reaches the next GEMM (rows of channels) as a view.
            let output = try empty(shape, dtype: .float32, on: columns.storage.backend, memoryOrder: [0, 2, 3, 1])
            if output.count > 0 { columns.storage.backend.fold(columns.view, windows, channelsLast: channelsLast, into: output.view) }
            return output
        case .windowArgmax(let windows), .windowMax(let windows):
            let x = try kernelReady(inputs[0])
            guard let size = windows.outputSize(height: x.layout.shape[2], width: x.layout.shape[3]) else {
                checkFailure("\(op.name): the windows do not fit \(x.layout.shape)")
            }
            let positions = op == .windowArgmax(windows)
            // In the images' memory order (channels-last images give channels-last results).
            let output = try empty([x.layout.shape[0], x.layout.shape[1], size.height, size.width], dtype: positions ? .int32 : .float32,
                                   on: x.storage.backend, memoryOrder: x.layout.denseAxisOrder)
            if output.count > 0 {
                if positions {
                    x.storage.backend.windowArgmax(x.view, windows, into: output.view)
                } else {
                    x.storage.backend.windowMax(x.view, windows, into: output.view)
                }
            }
            return output
        case .windowMaxGradient(let windows):
            let x = try kernelReady(inputs[0]), gradient = try kernelReady(inputs[1])
            // In the images' memory order when each image is one block of it (channels-last
            // images give a channels-last gradient, which the convolution before reads as rows).
            let order = x.layout.denseAxisOrder.flatMap { $0.first == 0 ? $0 : nil }
            let output = try empty(x.layout.shape, dtype: .float32, on: x.storage.backend, memoryOrder: order)
            if output.count > 0 { x.storage.backend.windowMaxGradient(x.view, gradient.view, windows, into: output.view) }
            return output
        }
    }

    // MARK: In place

    /// Writes `op`'s result into `destination`. Element-wise ops write straight into its view
    /// when no input overlaps it differently; every other op (and an overlapping one) computes
    /// a fresh result and copies it in.
    private static func writeInPlace(_ op: Op, _ inputs: [Tensor], into destination: Tensor, host: UnsafeRawBufferPointer?) throws(TesselError) {
        check(!op.isView, "\(op.name): a view cannot be written in place")
        check(destination.layout.hasNoSelfOverlap || destination.layout.elementsAreDistinct,
              "\(op.name): the destination \(destination.layout) has elements that share memory (an expanded view); clone() it first")
        if case .scatterAdd(let axis) = op {
            check(inputs[0].storage === destination.storage && inputs[0].layout == destination.layout,
                  "scatterAdd: in place, the base is the destination")
            try scatterAdd(into: destination, axis: axis, index: inputs[1], source: inputs[2])
            return
        }
        let direct: Bool
        switch op {
        // Each output element depends on the same position of each input only; a gather reads
        // other positions, so it always goes through a fresh result (it may read its destination).
        case .full, .cast, .unary, .binary, .select, .addingProduct, .assign:
            let (shape, dtype) = elementwiseResult(op, inputs, destination: destination)
            check(shape == destination.layout.shape,
                  "\(op.name): the result's shape \(shape) does not match the destination's \(destination.layout.shape)")
            check(dtype == destination.dtype || (destination.dtype == .float32 && dtype != .bool) || op == .assign,
                  "\(op.name): a \(dtype) result cannot be written into a \(destination.dtype) tensor")
            direct = dtype == destination.dtype
                && inputs.allSatisfy { $0.storage !== destination.storage || $0.layout == destination.layout }
        default:
            direct = false
        }
        if direct {
            try writeElementwise(op, inputs, into: destination)
            return
        }
        var result = try execute(op, inputs, host: host)
        if result.dtype != destination.dtype { result = try execute(.cast(destination.dtype), [result], host: nil) }
        check(result.layout.shape == destination.layout.shape || Layout.canBroadcast(result.layout.shape, to: destination.layout.shape),
              "\(op.name): the result's shape \(result.layout.shape) does not match the destination's \(destination.layout.shape)")
        try copy(result.view.with(result.layout.broadcast(to: destination.layout.shape, op: op.name)), into: destination)
    }

    // MARK: Element-wise family

    /// Shape and dtype of an element-wise op's result (an `assign` takes the destination's).
    private static func elementwiseResult(_ op: Op, _ inputs: [Tensor], destination: Tensor? = nil) -> (Dims, DType) {
        switch op {
        case .full(let shape, let dtype, _, _): return (Dims(shape), dtype)
        case .cast(let dtype): return (inputs[0].layout.shape, dtype)
        case .assign:
            let target = destination?.layout.shape ?? inputs[0].layout.shape
            check(Layout.canBroadcast(inputs[0].layout.shape, to: target),
                  "copy: source shape \(inputs[0].layout.shape) cannot be broadcast to the destination's \(target)")
            return (target, destination?.dtype ?? inputs[0].dtype)
        case .unary: return (inputs[0].layout.shape, inputs[0].dtype)
        case .binary(let binary):
            sameDevice(binary.rawValue, inputs[0], inputs[1])
            let shape = Layout.broadcastShape(inputs[0].layout.shape, inputs[1].layout.shape, op: binary.rawValue)
            return (shape, binary.isComparison ? .bool : binary.resultType(inputs[0].dtype, inputs[1].dtype))
        case .select:
            sameDevice("where", inputs[0], inputs[1])
            sameDevice("where", inputs[1], inputs[2])
            let shape = Layout.broadcastShape(Layout.broadcastShape(inputs[0].layout.shape, inputs[1].layout.shape, op: "where"),
                                              inputs[2].layout.shape, op: "where")
            return (shape, selectType(inputs[1].dtype, inputs[2].dtype))
        case .addingProduct:
            sameDevice("addingProduct", inputs[0], inputs[1])
            sameDevice("addingProduct", inputs[1], inputs[2])
            let shape = Layout.broadcastShape(Layout.broadcastShape(inputs[0].layout.shape, inputs[1].layout.shape, op: "addingProduct"),
                                              inputs[2].layout.shape, op: "addingProduct")
            return (shape, .float32)
        case .gather:
            sameDevice("gather", inputs[0], inputs[1])
            return (inputs[1].layout.shape, inputs[0].dtype)
        default:
            checkFailure("\(op.name) is not element-wise")
        }
    }

    /// `where`'s dtype: float32 if either side is, else the common dtype (int32 for a mix).
    static func selectType(_ a: DType, _ b: DType) -> DType {
        a == .float32 || b == .float32 ? .float32 : (a == b ? a : .int32)
    }

    /// Runs an element-wise op's kernel into `output` (same shape, the op's dtype, no overlap
    /// with the inputs except an identical view).
    private static func writeElementwise(_ op: Op, _ inputs: [Tensor], into output: Tensor) throws(TesselError) {
        guard output.count > 0 else { return }
        let backend = output.storage.backend
        let shape = output.layout.shape
        /// An input as the kernel sees it: broadcast to the output's shape, converted to `dtype`.
        func operand(_ x: Tensor, _ dtype: DType, _ name: String) throws(TesselError) -> StridedView {
            if x.dtype == dtype { return StridedView(buffer: x.storage.buffer, dtype: dtype, layout: x.layout.broadcast(to: shape, op: name)) }
            let converted = try execute(.cast(dtype), [x], host: nil)
            return converted.view.with(converted.layout.broadcast(to: shape, op: name))
        }
        switch op {
        case .full(_, _, let bits, _):
            if output.isContiguous {
                backend.fill(output.storage.buffer, offset: output.offset, count: output.count, bits: bits)
            } else {
                let scalar = try execute(.full(shape: [], dtype: output.dtype, bits: bits, device: output.device), [], host: nil,
                                         creation: output.storage.backend)
                try copy(scalar.view.with(scalar.layout.broadcast(to: shape, op: "fill")), into: output)
            }
        case .cast(let dtype):
            backend.cast(inputs[0].view, to: dtype, into: output.view)
        case .assign:
            try copy(operand(inputs[0], output.dtype, "copy"), into: output)
        case .unary(let unary):
            backend.unary(unary, inputs[0].view, into: output.view)
        case .binary(let binary):
            let type = binary.operandType(inputs[0].dtype, inputs[1].dtype)
            backend.binary(binary, try operand(inputs[0], type, binary.rawValue), try operand(inputs[1], type, binary.rawValue),
                           into: output.view)
        case .select:
            let type = output.dtype
            backend.select(inputs[0].view.with(inputs[0].layout.broadcast(to: shape, op: "where")),
                           try operand(inputs[1], type, "where"), try operand(inputs[2], type, "where"), into: output.view)
        case .addingProduct:
            backend.addingProduct(try operand(inputs[0], .float32, "addingProduct"), try operand(inputs[1], .float32, "addingProduct"),
                                  try operand(inputs[2], .float32, "addingProduct"), into: output.view)
        case .gather(let axis):
            backend.gather(try kernelReady(inputs[0]).view, axis: axis, index: inputs[1].view, into: output.view)
        default:
            checkFailure("\(op.name) is not element-wise")
        }
    }

    // MARK: Other families

    /// Reduces `axes` (normalised, sorted, unique) of `x`; the result drops those axes.
    static func reduce(_ op: ReduceOp, _ x: Tensor, axes: [Int]) throws(TesselError) -> Tensor {
        // The kept axes first, then the reduced ones: the order the backend reads.
        var order = Dims(), outputShape = Dims()
        for axis in 0..<x.rank where !axes.contains(axis) {
            order.append(axis)
            outputShape.append(x.layout.shape[axis])
        }
        for axis in axes { order.append(axis) }
        // A sum of a mask counts: bool (stored as int32 0/1) sums as int32, as in NumPy.
        let inputType = op == .sum && x.dtype == .bool ? DType.int32 : x.dtype
        let output = try empty(outputShape, dtype: op.isArg ? .int32 : inputType, on: x.storage.backend)
        if output.count > 0 {
            check(axes.allSatisfy { x.layout.shape[$0] > 0 } || op == .sum,
                  "\(op.rawValue): cannot reduce over an empty axis of shape \(x.layout.shape)")
            check(!op.isArg || axes.map { x.layout.shape[$0] }.reduce(1, *) <= Int(Int32.max),
                  "\(op.rawValue): \(axes.map { x.layout.shape[$0] }.reduce(1, *)) reduced elements of shape \(x.layout.shape) exceed the int32 index it returns")
            let source = try kernelReady(x)
            let input = StridedView(buffer: source.storage.buffer, dtype: inputType, layout: source.layout.permuted(order))
            x.storage.backend.reduce(op, input, reducedRank: axes.count, into: output.storage.buffer)
        }
        return output
    }

    /// Softmax or log-softmax along `axis` of float32 `x`: the axis is moved last (a view), the
    /// backend normalises each row, and the result is permuted back (a view of a contiguous
    /// buffer, as the composed ops would give for the last axis).
    private static func softmax(_ x: Tensor, axis: Int, log: Bool) throws(TesselError) -> Tensor {
        let source = try kernelReady(x)
        let rank = Swift.max(x.rank, 1)
        let layout = x.rank == 0 ? Layout(shape: [1], strides: [1], offset: source.offset) : source.layout
        let order = (0..<rank).filter { $0 != axis } + [axis]
        let input = source.view.with(layout.permuted(order))
        let output = try empty(input.layout.shape, dtype: .float32, on: x.storage.backend)
        if output.count > 0 { x.storage.backend.softmax(input, log: log, into: output.storage.buffer) }
        if x.rank == 0 { return output.viewing(Layout(contiguous: [])) }
        var inverse = [Int](repeating: 0, count: rank)
        for (position, original) in order.enumerated() { inverse[original] = position }
        return output.viewing(output.layout.permuted(inverse))
    }

    /// NumPy's `matmul` of float32 `a` and `b`: vectors gain an axis (dropped again after),
    /// batch axes broadcast, and the backend sees [batch, m, k] x [batch, k, n] views. A `bias`
    /// is broadcast into the output first and the GEMM adds its product to it.
    private static func matmul(_ a: Tensor, _ b: Tensor, bias: Tensor?) throws(TesselError) -> Tensor {
        sameDevice("matmul", a, b)
        check(a.rank >= 1 && b.rank >= 1, "matmul: operands need at least one axis, got \(a.layout.shape) and \(b.layout.shape)")
        check(a.dtype == .float32 && b.dtype == .float32, "matmul: needs float32 operands, got \(a.dtype) and \(b.dtype)")
        let left = try kernelReady(a), right = try kernelReady(b)
        var la = left.layout, lb = right.layout
        if a.rank == 1 { la = Layout(shape: [1] + la.shape, strides: [0] + la.strides, offset: la.offset) }
        if b.rank == 1 { lb = Layout(shape: lb.shape + [1], strides: lb.strides + [0], offset: lb.offset) }
        let m = la.shape[la.rank - 2], k = la.shape[la.rank - 1], n = lb.shape[lb.rank - 1]
        check(lb.shape[lb.rank - 2] == k, "matmul: shapes \(a.layout.shape) and \(b.layout.shape) do not chain (\(k) vs \(lb.shape[lb.rank - 2]))")
        let batchShape = Layout.broadcastShape(Dims(la.shape.dropLast(2)), Dims(lb.shape.dropLast(2)), op: "matmul")
        let batch = batchShape.product
        let output = try empty([batch, m, n], dtype: .float32, on: a.storage.backend)
        // A vector operand's added axis is dropped again (vector x vector gives a 0-d tensor).
        let result = output.viewing(Layout(contiguous: batchShape + (a.rank == 1 ? [] : [m]) + (b.rank == 1 ? [] : [n])))
        if let bias {
            sameDevice("addmm", bias, a)
            check(bias.dtype == .float32, "addmm: needs a float32 bias, got \(bias.dtype)")
            check(Layout.canBroadcast(bias.layout.shape, to: result.layout.shape),
                  "addmm: bias \(bias.layout.shape) does not broadcast to the product's shape \(result.layout.shape)")
            if output.count > 0 { try copy(bias.view.with(bias.layout.broadcast(to: result.layout.shape, op: "addmm")), into: result) }
        }
        if output.count > 0 {
            a.storage.backend.matmul(try batched(left, la, batchShape + [m, k], batch: batch),
                                     try batched(right, lb, batchShape + [k, n], batch: batch), into: output.storage.buffer,
                                     accumulate: bias != nil)
        }
        return result
    }

    /// The view [batch, rows, columns] of `layout` (over `x`'s storage) broadcast to `shape`;
    /// copies only when the broadcast batch axes cannot share one stride.
    private static func batched(_ x: Tensor, _ layout: Layout, _ shape: Dims, batch: Int) throws(TesselError) -> StridedView {
        let expanded = layout.broadcast(to: shape, op: "matmul")
        let target = [batch, shape[shape.count - 2], shape[shape.count - 1]]
        if let view = expanded.reshapedView(target) { return x.view.with(view) }
        let dense = try copy(x.viewing(expanded))
        return dense.view.with(Layout(contiguous: target))
    }

    /// A row kernel's result: `axis` of `x` is moved last in both the input view and the view
    /// of a fresh output of `x`'s shape, so the output comes back in `x`'s own axis order.
    private static func alongLastAxis(_ x: Tensor, axis: Int, dtype: DType,
                                      _ launch: (any Backend, StridedView, StridedView) -> Void) throws(TesselError) -> Tensor {
        let output = try empty(x.layout.shape, dtype: dtype, on: x.storage.backend)
        guard x.count > 0 else { return output }
        let source = try kernelReady(x)
        let order = x.rank == 0 ? [] : (0..<x.rank).filter { $0 != axis } + [axis]
        launch(x.storage.backend, source.view.with(source.layout.permuted(order)), output.view.with(output.layout.permuted(order)))
        return output
    }

    /// `x` padded by `widths` (before and after each axis): the new elements filled with a
    /// constant, or taken from `x` itself (reflect, replicate) through one gather per axis.
    private static func pad(_ x: Tensor, widths: [Int], mode: PadMode) throws(TesselError) -> Tensor {
        let shape = x.layout.shape.indices.map { x.layout.shape[$0] + widths[2 * $0] + widths[2 * $0 + 1] }
        if case .constant(let value) = mode {
            let output = try execute(.full(shape: shape, dtype: x.dtype, bits: Tensor.storedBits(value, x.dtype, op: "pad"),
                                       device: x.device), [], host: nil, creation: x.storage.backend)
            var window = output.layout
            window.shape = x.layout.shape
            window.offset = x.layout.shape.indices.reduce(0) { $0 + widths[2 * $1] * output.layout.strides[$1] }
            if x.count > 0 { try copy(x.view, into: output.viewing(window)) }
            return output
        }
        var result = x
        for axis in x.layout.shape.indices where widths[2 * axis] > 0 || widths[2 * axis + 1] > 0 {
            let positions = PadMode.sourcePositions(mode, size: x.layout.shape[axis], before: widths[2 * axis], padded: shape[axis])
            let made = positions.withUnsafeBytes { bytes in
                Result { () throws(TesselError) -> Tensor in
                    try execute(.fromHost(shape: [positions.count], dtype: .int32, device: x.device), [], host: bytes,
                                creation: x.storage.backend)
                }
            }
            let index = try made.get()
            var spread = [Int](repeating: 1, count: x.rank)
            spread[axis] = positions.count
            var target = result.layout.shape
            target[axis] = positions.count
            let expanded = index.viewing(Layout(contiguous: spread).broadcast(to: target, op: "pad"))
            result = try execute(.gather(axis: axis), [result, expanded], host: nil)
        }
        return result
    }

    /// `inputs` joined along `axis` (validated by the tensor layer).
    private static func concatenate(_ inputs: [Tensor], axis: Int) throws(TesselError) -> Tensor {
        let first = inputs[0]
        var shape = first.layout.shape
        shape[axis] = inputs.map { $0.shape[axis] }.reduce(0, +)
        let output = try empty(shape, dtype: first.dtype, on: first.storage.backend)
        var start = 0
        for t in inputs {
            var region = output.layout
            region.shape[axis] = t.shape[axis]
            region.offset = start * output.layout.strides[axis]
            if t.count > 0 { try copy(t.view, into: output.viewing(region)) }
            start += t.shape[axis]
        }
        return output
    }

    /// Adds each element of `source` into `output` at its `index` along `axis`.
    private static func scatterAdd(into output: Tensor, axis: Int, index: Tensor, source: Tensor) throws(TesselError) {
        sameDevice("scatterAdd", output, index)
        sameDevice("scatterAdd", output, source)
        guard index.count > 0 else { return }
        let values = source.dtype == output.dtype ? source : try execute(.cast(output.dtype), [source], host: nil)
        // The source is read over the index's shape (it may be larger, as in PyTorch).
        let window = values.layout.window(index.layout.shape)
        output.storage.backend.scatterAdd(into: output.view, axis: axis, index: index.view, source: values.view.with(window))
    }

    // MARK: Helpers

    /// Fresh uninitialised contiguous tensor. When one of `like` is a dense tensor of that
    /// shape, its layout's arrays are shared instead of built (an op's output usually has its
    /// input's shape, and two arrays per op were a good part of a small op's cost).
    static func empty(_ shape: [Int], dtype: DType, on backend: any Backend, like: [Tensor] = [],
                      memoryOrder: [Int]? = nil) throws(TesselError) -> Tensor {
        try empty(Dims(shape), dtype: dtype, on: backend, like: like, memoryOrder: memoryOrder)
    }

    static func empty(_ shape: Dims, dtype: DType, on backend: any Backend, like: [Tensor] = [],
                      memoryOrder: [Int]? = nil) throws(TesselError) -> Tensor {
        var layout = Layout(contiguous: shape)
        if let order = memoryOrder ?? (like.contains(where: { $0.layout.shape == shape && $0.layout.isContiguous }) ? nil
                                        : like.lazy.compactMap({ $0.layout.shape == shape ? $0.layout.denseAxisOrder : nil }).first) {
            // Keep an operand's memory order (as PyTorch keeps channels-last): the kernel then
            // walks every operand in one run, and later views of the result (the permutation
            // back) stay free.
            let dense = Layout(contiguous: Dims(order.map { shape[$0] }))
            var strides = Dims(repeating: 0, count: shape.count)
            for (position, axis) in order.enumerated() { strides[axis] = dense.strides[position] }
            layout = Layout(shape: shape, strides: strides, offset: 0)
        }
        let count = Layout.elementCount(shape, op: "empty")
        guard let buffer = backend.tryAllocate(count: count) else {
            throw .outOfMemory(device: backend.device.description, bytes: count * dtype.byteSize)
        }
        return Tensor(storage: TensorStorage(buffer: buffer, backend: backend, dtype: dtype, elementCount: count), layout: layout)
    }

    /// A contiguous copy of `x` on the same device.
    private static func copy(_ x: Tensor) throws(TesselError) -> Tensor {
        let output = try empty(x.layout.shape, dtype: x.dtype, on: x.storage.backend)
        if x.count > 0 { try copy(x.view, into: output) }
        return output
    }

    /// Copies `source` element by element into `destination` (same shape and dtype).
    private static func copy(_ source: StridedView, into destination: Tensor) throws(TesselError) {
        guard destination.count > 0 else { return }
        if source.buffer === destination.storage.buffer && source.layout != destination.layout
            && source.layout.overlaps(destination.layout) {
            // An overlapping move (x[1...] = x[..<n-1]): through a temporary, so no element is
            // read after it was overwritten.
            let staged = try empty(destination.layout.shape, dtype: destination.dtype, on: destination.storage.backend)
            destination.storage.backend.copy(source, to: staged.view)
            destination.storage.backend.copy(staged.view, to: destination.view)
            return
        }
        destination.storage.backend.copy(source, to: destination.view)
    }

    /// `x` itself when contiguous, else a contiguous copy (for kernels that index densely).
    private static func contiguous(_ x: Tensor) throws(TesselError) -> Tensor {
        x.isContiguous ? x : try copy(x)
    }

    /// `x` itself, or a contiguous copy when it has reversed (negative-stride) axes: only the
    /// element-wise kernels walk those.
    private static func kernelReady(_ x: Tensor) throws(TesselError) -> Tensor {
        x.layout.strides.allSatisfy({ $0 >= 0 }) ? x : try copy(x)
    }

    /// The elements of `x` in row-major order into `bytes` (waits for the device). A read, not
    /// an op: nothing is recorded.
    static func download(_ x: Tensor, into bytes: UnsafeMutableRawBufferPointer) {
        check(bytes.count == x.count * 4, "download: \(bytes.count) bytes for shape \(x.layout.shape)")
        if let failure = x.storage.failure { checkFailure("reading \(x.layout.shape): \(failure)") }
        do throws(TesselError) {
            let source = x.isContiguous && x.offset == 0 ? x : try copy(x)
            source.storage.backend.read(source.storage.buffer, into: bytes)
        } catch {
            checkFailure("reading \(x.layout.shape): \(error)")
        }
    }

    /// The elements of `x` in row-major order as raw 4-byte patterns.
    static func download(_ x: Tensor) -> [UInt32] {
        [UInt32](unsafeUninitializedCapacity: x.count) { buffer, initialized in
            download(x, into: UnsafeMutableRawBufferPointer(buffer))
            initialized = x.count
        }
    }

    static func sameDevice(_ op: String, _ a: Tensor, _ b: Tensor) {
        // One backend per device: comparing them avoids comparing the devices' names.
        check(a.storage.backend === b.storage.backend || a.device == b.device, "\(op): operands are on \(a.device) and \(b.device); move one with to(_:)")
    }
}

extension BinaryOp {
    /// The dtype both operands are converted to before the kernel runs.
    func operandType(_ a: DType, _ b: DType) -> DType {
        self == .div || self == .reluGradient ? .float32 : a.promoted(with: b)
    }

    /// The dtype of an arithmetic result: true division gives float32 even for integers (as
    /// PyTorch's `/`); the rest promote.
    func resultType(_ a: DType, _ b: DType) -> DType {
        isComparison ? .bool : operandType(a, b)
    }
}
