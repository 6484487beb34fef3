/*
 * tn_platform.h - the small platform layer under tritc's test runner (not under the model).
 *
 * Generated model code never includes this file: a compiled model needs no libc, no I/O and no
 * platform at all. The runner that tritc generates to check a model under QEMU (or natively) uses
 * this API to read input vectors, write outputs, count instructions and measure stack use.
 *
 * Implementations:
 *   platform_linux.c     hosted targets (host, qemu-user): stdio files, no counter, stack painting
 *   platform_semihost.c  bare-metal targets: ARM / RISC-V semihosting file calls; the per-arch startup
 *                        file supplies tn_semihost_call(), tn_plat_init() and the counter, and
 *                        stack_baremetal.c paints the RAM between .bss and the stack pointer
 * Which files each target compiles: targets/<name>/target.json; overview: targets/README.md.
 */
#ifndef TN_PLATFORM_H
#define TN_PLATFORM_H

#include <stdint.h>

/* Called once at the start of main(): enables counters (SysTick on Cortex-M), etc. */
void tn_plat_init(void);

/* Files, relative to the directory the runner (or QEMU) was started in.
 * mode: 0 = read (binary), 1 = write (binary, create/truncate). Returns a handle >= 0, or -1. */
int tn_plat_open(const char *path, int mode);
/* Reads exactly n bytes unless end of file; returns the number of bytes read, or -1 on error. */
long tn_plat_read(int handle, void *buf, unsigned long n);
/* Writes n bytes; returns 0 on success, -1 on error. */
int tn_plat_write(int handle, const void *buf, unsigned long n);
void tn_plat_close(int handle);

/* One line of text to the console (a newline is appended). */
void tn_plat_puts(const char *s);

/* Ends the program with this status code (0 = success). Never returns. */
void tn_plat_exit(int code);

/* A monotonically increasing event counter: on RISC-V the retired-instruction count (minstret),
 * on Cortex-M SysTick ticks of the processor clock extended to 64 bits. Returns 0 where the target
 * has no counter (the hosted targets). The starting point is arbitrary: use differences. The unit
 * and the instructions-per-unit factor under QEMU -icount shift=0 are in the target's target.json
 * ("counter": {"unit", "instructionsPerUnit", "resolutionInstructions"}). */
uint64_t tn_plat_counter(void);

/* Wall-clock nanoseconds from a monotonic clock on the hosted targets (under qemu-user: emulated
 * time, which says how fast the emulator is, not the board); 0 on bare metal. Use differences. */
uint64_t tn_plat_time_ns(void);

/* Stack measurement: tn_plat_stack_paint() fills the unused part of the stack with a pattern;
 * after the code under test has run, tn_plat_stack_used() returns the number of bytes below the
 * painting point (the caller's stack pointer at the paint call) that were overwritten: the peak
 * stack depth of that code, in bytes, a multiple of 4. Call both from the same function (the same
 * stack depth), with nothing deeper in between but the code under test. Hosted targets paint a
 * fixed area (128 KiB) below the caller; bare-metal targets paint all free RAM. */
void tn_plat_stack_paint(void);
uint32_t tn_plat_stack_used(void);

#endif /* TN_PLATFORM_H */
