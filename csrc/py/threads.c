/* py/threads.c — pycnn.set_num_threads / get_num_threads (the names PyTorch uses) over
 * the kernels' thread pool (kernels/parallel.h), and two plain C symbols through which
 * threadpoolctl limits that pool like any BLAS (pycnn/_threadpool.py).
 */
#include "py/bindings.h"

#include "kernels/parallel.h"

/* ---- for threadpoolctl (ctypes): plain C, callable without the GIL ------------------- */

__attribute__((visibility("default"))) int
pycnn_get_num_threads(void)
{
    return pc_get_num_threads();
}

/* 0, or -1 (nothing changed) unless 1 ≤ n ≤ PC_MAX_THREADS */
__attribute__((visibility("default"))) int
pycnn_set_num_threads(int n)
{
    return pc_set_num_threads(n);
}

/* ---- Python ------------------------------------------------------------------------ */

static PyObject *
py_set_num_threads(PyObject *Py_UNUSED(m), PyObject *arg)
{
    long n;
    int overflow;
    if (PyBool_Check(arg) || !PyIndex_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "set_num_threads: the number of threads must be an "
                     "int, got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    n = PyLong_AsLongAndOverflow(arg, &overflow);
    if (n == -1 && PyErr_Occurred())
        return NULL;
    if (overflow != 0 || n < 1 || n > PC_MAX_THREADS) {
        PyErr_Format(PyExc_ValueError, "set_num_threads: the number of threads must be "
                     "between 1 and %d, got %R", PC_MAX_THREADS, arg);
        return NULL;
    }
    (void)pc_set_num_threads((int)n);
    Py_RETURN_NONE;
}

static PyObject *
py_get_num_threads(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    return PyLong_FromLong(pc_get_num_threads());
}

PyMethodDef pc_threads_functions[] = {
    {"set_num_threads", py_set_num_threads, METH_O,
     "set_num_threads(n)\n--\n\nthe threads pycnn's own loops (im2col, col2im, pooling, the\n"
     "bias and activation passes) may use, 1 to 256; the GEMMs are NumPy's BLAS, which\n"
     "threadpoolctl limits (threadpool_limits(n) limits pycnn too). The default is\n"
     "PYCNN_NUM_THREADS, else OMP_NUM_THREADS, else the CPUs this process may run on.\n"
     "Results are the same for every thread count."},
    {"get_num_threads", py_get_num_threads, METH_NOARGS,
     "get_num_threads()\n--\n\nReturns int. the threads pycnn's own loops may use (set_num_threads)"},
    {NULL, NULL, 0, NULL},
};
