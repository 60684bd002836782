// Layout arithmetic behind slicing, `asStrided` and the in-place checks: which memory a view
// covers, and whether two views (or a view and itself) share elements.

extension Layout {
    /// The view selected by `indices` along the leading axes (see `Tensor.slice(_:)`).
    func sliced(_ indices: [TensorIndex]) -> Layout {
        var newShape: [Int] = [], newStrides: [Int] = []
        var newOffset = offset
        var axis = 0
        for index in indices {
            switch index {
            case .insertAxis:
                newShape.append(1)
                newStrides.append(0)
            case .at(let position):
                check(axis < rank, "subscript: too many indices for shape \(shape)")
                let size = shape[axis]
                let p = position < 0 ? position + size : position
                check(p >= 0 && p < size, "subscript: index \(position) out of range for axis \(axis) of shape \(shape)")
                newOffset += p * strides[axis]
                axis += 1
            case .range(let start, let end, let step):
                check(axis < rank, "subscript: too many indices for shape \(shape)")
                check(step != 0, "subscript: step must not be zero")
                let (first, length) = Layout.sliceBounds(start: start, end: end, step: step, size: shape[axis])
                newShape.append(length)
                // A window of at most one element never steps: any stride will do (and a huge
                // step times the stride could overflow).
                newStrides.append(length <= 1 ? strides[axis] : strides[axis] * step)
                if length > 0 { newOffset += first * strides[axis] }
                axis += 1
            }
        }
        newShape += shape[axis...]
        newStrides += strides[axis...]
        return Layout(shape: newShape, strides: newStrides, offset: newOffset)
    }

    /// First position and length of `start..<end` by `step` along an axis of `size`, with
    /// NumPy's rules: negative bounds count from the end, bounds are clamped, nil bounds mean
    /// the start or end of the walk (the last position first for a negative step).
    static func sliceBounds(start: Int?, end: Int?, step: Int, size: Int) -> (first: Int, length: Int) {
        func resolve(_ bound: Int?, _ fallback: Int, low: Int, high: Int) -> Int {
            guard let bound else { return fallback }
            return Swift.min(Swift.max(bound < 0 ? bound + size : bound, low), high)
        }
        // Counts as (distance - 1) / |step| + 1: no overflow for steps near Int.min or Int.max.
        let magnitude = Int(clamping: step.magnitude)
        if step > 0 {
            let lo = resolve(start, 0, low: 0, high: size), hi = resolve(end, size, low: 0, high: size)
            return (lo, hi > lo ? (hi - lo - 1) / magnitude + 1 : 0)
        }
        let hi = resolve(start, size - 1, low: -1, high: size - 1), lo = resolve(end, -1, low: -1, high: size - 1)
        return (hi, hi > lo ? (hi - lo - 1) / magnitude + 1 : 0)
    }

    /// The lowest and highest element offsets the view touches (nil when it is empty).
    var span: (low: Int, high: Int)? {
        guard count > 0 else { return nil }
        var low = offset, high = offset
        for (size, stride) in zip(shape, strides) {
            if stride > 0 { high += (size - 1) * stride } else { low += (size - 1) * stride }
        }
        return (low, high)
    }

    /// True when every element of the view lies inside a buffer of `count` elements.
    func fits(in count: Int) -> Bool {
        guard let span else { return offset >= 0 }
        return span.low >= 0 && span.high < count
    }

    /// True when no two positions of the view are the same element (no expanded axis). Axes
    /// sorted by stride must each step past everything the smaller ones cover; views that
    /// interleave otherwise are reported as overlapping, which only costs them a copy.
    var hasNoSelfOverlap: Bool {
        var extent = 0
        for (size, stride) in zip(shape, strides).filter({ $0.0 > 1 }).map({ ($0.0, Swift.abs($0.1)) }).sorted(by: { $0.1 < $1.1 }) {
            if stride <= extent { return false }
            extent += (size - 1) * stride
        }
        return true
    }

    /// True when every position of the view is a different element, by listing them: the exact
    /// answer where `hasNoSelfOverlap` is unsure (an `asStrided` view that interleaves).
    var elementsAreDistinct: Bool {
        guard count > 1 else { return true }
        if zip(shape, strides).contains(where: { $0.0 > 1 && $0.1 == 0 }) { return false }
        let offsets = elementOffsets.sorted()
        return zip(offsets, offsets.dropFirst()).allSatisfy { $0 != $1 }
    }

    /// The buffer offset of every element, in row-major order (for host-side bookkeeping of
    /// small views: overlap checks, the gradient of `asStrided`).
    var elementOffsets: [Int] {
        var offsets: [Int] = []
        offsets.reserveCapacity(count)
        guard count > 0 else { return offsets }
        var index = [Int](repeating: 0, count: rank), current = offset
        for _ in 0..<count {
            offsets.append(current)
            // Odometer step: the last axis fastest.
            var axis = rank - 1
            while axis >= 0 {
                index[axis] += 1
                current += strides[axis]
                if index[axis] < shape[axis] { break }
                current -= shape[axis] * strides[axis]
                index[axis] = 0
                axis -= 1
            }
        }
        return offsets
    }

    /// True when the memory ranges of the two views intersect (conservative: interleaved views
    /// that never touch the same element also count).
    func overlaps(_ other: Layout) -> Bool {
        guard let a = span, let b = other.span else { return false }
        return a.low <= b.high && b.low <= a.high
    }

    /// The leading `shape` positions of each axis (same strides and offset).
    func window(_ target: Dims) -> Layout {
        check(target.count == rank && zip(target, shape).allSatisfy { $0 <= $1 },
              "window: \(target) does not fit inside \(shape)")
        return Layout(shape: target, strides: strides, offset: offset)
    }

    /// True when `shape` broadcasts to `target` by NumPy's rules.
    static func canBroadcast<A: Collection<Int>, B: Collection<Int>>(_ shape: A, to target: B) -> Bool where A.Index == Int, B.Index == Int {
        guard shape.count <= target.count else { return false }
        let lead = target.count - shape.count
        return shape.indices.allSatisfy { shape[$0] == target[lead + $0] || shape[$0] == 1 }
    }
}

extension Layout {
    /// The number of elements of `shape`, or a stop naming `op` when an axis is negative or the
    /// count overflows.
    static func elementCount<Shape: Collection<Int>>(_ shape: Shape, op: String) -> Int {
        var total = 1
        for size in shape {
            check(size >= 0, "\(op): negative axis size in shape \(shape)")
            let (product, overflow) = total.multipliedReportingOverflow(by: size)
            check(!overflow, "\(op): shape \(shape) has more elements than an Int can count")
            total = product
        }
        return total
    }
}
