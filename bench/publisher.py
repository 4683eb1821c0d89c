"""A load publisher for the benchmarks, run as its own process.

``python bench/publisher.py URL --topics N --rate R --seconds S`` publishes JSON
payloads ``{"value": x, "sent": epoch_seconds}`` round-robin over ``bench/<i>``
topics, QoS 0, at ``R`` messages/s (0: as fast as it can) for ``S`` seconds, then
prints how many it sent.
"""

from __future__ import annotations

import argparse
import json
import time

import paho.mqtt.client as mqtt


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("url")
    parser.add_argument("--topics", type=int, default=1000)
    parser.add_argument("--rate", type=float, default=0.0)
    parser.add_argument("--seconds", type=float, default=5.0)
    args = parser.parse_args()
    host, port = args.url.removeprefix("mqtt://").split(":")
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.connect(host, int(port))
    client.loop_start()
    topics = [f"bench/{i}" for i in range(args.topics)]
    sent, start = 0, time.perf_counter()
    batch = max(1, int(args.rate / 1000)) if args.rate else 100  # messages per pacing step
    while time.perf_counter() - start < args.seconds:
        for _ in range(batch):
            payload = json.dumps({"value": sent % 1000 / 10, "sent": time.time()})
            client.publish(topics[sent % len(topics)], payload)
            sent += 1
        if args.rate:
            ahead = sent / args.rate - (time.perf_counter() - start)
            if ahead > 0:
                time.sleep(ahead)
    client.disconnect()
    client.loop_stop()
    print(sent)


if __name__ == "__main__":
    main()
