"""Run many small cases in a child process so that a crash names its case.

A case is a function of no arguments in some module's ``CASES`` dict (name -> fn).
``run_cases(module_file, names)`` starts ``python crashguard.py <module_file>``, sends
it the names, and the child runs them one by one, announcing each case before it
runs and reporting its outcome after. If the child dies (segfault, abort) or a case
runs longer than ``timeout`` seconds, that case is recorded as "crash" or "hang"
and a fresh child resumes with the next case. One child serves the whole batch, so
hundreds of cases cost one interpreter start-up, not hundreds.

Outcome of a case: {"status": "ok"} when it returned, {"status": "raised", "type":
name, "mro": [names], "message": str} when it raised, {"status": "crash", "signal":
...} or {"status": "hang"}.

With PYCNN_BAD_INPUTS_INPROCESS=1 the cases run in the calling process instead (the
sanitizer and valgrind runs want every case inside the instrumented process).
"""
import importlib.util
import json
import os
import select
import signal
import subprocess
import sys
import tempfile
import time

INPROCESS = os.environ.get("PYCNN_BAD_INPUTS_INPROCESS") == "1"


def _load(module_file):
    spec = importlib.util.spec_from_file_location("_crashguard_cases", module_file)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def outcome(fn):
    try:
        fn()
    except BaseException as e:      # noqa: BLE001 — the outcome is the point
        if isinstance(e, (KeyboardInterrupt, SystemExit)) and not hasattr(fn, "allow_exit"):
            raise
        return {"status": "raised", "type": type(e).__name__,
                "mro": [c.__name__ for c in type(e).__mro__], "message": str(e)[:2000]}
    return {"status": "ok"}


def _child(module_file):
    cases = _load(module_file).CASES
    out = sys.stdout
    for line in sys.stdin:
        name = json.loads(line)
        out.write(json.dumps({"start": name}) + "\n")
        out.flush()
        result = outcome(cases[name])
        result["name"] = name
        out.write(json.dumps(result) + "\n")
        out.flush()


def run_cases(module_file, names, timeout=30.0):
    """{name: outcome} for every name; see the module docstring."""
    names = list(names)
    if INPROCESS:
        cases = _load(module_file).CASES
        return {n: outcome(cases[n]) for n in names}
    results = {}
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(p for p in sys.path if p))
    while len(results) < len(names):
        todo = [n for n in names if n not in results]
        with tempfile.TemporaryFile() as err:
            _run_child(module_file, todo, timeout, env, err, results)
    return results


def _run_child(module_file, todo, timeout, env, err, results):
    child = subprocess.Popen([sys.executable, os.path.abspath(__file__), module_file],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err,
                             env=env)
    child.stdin.write("".join(json.dumps(n) + "\n" for n in todo).encode())
    child.stdin.close()
    fd, pending, current = child.stdout.fileno(), b"", None
    deadline = time.monotonic() + timeout
    try:
        while True:
            while b"\n" in pending:
                line, pending = pending.split(b"\n", 1)
                msg = json.loads(line)
                if "start" in msg:
                    current, deadline = msg["start"], time.monotonic() + timeout
                else:
                    results[msg.pop("name")] = msg
                    current = None
            ready, _, _ = select.select([fd], [], [], max(0.0, deadline - time.monotonic()))
            if not ready:                               # the current case hangs
                child.kill()
                results[current or todo[0]] = {"status": "hang", "seconds": timeout}
                return
            chunk = os.read(fd, 65536)
            if chunk:
                pending += chunk
                continue
            code = child.wait()                         # end of output: the child is done
            if current is None and code == 0 and all(n in results for n in todo):
                return
            err.seek(0)
            tail = err.read()[-3000:].decode(errors="replace")
            sig = signal.Signals(-code).name if code < 0 else None
            for n in ([current] if current is not None else
                      [n for n in todo if n not in results]):
                results[n] = {"status": "crash", "code": code, "signal": sig, "stderr": tail}
            return
    finally:
        child.stdout.close()
        child.wait()


if __name__ == "__main__":
    _child(sys.argv[1])
