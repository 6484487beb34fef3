/*
 * tn_insn_count.c - a QEMU TCG plugin that counts the guest instructions a program executes, so
 * that the benchmark can give instructions per weight for the Linux targets under qemu-user
 * (qemu-aarch64, qemu-arm), where no cycle counter means anything.
 *
 * At every translation block it adds an inline "add n_insns to a 64-bit counter" to the block:
 * every executed instruction of the block is counted once (a block left early by an exception
 * would be over-counted; the benchmark's code raises none). At exit it prints "tn-insns: <count>"
 * on stderr. bench/run.ts runs a case twice with different repetition counts and divides the
 * difference, which removes start-up, loading and checking.
 *
 * QEMU's plugin API is a C ABI (include/qemu/qemu-plugin.h in QEMU's sources); the few functions
 * used are declared here, as QEMU 7.2 exports them (API version 1), so that the plugin builds
 * without QEMU's source tree. Build: zig cc -shared -fPIC -O2 tn_insn_count.c -o libtn_insn_count.so
 * Use: qemu-aarch64 -plugin ./libtn_insn_count.so ./program
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef uint64_t qemu_plugin_id_t;
typedef struct qemu_info_t qemu_info_t;
struct qemu_plugin_tb;
enum qemu_plugin_op { QEMU_PLUGIN_INLINE_ADD_U64 = 0 };
typedef void (*qemu_plugin_vcpu_tb_trans_cb_t)(qemu_plugin_id_t id, struct qemu_plugin_tb *tb);
typedef void (*qemu_plugin_udata_cb_t)(qemu_plugin_id_t id, void *userdata);

extern void qemu_plugin_register_vcpu_tb_trans_cb(qemu_plugin_id_t id, qemu_plugin_vcpu_tb_trans_cb_t cb);
extern void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *tb, enum qemu_plugin_op op, void *ptr, uint64_t imm);
extern size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *tb);
extern void qemu_plugin_register_atexit_cb(qemu_plugin_id_t id, qemu_plugin_udata_cb_t cb, void *userdata);

__attribute__((visibility("default"))) int qemu_plugin_version = 1;

static uint64_t insns; /* the benchmark programs are single-threaded */

static void tb_trans(qemu_plugin_id_t id, struct qemu_plugin_tb *tb) {
  (void)id;
  qemu_plugin_register_vcpu_tb_exec_inline(tb, QEMU_PLUGIN_INLINE_ADD_U64, &insns, qemu_plugin_tb_n_insns(tb));
}

static void at_exit(qemu_plugin_id_t id, void *userdata) {
  (void)id;
  (void)userdata;
  fprintf(stderr, "tn-insns: %llu\n", (unsigned long long)insns);
}

__attribute__((visibility("default"))) int qemu_plugin_install(qemu_plugin_id_t id, const qemu_info_t *info, int argc, char **argv) {
  (void)info;
  (void)argc;
  (void)argv;
  qemu_plugin_register_vcpu_tb_trans_cb(id, tb_trans);
  qemu_plugin_register_atexit_cb(id, at_exit, NULL);
  return 0;
}
