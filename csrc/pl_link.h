/* One link as packets see it, shared by the path (path.c) and fabric (fabric.c) kernels: its
 * inputs and derived constants (pl_link), its run state (pl_link_state), the codeword grid and
 * its failure processes (statistical: geometric skips; exact: given failure positions), one
 * packet's hop through the link's queue (Lindley recursion, tail drop, LLR resends, FEC hold,
 * cut-through or store-and-forward at the far node), and the log-bucketed histograms.
 *
 * Everything here is static inline: both kernels compile the same arithmetic, so a fabric made
 * of one chain reproduces a path bit for bit.
 */
#ifndef PL_LINK_H
#define PL_LINK_H

#include <math.h>
#include <stdint.h>
#include <string.h>
#include "pl_random.h"
#include "pl_status.h"

/* Codeword indices are kept below 2^62; a run whose codeword grid would go past that (absurd
 * times or codeword rates) stops with PL_ERANGE instead of wrapping. */
#define PL_LINK_MAX_INDEX ((int64_t)1 << 62)
/* Statistical mode: failed codewords walked one by one between two transmissions at most; past
 * that the next failure is redrawn from the position reached (codewords fail independently,
 * so the geometric law is memoryless): long idle gaps at high cwer cost O(1), not O(gap). */
#define PL_LINK_MAX_WALK 256

/* Latency histogram: log-bucketed with PL_HIST_SUB_BITS mantissa bits per power of two, so a
 * bucket spans a relative width of 2^-PL_HIST_SUB_BITS; values from 2^PL_HIST_MIN_EXP ns
 * (below: bucket 0) to 2^PL_HIST_MAX_EXP ns (above: last bucket). */
#define PL_HIST_SUB_BITS 10
#define PL_HIST_MIN_EXP (-12)
#define PL_HIST_MAX_EXP 40
#define PL_HIST_BUCKETS ((PL_HIST_MAX_EXP - PL_HIST_MIN_EXP) << PL_HIST_SUB_BITS)
/* IPDV magnitudes: the same range with PL_IPDV_SUB_BITS mantissa bits (jitter needs less
 * resolution, and a smaller table stays in cache: IPDV values are spread widely) */
#define PL_IPDV_SUB_BITS 8
#define PL_IPDV_BUCKETS ((PL_HIST_MAX_EXP - PL_HIST_MIN_EXP) << PL_IPDV_SUB_BITS)

enum { PL_RECOVERY_DROP = 0, PL_RECOVERY_LLR = 1, PL_RECOVERY_E2E = 2 };

typedef struct {               /* one link and the node (queue) in front of it */
    /* filled by the caller */
    double rate_gbps;          /* payload bit rate of the link, Gb/s (= bits per ns) */
    double fixed_ns;           /* propagation + fixed components (PCS/FEC decode, DSP, ...) */
    double hold_ns;            /* FEC hold at the receiver: every bit leaves the decoder this late */
    double codeword_bits;      /* payload bits per codeword; 0: one error trial per frame */
    double cwer;               /* codeword error ratio in [0, 1] (statistical mode) */
    int errors;                /* 0: error-free, 1: statistical (geometric skips), 2: exact outcomes */
    double replay_ns;          /* LLR: from the end of a failed transmission to its resend */
    double node_latency_ns;    /* latency of the node in front of the link (switch), added per packet */
    double buffer_bytes;       /* queue capacity in front of the link; INFINITY: unbounded */
    int cut_through;           /* the node in front forwards from the first available bit */
    /* derived by pl_path_init from the fields above */
    double ns_per_byte;        /* 8 / rate_gbps */
    double bytes_per_ns;       /* rate_gbps / 8 */
    double bits_per_ns;        /* rate_gbps */
    double inv_codeword_bits;  /* 1 / codeword_bits, or 0 */
    double log1m_cwer;         /* log(1 - cwer): -0.0 for an error-free link, -inf for cwer = 1 */
} pl_link;

