"""Tesseract kept loaded in this process, through the C API of Debian's ``libtesseract.so.5``.

Why not one ``tesseract`` process per call: every process loads the ``jpn`` model again
(tens of milliseconds to a few hundred for each of a page's many calls). Here one
``TessBaseAPI`` per recognition setting and thread stays initialised and only the image
changes between calls.

Why ctypes over the system library rather than a wrapper wheel: it is the very library
the ``tesseract`` executable uses (same version, same models, same output: the words are
read back as the same TSV the command line prints), it needs no compiler and no extra
package, and it is there wherever ``tesseract-ocr`` is.

* Thread safety: a ``TessBaseAPI`` must never be used by two threads at once, so the
  objects live in a ``threading.local`` (the runner reads documents on worker threads).
  One object per (language, dictionaries, whitelist) and thread; the page segmentation
  mode is set on every call, the rest is fixed at initialisation, so no setting of one
  call can leak into another.
* Tesseract's own OpenMP threads are switched off in the system ``libgomp`` that it uses
  (``omp_set_max_active_levels(0)``: every parallel region runs on the calling thread), the
  in-process equivalent of ``OMP_THREAD_LIMIT=1``. The environment is never touched: it is
  shared by the whole process, and CTranslate2 (the transcription engine, with its own
  bundled OpenMP) computes garbage when it reads a thread limit below its thread count.
* The page's real DPI goes to Tesseract with ``SetSourceResolution`` (without it
  Tesseract assumes 70 dpi and drops lines of small print).
* A deadline on the recogniser's monitor stands in for the subprocess timeout.
"""
from __future__ import annotations

import ctypes
import os
import threading
import time
import weakref

import numpy as np

from ocr import models
from ocr.errors import EngineError
from ocr.tesseract import DEFAULT_TIMEOUT_S, Word, call_variables, parse_tsv

LIBRARY = os.environ.get("KYODO_LIBTESSERACT", "libtesseract.so.5")
OEM_DEFAULT = 3  # as the command line: LSTM where the model has it

_lib: ctypes.CDLL | None = None
_lib_error: str | None = None
_load_lock = threading.Lock()


def _single_thread_openmp() -> None:
    """Run Tesseract's OpenMP regions on the calling thread only (a process-wide ICV of the
    system libgomp, which nothing else here uses: wheels bundle their own renamed copies)."""
    gomp = ctypes.CDLL("libgomp.so.1")
    gomp.omp_set_max_active_levels.argtypes = [ctypes.c_int]
    gomp.omp_set_max_active_levels(0)
    gomp.omp_get_max_active_levels.restype = ctypes.c_int
    if gomp.omp_get_max_active_levels() != 0:
        raise OSError("could not switch off OpenMP threads in libgomp")


def _quiet_leptonica() -> None:
    """Leptonica (Tesseract's image library) prints its own errors to stderr ('Error in
    pixScanForForeground: invalid box' for an empty region): the command line's stderr was
    discarded, in-process they would reach a clerk's terminal. Tesseract's result is unaffected."""
    try:
        lept = ctypes.CDLL("liblept.so.5")
        lept.setMsgSeverity.argtypes = [ctypes.c_int]
        lept.setMsgSeverity(6)  # L_SEVERITY_NONE
    except (OSError, AttributeError):
        pass  # another Leptonica build: its messages stay on


def _declare(lib: ctypes.CDLL) -> None:
    p, c, i = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int
    sigs = {
        "TessVersion": (c, []),
        "TessBaseAPICreate": (p, []),
        "TessBaseAPIDelete": (None, [p]),
        "TessBaseAPIInit4": (i, [p, c, c, i, ctypes.POINTER(c), i, ctypes.POINTER(c), ctypes.POINTER(c), ctypes.c_size_t, i]),
        "TessBaseAPISetPageSegMode": (None, [p, i]),
        "TessBaseAPISetImage": (None, [p, p, i, i, i, i]),
        "TessBaseAPISetSourceResolution": (None, [p, i]),
        "TessBaseAPIRecognize": (i, [p, p]),
        "TessBaseAPIGetTsvText": (p, [p, i]),  # a char* we must free: not c_char_p
        "TessDeleteText": (None, [p]),
        "TessBaseAPIClear": (None, [p]),
        "TessMonitorCreate": (p, []),
        "TessMonitorDelete": (None, [p]),
        "TessMonitorSetDeadlineMSecs": (None, [p, i]),
    }
    for name, (res, args) in sigs.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args


def library() -> ctypes.CDLL:
    """The loaded library; :class:`EngineError` when it cannot be loaded."""
    global _lib, _lib_error
    with _load_lock:
        if _lib is None and _lib_error is None:
            try:
                lib = ctypes.CDLL(LIBRARY)
                _single_thread_openmp()
                _quiet_leptonica()
                _declare(lib)
                _lib = lib
            except (OSError, AttributeError) as e:
                _lib_error = f"{LIBRARY}: {e}"
    if _lib is None:
        raise EngineError(f"the Tesseract library cannot be used ({_lib_error}); install libtesseract5 (comes with tesseract-ocr)")
    return _lib


