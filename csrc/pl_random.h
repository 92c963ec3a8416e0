/* Random numbers for photolink kernels: numpy's bit generators and its normal sampler, and
 * pools that hand out random bits and normals one draw at a time.
 *
 * numpy's own distributions.h pulls in Python.h; the kernels must not, so the two
 * functions used here are declared directly (they live in numpy's static libnpyrandom,
 * whose ABI numpy documents for C users: numpy/random/c_distributions.pxd).
 */
#ifndef PL_RANDOM_H
#define PL_RANDOM_H

#include <stdint.h>
#include "numpy/random/bitgen.h"

void random_standard_normal_fill(bitgen_t *bitgen_state, intptr_t cnt, double *out);
double random_standard_normal(bitgen_t *bitgen_state);

/* Random bits a few at a time: each 64-bit word of the generator serves floor(64 / bits)
 * draws, low bits first; its leftover bits are dropped. Start a pool as {0, 0}. */
typedef struct { uint64_t word; int left; } pl_bit_pool;

/* The next `bits` (1 to 32) random bits. */
static inline unsigned pl_draw_bits(pl_bit_pool *bp, bitgen_t *rng, int bits)
{
    if (bp->left < bits) {
        bp->word = rng->next_uint64(rng->state);
        bp->left = 64;
    }
    unsigned v = (unsigned)(bp->word & ((1u << bits) - 1u));
    bp->word >>= bits;
    bp->left -= bits;
    return v;
}

/* Standard normals one at a time, filled PL_NORMAL_POOL at a time (8 KiB: stays in L1).
 * Start a pool with left = 0. */
#define PL_NORMAL_POOL 1024
typedef struct { double buf[PL_NORMAL_POOL]; int left; } pl_normal_pool;

static inline double pl_draw_normal(pl_normal_pool *np, bitgen_t *rng)
{
    if (np->left == 0) {
        random_standard_normal_fill(rng, PL_NORMAL_POOL, np->buf);
        np->left = PL_NORMAL_POOL;
    }
    return np->buf[PL_NORMAL_POOL - np->left--];
}

#endif
