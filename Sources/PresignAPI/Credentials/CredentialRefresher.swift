import Logging
import PresignConfig
import PresignCore
import PresignRuntime
import S3Client
import S3Signing
import UVLoop

/// Keeps every rotating backend's credentials fresh, from one worker's loop (worker 0): a timer looks at each
/// source's `RefreshSchedule`, fetches what is due (HTTP through the service's `HTTPFetching`, curl on this loop, files on the loop's
/// thread pool) and publishes each new set to its `CredentialCell`, which every worker then sees at once. Nothing
/// here blocks the loop; everything here runs on it.
final class CredentialRefresher {
    final class Entry {
        let backend: String
        let cell: CredentialCell
        var schedule: RefreshSchedule
        var watch: FileWatch?
        var retired = false
        var lastLogged = -Double.infinity
        var lastLoggedMessage = ""

        init(backend: String, cell: CredentialCell, schedule: RefreshSchedule) {
            self.backend = backend
            self.cell = cell
            self.schedule = schedule
        }
    }

    let loop: EventLoop
    let store: ConfigStore<ServiceState>
    let clock: RequestClock
    let logger: Logger
    let metrics: APIMetrics
    let fetcher: any HTTPFetching
    private var generation = -1
    private var entries: [Entry] = []
    private var timer: LoopTimer?
    static let tickMillis: UInt64 = 500

    init(loop: EventLoop, store: ConfigStore<ServiceState>, clock: RequestClock, logger: Logger, metrics: APIMetrics, fetcher: any HTTPFetching) {
        self.loop = loop
        self.fetcher = fetcher
        self.store = store
        self.clock = clock
        self.logger = logger
        self.metrics = metrics
    }

    /// Starts the timer (call on the loop's thread). The timer holds the refresher until the worker shuts down.
    func start() {
        let timer = LoopTimer(on: loop) { [self] in tick() }
        self.timer = timer
        timer.start(afterMillis: 0, repeatMillis: Self.tickMillis)
        loop.onShutdown { [self] in stop() }
    }

    private func stop() {
        timer?.close()
        timer = nil
        for entry in entries { retire(entry) }
        entries = []
    }

    private func retire(_ entry: Entry) {
        entry.retired = true
        entry.watch?.close()
        entry.watch = nil
    }

    private func tick() {
        let current = store.generation(worker: loop.index)
        if current.number != generation {
            generation = current.number
            adopt(current.signers)
        }
        let now = clock.wallSeconds()
        for entry in entries where entry.schedule.isDue(now: now) { fetch(entry) }
    }

    /// A new configuration generation: follow its rotating backends. A source that did not change hands its
    /// current set to the new cell (the store did it when it built the generation, `BackendSigners`; again here for
    /// a set that arrived since), so a SIGHUP never leaves a gap; a file source was just re-read by the load.
    private func adopt(_ signers: BackendSigners) {
        let previous = entries
        entries = []
        let now = clock.wallSeconds()
        for (name, cell) in signers.cells {
            let old = previous.first { $0.backend == name && $0.cell.source == cell.source && $0.cell.margin == cell.margin }
            // A set the old cell got after the new generation was built (a fetch that answered in between).
            if cell.latest == nil, let carried = old?.cell.latest?.set { cell.publish(carried) }
            let settings = RefreshSchedule.Settings(margin: cell.margin, maxJitter: min(60, Double(cell.margin) / 5))
            let current = cell.latest.map { (expiration: $0.set.expiration, random: Double.random(in: 0..<1)) }
            let entry = Entry(backend: name, cell: cell, schedule: RefreshSchedule(settings: settings, now: now, current: current))
            if case .file(let path) = cell.source { watch(entry, path: path) }
            entries.append(entry)
            if old == nil {
                logger.info("credentials: following \(cell.source.label)", metadata: ["backend": "\(name)"])
            }
        }
        for entry in previous { retire(entry) }
    }

