/* Coherent square M-QAM symbol streams on one or two polarisations.
 *
 * AWGN (circular complex noise), Wiener laser phase noise, feedforward carrier-phase recovery
 * (Viterbi-Viterbi or blind phase search) with cycle-slip counting, optional quadrant
 * differential coding. One call simulates one chunk: a self-contained run of symbols drawn from
 * one bit generator, so a long run split into chunks gives the same counts whatever the thread
 * count or the way the chunks are grouped into calls.
 *
 * Symbol labels: each rail (I or Q) is a sqrt(M)-PAM with levels -(L-1), ..., -1, +1, ..., L-1
 * (L = sqrt M, b = log2 L bits) and a Gray label. The label of one symbol is, MSB first,
 * [X-I rail, X-Q rail, Y-I rail, Y-Q rail] (b bits each, each rail MSB first; single
 * polarisation: [I, Q]). The MSB of a rail label is its sign bit (1 for the positive half).
 * With differential coding the two sign-bit positions of a polarisation carry the Gray-coded
 * quadrant increment (I-MSB, Q-MSB) = 11: 0, 01: +90 deg, 00: 180 deg, 10: 270 deg, and the other
 * bits the position inside the quadrant after rotating it back to the first quadrant.
 *
 * Pilot-aided slip correction (pilot_period > 0): at every pilot the residual phase of the pilot
 * after the carrier estimate, r s* e^{-j est}, is averaged (as a complex sum) over the last
 * pilot_average pilots of the polarisation; when the average's angle leaves [-pi/4, pi/4] the
 * estimate has slipped by a quadrant and its unwrap count is corrected (a repair that restores the
 * true quadrant is not counted as a cycle slip). Pilots are not counted symbols: a chunk's
 * `symbols` tally holds its data symbols only, and recorded error indices are line positions.
 */
#ifndef PL_QAM_STREAM_H
#define PL_QAM_STREAM_H

#include <stdint.h>
#include "pl_random.h"
#include "pl_status.h"
#include "pl_tally.h"

#define PL_QAM_MAX_M 256            /* 256-QAM at most: 16 label bits for two polarisations */
#define PL_QAM_MAX_WINDOW 1023      /* longest carrier-recovery window (odd) */
#define PL_QAM_MAX_TEST_PHASES 256  /* most blind-phase-search test phases */
#define PL_QAM_MAX_PILOT_PERIOD 65536 /* longest pilot period (symbols) */
#define PL_QAM_MAX_PILOT_AVERAGE 64 /* most pilots averaged by the slip detector */

enum {
    PL_CPR_NONE = 0,   /* no carrier recovery: decide the received samples as they are */
    PL_CPR_VV = 1,     /* Viterbi-Viterbi: 4th power, window sum, arg / 4 */
    PL_CPR_BPS = 2,    /* blind phase search over test_phases angles in [-pi/4, pi/4) */
};

typedef struct {
    int m;                 /* constellation size: 4, 16, 64 or 256 */
    int polarizations;     /* 1 or 2 */
    double noise_sigma;    /* noise std per real dimension (rail levels +-1, +-3, ...) */
    double phase_sigma;    /* std of the Wiener phase step per symbol, rad: sqrt(2 pi dnu Ts) */
    int cpr;               /* PL_CPR_NONE, PL_CPR_VV or PL_CPR_BPS */
    int window;            /* odd length of the centred averaging window (CPR only) */
    int test_phases;       /* number of test phases (BPS only) */
    int differential;      /* quadrant differential coding */
    int pilot_period;      /* 0: none; else every pilot_period-th symbol of a chunk (index 0, P, 2P,
                            * ...) is a known QPSK pilot on the constellation's outer corners,
                            * neither decided nor counted (CPR only, not with differential) */
    int pilot_average;     /* pilots averaged by the pilot-aided slip correction (1..64) */
} pl_qam_config;


/* Doubles of workspace pl_qam_stream needs for cfg, or -1 if cfg is invalid. */
int64_t pl_qam_workspace(const pl_qam_config *cfg);

/* Simulate the chunk of chunk_symbols symbols drawn from rng and tally the symbols whose
 * index lies in [count_from, count_to). A burst belongs to the call that holds its first
 * symbol and is followed to its end within the chunk. work holds work_len doubles
 * (>= pl_qam_workspace(cfg)). Returns PL_OK, PL_EINVAL or PL_ENOMEM (error buffers full;
 * counts stay valid). */
int pl_qam_stream(const pl_qam_config *cfg, bitgen_t *rng, int64_t chunk_symbols,
                  int64_t count_from, int64_t count_to, int64_t index_offset,
                  double *work, int64_t work_len, pl_error_tally *tally);

#endif
