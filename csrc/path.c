/* Path kernel: packets through links and switches (see path.h). */
#include "path.h"

#include <math.h>
#include <string.h>

#define NEVER INT64_MAX
#define HIST_LO (1.0 / (double)(1LL << -PL_HIST_MIN_EXP))
#define HIST_BASE ((int64_t)(1023 + PL_HIST_MIN_EXP) << PL_HIST_SUB_BITS)
#define IPDV_BASE ((int64_t)(1023 + PL_HIST_MIN_EXP) << PL_IPDV_SUB_BITS)

/* Bucket of x >= 0: the top bits of its IEEE 754 pattern (exponent and sub_bits of mantissa). */
static inline int64_t hist_index(double x)
{
    uint64_t b;
    int64_t i;
    if (!(x >= HIST_LO)) return 0;
    memcpy(&b, &x, sizeof b);
    i = (int64_t)(b >> (52 - PL_HIST_SUB_BITS)) - HIST_BASE;
    return i < PL_HIST_BUCKETS ? i : PL_HIST_BUCKETS - 1;
}

static inline int64_t ipdv_index(double x)
{
    uint64_t b;
    int64_t i;
    memcpy(&b, &x, sizeof b);
    i = (int64_t)(b >> (52 - PL_IPDV_SUB_BITS)) - IPDV_BASE;
    return i < PL_IPDV_BUCKETS ? i : PL_IPDV_BUCKETS - 1;
}

int64_t pl_hist_index(double x, int sub_bits)
{
    if (sub_bits == PL_IPDV_SUB_BITS) return x >= HIST_LO ? ipdv_index(x) : 0;
    return hist_index(x);
}

/* floor and ceil of x >= 0 without a libm call, saturating at PL_PATH_MAX_INDEX (also for NaN
 * and inf, which must never reach a float-to-integer conversion) and flagging it */
static inline int64_t floor_i64(double x, int *range_error)
{
    if (!(x < (double)PL_PATH_MAX_INDEX)) {
        *range_error = 1;
        return PL_PATH_MAX_INDEX;
    }
    return x > 0.0 ? (int64_t)x : 0;
}

static inline int64_t ceil_i64(double x, int *range_error)
{
    int64_t i = floor_i64(x, range_error);
    return i + (i < PL_PATH_MAX_INDEX && (double)i < x);
}

/* Good codewords before the next failed one: floor(log U / log(1 - p)), U uniform in (0, 1]. */
static inline int64_t geometric_skip(bitgen_t *rng, double log1m_cwer)
{
    double u = 1.0 - rng->next_double(rng->state);
    double k = floor(log(u) / log1m_cwer);
    return k < 4e18 ? (int64_t)k : (int64_t)4e18;   /* also catches NaN */
}

static inline int64_t after_skip(int64_t index, int64_t skip)
{
    return index > NEVER - 2 - skip ? NEVER : index + 1 + skip;
}

/* Statistical mode: is a transmission of `bytes` bytes starting at `start` on link L hit?
 *
 * Codewords form a fixed grid in the link's payload bit stream (idle time carries codewords
 * too) and fail independently with probability cwer; s->next_fail is the grid index of the next
 * failed codeword not yet passed, drawn by geometric skips, and s->fail_bit its first bit. A
 * transmission that ends before that bit costs one comparison. A failed codeword is kept until
 * the stream has passed it, so a codeword shared by two packets corrupts both. Without FEC each
 * transmission is one trial. */
