/*
 * stack_baremetal.c - tn_plat_stack_paint() / tn_plat_stack_used() for the bare-metal targets.
 *
 * The stack is all the RAM between __stack_limit (end of .bss, from link.ld) and the initial
 * stack pointer. Painting fills it, from __stack_limit up to the current stack pointer, with a
 * pattern; measuring finds the lowest word that no longer holds it.
 *
 * The "painting point" is the stack pointer inside tn_plat_stack_paint(). Calls on ARM and
 * RISC-V push nothing (the return address goes to a register), so for this leaf function that
 * is the caller's stack pointer, or a few bytes below it if the compiler gives it a frame.
 * Interrupts taken in between push their frames below sp, into the area that the code under
 * test overwrites anyway (on Cortex-M: 32 bytes, 104 with FPU state), so they only matter
 * if they arrive at the deepest point of a very shallow function.
 */
#include <stdint.h>

#include "tn_platform.h"

extern uint32_t __stack_limit[];

#define STACK_PATTERN 0x5AC3A55Cu

static uintptr_t paint_top; /* the painting point; 0 = not painted */

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

void tn_plat_stack_paint(void)
{
    volatile uint32_t *p = __stack_limit;
    paint_top = current_sp() & ~(uintptr_t)3;
    while ((uintptr_t)p < paint_top) {
        *p++ = STACK_PATTERN;
    }
}

uint32_t tn_plat_stack_used(void)
{
    const volatile uint32_t *p = __stack_limit;
    if (paint_top == 0) {
        return 0;
    }
    while ((uintptr_t)p < paint_top && *p == STACK_PATTERN) {
        p++;
    }
    return (uint32_t)(paint_top - (uintptr_t)p);
}
