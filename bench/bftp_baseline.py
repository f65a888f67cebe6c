#!/usr/bin/python3
"""A bare bwLehrpool client for bench/bwlehrpool.sh: what one image transfer costs without the
registry. Logs in at the master, then downloads (or uploads) one image version with the block
transfer protocol the way the registry does: 16 MiB ranges, LZ4 frames (COMPRESS=true), SHA-1 per
block verified (download) or announced (upload); the download is written to a file and fsync'd.

    bftp_baseline.py GEN_DIR MASTER_PORT SATELLITE_PORT LOGIN PASSWORD download VERSION_ID OUT_FILE
    bftp_baseline.py GEN_DIR MASTER_PORT SATELLITE_PORT LOGIN PASSWORD upload BASE_ID IN_FILE
"""
import hashlib
import os
import socket
import sys
import time

gen, master_port, satellite_port, login, password, mode, ident, path = sys.argv[1:9]
sys.path.insert(0, gen)
import lz4.block  # noqa: E402
from bwlp import MasterServer, SatelliteServer  # noqa: E402
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

BLOCK = 16 * 1024 * 1024


def client(service, port):
    transport = TTransport.TFramedTransport(TSocket.TSocket("127.0.0.1", int(port)))
    transport.open()
    return service.Client(TBinaryProtocol.TBinaryProtocol(transport, strictRead=True, strictWrite=True))


def recv_exact(conn, n):
    data = bytearray()
    while len(data) < n:
        chunk = conn.recv(min(1 << 20, n - len(data)))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return bytes(data)


def meta(*pairs):
    out = bytearray()
    for key, value in pairs:
        text = f"{key}={value}".encode()
        out += len(text).to_bytes(2, "big") + text
    return bytes(out + b"\0\0")


def read_meta(conn):
    entries = {}
    while True:
        length = int.from_bytes(recv_exact(conn, 2), "big")
        if length == 0:
            return entries
        key, _, value = recv_exact(conn, length).decode().partition("=")
        entries.setdefault(key, value)


token = client(MasterServer, master_port).localAccountLogin(login, password).authToken
satellite = client(SatelliteServer, satellite_port)

if mode == "download":
    info = satellite.requestDownload(token, ident)
    size = os.path.getsize(os.path.join(os.path.dirname(gen), "images", ident + ".img"))
    conn = socket.create_connection(("127.0.0.1", info.plainPort))
    conn.sendall(b"D" + meta(("TOKEN", info.token)))
    with open(path, "wb") as out:
        for index, start in enumerate(range(0, size, BLOCK)):
            end = min(start + BLOCK, size)
            conn.sendall(meta(("COMPRESS", "true"), ("RANGE", f"{start}:{end}")))
            reply = read_meta(conn)
            data = bytearray()
            while len(data) < end - start:
                plain = int.from_bytes(recv_exact(conn, 4), "big")
                packed = int.from_bytes(recv_exact(conn, 4), "big")
                payload = recv_exact(conn, packed)
                data += payload if plain == packed else lz4.block.decompress(payload, uncompressed_size=plain)
            assert hashlib.sha1(data).digest() == info.blockHashes[index], "hash mismatch"
            out.write(data)
        out.flush()
        os.fsync(out.fileno())
    conn.sendall(meta(("DONE", "")))
    conn.close()
else:
    size = os.path.getsize(path)
    hashes = []
    with open(path, "rb") as f:
        while block := f.read(BLOCK):
            hashes.append(hashlib.sha1(block).digest())
    info = satellite.requestImageVersionUpload(token, ident, size, hashes, b"displayName = \"bench\"\n")
    conn = socket.create_connection(("127.0.0.1", info.plainPort))
    conn.sendall(b"U" + meta(("TOKEN", info.token)))
    with open(path, "rb") as f:
        while True:
            request = read_meta(conn)
            if "DONE" in request or "ERROR" in request:
                break
            start, end = (int(x) for x in request["RANGE"].split(":"))
            f.seek(start)
            data = f.read(end - start)
            out = bytearray(meta(("COMPRESS", "true"), ("RANGE", f"{start}:{end}")))
            for i in range(0, len(data), 500_000):
                frame = data[i:i + 500_000]
                packed = lz4.block.compress(frame, store_size=False)
                out += len(frame).to_bytes(4, "big")
                out += (len(packed).to_bytes(4, "big") + packed) if len(packed) * 9 // 8 < len(frame) else (len(frame).to_bytes(4, "big") + frame)
            conn.sendall(out)
    conn.close()
    while satellite.queryUploadStatus(info.token).state != 2:
        time.sleep(0.1)
