/// A short list of per-axis integers (a layout's sizes or strides), held inline.
///
/// Every op builds layouts, and an `[Int]` is a heap object whose every copy retains and
/// releases it: a small op spent most of its time in reference counting. The values live
/// inside the struct itself, so a layout is plain words and copying one touches no reference
/// count. That bounds a tensor's rank at `capacity` (8, as TensorRT's and cuDNN's tensors).
///
/// It reads as an `[Int]` does (a random-access, range-replaceable collection, written
/// `[2, 3]`), so code that indexes, maps or compares shapes needs no change.
public struct Dims: RandomAccessCollection, MutableCollection, RangeReplaceableCollection, Hashable, Sendable,
                    ExpressibleByArrayLiteral, CustomStringConvertible {
    /// The most values (axes) a list holds.
    public static let capacity = 8

    /// Slots past `length` always hold 0, so two lists are equal when all their slots are.
    private var values: InlineArray<8, Int>
    private var length: Int

    public init() {
        values = InlineArray(repeating: 0)
        length = 0
    }

    public init<S: Sequence>(_ values: S) where S.Element == Int {
        self.init()
        for value in values { append(value) }
    }

    public init(_ values: [Int]) {
        if values.count > Dims.capacity {
            checkFailure("a tensor has at most \(Dims.capacity) axes; shape \(values) has \(values.count)")
        }
        self.init(values[...])
    }

    public init(arrayLiteral values: Int...) { self.init(values) }

    /// `count` copies of `value`.
    public init(repeating value: Int, count: Int) {
        self.init()
        Dims.checkCapacity(count)
        for i in 0..<count { values[i] = value }
        length = count
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { length }
    public var count: Int { length }
    public var isEmpty: Bool { length == 0 }

    public subscript(position: Int) -> Int {
        @inline(__always) get {
            check(position >= 0 && position < length, "Dims: index \(position) out of range for \(length) axes")
            return values[position]
        }
        @inline(__always) set {
            check(position >= 0 && position < length, "Dims: index \(position) out of range for \(length) axes")
            values[position] = newValue
        }
    }

    public mutating func append(_ value: Int) {
        Dims.checkCapacity(length + 1)
        values[length] = value
        length += 1
    }

    private static func checkCapacity(_ count: Int) {
        if count > capacity { checkFailure("a tensor has at most \(capacity) axes; this one would have \(count)") }
    }

    public mutating func replaceSubrange<C: Collection>(_ subrange: Range<Int>, with newElements: C) where C.Element == Int {
        var values = Array(self)
        values.replaceSubrange(subrange, with: newElements)
        self = Dims(values)
    }

    /// The product of the values (an empty list gives 1: a 0-d tensor has one element).
    public var product: Int {
        var result = 1
        for i in 0..<length { result *= values[i] }
        return result
    }

    public static func == (lhs: Dims, rhs: Dims) -> Bool {
        guard lhs.length == rhs.length else { return false }
        for i in 0..<lhs.length where lhs.values[i] != rhs.values[i] { return false }
        return true
    }

    public static func == (lhs: Dims, rhs: [Int]) -> Bool {
        guard lhs.length == rhs.count else { return false }
        for i in 0..<lhs.length where lhs[i] != rhs[i] { return false }
        return true
    }

    public static func == (lhs: [Int], rhs: Dims) -> Bool { rhs == lhs }
    public static func != (lhs: Dims, rhs: [Int]) -> Bool { !(lhs == rhs) }
    public static func != (lhs: [Int], rhs: Dims) -> Bool { !(rhs == lhs) }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(length)
        for i in 0..<length { hasher.combine(values[i]) }
    }

    /// The value at `position`, which the caller knows is below `count` (loops over the axes).
    @inline(__always) subscript(unchecked position: Int) -> Int { values[position] }

    /// Written as an array is: `[2, 3]`, so messages read the same.
    public var description: String { Array(self).description }
}
