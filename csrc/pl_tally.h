/* Error tallies shared by the symbol-stream kernels: counts, burst histogram, error positions.
 *
 * Rules: a symbol is counted when its index lies in the call's range; a burst (run of
 * consecutive symbol errors) belongs to the call that holds its first symbol and is followed
 * to its end within the chunk, so any split of a run into calls gives the same totals.
 */
#ifndef PL_TALLY_H
#define PL_TALLY_H

#include <stdint.h>

typedef struct {
    uint64_t symbols;         /* OUT: symbols counted */
    uint64_t symbol_errors;   /* OUT */
    uint64_t bit_errors;      /* OUT */
    uint64_t cycle_slips;     /* OUT: carrier-phase quadrant slips (coherent kernels only) */
    uint64_t *burst_hist;     /* IN/OUT, caller-zeroed: [i] counts runs of i+1 consecutive
                                 symbol errors; the last bin counts runs of n_burst_bins or more */
    int n_burst_bins;
    int64_t *error_index;     /* OUT, optional (NULL): chunk offset + index of each errored symbol */
    uint16_t *error_bits;     /* OUT, optional: sent XOR decided label of each errored symbol */
    int64_t error_capacity;   /* IN: room in error_index / error_bits */
    int64_t n_errors_stored;  /* OUT */
} pl_error_tally;

static inline unsigned pl_gray(unsigned s) { return s ^ (s >> 1); }

static inline unsigned pl_popcount16(unsigned x)
{
    x = x - ((x >> 1) & 0x5555u);
    x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
    x = (x + (x >> 4)) & 0x0f0fu;
    return (x + (x >> 8)) & 0x1fu;
}

static inline int pl_log2_int(int v)
{
    int b = 0;
    while ((1 << b) < v) b++;
    return b;
}

typedef struct {
    pl_error_tally *t;
    int64_t run;              /* length of the current run of symbol errors */
    int run_counted;          /* did the current run start inside the counted range? */
    int overflow;             /* error_index was too small */
} pl_tally_state;

static inline void pl_close_run(pl_tally_state *ts)
{
    if (ts->run > 0 && ts->run_counted) {
        int64_t bin = ts->run < ts->t->n_burst_bins ? ts->run - 1 : ts->t->n_burst_bins - 1;
        ts->t->burst_hist[bin]++;
    }
    ts->run = 0;
}

/* A counted symbol error: xr (non-zero) is sent XOR decided label. Bursts are not touched. */
static inline void pl_record_error(pl_tally_state *ts, unsigned xr, int64_t index)
{
    pl_error_tally *t = ts->t;
    t->symbol_errors++;
    t->bit_errors += pl_popcount16(xr);
    if (t->error_index) {
        if (t->n_errors_stored < t->error_capacity) {
            t->error_index[t->n_errors_stored] = index;
            t->error_bits[t->n_errors_stored] = (uint16_t)xr;
            t->n_errors_stored++;
        } else {
            ts->overflow = 1;
        }
    }
}

/* One symbol: xr is sent XOR decided label; in_range says whether it is counted. */
static inline void pl_tally_symbol(pl_tally_state *ts, unsigned xr, int in_range, int64_t index)
{
    if (in_range) {
        ts->t->symbols++;
        if (xr) pl_record_error(ts, xr, index);
    }
    if (xr) {
        if (ts->run == 0) ts->run_counted = in_range;
        ts->run++;
    } else if (ts->run > 0) {
        pl_close_run(ts);
    }
}

static inline int pl_tally_valid(const pl_error_tally *t)
{
    return t && t->burst_hist && t->n_burst_bins >= 1
           && (!t->error_index || (t->error_bits && t->error_capacity >= 0));
}

#endif
