/* Chase-2 decoding of the extended Hamming(128,120) code (see chase.h). */
#include "chase.h"

#include <math.h>
#include <string.h>

#include "pl_status.h"

int pl_chase_init(pl_chase_code *code, int test_bits)
{
    if (code == NULL || test_bits < 0 || test_bits > PL_CHASE_MAX_TEST_BITS)
        return PL_EINVAL;
    code->test_bits = test_bits;
    int j = 0;
    for (int c = 1; c < 128 && j < 120; c++)
        if (c & (c - 1))
            code->column[j++] = (uint8_t)c;
    for (int i = 0; i < 7; i++)
        code->column[120 + i] = (uint8_t)(1 << i);
    code->column[127] = 0;
    for (int b = 0; b < PL_CHASE_N; b++)
        code->pos_of_column[code->column[b]] = (uint8_t)b;
    return PL_OK;
}

/* the ``k`` least reliable positions of one word, most unreliable first (insertion into a
 * sorted list of at most k) */
static void least_reliable(const double *r, int k, int *pos)
{
    int m = 0;
    for (int b = 0; b < PL_CHASE_N; b++) {
        int at;
        if (m < k) {
            at = m++;
        } else if (r[b] < r[pos[k - 1]]) {
            at = k - 1;
        } else {
            continue;
        }
        while (at > 0 && r[b] < r[pos[at - 1]]) {
            pos[at] = pos[at - 1];
            at--;
        }
        pos[at] = b;
    }
}

int pl_chase_decode(const pl_chase_code *code, const uint8_t *hard, const double *reliability,
                    int64_t batch, uint8_t *out, int32_t *changed)
{
    if (code == NULL || hard == NULL || reliability == NULL || out == NULL || changed == NULL || batch < 0)
        return PL_EINVAL;
    const int k = code->test_bits;
    int pos[PL_CHASE_MAX_TEST_BITS + 1];
    for (int64_t w = 0; w < batch; w++) {
        const uint8_t *h = hard + w * PL_CHASE_N;
        const double *r = reliability + w * PL_CHASE_N;
        uint8_t *o = out + w * PL_CHASE_N;
        unsigned s0 = 0, p0 = 0;
        for (int b = 0; b < PL_CHASE_N; b++) {
            if (h[b] > 1 || !(r[b] >= 0.0) || isinf(r[b]))
                return PL_EINVAL;
            if (h[b]) {
                s0 ^= code->column[b];
                p0 ^= 1u;
            }
        }
        if (k > 0)
            least_reliable(r, k, pos);
        double best = INFINITY;
        unsigned best_pattern = 0;
        int best_fix = -1;                       /* the decoder's own flip (-1: none) */
        for (unsigned pat = 0; pat < (1u << k); pat++) {
            unsigned s = s0, p = p0;
            double metric = 0.0;
            for (int i = 0; i < k; i++)
                if (pat >> i & 1u) {
                    s ^= code->column[pos[i]];
                    p ^= 1u;
                    metric += r[pos[i]];
                }
            int fix = -1;
            if (p) {                             /* odd weight: one more flip makes a codeword */
                fix = code->pos_of_column[s];
                int in_pattern = 0;
                for (int i = 0; i < k; i++)
                    if ((pat >> i & 1u) && pos[i] == fix)
                        in_pattern = 1;
                metric += in_pattern ? -r[fix] : r[fix];
            } else if (s) {
                continue;                        /* even weight, nonzero syndrome: no codeword */
            }
            if (metric < best) {
                best = metric;
                best_pattern = pat;
                best_fix = fix;
            }
        }
        memcpy(o, h, PL_CHASE_N);
        if (!isfinite(best)) {
            changed[w] = 0;
            continue;
        }
        for (int i = 0; i < k; i++)
            if (best_pattern >> i & 1u)
                o[pos[i]] ^= 1u;
        if (best_fix >= 0)
            o[best_fix] ^= 1u;
        int32_t c = 0;
        for (int b = 0; b < PL_CHASE_N; b++)
            c += o[b] != h[b];
        changed[w] = c;
    }
    return PL_OK;
}
