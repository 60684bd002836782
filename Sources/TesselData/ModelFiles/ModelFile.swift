import Tessel
import TesselNN

/// A trained model with its ``ModelSpec``: what `tessel train` saves and `tessel eval`,
/// `predict` and `serve` load.
public struct ModelFile {
    public let spec: ModelSpec
    public let model: Sequential

    public init(spec: ModelSpec, model: Sequential) {
        self.spec = spec
        self.model = model
    }

    /// Saves the parameters under their PyTorch names (float32, little-endian) and the spec as metadata.
    public func write(to path: String) throws(TesselDataError) {
        var file = SafeTensors(metadata: spec.metadata)
        for (name, tensor) in model.namedParameters { file.append(name, tensor) }
        try file.write(to: path)
    }

    /// Loads the file at `path` onto `device`: the spec from the metadata, then every tensor the
    /// architecture needs, each checked by name and shape (missing, extra or wrongly shaped
    /// tensors are errors).
    public init(contentsOf path: String, device: Device = .default) throws(TesselDataError) {
        let file = try SafeTensors(contentsOf: path)
        let spec = try ModelSpec(metadata: file.metadata, path: path)
        let model = spec.makeModel(generator: Generator(seed: 0), device: device)
        let expected = model.namedParameters
        let missing = expected.map(\.name).filter { file[$0] == nil }
        if !missing.isEmpty {
            throw .modelMismatch(path: path, reason: "a \(spec.architecture) model needs tensors \(missing.joined(separator: ", ")), missing from the file")
        }
        let extra = file.entries.map(\.name).filter { name in !expected.contains { $0.name == name } }
        if !extra.isEmpty {
            throw .modelMismatch(path: path, reason: "tensors \(extra.joined(separator: ", ")) are not part of a \(spec.architecture) model")
        }
        var values: [String: Tensor] = [:]
        for (name, parameter) in expected {
            let entry = file[name]!
            guard entry.shape == parameter.shape else {
                throw .modelMismatch(path: path, reason: "tensor \(name) has shape \(entry.shape), a \(spec.architecture) model needs \(parameter.shape)")
            }
            values[name] = file.tensor(name, device: device)
        }
        model.load(values)
        model.eval()
        self.init(spec: spec, model: model)
    }
}
