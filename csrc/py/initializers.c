/* py/initializers.c — the seedable generator behind pycnn.set_seed, the weight
 * initializers by Keras name (their formulas: kernels/random.h), and automatic
 * layer names with pycnn.clear_session().
 *
 * An initializer identifier is a Keras name ('glorot_uniform' or 'GlorotUniform'),
 * a Keras config dict ({'class_name': 'Constant', 'config': {'value': 0.5}}) or a
 * callable(shape, dtype) returning an array of that shape.
 */
#include "py/layer.h"

#include <time.h>         /* after Python.h, which must come first */

static pc_rng global_rng;
static PyObject *name_counts;          /* {'dense': 2, ...}: the last number given */

pc_rng *
pc_global_rng(void)
{
    return &global_rng;
}

/* ---- initializers ---------------------------------------------------------------- */

typedef enum { INIT_ZEROS, INIT_ONES, INIT_CONSTANT, INIT_GLOROT_UNIFORM, INIT_GLOROT_NORMAL,
               INIT_HE_UNIFORM, INIT_HE_NORMAL } init_kind;

static const struct {
    const char *name, *class_name;
    init_kind kind;
} initializers[] = {
    {"glorot_uniform", "GlorotUniform", INIT_GLOROT_UNIFORM},
    {"glorot_normal", "GlorotNormal", INIT_GLOROT_NORMAL},
    {"he_uniform", "HeUniform", INIT_HE_UNIFORM},
    {"he_normal", "HeNormal", INIT_HE_NORMAL},
    {"zeros", "Zeros", INIT_ZEROS},
    {"ones", "Ones", INIT_ONES},
    {"constant", "Constant", INIT_CONSTANT},
};
#define N_INITIALIZERS ((int)(sizeof(initializers) / sizeof(initializers[0])))

/* index into initializers[] for a name, -1 when unknown (no exception) */
static int
initializer_index(PyObject *name)        /* name may be NULL: a config dict without class_name */
{
    const char *s = name != NULL && PyUnicode_Check(name) ? PyUnicode_AsUTF8(name) : NULL;
    if (s == NULL) {
        PyErr_Clear();
        return -1;
    }
    for (int i = 0; i < N_INITIALIZERS; i++)
        if (strcmp(s, initializers[i].name) == 0 || strcmp(s, initializers[i].class_name) == 0)
            return i;
    return -1;
}

/* str or config dict → index and constant value; -1 when not one (no exception),
 * -2 with an exception */
static int
initializer_parse(PyObject *init, double *value)
{
    PyObject *config, *v;

    *value = 0.0;
    if (PyUnicode_Check(init))
        return initializer_index(init);
    if (!PyDict_Check(init))
        return -1;
    int i = initializer_index(PyDict_GetItemString(init, "class_name"));   /* borrowed */
    config = PyDict_GetItemString(init, "config");
    if (i >= 0 && config != NULL && PyDict_Check(config) &&
        (v = PyDict_GetItemString(config, "value")) != NULL) {
        *value = PyFloat_AsDouble(v);
        if (*value == -1.0 && PyErr_Occurred())
            return -2;
    }
    return i;
}

int
pc_initializer_check(PyObject *init, const char *who, const char *arg)
{
    double value;
    int i = initializer_parse(init, &value);
    if (i == -2)
        return -1;
    if (i >= 0 || (!PyUnicode_Check(init) && !PyDict_Check(init) && PyCallable_Check(init)))
        return 0;
    PyErr_Format(PyExc_ValueError, "%s: unknown %s %R (expected one of 'glorot_uniform', "
                 "'glorot_normal', 'he_uniform', 'he_normal', 'zeros', 'ones', 'constant', "
                 "a Keras config dict or a callable(shape, dtype))", who, arg, init);
    return -1;
}

