/* C shim: DPDK's fast path is made of `static inline` functions and thread-local variables,
 * which have no symbols bindgen could link to. Each function here wraps exactly one of them. */
#ifndef DPDK_RS_SHIM_H
#define DPDK_RS_SHIM_H

#include <stdint.h>

struct rte_mbuf;
struct rte_mempool;
struct rte_tel_data;

/* rte_errno is a per-lcore TLS variable. */
int shim_rte_errno(void);

/* rte_lcore_id() reads TLS; LCORE_ID_ANY (UINT32_MAX) on non-EAL threads. */
unsigned int shim_rte_lcore_id(void);

uint64_t shim_rte_rdtsc(void);

uint16_t shim_rte_eth_rx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **rx_pkts,
                               uint16_t nb_pkts);
uint16_t shim_rte_eth_tx_burst(uint16_t port_id, uint16_t queue_id, struct rte_mbuf **tx_pkts,
                               uint16_t nb_pkts);

struct rte_mbuf *shim_rte_pktmbuf_alloc(struct rte_mempool *mp);
int shim_rte_pktmbuf_alloc_bulk(struct rte_mempool *mp, struct rte_mbuf **mbufs, unsigned int count);
void shim_rte_pktmbuf_free(struct rte_mbuf *m);
int shim_rte_pktmbuf_chain(struct rte_mbuf *head, struct rte_mbuf *tail);

/* Adds an unsigned 64-bit value to a telemetry dict: rte_tel_data_add_dict_u64 in 22.11,
 * renamed rte_tel_data_add_dict_uint in 23.03 (the old name deprecated, then dropped). */
int shim_rte_tel_data_add_dict_u64(struct rte_tel_data *d, const char *name, uint64_t val);

#endif
