/* py/shapes.c — bindings of the shapes data set's pixel loops (pycnn.datasets.shapes
 * calls these): _shapes_draw, _triangles_draw, _segments_draw, _mask_border. Every
 * geometry value is checked to be finite here (the kernels turn coordinates into pixel
 * indices). Legend: see kernels/shapes.h. */
#include "py/bindings.h"

#include <math.h>

#include "kernels/shapes.h"

/* obj as a C-contiguous array of typenum with ndim dimensions whose trailing dimension is
 * `last` (0: any) (new ref); a float array must hold finite values. NULL with
 * ValueError/TypeError naming op and what. */
static PyArrayObject *
geometry(PyObject *obj, int typenum, int ndim, npy_intp last, const char *op, const char *what)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FromAny(
        obj, PyArray_DescrFromType(typenum), 0, 0, NPY_ARRAY_CARRAY, NULL);
    if (a == NULL)
        return NULL;
    if (PyArray_NDIM(a) != ndim || (last > 0 && PyArray_DIM(a, ndim - 1) != last)) {
        PyErr_Format(PyExc_ValueError, "%s: %s must have %d dimensions, the last of size %zd",
                     op, what, ndim, (Py_ssize_t)last);
        Py_DECREF(a);
        return NULL;
    }
    if (typenum == NPY_FLOAT64) {
        const double *v = (const double *)PyArray_DATA(a);
        for (npy_intp i = 0; i < PyArray_SIZE(a); i++)
            if (!isfinite(v[i]) || fabs(v[i]) > 1e9) {
                PyErr_Format(PyExc_ValueError, "%s: %s holds a value that is not finite or "
                             "beyond 1e9 at flat index %zd", op, what, (Py_ssize_t)i);
                Py_DECREF(a);
                return NULL;
            }
    }
    return a;
}

/* H, W >= 1 and zeroed (N, H, W) outputs: image float64 and, unless mask is NULL, mask
 * uint8 (new refs); -1 on error */
static int
canvases(const char *op, npy_intp N, Py_ssize_t H, Py_ssize_t W, PyArrayObject **image,
         PyArrayObject **mask)
{
    npy_intp dims[3] = {N, H, W};
    if (H < 1 || W < 1 || H > 65536 || W > 65536) {
        PyErr_Format(PyExc_ValueError, "%s: image height and width must be in [1, 65536], "
                     "got %zd x %zd", op, H, W);
        return -1;
    }
    if ((*image = (PyArrayObject *)PyArray_ZEROS(3, dims, NPY_FLOAT64, 0)) == NULL)
        return -1;
    if (mask != NULL && (*mask = (PyArrayObject *)PyArray_ZEROS(3, dims, NPY_UINT8, 0)) == NULL) {
        Py_CLEAR(*image);
        return -1;
    }
    return 0;
}

