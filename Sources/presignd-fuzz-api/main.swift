// The libFuzzer target for the presign API (`make fuzz-api`): JSON reader, request parsing, policy, signing.
// Built with -D PRESIGND_LIBFUZZER and -sanitize=fuzzer it hands control to libFuzzer's driver; built plainly it
// replays the files named on the command line.
import APIFuzzHarness

let service = try! APIFuzzHarness.makeServiceBlocking()

#if PRESIGND_LIBFUZZER
import CFuzzerDriver
import Glibc

@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    APIFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size), service: service)
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    APIFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size), service: service)
    return 0
})
#else
import Foundation

for path in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("presignd-fuzz-api: cannot read \(path)\n".utf8))
        exit(2)
    }
    data.withUnsafeBytes { APIFuzzHarness.run($0, service: service) }
    print("ok \(path)")
}
#endif
