/* Path kernel: packets through links and switches, one packet at a time through all links. */
#include "path.h"

#include <math.h>
#include <string.h>

#define NEVER INT64_MAX
#define HIST_LO (1.0 / (double)(1LL << -PL_HIST_MIN_EXP))
#define HIST_BASE ((int64_t)(1023 + PL_HIST_MIN_EXP) << PL_HIST_SUB_BITS)

int64_t pl_hist_index(double x)
{
    uint64_t b;
    int64_t i;
    if (!(x >= HIST_LO)) return 0;
    memcpy(&b, &x, sizeof b);
    i = (int64_t)(b >> (52 - PL_HIST_SUB_BITS)) - HIST_BASE;
    return i < PL_HIST_BUCKETS ? i : PL_HIST_BUCKETS - 1;
}

/* Good codewords before the next failed one: floor(log U / log(1 - p)), U uniform in (0, 1]. */
static inline int64_t geometric_skip(bitgen_t *rng, double log1m_cwer)
{
    double u = 1.0 - rng->next_double(rng->state);
    double k = floor(log(u) / log1m_cwer);
    return k < 4e18 ? (int64_t)k : (int64_t)4e18;   /* also catches NaN */
}

static inline void next_failure(const pl_link *L, pl_link_state *s, bitgen_t *rng)
{
    if (L->errors == 1) {
        int64_t k = geometric_skip(rng, L->log1m_cwer);
        s->next_fail = s->next_fail > NEVER - 2 - k ? NEVER : s->next_fail + 1 + k;
    } else {
        s->fail_idx++;
        s->next_fail = s->fail_idx < s->n_fail_pos ? s->fail_pos[s->fail_idx] : NEVER;
    }
}

/* One transmission of `bytes` bytes starting at `start` on link L: does it touch a failed
 * codeword? Codewords form a fixed grid in the link's payload bit stream (idle time carries
 * codewords too); a codeword shared with the previous transmission keeps its outcome, and only
 * touched codewords draw outcomes (idle ones cannot corrupt anything). */
static inline int touch(const pl_link *L, pl_link_state *s, bitgen_t *rng, double start,
                        double bytes)
{
    int64_t n_new, end;
    int fail = 0, last = 0;
    if (L->inv_codeword_bits > 0.0) {
        double p0 = start * L->bits_per_ns;
        int64_t a = (int64_t)(p0 * L->inv_codeword_bits);
        int64_t b = (int64_t)ceil((p0 + 8.0 * bytes) * L->inv_codeword_bits) - 1;
        if (b < a) b = a;
        if (a <= s->last_codeword) {
            fail = s->last_failed;
            n_new = b - s->last_codeword;
            if (n_new <= 0) return fail;
        } else {
            n_new = b - a + 1;
        }
        s->last_codeword = b;
    } else {
        n_new = 1;
    }
    end = s->consumed + n_new;
    while (s->next_fail < end) {
        fail = 1;
        last = s->next_fail == end - 1;
        next_failure(L, s, rng);
    }
    s->consumed = end;
    s->last_failed = last;
    return fail;
}

/* Exact mode: are enough outcomes known for every attempt this packet may make? */
static int ready(const pl_path_config *cfg, pl_path_state *st, double size)
{
    int64_t attempts = 1 + (cfg->recovery == PL_RECOVERY_LLR ? cfg->max_retries : 0);
    for (int i = 0; i < cfg->n_links; i++) {
        const pl_link *L = &cfg->links[i];
        const pl_link_state *s = &st->links[i];
        int64_t per_tx;
        if (L->errors != 2) continue;
        per_tx = L->inv_codeword_bits > 0.0 ? (int64_t)ceil(8.0 * size * L->inv_codeword_bits) + 1 : 1;
        if (s->known - s->consumed < per_tx * attempts) {
            st->need_link = i;
            return 0;
        }
    }
    return 1;
}

static void lose(const pl_path_config *cfg, pl_path_state *st, double t_enq, double arrival,
                 double size, int64_t seq, int64_t tries, int tail_drop)
{
    if (cfg->recovery == PL_RECOVERY_E2E && tries < cfg->max_retries) {
        int64_t slot = (st->pending_head + st->pending_len) % st->pending_cap;
        pl_pending *p = &st->pending[slot];
        p->time = t_enq + cfg->timeout_ns;
        p->arrival = arrival;
        p->size = size;
        p->seq = seq;
        p->tries = tries + 1;
        st->pending_len++;
        st->e2e_retransmissions++;
    } else if (tail_drop) {
        st->lost_tail_drop++;
    } else {
        st->lost_corrupted++;
    }
}

