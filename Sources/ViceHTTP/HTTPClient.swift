import CCurl
import Foundation
import ViceSupport

/// An async HTTP client on libcurl. Each transfer runs `curl_easy_perform` on a thread of its own,
/// never on Swift's cooperative pool; bodies stream both ways through bounded pipes, so neither a
/// slow server nor a slow consumer makes memory grow.
package struct HTTPClient: Sendable {
    private static let initialised: Bool = {
        vice_curl_set_address_check(addressCheck)
        return vice_curl_global_init() == CURLE_OK
    }()

    package init() {
        precondition(Self.initialised, "libcurl failed to initialise")
    }

    /// Sends `request` and returns once the response head has arrived; the body streams after.
    /// Cancelling the calling task aborts the transfer.
    package func execute(_ request: HTTPClientRequest) async throws -> HTTPClientResponse {
        let transfer = try Transfer(request)
        return try await withTaskCancellationHandler {
            try await transfer.start()
        } onCancel: {
            transfer.cancel()
        }
    }
}

/// One exchange: the curl handle, its thread, and the pipes to the Swift side.
final class Transfer: @unchecked Sendable {
    let request: HTTPClientRequest
    let responsePipe = ChunkPipe()
    let requestPipe: ChunkPipe?
    private let lock = NSLock()
    private var headContinuation: CheckedContinuation<HTTPClientResponse, any Error>?
    private var headDelivered = false
    private var headerLines: [(name: String, value: String)] = []
    private var isCancelled = false
    /// Why the egress policy refused a connection of this transfer, if it did.
    private var refusal: String?
    /// Why the request body stream failed, if it did (the transfer then aborts).
    private var bodyFailure: String?
    private var pendingUpload: [UInt8] = []
    private var pendingOffset = 0
    private var handle: UnsafeMutableRawPointer?
    private var headerList: UnsafeMutablePointer<curl_slist>?
    /// curl keeps this pointer and writes into it later: it must not move.
    private let errorBuffer: UnsafeMutablePointer<CChar> = {
        let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: Int(CURL_ERROR_SIZE) + 1)
        buffer.initialize(repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        return buffer
    }()

    init(_ request: HTTPClientRequest) throws {
        self.request = request
        requestPipe = request.body == nil ? nil : ChunkPipe()
        guard let scheme = URL(string: request.url)?.scheme?.lowercased() else {
            throw HTTPClientError(.invalidRequest, "'\(request.url)' is not an absolute URL")
        }
        guard scheme == "http" || scheme == "https" else {
            throw HTTPClientError(.invalidRequest, "only http and https URLs are fetched, not \(scheme):")
        }
    }

    deinit { errorBuffer.deallocate() }

    func cancel() {
        lock.withLock { isCancelled = true }
        responsePipe.cancel()
        requestPipe?.cancel()
    }

    var cancelled: Bool { lock.withLock { isCancelled } }

    func start() async throws -> HTTPClientResponse {
        if let inline = request.body?.inline, let pipe = requestPipe {
            // Bytes already in memory: the transfer thread sends them without help.
            pendingUpload = inline
            pipe.finish()
        } else if let body = request.body, let pipe = requestPipe {
            // Feed the request body from a task; the transfer thread reads it as curl asks.
            Task {
                do {
                    for try await chunk in body.content where !chunk.isEmpty {
                        guard await pipe.put(chunk) else { return }
                    }
                    pipe.finish()
                } catch {
                    lock.withLock { bodyFailure = "\(error)" }
                    pipe.finish(HTTPClientError(.send, "the request body failed: \(error)"))
                }
            }
        }
        return try await withCheckedThrowingContinuation { continuation in
            lock.withLock { headContinuation = continuation }
            let thread = Thread { [self] in perform() }
            thread.name = "vice-http"
            thread.start()
        }
    }

    // MARK: on the transfer thread

