/* Fabric kernel: many flows through hosts, switches and links (see fabric.h). */
#include "fabric.h"

#include <math.h>
#include <string.h>

/* ---- events -------------------------------------------------------------------------------
 *
 * A packet leaving link l is eligible in its next queue at a time that never decreases from one
 * packet to the next on l (FIFO: each starts after the previous one ends; every link out of a
 * node has the node's latency). So the pending events are kept in one FIFO per link, threaded
 * through the packets, and the binary heap orders only the FIFOs' heads (and each flow's next
 * arrival) by (time, seq): the order of events is that of one heap over all of them, with a
 * heap of at most n_links + n_flows entries. */

/* Event times are finite and >= 0, so their IEEE 754 bit patterns order as the times do:
 * the heap compares integers (no NaN branches). */
static inline uint64_t time_key(double t)
{
    uint64_t k;
    t += 0.0;                  /* -0.0 -> +0.0 */
    memcpy(&k, &t, sizeof k);
    return k;
}

static inline double key_time(uint64_t k)
{
    double t;
    memcpy(&t, &k, sizeof t);
    return t;
}

static inline int before(const pl_fevent *a, const pl_fevent *b)
{
    return (a->key < b->key) | ((a->key == b->key) & (a->seq < b->seq));
}

static inline void sift_up(pl_fevent *heap, int64_t i, pl_fevent e)
{
    while (i > 0) {
        int64_t parent = (i - 1) >> 1;
        if (!before(&e, &heap[parent])) break;
        heap[i] = heap[parent];
        i = parent;
    }
    heap[i] = e;
}

/* Put e at the root of a heap of n entries whose root slot is free. Bottom-up (Floyd): the hole
 * walks down to a leaf along the smaller children (one comparison a level, taken without a
 * branch), then e climbs back up. An entry put at the root is nearly always one of the latest
 * (the next event of a link's FIFO, the last entry of the heap), so it climbs little: about half
 * the comparisons of the textbook sift-down and no mispredicted branch on the way down. Keys
 * (time, seq) are unique, so the order of events does not depend on the heap's layout. */
static inline void sift_down(pl_fevent *heap, int64_t n, pl_fevent e)
{
    int64_t i = 0, c = 1;
    while (c + 1 < n) {
        c += before(&heap[c + 1], &heap[c]);
        heap[i] = heap[c];
        i = c;
        c = 2 * i + 1;
    }
    if (c < n) {                  /* a last parent with one child */
        heap[i] = heap[c];
        i = c;
    }
    sift_up(heap, i, e);
}

static inline pl_fevent make_event(double time, uint64_t seq, int32_t id)
{
    pl_fevent e;
    e.key = time_key(time);
    e.seq = seq;
    e.id = id;
    return e;
}

static inline void heap_push(pl_fabric_state *st, double time, uint64_t seq, int32_t id)
{
    sift_up(st->heap, st->heap_len++, make_event(time, seq, id));
}

/* the top entry gets a later key (time, seq) */
static inline void heap_replace_top(pl_fabric_state *st, double time, uint64_t seq)
{
    pl_fevent e = st->heap[0];
    e.key = time_key(time);
    e.seq = seq;
    sift_down(st->heap, st->heap_len, e);
}

static inline void heap_pop_top(pl_fabric_state *st)
{
    pl_fevent last = st->heap[--st->heap_len];
    if (st->heap_len > 0) sift_down(st->heap, st->heap_len, last);
}

/* packet k becomes eligible in the queue of link `next` at time t, having left link `from` */
static inline void schedule(pl_fabric_state *st, int32_t k, int32_t from, int32_t next, double t)
{
    pl_fpacket *p = &st->packets[k];
    p->ev_time = t;
    p->ev_seq = st->next_event_seq++;
    p->ev_next = -1;
    p->ev_link = next;
    if (st->fifo_head[from] < 0) {
        st->fifo_head[from] = st->fifo_tail[from] = k;
        heap_push(st, t, p->ev_seq, from);
    } else {
        /* never earlier than the FIFO's tail, unless links out of one node differ in latency */
        if (t < st->packets[st->fifo_tail[from]].ev_time) st->order_error = 1;
        st->packets[st->fifo_tail[from]].ev_next = k;
        st->fifo_tail[from] = k;
    }
}

