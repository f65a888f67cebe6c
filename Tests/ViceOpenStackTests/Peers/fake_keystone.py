"""A hostile "Keystone" for the isolation tests: it issues a token for any password and hands out
whatever catalog, version links and Glance answers the test asks for (file://, gopher://, a body
that must not be echoed). A second socket, the trap, counts connections, so a test can show that
nothing reached it.

  fake_keystone.py CONFIG_JSON PORT_FILE

CONFIG_JSON: {"image_url": "...", "version_link": "...", "glance_status": 400, "glance_body": "..."}
(every key optional; "{trap}" in a value becomes the trap's port). PORT_FILE gets "PORT TRAP_PORT".
The peer exits when its standard input closes.
"""
import http.server
import json
import socket
import sys
import threading

config_text, port_file = sys.argv[1], sys.argv[2]
trap = socket.socket()
trap.bind(("127.0.0.1", 0))
trap.listen(16)
trap_port = trap.getsockname()[1]
config = json.loads(config_text.replace("{trap}", str(trap_port)))
trapped = [0]


def count_trap():
    while True:
        connection, _ = trap.accept()
        trapped[0] += 1
        connection.close()


class Handler(http.server.BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="application/json", headers=()):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        catalog = [{"type": "image", "endpoints": [{"interface": "public", "region_id": "R", "url": config.get("image_url", "")}]}]
        token = {"token": {"expires_at": "2099-01-01T00:00:00.000000Z", "catalog": catalog}}
        self.answer(201, json.dumps(token), headers=[("X-Subject-Token", "fake-token")])

    def do_GET(self):
        if self.path == "/trap-count":
            self.answer(200, str(trapped[0]), "text/plain")
        elif self.path in ("/", "/identity"):
            link = config.get("version_link", "")
            self.answer(300, json.dumps({"versions": {"values": [{"id": "v3.14", "status": "stable", "links": [{"rel": "self", "href": link}]}]}}))
        else:
            self.answer(config.get("glance_status", 404), config.get("glance_body", ""), "text/plain")


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
threading.Thread(target=server.serve_forever, daemon=True).start()
threading.Thread(target=count_trap, daemon=True).start()
with open(port_file + ".tmp", "w") as f:
    f.write("%d %d" % (server.server_address[1], trap_port))
import os
os.rename(port_file + ".tmp", port_file)
sys.stdin.read()