    /// Watches the file's directory: a write, a rename into place, or a Kubernetes `..data` symlink swap all make
    /// the source due now. Changes to other files in the directory are ignored (a busy directory such as /tmp
    /// would otherwise keep the file being re-read back to back).
    private func watch(_ entry: Entry, path: String) {
        let slash = path.lastIndex(of: "/")
        let directory = slash.map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        let name = slash.map { String(path[path.index(after: $0)...]) } ?? path
        do {
            entry.watch = try FileWatch.start(directory: directory, on: loop) { [weak self, weak entry] changed in
                guard let self, let entry, !entry.retired else { return }
                if let changed, changed != name, changed != "..data" { return }
                let now = clock.wallSeconds()
                entry.schedule.changed(now: now)
                if entry.schedule.isDue(now: now) { fetch(entry) }
            }
        } catch {
            logger.warning("credentials: cannot watch \(directory); the file is re-read on SIGHUP only",
                           metadata: ["backend": "\(entry.backend)", "error": "\(error)"])
        }
    }

    private func fetch(_ entry: Entry) {
        entry.schedule.began()
        let done: (Result<CredentialSet, CredentialDocument.ParseError>) -> Void = { [weak self] result in
            guard let self, !entry.retired else { return }
            finish(entry, result)
        }
        switch entry.cell.source {
        case .file(let path):
            LoopWork.run(on: loop, { CredentialFile.read(path).flatMap { bytes in Result { () throws(CredentialDocument.ParseError) in try CredentialDocument.parseFile(bytes) } } }, then: done)
        case .container(let url, let tokenFile):
            withToken(tokenFile) { [loop, fetcher] token in
                switch token {
                case .failure(let error): return done(.failure(error))
                case .success(let token):
                    let headers = token.map { [("Authorization", $0)] } ?? []
                    fetcher.fetch(.init(method: "GET", url: url, headers: [("Accept", "application/json")] + headers,
                                          maxBodyBytes: CredentialDocument.maxBytes), on: loop) { answer in
                        done(Self.containerSet(answer))
                    }
                }
            }
        case .webIdentity(let web):
            withToken(web.tokenFile) { [loop, fetcher] token in
                switch token {
                case .failure(let error): return done(.failure(error))
                case .success(let token):
                    let body = STSWebIdentity.form(roleArn: web.roleArn, sessionName: web.sessionName, token: token!, durationSeconds: web.durationSeconds)
                    fetcher.fetch(.init(method: "POST", url: web.stsEndpoint,
                                          headers: [("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"), ("Accept", "application/xml")],
                                          body: body, maxBodyBytes: STSWebIdentity.maxBytes), on: loop) { answer in
                        done(Self.stsSet(answer))
                    }
                }
            }
        }
    }

    /// Reads a token file off the loop (nil path: no token).
    private func withToken(_ path: String?, _ then: @escaping (Result<String?, CredentialDocument.ParseError>) -> Void) {
        guard let path else { return then(.success(nil)) }
        LoopWork.run(on: loop, { CredentialFile.token(path).map(Optional.some) }, then: then)
    }

