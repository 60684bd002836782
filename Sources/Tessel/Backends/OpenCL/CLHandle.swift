import COpenCL

/// Owns one OpenCL object (context, queue, program, kernel, memory object or event) and
/// releases it when the last Swift reference goes.
///
/// OpenCL handles import as `OpaquePointer`, which is not `Sendable`. Sharing them across threads
/// is safe here because the OpenCL 1.2 specification (appendix A.2) makes every API call
/// thread-safe except `clSetKernelArg` on one `cl_kernel` from several threads; the backend
/// serialises that call (with the enqueue that follows it) under its launch lock. The handle
/// itself is immutable after `init`, so the class adds no shared mutable state of its own.
final class CLHandle: @unchecked Sendable {
    /// The `clRelease*` function matching the object's kind.
    typealias Release = @convention(c) (OpaquePointer?) -> cl_int

    let raw: OpaquePointer
    private let release: Release

    init(_ raw: OpaquePointer, release: Release) {
        self.raw = raw
        self.release = release
    }

    deinit { _ = release(raw) }
}

/// Throws `TesselError.openCL` unless `code` is `CL_SUCCESS`: for calls during backend creation.
@inline(__always)
func clCheck(_ code: cl_int, _ call: String) throws(TesselError) {
    if code != CL_SUCCESS { throw .openCL(call: call, code: code) }
}

/// Stops the program unless `code` is `CL_SUCCESS`: for calls while running ops, which do not
/// throw (every kernel was built when the backend was created, so a failure here is a driver or
/// device fault the caller cannot recover from).
@inline(__always)
func clMust(_ code: cl_int, _ call: @autoclosure () -> String) {
    // The name is built only on failure: launches check every argument they set.
    if _slowPath(code != CL_SUCCESS) { clFailure(call(), code) }
}

@inline(never)
private func clFailure(_ call: String, _ code: cl_int) -> Never {
    fatalError("\(call) failed with OpenCL error \(code)")
}