    private func perform() {
        guard let handle = curl_easy_init() else {
            deliverHead(.failure(HTTPClientError(.invalidRequest, "curl_easy_init failed")))
            return
        }
        self.handle = handle
        let opaque = Unmanaged.passRetained(self)
        defer {
            curl_easy_cleanup(handle)
            if let headerList { curl_slist_free_all(headerList) }
            opaque.release()
        }
        let code = configure(handle, userdata: opaque.toOpaque()) ?? curl_easy_perform(handle)
        if code == CURLE_OK {
            // A response without a body never called the write callback: deliver its head now.
            deliverHeadIfNeeded()
            responsePipe.finish()
        } else {
            let error = describe(code)
            deliverHead(.failure(error))
            responsePipe.finish(error)
        }
    }

    /// Sets every option; returns a failure code when one is refused.
    private func configure(_ handle: UnsafeMutableRawPointer, userdata: UnsafeMutableRawPointer) -> CURLcode? {
        let options = request.options
        var results: [CURLcode] = []
        results.append(vice_curl_setopt_string(handle, CURLOPT_URL, request.url))
        // Only http and https, for the request and any redirect: no file://, gopher://, dict://.
        results.append(vice_curl_setopt_string(handle, CURLOPT_PROTOCOLS_STR, "http,https"))
        results.append(vice_curl_setopt_string(handle, CURLOPT_REDIR_PROTOCOLS_STR, "http,https"))
        results.append(vice_curl_setopt_long(handle, CURLOPT_FOLLOWLOCATION, 0))
        // No proxy from the process environment: the egress check must see the real peer.
        results.append(vice_curl_setopt_string(handle, CURLOPT_PROXY, ""))
        results.append(vice_curl_guard_sockets(handle, userdata))
        results.append(vice_curl_setopt_long(handle, CURLOPT_NOSIGNAL, 1))
        results.append(vice_curl_setopt_pointer(handle, CURLOPT_ERRORBUFFER, errorBuffer))
        results.append(vice_curl_setopt_long(handle, CURLOPT_CONNECTTIMEOUT_MS, Self.milliseconds(options.connectTimeout)))
        results.append(vice_curl_setopt_long(handle, CURLOPT_LOW_SPEED_LIMIT, 1))
        results.append(vice_curl_setopt_long(handle, CURLOPT_LOW_SPEED_TIME, max(1, Self.milliseconds(options.idleTimeout) / 1000)))
        results.append(vice_curl_setopt_long(handle, CURLOPT_BUFFERSIZE, 512 * 1024))
        if let socket = options.unixSocketPath {
            results.append(vice_curl_setopt_string(handle, CURLOPT_UNIX_SOCKET_PATH, socket))
        }
        if let bundle = options.caBundlePath {
            results.append(vice_curl_setopt_string(handle, CURLOPT_CAINFO, bundle))
        }
        if let certificate = options.clientCertificatePath {
            results.append(vice_curl_setopt_string(handle, CURLOPT_SSLCERT, certificate))
        }
        if let key = options.clientKeyPath {
            results.append(vice_curl_setopt_string(handle, CURLOPT_SSLKEY, key))
        }
        if options.insecure {
            results.append(vice_curl_setopt_long(handle, CURLOPT_SSL_VERIFYPEER, 0))
            results.append(vice_curl_setopt_long(handle, CURLOPT_SSL_VERIFYHOST, 0))
        }

        let method = request.method.uppercased()
        switch method {
        case "GET": break
        case "HEAD": results.append(vice_curl_setopt_long(handle, CURLOPT_NOBODY, 1))
        case "POST": results.append(vice_curl_setopt_long(handle, CURLOPT_POST, 1))
        case "PUT" where request.body != nil: results.append(vice_curl_setopt_long(handle, CURLOPT_UPLOAD, 1))
        default:
            if request.body != nil { results.append(vice_curl_setopt_long(handle, CURLOPT_POST, 1)) }
            results.append(vice_curl_setopt_string(handle, CURLOPT_CUSTOMREQUEST, method))
        }
        if let body = request.body {
            results.append(vice_curl_setopt_data_callback(handle, CURLOPT_READFUNCTION, readCallback))
            results.append(vice_curl_setopt_pointer(handle, CURLOPT_READDATA, userdata))
            if let length = body.length {
                let option = method == "PUT" ? CURLOPT_INFILESIZE_LARGE : CURLOPT_POSTFIELDSIZE_LARGE
                results.append(vice_curl_setopt_off_t(handle, option, curl_off_t(length)))
            }
        } else if method == "POST" {
            results.append(vice_curl_setopt_off_t(handle, CURLOPT_POSTFIELDSIZE_LARGE, 0))
        }

        // No "Expect: 100-continue" round trip; callers' headers after ours.
        var list = curl_slist_append(nil, "Expect:")
        if request.body != nil && request.body?.length == nil && method != "PUT" {
            list = curl_slist_append(list, "Transfer-Encoding: chunked")
        }
        for header in request.headers {
            list = curl_slist_append(list, "\(header.name): \(header.value)")
        }
        headerList = list
        results.append(vice_curl_setopt_slist(handle, CURLOPT_HTTPHEADER, list))

        results.append(vice_curl_setopt_data_callback(handle, CURLOPT_HEADERFUNCTION, headerCallback))
        results.append(vice_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, userdata))
        results.append(vice_curl_setopt_data_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback))
        results.append(vice_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, userdata))
        results.append(vice_curl_setopt_long(handle, CURLOPT_NOPROGRESS, 0))
        results.append(vice_curl_setopt_progress_callback(handle, progressCallback))
        results.append(vice_curl_setopt_pointer(handle, CURLOPT_XFERINFODATA, userdata))
        return results.first { $0 != CURLE_OK }
    }

    fileprivate func receiveHeader(_ line: String) {
        let trimmed = line.trimmingCharacters(in: .whitespacesAndNewlines)
        if trimmed.isEmpty {
            // End of a header block; a 1xx block is followed by the real one.
            if status() >= 200 { deliverHeadIfNeeded() } else { lock.withLock { headerLines = [] } }
            return
        }
        if trimmed.hasPrefix("HTTP/") {
            lock.withLock { headerLines = [] }
            return
        }
        guard let colon = trimmed.firstIndex(of: ":") else { return }
        let name = String(trimmed[..<colon]).trimmingCharacters(in: .whitespaces)
        let value = String(trimmed[trimmed.index(after: colon)...]).trimmingCharacters(in: .whitespaces)
        lock.withLock { headerLines.append((name, value)) }
    }

    fileprivate func receiveBody(_ bytes: [UInt8]) -> Bool {
        deliverHeadIfNeeded()
        return responsePipe.putBlocking(bytes)
    }

    /// Copies the next request body bytes into curl's buffer; 0 at the end, nil to abort.
    fileprivate func fillUpload(_ buffer: UnsafeMutableRawBufferPointer) -> Int? {
        guard let pipe = requestPipe else { return 0 }
        if pendingOffset >= pendingUpload.count {
            do {
                guard let next = try pipe.takeBlocking() else { return cancelled ? nil : 0 }
                pendingUpload = next
                pendingOffset = 0
            } catch {
                return nil
            }
        }
        let count = min(buffer.count, pendingUpload.count - pendingOffset)
        pendingUpload.withUnsafeBytes { source in
            buffer.baseAddress!.copyMemory(from: source.baseAddress! + pendingOffset, byteCount: count)
        }
        pendingOffset += count
        return count
    }

    /// On the transfer thread, before each socket opens.
    fileprivate func mayConnect(family: Int32, address: [UInt8]) -> Bool {
        guard let egress = request.options.egress else { return true }
        let reason: String?
        switch family {
        case AF_UNIX: reason = egress.allowUnixSockets ? nil : "unix sockets are only for environments an admin created or the configuration declares"
        default: reason = egress.refusal(for: address)
        }
        guard let reason else { return true }
        lock.withLock { if refusal == nil { refusal = reason } }
        return false
    }

    private func status() -> Int {
        guard let handle else { return 0 }
        var code = 0
        _ = vice_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        return code
    }

    private func deliverHeadIfNeeded() {
        let pending = lock.withLock { !headDelivered }
        guard pending else { return }
        let pipe = responsePipe
        let reader = BodyReader(pipe: pipe, transfer: self)
        let response = HTTPClientResponse(status: status(), headers: lock.withLock { headerLines },
                                          body: ByteStream { try await reader.next() })
        deliverHead(.success(response))
    }

    private func deliverHead(_ result: Result<HTTPClientResponse, any Error>) {
        let continuation = lock.withLock { () -> CheckedContinuation<HTTPClientResponse, any Error>? in
            guard !headDelivered else { return nil }
            headDelivered = true
            defer { headContinuation = nil }
            return headContinuation
        }
        continuation?.resume(with: result)
    }

    private func describe(_ code: CURLcode) -> HTTPClientError {
        if code == CURLE_COULDNT_CONNECT, let refusal = lock.withLock({ refusal }) {
            return HTTPClientError(.refused, "the egress policy refuses the connection: \(refusal) (\(request.method) \(request.url))",
                                   curlCode: Int(code.rawValue))
        }
        if let bodyFailure = lock.withLock({ bodyFailure }) {
            return HTTPClientError(.body, "the request body failed: \(bodyFailure)", curlCode: Int(code.rawValue))
        }
        let detail = String(cString: errorBuffer)
        let message = (detail.isEmpty ? String(cString: curl_easy_strerror(code)) : detail) + " (\(request.method) \(request.url))"
        let kind: HTTPClientError.Kind
        switch code {
        case CURLE_ABORTED_BY_CALLBACK where cancelled, CURLE_WRITE_ERROR where cancelled: kind = .cancelled
        case CURLE_COULDNT_RESOLVE_HOST, CURLE_COULDNT_RESOLVE_PROXY: kind = .dns
        case CURLE_COULDNT_CONNECT: kind = .connect
        case CURLE_OPERATION_TIMEDOUT: kind = .timeout
        case CURLE_SSL_CONNECT_ERROR, CURLE_PEER_FAILED_VERIFICATION, CURLE_SSL_CERTPROBLEM, CURLE_SSL_CIPHER,
             CURLE_SSL_CACERT_BADFILE, CURLE_SSL_ISSUER_ERROR, CURLE_SSL_PINNEDPUBKEYNOTMATCH: kind = .tls
        case CURLE_READ_ERROR, CURLE_SEND_ERROR, CURLE_ABORTED_BY_CALLBACK: kind = .send
        case CURLE_URL_MALFORMAT, CURLE_UNSUPPORTED_PROTOCOL, CURLE_BAD_FUNCTION_ARGUMENT: kind = .invalidRequest
        default: kind = .receive
        }
        return HTTPClientError(kind, kind == .cancelled ? "the transfer was cancelled (\(request.method) \(request.url))" : message,
                               curlCode: Int(code.rawValue))
    }

    static func milliseconds(_ duration: Duration) -> Int {
        Int(duration.inNanoseconds / 1_000_000)
    }
}

