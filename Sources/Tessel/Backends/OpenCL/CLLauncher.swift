import COpenCL
import Synchronization

/// One argument of a kernel launch, in the kernel's parameter order.
enum CLArg {
    /// A `__global` pointer.
    case buffer(CLBuffer)
    /// An `int` (checked to fit in 32 bits).
    case int(Int)
    /// A `uint`.
    case uint(UInt32)
    /// A struct made only of `int` fields, passed by value (host and device layouts agree
    /// because every field is 4 bytes with 4-byte alignment).
    case ints([Int32])
    /// `__local` memory of this many bytes.
    case local(bytes: Int)
}

/// A kernel of a built program.
final class CLKernel: Sendable {
    let handle: CLHandle
    let name: String
    /// `CL_KERNEL_WORK_GROUP_SIZE`: can be below the device's limit for register-hungry kernels.
    let maxWorkGroupSize: Int

    init(handle: CLHandle, name: String, maxWorkGroupSize: Int) {
        self.handle = handle
        self.name = name
        self.maxWorkGroupSize = maxWorkGroupSize
    }

    /// The largest power of two up to `preferred` that the kernel accepts as a 1-D work-group.
    func workGroupSize(preferred: Int) -> Int {
        var size = 1
        while size * 2 <= Swift.min(preferred, maxWorkGroupSize) { size *= 2 }
        return size
    }
}

/// How long one profiled kernel ran on the device.
public struct CLKernelTiming: Sendable {
    /// The kernel's function name in `Kernels/*.cl`.
    public let kernel: String
    /// From `CL_PROFILING_COMMAND_START` to `CL_PROFILING_COMMAND_END`.
    public let nanoseconds: UInt64
}

/// Sets arguments and enqueues kernels on one in-order queue, and makes the blocking reads and
/// writes on it.
///
/// `clSetKernelArg` changes state stored in the shared `cl_kernel`, so two threads launching the
/// same kernel could interleave their arguments: the lock covers setting them and the enqueue
/// that captures them. Launches never wait for the device.
///
/// On a CPU driver (pocl) every enqueue of a ready command wakes the driver's worker threads,
/// and that wake-up was most of a small op's cost (5-7 us of futex calls per launch). There the
/// launcher holds commands back as OpenCL allows until a flush: the first command after a
/// release waits on a user event, the in-order queue keeps the rest behind it, and the event
/// completes after `heldCommandLimit` launches or before anything waits for the device (a
/// read, a write, `finish`), so the workers wake once per batch. GPU drivers queue commands
/// without waking anyone, and there commands go to the device at once.
final class CLLauncher: Sendable {
    private struct State {
        var profiling = false
        var events: [(kernel: String, event: CLHandle)] = []
        /// The user event the held commands wait behind, and how many were launched since.
        var gate: CLHandle?
        var held = 0
    }

    let queue: CLHandle
    private let state = Mutex(State())
    /// The context user events are made in, when commands are held back (CPU drivers); nil
    /// when every launch goes to the device at once.
    private let holdingContext: CLHandle?

    /// Launches held back before they are released to the device.
    static let heldCommandLimit = 64

    deinit { state.withLock { release(&$0) } }

    /// Smallest work-group `launch(_:count:groups:)` shrinks to: a warp on GPUs (narrower groups
    /// leave lanes idle), 1 on CPU drivers.
    let minimumGroupSize: Int

    init(queue: CLHandle, minimumGroupSize: Int, holdingCommandsIn context: CLHandle? = nil) {
        self.queue = queue
        self.minimumGroupSize = minimumGroupSize
        holdingContext = context
    }

    /// Enqueues `kernel` over a 1-D range of `count` work-items, rounded up to whole work-groups
    /// (kernels check their index against the count they are given).
    ///
    /// `groups` is the fewest work-groups worth having: kernels whose work-items each do a lot
    /// (a long run of elements) ask for several per compute unit, because CPU drivers run each
    /// work-group on one core.
    func launch(_ kernel: CLKernel, count: Int, groups: Int = 1, _ args: [CLArg]) {
        guard count > 0 else { return }
        var local = kernel.workGroupSize(preferred: 256)
        while local / 2 >= minimumGroupSize && (count + local - 1) / local < groups { local /= 2 }
        launch(kernel, global: [(count + local - 1) / local * local], local: [local], args)
    }

