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
