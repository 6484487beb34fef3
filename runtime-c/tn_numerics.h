/*
 * tn_numerics.h - what keeps the C bit-exact with tritc's interpreter when the build's flags cannot
 * say it: each float operation must be one binary32 operation in the order written (docs/numerics.md),
 * so no multiply-add may be fused. Builds should pass -ffp-contract=off; where a build system gives
 * no say over the flags (an Arduino library, whose C GCC compiles in GNU mode, which fuses by
 * default), these pragmas turn contraction off for the rest of every file that includes this one:
 * the standard pragma for clang, GCC's own for GCC (which ignores the standard one).
 */
#ifndef TN_NUMERICS_H
#define TN_NUMERICS_H

#if defined(__clang__)
#pragma STDC FP_CONTRACT OFF
#elif defined(__GNUC__)
#pragma GCC optimize("fp-contract=off")
#endif

#endif /* TN_NUMERICS_H */
