/// Stops the program with `message` when `condition` is false: the check behind every
/// programmer error (mismatched shapes, an axis out of range).
///
/// `precondition` drops its message in release builds ("Swift runtime failure: precondition
/// failure"), and release is how Tessel is built and used; `fatalError` keeps it, so the user
/// reads "add: shapes [2] and [3] cannot be broadcast together" whatever the build.
@inline(__always)
func check(_ condition: Bool, _ message: @autoclosure () -> String) {
    if _slowPath(!condition) { checkFailure(message()) }
}

/// Stops the program with `message` (see `check`).
@inline(never)
func checkFailure(_ message: String) -> Never {
    fatalError(message, file: "Tessel", line: 0)
}
