/* Reed-Solomon over GF(2^10): tables, encoder, decoder, counting path (see rs.h). */
#include "rs.h"

#include <string.h>
#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* ---- field arithmetic ------------------------------------------------------------------ */

static inline unsigned gf_mul(const pl_rs_code *c, unsigned a, unsigned b)
{
    if (!a || !b) return 0;
    return c->exp[c->log[a] + c->log[b]];
}

static inline unsigned gf_div(const pl_rs_code *c, unsigned a, unsigned b)
{
    /* b != 0 */
    if (!a) return 0;
    return c->exp[c->log[a] - c->log[b] + PL_RS_ORDER];
}

/* alpha^e for any integer e */
static inline unsigned gf_pow(const pl_rs_code *c, int64_t e)
{
    e %= PL_RS_ORDER;
    if (e < 0) e += PL_RS_ORDER;
    return c->exp[e];
}

static inline unsigned sym_of(const uint64_t *v, int l)
{
    return (unsigned)(v[l >> 2] >> (16 * (l & 3))) & 0xffffu;
}

static inline void set_sym(uint64_t *v, int l, unsigned x)
{
    v[l >> 2] |= (uint64_t)x << (16 * (l & 3));
}

/* ---- tables ------------------------------------------------------------------------------ */

int pl_rs_init(pl_rs_code *c, int n, int k)
{
    if (!c || n > PL_RS_ORDER || k < 1 || n <= k || (n - k) % 2 || n - k > PL_RS_MAX_ROOTS)
        return PL_EINVAL;
    c->n = n;
    c->k = k;
    c->nroots = n - k;
    c->t = (n - k) / 2;
    c->words = 2 * ((c->nroots + 7) / 8);      /* even: whole 128-bit vectors */
    const int P = c->nroots, W = c->words;

    unsigned x = 1;
    for (int i = 0; i < PL_RS_ORDER; i++) {
        c->exp[i] = (uint16_t)x;
        c->log[x] = (int16_t)i;
        x <<= 1;
        if (x & PL_RS_Q) x ^= PL_RS_POLY;
    }
    for (int i = PL_RS_ORDER; i < 2 * PL_RS_ORDER + 2; i++) c->exp[i] = c->exp[i - PL_RS_ORDER];
    c->log[0] = -1;

    /* g(x) = prod_{j<P} (x + alpha^j) */
    memset(c->gen, 0, sizeof c->gen);
    c->gen[0] = 1;
    for (int j = 0; j < P; j++) {
        unsigned a = c->exp[j];
        for (int i = j + 1; i >= 1; i--) c->gen[i] = (uint16_t)(c->gen[i - 1] ^ gf_mul(c, c->gen[i], a));
        c->gen[0] = (uint16_t)gf_mul(c, c->gen[0], a);
    }

    /* y^2 + y = q */
    for (int i = 0; i < PL_RS_Q; i++) c->quad[i] = 0xffff;
    for (unsigned y = 0; y < PL_RS_Q; y++) {
        unsigned q = gf_mul(c, y, y) ^ y;
        if (c->quad[q] == 0xffff) c->quad[q] = (uint16_t)y;
    }

    /* x^(P+s) mod g for s = 0..3, as coefficients rem[l] of x^(P-1-l) */
    uint16_t xp[4][PL_RS_MAX_ROOTS];
    for (int l = 0; l < P; l++) xp[0][l] = c->gen[P - 1 - l];      /* x^P = g - x^P (char 2) */
    for (int s = 1; s < 4; s++) {
        unsigned top = xp[s - 1][0];                              /* coefficient of x^(P-1) */
        for (int l = 0; l < P; l++) {
            unsigned next = l + 1 < P ? xp[s - 1][l + 1] : 0;
            xp[s][l] = (uint16_t)(next ^ gf_mul(c, top, c->gen[P - 1 - l]));
        }
    }
    memset(c->slice, 0, sizeof c->slice);
    for (int s = 0; s < 4; s++)
        for (unsigned v = 0; v < PL_RS_Q; v++) {
            uint64_t *row = c->slice + ((size_t)s * PL_RS_Q + v) * W;
            for (int l = 0; l < P; l++) set_sym(row, l, gf_mul(c, v, xp[s][l]));
        }

    /* S_j = sum_l b_l alpha^(-j (l+1)) from the shifted remainder B = r x^P mod g */
    memset(c->syn, 0, sizeof c->syn);
    for (int l = 0; l < P; l++)
        for (int h = 0; h < 2; h++)
            for (unsigned v = 0; v < 32; v++) {
                uint64_t *row = c->syn + (((size_t)l * 2 + h) * 32 + v) * W;
                unsigned val = v << (5 * h);
                for (int j = 0; j < P; j++)
                    set_sym(row, j, gf_mul(c, val, gf_pow(c, -(int64_t)j * (l + 1))));
            }
    return PL_OK;
}

