/*
 * startup.c - Cortex-M3 / Cortex-M4 startup and the hardware half of tn_platform.h:
 * vector table, reset, fault reporting, SysTick counter, semihosting call.
 * (Stack painting: common/stack_baremetal.c; files and exit: common/platform_semihost.c.)
 *
 * Memory layout (symbols from link.ld):
 *   __data_load        .data initial values in FLASH
 *   __data_start/_end  .data in RAM
 *   __bss_start/_end   .bss in RAM
 *   __stack_top        initial stack pointer (end of RAM); __stack_limit (end of .bss) is used
 *                      by stack_baremetal.c
 */
#include <stdint.h>

#include "../common/tn_platform.h"
#include "../common/tn_semihost.h"

extern uint32_t __data_load[], __data_start[], __data_end[], __bss_start[], __bss_end[];
extern uint32_t __stack_top[];

int main(void);

/* System control registers (ARMv7-M architecture reference manual, B3.2 / B3.3). */
#define REG32(addr) (*(volatile uint32_t *)(addr))
#define SCB_ICSR   REG32(0xE000ED04u) /* bit 26 PENDSTSET: SysTick exception pending */
#define SCB_CFSR   REG32(0xE000ED28u) /* configurable fault status */
#define SCB_HFSR   REG32(0xE000ED2Cu) /* HardFault status */
#define SCB_BFAR   REG32(0xE000ED38u) /* bus fault address */
#define SYST_CSR   REG32(0xE000E010u) /* bit 0 ENABLE, 1 TICKINT, 2 CLKSOURCE (1 = processor) */
#define SYST_RVR   REG32(0xE000E014u) /* reload value, 24 bits */
#define SYST_CVR   REG32(0xE000E018u) /* current value, counts down; any write clears it */

#define ICSR_PENDSTSET (1u << 26)

/* ---- reset ---------------------------------------------------------------------------- */

/* Not static, and "used": only the asm in Reset_Handler refers to it, by name (zig cc links
 * with LTO at -O2, which would otherwise drop it). */
__attribute__((used)) void tn_reset_c(void);

/*
 * The entry point. The FPU (Cortex-M4F) is off at reset and the first floating-point
 * instruction would fault, and a C function may use FPU registers anywhere (even to copy
 * memory). So the FPU is enabled in naked asm, before any compiled code runs:
 * CPACR (0xE000ED88) |= 0xF << 20 grants full access to CP10 and CP11; DSB/ISB make the
 * change visible to the following instructions.
 */
__attribute__((naked, noreturn)) void Reset_Handler(void)
{
    __asm__ __volatile__(
#if defined(__ARM_FP)
        "movw r0, #0xED88\n\t"
        "movt r0, #0xE000\n\t"
        "ldr  r1, [r0]\n\t"
        "orr  r1, r1, #(0xF << 20)\n\t"
        "str  r1, [r0]\n\t"
        "dsb\n\t"
        "isb\n\t"
#endif
        "b tn_reset_c\n\t");
}

void tn_reset_c(void)
{
    /* volatile: keeps the compiler from turning these loops into memcpy/memset calls. */
    volatile uint32_t *dst = __data_start;
    const volatile uint32_t *src = __data_load;
    while (dst < __data_end) {
        *dst++ = *src++;
    }
    for (dst = __bss_start; dst < __bss_end; dst++) {
        *dst = 0;
    }
    tn_plat_exit(main());
}

/* ---- faults ----------------------------------------------------------------------------- */

/* Called (by name) from the asm in Fault_Handler, hence "used". frame = the exception stack
 * frame {r0, r1, r2, r3, r12, lr, pc, xpsr}. */
__attribute__((used)) void tn_fault_c(const uint32_t *frame);

void tn_fault_c(const uint32_t *frame)
{
    tn_semihost_write_hex("\nHardFault: pc=", frame[6]);
    tn_semihost_write_hex(" lr=", frame[5]);
    tn_semihost_write_hex(" cfsr=", SCB_CFSR);
    tn_semihost_write_hex(" hfsr=", SCB_HFSR);
    tn_semihost_write_hex(" bfar=", SCB_BFAR);
    tn_semihost_write0("\n");
    tn_plat_exit(TN_EXIT_FAULT);
}

/* All faults (NMI, HardFault and the configurable faults, which escalate to HardFault
 * unless enabled) and unexpected exceptions. Bit 2 of EXC_RETURN (in lr) tells whether the
 * frame was pushed on the main or the process stack. */
