/* autograd/ops_index.h — the recorder of indexing, y = x[key]. */
#ifndef PC_OPS_INDEX_H
#define PC_OPS_INDEX_H

#include "autograd/node.h"

/* y = a C-contiguous copy of view = x.data[key] (the view itself when it already is
 * one), recorded with saved[0] = key (the normalised key tuple) and args.getitem.advanced =
 * advanced (1 when key holds integer or boolean arrays). New ref or NULL. */
PyObject *pc_getitem_view(PyObject *x, PyObject *view, PyObject *key, int advanced);

#endif