PyObject *
pc_initializer_serialize(PyObject *init)
{
    PyObject *config, *result;
    if (PyUnicode_Check(init) || PyDict_Check(init))
        return Py_NewRef(init);
    if (!PyObject_HasAttrString(init, "get_config"))           /* a plain function */
        return PyObject_GetAttrString(init, "__name__");
    if ((config = PyObject_CallMethod(init, "get_config", NULL)) == NULL)
        return NULL;
    result = Py_BuildValue("{s:s,s:N}", "class_name", Py_TYPE(init)->tp_name, "config", config);
    if (result != NULL && strrchr(Py_TYPE(init)->tp_name, '.') != NULL) {
        PyObject *cls = PyUnicode_FromString(strrchr(Py_TYPE(init)->tp_name, '.') + 1);
        if (cls == NULL || PyDict_SetItemString(result, "class_name", cls) < 0)
            Py_CLEAR(result);
        Py_XDECREF(cls);
    }
    return result;
}

/* Keras' compute_fans: (in, out) for a Dense kernel; (kh, kw, cin, cout) counts
 * kh·kw·cin inputs and kh·kw·cout outputs per weight */
static void
compute_fans(int ndim, const npy_intp *shape, double *fan_in, double *fan_out)
{
    double receptive = 1;
    if (ndim < 1) {
        *fan_in = *fan_out = 1;
        return;
    }
    if (ndim == 1) {
        *fan_in = *fan_out = (double)shape[0];
        return;
    }
    for (int d = 0; d < ndim - 2; d++)
        receptive *= (double)shape[d];
    *fan_in = (double)shape[ndim - 2] * receptive;
    *fan_out = (double)shape[ndim - 1] * receptive;
}

static void
fill_builtin(int i, double value, PyArrayObject *w)
{
    void *x = PyArray_DATA(w);
    npy_intp n = PyArray_SIZE(w);
    int t = PyArray_TYPE(w);
    double fan_in, fan_out, limit, stddev;
    const double truncation = 0.87962566103423978;   /* σ of N(0,1) cut at ±2 */

    compute_fans(PyArray_NDIM(w), PyArray_SHAPE(w), &fan_in, &fan_out);
    fan_in = fan_in > 1 ? fan_in : 1;
    fan_out = fan_out > 1 ? fan_out : 1;
    switch (initializers[i].kind) {
    case INIT_ZEROS: value = 0.0; /* fall through */
    case INIT_CONSTANT: PC_DISPATCH(t, pc_fill_constant, x, n, value); break;
    case INIT_ONES: PC_DISPATCH(t, pc_fill_constant, x, n, 1.0); break;
    case INIT_GLOROT_UNIFORM:
    case INIT_HE_UNIFORM:
        limit = initializers[i].kind == INIT_HE_UNIFORM ? sqrt(6.0 / fan_in)
                                                        : sqrt(6.0 / (fan_in + fan_out));
        PC_DISPATCH(t, pc_fill_uniform, &global_rng, x, n, -limit, limit);
        break;
    case INIT_GLOROT_NORMAL:
    case INIT_HE_NORMAL:
        stddev = (initializers[i].kind == INIT_HE_NORMAL ? sqrt(2.0 / fan_in)
                                                         : sqrt(2.0 / (fan_in + fan_out)))
                 / truncation;
        PC_DISPATCH(t, pc_fill_truncated_normal, &global_rng, x, n, stddev);
        break;
    }
}