typedef struct {               /* per link, carried across calls */
    double free_at;            /* end of the link's last transmission (ns) */
    /* statistical mode: next_fail is the grid index of the next failed codeword (frames
     * without FEC: the transmission count), fail_bit its first bit, consumed counts frames;
     * exact mode: consumed counts touched codewords and next_fail is the count at which the
     * next failure sits, from fail_pos */
    int64_t consumed;
    int64_t last_codeword;     /* exact: grid index of the last codeword touched (-1: none) */
    int last_failed;           /* exact: did that codeword fail? */
    int64_t next_fail;
    double fail_bit;
    const int64_t *fail_pos;   /* exact mode: failure positions (touched-codeword counts), sorted */
    int64_t n_fail_pos, fail_idx;
    int64_t known;             /* exact mode: outcomes are known for counts < known */
    /* statistics */
    uint64_t packets;          /* packets offered to the queue in front of the link */
    uint64_t tail_drops;
    uint64_t transmissions;    /* including LLR resends */
    uint64_t failed_transmissions;
    uint64_t retries;          /* LLR resends */
    uint64_t lost_corrupted;   /* packets that left this link corrupted for good */
    double wait_sum, wait_max; /* queueing wait in front of the link */
    double busy_ns;            /* time the link spent sending (resends and replay gaps included) */
    double service_sum;        /* serialisation time of packets sent (once per packet) */
    int range_error;           /* a codeword index reached PL_LINK_MAX_INDEX */
} pl_link_state;

#define PL_NEVER INT64_MAX
#define PL_HIST_LO (1.0 / (double)(1LL << -PL_HIST_MIN_EXP))
#define PL_HIST_BASE ((int64_t)(1023 + PL_HIST_MIN_EXP) << PL_HIST_SUB_BITS)
#define PL_IPDV_BASE ((int64_t)(1023 + PL_HIST_MIN_EXP) << PL_IPDV_SUB_BITS)

/* Bucket of x >= 0: the top bits of its IEEE 754 pattern (exponent and sub_bits of mantissa). */
static inline int64_t pl_hist_bucket(double x)
{
    uint64_t b;
    int64_t i;
    if (!(x >= PL_HIST_LO)) return 0;
    memcpy(&b, &x, sizeof b);
    i = (int64_t)(b >> (52 - PL_HIST_SUB_BITS)) - PL_HIST_BASE;
    return i < PL_HIST_BUCKETS ? i : PL_HIST_BUCKETS - 1;
}

static inline int64_t pl_ipdv_bucket(double x)
{
    uint64_t b;
    int64_t i;
    memcpy(&b, &x, sizeof b);
    i = (int64_t)(b >> (52 - PL_IPDV_SUB_BITS)) - PL_IPDV_BASE;
    return i < PL_IPDV_BUCKETS ? i : PL_IPDV_BUCKETS - 1;
}

/* floor and ceil of x >= 0 without a libm call, saturating at PL_LINK_MAX_INDEX (also for NaN
 * and inf, which must never reach a float-to-integer conversion) and flagging it */
static inline int64_t pl_floor_i64(double x, int *range_error)
{
    if (!(x < (double)PL_LINK_MAX_INDEX)) {
        *range_error = 1;
        return PL_LINK_MAX_INDEX;
    }
    return x > 0.0 ? (int64_t)x : 0;
}

static inline int64_t pl_ceil_i64(double x, int *range_error)
{
    int64_t i = pl_floor_i64(x, range_error);
    return i + (i < PL_LINK_MAX_INDEX && (double)i < x);
}

/* Good codewords before the next failed one: floor(log U / log(1 - p)), U uniform in (0, 1]. */
static inline int64_t pl_geometric_skip(bitgen_t *rng, double log1m_cwer)
{
    double u = 1.0 - rng->next_double(rng->state);
    double k = floor(log(u) / log1m_cwer);
    return k < 4e18 ? (int64_t)k : (int64_t)4e18;   /* also catches NaN */
}