__attribute__((naked, noreturn)) void Fault_Handler(void)
{
    __asm__ __volatile__(
        "tst lr, #4\n\t"
        "ite eq\n\t"
        "mrseq r0, msp\n\t"
        "mrsne r0, psp\n\t"
        "b tn_fault_c\n\t");
}

/* ---- SysTick ---------------------------------------------------------------------------- */

/* SYST_RVR: the maximum, so the interrupt comes once per 2^24 ticks. Overridable to test the
 * wrap handling (e.g. -DTN_SYSTICK_RELOAD=0xFFF). */
#ifndef TN_SYSTICK_RELOAD
#define TN_SYSTICK_RELOAD 0xFFFFFFu
#endif

static volatile uint32_t systick_wraps;

void SysTick_Handler(void)
{
    systick_wraps++;
}

void tn_plat_init(void)
{
    SYST_CSR = 0;
    SYST_RVR = TN_SYSTICK_RELOAD;
    SYST_CVR = 0;         /* clears the counter; it reloads on the next tick */
    systick_wraps = 0;
    SYST_CSR = 7u;        /* processor clock, interrupt on wrap, enable */
}

/*
 * Ticks since tn_plat_init(), extended to 64 bits. SysTick counts RVR, RVR-1, ..., 1, 0 and
 * raises its interrupt on the step from 1 to 0 (not on the reload after 0), so a period of
 * RVR+1 ticks, as the interrupt sees it, runs 0, RVR, ..., 1; hence the "mod".
 * Race: the counter may have stepped to 0 with the interrupt not yet taken. With interrupts
 * masked, the pending bit tells exactly that; if it is set, the step happened before we looked
 * at the pending bit, so re-reading CVR gives a value that goes with wraps + 1.
 * PRIMASK is saved and restored, so this is also safe with interrupts already off.
 */
#define SYSTICK_PERIOD ((uint32_t)TN_SYSTICK_RELOAD + 1u)

uint64_t tn_plat_counter(void)
{
    uint32_t primask, wraps, cvr;
    if ((SYST_CSR & 1u) == 0) {
        return 0;
    }
    __asm__ __volatile__("mrs %0, primask\n\tcpsid i" : "=r"(primask) : : "memory");
    wraps = systick_wraps;
    cvr = SYST_CVR;
    if (SCB_ICSR & ICSR_PENDSTSET) {
        wraps++;
        cvr = SYST_CVR;
    }
    __asm__ __volatile__("msr primask, %0" : : "r"(primask) : "memory");
    return (uint64_t)wraps * SYSTICK_PERIOD + (SYSTICK_PERIOD - cvr) % SYSTICK_PERIOD;
}

/* ---- semihosting -------------------------------------------------------------------------- */

long tn_semihost_call(long op, void *arg)
{
    register long r0 __asm__("r0") = op;
    register void *r1 __asm__("r1") = arg;
    /* "memory": the host reads and writes the parameter block and the buffers it points to. */
    __asm__ __volatile__("bkpt 0xAB" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

/* ---- vector table --------------------------------------------------------------------------- */

/* Entry 0 is the initial stack pointer, the others are handlers: a union keeps both types
 * honest (ISO C has no conversion between data and function pointers). */
typedef union {
    void (*handler)(void);
    uint32_t *stack;
} tn_vector;

/* "used" + KEEP(*(.vectors)) in link.ld: nothing references the table, the hardware reads it
 * at address 0. Only the 16 system exceptions: no peripheral interrupt is ever enabled. */
__attribute__((used, section(".vectors"))) const tn_vector tn_vectors[16] = {
    {.stack = __stack_top},
    {.handler = Reset_Handler},
    {.handler = Fault_Handler},   /*  2 NMI */
    {.handler = Fault_Handler},   /*  3 HardFault */
    {.handler = Fault_Handler},   /*  4 MemManage */
    {.handler = Fault_Handler},   /*  5 BusFault */
    {.handler = Fault_Handler},   /*  6 UsageFault */
    {0}, {0}, {0}, {0},           /*  7-10 reserved */
    {.handler = Fault_Handler},   /* 11 SVCall */
    {.handler = Fault_Handler},   /* 12 DebugMonitor */
    {0},                          /* 13 reserved */
    {.handler = Fault_Handler},   /* 14 PendSV */
    {.handler = SysTick_Handler}, /* 15 SysTick */
};