/// Reads the response body; dropping it (every copy of the stream) aborts the transfer.
final class BodyReader: @unchecked Sendable {
    let pipe: ChunkPipe
    let transfer: Transfer

    init(pipe: ChunkPipe, transfer: Transfer) {
        self.pipe = pipe
        self.transfer = transfer
    }

    deinit { transfer.cancel() }

    func next() async throws -> [UInt8]? {
        try await withTaskCancellationHandler {
            if Task.isCancelled { throw HTTPClientError(.cancelled, "the transfer was cancelled") }
            return try await pipe.take()
        } onCancel: { [transfer] in
            transfer.cancel()
        }
    }
}

// MARK: libcurl callbacks

private let headerCallback: vice_curl_data_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    transfer.receiveHeader(String(decoding: UnsafeRawBufferPointer(start: buffer, count: length), as: UTF8.self))
    return length
}

private let writeCallback: vice_curl_data_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let length = size * count
    let bytes = [UInt8](UnsafeRawBufferPointer(start: buffer, count: length))
    return transfer.receiveBody(bytes) ? length : 0
}

private let readCallback: vice_curl_data_callback = { buffer, size, count, userdata in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let target = UnsafeMutableRawBufferPointer(start: buffer, count: size * count)
    return transfer.fillUpload(target).map { $0 } ?? vice_curl_readfunc_abort()
}

private let addressCheck: vice_address_check = { userdata, family, address, length in
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue()
    let bytes = address.map { [UInt8](UnsafeBufferPointer(start: $0, count: length)) } ?? []
    return transfer.mayConnect(family: family, address: bytes) ? 1 : 0
}

private let progressCallback: vice_curl_progress_callback = { userdata, _, _, _, _ in
    Unmanaged<Transfer>.fromOpaque(userdata!).takeUnretainedValue().cancelled ? 1 : 0
}
