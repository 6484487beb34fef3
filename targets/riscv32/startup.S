/*
 * startup.S - RV32 bare-metal entry (QEMU virt, -bios none: the boot ROM jumps to 0x80000000,
 * where link.ld puts _start), the trap entry and the semihosting call.
 * The C half (trap report, counter) is startup.c.
 */

    .section .text.start, "ax"
    .global _start
_start:
    /* gp first, with relaxation off: the assembler would otherwise "relax" this very load
     * into a gp-relative one. */
    .option push
    .option norelax
    la      gp, __global_pointer$
    .option pop
    la      sp, __stack_top

    /* Copy .data from its load address (FLASH) to RAM, word by word (link.ld aligns to 4). */
    la      t0, __data_load
    la      t1, __data_start
    la      t2, __data_end
1:  bgeu    t1, t2, 2f
    lw      t3, 0(t0)
    sw      t3, 0(t1)
    addi    t0, t0, 4
    addi    t1, t1, 4
    j       1b

    /* Zero .bss. */
2:  la      t1, __bss_start
    la      t2, __bss_end
3:  bgeu    t1, t2, 4f
    sw      zero, 0(t1)
    addi    t1, t1, 4
    j       3b

    /* Traps (there are no interrupts enabled, so only exceptions) go to tn_trap_entry. */
4:  la      t0, tn_trap_entry
    csrw    mtvec, t0

    call    main
    call    tn_plat_exit        /* a0 = main's return value; does not return */
5:  j       5b

/* Direct-mode mtvec needs 4-byte alignment. The trap is reported and the program ends, so
 * nothing is saved; sp is reset in case the trap was a stack overflow. */
    .balign 4
tn_trap_entry:
    la      sp, __stack_top
    csrr    a0, mcause
    csrr    a1, mepc
    csrr    a2, mtval
    call    tn_trap_c
6:  j       6b

/* long tn_semihost_call(long op, void *arg): a0 = op, a1 = arg, result in a0.
 * QEMU (like debuggers) recognizes semihosting by the ebreak between these two no-op shifts.
 * They must be exactly these three 32-bit instructions (norvc: no compressed forms) and must
 * not straddle a page boundary: aligning the start to 16 bytes keeps all 12 bytes together. */
    .section .text.tn_semihost_call, "ax"
    .global tn_semihost_call
    .balign 16
tn_semihost_call:
    .option push
    .option norvc
    slli    x0, x0, 0x1f
    ebreak
    srai    x0, x0, 7
    .option pop
    ret
