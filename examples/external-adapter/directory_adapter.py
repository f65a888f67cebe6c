#!/usr/bin/env python3
"""A ViCE Registry external adapter (protocol vice-adapter/1): the "directory" backend.

An environment of this backend is a folder (credentials.location). Importing reads an image file
from it; deploying writes one into it; removing deletes it. Each image is two files: NAME (the
bytes) and NAME.json (its content type and title). When the folder holds a file `.password`, the
environment's credentials.password must equal its content.

    python3 directory_adapter.py /run/vice/directory.sock

and in the registry's configuration:

    adapters:
      external:
        - kind: directory
          socket: /run/vice/directory.sock

Standard library only. See docs/adapters.md for the protocol.
"""
import base64
import http.server
import json
import os
import re
import socketserver
import sys
import threading
import uuid

PROTOCOL = "vice-adapter/1"
CONTENT_TYPES = ["disk-raw", "disk-qcow2", "disk-vmdk", "docker-image", "docker-file", "packerfile"]
CHUNK = 1 << 20


class AdapterError(Exception):
    def __init__(self, status, code, message, transient=False):
        super().__init__(message)
        self.status, self.code, self.message, self.transient = status, code, message, transient


def folder_of(environment):
    credentials = environment.get("credentials") or {}
    folder = credentials.get("location") or ""
    if not folder.startswith("/"):
        raise AdapterError(400, "invalidConfiguration", f"credentials.location must be an absolute folder, not '{folder}'")
    if not os.path.isdir(folder):
        raise AdapterError(503, "unavailable", f"the folder {folder} does not exist", transient=True)
    password_file = os.path.join(folder, ".password")
    if os.path.exists(password_file):
        with open(password_file) as f:
            if f.read().strip() != (credentials.get("password") or ""):
                raise AdapterError(401, "authenticationFailed", f"wrong password for the folder {folder}")
    return folder


