import CCurl
import CUV
import JSONKit
import UVLoop

/// libcurl's multi-socket interface driven by one worker's libuv loop: curl says which sockets to watch
/// (`uv_poll`) and when to wake it (`uv_timer`); the loop calls `curl_multi_socket_action` back. One per live loop
/// (`CurlLoop.on(_:)`), gone with it: the worker's shutdown closes it and forgets it, so a later loop with the same
/// worker index (a second server in one process) gets a new one.
/// `self` travels as `Unmanaged` in the multi's SOCKETDATA/TIMERDATA and in each poll handle's data.
final class CurlLoop {
    /// This loop's CurlLoop while the loop runs; nil before first use and after the worker's shutdown.
    final class Slot {
        var current: CurlLoop?
    }

    private static let slots = LoopLocal<Slot>()

    /// The CurlLoop of `eventLoop`, made on first use. Call it on that loop's thread.
    static func on(_ eventLoop: EventLoop) -> CurlLoop {
        let slot = slots.get(eventLoop) { Slot() }
        if let current = slot.current, current.loop == eventLoop.rawLoop.assumingMemoryBound(to: uv_loop_t.self), !current.closed {
            return current
        }
        let made = CurlLoop(loop: eventLoop)
        slot.current = made
        // Runs after the CurlLoop's own shutdown hook (hooks run in order): the slot lets go of it. The slot lives
        // as long as the process (a static LoopLocal holds it) and holds no hook, so the hook holds it strongly (a
        // weak reference would give an immortal object a side table that LeakSanitizer cannot trace, seen in make
        // test-asan; an unowned one would cross the asynchronous boundary unchecked).
        eventLoop.onShutdown { [slot, weak made] in
            if slot.current === made { slot.current = nil }
        }
        return made
    }

    let loop: UnsafeMutablePointer<uv_loop_t>
    let multi: UnsafeMutableRawPointer
    let timer = UnsafeMutablePointer<uv_timer_t>.allocate(capacity: 1)
    /// Runs `resumeNextTurn`'s resumes: an idle handle runs once per turn of the loop, before it polls (a zero
    /// timer started from a timer callback would run again in the same turn, and the poll would never come).
    let turnIdle = UnsafeMutablePointer<uv_idle_t>.allocate(capacity: 1)
    private var resumeOnNextTurn: [ObjectIdentifier] = []
    private var running: Int32 = 0
    /// Transfers in the multi, each retained (passRetained) when added and released when done or cancelled.
    private var active: [ObjectIdentifier: Unmanaged<CurlTransfer>] = [:]
    private(set) var closed = false

    /// The state kept for one watched socket: its poll handle and the socket number. It holds its CurlLoop
    /// strongly (the CurlLoop never holds a watch: curl's socket pointer and the poll handle do, released when the
    /// poll closes), so a poll callback can never find its owner freed.
    final class SocketWatch {
        let poll = UnsafeMutablePointer<uv_poll_t>.allocate(capacity: 1)
        let socket: curl_socket_t
        let owner: CurlLoop

        init(socket: curl_socket_t, owner: CurlLoop) {
            self.socket = socket
            self.owner = owner
        }

        deinit { poll.deallocate() }
    }

    static let global: Void = { curl_global_init(Int(CURL_GLOBAL_DEFAULT)) }()

    private init(loop eventLoop: EventLoop) {
        _ = Self.global
        loop = eventLoop.rawLoop.assumingMemoryBound(to: uv_loop_t.self)
        multi = curl_multi_init()!
        uv_timer_init(loop, timer)
        uv_idle_init(loop, turnIdle)
        let me = Unmanaged.passUnretained(self).toOpaque()
        timer.pointee.data = me
        turnIdle.pointee.data = me
        presignd_curl_multi_setopt_pointer(multi, CURLMOPT_SOCKETDATA, me)
        presignd_curl_multi_setopt_pointer(multi, CURLMOPT_TIMERDATA, me)
        presignd_curl_multi_setopt_socket_cb(multi) { _, socket, what, userp, socketp in
            Unmanaged<CurlLoop>.fromOpaque(userp!).takeUnretainedValue().watch(socket: socket, what: what, existing: socketp)
            return 0
        }
        presignd_curl_multi_setopt_timer_cb(multi) { _, timeout, userp in
            Unmanaged<CurlLoop>.fromOpaque(userp!).takeUnretainedValue().schedule(timeoutMillis: timeout)
            return 0
        }
        // Reuse connections, but keep the pool small per loop.
        presignd_curl_multi_setopt_long(multi, CURLMOPT_MAXCONNECTS, 16)
        eventLoop.onShutdown { [self] in shutdown() }
    }

