/*
 * stack_baremetal.c - tn_plat_stack_paint() / tn_plat_stack_used() for the bare-metal targets.
 *
 * The stack is all the RAM between __stack_limit (end of .bss, from link.ld) and the initial
 * stack pointer. Painting fills it, from __stack_limit up to the current stack pointer, with a
 * pattern; measuring finds the lowest word that no longer holds it.
 *
 * The depth is measured from the caller's stack pointer at the call (see tn_stack_entry.h).
 * Painting stops at the painting function's own stack pointer; the few bytes of its frame in
 * between count as used as soon as anything below them was overwritten.
 * Interrupts taken in between push their frames below sp, into the area that the code under
 * test overwrites anyway (on Cortex-M: 32 bytes, 104 with FPU state), so they only matter
 * if they arrive at the deepest point of a very shallow function.
 */
#include <stdint.h>

#include "tn_platform.h"
#include "tn_stack_entry.h"

extern uint32_t __stack_limit[];

#define STACK_PATTERN 0x5AC3A55Cu

static uintptr_t paint_top;   /* where painting stopped; 0 = not painted */
static uintptr_t paint_point; /* the caller's stack pointer */

static uintptr_t current_sp(void)
{
    uintptr_t sp;
#if defined(__arm__) || defined(__thumb__)
    __asm__ __volatile__("mov %0, sp" : "=r"(sp));
#elif defined(__riscv)
    __asm__ __volatile__("mv %0, sp" : "=r"(sp));
#else
#error "stack_baremetal.c: unknown architecture"
#endif
    return sp;
}

__attribute__((used, noinline)) void tn_paint_below(uintptr_t caller_sp);

void tn_paint_below(uintptr_t caller_sp)
{
    volatile uint32_t *p = __stack_limit;
    paint_top = current_sp() & ~(uintptr_t)3;
    paint_point = caller_sp;
    while ((uintptr_t)p < paint_top) {
        *p++ = STACK_PATTERN;
    }
}

TN_DEFINE_SP_ENTRY(tn_plat_stack_paint, tn_paint_below)

uint32_t tn_plat_stack_used(void)
{
    const volatile uint32_t *p = __stack_limit;
    if (paint_top == 0) {
        return 0;
    }
    while ((uintptr_t)p < paint_top && *p == STACK_PATTERN) {
        p++;
    }
    if ((uintptr_t)p == paint_top) {
        return 0; /* nothing reached the painted area */
    }
    return (uint32_t)(paint_point - (uintptr_t)p);
}