/* ---- histograms ---------------------------------------------------------------------------- */

int64_t pl_qhist_index(double bytes)
{
    uint64_t b;
    int64_t i;
    if (!(bytes >= 1.0)) return 0;
    memcpy(&b, &bytes, sizeof b);
    i = 1 + (int64_t)(b >> (52 - PL_QHIST_SUB_BITS)) - ((int64_t)1023 << PL_QHIST_SUB_BITS);
    return i < PL_QHIST_BUCKETS ? i : PL_QHIST_BUCKETS - 1;
}

/* ---- routing ------------------------------------------------------------------------------- */

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

/* uniform integer in [0, n) from 32 random bits (n < 2^31) */
static inline int32_t below(uint64_t r, int32_t n)
{
    return (int32_t)(((r & 0xffffffffULL) * (uint64_t)n) >> 32);
}

/* The output link of node u toward target node `target` for packet p (-1: no route). */
static inline int32_t next_link(const pl_fabric_config *cfg, bitgen_t *route_rng, int32_t u,
                                int32_t target, int32_t flow)
{
    const int64_t row = (int64_t)u * cfg->n_targets + cfg->target_of[target];
    const int64_t a = cfg->route_off[row], n = cfg->route_off[row + 1] - a;
    if (n <= 0) return -1;
    if (n == 1) return cfg->route_link[a];
    if (cfg->choice == PL_CHOICE_SPRAY)
        return cfg->route_link[a + below(route_rng->next_uint64(route_rng->state), (int32_t)n)];
    return cfg->route_link[a + below(mix64(cfg->hash_salt ^ ((uint64_t)flow << 32) ^ (uint64_t)u) >> 32, (int32_t)n)];
}

static inline double backlog_bytes(const pl_link *L, const pl_link_state *s, double t)
{
    return s->free_at > t ? (s->free_at - t) * L->bytes_per_ns : 0.0;
}

static inline int32_t hop_count(const pl_fabric_config *cfg, int32_t u, int32_t target)
{
    return cfg->hops[(int64_t)u * cfg->n_targets + cfg->target_of[target]];
}

/* UGAL-local at switch u, time t: minimal, or Valiant through a random intermediate. */
static inline void ugal_decide(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *route_rng,
                               pl_fpacket *p, int32_t u, double t)
{
    const int32_t dst = cfg->flows[p->flow].dst;
    const int32_t via = cfg->via[below(route_rng->next_uint64(route_rng->state), cfg->n_via)];
    const int32_t lm = next_link(cfg, route_rng, u, dst, p->flow);
    const int32_t lv = via == u ? lm : next_link(cfg, route_rng, u, via, p->flow);
    double qm, qv;
    p->target = dst;
    if (lm < 0 || lv < 0) return;
    qm = backlog_bytes(&cfg->links[lm], &st->links[lm], t) * hop_count(cfg, u, dst);
    qv = backlog_bytes(&cfg->links[lv], &st->links[lv], t)
         * (hop_count(cfg, u, via) + hop_count(cfg, via, dst));
    if (qm > qv + cfg->ugal_threshold_bytes) {
        p->target = via;
        st->valiant_packets++;
    }
}

/* ---- statistics ---------------------------------------------------------------------------- */

/* Flow fi has delivered its last packet (at its last_delivery): the flows waiting for it count
 * it off, and those waiting for nothing more have their first entry scheduled. */
static void release_successors(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t fi)
{
    const double done = st->flows[fi].last_delivery;
    for (int64_t j = st->succ_off[fi]; j < st->succ_off[fi + 1]; j++) {
        const int32_t s = st->succ[j];
        const pl_flow *F = &cfg->flows[s];
        pl_flow_state *g = &st->flows[s];
        if (g->released_by < 0 || done > g->ready) {
            g->ready = done;
            g->released_by = fi;
        }
        if (--g->waiting == 0) {
            g->next_time = g->ready + (F->arrivals == PL_ARRIVAL_LISTED ? F->times[0] : F->start_ns);
            heap_push(st, g->next_time, st->next_event_seq++, cfg->n_links + s);
        }
    }
}

