/* Coherent QAM stream kernels: an AWGN fast path (each rail an independent PAM) and a general
 * path with laser phase noise, carrier-phase recovery and differential coding. */
#include "qam_stream.h"

#include <math.h>
#include <string.h>

#include "pl_slicer.h"

#define BLOCK 1024            /* noise samples per fill: 8 KiB, stays in L1 */
#define PL_PI 3.14159265358979323846
#define HALF_PI (0.5 * PL_PI)

static inline unsigned gray_inverse(unsigned g)
{
    g ^= g >> 1;
    g ^= g >> 2;
    g ^= g >> 4;
    return g;
}

/* Bit i set when |x[i]| >= thr, for len <= 64 samples. */
#if defined(__SSE2__)
#include <emmintrin.h>
static inline uint64_t candidate_mask(const double *x, int len, double thr)
{
    const __m128d abs_mask = _mm_castsi128_pd(_mm_set1_epi64x(0x7fffffffffffffffLL));
    const __m128d t = _mm_set1_pd(thr);
    uint64_t m0 = 0, m1 = 0;
    int i = 0;
    for (; i + 4 <= len; i += 4) {
        const __m128d a = _mm_and_pd(_mm_loadu_pd(x + i), abs_mask);
        const __m128d b = _mm_and_pd(_mm_loadu_pd(x + i + 2), abs_mask);
        m0 |= (uint64_t)_mm_movemask_pd(_mm_cmpge_pd(a, t)) << i;
        m1 |= (uint64_t)_mm_movemask_pd(_mm_cmpge_pd(b, t)) << (i + 2);
    }
    for (; i < len; i++) m0 |= (uint64_t)(fabs(x[i]) >= thr) << i;
    return m0 | m1;
}
#else
static inline uint64_t candidate_mask(const double *x, int len, double thr)
{
    uint64_t m = 0;
    for (int i = 0; i < len; i++) m |= (uint64_t)(fabs(x[i]) >= thr) << i;
    return m;
}
#endif

/* Index of the lowest set bit of a non-zero word. */
static inline int lowest_bit(uint64_t m)
{
#if defined(__GNUC__)
    return __builtin_ctzll(m);
#else
    int b = 0;
    while (!(m & 1u)) { m >>= 1; b++; }
    return b;
#endif
}

/* ---- AWGN fast path ----
 * A block holds BLOCK rail samples: BLOCK / rails symbols, rails in label order. A rail can only
 * be decided wrongly when its noise reaches half the level spacing, so after the normal fill one
 * vectorised pass flags those rails and only they are sliced. Blocks that straddle the counted
 * range take the dense path, which slices every rail with the same arithmetic, so the counts do
 * not depend on where a run is split. */
typedef struct {
    int levels, bits, rails, rail_shift, per_block, per_word, word_shift;
    uint64_t mask;
    double half_sigma, top, threshold;
} awgn_plan;

static inline unsigned rail_symbol(const awgn_plan *ap, const uint64_t *words, int i)
{
    if (ap->word_shift >= 0)          /* 1, 2 or 4 bits: 64, 32 or 16 rails per word */
        return (unsigned)((words[i >> ap->word_shift] >> ((i & (ap->per_word - 1)) * ap->bits)) & ap->mask);
    return (unsigned)((words[i / ap->per_word] >> ((i % ap->per_word) * ap->bits)) & ap->mask);
}

/* Gray label of (decided XOR sent) for rail sample i of level index s. */
static inline unsigned rail_error(const awgn_plan *ap, unsigned s, double noise)
{
    /* Level s sits at 2s - top; the slicer index is floor(s + 1/2 + noise sigma / 2). */
    double q = ((double)s + 0.5) + ap->half_sigma * noise;
    q = q < 0.0 ? 0.0 : q;
    q = q > ap->top ? ap->top : q;
    unsigned d = (unsigned)(uint8_t)q ^ s;
    return d ^ (d >> 1);                  /* gray(dec) ^ gray(sent) = gray(dec ^ sent) */
}