static inline int64_t pl_after_skip(int64_t index, int64_t skip)
{
    return index > PL_NEVER - 2 - skip ? PL_NEVER : index + 1 + skip;
}

/* Statistical mode: is a transmission of `bytes` bytes starting at `start` on link L hit?
 *
 * Codewords form a fixed grid in the link's payload bit stream (idle time carries codewords
 * too) and fail independently with probability cwer; s->next_fail is the grid index of the next
 * failed codeword not yet passed, drawn by geometric skips, and s->fail_bit its first bit. A
 * transmission that ends before that bit costs one comparison. A failed codeword is kept until
 * the stream has passed it, so a codeword shared by two packets corrupts both. Without FEC each
 * transmission is one trial. */
static inline int pl_touch_statistical(const pl_link *L, pl_link_state *s, bitgen_t *rng,
                                    double start, double bytes)
{
    double p0, p1;
    int64_t a, b;
    int fail = 0, walked = 0;
    if (L->inv_codeword_bits == 0.0) {
        int64_t i = s->consumed++;
        if (i < s->next_fail) return 0;
        s->next_fail = pl_after_skip(i, pl_geometric_skip(rng, L->log1m_cwer));
        return 1;
    }
    p0 = start * L->bits_per_ns;
    p1 = p0 + 8.0 * bytes;
    if (p1 <= s->fail_bit) return 0;
    a = pl_floor_i64(p0 * L->inv_codeword_bits, &s->range_error);
    b = pl_ceil_i64(p1 * L->inv_codeword_bits, &s->range_error) - 1;
    if (b < a) b = a;
    while (s->next_fail <= b) {
        if (s->next_fail >= a) {
            fail = 1;
            if (s->next_fail == b) break;      /* the next packet may share it */
        }
        if (++walked > PL_LINK_MAX_WALK) {
            /* the failures still to pass up to `from` cannot matter: redraw from there */
            const int64_t from = fail ? b : a;
            if (s->next_fail < from) {
                s->next_fail = pl_after_skip(from - 1, pl_geometric_skip(rng, L->log1m_cwer));
                walked = 0;
                continue;
            }
        }
        s->next_fail = pl_after_skip(s->next_fail, pl_geometric_skip(rng, L->log1m_cwer));
    }
    s->fail_bit = (double)s->next_fail * L->codeword_bits;
    return fail;
}

/* Exact mode: the same question, with outcomes taken in order for the codewords transmissions
 * pl_touch (idle codewords cannot corrupt anything and use none): s->consumed counts touched
 * codewords, s->next_fail is the count at which the next failure sits (from fail_pos). */
static inline int pl_touch_exact(const pl_link *L, pl_link_state *s, double start, double bytes)
{
    int64_t n_new, end;
    int fail = 0, last = 0;
    if (L->inv_codeword_bits > 0.0) {
        double p0 = start * L->bits_per_ns;
        int64_t a = pl_floor_i64(p0 * L->inv_codeword_bits, &s->range_error);
        int64_t b = pl_ceil_i64((p0 + 8.0 * bytes) * L->inv_codeword_bits, &s->range_error) - 1;
        /* never more than the ceil(bits / codeword) + 1 codewords ready() has made sure of (far
         * from 0, rounding of the two products could add one) */
        const int64_t span = pl_ceil_i64(8.0 * bytes * L->inv_codeword_bits, &s->range_error);
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
        s->next_fail = s->fail_idx < s->n_fail_pos ? s->fail_pos[s->fail_idx] : PL_NEVER;
    }
    s->consumed = end;
    s->last_failed = last;
    return fail;
}

static inline int pl_touch(const pl_link *L, pl_link_state *s, bitgen_t *rng, double start,
                        double bytes)
{
    return L->errors == 1 ? pl_touch_statistical(L, s, rng, start, bytes) : pl_touch_exact(L, s, start, bytes);
}