static inline void deliver(const pl_fabric_config *cfg, pl_fabric_state *st, const pl_fpacket *p, double t)
{
    pl_flow_state *f = &st->flows[p->flow];
    const double lat = t - p->arrival;
    st->delivered++;
    st->delivered_bytes += p->size;
    st->latency_sum += lat;
    if (lat < st->latency_min) st->latency_min = lat;
    if (lat > st->latency_max) st->latency_max = lat;
    if (t > st->last_delivery) st->last_delivery = t;
    st->hist[pl_hist_bucket(lat)]++;
    f->delivered++;
    f->delivered_bytes += p->size;
    f->latency_sum += lat;
    if (lat < f->latency_min) f->latency_min = lat;
    if (lat > f->latency_max) f->latency_max = lat;
    if (t > f->last_delivery) {
        f->last_delivery = t;
        f->last_entry = p->arrival;
        f->last_worst_link = p->worst_link;
        for (int i = 0; i < PL_N_PARTS; i++) f->last_part[i] = p->part[i];
        /* end-to-end recovery: from the first copy's entry to the delivered copy's */
        f->last_part[PL_PART_RETRY] += p->enq - p->arrival;
    }
    /* RFC 3393 IPDV within a flow, consecutive packets only */
    if (f->prev_seq >= 0 && p->seq == f->prev_seq + 1) PL_RECORD_IPDV(st, lat - f->prev_latency);
    f->prev_seq = p->seq;
    f->prev_latency = lat;
    PL_ADD_TO_BATCH(st, lat);
    if (st->raw) {
        st->raw[st->n_raw] = lat;
        if (st->raw_flow) st->raw_flow[st->n_raw] = p->flow;
        st->n_raw++;
    }
    if (cfg->dep_off && (int64_t)f->delivered == cfg->flows[p->flow].n_packets) release_successors(cfg, st, p->flow);
}

static inline void release(pl_fabric_state *st, int32_t k)
{
    st->free_packets[st->n_free++] = k;
}

/* ---- one event ----------------------------------------------------------------------------- */

enum { LOST_TAIL_DROP, LOST_CORRUPTED, LOST_NO_ROUTE };

/* Packet k's copy is lost: with end-to-end recovery and tries left, its source retransmits it
 * timeout_ns after the copy entered the source queue; otherwise the loss counts. */
static inline void lose(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t k, int cause)
{
    pl_fpacket *p = &st->packets[k];
    pl_flow_state *f = &st->flows[p->flow];
    if (cfg->recovery == PL_RECOVERY_E2E && p->tries < cfg->max_retries) {
        p->tries++;
        st->e2e_retransmissions++;
        f->e2e_retransmissions++;
        sift_up(st->retx, st->retx_len++, make_event(p->enq + cfg->timeout_ns, st->next_event_seq++, k));
        return;
    }
    if (cause == LOST_TAIL_DROP) {
        st->lost_tail_drop++;
        f->lost_tail_drop++;
    } else if (cause == LOST_CORRUPTED) {
        st->lost_corrupted++;
        f->lost_corrupted++;
    } else {
        st->lost_no_route++;
        f->lost_no_route++;
    }
    release(st, k);
}

/* Exact mode: are enough outcomes of link l known for every attempt a packet of `size` bytes may
 * make on it (as pl_path_run's ready())? If not, say how many are missing. */
static int exact_ready(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t l, double size)
{
    const pl_link *L = &cfg->links[l];
    pl_link_state *s = &st->links[l];
    const int64_t attempts = 1 + (cfg->recovery == PL_RECOVERY_LLR ? cfg->max_retries : 0);
    const int64_t per_tx = L->inv_codeword_bits > 0.0
        ? pl_ceil_i64(8.0 * size * L->inv_codeword_bits, &s->range_error) + 1 : 1;
    const int64_t want = per_tx > INT64_MAX / attempts ? INT64_MAX : per_tx * attempts;
    if (s->known - s->consumed >= want) return 1;
    st->need_link = l;
    st->need_count = want - (s->known - s->consumed);
    return 0;
}

