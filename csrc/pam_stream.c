/* PAM-M stream kernels: an AWGN fast path and a general ISI/FFE/DFE/precoding path. */
#include "pam_stream.h"

#include <math.h>
#include <string.h>

#include "pl_slicer.h"

#define BLOCK 1024            /* noise samples per fill: 8 KiB, stays in L1 */
#define RING 256              /* history ring for the general path (> 2 * PL_MAX_TAPS) */
#define RING_MASK (RING - 1)

static int finite_taps(const double *taps, int n)
{
    for (int j = 0; j < n; j++)
        if (!(fabs(taps[j]) < INFINITY)) return 0;
    return 1;
}

/* AWGN only: vectorisable passes over blocks, a scalar pass only where errors are. */
static void stream_awgn(const pl_pam_config *cfg, bitgen_t *rng, int64_t n,
                        int64_t from, int64_t to, int64_t offset, pl_tally_state *ts)
{
    const int levels = cfg->levels;
    const int bits = pl_log2_int(levels);
    const int per_word = 64 / bits;
    const unsigned mask = (unsigned)levels - 1u;
    const double sigma = cfg->noise_sigma;
    const double top = (double)(levels - 1);
    double noise[BLOCK];
    uint8_t sym[BLOCK + 64];
    uint8_t dec[BLOCK];
    pl_error_tally *t = ts->t;

    for (int64_t i0 = 0; i0 < n; i0 += BLOCK) {
        if (i0 >= to && ts->run == 0) break;
        const int nb = (int)(n - i0 < BLOCK ? n - i0 : BLOCK);
        random_standard_normal_fill(rng, nb, noise);
        for (int w = 0; w < nb; w += per_word) {
            uint64_t u = rng->next_uint64(rng->state);
            for (int j = 0; j < per_word; j++) {
                sym[w + j] = (uint8_t)(u & mask);
                u >>= bits;
            }
        }
        for (int i = 0; i < nb; i++) {
            double x = (2.0 * sym[i] - top) + sigma * noise[i];
            dec[i] = (uint8_t)pl_slice(x, levels, top);
        }
        unsigned n_err = 0, n_bit = 0;
        for (int i = 0; i < nb; i++) {
            unsigned xr = (unsigned)((dec[i] ^ (dec[i] >> 1)) ^ (sym[i] ^ (sym[i] >> 1)));
            dec[i] = (uint8_t)xr;
            n_err += xr != 0;
            n_bit += pl_popcount16(xr);
        }
        const int whole = i0 >= from && i0 + nb <= to;
        if (whole && n_err == 0 && ts->run == 0) {
            t->symbols += (uint64_t)nb;
            continue;
        }
        if (whole && t->error_index == NULL) {
            /* Counts in bulk; walk the block only to follow bursts. */
            t->symbols += (uint64_t)nb;
            t->symbol_errors += n_err;
            t->bit_errors += n_bit;
            for (int i = 0; i < nb; i++) {
                if (dec[i]) {
                    if (ts->run == 0) ts->run_counted = 1;
                    ts->run++;
                } else if (ts->run > 0) {
                    pl_close_run(ts);
                }
            }
            continue;
        }
        for (int i = 0; i < nb; i++) {
            const int64_t k = i0 + i;
            pl_tally_symbol(ts, dec[i], k >= from && k < to, offset + k);
        }
    }
}

