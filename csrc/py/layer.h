/* py/layer.h — the Layer base type shared by every layer type (py/dense.c,
 * py/conv2d.c, py/pool.c, py/layers_misc.c), and the helpers they share.
 *
 * A layer owns its weights (Tensors with requires_grad) in creation order, split
 * into trainable and non-trainable lists like Keras; `weights` is their
 * concatenation. Its __call__ builds it on the first input, then runs `call`.
 *
 * A C layer type is: its object struct (LayerObject base first); __init__ parsing its
 * own arguments then PC_LAYER_KWARGS into pc_layer_init_common; call() starting with
 * pc_layer_call_input (pc_layer_call_built, pc_layer_call_weighted) and ending in a recorder;
 * compute_output_shape (PC_LAYER_SAME_SHAPE when the shape is kept); get_config as
 * pc_layer_config(base, Py_BuildValue(own keys)); its method table of PC_LAYER_* rows and
 * its PC_LAYER_TYPE; the file's exec function, one row of py/layer_files.def.
 * py/preprocessing.c's Rescaling is the smallest whole example.
 */
#ifndef PC_LAYER_H
#define PC_LAYER_H

#include "py/convert.h"
#include "kernels/random.h"

#define PC_LAYER_OBJS 4

typedef struct {
    PyObject_HEAD
    PyObject *dict;                     /* instance __dict__ */
    PyObject *weakrefs;
    PyObject *name;                     /* str; NULL until first asked (then automatic) */
    PyObject *input_shape;              /* tuple as given (no batch dim), or NULL */
    PyObject *trainable_ws;             /* list of Tensors */
    PyObject *non_trainable_ws;         /* list of Tensors */
    PyObject *objs[PC_LAYER_OBJS];      /* Python values a layer type keeps (activation,
                                           initializers...); owned, traversed here */
    int trainable;
    int built;
    int dtype;                          /* NPY_FLOAT32/64; -1: the first input's */
    int call_training;                  /* does call() take training=? -1: not known yet */
    int initialized;                    /* pc_layer_init_common succeeded */
} LayerObject;

extern PyTypeObject Layer_Type;
#define pc_layer_check(o) PyObject_TypeCheck((o), &Layer_Type)

/* The rows of a C layer's method table for the Keras protocol: the calling convention
 * and (but for call, whose training default varies) the signature line Jupyter shows
 * live here once; doc is what follows the signature. */
#define PC_LAYER_CALL(fn, signature_and_doc)                                             \
    {"call", PC_KW(fn), signature_and_doc}
#define PC_LAYER_BUILD(fn, doc)                                                          \
    {"build", (PyCFunction)(fn), METH_O, "build(input_shape)\n--\n\n" doc}
#define PC_LAYER_OUTPUT_SHAPE(fn, doc)                                                   \
    {"compute_output_shape", (PyCFunction)(fn), METH_O,                                  \
     "compute_output_shape(input_shape)\n--\n\n" doc}
#define PC_LAYER_GET_CONFIG(fn, doc)                                                     \
    {"get_config", (PyCFunction)(fn), METH_NOARGS, "get_config()\n--\n\n" doc}
/* compute_output_shape of a layer whose output has its input's shape */
#define PC_LAYER_SAME_SHAPE PC_LAYER_OUTPUT_SHAPE(pc_layer_identity_shape, "the same shape")

/* The fields every C layer type shares: subclassable from Python, derived from Layer
 * (whose GC support it inherits), its object struct, __init__ and method table:
 *   static PyTypeObject Dropout_Type = {
 *       PC_LAYER_TYPE("Dropout", DropoutObject, Dropout_init, Dropout_methods),
 *       .tp_doc = PyDoc_STR("Dropout(rate, ...)\n--\n\n..."),
 *   };                                                                                */
#define PC_LAYER_TYPE(name, object, init, methods)                                       \
    PyVarObject_HEAD_INIT(NULL, 0)                                                       \
    .tp_name = "pycnn.layers." name,                                                     \
    .tp_basicsize = sizeof(object),                                                      \
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE,                                \
    .tp_base = &Layer_Type,                                                              \
    .tp_init = (initproc)(init),                                                         \
    .tp_methods = (methods)

/* The keyword arguments every layer constructor accepts, after its own: their names,
 * their PyArg format and where they are parsed to. A tp_init reads them as
 *   pc_layer_kwargs common = PC_LAYER_KWARGS_DEFAULTS;
 *   PyArg_ParseTupleAndKeywords(args, kwargs, "O|O$" PC_LAYER_KWFMT ":Dropout", kwlist,
 *                               &rate, &seed, PC_LAYER_KWARGS(common))
 * and ends with pc_layer_init_common(&self->base, &common). */
