import XCTest
@testable import Tessel

/// The host facts behind the CPU peak: physical cores from /proc/cpuinfo, and which clock is used.
final class HostCPUTests: XCTestCase {
    func testPhysicalCoresCountDistinctCoresNotSMTSiblings() {
        // Two sockets, two cores each, two hyperthreads per core: 8 logical CPUs, 4 cores.
        var text = ""
        for (processor, (socket, core)) in [(0, 0), (0, 1), (1, 0), (1, 1), (0, 0), (0, 1), (1, 0), (1, 1)].enumerated() {
            text += "processor\t: \(processor)\nphysical id\t: \(socket)\ncore id\t\t: \(core)\n\n"
        }
        XCTAssertEqual(HostCPU.physicalCores(cpuinfo: text), 4)
        XCTAssertNil(HostCPU.physicalCores(cpuinfo: "processor\t: 0\nmodel name\t: Something\n"))
        XCTAssertGreaterThan(HostCPU.physicalCoreCount, 0)
    }

    func testMeasuredClockIsUsedOnlyWhenPlausible() {
        let listed = HostCPU.Clock(gigahertz: 2.6, source: "nominal")
        XCTAssertEqual(HostCPU.choose(measured: 4.2, listed: listed).source, "measured")
        XCTAssertEqual(HostCPU.choose(measured: 4.2, listed: listed).gigahertz, 4.2)
        // Emulation or heavy preemption: implausible figures fall back to the listed clock.
        XCTAssertEqual(HostCPU.choose(measured: 0.1, listed: listed).source, "nominal")
        XCTAssertEqual(HostCPU.choose(measured: 40, listed: listed).gigahertz, 2.6)
        XCTAssertEqual(HostCPU.choose(measured: nil, listed: nil).source, "assumed")
        let clock = HostCPU.clock
        XCTAssertTrue(clock.source != "measured" || (0.5...8).contains(clock.gigahertz), "\(clock)")
    }
}
