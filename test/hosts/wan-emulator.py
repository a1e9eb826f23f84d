"""WAN conditions for the host rig where the kernel has no tc netem (sch_netem).

Run inside the rig's router namespace: it opens the TUN device NAME, and every IPv4
packet the router sends into it comes back out of it after the one-way delay of the host
that sent it, except LOSS percent of them, dropped at random. The rig routes every
packet between two hosts through NAME once, so a round trip between two hosts takes at
least the sum of their delays, as with netem on each host's link. It prints "ready" once
the device is open, then "dropped" for each packet it drops.

Usage: python3 wan-emulator.py NAME LOSS ADDRESS=DELAY_MS...
"""

import fcntl
import heapq
import os
import random
import select
import struct
import sys
import time

TUNSETIFF = 0x400454CA  # linux/if_tun.h
IFF_TUN = 0x0001
IFF_NO_PI = 0x1000


def main() -> None:
    name, loss = sys.argv[1], float(sys.argv[2])
    delays = {}
    for spec in sys.argv[3:]:
        address, ms = spec.split("=")
        delays[bytes(int(x) for x in address.split("."))] = float(ms) / 1000
    tun = os.open("/dev/net/tun", os.O_RDWR)
    fcntl.ioctl(tun, TUNSETIFF, struct.pack("16sH", name.encode(), IFF_TUN | IFF_NO_PI))
    print("ready", flush=True)
    due = []  # (time to send, sequence, packet): a heap, earliest first
    sequence = 0
    while True:
        timeout = max(0.0, due[0][0] - time.monotonic()) if due else None
        readable, _, _ = select.select([tun], [], [], timeout)
        if readable:
            packet = os.read(tun, 65536)
            # IPv4 only (version nibble 4); the source address is bytes 12-16 (RFC 791 §3.1).
            if len(packet) < 20 or packet[0] >> 4 != 4:
                continue
            if random.random() * 100 < loss:
                print("dropped", flush=True)
                continue
            sequence += 1
            delay = delays.get(packet[12:16], 0.0)
            heapq.heappush(due, (time.monotonic() + delay, sequence, packet))
        now = time.monotonic()
        while due and due[0][0] <= now:
            os.write(tun, heapq.heappop(due)[2])


if __name__ == "__main__":
    main()
