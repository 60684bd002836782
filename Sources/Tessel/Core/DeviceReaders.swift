import Dispatch
import Synchronization

/// One serial queue per device for reads that wait on the device (`scalarsAsync`): the wait
/// happens on a thread of that queue, never on a thread of Swift's cooperative pool, so an
/// async server keeps serving while a device works. Reads of one device run in order.
enum DeviceReaders {
    private static let queues = Mutex<[Device: DispatchQueue]>([:])
    private static let marker = DispatchSpecificKey<Device>()

    static func queue(for device: Device) -> DispatchQueue {
        queues.withLock { table in
            if let queue = table[device] { return queue }
            let queue = DispatchQueue(label: "tessel-read-\(device)")
            queue.setSpecific(key: marker, value: device)
            table[device] = queue
            return queue
        }
    }

    /// The device whose reader queue the current code runs on, if any (tests check where reads wait).
    static var currentReaderDevice: Device? { DispatchQueue.getSpecific(key: marker) }
}

extension Tensor {
    /// The elements in row-major order, converted to `T`, without holding a thread of the
    /// cooperative pool while the device finishes: the wait runs on the device's reader queue.
    /// CPU tensors are ready when their op returns and are read at once.
    public func scalarsAsync<T: TensorScalar>(as type: T.Type = T.self) async -> [T] {
        if device == .cpu { return scalars(as: T.self) }
        let tensor = self
        return await withCheckedContinuation { continuation in
            DeviceReaders.queue(for: tensor.device).async {
                continuation.resume(returning: tensor.scalars(as: T.self))
            }
        }
    }
}
