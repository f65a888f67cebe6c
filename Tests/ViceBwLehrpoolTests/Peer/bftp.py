"""bwLehrpool's block transfer protocol (BFTP) on the wire, for the test peer and the benchmark's
bare client: exact reads, meta blocks (UTF strings ended by an empty one) and LZ4 frames."""
import lz4.block

MAX_FRAME = 500_000


def recv_exact(conn, n):
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(1 << 20, n - len(data)))
        if not chunk:
            raise ConnectionError("peer closed")
        data += chunk
    return bytes(data)


def read_meta(conn):
    entries = {}
    while True:
        length = int.from_bytes(recv_exact(conn, 2), "big")
        if length == 0:
            return entries
        text = recv_exact(conn, length).decode()
        if "=" in text:
            key, value = text.split("=", 1)
            entries.setdefault(key, value)


def meta(*pairs):
    out = bytearray()
    for key, value in pairs:
        text = f"{key}={value}".encode()
        out += len(text).to_bytes(2, "big") + text
    return bytes(out + b"\0\0")


def frames(data):
    out = bytearray()
    for start in range(0, len(data), MAX_FRAME):
        frame = data[start:start + MAX_FRAME]
        packed = lz4.block.compress(frame, store_size=False)
        out += len(frame).to_bytes(4, "big")
        if len(packed) * 9 // 8 < len(frame):
            out += len(packed).to_bytes(4, "big") + packed
        else:
            out += len(frame).to_bytes(4, "big") + frame
    return bytes(out)


def read_frames(conn, length):
    out = bytearray()
    while len(out) < length:
        plain = int.from_bytes(recv_exact(conn, 4), "big")
        packed = int.from_bytes(recv_exact(conn, 4), "big")
        if plain <= 0 or plain > MAX_FRAME or len(out) + plain > length:
            raise ValueError("bad LZ4 frame")
        payload = recv_exact(conn, packed)
        out += payload if plain == packed else lz4.block.decompress(payload, uncompressed_size=plain)
    return bytes(out)