static void stream_awgn(const pl_qam_config *cfg, bitgen_t *rng, int64_t n,
                        int64_t from, int64_t to, int64_t offset, pl_tally_state *ts)
{
    awgn_plan ap;
    ap.levels = 1 << (pl_log2_int(cfg->m) / 2);
    ap.bits = pl_log2_int(ap.levels);
    ap.rails = 2 * cfg->polarizations;
    ap.per_block = BLOCK / ap.rails;
    ap.per_word = 64 / ap.bits;
    ap.word_shift = 64 % ap.bits ? -1 : pl_log2_int(ap.per_word);
    ap.rail_shift = pl_log2_int(ap.rails);
    ap.mask = (uint64_t)ap.levels - 1u;
    ap.half_sigma = 0.5 * cfg->noise_sigma;
    ap.top = (double)(ap.levels - 1);
    /* |noise| below this cannot move a sample across a threshold (margin for rounding). */
    ap.threshold = cfg->noise_sigma > 0.0 ? (1.0 - 1e-9) / cfg->noise_sigma : INFINITY;
    const int rails = ap.rails, bits = ap.bits;
    double noise[BLOCK];
    uint64_t words[BLOCK + 1];
    int32_t err_sym[BLOCK];
    uint16_t err_label[BLOCK];
    uint64_t mask[BLOCK / 64 + 1];
    pl_error_tally *t = ts->t;

    for (int64_t k0 = 0; k0 < n; k0 += ap.per_block) {
        if (k0 >= to && ts->run == 0) break;
        const int ns = (int)(n - k0 < ap.per_block ? n - k0 : ap.per_block);
        const int nr = ns * rails;
        random_standard_normal_fill(rng, nr, noise);
        const int nw = (nr + ap.per_word - 1) / ap.per_word;
        for (int w = 0; w < nw; w++) words[w] = rng->next_uint64(rng->state);

        if (!(k0 >= from && k0 + ns <= to)) {
            /* Dense path: a block at the edge of the counted range. */
            for (int j = 0; j < ns; j++) {
                unsigned label = 0;
                for (int r = 0; r < rails; r++) {
                    const int i = j * rails + r;
                    label = (label << bits) | rail_error(&ap, rail_symbol(&ap, words, i), noise[i]);
                }
                const int64_t k = k0 + j;
                pl_tally_symbol(ts, label, k >= from && k < to, offset + k);
            }
            continue;
        }

        /* Flag the rails whose noise could cross a threshold, 64 to a mask word; then slice
         * those rails only and collect the errored symbols in order, merging the rails of one
         * symbol. */
        const int n_masks = (nr + 63) / 64;
        uint64_t any = 0;
        for (int g = 0; g < n_masks; g++) {
            const int len = nr - 64 * g < 64 ? nr - 64 * g : 64;
            mask[g] = candidate_mask(noise + 64 * g, len, ap.threshold);
            any |= mask[g];
        }
        t->symbols += (uint64_t)ns;
        if (!any && ts->run == 0) continue;

        int n_err = 0;
        for (int g = 0; g < n_masks; g++) {
            for (uint64_t mk = mask[g]; mk; mk &= mk - 1) {
                const int i = 64 * g + lowest_bit(mk);
                const unsigned xr = rail_error(&ap, rail_symbol(&ap, words, i), noise[i]);
                if (!xr) continue;
                const int j = i >> ap.rail_shift;
                const unsigned shifted = xr << (bits * (rails - 1 - (i & (rails - 1))));
                if (n_err > 0 && err_sym[n_err - 1] == j) {
                    err_label[n_err - 1] |= (uint16_t)shifted;
                } else {
                    err_sym[n_err] = j;
                    err_label[n_err] = (uint16_t)shifted;
                    n_err++;
                }
            }
        }

        /* Counts, error records and bursts from the sparse list. */
        int last = -1;
        for (int e = 0; e < n_err; e++) {
            const int j = err_sym[e];
            pl_record_error(ts, err_label[e], offset + k0 + j);
            if (ts->run > 0 && j != last + 1) pl_close_run(ts);
            if (ts->run == 0) ts->run_counted = 1;
            ts->run++;
            last = j;
        }
        if (ts->run > 0 && last != ns - 1) pl_close_run(ts);
    }
}

/* ---- general path: phase noise, carrier recovery, differential coding ---- */

