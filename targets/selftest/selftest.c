/*
 * selftest.c - checks one target's implementation of tn_platform.h (run by run-all.sh).
 *
 * Uses nothing but tn_platform.h (no libc), so the same file runs hosted and bare-metal:
 *   1. writes selftest.out: the bytes 0..255, then every byte of selftest.in (if present);
 *      also checks that opening a missing file fails
 *   2. prints lines (the console)
 *   3. counts two loops of known instruction counts with tn_plat_counter()
 *   4. measures the stack used by a function with a 1000-byte local array
 *   5. prints the bit patterns of a few float32 operations
 *   6. exits with status 3
 * Output lines, parsed by run-all.sh:
 *   selftest: start
 *   data: ok | data: FAIL          (.data initialized and .bss zeroed by the startup code)
 *   files: ok | files: FAIL ...
 *   counter: <units for LOOP_SHORT iterations> <units for LOOP_LONG iterations> <loop insns>
 *   stack: <bytes>
 *   float: <8 hex digits> ...
 *   selftest: end
 */
#include "tn_platform.h"

/* ---- text output without printf ---- */

static char line[200];
static unsigned line_len;

static void put_str(const char *s)
{
    while (*s != '\0' && line_len + 1 < sizeof line) {
        line[line_len++] = *s++;
    }
    line[line_len] = '\0';
}

static void put_dec(uint64_t v)
{
    char digits[21];
    unsigned n = 0;
    do {
        digits[n++] = (char)('0' + (unsigned)(v % 10u));
        v /= 10u;
    } while (v != 0);
    while (n > 0 && line_len + 1 < sizeof line) {
        line[line_len++] = digits[--n];
    }
    line[line_len] = '\0';
}

static void put_hex32(uint32_t v)
{
    static const char hex[] = "0123456789abcdef";
    int shift;
    for (shift = 28; shift >= 0 && line_len + 1 < sizeof line; shift -= 4) {
        line[line_len++] = hex[(v >> shift) & 0xFu];
    }
    line[line_len] = '\0';
}

static void end_line(void)
{
    tn_plat_puts(line);
    line_len = 0;
    line[0] = '\0';
}

/* ---- 1. files ---- */

static int check_files(void)
{
    unsigned char buf[100]; /* deliberately not a divisor of the input size */
    long n;
    int out, in, i;

    if (tn_plat_open("selftest.missing-file", 0) >= 0) {
        put_str("files: FAIL opening a missing file succeeded");
        return -1;
    }
    out = tn_plat_open("selftest.out", 1);
    if (out < 0) {
        put_str("files: FAIL cannot create selftest.out");
        return -1;
    }
    for (i = 0; i < 256; i++) {
        buf[i % 100] = (unsigned char)i;
        if (i % 100 == 99 || i == 255) {
            if (tn_plat_write(out, buf, (unsigned long)(i % 100 + 1)) != 0) {
                put_str("files: FAIL write");
                return -1;
            }
        }
    }
    in = tn_plat_open("selftest.in", 0);
    if (in >= 0) {
        while ((n = tn_plat_read(in, buf, sizeof buf)) > 0) {
            if (tn_plat_write(out, buf, (unsigned long)n) != 0) {
                put_str("files: FAIL write");
                return -1;
            }
        }
        tn_plat_close(in);
        if (n < 0) {
            put_str("files: FAIL read");
            return -1;
        }
    }
    tn_plat_close(out);
    put_str("files: ok");
    return 0;
}

/* ---- 3. a loop of exactly 2 * n instructions (n >= 1) ---- */

static void spin(uint32_t n)
{
#if defined(__arm__) || defined(__thumb__)
    __asm__ __volatile__("1: subs %0, %0, #1\n\tbne 1b" : "+r"(n) : : "cc");
#elif defined(__aarch64__)
    __asm__ __volatile__("1: subs %w0, %w0, #1\n\tb.ne 1b" : "+r"(n) : : "cc");
#elif defined(__riscv)
    __asm__ __volatile__("1: addi %0, %0, -1\n\tbnez %0, 1b" : "+r"(n));
#elif defined(__x86_64__)
    __asm__ __volatile__("1: subl $1, %0\n\tjnz 1b" : "+r"(n) : : "cc");
#else
    volatile uint32_t k = n;
    while (k != 0) {
        k--;
    }
#endif
}

#define LOOP_SHORT 1000u
#define LOOP_LONG 1001000u

static uint64_t time_spin(uint32_t n)
{
    uint64_t start = tn_plat_counter();
    spin(n);
    return tn_plat_counter() - start;
}

/* ---- 4. a function with a known stack need ---- */

static int use_stack(int k)
{
    volatile unsigned char a[1000];
    unsigned i;
    for (i = 0; i < sizeof a; i++) {
        a[i] = (unsigned char)(i + (unsigned)k);
    }
    return a[(unsigned)k % sizeof a];
}

/* Called through a volatile pointer so that it is never inlined into main(). */
static int (*volatile use_stack_ptr)(int) = use_stack;

/* ---- 5. float32 ---- */

static uint32_t float_bits(float f)
{
    union {
        float f;
        uint32_t u;
    } v;
    v.f = f;
    return v.u;
}

static void floats(void)
{
    /* volatile: computed at run time by the target, not folded by the compiler. */
    volatile float a = 1.1f, b = 2.2f, c = 3.0f, tiny = 1.0e-38f, small = 0.01f;
    volatile int i = 16777217, j = -7;
    float results[8];
    unsigned k;
    results[0] = a + b;
    results[1] = a * b;
    results[2] = a / c;
    results[3] = a - b;
    results[4] = (float)i; /* 2^24 + 1 is not representable: rounds to even */
    results[5] = (float)j;
    results[6] = tiny * small; /* a subnormal result: catches flush-to-zero */
    results[7] = c / b - a;
    put_str("float:");
    for (k = 0; k < sizeof results / sizeof results[0]; k++) {
        put_str(" ");
        put_hex32(float_bits(results[k]));
    }
}

/* ---- startup checks: .data copied, .bss zeroed ---- */

static volatile uint32_t initialized[4] = {0x12345678u, 0x9ABCDEF0u, 3u, 4u};
static volatile uint32_t zeroed[16];

static int check_data(void)
{
    unsigned k;
    if (initialized[0] != 0x12345678u || initialized[1] != 0x9ABCDEF0u || initialized[3] != 4u) {
        return -1;
    }
    for (k = 0; k < 16; k++) {
        if (zeroed[k] != 0) {
            return -1;
        }
    }
    return 0;
}

int main(void)
{
    uint64_t t_short, t_long;
    uint32_t stack;
    int ok = 1;

    tn_plat_init();
    tn_plat_puts("selftest: start");

    if (check_data() == 0) {
        put_str("data: ok");
    } else {
        put_str("data: FAIL");
        ok = 0;
    }
    end_line();

    if (check_files() != 0) {
        ok = 0;
    }
    end_line();

    t_short = time_spin(LOOP_SHORT);
    t_long = time_spin(LOOP_LONG);
    put_str("counter: ");
    put_dec(t_short);
    put_str(" ");
    put_dec(t_long);
    put_str(" ");
    put_dec(2u * (LOOP_LONG - LOOP_SHORT));
    end_line();

    tn_plat_stack_paint();
    (void)use_stack_ptr(7);
    stack = tn_plat_stack_used();
    put_str("stack: ");
    put_dec(stack);
    end_line();

    floats();
    end_line();

    tn_plat_puts(ok ? "selftest: end" : "selftest: end (with failures)");
    tn_plat_exit(3);
    return 3;
}