/* ---- remainder: B = r(x) x^P mod g(x), four symbols per step --------------------------- */

static inline uint64_t load4(const uint16_t *p)
{
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
#else
    return (uint64_t)p[0] | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 32 | (uint64_t)p[3] << 48;
#endif
}

#define SLICE_STEP(W, state, in)                                                       \
    do {                                                                               \
        uint64_t f_ = (state)[0] ^ (in);                                               \
        const uint64_t *t3_ = c->slice + ((size_t)3 * PL_RS_Q + (f_ & 0x3ff)) * (W);    \
        const uint64_t *t2_ = c->slice + ((size_t)2 * PL_RS_Q + ((f_ >> 16) & 0x3ff)) * (W); \
        const uint64_t *t1_ = c->slice + ((size_t)1 * PL_RS_Q + ((f_ >> 32) & 0x3ff)) * (W); \
        const uint64_t *t0_ = c->slice + ((size_t)((f_ >> 48) & 0x3ff)) * (W);          \
        for (int w_ = 0; w_ < (W); w_++) {                                              \
            uint64_t nx_ = w_ + 1 < (W) ? (state)[w_ + 1] : 0;                          \
            (state)[w_] = nx_ ^ t3_[w_] ^ t2_[w_] ^ t1_[w_] ^ t0_[w_];                  \
        }                                                                              \
    } while (0)

/* Remainder of `len` symbols (len >= 1) into state[W] (zeroed here). */
static inline void remainder_w(const pl_rs_code *c, const int W, const uint16_t *r, int len,
                               uint64_t *state)
{
    for (int w = 0; w < W; w++) state[w] = 0;
    int head = len & 3, i = 0;
    if (head) {
        /* leading zeros pad the first step: symbols go to the last `head` slots */
        uint64_t in = 0;
        for (int j = 0; j < head; j++) in |= (uint64_t)r[j] << (16 * (4 - head + j));
        SLICE_STEP(W, state, in);
        i = head;
    }
    for (; i < len; i += 4) {
        uint64_t in = load4(r + i);
        SLICE_STEP(W, state, in);
    }
}

static void rs_remainder(const pl_rs_code *c, const uint16_t *r, int len, uint64_t *state)
{
    switch (c->words) {     /* constant W lets the compiler unroll */
    case 2: remainder_w(c, 2, r, len, state); break;
    case 4: remainder_w(c, 4, r, len, state); break;
    case 8: remainder_w(c, 8, r, len, state); break;
    default: remainder_w(c, c->words, r, len, state); break;
    }
}

/* Four words in lockstep: independent dependency chains hide the table-load latency. */
#ifdef __SSE2__
/* SSE2: the remainder is V = W/2 vectors of 8 symbols; a step shifts it by one 64-bit word. */
#define VSTEP(V, st, in)                                                                  \
    do {                                                                                  \
        uint64_t f_ = (uint64_t)_mm_cvtsi128_si64((st)[0]) ^ (in);                         \
        const __m128i *t3_ = (const __m128i *)(c->slice + ((size_t)3 * PL_RS_Q + (f_ & 0x3ff)) * 2 * (V)); \
        const __m128i *t2_ = (const __m128i *)(c->slice + ((size_t)2 * PL_RS_Q + ((f_ >> 16) & 0x3ff)) * 2 * (V)); \
        const __m128i *t1_ = (const __m128i *)(c->slice + ((size_t)1 * PL_RS_Q + ((f_ >> 32) & 0x3ff)) * 2 * (V)); \
        const __m128i *t0_ = (const __m128i *)(c->slice + ((size_t)((f_ >> 48) & 0x3ff)) * 2 * (V)); \
        for (int v_ = 0; v_ < (V); v_++) {                                                 \
            __m128i nx_ = v_ + 1 < (V)                                                     \
                ? _mm_castpd_si128(_mm_shuffle_pd(_mm_castsi128_pd((st)[v_]),              \
                                                  _mm_castsi128_pd((st)[v_ + 1]), 1))       \
                : _mm_srli_si128((st)[v_], 8);                                             \
            (st)[v_] = _mm_xor_si128(_mm_xor_si128(nx_, _mm_load_si128(t3_ + v_)),         \
                                     _mm_xor_si128(_mm_xor_si128(_mm_load_si128(t2_ + v_), \
                                                                 _mm_load_si128(t1_ + v_)), \
                                                   _mm_load_si128(t0_ + v_)));             \
        }                                                                                  \
    } while (0)

