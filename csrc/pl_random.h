/* Random numbers for photolink kernels: numpy's bit generators and its normal sampler.
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

#endif
