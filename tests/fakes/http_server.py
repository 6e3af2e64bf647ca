"""The HTTP server the fake platforms run on."""

from http.server import ThreadingHTTPServer


class FakeServer(ThreadingHTTPServer):
    """A threaded server whose listen backlog is deep enough for a hub under load. The standard
    library's 5 drops connections at a burst, and each dropped SYN costs the client a 1 s
    retransmission: a delay real platforms do not add, which benchmarks would count as ours."""

    request_queue_size = 1024
    daemon_threads = True