/* _shapes_draw(present (N, K) bool, label (N, K) int, geom (N, K, 5), H, W) -> (image, mask) */
static PyObject *
py_shapes_draw(PyObject *Py_UNUSED(m), PyObject *args)
{
    static const char *op = "shapes";
    PyObject *opresent, *olabel, *ogeom, *result = NULL;
    Py_ssize_t H, W;
    PyArrayObject *present = NULL, *label = NULL, *geom = NULL, *image = NULL, *mask = NULL;

    if (!PyArg_ParseTuple(args, "OOOnn:_shapes_draw", &opresent, &olabel, &ogeom, &H, &W))
        return NULL;
    if ((present = geometry(opresent, NPY_UINT8, 2, 0, op, "present")) == NULL ||
        (label = geometry(olabel, NPY_INTP, 2, 0, op, "label")) == NULL ||
        (geom = geometry(ogeom, NPY_FLOAT64, 3, 5, op, "geometry")) == NULL)
        goto done;
    npy_intp N = PyArray_DIM(present, 0), K = PyArray_DIM(present, 1);
    if (PyArray_DIM(label, 0) != N || PyArray_DIM(label, 1) != K || PyArray_DIM(geom, 0) != N ||
        PyArray_DIM(geom, 1) != K) {
        PyErr_Format(PyExc_ValueError, "%s: present, label and geometry disagree on the "
                     "number of images or objects", op);
        goto done;
    }
    for (npy_intp i = 0; i < N * K; i++) {
        pc_index kind = ((const pc_index *)PyArray_DATA(label))[i];
        if (kind < 0 || kind > PC_SHAPE_TRIANGLE) {
            PyErr_Format(PyExc_ValueError, "%s: label %zd is not a shape kind (0, 1 or 2)", op,
                         (Py_ssize_t)kind);
            goto done;
        }
    }
    if (canvases(op, N, H, W, &image, &mask) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    pc_shapes_draw(N, K, H, W, PyArray_DATA(present), PyArray_DATA(label), PyArray_DATA(geom),
                   PyArray_DATA(image), PyArray_DATA(mask));
    Py_END_ALLOW_THREADS
    result = PyTuple_Pack(2, image, mask);
done:
    Py_XDECREF(present);
    Py_XDECREF(label);
    Py_XDECREF(geom);
    Py_XDECREF(image);
    Py_XDECREF(mask);
    return result;
}

/* _triangles_draw(tri (N, 7), H, W) -> (image, mask) */
static PyObject *
py_triangles_draw(PyObject *Py_UNUSED(m), PyObject *args)
{
    static const char *op = "shapes.load_landmarks";
    PyObject *otri, *result = NULL;
    Py_ssize_t H, W;
    PyArrayObject *tri = NULL, *image = NULL, *mask = NULL;

    if (!PyArg_ParseTuple(args, "Onn:_triangles_draw", &otri, &H, &W))
        return NULL;
    if ((tri = geometry(otri, NPY_FLOAT64, 2, 7, op, "triangles")) == NULL ||
        canvases(op, PyArray_DIM(tri, 0), H, W, &image, &mask) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    pc_triangles_draw(PyArray_DIM(tri, 0), H, W, PyArray_DATA(tri), PyArray_DATA(image),
                      PyArray_DATA(mask));
    Py_END_ALLOW_THREADS
    result = PyTuple_Pack(2, image, mask);
done:
    Py_XDECREF(tri);
    Py_XDECREF(image);
    Py_XDECREF(mask);
    return result;
}

/* _segments_draw(seg (N, S, 6), H, W) -> image */
static PyObject *
py_segments_draw(PyObject *Py_UNUSED(m), PyObject *args)
{
    static const char *op = "shapes.load_poses";
    PyObject *oseg;
    Py_ssize_t H, W;
    PyArrayObject *seg = NULL, *image = NULL;

    if (!PyArg_ParseTuple(args, "Onn:_segments_draw", &oseg, &H, &W))
        return NULL;
    if ((seg = geometry(oseg, NPY_FLOAT64, 3, 6, op, "segments")) == NULL ||
        canvases(op, PyArray_DIM(seg, 0), H, W, &image, NULL) < 0)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    pc_segments_draw(PyArray_DIM(seg, 0), PyArray_DIM(seg, 1), H, W, PyArray_DATA(seg),
                     PyArray_DATA(image));
    Py_END_ALLOW_THREADS
done:
    Py_XDECREF(seg);
    return (PyObject *)image;
}

/* _mask_border(mask (N, H, W) uint8, border, ignore) -> mask with the borders ignored */
static PyObject *
py_mask_border(PyObject *Py_UNUSED(m), PyObject *args)
{
    static const char *op = "shapes";
    PyObject *omask;
    Py_ssize_t border;
    unsigned char ignore;
    PyArrayObject *mask = NULL, *out = NULL;

    if (!PyArg_ParseTuple(args, "OnB:_mask_border", &omask, &border, &ignore))
        return NULL;
    if (border < 0 || border > 1024) {
        PyErr_Format(PyExc_ValueError, "%s: ignore_border must be in [0, 1024] pixels, got %zd",
                     op, border);
        return NULL;
    }
    if ((mask = geometry(omask, NPY_UINT8, 3, 0, op, "mask")) == NULL)
        return NULL;
    out = (PyArrayObject *)PyArray_EMPTY(3, PyArray_DIMS(mask), NPY_UINT8, 0);
    if (out != NULL) {
        Py_BEGIN_ALLOW_THREADS
        pc_mask_border(PyArray_DIM(mask, 0), PyArray_DIM(mask, 1), PyArray_DIM(mask, 2), border,
                       ignore, PyArray_DATA(mask), PyArray_DATA(out));
        Py_END_ALLOW_THREADS
    }
    Py_DECREF(mask);
    return (PyObject *)out;
}

PyMethodDef pc_shapes_functions[] = {
    {"_shapes_draw", py_shapes_draw, METH_VARARGS,
     "_shapes_draw(present, label, geometry, H, W)\n--\n\nReturns (image, mask). filled rectangles,\n"
     "circles and triangles (pycnn.datasets.shapes)"},
    {"_triangles_draw", py_triangles_draw, METH_VARARGS,
     "_triangles_draw(triangles, H, W)\n--\n\n"
     "Returns (image, mask): triangles (N, 7) by their vertices"},
    {"_segments_draw", py_segments_draw, METH_VARARGS,
     "_segments_draw(segments, H, W)\n--\n\n"
     "Returns image: thick segments (N, S, 6) (stick figures)"},
    {"_mask_border", py_mask_border, METH_VARARGS,
     "_mask_border(mask, border, ignore) -> mask whose pixels within `border` of another\n"
     "class are `ignore`"},
    {NULL, NULL, 0, NULL},
};
