import Tessel
import TesselData

extension BatchingQueue {
    /// A queue serving the model file at `path` on `devices` (loaded on each device by its
    /// worker): requests are one image's pixels, 0...255, rows x columns values; answers are the
    /// class probabilities, as `ModelSpec.probabilities` gives them.
    public static func serving(modelAt path: String, devices: [Device], configuration: BatchingConfiguration = BatchingConfiguration())
        throws -> (queue: BatchingQueue, spec: ModelSpec) {
        // Read once here, so a bad file fails before any thread starts; each worker loads its own copy.
        let spec = try ModelFile(contentsOf: path, device: .cpu).spec
        let queue = BatchingQueue(devices: devices, inputShape: spec.inputShape, configuration: configuration) { device in
            let file = try ModelFile(contentsOf: path, device: device)
            return { pixels in file.spec.probabilities(file.model(file.spec.normalization.apply(toPixels: pixels))) }
        }
        return (queue, spec)
    }
}