static inline void record_ipdv(pl_path_state *st, double d)
{
    if (d < st->ipdv_min) st->ipdv_min = d;
    if (d > st->ipdv_max) st->ipdv_max = d;
    if (fabs(d) < HIST_LO) st->ipdv_zero++;
    else if (d > 0) st->ipdv_pos[pl_hist_index(d)]++;
    else st->ipdv_neg[pl_hist_index(-d)]++;
}

static inline void deliver(pl_path_state *st, double arrival, double t, double size, int64_t seq)
{
    double lat = t - arrival;
    st->delivered++;
    st->delivered_bytes += size;
    st->latency_sum += lat;
    if (lat < st->latency_min) st->latency_min = lat;
    if (lat > st->latency_max) st->latency_max = lat;
    if (t > st->last_delivery) st->last_delivery = t;
    st->hist[pl_hist_index(lat)]++;
    /* RFC 3393 IPDV with the consecutive-packets selection: packet seq delivered right after
     * packet seq - 1 (pairs broken by a loss or by reordering are not formed). */
    if (st->prev_seq >= 0 && seq == st->prev_seq + 1) record_ipdv(st, lat - st->prev_latency);
    st->prev_seq = seq;
    st->prev_latency = lat;
    st->batch_sum += lat;
    if (++st->batch_count == st->batch_len) {
        if (st->n_batches < st->batch_cap) st->batch_means[st->n_batches++] = st->batch_sum / (double)st->batch_len;
        st->batch_sum = 0.0;
        st->batch_count = 0;
    }
    if (st->raw) st->raw[st->n_raw++] = lat;
}

/* One copy of a packet entering the source queue at t_enq, through every link. */
static void event(const pl_path_config *cfg, pl_path_state *st, bitgen_t *rng, double t_enq,
                  double arrival, double size, int64_t seq, int64_t tries)
{
    const int n = cfg->n_links;
    const int llr = cfg->recovery == PL_RECOVERY_LLR;
    double t = t_enq;          /* when the packet is eligible in the queue of link i */
    int corrupt = 0;
    for (int i = 0; i < n; i++) {
        const pl_link *L = &cfg->links[i];
        pl_link_state *s = &st->links[i];
        const double S = size * L->ns_per_byte;
        double start, first, fin, wait, avail_first, avail_last;
        s->packets++;
        if (L->buffer_bytes < INFINITY) {
            /* occupancy: bytes accepted and not yet sent (the unfinished work at t) */
            double backlog = s->free_at > t ? (s->free_at - t) / L->ns_per_byte : 0.0;
            if (backlog + size > L->buffer_bytes) {
                s->tail_drops++;
                lose(cfg, st, t_enq, arrival, size, seq, tries, 1);
                return;
            }
        }
        start = t > s->free_at ? t : s->free_at;        /* Lindley: FIFO, one server */
        wait = start - t;
        s->wait_sum += wait;
        if (wait > s->wait_max) s->wait_max = wait;
        first = start;
        fin = start + S;
        s->transmissions++;
        if (L->errors) {
            int bad = touch(L, s, rng, start, size);
            if (bad) {
                s->failed_transmissions++;
                if (llr) {
                    int r = 0;
                    while (bad && r < cfg->max_retries) {
                        r++;
                        start = fin + L->replay_ns;   /* the link carries nothing useful meanwhile */
                        fin = start + S;
                        bad = touch(L, s, rng, start, size);
                        s->transmissions++;
                        s->failed_transmissions += (uint64_t)bad;
                    }
                    s->retries += (uint64_t)r;
                    st->llr_retries += (uint64_t)r;
                }
                if (bad && !corrupt) {
                    corrupt = 1;
                    s->lost_corrupted++;
                }
            }
        }
        s->busy_ns += fin - first;
        s->service_sum += S;
        s->free_at = fin;
        avail_first = start + L->fixed_ns + L->hold_ns;  /* at the far end, out of the decoder */
        avail_last = fin + L->fixed_ns + L->hold_ns;
        if (i + 1 == n) {
            if (corrupt) lose(cfg, st, t_enq, arrival, size, seq, tries, 0);
            else deliver(st, arrival, avail_last, size, seq);
            return;
        }
        {
            const pl_link *N = L + 1;
            if (N->cut_through) {
                /* forward from the first decoded bit, but never run out of bits on a faster link;
                 * a corrupted frame is already on its way (stomped) and travels on */
                double no_underrun = avail_last - size * N->ns_per_byte;
                t = (avail_first > no_underrun ? avail_first : no_underrun) + N->node_latency_ns;
            } else {
                if (corrupt) {        /* the frame check fails at the store-and-forward node */
                    lose(cfg, st, t_enq, arrival, size, seq, tries, 0);
                    return;
                }
                t = avail_last + N->node_latency_ns;
            }
        }
    }
}

