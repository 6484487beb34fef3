/*
 * tn_semihost.h - internal to targets/: the semihosting primitive of the bare-metal targets.
 *
 * Semihosting lets a program on a simulated (or debugger-attached) CPU ask the host to do I/O.
 * The ARM convention (also adopted by RISC-V): operation number in r0/a0, a pointer to a
 * parameter block (or a single argument) in r1/a1, result in r0/a0. Parameter-block fields are
 * of the register width, so `long` here (32-bit on every bare-metal target we have).
 *
 * tn_semihost_call() is the only per-architecture piece; it lives with the startup code:
 *   cortex-m/startup.c   bkpt 0xAB
 *   riscv32/startup.S    slli x0,x0,0x1f ; ebreak ; srai x0,x0,7
 */
#ifndef TN_SEMIHOST_H
#define TN_SEMIHOST_H

long tn_semihost_call(long op, void *arg);

/* Operation numbers (ARM "Semihosting for AArch32 and AArch64", version 2.0). */
#define TN_SYS_OPEN          0x01
#define TN_SYS_CLOSE         0x02
#define TN_SYS_WRITE0        0x04 /* arg: NUL-terminated string, written to the console */
#define TN_SYS_WRITE         0x05 /* returns the number of bytes NOT written */
#define TN_SYS_READ          0x06 /* returns the number of bytes NOT read */
#define TN_SYS_EXIT          0x18 /* 32-bit: arg is the reason code itself, no status */
#define TN_SYS_EXIT_EXTENDED 0x20 /* arg: {reason, status}, so the status reaches the host */

/* SYS_OPEN modes (an index into the fopen() mode strings "r","rb","r+","r+b","w","wb",...). */
#define TN_SH_MODE_RB 1
#define TN_SH_MODE_WB 5

/* SYS_EXIT reason codes. */
#define TN_ADP_STOPPED_APPLICATION_EXIT 0x20026
#define TN_ADP_STOPPED_RUNTIME_ERROR    0x20023

/* Exit status used by the fault / trap handlers (70 = EX_SOFTWARE in BSD sysexits.h). */
#define TN_EXIT_FAULT 70

/* Console helpers shared by the fault handlers (platform_semihost.c). */
void tn_semihost_write0(const char *s);
void tn_semihost_write_hex(const char *label, unsigned long value); /* "label0x0000abcd" */

#endif /* TN_SEMIHOST_H */