enum { PL_HOP_ON = 0, PL_HOP_TAIL_DROP = 1, PL_HOP_DEAD = 2 };

/* One packet on link L (state s): its queue, its transmission (failures, LLR resends) and
 * where it goes. In: *t, when the packet is eligible in the
 * link's queue; *corrupt. Out: *t, when it is eligible in the queue of the next link N (N NULL:
 * L ends at the destination, and *t is its delivery time); *corrupt. max_retries < 0: no LLR;
 * else resends up to max_retries, counted into *llr_retries. Returns PL_HOP_ON,
 * PL_HOP_TAIL_DROP or PL_HOP_DEAD (corrupted, stopped at a store-and-forward node or at the
 * destination). */
static inline int pl_link_hop(const pl_link *L, pl_link_state *s, bitgen_t *rng, const pl_link *N,
                              int max_retries, uint64_t *llr_retries, double size, double *t,
                              int *corrupt)
{
    const double S = size * L->ns_per_byte;
    const double te = *t;
    double start, first, fin, wait, avail_first, avail_last;
    s->packets++;
    if (L->buffer_bytes < INFINITY) {
        /* occupancy: bytes accepted and not yet sent (the unfinished work at te) */
        double backlog = s->free_at > te ? (s->free_at - te) * L->bytes_per_ns : 0.0;
        if (backlog + size > L->buffer_bytes) {
            s->tail_drops++;
            return PL_HOP_TAIL_DROP;
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
        int bad = pl_touch(L, s, rng, start, size);
        if (bad) {
            s->failed_transmissions++;
            if (max_retries >= 0) {
                int r = 0;
                while (bad && r < max_retries) {
                    r++;
                    start = fin + L->replay_ns;   /* the link carries nothing useful meanwhile */
                    fin = start + S;
                    bad = pl_touch(L, s, rng, start, size);
                    s->transmissions++;
                    s->failed_transmissions += (uint64_t)bad;
                }
                s->retries += (uint64_t)r;
                *llr_retries += (uint64_t)r;
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
    if (!N) {
        *t = avail_last;
        return *corrupt ? PL_HOP_DEAD : PL_HOP_ON;
    }
    if (N->cut_through) {
        /* forward from the first decoded bit, but never run out of bits on a faster link;
         * a corrupted frame is already on its way (stomped) and travels on */
        double no_underrun = avail_last - size * N->ns_per_byte;
        *t = (avail_first > no_underrun ? avail_first : no_underrun) + N->node_latency_ns;
        return PL_HOP_ON;
    }
    if (*corrupt) return PL_HOP_DEAD;   /* the frame check fails at the store-and-forward node */
    *t = avail_last + N->node_latency_ns;
    return PL_HOP_ON;
}

static inline int pl_finite_nonneg(double x) { return x >= 0.0 && x < INFINITY; }
static inline int pl_finite_pos(double x) { return x > 0.0 && x < INFINITY; }

/* The derived fields of a link from its inputs; PL_EINVAL (link unchanged) when an input is out
 * of range or a derived value is not finite. */
static inline int pl_link_derive_fields(pl_link *L)
{
    pl_link d;
    if (!L || L->errors < 0 || L->errors > 2 || !pl_finite_pos(L->rate_gbps) || !pl_finite_nonneg(L->fixed_ns)
        || !pl_finite_nonneg(L->hold_ns) || !pl_finite_nonneg(L->codeword_bits)
        || !(L->cwer >= 0.0 && L->cwer <= 1.0) || !pl_finite_nonneg(L->replay_ns)
        || !pl_finite_nonneg(L->node_latency_ns) || !(L->buffer_bytes > 0.0))
        return PL_EINVAL;
    d = *L;
    d.ns_per_byte = 8.0 / L->rate_gbps;
    d.bytes_per_ns = L->rate_gbps / 8.0;
    d.bits_per_ns = L->rate_gbps;
    d.inv_codeword_bits = L->codeword_bits != 0.0 ? 1.0 / L->codeword_bits : 0.0;
    d.log1m_cwer = L->cwer < 1.0 ? log1p(-L->cwer) : -INFINITY;
    if (!pl_finite_pos(d.ns_per_byte) || !pl_finite_pos(d.bytes_per_ns) || !pl_finite_nonneg(d.inv_codeword_bits)
        || (d.codeword_bits == 0.0) != (d.inv_codeword_bits == 0.0) || !(d.log1m_cwer <= 0.0))
        return PL_EINVAL;
    *L = d;
    return PL_OK;
}

/* A link's state at the start of a run: idle, statistics zero, the first failure of a
 * statistical link drawn from rng (which must then be non-NULL: PL_EINVAL otherwise). */
static inline int pl_link_state_reset(const pl_link *L, pl_link_state *s, bitgen_t *rng)
{
    memset(s, 0, sizeof *s);
    s->free_at = -INFINITY;
    s->last_codeword = -1;
    s->next_fail = PL_NEVER;
    s->fail_bit = INFINITY;
    s->fail_pos = NULL;
    if (L->errors == 1) {
        if (!rng) return PL_EINVAL;
        s->next_fail = pl_geometric_skip(rng, L->log1m_cwer);
        s->fail_bit = (double)s->next_fail * L->codeword_bits;
    }
    return PL_OK;
}

/* Delivery statistics kept the same way by the path and fabric states (any state struct with
 * the fields named here). IPDV: RFC 3393 delay variation d, its sign chosen without a branch
 * (random signs defeat the predictor); batches: means of batch_len consecutive latencies. */
#define PL_RECORD_IPDV(st, d) do {                                                   \
        const double d_ = (d), a_ = fabs(d_);                                        \
        uint64_t *h_ = d_ > 0 ? (st)->ipdv_pos : (st)->ipdv_neg;                     \
        (st)->ipdv_min = d_ < (st)->ipdv_min ? d_ : (st)->ipdv_min;                  \
        (st)->ipdv_max = d_ > (st)->ipdv_max ? d_ : (st)->ipdv_max;                  \
        if (a_ < PL_HIST_LO) (st)->ipdv_zero++;                                      \
        else h_[pl_ipdv_bucket(a_)]++;                                               \
    } while (0)

#define PL_ADD_TO_BATCH(st, x) do {                                                  \
        (st)->batch_sum += (x);                                                      \
        if (++(st)->batch_count == (st)->batch_len) {                                \
            if ((st)->n_batches < (st)->batch_cap)                                   \
                (st)->batch_means[(st)->n_batches++] = (st)->batch_sum / (double)(st)->batch_len; \
            (st)->batch_sum = 0.0;                                                   \
            (st)->batch_count = 0;                                                   \
        }                                                                            \
    } while (0)

/* Hand an exact-mode link its next block of codeword outcomes: the failed codeword indices
 * fail_pos (strictly increasing, not before the codewords already consumed, below known), valid
 * up to codeword `known`. The caller keeps fail_pos alive until the next refill. */
static inline int pl_link_refill(const pl_link *L, pl_link_state *s, const int64_t *fail_pos,
                                 int64_t n_fail_pos, int64_t known)
{
    if (L->errors != 2 || n_fail_pos < 0 || (n_fail_pos > 0 && !fail_pos) || known < s->known
        || (n_fail_pos > 0 && (fail_pos[0] < s->consumed || fail_pos[n_fail_pos - 1] >= known)))
        return PL_EINVAL;
    for (int64_t i = 1; i < n_fail_pos; i++)
        if (fail_pos[i] <= fail_pos[i - 1]) return PL_EINVAL;
    s->fail_pos = fail_pos;
    s->n_fail_pos = n_fail_pos;
    s->fail_idx = 0;
    s->next_fail = n_fail_pos > 0 ? fail_pos[0] : PL_NEVER;
    s->known = known;
    return PL_OK;
}

#endif