#define PC_LAYER_KWLIST "input_shape", "name", "trainable", "dtype"
#define PC_LAYER_KWFMT "OOpO"
typedef struct {
    PyObject *input_shape, *name;       /* borrowed */
    int trainable;
    PyObject *dtype;                    /* borrowed */
} pc_layer_kwargs;
#define PC_LAYER_KWARGS_DEFAULTS {Py_None, Py_None, 1, Py_None}
#define PC_LAYER_KWARGS(k) &(k).input_shape, &(k).name, &(k).trainable, &(k).dtype
/* Applies them (common part of every tp_init). 0, or -1 with an exception. */
int pc_layer_init_common(LayerObject *self, const pc_layer_kwargs *common);

/* 0 when the layer's __init__ ran (a subclass's __init__ must call super().__init__),
 * else -1 with RuntimeError: the C fields of an uninitialised layer are not usable */
int pc_layer_check_init(LayerObject *self);
/* The layer's name (borrowed; given automatically on first use: dense_1, ...) */
PyObject *pc_layer_name(LayerObject *self);
/* The dtype of its weights: the constructor's, else the first input's, else float32 */
int pc_layer_dtype(LayerObject *self);
/* x as a Tensor in the layer's dtype (cast, differentiably, when it differs). New ref. */
PyObject *pc_layer_input(LayerObject *self, PyObject *x);
/* The start of a C layer's call(inputs, training=None): checks the layer was initialised,
 * parses the two arguments and returns inputs as a Tensor (new ref): of the layer's dtype
 * (pc_layer_input) when in_layer_dtype, else of any float dtype. NULL with an exception.
 * *training (may be NULL: ignored) gets the training argument, borrowed, None if absent. */
PyObject *pc_layer_call_input(LayerObject *self, PyObject *args, PyObject *kwargs,
                              int in_layer_dtype, PyObject **training);
/* The same for a layer that must be built first: RuntimeError (pc_layer_not_built) unless
 * `built`, else inputs in the layer's dtype (new ref). NULL with an exception. */
PyObject *pc_layer_call_built(LayerObject *self, PyObject *args, PyObject *kwargs, int built);
/* The start of a weighted C layer's call(inputs, training=None) (Dense, Conv2D,
 * Conv2DTranspose): checks the layer was initialised, parses the arguments, checks it was
 * built (weight 0, and weight 1 when use_bias) and returns inputs as a Tensor of the
 * layer's dtype (new ref); *w and *b get the weights, borrowed (*b NULL without a bias).
 * NULL with an exception. */
PyObject *pc_layer_call_weighted(LayerObject *self, PyObject *args, PyObject *kwargs,
                                 int use_bias, PyObject **w, PyObject **b);
/* y after the layer's activation when it is not fused into the node (base.objs[PC_OBJ_POST]
 * of Dense, Conv2D, Conv2DTranspose): y itself otherwise. Steals y (NULL passes on). */
PyObject *pc_layer_post_activation(LayerObject *self, PyObject *y);
/* x (a Tensor's array) is (N, H, W, C) with pixels and channels: 0, else -1 with
 * ValueError naming `who` (the layer's name or the function) */
int pc_check_image(const char *who, PyArrayObject *x);
/* Raises RuntimeError "<name>: call() before build(); ..." and returns NULL: what call()
 * says when the layer's weights or statistics do not exist yet */
PyObject *pc_layer_not_built(LayerObject *self);
/* Every weight, trainable ones first (new list) */
PyObject *pc_layer_all_weights(LayerObject *self);
/* The weight methods of Layer (py/layer_weights.c) */
PyObject *pc_layer_count_params(LayerObject *self, PyObject *ignored);
PyObject *pc_layer_get_weights(LayerObject *self, PyObject *ignored);
PyObject *pc_layer_set_weights(LayerObject *self, PyObject *values);
PyObject *pc_layer_add_weight_method(LayerObject *self, PyObject *args, PyObject *kwargs);
/* Trainable weight i (borrowed), NULL when absent */
PyObject *pc_layer_weight(LayerObject *self, Py_ssize_t i);

/* Creates a weight "<layer name>/<wname>" of the given shape filled by `initializer`
 * (a Keras name, a {'class_name', 'config'} dict or a callable(shape, dtype)) and
 * appends it. Returns it (borrowed) or NULL. */
