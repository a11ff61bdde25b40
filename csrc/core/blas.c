/* core/blas.c — see blas.h. */
#include "core/blas.h"

#include <string.h>
#ifdef __linux__
#include <dlfcn.h>
#include <link.h>
#define PC_FIND_CBLAS 1
#endif

#include "kernels/gemm.h"
#include "core/bufpool.h"

/* np.matmul, looked up once. Not np.dot (PyArray_MatrixProduct2): dot memsets its
 * output before the GEMM, one extra pass over every result (7 MB for the patch
 * gradient of a 32-image 3×3×32 convolution); the matmul ufunc hands the BLAS
 * the output as it is, and transposed views as transposes, without copies. */
static PyObject *
matmul_ufunc(void)
{
    static PyObject *ufunc = NULL;
    if (ufunc == NULL) {
        PyObject *np = PyImport_ImportModule("numpy");
        if (np == NULL)
            return NULL;
        ufunc = PyObject_GetAttrString(np, "matmul");       /* kept for the process */
        Py_DECREF(np);
    }
    return ufunc;
}

/* out = a · b through np.matmul(a, b, out=out) */
static int
matmul_into(PyObject *a, PyObject *b, PyArrayObject *out)
{
    static PyObject *kwnames = NULL;
    PyObject *ufunc = matmul_ufunc(), *r;
    if (ufunc == NULL)
        return -1;
    if (kwnames == NULL && (kwnames = Py_BuildValue("(s)", "out")) == NULL)
        return -1;
    PyObject *args[4] = {NULL, a, b, (PyObject *)out};
    r = PyObject_Vectorcall(ufunc, args + 1, 2 | PY_VECTORCALL_ARGUMENTS_OFFSET, kwnames);
    Py_XDECREF(r);
    return r == NULL ? -1 : 0;
}

/* A 2-D operand as CBLAS takes it: *trans flipped when it is stored transposed
 * (F-contiguous), *ld its leading dimension; 0 when CBLAS cannot take it */
static int
cblas_operand(PyArrayObject *a, int type, int *trans, npy_intp *ld)
{
    if (PyArray_NDIM(a) != 2 || PyArray_TYPE(a) != type || !PyArray_ISALIGNED(a) ||
        !PyArray_ISNOTSWAPPED(a))
        return 0;
    if (PyArray_IS_C_CONTIGUOUS(a))
        *ld = PyArray_DIM(a, 1);
    else if (PyArray_IS_F_CONTIGUOUS(a)) {
        *ld = PyArray_DIM(a, 0);
        *trans = !*trans;
    }
    else
        return 0;
    *ld = *ld > 1 ? *ld : 1;
    return 1;
}

/* 1 when the memory of a and b may overlap */
static int
may_overlap(PyArrayObject *a, PyArrayObject *b)
{
    const char *a0 = PyArray_BYTES(a), *b0 = PyArray_BYTES(b);
    return a0 < b0 + PyArray_NBYTES(b) && b0 < a0 + PyArray_NBYTES(a);
}

/* out (=|+=) op(a)·op(b) on NumPy's CBLAS without the GIL (kernels/gemm.h); 0 when the
 * operands are not plain 2-D float matrices of out's dtype, or out shares memory with
 * one of them (np.matmul copies then), nothing done */
static int
cblas_product(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b,
              PyArrayObject *out, int accumulate)
{
    const int type = PyArray_TYPE(out);
    pc_gemm_batch job = {type == NPY_FLOAT64, trans_a, trans_b, accumulate, 1};
    NPY_BEGIN_THREADS_DEF;

    if (!pc_gemm_ready() || (type != NPY_FLOAT32 && type != NPY_FLOAT64) ||
        PyArray_NDIM(out) != 2 || !PyArray_IS_C_CONTIGUOUS(out) || !PyArray_ISALIGNED(out) ||
        !PyArray_ISNOTSWAPPED(out) || !PyArray_ISWRITEABLE(out) ||
        !cblas_operand(a, type, &job.trans_a, &job.lda) ||
        !cblas_operand(b, type, &job.trans_b, &job.ldb) || may_overlap(out, a) ||
        may_overlap(out, b))
        return 0;
    job.m = PyArray_DIM(a, trans_a ? 1 : 0);
    job.k = PyArray_DIM(a, trans_a ? 0 : 1);
    job.n = PyArray_DIM(b, trans_b ? 0 : 1);
    if (PyArray_DIM(b, trans_b ? 1 : 0) != job.k || PyArray_DIM(out, 0) != job.m ||
        PyArray_DIM(out, 1) != job.n || !pc_gemm_fits(job.m, job.n, job.k) ||
        !pc_gemm_fits(job.lda, job.ldb, 0))
        return 0;               /* np.matmul names the mismatch */
    job.a = PyArray_DATA(a);
    job.b = PyArray_DATA(b);
    job.c = PyArray_DATA(out);
    job.ldc = job.n > 1 ? job.n : 1;
    NPY_BEGIN_THREADS;
    pc_gemm_batched(&job);
    NPY_END_THREADS;
    return 1;
}

