import Foundation

/// The whole contents of a file, with one-line typed errors.
func readFileBytes(_ path: String) throws(TesselDataError) -> [UInt8] {
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else { throw .fileNotFound(path: path) }
    if isDirectory.boolValue { throw .unreadable(path: path, reason: "it is a folder") }
    guard let handle = FileHandle(forReadingAtPath: path) else { throw .unreadable(path: path, reason: "permission denied") }
    defer { try? handle.close() }
    do {
        return [UInt8](try handle.readToEnd() ?? Data())
    } catch {
        throw .unreadable(path: path, reason: error.localizedDescription)
    }
}

/// Writes `bytes` to `path` atomically (a reader never sees half a file).
func writeFileBytes(_ bytes: [UInt8], to path: String) throws(TesselDataError) {
    do {
        try Data(bytes).write(to: URL(fileURLWithPath: path), options: .atomic)
    } catch {
        throw .unwritable(path: path, reason: (error as NSError).localizedFailureReason ?? error.localizedDescription)
    }
}