PyObject *pc_layer_add_weight(LayerObject *self, const char *wname, int ndim,
                              const npy_intp *shape, PyObject *initializer, int trainable,
                              int typenum);
/* Checks an initializer identifier at construction; ValueError names `who`. */
int pc_initializer_check(PyObject *init, const char *who, const char *arg);
/* JSON-safe form of an initializer identifier (new ref) */
PyObject *pc_initializer_serialize(PyObject *init);

/* A shape argument → dims (-1 for None). ndim is checked against [min_ndim, max].
 * ValueError names `who`. 0 or -1. */
int pc_layer_parse_shape(PyObject *shape, const char *who, int min_ndim, int *ndim,
                         npy_intp *dims);
/* The input_shape argument of a layer's build / compute_output_shape → dims (-1 for
 * None), at least min_ndim of them: RuntimeError when the layer was not initialised,
 * errors naming the layer. 0 or -1. */
int pc_layer_input_dims(LayerObject *self, PyObject *input_shape, int min_ndim, int *ndim,
                        npy_intp *dims);
/* The same for an image shape: (batch, H, W, C) with channels ≠ 0, else ValueError. */
int pc_layer_image_shape(LayerObject *self, PyObject *input_shape, npy_intp dims[4]);
/* The same, then H and W replaced by the output sizes of a sliding window (what:
 * "kernel" / "pool" for the message). 0 or -1. */
int pc_layer_window_dims(LayerObject *self, PyObject *input_shape, const char *what,
                         const pc_index window[2], const pc_index strides[2], int same,
                         npy_intp dims[4]);
/* Values per sample of a shape (batch first): the product of dims[1:], -1 when one of
 * them is unknown (-1) */
npy_intp pc_layer_sample_size(int ndim, const npy_intp *dims);
/* The same for x (a Tensor), which must have a batch axis: -1 with ValueError naming the
 * layer when it is a scalar */
npy_intp pc_layer_input_sample_size(LayerObject *self, PyArrayObject *x);
/* compute_output_shape of the layers that keep the shape: input_shape, checked */
PyObject *pc_layer_identity_shape(LayerObject *self, PyObject *input_shape);
/* Tuple of dims, None for -1 (new ref) */
PyObject *pc_layer_shape_tuple(int ndim, const npy_intp *dims);
/* The common config updated with a layer type's own keys (`own` is stolen; NULL
 * passes its error on). New dict or NULL. */
PyObject *pc_layer_config(LayerObject *self, PyObject *own);
/* Common config: name, trainable, dtype, input_shape when given (new dict) */
PyObject *pc_layer_base_config(LayerObject *self);

/* A positive integer argument (ints and NumPy integers), else -1 with ValueError */
npy_intp pc_parse_positive(PyObject *obj, const char *who, const char *arg);
/* An int or a pair of ints (Keras kernel_size, strides, pool_size), each ≥ 1. */
int pc_parse_pair(PyObject *obj, const char *who, const char *arg, pc_index out[2]);
/* 'valid' → 0, 'same' → 1 (case-insensitive), else ValueError; -1 */
int pc_parse_padding(PyObject *obj, const char *who);
/* data_format None or 'channels_last'; anything else: ValueError. 0 or -1. */
int pc_check_channels_last(PyObject *obj, const char *who);

/* The activation argument of Dense/Conv2D: None/'linear'/'relu'/'sigmoid'/'tanh'
 * (and the core's relu/sigmoid/tanh functions) fuse into the layer's node (*act =
 * a pc_act, *post = NULL); any other name or callable goes through
 * pycnn.activations.get and is applied after the node (*post: new ref). *keras_name:
 * the name for get_config (new ref). */
int pc_resolve_activation(PyObject *activation, const char *who, int *act, PyObject **post,
                          PyObject **keras_name);

/* "<snake_case(type name)>_<k>": dense_1, max_pooling2d_1 (new ref) */
PyObject *pc_auto_name(PyTypeObject *type);

/* base.objs[] of the layers with a kernel (Dense, Maxout, Conv2D) */
enum { PC_OBJ_ACTIVATION, PC_OBJ_POST, PC_OBJ_KERNEL_INIT, PC_OBJ_BIAS_INIT };
/* Checks and keeps their activation and initializers; *act: the fused pc_act */
int pc_kernel_layer_args(LayerObject *self, const char *who, PyObject *activation,
                         PyObject *kinit, PyObject *binit, int *act);
/* The rest of their __init__: the initializers (NULL: 'glorot_uniform' and 'zeros'),
 * the activation (*act: the fused pc_act) and the common layer arguments. 0 or -1. */
