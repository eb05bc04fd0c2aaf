#!/usr/bin/python3
"""A TCP port that never completes a connection: a blackholed mirror for the dial_timeout scenario.

Listens on 127.0.0.1:PORT with a backlog of 0 and never accepts, and fills the accept queue with
its own connections; the kernel then drops every further SYN, so a client's connect() hangs
until the client gives up (Go's dialer: its timeout), as it would on a black-holed route. Prints
"ready" once the queue is full, then waits to be stopped (by PID).

Usage: blackhole.py PORT
"""

import signal
import socket
import sys
import time


def main():
    port = int(sys.argv[1])
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", port))
    listener.listen(0)
    filler = []
    for _ in range(4):
        conn = socket.socket()
        conn.setblocking(False)
        try:
            conn.connect(("127.0.0.1", port))
        except BlockingIOError:
            pass
        filler.append(conn)
    time.sleep(0.2)
    print("ready", flush=True)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    while True:
        signal.pause()


if __name__ == "__main__":
    main()
