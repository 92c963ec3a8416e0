/* PAM-M symbol streams through noise, inter-symbol interference and equalisers.
 *
 * One call simulates one chunk: a self-contained run of symbols drawn from one bit
 * generator. Chunks never share state, so a long run split into chunks gives the same
 * counts whatever the thread count or the way the chunks are grouped into calls.
 */
#ifndef PL_PAM_STREAM_H
#define PL_PAM_STREAM_H

#include <stdint.h>
#include "pl_random.h"
#include "pl_status.h"
#include "pl_tally.h"

#define PL_MAX_TAPS 64        /* longest channel, FFE or DFE */
#define PL_MAX_LEVELS 64      /* PAM-64 at most (6 bits per symbol) */

typedef struct {
    int levels;               /* M: a power of two, 2..PL_MAX_LEVELS */
    double noise_sigma;       /* noise std at the receiver input; levels are +-1, +-3, ... */
    const double *channel;    /* pulse response, causal: r[n] = sum_j channel[j] a[n-j]; NULL = ideal */
    int n_channel;
    const double *ffe;        /* causal FFE taps on r; NULL = none */
    int n_ffe;
    const double *dfe;        /* dfe[j] multiplies the decision j+1 symbols back; NULL = none */
    int n_dfe;
    int delay;                /* symbol m is decided from the FFE output at m + delay */
    double slicer_gain;       /* combined cursor at the decision point (> 0) */
    int precode;              /* IEEE 802.3 1/(1+D) mod M precoding */
    int ideal_feedback;       /* DFE fed with transmitted symbols: the error-free-feedback bound */
} pl_pam_config;


/* Simulate the chunk of chunk_symbols symbols drawn from rng and tally the symbols whose
 * index lies in [count_from, count_to), by the rules of pl_tally.h.
 * Returns PL_OK, PL_EINVAL or PL_ENOMEM (error buffers full; counts stay valid). */
int pl_pam_stream(const pl_pam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                  int64_t count_from, int64_t count_to, int64_t index_offset,
                  pl_error_tally *tally);

#endif
