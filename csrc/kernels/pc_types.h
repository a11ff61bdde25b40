/* pc_types.h — the index type and limits shared by every floor. Pure C.
 *
 * The kernel floor (csrc/kernels) is pure C11: no Python.h, no NumPy. Pointers, sizes
 * and strides in, numbers out; each topic is <topic>.h (both prototypes spelled out),
 * <topic>.c (instantiation only) and <topic>_impl.h, one body included twice for float
 * and double (dtype_f32.h / dtype_f64.h). Backward kernels accumulate (+=); nothing here
 * allocates behind the caller's back. */
#ifndef PC_TYPES_H
#define PC_TYPES_H

#include <stddef.h>

typedef ptrdiff_t pc_index;     /* every size, index and stride (in elements) */

#define PC_MAX_NDIM 32          /* as NumPy's NPY_MAXDIMS before 2.0 */

/* *out = a · b; returns 1 (and leaves *out undefined) when the product overflows
 * pc_index: every size computed from user numbers goes through it. */
static inline int
pc_mul_overflows(pc_index a, pc_index b, pc_index *out)
{
    return __builtin_mul_overflow(a, b, out);
}

/* GCC turns short copy loops back into memcpy/memmove calls (a call per few values)
 * unless told not to */
#if defined(__GNUC__) && !defined(__clang__)
#define PC_NO_MEMCPY_IDIOM __attribute__((optimize("no-tree-loop-distribute-patterns")))
#else
#define PC_NO_MEMCPY_IDIOM
#endif

#endif