/* Quadrant (0: I>0,Q>0; counter-clockwise) of a point from its rail sign bits (I-MSB, Q-MSB). */
static const unsigned QUAD_OF_SIGNS[4] = {2, 1, 3, 0};
static const unsigned SIGNS_OF_QUAD[4] = {3, 1, 0, 2};

typedef struct { unsigned i, q; } point;   /* rail level indices 0 .. L-1 */

/* Rotate by +90 deg (I, Q) -> (-Q, I), k times; k taken mod 4. */
static inline point rotate(point p, int k, unsigned top)
{
    for (int j = 0; j < (k & 3); j++) {
        point r = {top - p.q, p.i};
        p = r;
    }
    return p;
}

static int ring_size(int window)
{
    int r = 1;
    while (r < window + 1) r <<= 1;
    return r;
}

static int metric_width(const pl_qam_config *cfg)
{
    return cfg->cpr == PL_CPR_BPS ? cfg->test_phases : cfg->cpr == PL_CPR_VV ? 2 : 0;
}

int64_t pl_qam_workspace(const pl_qam_config *cfg)
{
    if (!cfg) return -1;
    if (cfg->m != 4 && cfg->m != 16 && cfg->m != 64 && cfg->m != 256) return -1;
    if (cfg->polarizations != 1 && cfg->polarizations != 2) return -1;
    if (cfg->cpr != PL_CPR_NONE && cfg->cpr != PL_CPR_VV && cfg->cpr != PL_CPR_BPS) return -1;
    if (cfg->cpr != PL_CPR_NONE
        && (cfg->window < 1 || cfg->window > PL_QAM_MAX_WINDOW || cfg->window % 2 == 0))
        return -1;
    if (cfg->cpr == PL_CPR_BPS && (cfg->test_phases < 1 || cfg->test_phases > PL_QAM_MAX_TEST_PHASES))
        return -1;
    if (cfg->pilot_period != 0
        && (cfg->pilot_period < 2 || cfg->pilot_period > PL_QAM_MAX_PILOT_PERIOD || cfg->cpr == PL_CPR_NONE
            || cfg->differential || cfg->pilot_average < 1 || cfg->pilot_average > PL_QAM_MAX_PILOT_AVERAGE))
        return -1;
    const int64_t pilots = cfg->pilot_period ? 2 * (int64_t)cfg->pilot_average + 2 : 0;
    const int64_t ring = ring_size(cfg->cpr ? cfg->window : 1);
    const int64_t width = metric_width(cfg);
    const int64_t pol = cfg->polarizations;
    const int64_t table = cfg->cpr == PL_CPR_BPS ? 2 * (int64_t)cfg->test_phases : 0;
    /* per polarisation: metric ring, running sums, received ring (2), label ring; theta ring;
     * test-phase cos/sin table */
    return pol * (ring * width + width + 3 * ring + pilots) + ring + table + 1;
}

typedef struct {
    double *metric;       /* ring x width */
    double *sum;          /* width */
    double *rx;           /* ring x 2 */
    double *label;        /* ring: sent data label (exact small integers) */
    int unwrap;           /* quadrant count u: estimate = raw + u pi/2 */
    double raw_prev;      /* previous raw estimate in [-pi/4, pi/4] */
    int slip_quadrant;    /* round((estimate - true phase) / (pi/2)) of the previous symbol */
    unsigned tx_quadrant; /* differential coding state */
    unsigned rx_quadrant;
    double *pilot_ring;   /* pilot_average complex residuals (re, im) of the last pilots */
    double *pilot_sum;    /* their sum (re, im) */
    int pilots_seen;      /* pilots entered so far (the ring is full at pilot_average) */
}
pol_state;

/* Rotate (re, im) by -k pi/2 in place. */
static inline void rotate_back(double *z, int k)
{
    const double a = z[0], b = z[1];
    switch (k & 3) {
    case 1: z[0] = b;  z[1] = -a; break;
    case 2: z[0] = -a; z[1] = -b; break;
    case 3: z[0] = -b; z[1] = a;  break;
    default: break;
    }
}

/* Pilot-aided slip correction at a pilot: enter the pilot's residual phasor (received sample
 * times the pilot's conjugate, rotated back by the full estimate est) into the running average;
 * return the quadrants k by which the estimate has slipped (0 when the average's angle is within
 * [-pi/4, pi/4]) and rotate the stored residuals by -k pi/2, i.e. onto the corrected estimate. */
