#!/usr/bin/python3
"""Writes a seeded synthetic CloudEvents stream for the crash-recovery and
throughput tests: N events over a few hundred Chicago cells, mostly in time
order with some disorder, duplicates and malformed lines."""
import json, random, sys

def main():
    out, n = sys.argv[1], int(sys.argv[2])
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 7
    spread = float(sys.argv[4]) if len(sys.argv) > 4 else 0.03  # degrees: how many cells
    rnd = random.Random(seed)
    types = [("cad", "cad.call.weapon", "violent"), ("cad", "cad.call.disturbance", "other"),
             ("cctv", "cctv.crowd", "other"), ("sensor", "sensor.gunshot", "violent"),
             ("platform", "platform.fir.theft", "property")]
    t0 = 1_772_000_000_000  # 2026-02-25
    recent = []
    with open(out, "w") as f:
        for i in range(n):
            t = t0 + i * 250 + rnd.randint(-20_000, 0)
            if rnd.random() < 0.002:
                t -= rnd.randint(60_000, 900_000)  # out of order, some beyond lateness
            src, typ, sev = types[rnd.randrange(len(types))]
            ev = {"specversion": "1.0", "id": f"e{i}", "source": src, "type": typ,
                  "time": "%s.%03dZ" % (__import__("time").strftime("%Y-%m-%dT%H:%M:%S", __import__("time").gmtime(t // 1000)), t % 1000),
                  "lat": round(41.87 + rnd.random() * spread, 5), "lon": round(-87.65 + rnd.random() * spread, 5),
                  "severity": sev, "confidence": round(rnd.random(), 3), "data": {"n": i}}
            line = json.dumps(ev, separators=(",", ":"))
            r = rnd.random()
            if r < 0.001:
                line = line[: len(line) // 2]  # truncated
            elif r < 0.002 and recent:
                line = recent[rnd.randrange(len(recent))]  # duplicate
            f.write(line + "\n")
            recent.append(line)
            if len(recent) > 1000:
                recent.pop(0)

main()