/* Channel, FFE, DFE and precoding: one symbol at a time through short histories. */
static void stream_general(const pl_pam_config *cfg, bitgen_t *rng, int64_t n,
                           int64_t from, int64_t to, int64_t offset, pl_tally_state *ts)
{
    const int levels = cfg->levels;
    const int bits = pl_log2_int(levels);
    const unsigned mask = (unsigned)levels - 1u;
    const double top = (double)(levels - 1);
    const double inv_gain = 1.0 / cfg->slicer_gain;
    const int delay = cfg->delay;
    /* Warm-up fills every history with real symbols before the first counted one. */
    const int64_t warm = (int64_t)cfg->n_channel + cfg->n_ffe + cfg->n_dfe + delay + 1;
    const int64_t total = warm + n + delay;

    double a[RING], r[RING], fb[RING];
    uint8_t s[RING];
    pl_normal_pool np;
    pl_bit_pool bp = {0, 0};
    unsigned p_prev = 0, p_hat_prev = 0;
    memset(a, 0, sizeof a);
    memset(r, 0, sizeof r);
    memset(fb, 0, sizeof fb);
    memset(s, 0, sizeof s);
    np.left = 0;

    for (int64_t t_n = 0; t_n < total; t_n++) {
        const int idx = (int)(t_n & RING_MASK);
        const unsigned data = pl_draw_bits(&bp, rng, bits);
        const unsigned p = cfg->precode ? (data - p_prev) & mask : data;
        p_prev = p;
        s[idx] = (uint8_t)data;
        a[idx] = 2.0 * p - top;

        double rx = cfg->noise_sigma * pl_draw_normal(&np, rng);
        if (cfg->channel) {
            for (int j = 0; j < cfg->n_channel; j++) rx += cfg->channel[j] * a[(t_n - j) & RING_MASK];
        } else {
            rx += a[idx];
        }
        r[idx] = rx;
        double y = rx;
        if (cfg->ffe) {
            y = 0.0;
            for (int j = 0; j < cfg->n_ffe; j++) y += cfg->ffe[j] * r[(t_n - j) & RING_MASK];
        }

        const int64_t m = t_n - delay;         /* the symbol decided now */
        if (m < 0) continue;
        const int mi = (int)(m & RING_MASK);
        for (int j = 0; j < cfg->n_dfe; j++) y -= cfg->dfe[j] * fb[(m - 1 - j) & RING_MASK];
        const unsigned p_hat = (unsigned)pl_slice(y * inv_gain, levels, top);
        fb[mi] = cfg->ideal_feedback ? a[mi] : 2.0 * p_hat - top;
        const unsigned d_hat = cfg->precode ? (p_hat + p_hat_prev) & mask : p_hat;
        p_hat_prev = p_hat;
        if (m < warm) continue;
        const int64_t k = m - warm;
        if (k >= n || (k >= to && ts->run == 0)) break;
        pl_tally_symbol(ts, pl_gray(d_hat) ^ pl_gray(s[mi]), k >= from && k < to, offset + k);
    }
}

int pl_pam_stream(const pl_pam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                  int64_t count_from, int64_t count_to, int64_t index_offset,
                  pl_error_tally *tally)
{
    if (!cfg || !rng || !pl_tally_valid(tally)) return PL_EINVAL;
    if (cfg->levels < 2 || cfg->levels > PL_MAX_LEVELS || (cfg->levels & (cfg->levels - 1)))
        return PL_EINVAL;
    if (!(cfg->noise_sigma >= 0.0 && cfg->noise_sigma < INFINITY)) return PL_EINVAL;
    if (!(cfg->slicer_gain > 0.0 && 1.0 / cfg->slicer_gain < INFINITY)) return PL_EINVAL;
    if (cfg->n_channel < 0 || cfg->n_channel > PL_MAX_TAPS || (cfg->n_channel > 0 && !cfg->channel))
        return PL_EINVAL;
    if (cfg->n_ffe < 0 || cfg->n_ffe > PL_MAX_TAPS || (cfg->n_ffe > 0 && !cfg->ffe)) return PL_EINVAL;
    if (cfg->n_dfe < 0 || cfg->n_dfe > PL_MAX_TAPS || (cfg->n_dfe > 0 && !cfg->dfe)) return PL_EINVAL;
    if (cfg->delay < 0 || cfg->delay > 2 * PL_MAX_TAPS) return PL_EINVAL;
    if (!finite_taps(cfg->channel, cfg->channel ? cfg->n_channel : 0) || !finite_taps(cfg->ffe, cfg->ffe ? cfg->n_ffe : 0)
        || !finite_taps(cfg->dfe, cfg->dfe ? cfg->n_dfe : 0))
        return PL_EINVAL;
    if (chunk_symbols < 0 || count_from < 0 || count_to < count_from || count_to > chunk_symbols)
        return PL_EINVAL;

    pl_tally_state ts = {tally, 0, 0, 0};
    const int plain = !cfg->channel && !cfg->ffe && !cfg->dfe && !cfg->precode && cfg->delay == 0
                      && cfg->slicer_gain == 1.0;
    if (plain)
        stream_awgn(cfg, rng, chunk_symbols, count_from, count_to, index_offset, &ts);
    else
        stream_general(cfg, rng, chunk_symbols, count_from, count_to, index_offset, &ts);
    pl_close_run(&ts);
    return ts.overflow ? PL_ENOMEM : PL_OK;
}
