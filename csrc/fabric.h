/* Packets of many flows through a fabric of hosts, switches and directed links.
 *
 * One global event queue (a binary heap ordered by (time, sequence number), so ties are broken
 * by the order in which events were made and a run is deterministic) holds two kinds of event:
 * the next packet of a flow entering its source host's queue, and a packet becoming eligible in
 * the queue of a link (a switch's output port, or a host's NIC). Each link is the shared link
 * model of pl_link.h: a FIFO with a byte buffer and tail drop (the Lindley recursion, valid
 * because each queue sees its arrivals in time order), serialisation, fixed latency, FEC hold,
 * the codeword grid with its failure process (statistical, or exact outcomes handed in by the
 * caller block by block as in pl_path_run), link-level retry, and the
 * cut-through or store-and-forward switch at its far end. A fabric made of one chain and one
 * flow evolves exactly as pl_path_run does.
 *
 * Routing: for each node and target node, a list of candidate output links (built once by the
 * caller). A packet picks among them by a hash of (flow, node) (ECMP) or at random per packet
 * and hop (spraying). Valiant routing sends a packet first to a random intermediate node, then
 * to its destination; UGAL (local) chooses between the minimal and a Valiant route at the first
 * switch, from the backlogs of the two candidate output ports there (queue x hops, as in
 * BookSim2). The next link of a packet is chosen when it enters the current link's queue.
 *
 * Dependencies: a flow may wait for other flows (dep_on, earlier flows only, so there is no
 * cycle) to be fully delivered. It is then timed from the moment the last of them delivered its
 * last packet (its "ready" time): its start_ns, or its listed entry times, count from there. A
 * flow whose dependency loses a packet for good never starts. Flows of any dependency level
 * share the fabric's queues: a collective runs as one call.
 *
 * Attribution: each packet's latency is split, hop by hop, into queueing, retries (LLR resend
 * cycles, its own and those of the packets ahead of it in the link's busy period, up to its
 * wait: the wait that would not have been without them; for end-to-end recovery, the time from
 * the first copy's entry to the delivered copy's),
 * serialisation (the part not overlapped by cut-through at the next node), link latency
 * (propagation and fixed parts), FEC hold and switch latency; the parts of the packet that
 * delivered last are kept per flow, so a flow's completion time is the entry offset of that
 * packet plus its parts.
 *
 * The caller allocates everything; pl_fabric_run returns PL_ENOMEM when the packet pool is full
 * (grow it, keeping its contents, and call again).
 */
#ifndef PL_FABRIC_H
#define PL_FABRIC_H

#include <stdint.h>
#include "pl_link.h"
#include "pl_random.h"
#include "pl_status.h"

#define PL_FABRIC_MAX_NODES (1 << 22)
/* a packet still travelling after this many hops is dropped as unroutable (a routing loop) */
#define PL_FABRIC_MAX_HOPS 256
/* queue-depth histogram per port: bucket 0 for a backlog under 1 byte, then 4 buckets per power
 * of two of the backlog in bytes, up to 2^48 bytes */
#define PL_QHIST_SUB_BITS 2
#define PL_QHIST_MAX_EXP 48
#define PL_QHIST_BUCKETS (1 + (PL_QHIST_MAX_EXP << PL_QHIST_SUB_BITS))

enum { PL_CHOICE_HASH = 0, PL_CHOICE_SPRAY = 1 };
enum { PL_PATHS_MINIMAL = 0, PL_PATHS_VALIANT = 1, PL_PATHS_UGAL = 2 };
enum { PL_ARRIVAL_POISSON = 0, PL_ARRIVAL_CONSTANT = 1, PL_ARRIVAL_LISTED = 2, PL_ARRIVAL_ONOFF = 3 };
/* parts of a packet's latency (see Attribution above) */
enum { PL_PART_QUEUE = 0, PL_PART_RETRY = 1, PL_PART_SERIAL = 2, PL_PART_LINK = 3, PL_PART_HOLD = 4,
       PL_PART_SWITCH = 5, PL_N_PARTS = 6 };

