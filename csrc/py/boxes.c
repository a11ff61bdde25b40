/* py/boxes.c — bindings of the detection box kernels (pycnn.metrics calls these through
 * pycnn/_box_metrics.py, which converts box formats and checks box sizes and scores):
 * _box_iou, _nms, _match_detections. Every index given is checked to lie in range here,
 * so the kernels may trust them. Legend: see kernels/boxes.h. */
#include "py/bindings.h"

#include "kernels/boxes.h"

/* obj as a C-contiguous (n, 4) float array of dtype typenum (-1: keep float32/float64)
 * (new ref), or NULL with ValueError naming op and what */
static PyArrayObject *
box_array(PyObject *obj, int typenum, const char *op, const char *what)
{
    PyArrayObject *a = pc_as_array(obj, typenum, op);
    if (a != NULL && (PyArray_NDIM(a) != 2 || PyArray_DIM(a, 1) != 4)) {
        PyObject *shape = pc_shape_tuple(PyArray_NDIM(a), PyArray_DIMS(a));
        if (shape != NULL)
            PyErr_Format(PyExc_ValueError, "%s: %s must have shape (n, 4), got %R", op, what,
                         shape);
        Py_XDECREF(shape);
        Py_CLEAR(a);
    }
    return a;
}

/* A kernel's byte workspace of n flags, any content (at least one byte, so n = 0 is no
 * failure); NULL with MemoryError */
static unsigned char *
flag_workspace(npy_intp n)
{
    unsigned char *w = PyMem_Malloc(n > 0 ? (size_t)n : 1);
    if (w == NULL)
        PyErr_NoMemory();
    return w;
}

/* Two box arrays of one dtype (float64 if either is): 0, or -1 with an exception set
 * (*a and *b NULL then) */
static int
box_pair(PyObject *oa, PyObject *ob, const char *op, const char *wa, const char *wb,
         PyArrayObject **a, PyArrayObject **b)
{
    *a = box_array(oa, -1, op, wa);
    *b = *a == NULL ? NULL : box_array(ob, -1, op, wb);
    if (*b != NULL && PyArray_TYPE(*a) != PyArray_TYPE(*b)) {
        PyArrayObject **lower = PyArray_TYPE(*a) == NPY_FLOAT32 ? a : b;
        Py_SETREF(*lower, box_array((PyObject *)*lower, NPY_FLOAT64, op, wa));
    }
    if (*a == NULL || *b == NULL) {
        Py_CLEAR(*a);
        Py_CLEAR(*b);
        return -1;
    }
    return 0;
}

/* obj as a C-contiguous 1-D integer array of length n (n < 0: any) whose entries lie
 * in [lo, hi) (new ref); floats raise TypeError, others ValueError naming op and what */
static PyArrayObject *
index_array(PyObject *obj, npy_intp n, pc_index lo, pc_index hi, const char *op,
            const char *what)
{
    PyArrayObject *a = (PyArrayObject *)PyArray_FromAny(
        obj, PyArray_DescrFromType(NPY_INTP), 0, 0, NPY_ARRAY_CARRAY, NULL);
    if (a == NULL)
        return NULL;
    if (PyArray_NDIM(a) != 1 || (n >= 0 && PyArray_DIM(a, 0) != n)) {
        PyErr_Format(PyExc_ValueError, "%s: %s must be a 1-D array of %zd integers, got %d "
                     "dimensions of %zd values", op, what, (Py_ssize_t)n, PyArray_NDIM(a),
                     (Py_ssize_t)PyArray_SIZE(a));
        Py_DECREF(a);
        return NULL;
    }
    const pc_index *v = (const pc_index *)PyArray_DATA(a);
    for (npy_intp i = 0; i < PyArray_DIM(a, 0); i++)
        if (v[i] < lo || v[i] >= hi) {
            PyErr_Format(PyExc_ValueError, "%s: %s[%zd] = %zd is outside [%zd, %zd)", op, what,
                         (Py_ssize_t)i, (Py_ssize_t)v[i], (Py_ssize_t)lo, (Py_ssize_t)hi);
            Py_DECREF(a);
            return NULL;
        }
    return a;
}

/* _box_iou(a, b) -> (NA, NB) IoU matrix of (x1, y1, x2, y2) boxes */
static PyObject *
py_box_iou(PyObject *Py_UNUSED(m), PyObject *args)
{
    PyObject *oa, *ob;
    PyArrayObject *a = NULL, *b = NULL, *iou = NULL;

    if (!PyArg_ParseTuple(args, "OO:_box_iou", &oa, &ob))
        return NULL;
    if (box_pair(oa, ob, "iou", "boxes_a", "boxes_b", &a, &b) < 0)
        return NULL;
    npy_intp NA = PyArray_DIM(a, 0), NB = PyArray_DIM(b, 0);
    if ((iou = (PyArrayObject *)PyArray_EMPTY(2, ((npy_intp[]){NA, NB}), PyArray_TYPE(a), 0))
        == NULL)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    PC_DISPATCH(PyArray_TYPE(a), pc_box_iou, PyArray_DATA(a), NA, PyArray_DATA(b), NB,
                PyArray_DATA(iou));
    Py_END_ALLOW_THREADS
done:
    Py_DECREF(a);
    Py_DECREF(b);
    return (PyObject *)iou;
}

