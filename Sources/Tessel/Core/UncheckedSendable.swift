/// Carries a value into concurrently running code that touches disjoint memory (chunks of a
/// parallel loop, per-thread result slots).
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