typedef struct {               /* one flow: packets from host src to host dst */
    int32_t src, dst;          /* node ids (both targets of the routing table) */
    int arrivals;              /* PL_ARRIVAL_*: Poisson (exponential gaps of mean gap_ns), constant
                                  gaps of gap_ns, listed entry times, or on/off: each gap is
                                  spacing_ns, plus (with probability p_start: a new burst) an
                                  exponential idle time of mean idle_ns */
    double start_ns;           /* entry of the first packet (POISSON, CONSTANT) */
    double gap_ns;             /* mean gap or gap between entries, ns */
    double packet_bytes;       /* size of every packet but the last (POISSON, CONSTANT) */
    double last_bytes;         /* size of the last packet */
    int64_t n_packets;         /* >= 1 */
    const double *times;       /* LISTED: n_packets entry times, non-decreasing */
    const double *sizes;       /* LISTED: n_packets sizes (bytes) */
    double spacing_ns, idle_ns, p_start;   /* ONOFF (see arrivals) */
} pl_flow;

typedef struct {
    int32_t n_nodes, n_links, n_flows, n_targets;
    pl_link *links;            /* n_links: the caller fills the inputs, pl_fabric_init derives */
    const int32_t *link_src, *link_dst;
    const int32_t *target_of;  /* n_nodes: the target index of a node, or -1 */
    const int32_t *is_host;    /* n_nodes: 1 for hosts (packets start and end there) */
    /* candidates of node u toward target k: route_link[route_off[u * n_targets + k] ...
     * route_off[u * n_targets + k + 1]) */
    const int32_t *route_off;  /* int32 (n_route < 2^31): the table is read at every hop and
                                  half the size stays in cache more often */
    const int32_t *route_link;
    int64_t n_route;
    const int32_t *hops;       /* UGAL: n_nodes x n_targets hop counts (else NULL) */
    int choice;                /* PL_CHOICE_* */
    int paths;                 /* PL_PATHS_* */
    const int32_t *via;        /* VALIANT, UGAL: intermediate nodes (targets), n_via of them */
    int32_t n_via;
    double ugal_threshold_bytes;  /* UGAL: minimal unless q_min h_min > q_val h_val + this */
    int recovery;              /* PL_RECOVERY_DROP, _LLR or _E2E */
    int max_retries;           /* LLR: resends per link and packet; E2E: retransmissions per packet */
    double timeout_ns;         /* E2E: from a copy entering the source queue to its retransmission */
    pl_flow *flows;
    uint64_t hash_salt;        /* ECMP hash salt */
    /* dependencies (NULL: none): flow i waits for flows dep_on[dep_off[i] .. dep_off[i + 1]),
     * each < i; dep_off has n_flows + 1 entries, dep_off[0] = 0 */
    const int64_t *dep_off;
    const int32_t *dep_on;
} pl_fabric_config;

typedef struct {               /* a heap entry: the head of link id's event FIFO, or (id >=
                                  n_links) the next arrival of flow id - n_links */
    uint64_t key;              /* the event time's bit pattern (times are >= 0) */
    uint64_t seq;
    int32_t id;
} pl_fevent;

typedef struct {
    double arrival;            /* entry into the source host's queue */
    double size;
    int64_t seq;               /* within its flow */
    int32_t flow;
    int32_t target;            /* node routed toward: a Valiant intermediate, then the flow's dst;
                                  -1: UGAL undecided */
    int32_t hops;
    int32_t corrupt;
    double enq;                /* when this copy entered the source queue */
    int32_t tries;             /* end-to-end retransmissions so far */
    int32_t worst_link;        /* the link where this copy spent longest (queue, retries, sending) */
    double worst_ns;
    double part[PL_N_PARTS];   /* this copy's latency so far, by part (PL_PART_*) */
    /* its pending event: eligible in link ev_link's queue at ev_time; next in the FIFO of the
     * link it is leaving */
    double ev_time;
    uint64_t ev_seq;
    int32_t ev_link, ev_next;
} pl_fpacket;

typedef struct {               /* per flow */
    int64_t sent;              /* packets entered */
    double next_time;          /* entry time of the next packet */
    uint64_t delivered, lost_tail_drop, lost_corrupted, lost_no_route, e2e_retransmissions;
    double delivered_bytes, latency_sum, latency_min, latency_max;
    double first_arrival, last_delivery;
    int64_t prev_seq;          /* IPDV: last delivered sequence number (-1: none) */
    double prev_latency;
    /* dependencies */
    int64_t waiting;           /* dependencies not yet fully delivered */
    double ready;              /* when the last of them was (0 for a flow without any) */
    int32_t released_by;       /* the dependency that set `ready` (-1: none) */
    /* attribution: the packet delivered last */
    int32_t last_worst_link;
    double last_entry;         /* its entry into the source queue */
    double last_part[PL_N_PARTS];
} pl_flow_state;

