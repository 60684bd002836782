import Synchronization

/// What autograd knows about one tensor: a leaf that requires grad (its `grad` accumulates
/// here), or the output of a recorded op (`node`).
final class AutogradMeta: Sendable {
    /// The op that made this tensor; nil for a leaf.
    let node: GradNode?
    /// A leaf's accumulated gradient.
    let grad = Mutex<Tensor?>(nil)
    /// The storage's history generation when this history was made: a later in-place write
    /// recorded through another handle of the storage makes it stale.
    let generation: Int

    init(node: GradNode?, generation: Int) {
        self.node = node
        self.generation = generation
    }
}

/// One recorded op: an entry on the tape of the device it ran on.
///
/// It holds what the gradient rule needs (the inputs, their versions at the time, the output
/// without its own record, which would be a cycle) until backward has used it; then it lets
/// them go, so the tensors saved for backward are freed with the graph.
final class GradNode: Sendable {
    let op: Op
    let device: Device
    /// Recording order across every device's tape: backward replays in reverse of it.
    let sequence: UInt64
    private let state: Mutex<State>

    struct State {
        var inputs: [Tensor]
        var versions: [Int]
        var output: Tensor?
        var outputVersion: Int
        var released = false
    }

    init(op: Op, inputs: [Tensor], output: Tensor, device: Device) {
        self.op = op
        self.device = device
        sequence = Tapes.nextSequence()
        state = Mutex(State(inputs: inputs, versions: inputs.map(\.version), output: output, outputVersion: output.version))
        Tapes.count(device, by: 1)
    }

    deinit { Tapes.count(device, by: -1) }

    /// The saved inputs and output, checked against in-place writes since the op ran; nil when
    /// a backward already released them.
    func saved() -> (inputs: [Tensor], output: Tensor)? {
        state.withLock { state in
            guard !state.released, let output = state.output else { return nil }
            // The tensors a rule reads (the inputs; the output for exp, sqrt, softmax, ...) may
            // not have been written since.
            guard op.gradientReadsValues else { return (state.inputs, output) }
            var checked = Array(zip(state.inputs, state.versions))
            if op.gradientReadsOutput { checked.append((output, state.outputVersion)) }
            for (tensor, version) in checked where tensor.version != version {
                checkFailure("backward: \(op.name) saved a tensor of shape \(tensor.shape) at version \(version), and it is now "
                             + "at version \(tensor.version): an in-place write changed it after the op (clone() it first)")
            }
            return (state.inputs, output)
        }
    }

    /// Lets the saved tensors go (after a backward without `retainGraph`).
    func release() {
        state.withLock { state in
            state.inputs = []
            state.output = nil
            state.released = true
        }
    }

    /// The recorded inputs, for walking the graph (empty once released).
    var inputs: [Tensor] { state.withLock { $0.inputs } }
    var isReleased: Bool { state.withLock { $0.released } }
}

/// The tapes: one per device, each the recorded ops of that device still alive. An op is
/// reachable only from the tensors it made, so two training loops (or a loop and a server's
/// requests, which record nothing) never meet in one backward.
public enum Tapes {
    private static let sequence = Atomic<UInt64>(0)
    private static let counts = Mutex<[Device: Int]>([:])

    static func nextSequence() -> UInt64 { sequence.add(1, ordering: .relaxed).newValue }

    static func count(_ device: Device, by delta: Int) {
        counts.withLock { $0[device, default: 0] += delta }
    }

    /// How many recorded ops of `device` are alive (held by tensors that may still be
    /// differentiated): zero again once backward has freed them and their tensors are gone.
    public static func entryCount(on device: Device) -> Int { counts.withLock { $0[device] ?? 0 } }
}