int
pc_matmul(PyArrayObject *a, int trans_a, PyArrayObject *b, int trans_b, PyArrayObject *out,
          int accumulate)
{
    PyObject *av = NULL, *bv = NULL;
    PyArrayObject *target = out;
    int status = -1;

    if (cblas_product(a, trans_a, b, trans_b, out, accumulate))
        return 0;
    av = trans_a ? PyArray_Transpose(a, NULL) : Py_NewRef(a);         /* new refs */
    bv = trans_b ? PyArray_Transpose(b, NULL) : Py_NewRef(b);
    if (av == NULL || bv == NULL)
        goto done;
    if (accumulate) {
        target = pc_pool_array(PyArray_NDIM(out), PyArray_SHAPE(out), PyArray_TYPE(out), 0);
        if (target == NULL)
            goto done;
    }
    if (matmul_into(av, bv, target) < 0)
        goto done;
    if (accumulate) {
        PyObject *sum = PyNumber_InPlaceAdd((PyObject *)out, (PyObject *)target);
        if (sum == NULL)
            goto done;
        Py_DECREF(sum);
    }
    status = 0;
done:
    if (target != out)
        Py_XDECREF(target);
    Py_XDECREF(av);
    Py_XDECREF(bv);
    return status;
}

/* ---- NumPy's BLAS, called directly ---------------------------------------------------
 * NumPy links its BLAS privately (RTLD_LOCAL), so its symbols are not global: walk the
 * loaded libraries, and ask each whose name says BLAS for the CBLAS entry points under
 * the names NumPy's builds give them. dl_iterate_phdr only collects the names; dlopen
 * (RTLD_NOLOAD: never a new library) runs after it, outside the loader's lock. */
static const struct {
    const char *sgemm, *dgemm;
    int ilp64;
} cblas_names[] = {
    {"scipy_cblas_sgemm64_", "scipy_cblas_dgemm64_", 1},     /* NumPy ≥ 2 wheels */
    {"cblas_sgemm64_", "cblas_dgemm64_", 1},                 /* ILP64 OpenBLAS builds */
    {"scipy_cblas_sgemm", "scipy_cblas_dgemm", 0},           /* scipy-openblas32 */
    {"cblas_sgemm", "cblas_dgemm", 0},                       /* LP64 libcblas, MKL */
};
#define N_CBLAS_NAMES ((int)(sizeof(cblas_names) / sizeof(cblas_names[0])))
#define MAX_BLAS_LIBS 8

static pc_cblas found_cblas;                /* what pc_blas_init found, or zeros */
static char found_library[1024], found_symbol[64];

#ifdef PC_FIND_CBLAS
typedef struct {
    int count;
    char path[MAX_BLAS_LIBS][1024];
} blas_libs;

static int
collect_blas_lib(struct dl_phdr_info *info, size_t size, void *data)
{
    blas_libs *libs = data;
    const char *name = info->dlpi_name, *base;
    (void)size;
    if (name == NULL || name[0] == '\0' || libs->count == MAX_BLAS_LIBS)
        return 0;
    base = strrchr(name, '/');
    base = base != NULL ? base + 1 : name;
    if ((strstr(base, "blas") != NULL || strstr(base, "mkl") != NULL) &&
        strlen(name) < sizeof(libs->path[0]))
        strcpy(libs->path[libs->count++], name);
    return 0;
}
#endif

/* 1 when the installed entry points compute [[1,2,3],[4,5,6]]·[[1,0],[0,1],[1,1]]
 * = [[4,5],[10,11]], plain and with the first operand stored transposed */