typedef struct {
    pl_link_state *links;      /* n_links */
    pl_flow_state *flows;      /* n_flows */
    int64_t *succ_off;         /* with dependencies: n_flows + 1 entries, filled by pl_fabric_init */
    int32_t *succ;             /* with dependencies: dep_off[n_flows] entries: the flows waiting
                                  for flow i are succ[succ_off[i] .. succ_off[i + 1]) */
    double *busy_retry;        /* n_links: LLR resend time in each link's current busy period */
    pl_fevent *heap;           /* n_links + n_flows entries */
    int64_t heap_len, heap_cap;
    int32_t *fifo_head, *fifo_tail;  /* n_links: pending events of packets leaving each link */
    int order_error;           /* links out of one node with different node_latency_ns */
    pl_fevent *retx;           /* heap of pending end-to-end retransmissions (id: the packet),
                                  packet_cap entries */
    int64_t retx_len;
    pl_fpacket *packets;       /* pool of packet_cap */
    int32_t *free_packets;     /* stack of free pool slots, packet_cap entries */
    int64_t packet_cap, n_free;
    uint64_t next_event_seq;
    /* totals */
    uint64_t offered, delivered, lost_tail_drop, lost_corrupted, lost_no_route, llr_retries;
    uint64_t packet_hops, valiant_packets, e2e_retransmissions;
    double delivered_bytes, latency_sum, latency_min, latency_max;
    double first_arrival, last_delivery;
    int64_t max_in_flight;
    uint64_t *hist;            /* PL_HIST_BUCKETS latency counts (caller-zeroed) */
    uint64_t *ipdv_pos, *ipdv_neg;  /* PL_IPDV_BUCKETS each; IPDV within a flow */
    uint64_t ipdv_zero;
    double ipdv_min, ipdv_max;
    uint64_t *qhist;           /* n_links x PL_QHIST_BUCKETS backlog-at-arrival counts, or NULL */
    int64_t batch_len, batch_count;  /* batch means of the latency (delivery order) */
    double batch_sum;
    double *batch_means;
    int64_t batch_cap, n_batches;
    double *raw;               /* optional: latencies in delivery order */
    int32_t *raw_flow;         /*           and their flows */
    int64_t raw_cap, n_raw;
    /* exact mode: a packet's hop waiting for codeword outcomes (PL_EMORE), resumed first by the
     * next pl_fabric_run once pl_fabric_refill has given them */
    int stalled;
    int32_t stall_packet, stall_link;
    double stall_time;
    int32_t need_link;         /* OUT with PL_EMORE: the link short of outcomes */
    int64_t need_count;        /* OUT with PL_EMORE: outcomes it lacks for the packet (>= 1) */
} pl_fabric_state;

/* Check the configuration, derive the links' constants, reset the state and schedule every
 * flow's first packet. rngs[l]: link l's failure stream (statistical links only; NULL for
 * error-free links). The caller has zeroed hist, ipdv_pos, ipdv_neg (and qhist). */
int pl_fabric_init(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs);

/* Process events until every packet is delivered or lost. route_rng: spraying, Valiant and UGAL draws; arrival_rng: Poisson gaps. Returns
 * PL_OK; PL_ENOMEM when the heap, the packet pool or the raw buffer is full (grow it and call
 * again); PL_EMORE when an exact-mode link lacks codeword outcomes for the next packet
 * (need_link, need_count: pl_fabric_refill it and call again); PL_EINVAL for a NULL argument;
 * PL_ERANGE when a codeword index reached PL_LINK_MAX_INDEX. */
int pl_fabric_run(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs,
                  bitgen_t *route_rng, bitgen_t *arrival_rng);

/* Exact mode (links with errors == 2): hand link `link` its failure positions (counts of touched
 * codewords, sorted, >= the outcomes already consumed) and the count `known` below which outcomes
 * are now known. The caller keeps fail_pos alive until the next refill of that link. */
int pl_fabric_refill(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t link,
                     const int64_t *fail_pos, int64_t n_fail_pos, int64_t known);

/* Queue-depth bucket of a backlog in bytes (see PL_QHIST_*). */
int64_t pl_qhist_index(double bytes);

#endif