static inline int touch_statistical(const pl_link *L, pl_link_state *s, bitgen_t *rng,
                                    double start, double bytes)
{
    double p0, p1;
    int64_t a, b;
    int fail = 0, walked = 0;
    if (L->inv_codeword_bits == 0.0) {
        int64_t i = s->consumed++;
        if (i < s->next_fail) return 0;
        s->next_fail = after_skip(i, geometric_skip(rng, L->log1m_cwer));
        return 1;
    }
    p0 = start * L->bits_per_ns;
    p1 = p0 + 8.0 * bytes;
    if (p1 <= s->fail_bit) return 0;
    a = floor_i64(p0 * L->inv_codeword_bits, &s->range_error);
    b = ceil_i64(p1 * L->inv_codeword_bits, &s->range_error) - 1;
    if (b < a) b = a;
    while (s->next_fail <= b) {
        if (s->next_fail >= a) {
            fail = 1;
            if (s->next_fail == b) break;      /* the next packet may share it */
        }
        if (++walked > PL_PATH_MAX_WALK) {
            /* the failures still to pass up to `from` cannot matter: redraw from there */
            const int64_t from = fail ? b : a;
            if (s->next_fail < from) {
                s->next_fail = after_skip(from - 1, geometric_skip(rng, L->log1m_cwer));
                walked = 0;
                continue;
            }
        }
        s->next_fail = after_skip(s->next_fail, geometric_skip(rng, L->log1m_cwer));
    }
    s->fail_bit = (double)s->next_fail * L->codeword_bits;
    return fail;
}

/* Exact mode: the same question, with outcomes taken in order for the codewords transmissions
 * touch (idle codewords cannot corrupt anything and use none): s->consumed counts touched
 * codewords, s->next_fail is the count at which the next failure sits (from fail_pos). */
static inline int touch_exact(const pl_link *L, pl_link_state *s, double start, double bytes)
{
    int64_t n_new, end;
    int fail = 0, last = 0;
    if (L->inv_codeword_bits > 0.0) {
        double p0 = start * L->bits_per_ns;
        int64_t a = floor_i64(p0 * L->inv_codeword_bits, &s->range_error);
        int64_t b = ceil_i64((p0 + 8.0 * bytes) * L->inv_codeword_bits, &s->range_error) - 1;
        /* never more than the ceil(bits / codeword) + 1 codewords ready() has made sure of (far
         * from 0, rounding of the two products could add one) */
        const int64_t span = ceil_i64(8.0 * bytes * L->inv_codeword_bits, &s->range_error);
        if (b > a + span) b = a + span;
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
        s->fail_idx++;
        s->next_fail = s->fail_idx < s->n_fail_pos ? s->fail_pos[s->fail_idx] : NEVER;
    }
    s->consumed = end;
    s->last_failed = last;
    return fail;
}

static inline int touch(const pl_link *L, pl_link_state *s, bitgen_t *rng, double start,
                        double bytes)
{
    return L->errors == 1 ? touch_statistical(L, s, rng, start, bytes) : touch_exact(L, s, start, bytes);
}

