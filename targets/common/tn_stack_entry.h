/*
 * tn_stack_entry.h - internal to targets/: how tn_plat_stack_paint() learns the caller's stack
 * pointer, the point that stack depth is measured from.
 *
 * Inside a C function that point is unknown: return address, saved registers and padding lie
 * between it and the function's own locals, differently per compiler and architecture
 * (__builtin_dwarf_cfa() looked like the answer, but on ARM and AArch64 clang returns the frame
 * pointer instead). So tn_plat_stack_paint() is a two-instruction naked entry, written per
 * architecture: it passes the stack pointer as it was in the caller to a C function and jumps
 * (not calls) to it, so that the C function's frame is exactly where paint's own would be.
 *
 * TN_DEFINE_SP_ENTRY(name, target) defines `void name(void)`, which runs
 * `void target(uintptr_t caller_sp)` (target must be extern and "used": only asm refers to it).
 * Naked functions: clang everywhere (zig cc); gcc on x86-64, ARM, RISC-V (older gcc: not AArch64).
 */
#ifndef TN_STACK_ENTRY_H
#define TN_STACK_ENTRY_H

#if defined(__x86_64__)
/* call pushed the 8-byte return address */
#define TN_SP_ENTRY_ASM(target) "leaq 8(%rsp), %rdi\n\tjmp " #target "\n\t"
#elif defined(__aarch64__)
#define TN_SP_ENTRY_ASM(target) "mov x0, sp\n\tb " #target "\n\t"
#elif defined(__arm__) || defined(__thumb__)
#define TN_SP_ENTRY_ASM(target) "mov r0, sp\n\tb " #target "\n\t"
#elif defined(__riscv)
#define TN_SP_ENTRY_ASM(target) "mv a0, sp\n\ttail " #target "\n\t"
#else
#error "tn_stack_entry.h: add this architecture (caller's sp -> first argument, jump to target)"
#endif

#define TN_DEFINE_SP_ENTRY(name, target)                                                      \
    __attribute__((naked)) void name(void)                                                    \
    {                                                                                         \
        __asm__ __volatile__(TN_SP_ENTRY_ASM(target));                                        \
    }

#endif /* TN_STACK_ENTRY_H */
