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
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "Tests", "ViceBwLehrpoolTests", "Peer"))
from bftp import frames, meta, read_frames, read_meta, recv_exact  # noqa: E402
from bwlp import MasterServer, SatelliteServer  # noqa: E402
from thrift.protocol import TBinaryProtocol  # noqa: E402
from thrift.transport import TSocket, TTransport  # noqa: E402

BLOCK = 16 * 1024 * 1024


def client(service, port):
    transport = TTransport.TFramedTransport(TSocket.TSocket("127.0.0.1", int(port)))
    transport.open()
    return service.Client(TBinaryProtocol.TBinaryProtocol(transport, strictRead=True, strictWrite=True))


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
            data = read_frames(conn, end - start) if reply.get("COMPRESS") == "true" else recv_exact(conn, end - start)
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
            conn.sendall(meta(("COMPRESS", "true"), ("RANGE", f"{start}:{end}")) + frames(data))
    conn.close()
    while satellite.queryUploadStatus(info.token).state != 2:
        time.sleep(0.1)
