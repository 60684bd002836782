import XCTest
import Tessel

/// The README's in-place example, as written there, on the CPU backend.
final class ReadmeExampleTests: XCTestCase {
    func testInPlaceExample() {
        Device.withDefault(.cpu) {
            var w = Tensor.zeros([3, 4])
            w += Tensor([1, 2, 3, 4] as [Float])
            w[0, 1..<3] = Tensor([9, 9] as [Float])
            var column = w[.all, 2]
            column *= 10
            w[.stride(by: -1)] = w
            XCTAssertEqual(w.description, "tensor([[1., 2., 30., 4.],\n        [1., 2., 30., 4.],\n        [1., 9., 90., 4.]])")
        }
    }
}

/// The README's autograd example, as written there.
final class ReadmeAutogradExampleTests: XCTestCase {
    func testAutogradExample() {
        Device.withDefault(.cpu) {
            let x = Tensor.randn([32, 784]), labels = Tensor.randint(0, 10, [32])
            var w = Tensor.randn([784, 10]).requiringGrad()
            let loss = x.matmul(w).logSoftmax(axis: -1).gather(axis: 1, index: labels.unsqueeze(axis: 1)).mean() * -1
            loss.backward()
            XCTAssertEqual(w.grad?.shape, [784, 10])
            let before = w.scalars(as: Float.self)
            Tensor.withoutGrad { w -= w.grad! * Float(0.1) }
            w.zeroGrad()
            XCTAssertTrue(w.requiresGrad)
            XCTAssertNil(w.grad)
            XCTAssertNotEqual(w.scalars(as: Float.self), before)
        }
    }
}