static int pilot_correction(pol_state *q, int average, double rr, double ri, double si, double sq,
                            double est)
{
    const double zr = rr * si + ri * sq, zi = ri * si - rr * sq;    /* r s* */
    const double c = cos(est), s = sin(est);
    double *slot = q->pilot_ring + 2 * (q->pilots_seen % average);
    if (q->pilots_seen >= average) {
        q->pilot_sum[0] -= slot[0];
        q->pilot_sum[1] -= slot[1];
    }
    slot[0] = zr * c + zi * s;
    slot[1] = zi * c - zr * s;
    q->pilot_sum[0] += slot[0];
    q->pilot_sum[1] += slot[1];
    q->pilots_seen++;
    const double angle = atan2(q->pilot_sum[1], q->pilot_sum[0]);
    const int k = (int)floor(0.5 + angle / HALF_PI);
    if (k != 0) {
        const int held = q->pilots_seen < average ? q->pilots_seen : average;
        for (int j = 0; j < held; j++) rotate_back(q->pilot_ring + 2 * j, k);
        rotate_back(q->pilot_sum, k);
    }
    return k;
}

static void add_metric(const pl_qam_config *cfg, pol_state *ps, int slot, double rr, double ri,
                       const double *cs, double levels, double top)
{
    if (cfg->cpr == PL_CPR_VV) {
        const double x = rr * rr - ri * ri, y = 2.0 * rr * ri;      /* r^2 */
        double *mm = ps->metric + 2 * slot;
        mm[0] = x * x - y * y;                                    /* r^4 */
        mm[1] = 2.0 * x * y;
        ps->sum[0] += mm[0];
        ps->sum[1] += mm[1];
    } else if (cfg->cpr == PL_CPR_BPS) {
        const int nb = cfg->test_phases;
        double *mm = ps->metric + (int64_t)nb * slot;
        double *sum = ps->sum;
        const double *c = cs, *s = cs + nb;
        for (int b = 0; b < nb; b++) {
            const double yr = rr * c[b] + ri * s[b];
            const double yi = ri * c[b] - rr * s[b];
            const double di = yr - (2.0 * (double)pl_slice(yr, levels, top) - top);
            const double dq = yi - (2.0 * (double)pl_slice(yi, levels, top) - top);
            const double d = di * di + dq * dq;
            mm[b] = d;
            sum[b] += d;
        }
    }
}

static void remove_metric(const pl_qam_config *cfg, pol_state *ps, int slot)
{
    const int width = metric_width(cfg);
    const double *mm = ps->metric + (int64_t)width * slot;
    for (int b = 0; b < width; b++) ps->sum[b] -= mm[b];
}

