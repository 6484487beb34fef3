/*
 * aeabi_fcmpgt.c - a correct __aeabi_fcmpgt for the soft-float Cortex-M3 build.
 *
 * The run-time ABI says __aeabi_fcmpgt(a, b) is 1 if a > b and 0 otherwise, so 0 when either operand
 * is NaN. Zig 0.11's compiler-rt returns 1 there (seen: (NaN, 0), (0, NaN), (NaN, +-1)), which made
 * x > 0.0f true for NaN: Relu returned NaN where the interpreter gives 0. Its __aeabi_fcmplt, fcmple,
 * fcmpge, fcmpeq and fcmpun are right, and compiler-rt's symbols are weak, so this strong definition
 * replaces the broken one. (GCC's libgcc is correct; this file only matters for builds with zig cc.)
 */
extern int __aeabi_fcmplt(float a, float b);
int __aeabi_fcmpgt(float a, float b);

int __aeabi_fcmpgt(float a, float b) { return __aeabi_fcmplt(b, a); }