/* w (a fresh array) ← the initializer's values. 0 or -1. */
static int
initializer_fill(PyObject *init, PyArrayObject *w, const char *who)
{
    PyObject *shape = NULL, *dtype = NULL, *values = NULL;
    PyArrayObject *arr = NULL;
    double value;
    int i = initializer_parse(init, &value), status = -1;

    if (i == -2 || (i < 0 && pc_initializer_check(init, who, "initializer") < 0))
        return -1;
    if (i >= 0) {
        fill_builtin(i, value, w);
        return 0;
    }
    shape = pc_shape_tuple(PyArray_NDIM(w), PyArray_SHAPE(w));
    dtype = (PyObject *)PyArray_DescrFromType(PyArray_TYPE(w));
    if (shape == NULL || dtype == NULL)
        goto done;
    if ((values = PyObject_CallFunctionObjArgs(init, shape, dtype, NULL)) == NULL)
        goto done;
    if ((arr = pc_as_array(values, PyArray_TYPE(w), who)) == NULL)
        goto done;
    if (!PyArray_SAMESHAPE(arr, w)) {
        PyObject *got = pc_shape_tuple(PyArray_NDIM(arr), PyArray_SHAPE(arr));
        if (got != NULL)
            PyErr_Format(PyExc_ValueError, "%s: initializer %R returned shape %R, expected %R",
                         who, init, got, shape);
        Py_XDECREF(got);
        goto done;
    }
    status = PyArray_CopyInto(w, arr);
done:
    Py_XDECREF(shape);
    Py_XDECREF(dtype);
    Py_XDECREF(values);
    Py_XDECREF(arr);
    return status;
}

PyObject *
pc_layer_add_weight(LayerObject *self, const char *wname, int ndim, const npy_intp *shape,
                    PyObject *initializer, int trainable, int typenum)
{
    PyArrayObject *w = NULL;
    PyObject *t = NULL, *tname = NULL, *name = pc_layer_name(self);

    if (name == NULL)
        return NULL;
    for (int d = 0; d < ndim; d++)
        if (shape[d] <= 0) {
            PyObject *s = pc_shape_tuple(ndim, shape);
            if (s != NULL)
                PyErr_Format(PyExc_ValueError, "%U: weight '%s' would have shape %R; every "
                             "dimension must be positive", name, wname, s);
            Py_XDECREF(s);
            return NULL;
        }
    if ((w = pc_new_array(ndim, shape, typenum)) == NULL)
        return NULL;
    if (initializer_fill(initializer, w, PyUnicode_AsUTF8(name)) < 0)
        goto done;
    if ((t = pc_tensor_wrap(w, trainable && self->trainable)) == NULL)
        goto done;
    if ((tname = PyUnicode_FromFormat("%U/%s", name, wname)) == NULL ||
        PyObject_SetAttrString(t, "name", tname) < 0 ||
        PyList_Append(trainable ? self->trainable_ws : self->non_trainable_ws, t) < 0)
        Py_CLEAR(t);
done:
    Py_XDECREF(w);
    Py_XDECREF(tname);
    Py_XDECREF(t);                  /* the list holds it */
    return t;
}

/* _core.initialize(identifier, shape, dtype='float32') -> a new NumPy array */
static PyObject *
py_initialize(PyObject *Py_UNUSED(m), PyObject *args, PyObject *kwargs)
{
    static char *kwlist[] = {"identifier", "shape", "dtype", NULL};
    PyObject *init, *shape_obj, *dtype = Py_None;
    npy_intp dims[PC_MAX_NDIM];
    PyArrayObject *w;
    int ndim, typenum;

    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "OO|O:initialize", kwlist, &init,
                                     &shape_obj, &dtype))
        return NULL;
    if ((typenum = pc_parse_dtype(dtype, "initialize")) == -2 ||
        pc_layer_parse_shape(shape_obj, "initialize", 0, &ndim, dims) < 0)
        return NULL;
    for (int d = 0; d < ndim; d++)
        if (dims[d] < 0) {
            PyErr_Format(PyExc_ValueError, "initialize: shape %R has an unknown (None) "
                         "dimension", shape_obj);
            return NULL;
        }
    if ((w = pc_new_array(ndim, dims, typenum < 0 ? NPY_FLOAT32 : typenum)) == NULL)
        return NULL;
    if (initializer_fill(init, w, "initialize") < 0)
        Py_CLEAR(w);
    return (PyObject *)w;
}

/* ---- the generator and the session -------------------------------------------------- */

