/*
 * platform_semihost.c - files, console and exit of tn_platform.h for the bare-metal targets,
 * on top of the per-architecture tn_semihost_call() (see tn_semihost.h).
 *
 * Run QEMU with -semihosting-config enable=on,target=native so that files are opened on the
 * host, relative to QEMU's working directory. The counter, the stack painting and
 * tn_plat_init() are in the per-architecture startup code, which knows the hardware.
 *
 * Handles are the host's semihosting handles (>= 0), passed through unchanged.
 */
#include "tn_platform.h"
#include "tn_semihost.h"

static unsigned long tn_strlen(const char *s)
{
    unsigned long n = 0;
    while (s[n] != '\0') {
        n++;
    }
    return n;
}

int tn_plat_open(const char *path, int mode)
{
    long block[3];
    block[0] = (long)path;
    block[1] = mode == 0 ? TN_SH_MODE_RB : TN_SH_MODE_WB;
    block[2] = (long)tn_strlen(path); /* the name length, without the NUL */
    return (int)tn_semihost_call(TN_SYS_OPEN, block);
}

long tn_plat_read(int handle, void *buf, unsigned long n)
{
    unsigned long got = 0;
    /* SYS_READ may return fewer bytes than asked (e.g. from a pipe): loop until n or EOF. */
    while (got < n) {
        long block[3];
        long not_read;
        block[0] = handle;
        block[1] = (long)((unsigned char *)buf + got);
        block[2] = (long)(n - got);
        not_read = tn_semihost_call(TN_SYS_READ, block);
        if (not_read < 0 || (unsigned long)not_read > n - got) {
            return -1;
        }
        if ((unsigned long)not_read == n - got) {
            break; /* nothing read: end of file */
        }
        got += (n - got) - (unsigned long)not_read;
    }
    return (long)got;
}

int tn_plat_write(int handle, const void *buf, unsigned long n)
{
    long block[3];
    block[0] = handle;
    block[1] = (long)buf;
    block[2] = (long)n;
    return tn_semihost_call(TN_SYS_WRITE, block) == 0 ? 0 : -1;
}

void tn_plat_close(int handle)
{
    long block[1];
    block[0] = handle;
    (void)tn_semihost_call(TN_SYS_CLOSE, block);
}

void tn_semihost_write0(const char *s)
{
    (void)tn_semihost_call(TN_SYS_WRITE0, (void *)s);
}

void tn_plat_puts(const char *s)
{
    tn_semihost_write0(s);
    tn_semihost_write0("\n");
}

void tn_semihost_write_hex(const char *label, unsigned long value)
{
    char text[2 + 2 * sizeof value + 1];
    unsigned i;
    text[0] = '0';
    text[1] = 'x';
    for (i = 0; i < 2 * sizeof value; i++) {
        unsigned digit = (unsigned)(value >> (4 * (2 * sizeof value - 1 - i))) & 0xFu;
        text[2 + i] = (char)(digit < 10 ? '0' + digit : 'a' + digit - 10);
    }
    text[2 + 2 * sizeof value] = '\0';
    tn_semihost_write0(label);
    tn_semihost_write0(text);
}

void tn_plat_exit(int code)
{
    long block[2];
    /* Host exit statuses are 8 bits: keep a nonzero code nonzero (256 would become 0). */
    if (code != 0 && (code & 0xFF) == 0) {
        code = 1;
    }
    /* SYS_EXIT_EXTENDED carries the status (QEMU exits with it). */
    block[0] = TN_ADP_STOPPED_APPLICATION_EXIT;
    block[1] = code;
    (void)tn_semihost_call(TN_SYS_EXIT_EXTENDED, block);
    /* Still here: a host without SYS_EXIT_EXTENDED. Plain 32-bit SYS_EXIT only tells success
     * from failure (QEMU then exits with 0 or 1). */
    (void)tn_semihost_call(TN_SYS_EXIT, (void *)(long)(code == 0 ? TN_ADP_STOPPED_APPLICATION_EXIT
                                                                  : TN_ADP_STOPPED_RUNTIME_ERROR));
    for (;;) {
    }
}

/* No wall clock on bare metal: instruction counts say how fast (tn_plat_counter). */
uint64_t tn_plat_time_ns(void)
{
    return 0;
}
