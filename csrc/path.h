/* Packets through a path of links and switches: FIFO queues (Lindley recursion per link),
 * finite buffers with tail drop, cut-through or store-and-forward nodes, FEC hold, codeword
 * failures, link-level retry (LLR) and end-to-end retransmission.
 *
 * The state of a run (queues, error processes, pending retransmissions, statistics) lives in
 * caller-owned structs and is carried from call to call, so a run cut into any number of calls
 * evolves exactly as one long call would. Packets are processed one at a time through all
 * links, in order of their entry into the source queue.
 */
#ifndef PL_PATH_H
#define PL_PATH_H

#include <stdint.h>
#include "pl_link.h"
#include "pl_random.h"
#include "pl_status.h"

/* Status PL_EMORE (pl_status.h) from pl_path_run: the exact-mode codeword outcomes of link
 * state->need_link are about to run out; refill it and call again. */
#define PL_PATH_EMORE PL_EMORE

#define PL_PATH_MAX_LINKS 256

/* the codeword-grid limits of the shared link model (pl_link.h), under their path names */
#define PL_PATH_MAX_INDEX PL_LINK_MAX_INDEX
#define PL_PATH_MAX_WALK PL_LINK_MAX_WALK

typedef struct {
    int n_links;
    pl_link *links;            /* the caller fills their inputs, pl_path_init derives the rest */
    int recovery;              /* PL_RECOVERY_* */
    int max_retries;           /* LLR: resends per link per packet; E2E: retransmissions per packet */
    double timeout_ns;         /* E2E: from a copy entering the source queue to its retransmission */
} pl_path_config;

typedef struct {               /* a copy waiting for its end-to-end retransmission */
    double time;               /* when it enters the source queue */
    double arrival;            /* when the packet first arrived (latency reference) */
    double size;
    int64_t seq;
    int64_t tries;             /* retransmissions so far */
} pl_pending;

typedef struct {
    pl_link_state *links;      /* n_links entries */
    pl_pending *pending;       /* ring of pending_cap entries */
    int64_t pending_cap, pending_head, pending_len;
    int64_t next_seq;          /* sequence number of the next fresh packet */
    double last_entry;         /* entry time of the last fresh packet (0 before the first) */
    /* totals */
    uint64_t offered, delivered, lost_tail_drop, lost_corrupted, llr_retries, e2e_retransmissions;
    double delivered_bytes, latency_sum, latency_min, latency_max;
    double first_arrival, last_delivery;
    uint64_t *hist;            /* PL_HIST_BUCKETS latency counts */
    uint64_t *ipdv_pos, *ipdv_neg;  /* PL_IPDV_BUCKETS each: IPDV > 0 and IPDV < 0 by magnitude */
    uint64_t ipdv_zero;        /* |IPDV| below 2^PL_HIST_MIN_EXP ns */
    double ipdv_min, ipdv_max;
    int64_t prev_seq;          /* last delivered sequence number (-1: none) */
    double prev_latency;
    /* batch means of the latency, for the confidence interval of the mean */
    int64_t batch_len, batch_count;
    double batch_sum;
    double *batch_means;
    int64_t batch_cap, n_batches;
    /* raw latencies in delivery order (optional) */
    double *raw;
    int64_t raw_cap, n_raw;
    int need_link;             /* OUT with PL_PATH_EMORE */
    int64_t need_count;        /* OUT with PL_PATH_EMORE: outcomes link need_link lacks (>= 1) */
    /* work buffers (optional, work_cap entries each): with them, runs without retransmissions
     * or exact links go link by link through batches of packets (same result, faster) */
    double *work_entry, *work_t;
    uint8_t *work_flag;
    int64_t work_cap;
} pl_path_state;

/* Check the links' inputs and derive their other fields (pl_link_derive); reset the state:
 * queues empty, statistics zero; draw each statistical link's first failure from rngs[link].
 * The caller has zeroed hist, ipdv_pos, ipdv_neg and set the buffers. */
int pl_path_init(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs);

/* The derived fields of a link from its inputs; PL_EINVAL (link unchanged) when an input is out
 * of range or a derived value is not finite. */
int pl_link_derive(pl_link *link);

/* Offer n fresh packets and process them, each after the end-to-end retransmissions due before
 * it. times: entry times into the source queue (non-decreasing, not before the previous
 * call's), or with `gaps` the time from the previous packet's entry (the first packet of a run
 * enters at its gap); sizes in bytes, or sizes == NULL for all of fixed_size. Link i draws its
 * failures from rngs[i] (statistical links only). With drain, retransmissions still pending
 * after the last packet are processed too.
 * *n_done is set to the number of packets processed. Returns PL_OK; PL_ENOMEM when the
 * pending ring is full (grow it and call again with the rest); PL_PATH_EMORE when exact-mode
 * outcomes run short (pl_path_refill, then call again with the rest); PL_EINVAL (nothing
 * processed) for times or gaps that are not finite and >= 0, absolute times that decrease, or
 * sizes that are not finite and > 0; PL_ERANGE when a codeword index reached
 * PL_PATH_MAX_INDEX (the run's results are then meaningless). */
int pl_path_run(const pl_path_config *cfg, pl_path_state *st, bitgen_t *const *rngs,
                const double *times, int gaps, const double *sizes, double fixed_size,
                int64_t n, int drain, int64_t *n_done);

/* Exact mode: give link `link` all its failure positions (touched-codeword counts) that are
 * >= its consumed count and < known, sorted, replacing the previous array (which must stay
 * alive until then); outcomes are then known up to `known`. */
int pl_path_refill(const pl_path_config *cfg, pl_path_state *st, int link,
                   const int64_t *fail_pos, int64_t n_fail_pos, int64_t known);

/* Histogram bucket of a positive value (ns), with sub_bits mantissa bits (PL_HIST_SUB_BITS or
 * PL_IPDV_SUB_BITS). */
int64_t pl_hist_index(double x, int sub_bits);

#endif
