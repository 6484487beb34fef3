/*
 * libc_min.c - memcpy, memset, memmove and memcmp for the freestanding targets.
 *
 * Even with -ffreestanding, compilers emit calls to these four for struct copies, large
 * initializers and zeroing, so every freestanding program needs them.
 *
 * The trap: an optimizer that recognizes "this loop is a memset" replaces the loop inside our
 * own memset with a call to memset, i.e. infinite recursion. We switch that off per function,
 * so that the file builds correctly with the caller's flags whatever they are:
 *   clang (zig cc): __attribute__((no_builtin)) - no library-call idioms in this function;
 *   gcc:            optimize("no-tree-loop-distribute-patterns") - the pass that makes the calls.
 * (Not -fno-builtin: that would need special flags for this one file. Not volatile: it would
 * forbid the optimizer from doing anything useful with the loops.)
 *
 * Word copies are used when both pointers are 4-byte aligned; the word type is may_alias so the
 * accesses are allowed whatever the objects' real types are.
 */
#include <stddef.h>
#include <stdint.h>

#if defined(__clang__)
#define TN_NO_LIBCALLS __attribute__((no_builtin))
#elif defined(__GNUC__)
#define TN_NO_LIBCALLS __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define TN_NO_LIBCALLS
#endif

typedef uint32_t __attribute__((may_alias)) tn_word;

#define TN_ALIGNED4(p) (((uintptr_t)(p) & 3u) == 0)

TN_NO_LIBCALLS void *memcpy(void *restrict dst, const void *restrict src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (TN_ALIGNED4(d) && TN_ALIGNED4(s)) {
        for (; n >= 4; n -= 4, d += 4, s += 4) {
            *(tn_word *)(void *)d = *(const tn_word *)(const void *)s;
        }
    }
    for (; n > 0; n--) {
        *d++ = *s++;
    }
    return dst;
}

TN_NO_LIBCALLS void *memset(void *dst, int c, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    if (TN_ALIGNED4(d)) {
        tn_word w = (unsigned char)c * 0x01010101u;
        for (; n >= 4; n -= 4, d += 4) {
            *(tn_word *)(void *)d = w;
        }
    }
    for (; n > 0; n--) {
        *d++ = (unsigned char)c;
    }
    return dst;
}

TN_NO_LIBCALLS void *memmove(void *dst, const void *src, size_t n)
{
    unsigned char *d = (unsigned char *)dst;
    const unsigned char *s = (const unsigned char *)src;
    if (d == s || n == 0) {
        return dst;
    }
    /* Compare as integers: comparing pointers into different objects is undefined in C. */
    if ((uintptr_t)d < (uintptr_t)s) {
        while (n-- > 0) {
            *d++ = *s++;
        }
    } else {
        while (n-- > 0) {
            d[n] = s[n];
        }
    }
    return dst;
}

TN_NO_LIBCALLS int memcmp(const void *a, const void *b, size_t n)
{
    const unsigned char *p = (const unsigned char *)a;
    const unsigned char *q = (const unsigned char *)b;
    for (; n > 0; n--, p++, q++) {
        if (*p != *q) {
            return *p < *q ? -1 : 1;
        }
    }
    return 0;
}