/* Packet p's hop on link l toward link next (-1: the destination), eligible at te, first sent
 * at start, last transmission ended at fin: its queueing, retries, serialisation (the part the
 * next node does not overlap by cut-through), link latency, FEC hold and switch latency. Their
 * sum is the hop's time from te to the packet's eligibility at the next link (or delivery). */
static inline void attribute_hop(const pl_fabric_config *cfg, pl_fabric_state *st, pl_fpacket *p, int32_t l,
                                 int32_t next, double te, double start, double fin, int resent)
{
    const pl_link *L = &cfg->links[l];
    const double S = p->size * L->ns_per_byte;
    const double retry = resent ? fin - S - start : 0.0, wait = start - te;
    /* the resends ahead of it in this busy period pushed its start back by up to their time */
    const double behind = wait < st->busy_retry[l] ? wait : st->busy_retry[l];
    double serial = S, sw = 0.0;
    if (next >= 0) {
        const pl_link *N = &cfg->links[next];
        const double sn = p->size * N->ns_per_byte;
        if (N->cut_through) serial = S > sn ? S - sn : 0.0;
        sw = N->node_latency_ns;
    }
    st->busy_retry[l] += retry;
    p->part[PL_PART_QUEUE] += wait - behind;
    p->part[PL_PART_RETRY] += retry + behind;
    p->part[PL_PART_SERIAL] += serial;
    p->part[PL_PART_LINK] += L->fixed_ns;
    p->part[PL_PART_HOLD] += L->hold_ns;
    p->part[PL_PART_SWITCH] += sw;
    if (wait + retry + S > p->worst_ns * (1.0 + 1e-9)) {    /* not for rounding noise */
        p->worst_ns = wait + retry + S;
        p->worst_link = l;
    }
}

/* Packet k becomes eligible in the queue of link l at time t. */
static inline void enter_link(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs,
                              bitgen_t *route_rng, int32_t k, int32_t l, double t)
{
    pl_fpacket *p = &st->packets[k];
    const pl_link *L = &cfg->links[l];
    pl_link_state *s = &st->links[l];
    const int32_t v = cfg->link_dst[l];
    const int32_t dst = cfg->flows[p->flow].dst;
    int32_t next = -1;
    int out;
    if (L->errors == 2 && !exact_ready(cfg, st, l, p->size)) {
        /* nothing done yet: the hop is replayed as is after the refill */
        st->stalled = 1;
        st->stall_packet = k;
        st->stall_link = l;
        st->stall_time = t;
        return;
    }
    st->packet_hops++;
    if (st->qhist) st->qhist[(int64_t)l * PL_QHIST_BUCKETS + pl_qhist_index(backlog_bytes(L, s, t))]++;
    if (v != dst) {
        if (p->target == -1 && !cfg->is_host[v]) ugal_decide(cfg, st, route_rng, p, v, t);
        if (p->target == v) p->target = dst;   /* a Valiant intermediate reached */
        next = next_link(cfg, route_rng, v, p->target < 0 ? dst : p->target, p->flow);
        if (next < 0 || ++p->hops > PL_FABRIC_MAX_HOPS) {
            lose(cfg, st, k, LOST_NO_ROUTE);
            return;
        }
    }
    {
        const double te = t, start = t > s->free_at ? t : s->free_at;
        const uint64_t resends = s->retries;
        if (t >= s->free_at) st->busy_retry[l] = 0.0;     /* the link was idle: a new busy period */
        out = pl_link_hop(L, s, rngs[l], next < 0 ? NULL : &cfg->links[next],
                          cfg->recovery == PL_RECOVERY_LLR ? cfg->max_retries : -1, &st->llr_retries,
                          p->size, &t, &p->corrupt);
        if (out == PL_HOP_ON) attribute_hop(cfg, st, p, l, next, te, start, s->free_at, s->retries != resends);
    }
    if (out == PL_HOP_TAIL_DROP) {
        lose(cfg, st, k, LOST_TAIL_DROP);
    } else if (out == PL_HOP_DEAD) {
        lose(cfg, st, k, LOST_CORRUPTED);
    } else if (next < 0) {
        deliver(cfg, st, p, t);
        release(st, k);
    } else {
        schedule(st, k, l, next, t);
    }
}

