// The libFuzzer target for the request-parsing path (`make fuzz`).
// Built with -D PRESIGND_LIBFUZZER and -sanitize=fuzzer it hands control to libFuzzer's driver.
// Built plainly (as `swift build` does) it replays the files named on the command line, so that a
// crash input can be re-run without the fuzzer.
import HTTPFuzzHarness

#if PRESIGND_LIBFUZZER
import CFuzzerDriver
import Glibc

/// libFuzzer's runtime references this symbol even when the driver is entered through LLVMFuzzerRunDriver.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    HTTPFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}

var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    HTTPFuzzHarness.run(UnsafeRawBufferPointer(start: data, count: size))
    return 0
})
#else
import Foundation

for path in CommandLine.arguments.dropFirst() {
    guard let data = FileManager.default.contents(atPath: path) else {
        FileHandle.standardError.write(Data("presignd-fuzz: cannot read \(path)\n".utf8))
        exit(2)
    }
    data.withUnsafeBytes { HTTPFuzzHarness.run($0) }
    print("ok \(path)")
}
#endif