    /// Enqueues `kernel` over `global` work-items in groups of `local` (nil: the driver chooses).
    func launch(_ kernel: CLKernel, global: [Int], local: [Int]?, _ args: [CLArg]) {
        guard global.allSatisfy({ $0 > 0 }) else { return }
        let raw = kernel.handle.raw
        state.withLock { state in
            for (index, arg) in args.enumerated() {
                let position = cl_uint(index)
                let status: cl_int
                switch arg {
                case .buffer(let buffer):
                    var memory: cl_mem? = buffer.memory.raw
                    status = clSetKernelArg(raw, position, MemoryLayout<cl_mem?>.size, &memory)
                case .int(let value):
                    check(value >= Int(Int32.min) && value <= Int(Int32.max),
                                 "\(kernel.name): argument \(index) = \(value) does not fit in 32 bits")
                    var narrow = Int32(value)
                    status = clSetKernelArg(raw, position, 4, &narrow)
                case .uint(var value):
                    status = clSetKernelArg(raw, position, 4, &value)
                case .ints(let fields):
                    status = fields.withUnsafeBytes { clSetKernelArg(raw, position, $0.count, $0.baseAddress) }
                case .local(let bytes):
                    status = clSetKernelArg(raw, position, bytes, nil)
                }
                clMust(status, "clSetKernelArg(\(kernel.name), \(index))")
            }
            var event: cl_event?
            let localSizes = local ?? []
            let profiling = state.profiling
            // Profiled kernels are timed one by one, so they are never held.
            var gate: cl_event? = profiling ? nil : holdingGate(&state)
            let waits = gate == nil ? 0 : 1
            let status = global.withUnsafeBufferPointer { globalSizes in
                localSizes.withUnsafeBufferPointer { localPointer in
                    withUnsafeMutablePointer(to: &event) { eventPointer in
                        withUnsafeMutablePointer(to: &gate) { gatePointer in
                            clEnqueueNDRangeKernel(queue.raw, raw, cl_uint(global.count), nil, globalSizes.baseAddress,
                                                   local == nil ? nil : localPointer.baseAddress, cl_uint(waits),
                                                   waits == 0 ? nil : gatePointer, profiling ? eventPointer : nil)
                        }
                    }
                }
            }
            clMust(status, "clEnqueueNDRangeKernel(\(kernel.name))")
            if let event { state.events.append((kernel.name, CLHandle(event, release: clReleaseEvent))) }
            if state.held >= CLLauncher.heldCommandLimit { release(&state) }
        }
    }

    /// The user event a launch waits on when commands are held: a fresh one for the first
    /// launch after a release, nil for the rest (the in-order queue keeps them behind it) and
    /// when nothing is held.
    private func holdingGate(_ state: inout State) -> cl_event? {
        guard let context = holdingContext else { return nil }
        state.held += 1
        guard state.gate == nil else { return nil }
        var status: cl_int = CL_SUCCESS
        guard let event = clCreateUserEvent(context.raw, &status), status == CL_SUCCESS else {
            clMust(status, "clCreateUserEvent")
            return nil
        }
        state.gate = CLHandle(event, release: clReleaseEvent)
        return event
    }

    /// Lets the held commands run.
    private func release(_ state: inout State) {
        state.held = 0
        guard let gate = state.gate else { return }
        clMust(clSetUserEventStatus(gate.raw, CL_COMPLETE), "clSetUserEventStatus")
        state.gate = nil
    }

    /// Lets the held launches run (before OpenCL objects they may use are released).
    func releaseHeldCommands() {
        guard holdingContext != nil else { return }
        state.withLock { release(&$0) }
    }

    /// Enqueues `command` (which returns its event) right after releasing the held commands,
    /// under the lock, then waits for its event outside it. Under the lock, no other thread can
    /// slip held commands in ahead of it; outside it, other threads keep launching while this
    /// one waits (their commands queue behind it, so they cannot hold it up).
    private func enqueueAndWait(_ name: String, _ command: (inout cl_event?) -> cl_int) {
        var event: cl_event?
        state.withLock { state in
            release(&state)
            clMust(command(&event), name)
        }
        guard let event else { return }
        let handle = CLHandle(event, release: clReleaseEvent)
        var raw: cl_event? = handle.raw
        clMust(clWaitForEvents(1, &raw), "clWaitForEvents(\(name))")
    }

    /// Waits until every command enqueued before has finished.
    func finish() {
        enqueueAndWait("clEnqueueMarkerWithWaitList") { clEnqueueMarkerWithWaitList(queue.raw, 0, nil, &$0) }
    }

    /// Copies `bytes` into `memory` and returns when done (after every command enqueued before).
    func write(_ bytes: UnsafeRawPointer, count: Int, to memory: CLHandle) {
        enqueueAndWait("clEnqueueWriteBuffer") {
            clEnqueueWriteBuffer(queue.raw, memory.raw, cl_bool(CL_FALSE), 0, count, bytes, 0, nil, &$0)
        }
    }

    /// Copies `count` bytes of `memory` into `bytes` once every command enqueued before has run.
    func read(_ memory: CLHandle, count: Int, into bytes: UnsafeMutableRawPointer) {
        enqueueAndWait("clEnqueueReadBuffer") {
            clEnqueueReadBuffer(queue.raw, memory.raw, cl_bool(CL_FALSE), 0, count, bytes, 0, nil, &$0)
        }
    }

    /// Starts recording an event per launch (discarding any earlier recording). Held launches
    /// are released first, so profiled kernels never wait behind them.
    func startProfiling() {
        state.withLock { state in
            release(&state)
            state.profiling = true
            state.events = []
        }
    }

    /// Stops recording, waits for the recorded kernels and returns how long each ran, in launch order.
    func stopProfiling() -> [CLKernelTiming] {
        let recorded = state.withLock { state in
            state.profiling = false
            defer { state.events = [] }
            return state.events
        }
        finish()
        return recorded.map { kernel, event in
            var start: cl_ulong = 0, end: cl_ulong = 0
            clMust(clGetEventProfilingInfo(event.raw, cl_profiling_info(CL_PROFILING_COMMAND_START), 8, &start, nil),
                   "clGetEventProfilingInfo")
            clMust(clGetEventProfilingInfo(event.raw, cl_profiling_info(CL_PROFILING_COMMAND_END), 8, &end, nil),
                   "clGetEventProfilingInfo")
            return CLKernelTiming(kernel: kernel, nanoseconds: end >= start ? end - start : 0)
        }
    }
}