    private func watch(socket: curl_socket_t, what: Int32, existing: UnsafeMutableRawPointer?) {
        if what == CURL_POLL_REMOVE {
            guard let existing else { return }
            let watch = Unmanaged<SocketWatch>.fromOpaque(existing)
            curl_multi_assign(multi, socket, nil)
            uv_poll_stop(watch.takeUnretainedValue().poll)
            watch.takeUnretainedValue().poll.withMemoryRebound(to: uv_handle_t.self, capacity: 1) { handle in
                uv_close(handle) { handle in
                    // Released here: the handle's memory lives until libuv is done with it.
                    Unmanaged<SocketWatch>.fromOpaque(handle!.pointee.data).release()
                }
            }
            return
        }
        let watch: SocketWatch
        if let existing {
            watch = Unmanaged<SocketWatch>.fromOpaque(existing).takeUnretainedValue()
        } else {
            watch = SocketWatch(socket: socket, owner: self)
            let retained = Unmanaged.passRetained(watch).toOpaque()
            uv_poll_init_socket(loop, watch.poll, socket)
            watch.poll.pointee.data = retained
            curl_multi_assign(multi, socket, retained)
        }
        var events: Int32 = 0
        if what == CURL_POLL_IN || what == CURL_POLL_INOUT { events |= Int32(UV_READABLE.rawValue) }
        if what == CURL_POLL_OUT || what == CURL_POLL_INOUT { events |= Int32(UV_WRITABLE.rawValue) }
        uv_poll_start(watch.poll, events) { poll, status, events in
            let watch = Unmanaged<SocketWatch>.fromOpaque(poll!.pointee.data).takeUnretainedValue()
            var flags: Int32 = 0
            if status < 0 {
                flags = CURL_CSELECT_ERR
            } else {
                if events & Int32(UV_READABLE.rawValue) != 0 { flags |= CURL_CSELECT_IN }
                if events & Int32(UV_WRITABLE.rawValue) != 0 { flags |= CURL_CSELECT_OUT }
            }
            watch.owner.action(socket: watch.socket, flags: flags)
        }
    }

    private func schedule(timeoutMillis: Int) {
        guard !closed else { return }
        if timeoutMillis < 0 {
            uv_timer_stop(timer)
            return
        }
        // Even a 0 ms timeout goes through the loop: curl must not be re-entered from its own callback.
        uv_timer_start(timer, { timer in
            let owner = Unmanaged<CurlLoop>.fromOpaque(timer!.pointee.data).takeUnretainedValue()
            owner.action(socket: presignd_curl_socket_timeout(), flags: 0)
        }, UInt64(timeoutMillis), 0)
    }

    private func action(socket: curl_socket_t, flags: Int32) {
        curl_multi_socket_action(multi, socket, flags, &running)
        collect()
    }

    /// Finished transfers: remove them from the multi and tell their owners.
    private func collect() {
        var pending: Int32 = 0
        while let message = curl_multi_info_read(multi, &pending) {
            guard message.pointee.msg == CURLMSG_DONE, let easy = message.pointee.easy_handle else { continue }
            let result = message.pointee.data.result
            var raw: UnsafeMutableRawPointer?
            presignd_curl_easy_getinfo_pointer(easy, CURLINFO_PRIVATE, &raw)
            curl_multi_remove_handle(multi, easy)
            guard let raw else { continue }
            let transfer = Unmanaged<CurlTransfer>.fromOpaque(raw)
            let object = transfer.takeUnretainedValue()
            active[ObjectIdentifier(object)] = nil
            object.finished(code: result)
            transfer.release()  // retained in start()
        }
    }