static inline void remainder4_v(const pl_rs_code *c, const int V, const uint16_t *r, int len,
                                int64_t stride, uint64_t (*state)[PL_RS_MAX_WORDS])
{
    __m128i st[4][PL_RS_MAX_WORDS / 2];
    for (int g = 0; g < 4; g++)
        for (int v = 0; v < V; v++) st[g][v] = _mm_setzero_si128();
    int head = len & 3, i = 0;
    if (head) {
        for (int g = 0; g < 4; g++) {
            uint64_t in = 0;
            for (int j = 0; j < head; j++) in |= (uint64_t)r[g * stride + j] << (16 * (4 - head + j));
            VSTEP(V, st[g], in);
        }
        i = head;
    }
    for (; i < len; i += 4) {
        uint64_t in0 = load4(r + i), in1 = load4(r + stride + i);
        uint64_t in2 = load4(r + 2 * stride + i), in3 = load4(r + 3 * stride + i);
        VSTEP(V, st[0], in0);
        VSTEP(V, st[1], in1);
        VSTEP(V, st[2], in2);
        VSTEP(V, st[3], in3);
    }
    for (int g = 0; g < 4; g++)
        for (int v = 0; v < V; v++) _mm_storeu_si128((__m128i *)(state[g] + 2 * v), st[g][v]);
}

static void remainder4(const pl_rs_code *c, const uint16_t *r, int len, int64_t stride,
                       uint64_t (*state)[PL_RS_MAX_WORDS])
{
    switch (c->words) {
    case 2: remainder4_v(c, 1, r, len, stride, state); break;
    case 4: remainder4_v(c, 2, r, len, stride, state); break;
    case 8: remainder4_v(c, 4, r, len, stride, state); break;
    default: remainder4_v(c, c->words / 2, r, len, stride, state); break;
    }
}
#else
static inline void remainder4_w(const pl_rs_code *c, const int W, const uint16_t *r, int len,
                                int64_t stride, uint64_t (*state)[PL_RS_MAX_WORDS])
{
    for (int g = 0; g < 4; g++) remainder_w(c, W, r + g * stride, len, state[g]);
}

static void remainder4(const pl_rs_code *c, const uint16_t *r, int len, int64_t stride,
                       uint64_t (*state)[PL_RS_MAX_WORDS])
{
    remainder4_w(c, c->words, r, len, stride, state);
}
#endif

static inline int is_zero(const uint64_t *v, int W)
{
    uint64_t acc = 0;
    for (int w = 0; w < W; w++) acc |= v[w];
    return acc == 0;
}

/* Syndromes (unpacked) from the shifted remainder. */
static void syndromes_from_remainder(const pl_rs_code *c, const uint64_t *rem, uint16_t *S)
{
    const int P = c->nroots, W = c->words;
    uint64_t acc[PL_RS_MAX_WORDS] = {0};
    for (int l = 0; l < P; l++) {
        unsigned b = sym_of(rem, l);
        if (!b) continue;
        const uint64_t *lo = c->syn + (((size_t)l * 2) * 32 + (b & 31)) * W;
        const uint64_t *hi = c->syn + (((size_t)l * 2 + 1) * 32 + (b >> 5)) * W;
        for (int w = 0; w < W; w++) acc[w] ^= lo[w] ^ hi[w];
    }
    for (int j = 0; j < P; j++) S[j] = (uint16_t)sym_of(acc, j);
}

/* ---- encoder ----------------------------------------------------------------------------- */

