// ns-3 peer of benchmarks/bench_fabric.py: a leaf-spine of point-to-point links, UDP flows at a
// constant rate from every host to the host one leaf further on, per-packet random ECMP.
//
// Prints one line of key=value pairs: delivered packets, mean and p99 one-way latency (ns, from
// the UDP client's send time stamp to the server's receipt), wall-clock seconds of
// Simulator::Run() and packet-hops (4 links per delivered packet: host, leaf, spine, leaf, host).
//
// Build: g++ -O2 -std=c++17 ns3_leaf_spine.cc -I/usr/include -lns3-core -lns3-network \
//        -lns3-internet -lns3-point-to-point -lns3-applications -lns3-traffic-control
#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <vector>

#include "ns3/applications-module.h"
#include "ns3/core-module.h"
#include "ns3/internet-module.h"
#include "ns3/network-module.h"
#include "ns3/point-to-point-module.h"

using namespace ns3;

static std::vector<double> g_latency_ns;

static void
Received(Ptr<const Packet> packet)
{
    Ptr<Packet> copy = packet->Copy();
    SeqTsHeader header;
    copy->RemoveHeader(header);
    g_latency_ns.push_back((Simulator::Now() - header.GetTs()).GetPicoSeconds() * 1e-3);
}

int
main(int argc, char* argv[])
{
    uint32_t leaves = 8, hostsPerLeaf = 8, spines = 4, packets = 1000, payload = 1442, seed = 1;
    double load = 0.5, rateGbps = 100.0, delayUs = 1.0;
    CommandLine cmd;
    cmd.AddValue("leaves", "leaf switches", leaves);
    cmd.AddValue("hostsPerLeaf", "hosts per leaf", hostsPerLeaf);
    cmd.AddValue("spines", "spine switches", spines);
    cmd.AddValue("packets", "packets per host", packets);
    cmd.AddValue("payload", "UDP payload bytes (the wire adds 30: UDP 8, IPv4 20, PPP 2)", payload);
    cmd.AddValue("load", "offered load per host, fraction of the link rate", load);
    cmd.AddValue("rateGbps", "link rate, Gb/s", rateGbps);
    cmd.AddValue("delayUs", "propagation delay per link, us", delayUs);
    cmd.AddValue("seed", "ns-3 RNG run number", seed);
    cmd.Parse(argc, argv);

    Time::SetResolution(Time::PS);   // serialisation times are not whole nanoseconds
    Config::SetDefault("ns3::Ipv4GlobalRouting::RandomEcmpRouting", BooleanValue(true));
    RngSeedManager::SetSeed(1);
    RngSeedManager::SetRun(seed);

    const uint32_t n = leaves * hostsPerLeaf;
    NodeContainer hosts, leafNodes, spineNodes;
    hosts.Create(n);
    leafNodes.Create(leaves);
    spineNodes.Create(spines);
    InternetStackHelper stack;
    stack.Install(hosts);
    stack.Install(leafNodes);
    stack.Install(spineNodes);

    PointToPointHelper p2p;
    char rate[64], delay[64];
    std::snprintf(rate, sizeof rate, "%gGbps", rateGbps);
    std::snprintf(delay, sizeof delay, "%gus", delayUs);
    p2p.SetDeviceAttribute("DataRate", StringValue(rate));
    p2p.SetChannelAttribute("Delay", StringValue(delay));
    p2p.SetQueue("ns3::DropTailQueue", "MaxSize", StringValue("100000p"));

    Ipv4AddressHelper address;
    uint32_t subnet = 0;
    auto connect = [&](Ptr<Node> a, Ptr<Node> b) {
        NetDeviceContainer d = p2p.Install(a, b);
        char base[32];
        std::snprintf(base, sizeof base, "10.%u.%u.0", (subnet >> 6) & 255, (subnet & 63) << 2);
        address.SetBase(base, "255.255.255.252");
        subnet++;
        return address.Assign(d);
    };
    std::vector<Ipv4Address> hostAddress(n);
    for (uint32_t h = 0; h < n; h++)
        hostAddress[h] = connect(hosts.Get(h), leafNodes.Get(h / hostsPerLeaf)).GetAddress(0);
    for (uint32_t l = 0; l < leaves; l++)
        for (uint32_t s = 0; s < spines; s++)
            connect(leafNodes.Get(l), spineNodes.Get(s));
    Ipv4GlobalRoutingHelper::PopulateRoutingTables();

    const double wireBits = 8.0 * (payload + 30);
    const double gapNs = wireBits / (load * rateGbps);
    for (uint32_t h = 0; h < n; h++) {
        UdpServerHelper server(9);
        ApplicationContainer sa = server.Install(hosts.Get(h));
        sa.Start(Seconds(0));
        sa.Get(0)->TraceConnectWithoutContext("Rx", MakeCallback(&Received));
        const uint32_t dst = (h + hostsPerLeaf) % n;
        UdpClientHelper client(hostAddress[dst], 9);
        client.SetAttribute("MaxPackets", UintegerValue(packets));
        client.SetAttribute("Interval", TimeValue(PicoSeconds(std::llround(gapNs * 1e3))));
        client.SetAttribute("PacketSize", UintegerValue(payload));
        ApplicationContainer ca = client.Install(hosts.Get(h));
        ca.Start(PicoSeconds(std::llround((1000.0 + gapNs * h / n) * 1e3)));
    }
    g_latency_ns.reserve(size_t(n) * packets);
    auto t0 = std::chrono::steady_clock::now();
    Simulator::Run();
    auto t1 = std::chrono::steady_clock::now();
    Simulator::Destroy();

    const size_t m = g_latency_ns.size();
    double sum = 0;
    for (double x : g_latency_ns) sum += x;
    std::vector<double> sorted = g_latency_ns;
    std::sort(sorted.begin(), sorted.end());
    const size_t rank = m ? (size_t)std::max<double>(1.0, std::ceil(0.99 * m)) - 1 : 0;
    std::printf("delivered=%zu min_ns=%.3f mean_ns=%.3f p99_ns=%.3f seconds=%.6f packet_hops=%zu\n", m, m ? sorted[0] : 0.0,
                m ? sum / m : 0.0, m ? sorted[rank] : 0.0,
                std::chrono::duration<double>(t1 - t0).count(), 4 * m);
    return 0;
}
