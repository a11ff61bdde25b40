"""threadpoolctl sees pycnn's own thread pool: ``threadpool_info()`` lists it (user_api
"pycnn") and ``threadpool_limits(n)`` limits it together with NumPy's BLAS.

threadpoolctl finds controllers by the file names of the loaded shared libraries; the
extension is ``_core.<tag>.so``, a name other packages share, so the controller also
requires the two C symbols only pycnn exports (``check_symbols``).
"""


def register():
    """Register the controller if threadpoolctl (>= 3.0, optional) is importable."""
    try:
        import threadpoolctl
        LibController = threadpoolctl.LibController
    except (ImportError, AttributeError):
        return False

    class PycnnController(LibController):
        user_api = "pycnn"
        internal_api = "pycnn"
        filename_prefixes = ("_core",)
        check_symbols = ("pycnn_get_num_threads", "pycnn_set_num_threads")

        def get_num_threads(self):
            get = getattr(self.dynlib, "pycnn_get_num_threads", None)
            return get() if get is not None else None

        def set_num_threads(self, num_threads):
            set_ = getattr(self.dynlib, "pycnn_set_num_threads", None)
            return set_(min(max(int(num_threads), 1), 256)) if set_ is not None else None

        def get_version(self):
            from . import __version__
            return __version__

    threadpoolctl.register(PycnnController)
    return True