static inline double flow_size(const pl_flow *F, int64_t j)
{
    if (F->arrivals == PL_ARRIVAL_LISTED) return F->sizes[j];
    return j + 1 == F->n_packets ? F->last_bytes : F->packet_bytes;
}

static inline double next_gap(const pl_flow *F, bitgen_t *arrival_rng)
{
    if (F->arrivals == PL_ARRIVAL_CONSTANT) return F->gap_ns;
    if (F->arrivals == PL_ARRIVAL_ONOFF) {
        double gap = F->spacing_ns;     /* within a burst; a new burst first waits an idle time */
        if (arrival_rng->next_double(arrival_rng->state) < F->p_start)
            gap += -log(1.0 - arrival_rng->next_double(arrival_rng->state)) * F->idle_ns;
        return gap;
    }
    return -log(1.0 - arrival_rng->next_double(arrival_rng->state)) * F->gap_ns;
}

/* A copy of packet k enters its source host's queue at time t (first entry or retransmission). */
static inline void start_copy(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs,
                              bitgen_t *route_rng, int32_t k, double t)
{
    pl_fpacket *p = &st->packets[k];
    const pl_flow *F = &cfg->flows[p->flow];
    int32_t first;
    p->enq = t;
    p->hops = 0;
    p->corrupt = 0;
    p->worst_link = -1;
    p->worst_ns = -1.0;
    for (int i = 0; i < PL_N_PARTS; i++) p->part[i] = 0.0;
    p->target = F->dst;
    if (cfg->paths == PL_PATHS_VALIANT) {
        p->target = cfg->via[below(route_rng->next_uint64(route_rng->state), cfg->n_via)];
        st->valiant_packets++;
    } else if (cfg->paths == PL_PATHS_UGAL) {
        p->target = -1;
    }
    first = next_link(cfg, route_rng, F->src, p->target < 0 ? F->dst : p->target, p->flow);
    if (first < 0) {
        lose(cfg, st, k, LOST_NO_ROUTE);
        return;
    }
    enter_link(cfg, st, rngs, route_rng, k, first, t);
}

/* Flow fi's next packet enters its source host's queue at time t. */
static inline void arrive(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs,
                          bitgen_t *route_rng, bitgen_t *arrival_rng, int32_t fi, double t)
{
    const pl_flow *F = &cfg->flows[fi];
    pl_flow_state *f = &st->flows[fi];
    const int32_t k = st->free_packets[--st->n_free];
    pl_fpacket *p = &st->packets[k];
    const int64_t j = f->sent++;
    p->arrival = t;
    p->size = flow_size(F, j);
    p->seq = j;
    p->flow = fi;
    p->tries = 0;
    st->offered++;
    if (st->offered == 1) st->first_arrival = t;
    if (j == 0) f->first_arrival = t;
    if (f->sent < F->n_packets) {   /* the flow's heap entry (the top) moves to its next arrival */
        double nt = F->arrivals == PL_ARRIVAL_LISTED ? F->times[f->sent] + f->ready : t + next_gap(F, arrival_rng);
        f->next_time = nt;
        heap_replace_top(st, nt, st->next_event_seq++);
    } else {
        heap_pop_top(st);
    }
    start_copy(cfg, st, rngs, route_rng, k, t);
}
/* ---- init and run -------------------------------------------------------------------------- */

