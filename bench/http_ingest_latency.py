#!/usr/bin/python3
"""Ingest-to-window-update latency over HTTP at a target event rate.

Starts `sentinel run` on a loopback port, posts NDJSON bodies of BATCH events
at RATE events/s from several client threads for SECONDS, then reads the
server's own end-to-end histogram (ingest -> window update, per shard) from
/metrics and prints p50/p95/p99 (worst shard) and the achieved rate.
Usage: http_ingest_latency.py SENTINEL [RATE] [SECONDS] [BATCH]"""
import http.client, json, os, re, socket, subprocess, sys, tempfile, threading, time

def free_port():
    s = socket.socket(); s.bind(("127.0.0.1", 0)); p = s.getsockname()[1]; s.close(); return p

def main():
    binary = sys.argv[1]
    rate = int(sys.argv[2]) if len(sys.argv) > 2 else 100_000
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 10
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 1000
    port = free_port()
    out = tempfile.mkdtemp()
    cfg = os.path.join(out, "c.yaml")
    open(cfg, "w").write("server:\n  threads: 2\n")
    srv = subprocess.Popen([binary, "run", "-c", cfg, "--listen", f"127.0.0.1:{port}", "--out", out + "/o"],
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=1); c.request("GET", "/readyz")
                if c.getresponse().status == 200: break
            except OSError: time.sleep(0.05)
        bodies_per_s = rate / batch
        threads, sent, statuses = 4, [0], {}
        lock = threading.Lock()
        t0 = time.time()
        def client(tid):
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            k = 0
            while True:
                due = t0 + (k * threads + tid) / bodies_per_s
                if due > t0 + seconds: return
                delay = due - time.time()
                if delay > 0: time.sleep(delay)
                now = time.time()
                lines = []
                for i in range(batch):
                    ts = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + "Z"
                    lines.append('{"id":"t%d-%d-%d","source":"cad","type":"cad.call.weapon","time":"%s","lat":%.5f,"lon":%.5f}'
                                 % (tid, k, i, ts, 41.85 + (i % 50) * 0.002, -87.65 + (i % 7) * 0.003))
                conn.request("POST", "/v1/events", "\n".join(lines), {"Content-Type": "application/x-ndjson"})
                r = conn.getresponse(); r.read()
                with lock:
                    statuses[r.status] = statuses.get(r.status, 0) + 1
                    if r.status == 200: sent[0] += batch
                k += 1
        ts = [threading.Thread(target=client, args=(i,)) for i in range(threads)]
        for t in ts: t.start()
        for t in ts: t.join()
        elapsed = time.time() - t0
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=5); c.request("GET", "/metrics")
        text = c.getresponse().read().decode()
        q = {}
        for m in re.finditer(r'sentinel_stage_latency_seconds\{stage="windows",shard="(\d+)",quantile="([0-9.]+)"\} ([0-9.e+-]+|NaN)', text):
            if m.group(3) != "NaN": q[m.group(2)] = max(q.get(m.group(2), 0.0), float(m.group(3)))
        print(f"offered {rate} events/s for {seconds:.0f} s in bodies of {batch}; accepted {sent[0] / elapsed:.0f} events/s; statuses {statuses}")
        print("ingest->window update latency (worst shard): " + ", ".join(f"p{int(float(k) * 100)} {v * 1000:.2f} ms" for k, v in sorted(q.items())))
    finally:
        srv.terminate(); srv.wait()

main()
