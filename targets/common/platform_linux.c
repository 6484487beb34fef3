/*
 * platform_linux.c - tn_platform.h for the hosted targets (the host itself, and the Linux
 * targets under qemu-user): stdio files, no counter, stack painting in a big local array.
 */
#define _POSIX_C_SOURCE 199309L /* clock_gettime */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "tn_platform.h"
#include "tn_stack_entry.h"

#if defined(__GNUC__)
#define TN_NOINLINE __attribute__((noinline))
#else
#define TN_NOINLINE
#endif

/* ---- files: handles are indexes into a small table of FILE pointers ---- */

#define MAX_FILES 16
static FILE *files[MAX_FILES];

void tn_plat_init(void)
{
}

int tn_plat_open(const char *path, int mode)
{
    int h;
    for (h = 0; h < MAX_FILES; h++) {
        if (files[h] == NULL) {
            files[h] = fopen(path, mode == 0 ? "rb" : "wb");
            return files[h] != NULL ? h : -1;
        }
    }
    return -1;
}

static FILE *file_of(int handle)
{
    return handle >= 0 && handle < MAX_FILES ? files[handle] : NULL;
}

long tn_plat_read(int handle, void *buf, unsigned long n)
{
    FILE *f = file_of(handle);
    size_t got;
    if (f == NULL) {
        return -1;
    }
    got = fread(buf, 1, n, f); /* fread itself loops until n bytes, end of file or error */
    return ferror(f) ? -1 : (long)got;
}

int tn_plat_write(int handle, const void *buf, unsigned long n)
{
    FILE *f = file_of(handle);
    return f != NULL && fwrite(buf, 1, n, f) == n ? 0 : -1;
}

void tn_plat_close(int handle)
{
    FILE *f = file_of(handle);
    if (f != NULL) {
        fclose(f);
        files[handle] = NULL;
    }
}

void tn_plat_puts(const char *s)
{
    puts(s);
    fflush(stdout); /* console lines are progress and streamed tokens: let them out as they come */
}

void tn_plat_exit(int code)
{
    /* Exit statuses are 8 bits: keep a nonzero code nonzero (256 would become 0).
     * exit() flushes and closes the files still open. */
    if (code != 0 && (code & 0xFF) == 0) {
        code = 1;
    }
    exit(code);
}

/* No cycle or instruction counter is read on hosted targets (the figures would not be
 * comparable between a PC and QEMU's user mode anyway). */
uint64_t tn_plat_counter(void)
{
    return 0;
}

uint64_t tn_plat_time_ns(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_MONOTONIC, &ts) != 0) return 0;
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---- stack painting ----
 *
 * A hosted program does not know where its stack ends, so the area to paint is a large local
 * array in the paint function's own frame, i.e. just below the caller's frame. After paint
 * returns, that memory is below the caller's stack pointer, where the code under test will put
 * its frames. tn_plat_stack_used() has the same frame (the same array), so the region it scans
 * lies inside its own frame and the scan cannot clobber it.
 *
 * The depth is measured from the caller's stack pointer at the call (see tn_stack_entry.h).
 * Between that point and the top of the array lie paint's return address / saved registers /
 * padding (0-32 bytes): they cannot be painted, and count as used as soon as anything below
 * them was overwritten. Stack use beyond TN_STACK_PAINT_BYTES is not seen (the figure
 * saturates near that size).
 */
#ifndef TN_STACK_PAINT_BYTES
#define TN_STACK_PAINT_BYTES (128u * 1024u)
#endif
#define PAINT_WORDS (TN_STACK_PAINT_BYTES / 4u)
#define STACK_PATTERN 0x5AC3A55Cu

/* Addresses as integers: storing a local's address in a global is what we mean here, but
 * compilers rightly warn about it when it is a pointer (gcc -Wdangling-pointer). */
static uintptr_t painted;            /* address of the painted array (its lowest word) */
static uintptr_t paint_point;        /* the caller's stack pointer */
static volatile uintptr_t reserved;  /* address of used()'s array: stored so it is allocated */

__attribute__((used)) TN_NOINLINE void tn_paint_below(uintptr_t caller_sp);

void tn_paint_below(uintptr_t caller_sp)
{
    volatile uint32_t area[PAINT_WORDS];
    unsigned i;
    for (i = 0; i < PAINT_WORDS; i++) {
        area[i] = STACK_PATTERN;
    }
    painted = (uintptr_t)area;
    paint_point = caller_sp;
}

TN_DEFINE_SP_ENTRY(tn_plat_stack_paint, tn_paint_below)

TN_NOINLINE uint32_t tn_plat_stack_used(void)
{
    volatile uint32_t area[PAINT_WORDS]; /* never accessed: it reserves the painted region */
    const volatile uint32_t *p = (const volatile uint32_t *)painted;
    unsigned i;
    reserved = (uintptr_t)area;
    if (p == NULL) {
        return 0;
    }
    /* The stack grows down: the deepest word that changed is the lowest one. */
    for (i = 0; i < PAINT_WORDS && p[i] == STACK_PATTERN; i++) {
    }
    if (i == PAINT_WORDS) {
        return 0; /* nothing reached the painted area */
    }
    return (uint32_t)(paint_point - (uintptr_t)&p[i]);
}