static int check_config(const pl_fabric_config *cfg)
{
    if (cfg->n_nodes < 1 || cfg->n_nodes > PL_FABRIC_MAX_NODES || cfg->n_links < 1 || cfg->n_flows < 1
        || cfg->n_targets < 1 || !cfg->links || !cfg->link_src || !cfg->link_dst || !cfg->target_of
        || !cfg->is_host || !cfg->route_off || !cfg->route_link || !cfg->flows || cfg->n_route < 0)
        return 0;
    if (cfg->choice < PL_CHOICE_HASH || cfg->choice > PL_CHOICE_SPRAY || cfg->paths < PL_PATHS_MINIMAL
        || cfg->paths > PL_PATHS_UGAL || cfg->recovery < PL_RECOVERY_DROP || cfg->recovery > PL_RECOVERY_E2E
        || cfg->max_retries < 0 || !(cfg->ugal_threshold_bytes >= 0.0)
        || (cfg->recovery == PL_RECOVERY_E2E && !pl_finite_pos(cfg->timeout_ns)))
        return 0;
    if (cfg->paths != PL_PATHS_MINIMAL && (!cfg->via || cfg->n_via < 1)) return 0;
    if (cfg->paths == PL_PATHS_UGAL && !cfg->hops) return 0;
    for (int32_t l = 0; l < cfg->n_links; l++) {
        if (cfg->link_src[l] < 0 || cfg->link_src[l] >= cfg->n_nodes || cfg->link_dst[l] < 0
            || cfg->link_dst[l] >= cfg->n_nodes || cfg->link_src[l] == cfg->link_dst[l])
            return 0;
    }
    {
        int32_t count = 0;
        for (int32_t u = 0; u < cfg->n_nodes; u++) {
            if (cfg->target_of[u] < -1 || cfg->target_of[u] >= cfg->n_targets) return 0;
            count += cfg->target_of[u] >= 0;
        }
        if (count != cfg->n_targets) return 0;
    }
    {
        const int64_t rows = (int64_t)cfg->n_nodes * cfg->n_targets;
        if (cfg->route_off[0] != 0 || cfg->route_off[rows] != cfg->n_route) return 0;
        for (int64_t r = 0; r < rows; r++) {
            const int32_t u = (int32_t)(r / cfg->n_targets);
            if (cfg->route_off[r + 1] < cfg->route_off[r]) return 0;
            for (int64_t i = cfg->route_off[r]; i < cfg->route_off[r + 1]; i++) {
                const int32_t l = cfg->route_link[i];
                if (l < 0 || l >= cfg->n_links || cfg->link_src[l] != u) return 0;
            }
        }
        if (cfg->hops)
            for (int64_t r = 0; r < rows; r++)
                if (cfg->hops[r] < 0) return 0;
    }
    if (cfg->dep_off) {
        if (!cfg->dep_on || cfg->dep_off[0] != 0) return 0;
        for (int32_t i = 0; i < cfg->n_flows; i++)      /* offsets first: no read past dep_on */
            if (cfg->dep_off[i + 1] < cfg->dep_off[i]) return 0;
        for (int32_t i = 0; i < cfg->n_flows; i++) {
            for (int64_t j = cfg->dep_off[i]; j < cfg->dep_off[i + 1]; j++)
                if (cfg->dep_on[j] < 0 || cfg->dep_on[j] >= i) return 0;   /* earlier flows: no cycle */
        }
    }
    for (int32_t i = 0; i < cfg->n_via; i++)
        if (cfg->via[i] < 0 || cfg->via[i] >= cfg->n_nodes || cfg->target_of[cfg->via[i]] < 0) return 0;
    for (int32_t i = 0; i < cfg->n_flows; i++) {
        const pl_flow *F = &cfg->flows[i];
        if (F->src < 0 || F->src >= cfg->n_nodes || F->dst < 0 || F->dst >= cfg->n_nodes || F->src == F->dst
            || !cfg->is_host[F->src] || !cfg->is_host[F->dst] || cfg->target_of[F->dst] < 0
            || cfg->target_of[F->src] < 0 || F->n_packets < 1 || F->arrivals < PL_ARRIVAL_POISSON
            || F->arrivals > PL_ARRIVAL_ONOFF)
            return 0;
        if (F->arrivals == PL_ARRIVAL_ONOFF && (!pl_finite_pos(F->spacing_ns) || !pl_finite_nonneg(F->idle_ns)
                                                || !(F->p_start > 0.0 && F->p_start <= 1.0)))
            return 0;
        if (F->arrivals == PL_ARRIVAL_LISTED) {
            if (!F->times || !F->sizes) return 0;
            for (int64_t j = 0; j < F->n_packets; j++)
                if (!pl_finite_nonneg(F->times[j]) || (j > 0 && F->times[j] < F->times[j - 1])
                    || !pl_finite_pos(F->sizes[j]))
                    return 0;
        } else if (!pl_finite_nonneg(F->start_ns) || !pl_finite_pos(F->gap_ns)
                   || !pl_finite_pos(F->packet_bytes) || !pl_finite_pos(F->last_bytes)) {
            return 0;
        }
    }
    return 1;
}

