import XCTest
@testable import Tessel

final class LayoutTests: XCTestCase {
    func testContiguousStrides() {
        XCTAssertEqual(Layout(contiguous: [2, 3, 4]).strides, [12, 4, 1])
        XCTAssertTrue(Layout(contiguous: [2, 3, 4]).isContiguous)
        XCTAssertFalse(Layout(contiguous: [2, 3]).permuted([1, 0]).isContiguous)
        // Size-1 axes do not break contiguity, whatever their stride.
        XCTAssertTrue(Layout(shape: [3, 1, 4], strides: [4, 99, 1], offset: 0).isContiguous)
    }

    func testCollapseMergesOnlyWhereEveryOperandAllows() {
        let dense = Layout(contiguous: [2, 3, 4])
        XCTAssertEqual(dense.collapsed().shape, [24])
        let row = Layout(contiguous: [4]).broadcast(to: [2, 3, 4], op: "test")
        let both = Layout.collapse([dense, row])
        XCTAssertEqual(both[0].shape, [6, 4])
        XCTAssertEqual(both[0].strides, [4, 1])
        XCTAssertEqual(both[1].strides, [0, 1])
        XCTAssertEqual(Layout(contiguous: [1, 1]).collapsed().shape, [1])
    }

    func testBroadcastShapeFollowsNumPy() {
        XCTAssertEqual(Layout.broadcastShape([2, 1, 4], [3, 1], op: "t"), [2, 3, 4])
        XCTAssertEqual(Layout.broadcastShape([], [5], op: "t"), [5])
        XCTAssertEqual(Layout.broadcastShape([0, 3], [3], op: "t"), [0, 3])
        XCTAssertEqual(Layout.broadcastShape([1], [0], op: "t"), [0])
    }

    func testReshapedViewSplitsAndMergesStridedAxes() {
        // A transposed [3, 4] matrix cannot be flattened without a copy ...
        let transposed = Layout(contiguous: [3, 4]).permuted([1, 0])
        XCTAssertNil(transposed.reshapedView([12]))
        // ... but its axes can be split or given size-1 axes.
        let split = transposed.reshapedView([2, 2, 3, 1])
        XCTAssertEqual(split.map { Array($0.strides.prefix(3)) }, [2, 1, 4])
        // Columns 1, 3, 5 of a [4, 8] matrix: rows and columns cannot merge ...
        let columns = Layout(shape: [4, 3], strides: [8, 2], offset: 1)
        XCTAssertEqual(columns.reshapedView([4, 3, 1]).map { Array($0.strides.prefix(2)) }, [8, 2])
        XCTAssertNil(columns.reshapedView([12]))
        // ... but every other column of a [4, 6] matrix steps evenly through memory: they can.
        XCTAssertEqual(Layout(shape: [4, 3], strides: [6, 2], offset: 1).reshapedView([12])?.strides, [2])
        XCTAssertEqual(Layout(contiguous: [2, 3], offset: 5).reshapedView([3, 2]), Layout(contiguous: [3, 2], offset: 5))
    }
}

final class DeviceTests: XCTestCase {
    func testParsingDeviceNames() throws {
        XCTAssertEqual(try Device(parsing: "cpu"), .cpu)
        XCTAssertEqual(try Device(parsing: "opencl"), .opencl(0))
        XCTAssertEqual(try Device(parsing: "OpenCL:2"), .opencl(2))
        XCTAssertThrowsError(try Device(parsing: "cuda:0")) { error in
            XCTAssertEqual(error as? TesselError, .invalidDeviceName("cuda:0"))
        }
        XCTAssertThrowsError(try Device(parsing: "opencl:x"))
        XCTAssertEqual(Device.opencl(1).description, "opencl:1")
    }

    func testMissingDeviceIsAThrownError() {
        XCTAssertThrowsError(try Device.opencl(99).backend()) { error in
            XCTAssertEqual(error as? TesselError, .deviceNotFound("opencl:99", found: Device.all.map(\.description)))
        }
    }

    func testWithDefaultScopesTheDevice() {
        let inside = Device.withDefault(.cpu) { Tensor.zeros([2]).device }
        XCTAssertEqual(inside, .cpu)
        XCTAssertTrue(Device.all.contains(.cpu))
    }
}