static void stream_general(const pl_qam_config *cfg, bitgen_t *rng, int64_t n, int64_t from,
                           int64_t to, int64_t offset, double *work, pl_tally_state *ts)
{
    const int levels_i = 1 << (pl_log2_int(cfg->m) / 2);
    const int bits = pl_log2_int(levels_i);
    const unsigned utop = (unsigned)levels_i - 1u;
    const double levels = (double)levels_i, top = (double)utop;
    const unsigned inner_mask = (unsigned)levels_i / 2u - 1u;
    const int pol = cfg->polarizations;
    const int cpr = cfg->cpr;
    const int window = cpr ? cfg->window : 1;
    const int half = window / 2;
    const int ring = ring_size(window);
    const int rmask = ring - 1;
    const int width = metric_width(cfg);
    const int nb = cfg->test_phases;
    const double sigma = cfg->noise_sigma;
    pl_error_tally *t = ts->t;

    pol_state ps[2];
    double *w = work;
    for (int p = 0; p < pol; p++) {
        ps[p].metric = w; w += (int64_t)ring * width;
        ps[p].sum = w; w += width;
        ps[p].rx = w; w += 2 * ring;
        ps[p].label = w; w += ring;
        memset(ps[p].sum, 0, sizeof(double) * (size_t)width);
        ps[p].pilot_ring = ps[p].pilot_sum = NULL;
        ps[p].pilots_seen = 0;
        if (cfg->pilot_period) {
            ps[p].pilot_ring = w; w += 2 * (int64_t)cfg->pilot_average;
            ps[p].pilot_sum = w; w += 2;
            ps[p].pilot_sum[0] = ps[p].pilot_sum[1] = 0.0;
        }
    }
    const int period = cfg->pilot_period;
    double *theta_ring = w; w += ring;
    double *cs = w;
    if (cpr == PL_CPR_BPS) {
        for (int b = 0; b < nb; b++) {
            const double phi = ((double)b / nb - 0.5) * HALF_PI;
            cs[b] = cos(phi);
            cs[nb + b] = sin(phi);
        }
    }

    pl_normal_pool np;
    np.left = 0;
    pl_bit_pool bp = {0, 0};
    /* With carrier recovery the carrier starts at a random phase, which a preamble (genie)
     * resolves: the unwrapping starts at the true phase. */
    double theta = cpr ? PL_PI * (2.0 * rng->next_double(rng->state) - 1.0) : 0.0;
    const double raw0 = theta - HALF_PI * floor(0.5 + theta / HALF_PI);
    for (int p = 0; p < pol; p++) {
        ps[p].unwrap = (int)floor(0.5 + theta / HALF_PI);
        ps[p].raw_prev = raw0;
        ps[p].slip_quadrant = 0;
        ps[p].tx_quadrant = ps[p].rx_quadrant = 0;
    }

    for (int64_t tn = 0; tn < n + half; tn++) {
        if (cpr && tn - window >= 0) {
            const int old = (int)((tn - window) & rmask);
            for (int p = 0; p < pol; p++) remove_metric(cfg, &ps[p], old);
        }
        if (tn < n) {
            const int slot = (int)(tn & rmask);
            if (tn > 0 && cfg->phase_sigma > 0.0) theta += cfg->phase_sigma * pl_draw_normal(&np, rng);
            theta_ring[slot] = theta;
            const double c = cos(theta), s = sin(theta);
            const int tx_pilot = period && tn % period == 0;
            for (int p = 0; p < pol; p++) {
                unsigned ui = pl_draw_bits(&bp, rng, bits), uq = pl_draw_bits(&bp, rng, bits);
                point pt;
                if (tx_pilot) {                 /* QPSK on the outer corners: the sign bits */
                    pt.i = (ui >> (bits - 1)) ? utop : 0u;
                    pt.q = (uq >> (bits - 1)) ? utop : 0u;
                    ui = pl_gray(pt.i);
                    uq = pl_gray(pt.q);
                } else if (cfg->differential) {
                    const unsigned inc = QUAD_OF_SIGNS[((ui >> (bits - 1)) << 1) | (uq >> (bits - 1))];
                    ps[p].tx_quadrant = (ps[p].tx_quadrant + inc) & 3u;
                    point first = {gray_inverse((1u << (bits - 1)) | (ui & inner_mask)),
                                   gray_inverse((1u << (bits - 1)) | (uq & inner_mask))};
                    pt = rotate(first, (int)ps[p].tx_quadrant, utop);
                } else {
                    pt.i = gray_inverse(ui);
                    pt.q = gray_inverse(uq);
                }
                const double si = 2.0 * pt.i - top, sq = 2.0 * pt.q - top;
                const double rr = si * c - sq * s + sigma * pl_draw_normal(&np, rng);
                const double ri = si * s + sq * c + sigma * pl_draw_normal(&np, rng);
                ps[p].rx[2 * slot] = rr;
                ps[p].rx[2 * slot + 1] = ri;
                ps[p].label[slot] = (double)((ui << bits) | uq);
                add_metric(cfg, &ps[p], slot, rr, ri, cs, levels, top);
            }
        }
        const int64_t m = tn - half;            /* the symbol decided now */
        if (m < 0) continue;
        if (m >= to && ts->run == 0) break;
        const int slot = (int)(m & rmask);
        const int in_range = m >= from && m < to;
        const int rx_pilot = period && m % period == 0;
        unsigned xr = 0;
        for (int p = 0; p < pol; p++) {
            pol_state *q = &ps[p];
            double rr = q->rx[2 * slot], ri = q->rx[2 * slot + 1];
            if (cpr) {
                double raw, c, s;
                if (cpr == PL_CPR_VV) {
                    /* QPSK points (+-1 +-j) have s^4 = -4: the 4th-power sum points at 4 theta + pi */
                    raw = 0.25 * atan2(-q->sum[1], -q->sum[0]);
                    c = cos(raw);
                    s = sin(raw);
                } else {
                    int best = 0;
                    for (int b = 1; b < nb; b++) if (q->sum[b] < q->sum[best]) best = b;
                    raw = ((double)best / nb - 0.5) * HALF_PI;
                    c = cs[best];
                    s = cs[nb + best];
                }
                q->unwrap += (int)floor(0.5 + (q->raw_prev - raw) / HALF_PI);
                q->raw_prev = raw;
                int repaired = 0;
                if (rx_pilot) {
                    const unsigned lab = (unsigned)q->label[slot];
                    const double si = 2.0 * gray_inverse(lab >> bits) - top;
                    const double sq = 2.0 * gray_inverse(lab & ((1u << bits) - 1u)) - top;
                    const int k = pilot_correction(q, cfg->pilot_average, rr, ri, si, sq,
                                                   raw + HALF_PI * q->unwrap);
                    q->unwrap += k;
                    repaired = k != 0;
                }
                const double yr = rr * c + ri * s, yi = ri * c - rr * s;
                rr = yr;
                ri = yi;
                const int quadrant = (int)floor(0.5 + (raw + HALF_PI * q->unwrap - theta_ring[slot]) / HALF_PI);
                if (quadrant != q->slip_quadrant) {
                    /* a pilot repair back onto the true quadrant is not a slip */
                    if (in_range && !(repaired && quadrant == 0)) t->cycle_slips++;
                    q->slip_quadrant = quadrant;
                }
            }
            point d = {(unsigned)pl_slice(rr, levels, top), (unsigned)pl_slice(ri, levels, top)};
            if (cpr) d = rotate(d, -q->unwrap, utop);       /* undo the unwrapped quadrants */
            unsigned label;
            if (cfg->differential) {
                const unsigned quad = QUAD_OF_SIGNS[((pl_gray(d.i) >> (bits - 1)) << 1) | (pl_gray(d.q) >> (bits - 1))];
                const point first = rotate(d, -(int)quad, utop);
                const unsigned signs = SIGNS_OF_QUAD[(quad - q->rx_quadrant) & 3u];
                q->rx_quadrant = quad;
                label = ((((signs >> 1) << (bits - 1)) | (pl_gray(first.i) & inner_mask)) << bits)
                        | (((signs & 1u) << (bits - 1)) | (pl_gray(first.q) & inner_mask));
            } else {
                label = (pl_gray(d.i) << bits) | pl_gray(d.q);
            }
            xr = (xr << (2 * bits)) | (label ^ (unsigned)q->label[slot]);
        }
        if (!rx_pilot) pl_tally_symbol(ts, xr, in_range, offset + m);
    }
}

