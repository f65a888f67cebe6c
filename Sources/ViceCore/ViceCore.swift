// What every module that uses the core also needs: byte streams, locks, blocking I/O, the egress
// policy and error classification live in the leaf module `ViceSupport`.
@_exported import ViceSupport
