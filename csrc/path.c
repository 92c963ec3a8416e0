/* Path kernel: packets through links and switches (see path.h). */
#include "path.h"

#include <math.h>
#include <string.h>

int64_t pl_hist_index(double x, int sub_bits)
{
    if (sub_bits == PL_IPDV_SUB_BITS) return x >= PL_HIST_LO ? pl_ipdv_bucket(x) : 0;
    return pl_hist_bucket(x);
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
        per_tx = L->inv_codeword_bits > 0.0 ? pl_ceil_i64(8.0 * size * L->inv_codeword_bits, &s->range_error) + 1 : 1;
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

static inline void deliver(pl_path_state *st, double arrival, double t, double size, int64_t seq)
{
    double lat = t - arrival;
    st->delivered++;
    st->delivered_bytes += size;
    st->latency_sum += lat;
    if (lat < st->latency_min) st->latency_min = lat;
    if (lat > st->latency_max) st->latency_max = lat;
    if (t > st->last_delivery) st->last_delivery = t;
    st->hist[pl_hist_bucket(lat)]++;
    /* RFC 3393 IPDV with the consecutive-packets selection: packet seq delivered right after
     * packet seq - 1 (pairs broken by a loss or by reordering are not formed). */
    if (st->prev_seq >= 0 && seq == st->prev_seq + 1) PL_RECORD_IPDV(st, lat - st->prev_latency);
    st->prev_seq = seq;
    st->prev_latency = lat;
    PL_ADD_TO_BATCH(st, lat);
    if (st->raw) st->raw[st->n_raw++] = lat;
}

/* One packet on link i (see pl_link_hop in pl_link.h); s is the link's state (or a local copy). */
static inline int hop(const pl_path_config *cfg, pl_path_state *st, bitgen_t *rng, int i,
                      pl_link_state *s, double size, double *t, int *corrupt)
{
    const pl_link *L = &cfg->links[i];
    return pl_link_hop(L, s, rng, i + 1 == cfg->n_links ? NULL : L + 1,
                       cfg->recovery == PL_RECOVERY_LLR ? cfg->max_retries : -1, &st->llr_retries,
                       size, t, corrupt);
}

/* One copy of a packet entering the source queue at t_enq, through every link. */
static void event(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs, double t_enq,
                  double arrival, double size, int64_t seq, int64_t tries)
{
    double t = t_enq;
    int corrupt = 0;
    for (int i = 0; i < cfg->n_links; i++) {
        int out = hop(cfg, st, rngs[i], i, &st->links[i], size, &t, &corrupt);
        if (out != PL_HOP_ON) {
            lose(cfg, st, t_enq, arrival, size, seq, tries, out == PL_HOP_TAIL_DROP);
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
            flag[k] = (uint8_t)(corrupt | (out != PL_HOP_ON ? 2 : 0));
            if (out == PL_HOP_TAIL_DROP) st->lost_tail_drop++;
            else if (out == PL_HOP_DEAD) st->lost_corrupted++;
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


/* Packets j0 .. j0+m-1 before they are processed: times (or gaps) finite and >= 0, entry times
 * finite and non-decreasing from the last entry, sizes finite and > 0. */
static int check_packets(const pl_path_state *st, const double *times, int gaps, const double *sizes,
                         int64_t j0, int64_t m)
{
    double t = st->last_entry;
    for (int64_t j = j0; j < j0 + m; j++) {
        if (!pl_finite_nonneg(times[j])) return 0;
        if (gaps) {
            t += times[j];
            if (!(t < INFINITY)) return 0;
        } else {
            if (times[j] < t && (j > j0 || st->offered > 0)) return 0;
            t = times[j];
        }
        if (sizes && !pl_finite_pos(sizes[j])) return 0;
    }
    return 1;
}

int pl_link_derive(pl_link *L) { return pl_link_derive_fields(L); }

int pl_path_init(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs)
{
    if (!cfg || !st || !cfg->links || !st->links || !st->hist || !st->ipdv_pos || !st->ipdv_neg
        || cfg->n_links < 1 || cfg->n_links > PL_PATH_MAX_LINKS || cfg->max_retries < 0
        || st->batch_len < 1 || st->pending_cap < 1 || !st->pending)
        return PL_EINVAL;
    if (cfg->recovery < PL_RECOVERY_DROP || cfg->recovery > PL_RECOVERY_E2E
        || !pl_finite_nonneg(cfg->timeout_ns))
        return PL_EINVAL;
    for (int i = 0; i < cfg->n_links; i++) {
        const pl_link *L = &cfg->links[i];
        pl_link_state *s = &st->links[i];
        if (pl_link_derive(&cfg->links[i]) != PL_OK) return PL_EINVAL;
        if (pl_link_state_reset(L, s, rngs ? rngs[i] : NULL) != PL_OK) return PL_EINVAL;
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
        || (n > 0 && !sizes && !pl_finite_pos(fixed_size)))
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
    if (!cfg || !st || link < 0 || link >= cfg->n_links) return PL_EINVAL;
    return pl_link_refill(&cfg->links[link], &st->links[link], fail_pos, n_fail_pos, known);
}