int pl_fabric_init(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs)
{
    if (!cfg || !st || !rngs || !st->links || !st->flows || !st->heap || !st->packets || !st->free_packets
        || !st->hist || !st->ipdv_pos || !st->ipdv_neg || st->batch_len < 1 || st->packet_cap < 1
        || st->packet_cap > INT32_MAX || !st->fifo_head || !st->fifo_tail || !st->retx
        || st->heap_cap < (int64_t)cfg->n_flows + cfg->n_links || !check_config(cfg)
        || !st->busy_retry || (cfg->dep_off && (!st->succ_off || !st->succ)))
        return PL_EINVAL;
    for (int32_t l = 0; l < cfg->n_links; l++) {
        if (pl_link_derive_fields(&cfg->links[l]) != PL_OK) return PL_EINVAL;
        if (pl_link_state_reset(&cfg->links[l], &st->links[l], rngs[l]) != PL_OK) return PL_EINVAL;
    }
    st->heap_len = 0;
    st->next_event_seq = 0;
    st->order_error = 0;
    for (int32_t l = 0; l < cfg->n_links; l++) {
        st->fifo_head[l] = st->fifo_tail[l] = -1;
        st->busy_retry[l] = 0.0;
    }
    st->n_free = st->packet_cap;
    for (int64_t k = 0; k < st->packet_cap; k++) st->free_packets[k] = (int32_t)(st->packet_cap - 1 - k);
    st->offered = st->delivered = st->lost_tail_drop = st->lost_corrupted = st->lost_no_route = 0;
    st->llr_retries = st->packet_hops = st->valiant_packets = st->e2e_retransmissions = 0;
    st->retx_len = 0;
    st->delivered_bytes = st->latency_sum = 0.0;
    st->latency_min = INFINITY;
    st->latency_max = -INFINITY;
    st->first_arrival = NAN;
    st->last_delivery = -INFINITY;
    st->max_in_flight = 0;
    st->ipdv_zero = 0;
    st->ipdv_min = INFINITY;
    st->ipdv_max = -INFINITY;
    st->batch_count = 0;
    st->batch_sum = 0.0;
    st->n_batches = 0;
    st->n_raw = 0;
    st->stalled = 0;
    st->stall_packet = st->stall_link = -1;
    st->stall_time = 0.0;
    st->need_link = -1;
    st->need_count = 0;
    for (int32_t i = 0; i < cfg->n_flows; i++) {
        const pl_flow *F = &cfg->flows[i];
        pl_flow_state *f = &st->flows[i];
        memset(f, 0, sizeof *f);
        f->latency_min = INFINITY;
        f->latency_max = -INFINITY;
        f->first_arrival = NAN;
        f->last_delivery = -INFINITY;
        f->prev_seq = -1;
        f->released_by = -1;
        f->last_worst_link = -1;
        f->last_entry = NAN;
        f->waiting = cfg->dep_off ? cfg->dep_off[i + 1] - cfg->dep_off[i] : 0;
        if (f->waiting > 0) continue;          /* scheduled when its dependencies are delivered */
        f->next_time = F->arrivals == PL_ARRIVAL_LISTED ? F->times[0] : F->start_ns;
        heap_push(st, f->next_time, st->next_event_seq++, cfg->n_links + i);
    }
    if (cfg->dep_off) {                        /* successors of each flow, by counting sort */
        const int64_t n_deps = cfg->dep_off[cfg->n_flows];
        memset(st->succ_off, 0, ((size_t)cfg->n_flows + 1) * sizeof *st->succ_off);
        for (int64_t j = 0; j < n_deps; j++) st->succ_off[cfg->dep_on[j] + 1]++;
        for (int32_t i = 0; i < cfg->n_flows; i++) st->succ_off[i + 1] += st->succ_off[i];
        for (int32_t i = 0; i < cfg->n_flows; i++)        /* fill, then shift the offsets back */
            for (int64_t j = cfg->dep_off[i]; j < cfg->dep_off[i + 1]; j++)
                st->succ[st->succ_off[cfg->dep_on[j]]++] = i;
        for (int32_t i = cfg->n_flows; i > 0; i--) st->succ_off[i] = st->succ_off[i - 1];
        st->succ_off[0] = 0;
    }
    return PL_OK;
}