/* _nms(boxes, order, classes or None, threshold, max_keep) -> kept indices (intp) */
static PyObject *
py_nms(PyObject *Py_UNUSED(m), PyObject *args)
{
    PyObject *oboxes, *oorder, *ocls, *result = NULL;
    double thresh;
    Py_ssize_t max_keep;
    PyArrayObject *boxes = NULL, *order = NULL, *cls = NULL, *keep = NULL;
    unsigned char *suppressed = NULL;
    pc_index kept;

    if (!PyArg_ParseTuple(args, "OOOdn:_nms", &oboxes, &oorder, &ocls, &thresh, &max_keep))
        return NULL;
    if ((boxes = box_array(oboxes, -1, "non_max_suppression", "boxes")) == NULL)
        return NULL;
    npy_intp N = PyArray_DIM(boxes, 0);
    if ((order = index_array(oorder, N, 0, N, "non_max_suppression", "order")) == NULL)
        goto done;
    if (ocls != Py_None &&
        (cls = index_array(ocls, N, PY_SSIZE_T_MIN, PY_SSIZE_T_MAX, "non_max_suppression",
                           "classes")) == NULL)
        goto done;
    if ((keep = (PyArrayObject *)PyArray_EMPTY(1, &N, NPY_INTP, 0)) == NULL ||
        (suppressed = flag_workspace(N)) == NULL)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    kept = PC_DISPATCH(PyArray_TYPE(boxes), pc_nms, PyArray_DATA(boxes),
                       cls == NULL ? NULL : (const pc_index *)PyArray_DATA(cls),
                       (const pc_index *)PyArray_DATA(order), N, thresh, max_keep, suppressed,
                       (pc_index *)PyArray_DATA(keep));
    Py_END_ALLOW_THREADS
    /* the first `kept` entries, as an array of their own (keep may be much longer) */
    PyObject *head = PySequence_GetSlice((PyObject *)keep, 0, kept);
    if (head != NULL) {
        result = PyArray_NewCopy((PyArrayObject *)head, NPY_CORDER);
        Py_DECREF(head);
    }
done:
    PyMem_Free(suppressed);
    Py_DECREF(boxes);
    Py_XDECREF(order);
    Py_XDECREF(cls);
    Py_XDECREF(keep);
    return result;
}

/* _match_detections(det, det_image, order, truth, truth_start, threshold) -> tp (bool) */
static PyObject *
py_match_detections(PyObject *Py_UNUSED(m), PyObject *args)
{
    static const char *op = "average_precision";
    PyObject *odet, *oimage, *oorder, *otruth, *ostart;
    double thresh;
    PyArrayObject *det = NULL, *image = NULL, *order = NULL, *truth = NULL, *start = NULL;
    PyArrayObject *tp = NULL;
    unsigned char *matched = NULL;

    if (!PyArg_ParseTuple(args, "OOOOOd:_match_detections", &odet, &oimage, &oorder, &otruth,
                          &ostart, &thresh))
        return NULL;
    if (box_pair(odet, otruth, op, "pred_boxes", "true_boxes", &det, &truth) < 0)
        return NULL;
    npy_intp ND = PyArray_DIM(det, 0), NT = PyArray_DIM(truth, 0);
    if ((start = index_array(ostart, -1, 0, NT + 1, op, "truth_start")) == NULL)
        goto done;
    npy_intp NI = PyArray_DIM(start, 0) - 1;
    const pc_index *s = (const pc_index *)PyArray_DATA(start);
    if (NI < 0 || s[0] != 0 || s[NI] != NT) {
        PyErr_Format(PyExc_ValueError, "%s: truth_start must run from 0 to the %zd true boxes",
                     op, (Py_ssize_t)NT);
        goto done;
    }
    for (npy_intp i = 0; i < NI; i++)
        if (s[i + 1] < s[i]) {
            PyErr_Format(PyExc_ValueError, "%s: truth_start decreases at %zd", op,
                         (Py_ssize_t)i);
            goto done;
        }
    if ((image = index_array(oimage, ND, 0, NI, op, "det_image")) == NULL ||
        (order = index_array(oorder, ND, 0, ND, op, "order")) == NULL)
        goto done;
    if ((tp = (PyArrayObject *)PyArray_EMPTY(1, &ND, NPY_BOOL, 0)) == NULL ||
        (matched = flag_workspace(NT)) == NULL)
        goto done;
    Py_BEGIN_ALLOW_THREADS
    PC_DISPATCH(PyArray_TYPE(det), pc_match_detections, PyArray_DATA(det),
                (const pc_index *)PyArray_DATA(image), (const pc_index *)PyArray_DATA(order), ND,
                PyArray_DATA(truth), s, NI, thresh, matched, (unsigned char *)PyArray_DATA(tp));
    Py_END_ALLOW_THREADS
done:
    PyMem_Free(matched);
    Py_DECREF(det);
    Py_DECREF(truth);
    Py_XDECREF(start);
    Py_XDECREF(image);
    Py_XDECREF(order);
    if (PyErr_Occurred())
        Py_CLEAR(tp);
    return (PyObject *)tp;
}

PyMethodDef pc_boxes_functions[] = {
    {"_box_iou", py_box_iou, METH_VARARGS,
     "_box_iou(a, b) -> (len(a), len(b)) IoUs of (x1, y1, x2, y2) boxes (pycnn.metrics.iou)"},
    {"_nms", py_nms, METH_VARARGS,
     "_nms(boxes, order, classes, threshold, max_keep) -> kept indices, greedy NMS visiting\n"
     "boxes in `order`; classes None or one integer per box (pycnn.metrics)"},
    {"_match_detections", py_match_detections, METH_VARARGS,
     "_match_detections(det, det_image, order, truth, truth_start, threshold) -> true-\n"
     "positive flags of the detections, VOC matching (pycnn.metrics.average_precision)"},
    {NULL, NULL, 0, NULL},
};
