/* Headers whose declarations the safe layer uses. Keep this list short: every header added here
 * widens the generated bindings and may pull in types bindgen cannot lay out (see build.rs). */
#include <rte_config.h>
#include <rte_version.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_launch.h>
#include <rte_thread.h>
#include <rte_cycles.h>
#include <rte_mempool.h>
#include <rte_mbuf.h>
#include <rte_ethdev.h>
#include <rte_ether.h>
#include <rte_lpm.h>
#include <rte_lpm6.h>
#include <rte_hash.h>
#include <rte_telemetry.h>
#include <rte_pdump.h>

#include "shim.h"
