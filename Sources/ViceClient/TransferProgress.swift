import Foundation
import ViceSupport

#if canImport(Glibc)
import Glibc
#endif

/// A progress line on standard error — bytes, rate and time left — redrawn at most ten times a
/// second, and only when standard error is a terminal: piped or logged output gets no control
/// characters. Shared by the transfer and the job watcher, which may update it from any task.
package final class TransferProgress: Sendable {
    private struct State {
        var done: Int64 = 0
        var total: Int64?
        var phase: String?
        var lastDraw: ContinuousClock.Instant?
        var started = ContinuousClock.now
        /// Recent (time, bytes) samples for the rate: the last few seconds, not the whole run.
        var samples: [(ContinuousClock.Instant, Int64)] = []
        var drawn = false
        var finished = false
    }

    private let label: String
    private let enabled: Bool
    private let width: Int
    private let state = LockedBox(State())
    private let output: Int32

    /// `enabled` nil: only when `output` is a terminal.
    package init(label: String, total: Int64?, enabled: Bool? = nil, output: Int32 = STDERR_FILENO) {
        self.label = label
        self.output = output
        self.enabled = enabled ?? (isatty(output) == 1)
        var size = winsize()
        self.width = ioctl(output, UInt(TIOCGWINSZ), &size) == 0 && size.ws_col > 40 ? Int(size.ws_col) : 80
        state.withLock { $0.total = total }
    }

    package var isEnabled: Bool { enabled }

    /// The bytes moved so far (and the total, when it became known).
    package func update(done: Int64, total: Int64? = nil, phase: String? = nil) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.done = done
            if let total { state.total = total }
            if let phase { state.phase = phase }
            let now = ContinuousClock.now
            if let last = state.lastDraw, now - last < .milliseconds(100) { return nil }
            state.lastDraw = now
            // One sample per redraw: at most 50 in the 5 s the rate is taken over.
            state.samples.append((now, done))
            state.samples.removeAll { now - $0.0 > .seconds(5) }
            state.drawn = true
            return render(state, now: now)
        }
        if let line { emit("\r" + line + "\u{1B}[K") }
    }

    /// Draws the final state and ends the line.
    package func finish(message: String? = nil) {
        guard enabled else { return }
        let line: String? = state.withLock { state in
            guard !state.finished else { return nil }
            state.finished = true
            guard state.drawn || message != nil else { return nil }
            return message ?? render(state, now: ContinuousClock.now)
        }
        if let line { emit("\r" + line + "\u{1B}[K\n") }
    }

    private func render(_ state: State, now: ContinuousClock.Instant) -> String {
        let rate: Double = {
            guard let first = state.samples.first, let last = state.samples.last, last.0 > first.0 else { return 0 }
            let seconds = (last.0 - first.0).inSeconds
            return seconds > 0 ? Double(last.1 - first.1) / seconds : 0
        }()
        var head = label
        if let phase = state.phase { head += " " + phase }
        var tail = state.done.byteCountText
        var fraction: Double?
        if let total = state.total, total > 0 {
            fraction = min(1, Double(state.done) / Double(total))
            tail += "/" + total.byteCountText + String(format: " %3d%%", Int(fraction! * 100))
        }
        if rate > 0 { tail += " " + Int64(rate).byteCountText + "/s" }
        if let total = state.total, rate > 0, state.done < total {
            tail += " ETA " + Self.clock(Double(total - state.done) / rate)
        }
        // The bar takes what the terminal's width leaves, or goes when that is too little.
        let room = width - 1 - head.count - tail.count - 4
        var line = head
        if let fraction, room >= 10 {
            let barWidth = min(40, room)
            let filled = Int(fraction * Double(barWidth))
            line += " [" + String(repeating: "=", count: filled) + String(repeating: " ", count: barWidth - filled) + "]"
        }
        line += " " + tail
        return line.count >= width ? String(line.prefix(width - 1)) : line
    }

    private func emit(_ text: String) {
        let bytes = Array(text.utf8)
        bytes.withUnsafeBytes { _ = try? writeFully(output, $0) }
    }

    /// 1:05:09 or 4:07.
    static func clock(_ seconds: Double) -> String {
        let total = Int(seconds.rounded())
        let (hours, minutes, secs) = (total / 3600, total / 60 % 60, total % 60)
        return hours > 0 ? String(format: "%d:%02d:%02d", hours, minutes, secs) : String(format: "%d:%02d", minutes, secs)
    }
}