def available() -> bool:
    try:
        library()
    except EngineError:
        return False
    return True


def version() -> str:
    return library().TessVersion().decode()


def _cstrings(items: list[str]):
    arr = (ctypes.c_char_p * max(1, len(items)))()
    for k, s in enumerate(items):
        arr[k] = s.encode()
    return arr


class _Api:
    """One initialised TessBaseAPI (used by one thread only)."""

    def __init__(self, lang: str, whitelist: str | None, dictionaries: bool) -> None:
        lib = library()
        self._lib = lib
        self.handle = lib.TessBaseAPICreate()
        if not self.handle:
            raise EngineError("could not create a Tesseract API object")
        self._finalizer = weakref.finalize(self, lib.TessBaseAPIDelete, self.handle)
        # The same settings as the command line gets (the whitelist and the dictionaries are
        # read only at initialisation, hence one object per setting). Tesseract's diagnostics
        # would otherwise go to our stderr (the command line's were discarded).
        variables = {**call_variables(whitelist, dictionaries), "debug_file": "/dev/null"}
        names, values = list(variables), list(variables.values())
        datapath = models.datapath_for(lang)  # jpn_full lives in our own folder, the rest in Debian's
        rc = lib.TessBaseAPIInit4(self.handle, str(datapath).encode() if datapath else None, lang.encode(), OEM_DEFAULT, None, 0,
                                  _cstrings(names), _cstrings(values), len(names), 0)
        if rc != 0:
            self._finalizer()
            raise EngineError(f"Tesseract could not load language '{lang}'; install tesseract-ocr-{lang.split('+')[0]}")

    def words(self, image: np.ndarray, *, psm: int, dpi: int, timeout_s: float) -> list[Word]:
        img = np.ascontiguousarray(image)
        if img.dtype != np.uint8:
            raise EngineError(f"Tesseract needs an 8-bit image, got {img.dtype}")
        if img.ndim == 3 and img.shape[2] == 3:
            img = np.ascontiguousarray(img[:, :, ::-1])  # OpenCV's BGR -> the RGB Tesseract expects
        elif img.ndim != 2:
            raise EngineError(f"Tesseract needs a grey or colour image, got shape {img.shape}")
        h, w = img.shape[:2]
        if h < 3 or w < 3:
            return []
        bpp = 1 if img.ndim == 2 else 3
        lib = self._lib
        lib.TessBaseAPISetPageSegMode(self.handle, int(psm))
        lib.TessBaseAPISetImage(self.handle, img.ctypes.data, w, h, bpp, int(img.strides[0]))
        lib.TessBaseAPISetSourceResolution(self.handle, int(dpi))
        monitor = lib.TessMonitorCreate()
        lib.TessMonitorSetDeadlineMSecs(monitor, max(1, int(timeout_s * 1000)))
        t0 = time.monotonic()
        try:
            rc = lib.TessBaseAPIRecognize(self.handle, monitor)
            if time.monotonic() - t0 >= timeout_s:
                raise EngineError(f"tesseract timed out after {timeout_s:.0f}s")
            if rc != 0:
                raise EngineError(f"tesseract recognition failed (code {rc})")
            ptr = lib.TessBaseAPIGetTsvText(self.handle, 0)
            if not ptr:
                raise EngineError("tesseract returned no result")
            try:
                tsv = ctypes.string_at(ptr).decode("utf-8", "replace")
            finally:
                lib.TessDeleteText(ptr)
        finally:
            lib.TessMonitorDelete(monitor)
            lib.TessBaseAPIClear(self.handle)  # frees the page results; the model stays loaded
        # The command line prints a header row first; parse_tsv skips one.
        return parse_tsv("header\n" + tsv)


class TessApiEngine:
    """:class:`~ocr.engine.OcrEngine` over the persistent API: one set of objects per thread."""

    name = "api"

    def __init__(self, timeout_s: float = DEFAULT_TIMEOUT_S) -> None:
        library()  # fail now, not on the first page
        self.timeout_s = timeout_s
        self.calls = 0
        self._local = threading.local()

    def _api(self, lang: str, whitelist: str | None, dictionaries: bool) -> _Api:
        apis: dict[tuple, _Api] | None = getattr(self._local, "apis", None)
        if apis is None:
            apis = self._local.apis = {}
        key = (lang, whitelist or None, bool(dictionaries))
        api = apis.get(key)
        if api is None:
            api = apis[key] = _Api(lang, whitelist, dictionaries)
        return api

    def words(self, image: np.ndarray, *, lang: str, psm: int, dpi: int,
              whitelist: str | None = None, dictionaries: bool = True) -> list[Word]:
        self.calls += 1
        return self._api(lang, whitelist, dictionaries).words(image, psm=psm, dpi=dpi, timeout_s=self.timeout_s)