int pl_rs_encode(const pl_rs_code *c, const uint16_t *msg, int64_t batch, uint16_t *out)
{
    if (!c || batch < 0 || (batch && (!msg || !out))) return PL_EINVAL;
    const int n = c->n, k = c->k, P = c->nroots;
    uint64_t state[4][PL_RS_MAX_WORDS];
    for (int64_t b = 0; b < batch; b += 4) {
        int g_n = batch - b < 4 ? (int)(batch - b) : 4;
        if (g_n == 4) {
            remainder4(c, msg + b * k, k, k, state);
        } else {
            for (int g = 0; g < g_n; g++) rs_remainder(c, msg + (b + g) * k, k, state[g]);
        }
        for (int g = 0; g < g_n; g++) {
            uint16_t *o = out + (b + g) * n;
            memcpy(o, msg + (b + g) * k, (size_t)k * sizeof *o);
            for (int l = 0; l < P; l++) o[k + l] = (uint16_t)sym_of(state[g], l);
        }
    }
    return PL_OK;
}

int pl_rs_check(const pl_rs_code *c, const uint16_t *words, int64_t batch, uint8_t *nonzero)
{
    if (!c || batch < 0 || (batch && (!words || !nonzero))) return PL_EINVAL;
    const int n = c->n;
    uint64_t state[4][PL_RS_MAX_WORDS];
    for (int64_t b = 0; b < batch; b += 4) {
        int g_n = batch - b < 4 ? (int)(batch - b) : 4;
        if (g_n == 4) {
            remainder4(c, words + b * n, n, n, state);
        } else {
            for (int g = 0; g < g_n; g++) rs_remainder(c, words + (b + g) * n, n, state[g]);
        }
        for (int g = 0; g < g_n; g++) nonzero[b + g] = !is_zero(state[g], c->words);
    }
    return PL_OK;
}

int pl_rs_syndromes(const pl_rs_code *c, const uint16_t *words, int64_t batch, uint16_t *out)
{
    if (!c || batch < 0 || (batch && (!words || !out))) return PL_EINVAL;
    uint64_t state[PL_RS_MAX_WORDS];
    for (int64_t b = 0; b < batch; b++) {
        rs_remainder(c, words + b * c->n, c->n, state);
        syndromes_from_remainder(c, state, out + b * c->nroots);
    }
    return PL_OK;
}

/* ---- decoder core ------------------------------------------------------------------------ */

/* Berlekamp-Massey: error locator lambda[0..P] (lambda[0] = 1); returns L. */
static int berlekamp_massey(const pl_rs_code *c, const uint16_t *S, uint16_t *lambda)
{
    const int P = c->nroots;
    uint16_t B[PL_RS_MAX_ROOTS + 1], T[PL_RS_MAX_ROOTS + 1];
    memset(lambda, 0, (size_t)(P + 1) * sizeof *lambda);
    memset(B, 0, sizeof B);
    lambda[0] = B[0] = 1;
    int L = 0, m = 1, degC = 0, degB = 0;
    unsigned b = 1;
    for (int r = 0; r < P; r++) {
        unsigned d = S[r];
        for (int i = 1; i <= L && i <= r; i++) d ^= gf_mul(c, lambda[i], S[r - i]);
        if (!d) {
            m++;
            continue;
        }
        /* C <- C - (d/b) x^m B */
        int lcoef = c->log[d] - c->log[b] + PL_RS_ORDER;
        int grow = 2 * L <= r;
        if (grow) memcpy(T, lambda, (size_t)(degC + 1) * sizeof *T);
        int degT = degC;
        for (int i = 0; i <= degB && i + m <= P; i++) {
            if (B[i]) {
                lambda[i + m] ^= c->exp[(lcoef + c->log[B[i]]) % PL_RS_ORDER];
                if (i + m > degC) degC = i + m;
            }
        }
        if (grow) {
            L = r + 1 - L;
            memcpy(B, T, (size_t)(degT + 1) * sizeof *B);
            for (int i = degT + 1; i <= degB; i++) B[i] = 0;
            degB = degT;
            b = d;
            m = 1;
        } else {
            m++;
        }
    }
    while (degC > 0 && !lambda[degC]) degC--;
    return degC == L ? L : -1;
}