/* Exact mode: are enough outcomes known for every attempt this packet may make? */
static int ready(const pl_path_config *cfg, pl_path_state *st, double size)
{
    int64_t attempts = 1 + (cfg->recovery == PL_RECOVERY_LLR ? cfg->max_retries : 0);
    for (int i = 0; i < cfg->n_links; i++) {
        const pl_link *L = &cfg->links[i];
        pl_link_state *s = &st->links[i];
        int64_t per_tx, want;
        if (L->errors != 2) continue;
        per_tx = L->inv_codeword_bits > 0.0 ? ceil_i64(8.0 * size * L->inv_codeword_bits, &s->range_error) + 1 : 1;
        want = per_tx > INT64_MAX / attempts ? INT64_MAX : per_tx * attempts;
        if (s->known - s->consumed < want) {
            st->need_link = i;
            st->need_count = want - (s->known - s->consumed);
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
    double a = fabs(d);
    uint64_t *h = d > 0 ? st->ipdv_pos : st->ipdv_neg;   /* random signs: keep it branch-free */
    st->ipdv_min = d < st->ipdv_min ? d : st->ipdv_min;
    st->ipdv_max = d > st->ipdv_max ? d : st->ipdv_max;
    if (a < HIST_LO) st->ipdv_zero++;
    else h[ipdv_index(a)]++;
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
    st->hist[hist_index(lat)]++;
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

enum { HOP_ON = 0, HOP_TAIL_DROP = 1, HOP_DEAD = 2 };

/* One packet on link i: its queue, its transmission (failures, LLR resends) and where it goes.
 * In: *t, when the packet is eligible in the link's queue; *corrupt. Out: *t, when it is
 * eligible in the next link's queue (after the last link: its delivery time); *corrupt.
 * Returns HOP_ON, HOP_TAIL_DROP or HOP_DEAD (corrupted, stopped at a store-and-forward node or
 * at the destination). s is the link's state (or a local copy of it). */
static inline int hop(const pl_path_config *cfg, pl_path_state *st, bitgen_t *rng, int i,
                      pl_link_state *s, double size, double *t, int *corrupt)
{
    const pl_link *L = &cfg->links[i];
    const double S = size * L->ns_per_byte;
    const double te = *t;
    double start, first, fin, wait, avail_first, avail_last;
    s->packets++;
    if (L->buffer_bytes < INFINITY) {
        /* occupancy: bytes accepted and not yet sent (the unfinished work at te) */
        double backlog = s->free_at > te ? (s->free_at - te) * L->bytes_per_ns : 0.0;
        if (backlog + size > L->buffer_bytes) {
            s->tail_drops++;
            return HOP_TAIL_DROP;
        }
    }
    start = te > s->free_at ? te : s->free_at;        /* Lindley: FIFO, one server */
    wait = start - te;
    s->wait_sum += wait;
    if (wait > s->wait_max) s->wait_max = wait;
    first = start;
    fin = start + S;
    s->transmissions++;
    if (L->errors) {
        int bad = touch(L, s, rng, start, size);
        if (bad) {
            s->failed_transmissions++;
            if (cfg->recovery == PL_RECOVERY_LLR) {
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
            if (bad && !*corrupt) {
                *corrupt = 1;
                s->lost_corrupted++;
            }
        }
    }
    s->busy_ns += fin - first;
    s->service_sum += S;
    s->free_at = fin;
    avail_first = start + L->fixed_ns + L->hold_ns;  /* at the far end, out of the decoder */
    avail_last = fin + L->fixed_ns + L->hold_ns;
    if (i + 1 == cfg->n_links) {
        *t = avail_last;
        return *corrupt ? HOP_DEAD : HOP_ON;
    }
    {
        const pl_link *N = L + 1;
        if (N->cut_through) {
            /* forward from the first decoded bit, but never run out of bits on a faster link;
             * a corrupted frame is already on its way (stomped) and travels on */
            double no_underrun = avail_last - size * N->ns_per_byte;
            *t = (avail_first > no_underrun ? avail_first : no_underrun) + N->node_latency_ns;
            return HOP_ON;
        }
        if (*corrupt) return HOP_DEAD;   /* the frame check fails at the store-and-forward node */
        *t = avail_last + N->node_latency_ns;
        return HOP_ON;
    }
}

/* One copy of a packet entering the source queue at t_enq, through every link. */
static void event(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs, double t_enq,
                  double arrival, double size, int64_t seq, int64_t tries)
{
    double t = t_enq;
    int corrupt = 0;
    for (int i = 0; i < cfg->n_links; i++) {
        int out = hop(cfg, st, rngs[i], i, &st->links[i], size, &t, &corrupt);
        if (out != HOP_ON) {
            lose(cfg, st, t_enq, arrival, size, seq, tries, out == HOP_TAIL_DROP);
            return;
        }
    }
    deliver(st, arrival, t, size, seq);
}

/* Packets k0 .. k0+m-1 link by link (no retransmissions can interleave): the same arithmetic
 * in the same order per link as event(), so the same result, with each link's state held in
 * registers through its pass. entry/t/flag are work buffers of m entries. */
static void link_major(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs,
                       const double *entry, const double *sizes, double fixed_size, int64_t m,
                       double *t, uint8_t *flag)
{
    for (int64_t k = 0; k < m; k++) {
        t[k] = entry[k];
        flag[k] = 0;               /* bit 0: corrupted, bit 1: gone */
    }
    for (int i = 0; i < cfg->n_links; i++) {
        pl_link_state s = st->links[i];
        bitgen_t *rng = rngs[i];
        for (int64_t k = 0; k < m; k++) {
            int corrupt, out;
            if (flag[k] & 2) continue;
            corrupt = flag[k] & 1;
            out = hop(cfg, st, rng, i, &s, sizes ? sizes[k] : fixed_size, &t[k], &corrupt);
            flag[k] = (uint8_t)(corrupt | (out != HOP_ON ? 2 : 0));
            if (out == HOP_TAIL_DROP) st->lost_tail_drop++;
            else if (out == HOP_DEAD) st->lost_corrupted++;
        }
        st->links[i] = s;
    }
    {
        pl_path_state local = *st;     /* lets the compiler keep the counters in registers */
        for (int64_t k = 0; k < m; k++)
            if (!(flag[k] & 2)) deliver(&local, entry[k], t[k], sizes ? sizes[k] : fixed_size, local.next_seq + k);
        local.next_seq += m;
        *st = local;
    }
}

static inline int finite_nonneg(double x) { return x >= 0.0 && x < INFINITY; }
static inline int finite_pos(double x) { return x > 0.0 && x < INFINITY; }

/* Packets j0 .. j0+m-1 before they are processed: times (or gaps) finite and >= 0, entry times
 * finite and non-decreasing from the last entry, sizes finite and > 0. */
static int check_packets(const pl_path_state *st, const double *times, int gaps, const double *sizes,
                         int64_t j0, int64_t m)
{
    double t = st->last_entry;
    for (int64_t j = j0; j < j0 + m; j++) {
        if (!finite_nonneg(times[j])) return 0;
        if (gaps) {
            t += times[j];
            if (!(t < INFINITY)) return 0;
        } else {
            if (times[j] < t && (j > j0 || st->offered > 0)) return 0;
            t = times[j];
        }
        if (sizes && !finite_pos(sizes[j])) return 0;
    }
    return 1;
}

int pl_link_derive(pl_link *L)
{
    pl_link d;
    if (!L || L->errors < 0 || L->errors > 2 || !finite_pos(L->rate_gbps) || !finite_nonneg(L->fixed_ns)
        || !finite_nonneg(L->hold_ns) || !finite_nonneg(L->codeword_bits)
        || !(L->cwer >= 0.0 && L->cwer <= 1.0) || !finite_nonneg(L->replay_ns)
        || !finite_nonneg(L->node_latency_ns) || !(L->buffer_bytes > 0.0))
        return PL_EINVAL;
    d = *L;
    d.ns_per_byte = 8.0 / L->rate_gbps;
    d.bytes_per_ns = L->rate_gbps / 8.0;
    d.bits_per_ns = L->rate_gbps;
    d.inv_codeword_bits = L->codeword_bits != 0.0 ? 1.0 / L->codeword_bits : 0.0;
    d.log1m_cwer = L->cwer < 1.0 ? log1p(-L->cwer) : -INFINITY;
    if (!finite_pos(d.ns_per_byte) || !finite_pos(d.bytes_per_ns) || !finite_nonneg(d.inv_codeword_bits)
        || (d.codeword_bits == 0.0) != (d.inv_codeword_bits == 0.0) || !(d.log1m_cwer <= 0.0))
        return PL_EINVAL;
    *L = d;
    return PL_OK;
}

int pl_path_init(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs)
{
    if (!cfg || !st || !cfg->links || !st->links || !st->hist || !st->ipdv_pos || !st->ipdv_neg
        || cfg->n_links < 1 || cfg->n_links > PL_PATH_MAX_LINKS || cfg->max_retries < 0
        || st->batch_len < 1 || st->pending_cap < 1 || !st->pending)
        return PL_EINVAL;
    if (cfg->recovery < PL_RECOVERY_DROP || cfg->recovery > PL_RECOVERY_E2E
        || !finite_nonneg(cfg->timeout_ns))
        return PL_EINVAL;
    for (int i = 0; i < cfg->n_links; i++) {
        const pl_link *L = &cfg->links[i];
        pl_link_state *s = &st->links[i];
        if (pl_link_derive(&cfg->links[i]) != PL_OK) return PL_EINVAL;
        memset(s, 0, sizeof *s);
        s->free_at = -INFINITY;
        s->last_codeword = -1;
        s->next_fail = NEVER;
        s->fail_bit = INFINITY;
        s->fail_pos = NULL;
        if (L->errors == 1) {
            if (!rngs || !rngs[i]) return PL_EINVAL;
            s->next_fail = geometric_skip(rngs[i], L->log1m_cwer);
            s->fail_bit = (double)s->next_fail * L->codeword_bits;
        }
    }
    st->pending_head = st->pending_len = 0;
    st->next_seq = 0;
    st->last_entry = 0.0;
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
    st->need_count = 0;
    return PL_OK;
}

static int range_status(const pl_path_config *cfg, const pl_path_state *st)
{
    for (int i = 0; i < cfg->n_links; i++)
        if (st->links[i].range_error) return PL_ERANGE;
    return PL_OK;
}

int pl_path_run(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs,
                const double *times, int gaps, const double *sizes, double fixed_size,
                int64_t n, int drain, int64_t *n_done)
{
    int exact = 0;
    const int e2e = cfg && cfg->recovery == PL_RECOVERY_E2E;
    int64_t k = 0;
    if (!n_done) return PL_EINVAL;
    *n_done = 0;
    if (!cfg || !st || !rngs || n < 0 || (n > 0 && !times)
        || (n > 0 && !sizes && !finite_pos(fixed_size)))
        return PL_EINVAL;
    for (int i = 0; i < cfg->n_links; i++) {
        exact |= cfg->links[i].errors == 2;
        if (cfg->links[i].errors == 1 && !rngs[i]) return PL_EINVAL;
    }
    if (!exact && !e2e && st->work_cap > 0) {
        /* no retransmissions, no refills: link by link, in batches that stay in cache */
        while (k < n) {
            int64_t m = n - k < st->work_cap ? n - k : st->work_cap;
            if (st->raw && st->raw_cap - st->n_raw < m) {
                *n_done = k;
                return PL_ENOMEM;
            }
            if (!check_packets(st, times, gaps, sizes, k, m)) {
                *n_done = k;
                return PL_EINVAL;
            }
            double last = st->last_entry;
            if (st->offered == 0) st->first_arrival = gaps ? last + times[k] : times[k];
            for (int64_t j = 0; j < m; j++) {
                last = gaps ? last + times[k + j] : times[k + j];
                st->work_entry[j] = last;
            }
            st->offered += (uint64_t)m;
            st->last_entry = last;
            link_major(cfg, st, rngs, st->work_entry, sizes ? sizes + k : NULL, fixed_size, m,
                       st->work_t, st->work_flag);
            k += m;
        }
        *n_done = n;
        return range_status(cfg, st);
    }
    for (;;) {
        int from_pending = 0;
        double size;
        double next;
        if (k < n && !check_packets(st, times, gaps, sizes, k, 1)) {
            *n_done = k;
            return PL_EINVAL;
        }
        next = k < n ? (gaps ? st->last_entry + times[k] : times[k]) : INFINITY;
        if (st->pending_len > 0)
            from_pending = k < n ? st->pending[st->pending_head].time <= next : drain;
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
            event(cfg, st, rngs, p.time, p.arrival, p.size, p.seq, p.tries);
        } else {
            if (st->offered == 0) st->first_arrival = next;
            st->offered++;
            st->last_entry = next;
            event(cfg, st, rngs, next, next, size, st->next_seq++, 0);
            k++;
        }
    }
    *n_done = n;
    return range_status(cfg, st);
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