static int
cblas_checks_out(void)
{
    static const double a[6] = {1, 2, 3, 4, 5, 6}, at[6] = {1, 4, 2, 5, 3, 6};
    static const double b[6] = {1, 0, 0, 1, 1, 1}, want[4] = {4, 5, 10, 11};
    float af[6], atf[6], bf[6], cf[4];
    double cd[4];
    for (int i = 0; i < 6; i++)
        af[i] = (float)a[i], atf[i] = (float)at[i], bf[i] = (float)b[i];
    for (int trans = 0; trans < 2; trans++) {
        pc_gemm(0, trans, 0, 2, 2, 3, trans ? atf : af, trans ? 2 : 3, bf, 2, 0, cf, 2);
        pc_gemm(1, trans, 0, 2, 2, 3, trans ? at : a, trans ? 2 : 3, b, 2, 0, cd, 2);
        for (int i = 0; i < 4; i++)
            if (cf[i] != (float)want[i] || cd[i] != want[i])
                return 0;
    }
    return 1;
}

void
pc_blas_init(void)
{
#ifdef PC_FIND_CBLAS
    static blas_libs libs;      /* 8 KB: not on the stack */
    int best = N_CBLAS_NAMES;
    libs.count = 0;
    dl_iterate_phdr(collect_blas_lib, &libs);
    for (int l = 0; l < libs.count && best > 0; l++) {
        void *h = dlopen(libs.path[l], RTLD_LAZY | RTLD_NOLOAD);
        if (h == NULL)
            continue;
        for (int i = 0; i < best; i++) {
            void *s = dlsym(h, cblas_names[i].sgemm), *d = dlsym(h, cblas_names[i].dgemm);
            if (s != NULL && d != NULL) {
                best = i;
                found_cblas = (pc_cblas){s, d, cblas_names[i].ilp64};
                strcpy(found_library, libs.path[l]);
                strcpy(found_symbol, cblas_names[i].sgemm);
                break;
            }
        }
        dlclose(h);     /* NumPy keeps the library loaded: the pointers stay valid */
    }
#endif
    pc_gemm_install(&found_cblas);
    if (pc_gemm_ready() && !cblas_checks_out()) {
        found_cblas = (pc_cblas){NULL, NULL, 0};
        pc_gemm_install(NULL);
    }
}

/* pycnn._core._gemm_backend(name=None) -> the previous name */
static PyObject *
py_gemm_backend(PyObject *Py_UNUSED(m), PyObject *const *args, Py_ssize_t nargs)
{
    const char *previous = pc_gemm_ready() ? "cblas" : "matmul", *name;
    if (nargs > 1) {
        PyErr_SetString(PyExc_TypeError, "_gemm_backend takes at most one argument");
        return NULL;
    }
    if (nargs == 1 && args[0] != Py_None) {
        if ((name = PyUnicode_Check(args[0]) ? PyUnicode_AsUTF8(args[0]) : NULL) == NULL) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "_gemm_backend: expected 'cblas' or 'matmul', "
                             "got %s", Py_TYPE(args[0])->tp_name);
            return NULL;
        }
        if (strcmp(name, "matmul") == 0)
            pc_gemm_install(NULL);
        else if (strcmp(name, "cblas") == 0 && found_cblas.sgemm != NULL)
            pc_gemm_install(&found_cblas);
        else if (strcmp(name, "cblas") == 0) {
            PyErr_SetString(PyExc_RuntimeError, "_gemm_backend: no CBLAS entry points were "
                            "found in the BLAS NumPy loaded");
            return NULL;
        }
        else {
            PyErr_Format(PyExc_ValueError, "_gemm_backend: expected 'cblas' or 'matmul', got "
                         "%R", args[0]);
            return NULL;
        }
    }
    return PyUnicode_FromString(previous);
}

/* pycnn._core._cblas_library() -> (path, symbol) or None */
static PyObject *
py_cblas_library(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    if (found_cblas.sgemm == NULL)
        Py_RETURN_NONE;
    return Py_BuildValue("(ss)", found_library, found_symbol);
}

PyMethodDef pc_blas_functions[] = {
    {"_gemm_backend", (PyCFunction)(void (*)(void))py_gemm_backend, METH_FASTCALL,
     "_gemm_backend(name=None)\n--\n\nReturns previous name. 'cblas': the kernels call the CBLAS\n"
     "?gemm of NumPy's BLAS directly, without the GIL (Winograd's batched products on\n"
     "pycnn's threads); 'matmul': they call np.matmul. Without an argument, only reports.\n"
     "For tests and benchmarks."},
    {"_cblas_library", py_cblas_library, METH_NOARGS,
     "_cblas_library()\n--\n\nReturns (library path, sgemm symbol) found at import, or None. "},
    {NULL, NULL, 0, NULL},
};