/* Error powers p (X = alpha^p) of the roots of lambda; returns the count found (== L wanted). */
static int find_roots(const pl_rs_code *c, const uint16_t *lambda, int L, int *powers)
{
    const int n = c->n;
    if (L == 1) {
        int p = c->log[lambda[1]];           /* 1 + lambda1 x = 0 at x = alpha^-p */
        if (p >= n) return 0;
        powers[0] = p;
        return 1;
    }
    if (L == 2) {
        unsigned l1 = lambda[1], l2 = lambda[2];
        if (!l1) return 0;                   /* double root */
        unsigned q = gf_div(c, l2, gf_mul(c, l1, l1));
        unsigned y = c->quad[q];
        if (y == 0xffff) return 0;
        unsigned scale = gf_div(c, l1, l2);
        int found = 0;
        for (int s = 0; s < 2; s++) {
            unsigned x = gf_mul(c, scale, y ^ (unsigned)s);
            if (!x) return 0;
            int p = (PL_RS_ORDER - c->log[x]) % PL_RS_ORDER;
            if (p >= n) return 0;
            powers[found++] = p;
        }
        return found;
    }
    /* Chien search over the n positions, in the log domain */
    int e[PL_RS_MAX_ROOTS + 1], idx[PL_RS_MAX_ROOTS + 1], nt = 0;
    for (int l = 1; l <= L; l++)
        if (lambda[l]) {
            e[nt] = c->log[lambda[l]];
            idx[nt++] = l;
        }
    /* Chien search until all roots but two are found, then deflate and solve the quadratic */
    int found = 0;
    for (int p = 0; p < n && found < L - 2; p++) {
        unsigned v = 1;                       /* lambda[0] */
        for (int j = 0; j < nt; j++) {
            v ^= c->exp[e[j]];
            e[j] -= idx[j];
            if (e[j] < 0) e[j] += PL_RS_ORDER;
        }
        if (!v) powers[found++] = p;
    }
    if (found < L - 2) return found;
    uint16_t q[PL_RS_MAX_ROOTS + 1];
    memcpy(q, lambda, (size_t)(L + 1) * sizeof *q);
    int deg = L;
    for (int r = 0; r < found; r++) {         /* q(x) /= (1 + X x), X = alpha^p */
        unsigned X = c->exp[powers[r]], prev = q[0];
        for (int i = 1; i < deg; i++) {
            q[i] = (uint16_t)(q[i] ^ gf_mul(c, X, prev));
            prev = q[i];
        }
        if ((q[deg] ^ gf_mul(c, X, prev)) != 0) return 0;   /* not a root after all */
        deg--;
    }
    int last[2];
    if (find_roots(c, q, 2, last) != 2) return 0;
    for (int s = 0; s < 2; s++) {
        for (int r = 0; r < found; r++)
            if (powers[r] == last[s]) return 0;              /* repeated root */
        powers[found++] = last[s];
    }
    return found;
}

/* Correct one word given its nonzero shifted remainder; returns symbols corrected or -1. */
static int correct(const pl_rs_code *c, const uint64_t *rem, uint16_t *word)
{
    const int n = c->n;
    uint16_t S[PL_RS_MAX_ROOTS], lambda[PL_RS_MAX_ROOTS + 1];
    int powers[PL_RS_MAX_ROOTS];
    syndromes_from_remainder(c, rem, S);
    /* One wrong symbol e at power p gives S_j = e alpha^(j p): a geometric sequence. When the
     * syndromes are one, that pattern is the unique one of weight <= t, as BM would find. */
    if (S[0] && S[1]) {
        int lx = c->log[S[1]] - c->log[S[0]];
        if (lx < 0) lx += PL_RS_ORDER;
        int j = 1, la = c->log[S[1]];
        for (; j + 1 < c->nroots; j++) {
            la += lx;
            if (la >= PL_RS_ORDER) la -= PL_RS_ORDER;
            if (!S[j + 1] || c->log[S[j + 1]] != la) break;
        }
        if (j + 1 == c->nroots) {
            if (lx >= n) return -1;
            word[n - 1 - lx] ^= S[0];
            return 1;
        }
    }
    int L = berlekamp_massey(c, S, lambda);
    if (L < 1 || L > c->t) return -1;
    if (find_roots(c, lambda, L, powers) != L) return -1;
    /* Omega(x) = S(x) lambda(x) mod x^L (degree < L) */
    uint16_t omega[PL_RS_MAX_ROOTS];
    for (int i = 0; i < L; i++) {
        unsigned o = 0;
        for (int l = 0; l <= i; l++) o ^= gf_mul(c, lambda[l], S[i - l]);
        omega[i] = (uint16_t)o;
    }
    uint16_t value[PL_RS_MAX_ROOTS];
    for (int q = 0; q < L; q++) {
        int p = powers[q];
        unsigned num = 0, den = 0;
        for (int i = 0; i < L; i++)
            if (omega[i]) num ^= c->exp[(c->log[omega[i]] + (int64_t)(PL_RS_ORDER - p) * i % PL_RS_ORDER) % PL_RS_ORDER];
        for (int l = 1; l <= L; l += 2)
            if (lambda[l]) den ^= c->exp[(c->log[lambda[l]] + (int64_t)(PL_RS_ORDER - p) * (l - 1) % PL_RS_ORDER) % PL_RS_ORDER];
        if (!den || !num) return -1;
        value[q] = (uint16_t)gf_mul(c, c->exp[p], gf_div(c, num, den));   /* X Omega / Lambda' */
    }
    for (int q = 0; q < L; q++) word[n - 1 - powers[q]] ^= value[q];
    return L;
}

