/* Chase-2 soft-decision decoder of the extended Hamming(128,120) inner code (IEEE 802.3dj style).
 *
 * Column layout (as photolink.fec.inner): data bit j (0..119) has the (j+1)-th 7-bit value that
 * is not a power of two; parity bit 120+i has 2^i; bit 127 (overall parity) has 0.
 * The caller allocates the code struct and every buffer; functions return PL_* status codes.
 */
#ifndef PL_CHASE_H
#define PL_CHASE_H

#include <stdint.h>

#define PL_CHASE_N 128
#define PL_CHASE_MAX_TEST_BITS 10

typedef struct {
    int test_bits;                 /* least reliable bits flipped in every combination (0..10) */
    uint8_t column[PL_CHASE_N];    /* 7-bit Hamming column of each bit */
    uint8_t pos_of_column[PL_CHASE_N];
} pl_chase_code;

int pl_chase_init(pl_chase_code *code, int test_bits);

/* Decode ``batch`` words: hard[i*128 + j] in {0, 1}, reliability[i*128 + j] >= 0 (|LLR| or any
 * monotone measure). out receives the decided words (0/1); changed[i] how many bits differ from
 * the hard decisions (0 when no test pattern gave a codeword: the word is passed on as is). */
int pl_chase_decode(const pl_chase_code *code, const uint8_t *hard, const double *reliability,
                    int64_t batch, uint8_t *out, int32_t *changed);

#endif
