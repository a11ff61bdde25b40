/* pc_types.h — the index type and limits shared by every floor. Pure C. */
#ifndef PC_TYPES_H
#define PC_TYPES_H

#include <stddef.h>

typedef ptrdiff_t pc_index;     /* every size, index and stride (in elements) */

#define PC_MAX_NDIM 32          /* as NumPy's NPY_MAXDIMS before 2.0 */

#endif