def image_path(folder, reference):
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}", reference or "") or reference.endswith(".json"):
        raise AdapterError(404, "notFound", f"'{reference}' is not an image name of this folder")
    return os.path.join(folder, reference)


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "vice-directory-adapter/1.0"

    def log_message(self, format, *args):  # quiet: the registry logs what matters
        pass

    # --- plumbing

    def send_json(self, status, value):
        body = json.dumps(value).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def read_json(self):
        length = int(self.headers.get("Content-Length") or 0)
        return json.loads(self.rfile.read(length) or b"{}")

    def do_GET(self):
        if self.path != "/v1/adapter":
            return self.send_json(404, {"error": {"code": "notFound", "message": f"no {self.path}"}})
        self.send_json(200, {
            "protocol": PROTOCOL, "kind": "directory", "version": "1.0.0",
            "summary": "images as files in a folder (example plugin, Python)",
            "capabilities": {"imports": CONTENT_TYPES, "deploys": CONTENT_TYPES},
            "maintainers": ["ViCE Registry developers"],
        })

    def do_POST(self):
        verbs = {"/v1/health": self.health, "/v1/list": self.list, "/v1/import": self.import_image,
                 "/v1/deploy": self.deploy, "/v1/remove": self.remove}
        verb = verbs.get(self.path)
        try:
            if verb is None:
                raise AdapterError(404, "notFound", f"no verb {self.path}")
            verb()
        except AdapterError as error:
            self.drain()
            self.send_json(error.status, {"error": {"code": error.code, "message": error.message, "transient": error.transient}})
        except (BrokenPipeError, ConnectionResetError):
            pass

    def drain(self):
        """Reads what is left of a request body, so the registry sees the answer, not a reset."""
        remaining = getattr(self, "remaining", None)
        while remaining:
            data = self.rfile.read(min(CHUNK, remaining))
            if not data:
                break
            remaining -= len(data)
        self.remaining = 0

    # --- the verbs

    def health(self):
        request = self.read_json()
        try:
            folder = folder_of(request["environment"])
        except AdapterError as error:
            return self.send_json(200, {"status": "unhealthy", "message": error.message})
        if not os.access(folder, os.W_OK):
            return self.send_json(200, {"status": "unhealthy", "message": f"{folder} is not writable"})
        self.send_json(200, {"status": "healthy", "message": f"folder {folder}"})

    def list(self):
        folder = folder_of(self.read_json()["environment"])
        images = []
        for name in sorted(os.listdir(folder)):
            if not name.endswith(".json") or not os.path.exists(os.path.join(folder, name[:-5])):
                continue
            with open(os.path.join(folder, name)) as f:
                meta = json.load(f)
            images.append({"reference": name[:-5], "title": meta.get("title"), "contenttype": meta.get("contenttype"),
                           "size": os.path.getsize(os.path.join(folder, name[:-5]))})
        self.send_json(200, {"images": images})

    def import_image(self):
        request = self.read_json()
        path = image_path(folder_of(request["environment"]), request.get("reference"))
        if not os.path.exists(path) or not os.path.exists(path + ".json"):
            raise AdapterError(404, "notFound", f"no image '{request.get('reference')}' in the folder")
        with open(path + ".json") as f:
            meta = json.load(f)
        size = os.path.getsize(path)
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(size))
        self.send_header("Vice-Contenttype", meta["contenttype"])
        self.send_header("Vice-Title", re.sub(r"[^A-Za-z0-9._~-]", lambda m: "".join(f"%{b:02X}" for b in m.group().encode()), meta.get("title") or ""))
        self.send_header("Vice-Specifics", base64.b64encode(json.dumps({"file": os.path.basename(path)}).encode()).decode())
        self.send_header("Connection", "close")
        self.end_headers()
        with open(path, "rb") as f:
            while True:
                data = f.read(CHUNK)
                if not data:
                    break
                self.wfile.write(data)

    def deploy(self):
        self.remaining = int(self.headers.get("Content-Length") or 0)
        request = json.loads(base64.b64decode(self.headers.get("Vice-Request") or ""))
        image = request["image"]
        folder = folder_of(request["environment"])
        if image["contenttype"] not in CONTENT_TYPES:
            raise AdapterError(400, "unsupported", f"this folder takes {', '.join(CONTENT_TYPES)}, not {image['contenttype']}")
        slug = re.sub(r"[^a-z0-9]+", "-", (image.get("title") or "image").lower()).strip("-")[:48] or "image"
        name = f"{slug}-{image['deploymentId']}"
        path = image_path(folder, name)
        partial = os.path.join(folder, f".{name}.{uuid.uuid4().hex}.part")
        # A registry that takes progress lines hears what the folder is doing after the bytes.
        lines = "application/x-ndjson" in (self.headers.get("Accept") or "")
        try:
            with open(partial, "wb") as f:
                while self.remaining:
                    data = self.rfile.read(min(CHUNK, self.remaining))
                    if not data:
                        raise AdapterError(400, "remoteError", "the image's bytes ended early", transient=True)
                    f.write(data)
                    self.remaining -= len(data)
                if lines:
                    self.send_response(200)
                    self.send_header("Content-Type", "application/x-ndjson")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(json.dumps({"progress": {"phase": "waiting-for-target"}}).encode() + b"\n")
                    self.wfile.flush()
                f.flush()
                os.fsync(f.fileno())
            with open(path + ".json", "w") as f:
                json.dump({"contenttype": image["contenttype"], "title": image.get("title"), "checksum": image.get("checksum")}, f)
            os.rename(partial, path)
        except OSError as error:
            if not lines:
                raise AdapterError(500, "remoteError", f"writing the image failed: {error}", transient=True)
            self.wfile.write(json.dumps({"error": {"code": "remoteError", "message": f"writing the image failed: {error}",
                                                   "transient": True}}).encode() + b"\n")
            return
        finally:
            if os.path.exists(partial):
                os.unlink(partial)
        if lines:
            self.wfile.write(json.dumps({"reference": name}).encode() + b"\n")
        else:
            self.send_json(200, {"reference": name})

    def remove(self):
        request = self.read_json()
        path = image_path(folder_of(request["environment"]), request.get("reference"))
        for file in (path, path + ".json"):
            if os.path.exists(file):
                os.unlink(file)
        self.send_json(200, {})


class Server(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: directory_adapter.py SOCKET [--exit-on-stdin-eof]")
    socket_path = sys.argv[1]
    if os.path.exists(socket_path):
        os.unlink(socket_path)
    server = Server(socket_path, Handler)
    if "--exit-on-stdin-eof" in sys.argv:  # for tests: end with the process that started us
        def watch():
            sys.stdin.read()
            server.shutdown()
        threading.Thread(target=watch, daemon=True).start()
    try:
        server.serve_forever()
    finally:
        server.server_close()
        if os.path.exists(socket_path):
            os.unlink(socket_path)


if __name__ == "__main__":
    main()