int pc_kernel_layer_finish(LayerObject *self, const char *who, PyObject *activation,
                           PyObject *kinit, PyObject *binit, int *act,
                           const pc_layer_kwargs *common);
/* Their get_config: the common keys, `own` (stolen; NULL passes its error on), then
 * activation (when with_activation), use_bias, kernel_initializer, bias_initializer.
 * RuntimeError when the layer was not initialised. New dict or NULL. */
PyObject *pc_kernel_layer_config(LayerObject *self, PyObject *own, int with_activation,
                                 int use_bias);
/* Their `kernel` and `bias` attributes: weight 0 and 1, or None */
PyObject *pc_layer_get_kernel(LayerObject *self, void *closure);
PyObject *pc_layer_get_bias(LayerObject *self, void *closure);

/* The one generator of initializers and dropout masks (pycnn.set_seed) */
pc_rng *pc_global_rng(void);

/* The call protocol (py/layer_call.c): __call__ of every layer, and the static methods
 * through which models enter the call context */
PyObject *pc_layer_tp_call(LayerObject *self, PyObject *args, PyObject *kwargs);
PyObject *pc_layer_enter_call(PyObject *cls, PyObject *training);
PyObject *pc_layer_exit_call(PyObject *cls, PyObject *token);
PyObject *pc_layer_call_state(PyObject *cls, PyObject *ignored);
#define PC_LAYER_CALL_METHODS                                                               \
    {"_enter_call", (PyCFunction)pc_layer_enter_call, METH_O | METH_STATIC,                 \
     "_enter_call(training) -> token: a model's call enters the layers' call context"},     \
    {"_exit_call", (PyCFunction)pc_layer_exit_call, METH_O | METH_STATIC,                   \
     "_exit_call(token): leaves it"},                                                       \
    {"_call_state", (PyCFunction)pc_layer_call_state, METH_NOARGS | METH_STATIC,            \
     "_call_state() -> (generation, depth, training or None)"},

/* Bindings of the layer family's functions and types (module.c) */
int pc_initializers_exec(PyObject *m);
#define LAYER_FILE(stem) int pc_##stem##_exec(PyObject *m);
#include "py/layer_files.def"
#undef LAYER_FILE
/* Tensors for (x, kernel, bias) of the conv functions in one dtype: float64 when any of
 * them is; objs[i] NULL or None gives ts[i] = NULL (new refs). 0 or -1. */
int pc_conv_operands(PyObject *objs[3], PyObject *ts[3]);
/* The window arguments the conv layers share (Conv2D, Conv2DTranspose), as parsed by
 * pc_conv_layer_window: filters, kernel_size, strides, padding, dilation_rate (NULL
 * objects: the defaults 1, 'valid', 1), data_format (None or 'channels_last'), with
 * Keras' rule and words for strides > 1 with dilation_rate > 1. 0, or -1 with ValueError
 * naming `who`. */
typedef struct {
    npy_intp filters;
    pc_index kernel_size[2], strides[2], dilation[2];
    int same;
} pc_conv_window_args;
int pc_conv_layer_window(const char *who, PyObject *filters, PyObject *ksize, PyObject *strides,
                         PyObject *padding, PyObject *dilation, PyObject *data_format,
                         pc_conv_window_args *out);
/* build() of the conv layers: kernel (kh, kw, ·, ·) with `filters` at index filters_at
 * (3: Conv2D's (kh, kw, C, F); 2: Conv2DTranspose's (kh, kw, F, C)) and the input's
 * channels (/ groups) in the other, then bias (filters,) when use_bias. None or NULL. */
PyObject *pc_conv_layer_build(LayerObject *base, PyObject *input_shape,
                              const pc_index ksize[2], npy_intp filters, int filters_at,
                              int use_bias, npy_intp groups);

/* Keras arguments pycnn accepts only at their defaults (None / False): ValueError naming
 * the first that is set (values[i] is the argument names[i] of `who`). 0 or -1. */
int pc_check_unsupported(PyObject *const *values, const char *const *names, int n,
                         const char *who);

/* obj.method(arg) — arg passed as one argument even when it is a tuple (new ref) */
PyObject *pc_call_method(PyObject *obj, const char *method, PyObject *arg);

/* Adds a ready type to the module */
int pc_add_type(PyObject *m, PyTypeObject *type);
/* What a layer file's exec function adds to the module: its types (a NULL-terminated
 * list) and its functions (NULL: none). 0 or -1. */
int pc_add_layer_file(PyObject *m, PyTypeObject *const *types, PyMethodDef *functions);

#endif
