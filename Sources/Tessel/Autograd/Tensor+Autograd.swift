// Reverse-mode autograd. Ops on tensors that require grad are recorded (one entry per op, on
// the tape of the op's device); `backward()` replays the entries reachable from the result in
// reverse recording order, applying the gradient rules of Autograd/Gradients.swift, and
// accumulates into each leaf's `grad`.

extension Tensor {
    /// True for a leaf made with `requiringGrad()` and for every float32 result of ops on one.
    public var requiresGrad: Bool { autograd != nil }

    /// The same values as a leaf that requires grad: backward accumulates into its `grad`.
    /// As `torch.tensor(..., requires_grad=True)` or `x.requires_grad_()`.
    public func requiringGrad() -> Tensor {
        check(dtype == .float32, "requiringGrad: only float32 tensors have gradients, got \(dtype)")
        return Tensor(storage: storage, layout: layout, autograd: AutogradMeta(node: nil, generation: storage.historyGeneration))
    }

    /// The same values cut from the graph: no gradient flows through it.
    public func detach() -> Tensor { Tensor(storage: storage, layout: layout) }

    /// A leaf's gradient, accumulated over backward calls until `zeroGrad()`; nil before the
    /// first backward that reaches it, and for tensors that are not leaves.
    public var grad: Tensor? { autograd?.grad.withLock { $0 } }

    /// Forgets the accumulated gradient.
    public func zeroGrad() { autograd?.grad.withLock { $0 = nil } }

    /// False inside `withoutGrad` (in this task), as PyTorch's `torch.is_grad_enabled()`: ops
    /// record for autograd only when it is true and an input requires grad.
    public static var isGradEnabled: Bool { GradMode.isEnabled }

    /// Runs `body` without recording: parameter updates (`params -= lr * params.grad!`, which
    /// keeps `params` the same leaf) and inference. Task-local: other tasks keep recording.
    public static func withoutGrad<R>(_ body: () throws -> R) rethrows -> R {
        try GradMode.$isEnabled.withValue(false, operation: body)
    }

    /// `withoutGrad` for async bodies.
    public static func withoutGrad<R>(_ body: () async throws -> R) async rethrows -> R {
        try await GradMode.$isEnabled.withValue(false, operation: body)
    }

    /// Backpropagates from this one-element tensor (d self / d self = 1).
    public func backward(retainGraph: Bool = false) {
        check(count == 1, "backward: the result has shape \(shape); pass backward(gradient:) for a non-scalar")
        backward(gradient: Tensor.ones(shape, device: device), retainGraph: retainGraph)
    }

    /// Backpropagates `gradient` (this tensor's shape) into every leaf this tensor depends on.
    /// The graph's saved tensors are released afterwards unless `retainGraph` is set; a second
    /// backward over a released graph stops with a message.
    public func backward(gradient: Tensor, retainGraph: Bool = false) {
        check(gradient.shape == shape, "backward: gradient of shape \(gradient.shape) for a result of shape \(shape)")
        guard let meta = autograd else { checkFailure("backward: this tensor does not require grad (no input did)") }
        check(meta.generation == storage.historyGeneration,
              "backward: this tensor was written in place (while recording) through another variable sharing its storage, "
              + "so its history is stale; call backward on the variable that was written")
        Tensor.withoutGrad {
            Backpropagation(root: meta, gradient: gradient.detach()).run(retainGraph: retainGraph)
        }
    }

    /// `f(parameters)` and its gradient with respect to each parameter, without touching any
    /// tensor's `grad`: the functional form (as `mlx.value_and_grad`).
    public static func valueAndGrad(of f: ([Tensor]) -> Tensor, at parameters: [Tensor]) -> (value: Tensor, gradients: [Tensor]) {
        let leaves = parameters.map { $0.detach().requiringGrad() }
        let value = f(leaves)
        value.backward()
        return (value.detach(), zip(leaves, parameters).map { leaf, parameter in
            leaf.grad ?? Tensor.zeros(parameter.shape, device: parameter.device)
        })
    }
}

