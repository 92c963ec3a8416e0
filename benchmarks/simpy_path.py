"""A SimPy model of a multi-hop path, written the way ns.py builds networks.

ns.py (https://github.com/TL-System/ns.py) composes a network of SimPy elements that hand
packets to each other through ``put``: a packet generator, output ports (a FIFO store served at
the link rate, with a byte limit), wires (a delay line) and a sink that records delays. This
module follows that style (it is written from scratch; ns.py is not installed here) so that the
benchmark measures photolink against a discrete-event model of the same path.

Each link is a Port (queue + serialisation) followed by a Wire (propagation, fixed PHY latency,
FEC hold and the next switch's latency), which drops a frame with the link's frame loss ratio.
"""
from __future__ import annotations

import math
import random

import simpy


class Packet:
    __slots__ = ("time", "size", "packet_id")

    def __init__(self, time, size, packet_id):
        self.time, self.size, self.packet_id = time, size, packet_id


class PacketGenerator:
    """Sends n packets with gaps from ``arrival_dist`` and sizes from ``size_dist``."""

    def __init__(self, env, arrival_dist, size_dist, n_packets):
        self.env, self.arrival_dist, self.size_dist, self.n = env, arrival_dist, size_dist, n_packets
        self.out = None
        self.packets_sent = 0
        self.action = env.process(self.run())

    def run(self):
        while self.packets_sent < self.n:
            yield self.env.timeout(self.arrival_dist())
            self.packets_sent += 1
            self.out.put(Packet(self.env.now, self.size_dist(), self.packets_sent))


class Port:
    """An output port: FIFO store served at ``rate_gbps`` (time in ns), tail drop by bytes."""

    def __init__(self, env, rate_gbps, limit_bytes=None):
        self.env, self.rate, self.limit_bytes = env, rate_gbps, limit_bytes
        self.store = simpy.Store(env)
        self.byte_size = 0
        self.packets_received = self.packets_dropped = 0
        self.out = None
        self.action = env.process(self.run())

    def run(self):
        while True:
            packet = yield self.store.get()
            yield self.env.timeout(packet.size * 8.0 / self.rate)
            self.byte_size -= packet.size
            self.out.put(packet)

    def put(self, packet):
        self.packets_received += 1
        if self.limit_bytes is not None and self.byte_size + packet.size > self.limit_bytes:
            self.packets_dropped += 1
            return None
        self.byte_size += packet.size
        return self.store.put(packet)


class Wire:
    """A delay line of ``delay_ns`` that loses each frame with probability ``loss``."""

    def __init__(self, env, delay_ns, loss=0.0, rng=None):
        self.env, self.delay, self.loss = env, delay_ns, loss
        self.rng = rng or random.Random(0)
        self.store = simpy.Store(env)
        self.packets_lost = 0
        self.out = None
        self.action = env.process(self.run())

    def run(self):
        while True:
            packet, sent = yield self.store.get()
            wait = self.delay - (self.env.now - sent)
            if wait > 0:
                yield self.env.timeout(wait)
            if self.loss and self.rng.random() < self.loss:
                self.packets_lost += 1
                continue
            self.out.put(packet)

    def put(self, packet):
        return self.store.put((packet, self.env.now))


class PacketSink:
    """Records each packet's delay from its creation."""

    def __init__(self, env):
        self.env = env
        self.delays = []

    def put(self, packet):
        self.delays.append(self.env.now - packet.time)


def simulate(links, load, packet_bytes, n_packets, seed=0):
    """Poisson packets of fixed size through ``links`` and return the sink's delays (ns).

    Parameters
    ----------
    links : list of dict
        Per link: ``rate_gbps``, ``delay_ns`` (everything after serialisation up to the next
        queue: propagation, fixed PHY latency, FEC hold, next switch), ``loss`` (frame loss
        ratio) and ``buffer_bytes`` of the queue in front of it (None: unbounded).
    load : float
        Fraction of the slowest link's rate.
    """
    rng = random.Random(seed)
    env = simpy.Environment()
    bottleneck = min(link["rate_gbps"] for link in links)
    mean_gap = 8.0 * packet_bytes / (load * bottleneck)
    gen = PacketGenerator(env, lambda: rng.expovariate(1.0 / mean_gap), lambda: packet_bytes, n_packets)
    sink = PacketSink(env)
    upstream = gen
    for link in links:
        port = Port(env, link["rate_gbps"], link.get("buffer_bytes"))
        wire = Wire(env, link["delay_ns"], link.get("loss", 0.0), rng)
        upstream.out = port
        port.out = wire
        upstream = wire
    upstream.out = sink
    env.run()
    return sink.delays


def percentiles(delays, qs=(50, 90, 99, 99.9, 99.99)):
    """Nearest-rank percentiles of the delays."""
    s = sorted(delays)
    return {q: s[max(1, math.ceil(q / 100 * len(s))) - 1] for q in qs}