int pl_qam_stream(const pl_qam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                  int64_t count_from, int64_t count_to, int64_t index_offset,
                  double *work, int64_t work_len, pl_error_tally *tally)
{
    const int64_t need = pl_qam_workspace(cfg);
    if (need < 0 || !rng || !pl_tally_valid(tally)) return PL_EINVAL;
    if (!(cfg->noise_sigma >= 0.0) || !(cfg->noise_sigma < INFINITY)) return PL_EINVAL;
    if (!(cfg->phase_sigma >= 0.0) || !(cfg->phase_sigma < INFINITY)) return PL_EINVAL;
    if (chunk_symbols < 0 || count_from < 0 || count_to < count_from || count_to > chunk_symbols)
        return PL_EINVAL;

    pl_tally_state ts = {tally, 0, 0, 0};
    const int plain = cfg->cpr == PL_CPR_NONE && cfg->phase_sigma == 0.0 && !cfg->differential;
    if (plain) {
        stream_awgn(cfg, rng, chunk_symbols, count_from, count_to, index_offset, &ts);
    } else {
        if (!work || work_len < need) return PL_EINVAL;
        stream_general(cfg, rng, chunk_symbols, count_from, count_to, index_offset, work, &ts);
    }
    pl_close_run(&ts);
    return ts.overflow ? PL_ENOMEM : PL_OK;
}
