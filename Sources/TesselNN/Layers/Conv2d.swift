import Tessel

/// 2-D convolution of [N, C, H, W] images, as `nn.Conv2d` (stride, zero padding, dilation):
/// im2col (`unfold`, one kernel; from channels-last images rows ordered (ky, kx, c)) into a
/// [N*OH*OW, C*KH*KW] matrix, multiplied by the weight [out, C, KH, KW] seen in the same order,
/// with the bias added in the GEMM's epilogue; the backward folds the rows' gradient back (col2im, one kernel).
/// Initialised as PyTorch does (both uniform in +-1/sqrt(C * KH * KW)) from `generator`.
public final class Conv2d: Module {
    public var weight: Tensor
    public var bias: Tensor?
    public let kernel: (Int, Int), stride: (Int, Int), padding: (Int, Int), dilation: (Int, Int)
    public var isTraining = true

    public init(_ inputChannels: Int, _ outputChannels: Int, kernelSize: Int, stride: Int = 1, padding: Int = 0,
                dilation: Int = 1, bias: Bool = true, generator: Generator = .default, device: Device = .default) {
        kernel = (kernelSize, kernelSize)
        self.stride = (stride, stride)
        self.padding = (padding, padding)
        self.dilation = (dilation, dilation)
        let bound = 1 / Float(inputChannels * kernelSize * kernelSize).squareRoot()
        weight = Tensor.uniform([outputChannels, inputChannels, kernelSize, kernelSize], low: -bound, high: bound,
                                generator: generator, device: device).requiringGrad()
        self.bias = bias ? Tensor.uniform([outputChannels], low: -bound, high: bound, generator: generator, device: device)
            .requiringGrad() : nil
    }

    public func callAsFunction(_ x: Tensor) -> Tensor {
        let channels = weight.shape[1], outputs = weight.shape[0]
        if x.rank != 4 || x.shape[1] != channels { fatalError("Conv2d: input \(x.shape) does not have \(channels) channels") }
        let windows = WindowGeometry(kernel: kernel, stride: stride, padding: padding, dilation: dilation)
        if windows.outputSize(height: x.shape[2], width: x.shape[3]) == nil {
            fatalError("Conv2d: a \(kernel) kernel does not fit input \(x.shape) with padding \(padding) and dilation \(dilation)")
        }
        // From channels-last images (a convolution's output, a pool's), rows of KH*KW*C,
        // tap-major: each window position's channels adjacent, a whole-pixel copy; multiplied
        // by the weight seen as [out, KH, KW, C] (a copy of the small weight per call). From
        // NCHW images, channel-major rows and the weight as it is.
        let channelsLast = channels > 1 && x.strides[1] == 1
        let rows = x.unfold(windows, channelsLast: channelsLast)
        let (batch, height, width) = (rows.shape[0], rows.shape[1], rows.shape[2])
        let columns = rows.reshape([batch * height * width, channels * kernel.0 * kernel.1])
        let flatWeight = (channelsLast ? weight.permute(0, 2, 3, 1) : weight).reshape([outputs, -1]).T
        let product = bias.map { Tensor.addmm($0, columns, flatWeight) } ?? columns.matmul(flatWeight)
        return product.reshape([batch, height, width, outputs]).permute(0, 3, 1, 2)
    }

    public func updateParameters(_ transform: (String, Tensor) -> Tensor) {
        weight = transform("weight", weight)
        if let bias { self.bias = transform("bias", bias) }
    }
}
