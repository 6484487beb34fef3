/*
 * startup.c - the C half of the RV32 bare-metal startup (startup.S): trap report and the
 * retired-instruction counter of tn_platform.h. (Stack painting: common/stack_baremetal.c;
 * files and exit: common/platform_semihost.c.)
 */
#include <stdint.h>

#include "../common/tn_platform.h"
#include "../common/tn_semihost.h"

/* Called by tn_trap_entry in startup.S ("used": only asm refers to it, and zig cc links with
 * LTO). mcause: the exception code (2 = illegal instruction, 5 = load access fault, ...),
 * mepc: the faulting instruction, mtval: the faulting address or instruction. */
__attribute__((used)) void tn_trap_c(uint32_t mcause, uint32_t mepc, uint32_t mtval);

void tn_trap_c(uint32_t mcause, uint32_t mepc, uint32_t mtval)
{
    tn_semihost_write_hex("\nTrap: mcause=", mcause);
    tn_semihost_write_hex(" mepc=", mepc);
    tn_semihost_write_hex(" mtval=", mtval);
    tn_semihost_write0("\n");
    tn_plat_exit(TN_EXIT_FAULT);
}

void tn_plat_init(void)
{
    /* Nothing to do: minstret runs from reset, and machine mode may always read it. */
}

/* The 64-bit retired-instruction count. On RV32 it is two CSRs: read high, low, high again
 * and retry if the high half changed (the low half wrapped in between). */
uint64_t tn_plat_counter(void)
{
    uint32_t hi, lo, hi2;
    do {
        __asm__ __volatile__("rdinstreth %0" : "=r"(hi));
        __asm__ __volatile__("rdinstret %0" : "=r"(lo));
        __asm__ __volatile__("rdinstreth %0" : "=r"(hi2));
    } while (hi != hi2);
    return ((uint64_t)hi << 32) | lo;
}
