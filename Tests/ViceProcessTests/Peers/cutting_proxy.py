"""A TCP proxy to the registry that cuts the first image download off midway.

Usage: cutting_proxy.py UPSTREAM_PORT CUT_AFTER_BYTES LOG_FILE [download|upload]
Prints "listening PORT". Every connection is forwarded; the first response to a GET of
/v1/image/<id>/file (download, the default) or the first request body of a POST to it (upload)
is cut (both sockets closed) once CUT_AFTER_BYTES of it went through, as a broken network
would. Each request head's first line and Range header go to LOG_FILE, one JSON object per line.
"""
import json
import socket
import sys
import threading

upstream_port, cut_after, log_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
mode = sys.argv[4] if len(sys.argv) > 4 else "download"
lock = threading.Lock()
state = {"cut": False}


def log(entry):
    with lock, open(log_path, "a") as f:
        f.write(json.dumps(entry) + "\n")


def pump(source, target, limit=None):
    moved = 0
    try:
        while True:
            data = source.recv(65536)
            if not data:
                break
            if limit is not None and moved + len(data) >= limit:
                target.sendall(data[: max(0, limit - moved)])
                log({"cut": moved + max(0, limit - moved)})
                break
            target.sendall(data)
            moved += len(data)
    except OSError:
        pass
    for s in (source, target):
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()


def handle(client):
    server = socket.create_connection(("127.0.0.1", upstream_port))
    head = b""
    while b"\r\n\r\n" not in head:
        data = client.recv(65536)
        if not data:
            client.close(); server.close(); return
        head += data
    lines = head.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (l.split(":", 1) for l in lines[1:] if ":" in l)}
    log({"request": lines[0], "range": headers.get("range")})
    limit = None
    method = "GET " if mode == "download" else "POST "
    if lines[0].startswith(method) and "/file" in lines[0].split(" ")[1]:
        with lock:
            if not state["cut"]:
                state["cut"] = True
                limit = cut_after
    if mode == "upload":
        # The head and what came with it count toward the bytes let through.
        if limit is not None and len(head) >= limit:
            head = head[:limit]
        server.sendall(head)
        sent = len(head)
        threading.Thread(target=pump, args=(server, client), daemon=True).start()
        pump(client, server, None if limit is None else max(1, limit - sent))
        return
    server.sendall(head)
    threading.Thread(target=pump, args=(client, server), daemon=True).start()
    pump(server, client, limit)


listener = socket.socket()
listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
listener.bind(("127.0.0.1", 0))
listener.listen(16)
print("listening", listener.getsockname()[1], flush=True)
while True:
    connection, _ = listener.accept()
    threading.Thread(target=handle, args=(connection,), daemon=True).start()