static PyObject *
py_set_seed(PyObject *Py_UNUSED(m), PyObject *seed)
{
    unsigned long long s;
    if (!PyLong_Check(seed)) {
        PyErr_Format(PyExc_TypeError, "set_seed: the seed must be an int, got %.100s",
                     Py_TYPE(seed)->tp_name);
        return NULL;
    }
    s = PyLong_AsUnsignedLongLongMask(seed);
    if (s == (unsigned long long)-1 && PyErr_Occurred())
        return NULL;
    pc_rng_seed(&global_rng, (uint64_t)s);
    Py_RETURN_NONE;
}

static PyObject *
py_clear_session(PyObject *Py_UNUSED(m), PyObject *Py_UNUSED(ignored))
{
    PyDict_Clear(name_counts);
    Py_RETURN_NONE;
}

/* Keras' to_snake_case on an ASCII class name: "MaxPooling2D" → "max_pooling2d",
 * "LeakyReLU" → "leaky_re_lu": '_' before an upper-case letter that follows a
 * lower-case one or precedes one (never at the start); non-word characters dropped. */
static PyObject *
snake_case(const char *s)
{
    char buf[256];
    size_t n = 0, len = strlen(s);
    for (size_t i = 0; i < len && n + 2 < sizeof(buf); i++) {
        char c = s[i];
        int upper = c >= 'A' && c <= 'Z';
        if (!(upper || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
            continue;
        if (upper && n > 0 &&
            ((i + 1 < len && s[i + 1] >= 'a' && s[i + 1] <= 'z') ||
             (s[i - 1] >= 'a' && s[i - 1] <= 'z')))
            buf[n++] = '_';
        buf[n++] = upper ? (char)(c - 'A' + 'a') : c;
    }
    return PyUnicode_FromStringAndSize(buf, (Py_ssize_t)n);
}

/* "<snake_case(type)>_<k>", k counting per base name from 1 in this session */
PyObject *
pc_auto_name(PyTypeObject *type)
{
    const char *dot = strrchr(type->tp_name, '.');
    PyObject *base = snake_case(dot != NULL ? dot + 1 : type->tp_name), *count, *name = NULL;
    long k;

    if (base == NULL)
        return NULL;
    count = PyDict_GetItemWithError(name_counts, base);          /* borrowed */
    k = count != NULL ? PyLong_AsLong(count) + 1 : 1;
    if (!PyErr_Occurred() && (count = PyLong_FromLong(k)) != NULL) {
        if (PyDict_SetItem(name_counts, base, count) == 0)
            name = PyUnicode_FromFormat("%U_%ld", base, k);
        Py_DECREF(count);
    }
    Py_DECREF(base);
    return name;
}

static PyObject *
py_initializer_config(PyObject *Py_UNUSED(m), PyObject *init)
{
    return pc_initializer_serialize(init);
}

static PyMethodDef initializer_functions[] = {
    {"set_seed", py_set_seed, METH_O,
     "set_seed(n)\n--\n\nseed the generator of weight initializers and dropout masks, so a\n"
     "model's initial weights and its dropout masks are reproducible"},
    {"clear_session", py_clear_session, METH_NOARGS,
     "clear_session()\n--\n\nrestart automatic layer names (dense_1, dense_2, ...) from 1"},
    {"_initializer_config", py_initializer_config, METH_O,
     "_initializer_config(initializer)\n--\n\nas a layer's get_config writes an initializer: a\n"
     "name or dict as given, a function by its name, else {'class_name', 'config'}"},
    {"initialize", PC_KW(py_initialize),
     "initialize(identifier, shape, dtype='float32')\n--\n\na NumPy array filled by a Keras\n"
     "initializer ('glorot_uniform', 'he_normal', 'zeros', ...) from the seeded generator"},
    {NULL, NULL, 0, NULL},
};

int
pc_initializers_exec(PyObject *m)
{
    /* unseeded runs differ, as in Keras; pycnn.set_seed(n) makes them reproducible */
    pc_rng_seed(&global_rng, (uint64_t)time(NULL) ^ (uint64_t)clock() ^ (uint64_t)(size_t)m);
    if (name_counts == NULL && (name_counts = PyDict_New()) == NULL)
        return -1;
    return PyModule_AddFunctions(m, initializer_functions);
}
