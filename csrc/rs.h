/* Reed-Solomon codes over GF(2^10) as in IEEE 802.3 clause 91, and the codeword outcomes of a
 * symbol stream's errors.
 *
 * Field: GF(2^10) with primitive polynomial x^10 + x^3 + 1 (0x409), alpha = x.
 * Code: g(x) = prod_{j=0}^{2t-1} (x - alpha^j); systematic, shortened from RS(1023, 1023-2t).
 * A word is an array of n symbols; symbol i is the coefficient of x^(n-1-i) (symbol 0 is sent
 * first); message symbols 0..k-1, parity symbols k..n-1.
 *
 * Decoder: remainder of the received word modulo g(x) by a table-driven LFSR that takes four
 * symbols per step (one 64-bit load of the input, four row look-ups, no per-symbol GF
 * multiplications), a fast exit when it is zero, syndromes from the 2t-symbol remainder by
 * 5-bit table slices, Berlekamp-Massey, closed-form roots for one and two errors, Chien search
 * otherwise, Forney. A codeword is declared failed when the locator's degree exceeds t or its
 * roots are not all distinct positions of the shortened code.
 */
#ifndef PL_RS_H
#define PL_RS_H

#include <stdint.h>
#include "pl_status.h"

#define PL_RS_M 10                 /* bits per symbol */
#define PL_RS_Q 1024               /* field size */
#define PL_RS_ORDER 1023           /* multiplicative order, longest codeword */
#define PL_RS_POLY 0x409           /* x^10 + x^3 + 1 */
#define PL_RS_MAX_ROOTS 64         /* 2t at most (t <= 32) */
#define PL_RS_MAX_WORDS (PL_RS_MAX_ROOTS / 4)

/* Tables of one code; filled by pl_rs_init, read-only afterwards (share it between threads).
 * About 1.2 MB: allocate it on the heap, aligned to 64 bytes. */
typedef struct {
    int n, k, nroots, t;
    int words;                                   /* 64-bit words per remainder: ceil(nroots/4) */
    uint16_t exp[2 * PL_RS_ORDER + 2];           /* exp[i] = alpha^i, i in [0, 2*1023] */
    int16_t log[PL_RS_Q];                        /* log[0] = -1 */
    uint16_t gen[PL_RS_MAX_ROOTS + 1];           /* gen[i]: coefficient of x^i of g(x) */
    uint16_t quad[PL_RS_Q];                      /* a root y of y^2 + y = c, or 0xffff */
    /* slice[(s * 1024 + v) * words + w]: word w of v * x^(nroots + s) mod g(x), packed 4
     * symbols per word (remainder symbol l = coefficient of x^(nroots-1-l) at bits 16 (l%4)
     * of word l/4). */
    uint64_t slice[4 * PL_RS_Q * PL_RS_MAX_WORDS] __attribute__((aligned(64)));
    /* syn[((l * 2 + h) * 32 + v) * words + w]: contribution of remainder symbol l's 5-bit
     * half h with value v to the syndromes S_0..S_{2t-1}, packed like the remainder. */
    uint64_t syn[PL_RS_MAX_ROOTS * 2 * 32 * PL_RS_MAX_WORDS] __attribute__((aligned(64)));
} pl_rs_code;

/* Fill the tables of RS(n, k): 1 <= k < n <= 1023, n - k even, n - k <= PL_RS_MAX_ROOTS.
 * Returns PL_OK or PL_EINVAL. */
int pl_rs_init(pl_rs_code *code, int n, int k);

/* msg: batch x k symbols (< 1024) IN; out: batch x n codewords OUT. */
int pl_rs_encode(const pl_rs_code *code, const uint16_t *msg, int64_t batch, uint16_t *out);

/* Remainder-based check: nonzero[i] = 1 when word i is not a codeword. */
int pl_rs_check(const pl_rs_code *code, const uint16_t *words, int64_t batch, uint8_t *nonzero);

/* Syndromes S_0..S_{2t-1} of each word (batch x nroots OUT), for tests. */
int pl_rs_syndromes(const pl_rs_code *code, const uint16_t *words, int64_t batch, uint16_t *out);

/* Decode in place. corrected[i] OUT: symbols changed (0 when none or failed); failed[i] OUT:
 * 1 when the decoder detected an uncorrectable word (the word is left as received). */
int pl_rs_decode(const pl_rs_code *code, uint16_t *words, int64_t batch, int32_t *corrected,
                 uint8_t *failed);

/* ---- from a symbol stream's errors to RS symbol errors and codeword outcomes ------------ */

/* Map stream errors onto RS symbols. Label bit j (0 = LSB) of stream symbol s is line bit
 * s * bits_per_symbol + j; line bit b belongs to RS symbol q = b / 10 at bit b % 10.
 * err_index must be strictly increasing, >= 0 and < 2^59; err_bits below 2^bits_per_symbol
 * (else PL_EINVAL). Writes one entry per wrong RS symbol (q ascending):
 * q_out[] and the symbol's error value val_out[]. Returns PL_ENOMEM when capacity is short. */
int pl_fec_symbol_errors(const int64_t *err_index, const uint16_t *err_bits, int64_t n_err,
                         int bits_per_symbol, int64_t *q_out, uint16_t *val_out,
                         int64_t capacity, int64_t *n_out);

/* Counting path: RS symbol q (line order) goes to codeword (q / (n I)) I + q % I at position
 * (q / I) % n (symbol-wise I-way interleave). Entries with codeword >= n_codewords are
 * ignored. Accumulates into caller-zeroed arrays: wrong[c] (wrong symbols), msg_bits[c] (wrong
 * bits in message symbols). q must be ascending. */
int pl_fec_count(const int64_t *q, const uint16_t *val, int64_t n_q, int n, int k,
                 int interleave, int64_t n_codewords, uint16_t *wrong, uint32_t *msg_bits);

#endif