/// One backward pass: the reachable entries in reverse recording order, each handing its
/// output's gradient to its rule and the results to its inputs.
private struct Backpropagation {
    let root: AutogradMeta
    let gradient: Tensor

    func run(retainGraph: Bool) {
        guard let start = root.node else {
            var given = gradient
            accumulate(&given, into: root)
            return
        }
        // Every entry reachable from the result, found once each.
        var nodes: [ObjectIdentifier: GradNode] = [:]
        var pending = [start]
        while let node = pending.popLast() {
            guard nodes[ObjectIdentifier(node)] == nil else { continue }
            check(!node.isReleased, "backward: \(node.op.name)'s saved tensors were already freed by an earlier backward; "
                  + "pass retainGraph: true to the first one to backpropagate twice")
            nodes[ObjectIdentifier(node)] = node
            for input in node.inputs { if let parent = input.autograd?.node { pending.append(parent) } }
        }
        var gradients: [ObjectIdentifier: Tensor] = [ObjectIdentifier(start): gradient]
        for node in nodes.values.sorted(by: { $0.sequence > $1.sequence }) {
            let key = ObjectIdentifier(node)
            guard gradients[key] != nil, let (inputs, output) = node.saved() else {
                // Reached but given no gradient: freed with the rest of the graph all the same.
                gradients[key] = nil
                if !retainGraph { node.release() }
                continue
            }
            // The output's gradient is handed over, not kept: an input's gradient is often a view
            // of it (a permute's, a reshape's), which can then be the only holder of its storage.
            var inputGradients = Gradients.of(node.op, inputs: inputs, output: output, gradient: gradients.removeValue(forKey: key)!,
                                              needs: inputs.map { $0.autograd != nil })
            for (index, input) in inputs.enumerated() {
                // Taken out of the array, so a gradient nothing else shares is held once.
                guard var fitted = inputGradients[index], let meta = input.autograd else { continue }
                inputGradients[index] = nil
                if fitted.shape != input.shape { fitted = fitted.reshape(input.shape) }
                if let parent = meta.node {
                    let parentKey = ObjectIdentifier(parent)
                    gradients[parentKey] = gradients[parentKey].map { $0 + fitted } ?? fitted
                } else {
                    accumulate(&fitted, into: meta)
                }
            }
            if !retainGraph { node.release() }
        }
    }

    private func accumulate(_ gradient: inout Tensor, into leaf: AutogradMeta) {
        let owned = gradient.ownsItsStorageAlone()
        leaf.grad.withLock { grad in
            // A tensor of the leaf's own: a later in-place update of the gradient (an
            // optimizer's) never writes into a tensor the graph handed around. A first gradient
            // that nothing else holds is kept as it is (PyTorch's AccumulateGrad steals it too);
            // any other is copied.
            grad = grad.map { $0 + gradient } ?? (owned ? gradient : gradient.clone())
        }
    }
}

extension Tensor {
    /// A 1-D leaf: `Tensor([1, 2, 3] as [Float], requiresGrad: true)`, as PyTorch's
    /// `torch.tensor(..., requires_grad=True)`.
    public init<S: TensorScalar>(_ scalars: [S], device: Device = .default, requiresGrad: Bool) {
        let values = Tensor(scalars, device: device)
        self = requiresGrad ? values.requiringGrad() : values
    }

    /// A leaf of `shape` from row-major `scalars`.
    public init<S: TensorScalar>(_ scalars: [S], shape: [Int], device: Device = .default, requiresGrad: Bool) throws(TesselError) {
        let values = try Tensor(scalars, shape: shape, device: device)
        self = requiresGrad ? values.requiringGrad() : values
    }

    /// A leaf from nested arrays.
    public init<Element: TensorLiteral>(_ nested: [[Element]], device: Device = .default, requiresGrad: Bool) {
        let values = Tensor(nested, device: device)
        self = requiresGrad ? values.requiringGrad() : values
    }
}
