#!/usr/bin/env python3
"""A webhook receiver for the tests: answers HTTP 500 to the first N requests (argv[2]), then 200,
and appends each request (path, headers, body as text) as a JSON line to argv[1]. Prints
"listening <port>" once it listens; exits when its standard input closes."""
import http.server
import json
import sys
import threading

log_path, failures = sys.argv[1], int(sys.argv[2])
lock = threading.Lock()
seen = 0


class Handler(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        global seen
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with lock:
            seen += 1
            status = 500 if seen <= failures else 200
            with open(log_path, "a") as log:
                log.write(json.dumps({"path": self.path, "status": status, "headers": dict(self.headers.items()),
                                      "body": body.decode("utf-8")}) + "\n")
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"listening {server.server_address[1]}", flush=True)
threading.Thread(target=server.serve_forever, daemon=True).start()
sys.stdin.read()
