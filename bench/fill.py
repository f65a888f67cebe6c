"""Creates N images through the registry API over keep-alive connections (bench/api.sh uses it)."""
import base64
import http.client
import json
import sys
import threading
import time

port, user, password, count, threads = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
auth = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()
types = ["disk-raw", "disk-qcow2", "disk-vmdk", "docker-image", "docker-file", "packerfile"]
ids = []
lock = threading.Lock()


def worker(start, stop):
    connection = http.client.HTTPConnection("127.0.0.1", port)
    for n in range(start, stop):
        body = json.dumps({"title": f"benchmark image {n}", "contenttype": types[n % len(types)], "imagetype": "implicit",
                           "specifics": {"n": n}})
        connection.request("POST", "/v1/images", body, {"Authorization": auth, "Content-Type": "application/json"})
        response = connection.getresponse()
        data = response.read()
        if response.status != 201:
            sys.exit(f"POST /v1/images answered {response.status}: {data[:200]!r}")
        with lock:
            ids.append(json.loads(data)["id"])


started = time.monotonic()
chunk = (count + threads - 1) // threads
pool = [threading.Thread(target=worker, args=(i * chunk, min(count, (i + 1) * chunk))) for i in range(threads)]
for thread in pool:
    thread.start()
for thread in pool:
    thread.join()
elapsed = time.monotonic() - started
print(json.dumps({"created": len(ids), "seconds": round(elapsed, 2), "perSecond": round(len(ids) / elapsed), "sampleId": ids[len(ids) // 2]}))
