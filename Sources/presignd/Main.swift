import ArgumentParser
import Foundation

/// Entry point. Errors are printed as one line on stderr, because other tools parse this output;
/// `--help` keeps ArgumentParser's full text.
@main
enum Main {
    static func main() {
        do {
            var command = try Presignd.parseAsRoot()
            try command.run()
        } catch {
            let code = Presignd.exitCode(for: error)
            if code == .success {
                Presignd.exit(withError: error)
            }
            let message = Presignd.message(for: error)
                .split(whereSeparator: \.isNewline).first.map(String.init) ?? "\(error)"
            FileHandle.standardError.write(Data("presignd: error: \(message)\n".utf8))
            exit(code.rawValue == 0 ? 1 : code.rawValue)
        }
    }
}

struct Presignd: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "presignd",
        abstract: "Hands out short-lived S3 presigned URLs under policy.",
        subcommands: [ServeCommand.self, CheckConfigCommand.self, RoutesCommand.self, ProbeCommand.self, SignCommand.self, SignPostCommand.self, BenchSignCommand.self, BenchAPICommand.self]
    )
}
