import Tessel

/// A layer or a model: a function of tensors with named parameters, as PyTorch's `nn.Module`.
///
/// Parameters are leaves that require grad. Their names follow PyTorch's `state_dict` for the
/// same structure (`weight`, `bias`; `0.weight` inside a `Sequential`; `fc1.weight` for a named
/// child), so weights can be exchanged with PyTorch by name.
public protocol Module: AnyObject {
    /// The forward computation.
    func callAsFunction(_ x: Tensor) -> Tensor

    /// Calls `transform(name, parameter)` for each parameter (and buffer, such as a batch
    /// norm's running statistics) in `state_dict` order and stores what it returns: how
    /// parameters are listed, moved to a device and loaded.
    func updateParameters(_ transform: (_ name: String, _ parameter: Tensor) -> Tensor)

    /// Training or evaluation mode (dropout and batch norm behave differently).
    var isTraining: Bool { get set }
}

extension Module {
    /// The parameters and buffers by name, in `state_dict` order.
    public var namedParameters: [(name: String, tensor: Tensor)] {
        var found: [(String, Tensor)] = []
        updateParameters { name, parameter in
            found.append((name, parameter))
            return parameter
        }
        return found
    }

    /// The tensors that require grad (what an optimizer updates).
    public var parameters: [Tensor] { namedParameters.map(\.tensor).filter(\.requiresGrad) }

    /// Training mode: dropout drops, batch norm uses and updates batch statistics.
    public func train() { isTraining = true }
    /// Evaluation mode.
    public func eval() { isTraining = false }

    /// The module with every parameter moved to `device`: new leaves there (gradients reset),
    /// so make the optimizer after moving the model. Parameters already there stay as they are.
    public func to(_ device: Device) {
        updateParameters { _, parameter in
            guard parameter.device != device else { return parameter }
            let moved = parameter.to(device).detach()
            return parameter.requiresGrad ? moved.requiringGrad() : moved
        }
    }

    /// Loads parameters by name (a PyTorch `state_dict`'s names) into the module's own
    /// tensors, in place (converted to their dtype and device), so an optimizer made before
    /// keeps updating them; every name must be known and every shape match.
    public func load(_ values: [String: Tensor]) {
        var used = 0
        updateParameters { name, parameter in
            guard let value = values[name] else { return parameter }
            if value.shape != parameter.shape {
                fatalError("load: \(name) has shape \(value.shape), the module's is \(parameter.shape)")
            }
            used += 1
            var target = parameter
            Tensor.withoutGrad { target.copy(from: value.to(parameter.device)) }
            return parameter
        }
        if used != values.count { fatalError("load: \(values.count - used) names match no parameter of the module") }
    }
}