    static func containerSet(_ answer: Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Result<CredentialSet, CredentialDocument.ParseError> {
        switch answer {
        case .failure(let failure): return .failure(.init("fetch failed: \(failure.message)"))
        case .success(let response) where response.status != 200:
            return .failure(.init("the endpoint answered HTTP \(response.status)"))
        case .success(let response):
            return Result { () throws(CredentialDocument.ParseError) in try CredentialDocument.parseJSON(response.body, requireExpiration: true) }
                .mapError { .init("malformed credentials document: \($0.message)") }
        }
    }

    static func stsSet(_ answer: Result<HTTPFetch.Response, HTTPFetch.Failure>) -> Result<CredentialSet, CredentialDocument.ParseError> {
        switch answer {
        case .failure(let failure): return .failure(.init("STS fetch failed: \(failure.message)"))
        case .success(let response):
            let parsed: STSWebIdentity.Answer
            do { parsed = try STSWebIdentity.parse(response.body) } catch {
                return .failure(.init("STS answered HTTP \(response.status) with an unreadable document: \(error.message)"))
            }
            switch parsed {
            case .error(let code, let message):
                return .failure(.init("STS answered HTTP \(response.status) \(CredentialDocument.printable(code)): \(CredentialDocument.printable(message))"))
            case .credentials where response.status != 200:
                return .failure(.init("STS answered HTTP \(response.status)"))
            case .credentials(let key, let secret, let token, let expiration):
                return Result { () throws(CredentialDocument.ParseError) in
                    try CredentialDocument.build(key: key, secret: secret, token: token, expiration: expiration,
                                                 names: ("AccessKeyId", "SecretAccessKey", "SessionToken", "Expiration"))
                }
            }
        }
    }

    private func finish(_ entry: Entry, _ result: Result<CredentialSet, CredentialDocument.ParseError>) {
        let now = clock.wallSeconds()
        var outcome = result
        if case .success(let set) = result, let expiration = set.expiration,
            !CredentialWindow(expiration: expiration, margin: entry.cell.margin).isServing(at: now) {
            outcome = .failure(.init("the new credentials expire at \(SigningTime(epochSeconds: expiration).iso8601), within the \(entry.cell.margin) s margin"))
        }
        switch outcome {
        case .success(let set):
            let changed = entry.cell.latest?.set != set
            if changed { entry.cell.publish(set) } else { entry.cell.recordFailure(nil) }
            entry.schedule.succeeded(expiration: set.expiration, now: now, random: Double.random(in: 0..<1))
            metrics.credentialRefresh(worker: loop.index, backend: entry.backend, ok: true)
            if changed {
                var metadata: Logger.Metadata = ["backend": "\(entry.backend)", "access_key_id": "\(set.credentials.accessKeyId)",
                                                 "session_token": "\(set.credentials.sessionToken == nil ? "no" : "yes")"]
                if let expiration = set.expiration { metadata["expiration"] = "\(SigningTime(epochSeconds: expiration).iso8601)" }
                if let next = entry.schedule.nextAttempt { metadata["next_refresh"] = "\(SigningTime(epochSeconds: Int64(next)).iso8601)" }
                logger.info("credentials refreshed", metadata: metadata)
            }
        case .failure(let error):
            entry.cell.recordFailure(error.message)
            var random = SystemRandomNumberGenerator()
            entry.schedule.failed(now: now, using: &random)
            metrics.credentialRefresh(worker: loop.index, backend: entry.backend, ok: false)
            // One line per failure while few or when the reason changes, otherwise at most one per 30 s.
            guard entry.schedule.failures <= 3 || error.message != entry.lastLoggedMessage || now - entry.lastLogged >= 30 else { return }
            entry.lastLogged = now
            entry.lastLoggedMessage = error.message
            let keeping: String
            if let old = entry.cell.latest?.set {
                keeping = CredentialWindow(expiration: old.expiration, margin: entry.cell.margin).end
                    .map { "keeping the previous set until \(SigningTime(epochSeconds: $0).iso8601)" } ?? "keeping the previous set"
            } else {
                keeping = "no credentials yet: requests get 503"
            }
            logger.error("credentials refresh failed; \(keeping)", metadata: [
                "backend": "\(entry.backend)", "source": "\(entry.cell.source.label)", "error": "\(error.message)",
                "failures": "\(entry.schedule.failures)", "retry_in_s": "\(Int((entry.schedule.nextAttempt ?? now) - now))",
            ])
        }
    }
}

extension PresignService {
    /// Starts the credential refresher when `loop` is worker 0's (`serve` calls this from the server's
    /// `onLoopStart`, on that loop's thread); other workers only read the cells it publishes to. `anyLoop` starts it
    /// on whatever loop is passed: an in-process test's `DrivenLoop`.
    public func startCredentialRefresh(on loop: EventLoop, anyLoop: Bool = false) {
        guard loop.index == 0 || anyLoop else { return }
        CredentialRefresher(loop: loop, store: store, clock: clock, logger: logger, metrics: metrics, fetcher: fetcher).start()
    }
}
