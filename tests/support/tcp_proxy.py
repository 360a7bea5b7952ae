"""A TCP pass-through between the app and PostgreSQL that can play the server stopping and starting.

    with TcpProxy(("127.0.0.1", 5432)) as proxy:
        url = make_url(database_url).set(host="127.0.0.1", port=proxy.port)
        ...
        proxy.stop()   # every proxied connection is cut; new connections are refused
        proxy.start()  # accepts again on the same port

Stopping closes the listening socket, so a client's connect() gets ECONNREFUSED as from a
stopped server, and shuts down both ends of every live connection, so a client in the middle
of a query sees the server go away. Threads only: one accept loop, two pumps per connection.
"""

from __future__ import annotations

import socket
import threading


class TcpProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1"):
        self.target = target
        self.host = host
        self.port = 0  # chosen by the first start(), kept by the next ones
        self.accepted = 0  # connections proxied so far
        self._lock = threading.Lock()
        self._listener: socket.socket | None = None
        self._accepting: threading.Thread | None = None
        self._conns: set[socket.socket] = set()
        self._threads: list[threading.Thread] = []

    @property
    def running(self) -> bool:
        return self._listener is not None

    def __enter__(self) -> "TcpProxy":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        if self.running:
            return
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind((self.host, self.port))
        listener.listen(64)
        listener.settimeout(0.05)  # the accept loop checks for stop() this often
        self.port = listener.getsockname()[1]
        self._listener = listener
        self._accepting = threading.Thread(target=self._accept_loop, args=(listener,), daemon=True,
                                           name="tcp-proxy-accept")
        self._accepting.start()

    def stop(self) -> None:
        """Refuse new connections and cut every live one; returns once all proxy threads ended."""
        listener, self._listener = self._listener, None
        if listener is not None:
            self._accepting.join(timeout=5)
            listener.close()
        with self._lock:
            conns, self._conns = list(self._conns), set()
            threads, self._threads = self._threads, []
        for conn in conns:
            _shut(conn)  # wakes the pump blocked in recv(); it closes both sockets
        for thread in threads:
            thread.join(timeout=5)
        alive = [t.name for t in threads if t.is_alive()]
        assert not alive, f"proxy threads did not end: {alive}"

    # --- internals -----------------------------------------------------------------------------

    def _accept_loop(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _addr = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            client.settimeout(None)
            upstream.settimeout(None)
            for sock in (client, upstream):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            pair = _Pair(client, upstream)
            pumps = [threading.Thread(target=self._pump, args=(pair, client, upstream), daemon=True,
                                      name="tcp-proxy-up"),
                     threading.Thread(target=self._pump, args=(pair, upstream, client), daemon=True,
                                      name="tcp-proxy-down")]
            with self._lock:
                if self._listener is not listener:  # stop() ran meanwhile
                    client.close()
                    upstream.close()
                    return
                self._conns.update((client, upstream))
                self._threads.extend(pumps)
                self.accepted += 1
            for pump in pumps:
                pump.start()

    def _pump(self, pair: "_Pair", src: socket.socket, dst: socket.socket) -> None:
        try:
            while True:
                data = src.recv(65536)
                if not data:
                    break
                dst.sendall(data)
        except OSError:
            pass
        finally:
            # One side ended: end the other too (the PostgreSQL protocol never half-closes).
            _shut(src)
            _shut(dst)
            if pair.done():  # the second pump out closes: no socket closes under a running recv
                with self._lock:
                    self._conns.difference_update(pair.socks)
                for sock in pair.socks:
                    sock.close()


class _Pair:
    def __init__(self, *socks: socket.socket):
        self.socks = socks
        self._left = 2
        self._lock = threading.Lock()

    def done(self) -> bool:
        with self._lock:
            self._left -= 1
            return self._left == 0


def _shut(sock: socket.socket) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        pass
