// Limits every reader's graphs meet, chosen so that generated C can index every tensor with int32_t and
// so that the compiler can bound every accumulator (docs/format.md, "Limits"). `inferNode`
// (passes/infer.ts) applies them to every tensor a node makes, whichever reader made the graph.

/** Elements in one tensor: C indexes with int32_t. */
export const MAX_ELEMENTS = 2 ** 31 - 1;

/** Bytes of one tensor: kernels take byte counts as int32_t, and a 32-bit target cannot hold more in
 * one object. The arena as a whole has the same limit (its offsets are int32_t-sized literals). */
export const MAX_TENSOR_BYTES = 2 ** 31 - 1;

/** The reduction length K of a low-bit linear layer. 2^24 * 127 still fits in int32; with
 * activations that can reach -128 the compiler switches to int64 accumulation (see numerics.md). */
export const MAX_K = 2 ** 24;

/** Rank of any tensor. */
export const MAX_RANK = 8;

export const FORMAT_NAME = 'tritc';
export const FORMAT_VERSION = 1;