    /// Adds a configured transfer. The transfer is retained until curl reports it done (or it is cancelled).
    func start(_ transfer: CurlTransfer) {
        guard !closed else {
            transfer.finished(code: CURLE_ABORTED_BY_CALLBACK)
            return
        }
        let retained = Unmanaged.passRetained(transfer)
        presignd_curl_easy_setopt_pointer(transfer.easy, CURLOPT_PRIVATE, retained.toOpaque())
        active[ObjectIdentifier(transfer)] = retained
        let code = curl_multi_add_handle(multi, transfer.easy)
        if code != CURLM_OK {
            active[ObjectIdentifier(transfer)] = nil
            transfer.finished(code: CURLE_FAILED_INIT)
            retained.release()
        }
    }

    /// Stops a transfer early (the client went away): no more callbacks, then `finished` with an abort code.
    func cancel(_ transfer: CurlTransfer) {
        guard let retained = active.removeValue(forKey: ObjectIdentifier(transfer)) else { return }
        curl_multi_remove_handle(multi, transfer.easy)
        transfer.finished(code: CURLE_ABORTED_BY_CALLBACK)
        retained.release()  // the retain from start()
    }

    /// Resumes a paused transfer (its downstream drained, or more upload bytes arrived).
    func resume(_ transfer: CurlTransfer) {
        guard active[ObjectIdentifier(transfer)] != nil else { return }
        curl_easy_pause(transfer.easy, presignd_curlpause_cont())
        // curl may have work to do right away; a zero timer runs it from the loop.
        collectSoon()
    }

    /// Resumes a transfer that paused inside its own data callback, from the loop's next turn: the work waiting on
    /// the loop (other connections) runs first. Resuming from inside the callback would make curl call straight
    /// back. A body consumer that has done its share of work for one turn pauses and calls this.
    func resumeNextTurn(_ transfer: CurlTransfer) {
        guard !closed else { return }
        resumeOnNextTurn.append(ObjectIdentifier(transfer))
        uv_idle_start(turnIdle) { idle in
            let owner = Unmanaged<CurlLoop>.fromOpaque(idle!.pointee.data).takeUnretainedValue()
            let due = owner.resumeOnNextTurn
            owner.resumeOnNextTurn = []
            // Resumed transfers that pause again are due on the next turn; with none, the handle stops.
            for id in due { if let retained = owner.active[id] { owner.resume(retained.takeUnretainedValue()) } }
            if owner.resumeOnNextTurn.isEmpty { uv_idle_stop(idle) }
        }
    }

    private func collectSoon() {
        guard !closed else { return }
        uv_timer_start(timer, { timer in
            let owner = Unmanaged<CurlLoop>.fromOpaque(timer!.pointee.data).takeUnretainedValue()
            owner.action(socket: presignd_curl_socket_timeout(), flags: 0)
        }, 0, 0)
    }

    /// The worker is stopping: abort what is left and close the timer; poll handles close through REMOVE.
    private func shutdown() {
        guard !closed else { return }
        for retained in Array(active.values) { cancel(retained.takeUnretainedValue()) }
        closed = true
        uv_timer_stop(timer)
        uv_idle_stop(turnIdle)
        curl_multi_cleanup(multi)  // sends CURL_POLL_REMOVE for sockets still watched
        // The timer's memory must outlive its close: the handle keeps `self` retained until libuv is done with it,
        // and `deinit` frees the memory.
        for handle in [UnsafeMutableRawPointer(timer), UnsafeMutableRawPointer(turnIdle)] {
            let raw = handle.assumingMemoryBound(to: uv_handle_t.self)
            raw.pointee.data = Unmanaged.passRetained(self).toOpaque()
            uv_close(raw) { handle in Unmanaged<CurlLoop>.fromOpaque(handle!.pointee.data).release() }
        }
    }

    deinit {
        // Only reached after the close callbacks above released the last references (or if the loop never ran).
        timer.deallocate()
        turnIdle.deallocate()
    }

    var activeCount: Int { active.count }
}