int pl_rs_decode(const pl_rs_code *c, uint16_t *words, int64_t batch, int32_t *corrected,
                 uint8_t *failed)
{
    if (!c || batch < 0 || (batch && (!words || !corrected || !failed))) return PL_EINVAL;
    const int n = c->n, W = c->words;
    uint64_t state[4][PL_RS_MAX_WORDS];
    int64_t b = 0;
    for (; b + 4 <= batch; b += 4) {
        remainder4(c, words + b * n, n, n, state);
        for (int g = 0; g < 4; g++) {
            int64_t i = b + g;
            if (is_zero(state[g], W)) {
                corrected[i] = 0;
                failed[i] = 0;
                continue;
            }
            int r = correct(c, state[g], words + i * n);
            corrected[i] = r < 0 ? 0 : r;
            failed[i] = r < 0;
        }
    }
    for (; b < batch; b++) {
        rs_remainder(c, words + b * n, n, state[0]);
        if (is_zero(state[0], W)) {
            corrected[b] = 0;
            failed[b] = 0;
            continue;
        }
        int r = correct(c, state[0], words + b * n);
        corrected[b] = r < 0 ? 0 : r;
        failed[b] = r < 0;
    }
    return PL_OK;
}

/* ---- counting path ---------------------------------------------------------------------- */

int pl_fec_symbol_errors(const int64_t *err_index, const uint16_t *err_bits, int64_t n_err,
                         int bits_per_symbol, int64_t *q_out, uint16_t *val_out,
                         int64_t capacity, int64_t *n_out)
{
    if (n_err < 0 || bits_per_symbol < 1 || bits_per_symbol > 16 || !n_out
        || (n_err && (!err_index || !err_bits)) || (capacity && (!q_out || !val_out)))
        return PL_EINVAL;
    int64_t out = 0, last_q = -1, prev = -1;
    const int64_t bps = bits_per_symbol;
    for (int64_t i = 0; i < n_err; i++) {
        int64_t s = err_index[i];
        if (s <= prev || s > INT64_MAX / 16) return PL_EINVAL;
        prev = s;
        unsigned x = err_bits[i];
        if (x >> bits_per_symbol) return PL_EINVAL;      /* a bit outside the symbol's label */
        int64_t base = s * bps;
        while (x) {
            int j = __builtin_ctz(x);
            x &= x - 1;
            int64_t bit = base + j;
            int64_t q = bit / PL_RS_M;
            unsigned pos = (unsigned)(bit - q * PL_RS_M);
            if (q != last_q) {
                if (out >= capacity) {
                    *n_out = out;
                    return PL_ENOMEM;
                }
                q_out[out] = q;
                val_out[out] = 0;
                out++;
                last_q = q;
            }
            val_out[out - 1] |= (uint16_t)(1u << pos);
        }
    }
    *n_out = out;
    return PL_OK;
}

int pl_fec_count(const int64_t *q, const uint16_t *val, int64_t n_q, int n, int k,
                 int interleave, int64_t n_codewords, uint16_t *wrong, uint32_t *msg_bits)
{
    if (n_q < 0 || n < 2 || n > PL_RS_ORDER || k < 1 || k >= n || interleave < 1
        || n_codewords < 0 || (n_q && (!q || !val)) || (n_codewords && (!wrong || !msg_bits)))
        return PL_EINVAL;
    const int64_t I = interleave, span = (int64_t)n * I;
    for (int64_t e = 0; e < n_q; e++) {
        int64_t qq = q[e];
        if (qq < 0) return PL_EINVAL;
        int64_t group = qq / span, within = qq - group * span;
        int64_t cw = group * I + within % I;
        int64_t pos = within / I;
        if (cw >= n_codewords) continue;
        if (wrong[cw] < 0xffff) wrong[cw]++;
        if (pos < k) msg_bits[cw] += (uint32_t)__builtin_popcount(val[e]);
    }
    return PL_OK;
}