int pl_path_init(const pl_path_config *cfg, pl_path_state *st, bitgen_t *rng)
{
    if (!cfg || !st || !cfg->links || !st->links || !st->hist || !st->ipdv_pos || !st->ipdv_neg
        || cfg->n_links < 1 || cfg->n_links > PL_PATH_MAX_LINKS || cfg->max_retries < 0
        || st->batch_len < 1 || st->pending_cap < 1 || !st->pending)
        return PL_EINVAL;
    for (int i = 0; i < cfg->n_links; i++) {
        const pl_link *L = &cfg->links[i];
        pl_link_state *s = &st->links[i];
        if (L->errors < 0 || L->errors > 2 || !(L->ns_per_byte > 0) || !(L->bits_per_ns > 0))
            return PL_EINVAL;
        memset(s, 0, sizeof *s);
        s->free_at = -INFINITY;
        s->last_codeword = -1;
        s->next_fail = NEVER;
        s->fail_pos = NULL;
        if (L->errors == 1) {
            if (!rng) return PL_EINVAL;
            s->next_fail = geometric_skip(rng, L->log1m_cwer);
        }
    }
    st->pending_head = st->pending_len = 0;
    st->next_seq = 0;
    st->offered = st->delivered = st->lost_tail_drop = st->lost_corrupted = 0;
    st->llr_retries = st->e2e_retransmissions = 0;
    st->delivered_bytes = st->latency_sum = 0.0;
    st->latency_min = INFINITY;
    st->latency_max = -INFINITY;
    st->first_arrival = NAN;
    st->last_delivery = -INFINITY;
    st->ipdv_zero = 0;
    st->ipdv_min = INFINITY;
    st->ipdv_max = -INFINITY;
    st->prev_seq = -1;
    st->prev_latency = 0.0;
    st->batch_count = 0;
    st->batch_sum = 0.0;
    st->n_batches = 0;
    st->n_raw = 0;
    st->need_link = -1;
    return PL_OK;
}

int pl_path_run(const pl_path_config *cfg, pl_path_state *st, bitgen_t *rng,
                const double *times, const double *sizes, double fixed_size, int64_t n,
                int drain, int64_t *n_done)
{
    int exact = 0;
    const int e2e = cfg && cfg->recovery == PL_RECOVERY_E2E;
    int64_t k = 0;
    if (!n_done) return PL_EINVAL;
    *n_done = 0;
    if (!cfg || !st || !rng || n < 0 || (n > 0 && !times) || (!sizes && !(fixed_size > 0)))
        return PL_EINVAL;
    for (int i = 0; i < cfg->n_links; i++) exact |= cfg->links[i].errors == 2;
    for (;;) {
        int from_pending = 0;
        double size;
        if (st->pending_len > 0)
            from_pending = k < n ? st->pending[st->pending_head].time <= times[k] : drain;
        if (!from_pending && k == n) break;
        size = from_pending ? st->pending[st->pending_head].size : (sizes ? sizes[k] : fixed_size);
        if (exact && !ready(cfg, st, size)) {
            *n_done = k;
            return PL_PATH_EMORE;
        }
        if ((e2e && !from_pending && st->pending_len == st->pending_cap)
            || (st->raw && st->n_raw == st->raw_cap)) {
            *n_done = k;
            return PL_ENOMEM;
        }
        if (from_pending) {
            pl_pending p = st->pending[st->pending_head];
            st->pending_head = (st->pending_head + 1) % st->pending_cap;
            st->pending_len--;
            event(cfg, st, rng, p.time, p.arrival, p.size, p.seq, p.tries);
        } else {
            double t = times[k];
            if (st->offered == 0) st->first_arrival = t;
            st->offered++;
            event(cfg, st, rng, t, t, size, st->next_seq++, 0);
            k++;
        }
    }
    *n_done = n;
    return PL_OK;
}

int pl_path_refill(const pl_path_config *cfg, pl_path_state *st, int link,
                   const int64_t *fail_pos, int64_t n_fail_pos, int64_t known)
{
    pl_link_state *s;
    if (!cfg || !st || link < 0 || link >= cfg->n_links || cfg->links[link].errors != 2
        || n_fail_pos < 0 || (n_fail_pos > 0 && !fail_pos))
        return PL_EINVAL;
    s = &st->links[link];
    if (known < s->known || (n_fail_pos > 0 && (fail_pos[0] < s->consumed || fail_pos[n_fail_pos - 1] >= known)))
        return PL_EINVAL;
    s->fail_pos = fail_pos;
    s->n_fail_pos = n_fail_pos;
    s->fail_idx = 0;
    s->next_fail = n_fail_pos > 0 ? fail_pos[0] : NEVER;
    s->known = known;
    return PL_OK;
}