static int range_status(const pl_fabric_config *cfg, const pl_fabric_state *st)
{
    if (st->order_error) return PL_EINVAL;
    for (int32_t l = 0; l < cfg->n_links; l++)
        if (st->links[l].range_error) return PL_ERANGE;
    return PL_OK;
}

int pl_fabric_run(const pl_fabric_config *cfg, pl_fabric_state *st, bitgen_t *const *rngs,
                  bitgen_t *route_rng, bitgen_t *arrival_rng)
{
    if (!cfg || !st || !rngs || !route_rng || !arrival_rng) return PL_EINVAL;
    if (st->stalled) {
        st->stalled = 0;
        enter_link(cfg, st, rngs, route_rng, st->stall_packet, st->stall_link, st->stall_time);
        if (st->stalled) return PL_EMORE;
    }
    while (st->heap_len > 0 || st->retx_len > 0) {
        if (st->retx_len > 0 && (st->heap_len == 0 || before(&st->retx[0], &st->heap[0]))) {
            /* an end-to-end retransmission enters its source queue */
            const pl_fevent r = st->retx[0];
            const double rt = key_time(r.key);
            st->retx_len--;
            if (st->retx_len > 0) sift_down(st->retx, st->retx_len, st->retx[st->retx_len]);
            start_copy(cfg, st, rngs, route_rng, r.id, rt);
            if (st->stalled) return PL_EMORE;
            continue;
        }
        const pl_fevent top = st->heap[0];
        const double time = key_time(top.key);
        if (top.id >= cfg->n_links) {
            /* an arrival takes a packet slot */
            if (st->n_free == 0) return PL_ENOMEM;
            if (st->raw && st->n_raw + (st->packet_cap - st->n_free) + 1 > st->raw_cap) return PL_ENOMEM;
            arrive(cfg, st, rngs, route_rng, arrival_rng, top.id - cfg->n_links, time);
            if (st->packet_cap - st->n_free > st->max_in_flight) st->max_in_flight = st->packet_cap - st->n_free;
        } else {
            const int32_t from = top.id, k = st->fifo_head[from];
            const pl_fpacket *p = &st->packets[k];
            st->fifo_head[from] = p->ev_next;
            if (p->ev_next >= 0) {
                const pl_fpacket *q = &st->packets[p->ev_next];
                heap_replace_top(st, q->ev_time, q->ev_seq);
            } else {
                st->fifo_tail[from] = -1;
                heap_pop_top(st);
            }
            enter_link(cfg, st, rngs, route_rng, k, p->ev_link, time);
        }
        if (st->stalled) return PL_EMORE;
    }
    return range_status(cfg, st);
}

int pl_fabric_refill(const pl_fabric_config *cfg, pl_fabric_state *st, int32_t link,
                     const int64_t *fail_pos, int64_t n_fail_pos, int64_t known)
{
    if (!cfg || !st || link < 0 || link >= cfg->n_links) return PL_EINVAL;
    return pl_link_refill(&cfg->links[link], &st->links[link], fail_pos, n_fail_pos, known);
}
