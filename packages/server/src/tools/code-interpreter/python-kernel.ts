// The Python side of the code interpreter, written into the sandbox's read-only /opt/atelier:
// the kernel (a persistent namespace driven over fd 3) and the matplotlib backend that hands
// figures to it. Kept as TypeScript strings so the compiled server carries them with no build step.

/** /opt/atelier/kernel.py: the process the sandbox runs. */
export const KERNEL_SOURCE = String.raw`"""Atelier's code-interpreter kernel. Runs inside the sandbox as an unprivileged user.

Speaks JSON lines with the server on fd 3: it receives {"type": "execute", "id", "code",
"nonce"} and {"type": "interrupt", "id"}, and answers {"type": "ready"} once, then one
{"type": "result", "id", "error", "images"} per execution. Everything the code prints (and what
its subprocesses write) goes to fd 1, where stderr joins it; after each result the kernel writes
the execution's nonce there so the server knows where that execution's output ends.
"""
import ast
import base64
import builtins
import errno
import io
import json
import linecache
import os
import queue
import resource
import signal
import sys
import threading
import traceback
import types

PROTOCOL_FD = 3
OUTPUT_FD = 1
KERNEL_PID = os.getpid()
KERNEL_FILE = __file__
LIMITS = json.loads(os.environ.get("ATELIER_KERNEL_LIMITS") or "{}")
MAX_IMAGES = int(LIMITS.get("maxImages", 20))
MAX_IMAGE_BYTES = int(LIMITS.get("maxImageBytes", 32 * 1024 * 1024))  # all images of one execution


class CpuLimitExceeded(Exception):
    """The execution used more CPU time than the sandbox allows."""


_state = {"executing": False, "id": None}
_images = []
_send_lock = threading.Lock()


def _write_all(fd, data):
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _send(message):
    data = (json.dumps(message, separators=(",", ":")) + "\n").encode()
    with _send_lock:
        _write_all(PROTOCOL_FD, data)


def _read_requests(requests, main_thread_id):
    """Protocol thread: queues executions; turns an interrupt into SIGINT for the main thread."""
    with open(PROTOCOL_FD, "rb", buffering=65536, closefd=False) as stream:
        for line in stream:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            if not isinstance(message, dict):
                continue
            if message.get("type") == "interrupt":
                if _state["executing"] and _state["id"] == message.get("id"):
                    signal.pthread_kill(main_thread_id, signal.SIGINT)
            else:
                requests.put(message)
    requests.put(None)


def _on_cpu_limit(signum, frame):
    if _state["executing"]:
        raise CpuLimitExceeded(
            "the execution used more than %s s of CPU time, the sandbox's limit" % LIMITS.get("cpuSeconds")
        )


def _arm_cpu_budget():
    """RLIMIT_CPU counts the process's whole life: give each execution its own budget."""
    seconds = LIMITS.get("cpuSeconds")
    if not seconds:
        return
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft, hard = resource.getrlimit(resource.RLIMIT_CPU)
    budget = int(usage.ru_utime + usage.ru_stime) + 1 + int(seconds)
    if hard != resource.RLIM_INFINITY:
        budget = min(budget, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (budget, hard))


def _add_png(data):
    kept = [image for image in _images if image is not None]
    if len(kept) < MAX_IMAGES and sum(map(len, kept)) + len(data) <= MAX_IMAGE_BYTES:
        _images.append(data)
    elif None not in _images:
        print(
            "[sandbox] more than %d images or %d MB of images in one execution: the rest are not shown"
            % (MAX_IMAGES, MAX_IMAGE_BYTES // (1024 * 1024)),
            file=sys.stderr,
        )
        _images.append(None)


def _add_figure(figure):
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", bbox_inches="tight")
    _add_png(buffer.getvalue())


def capture_figures():
    """Every open matplotlib figure becomes a PNG, then is closed (like Jupyter's inline backend)."""
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None:
        return
    from matplotlib._pylab_helpers import Gcf

    for manager in Gcf.get_all_fig_managers():
        try:
            _add_figure(manager.canvas.figure)
        except Exception as error:  # a broken figure must not cost the execution its result
            print("[sandbox] could not render a figure: %r" % (error,), file=sys.stderr)
    pyplot.close("all")


def display(*objects):
    """Shows figures and images as images, anything else as its repr (like IPython's display)."""
    for obj in objects:
        if hasattr(obj, "savefig") and type(obj).__module__.startswith("matplotlib"):
            _add_figure(obj)
            pyplot = sys.modules.get("matplotlib.pyplot")
            if pyplot is not None:
                pyplot.close(obj)
        elif callable(getattr(obj, "_repr_png_", None)):
            data = obj._repr_png_()
            if isinstance(data, bytes):
                _add_png(data)
        else:
            print(repr(obj))


def _limit_hint(error):
    """One sentence naming the sandbox limit behind an error, if one is."""
    if isinstance(error, MemoryError):
        return "the sandbox has a memory limit of %s MB" % LIMITS.get("memoryMb")
    if isinstance(error, RuntimeError) and "can't start new thread" in str(error):
        return "the sandbox allows %s processes and threads at once" % LIMITS.get("processes")
    if type(error).__name__ == "gaierror" or isinstance(error, (ConnectionRefusedError, TimeoutError)):
        if type(error).__module__ == "socket" or isinstance(error, ConnectionRefusedError):
            return "the sandbox has no network access"
    if isinstance(error, OSError):
        code = error.errno
        if code in (errno.ENOSPC, errno.EDQUOT):
            return "the sandbox has %s MB of disk for /mnt/data and /tmp together" % LIMITS.get("diskMb")
        if code == errno.EFBIG:
            return "a file in the sandbox can be at most %s MB" % LIMITS.get("fileSizeMb")
        if code == errno.EAGAIN and isinstance(error, BlockingIOError):
            return "if this came from starting a process: the sandbox allows %s processes and threads" % LIMITS.get(
                "processes"
            )
        if code in (errno.ENETUNREACH, errno.EHOSTUNREACH, errno.ECONNREFUSED, errno.EADDRNOTAVAIL):
            return "the sandbox has no network access"
        if code == errno.EROFS:
            return "only /mnt/data and /tmp are writable in the sandbox"
    return None


def _without_kernel_frames(summary, seen):
    """The kernel's own frames (exec, signal handlers) are noise in the user's traceback."""
    if summary is None or id(summary) in seen:
        return
    seen.add(id(summary))
    summary.stack = traceback.StackSummary.from_list(
        [frame for frame in summary.stack if frame.filename != KERNEL_FILE]
    )
    _without_kernel_frames(summary.__cause__, seen)
    _without_kernel_frames(summary.__context__, seen)


def _describe(error):
    """Jupyter-style error: name, value and the traceback as the user's code sees it."""
    summary = traceback.TracebackException(type(error), error, error.__traceback__)
    _without_kernel_frames(summary, set())
    text = "".join(summary.format())
    if text.startswith("Traceback (most recent call last):\n") and not summary.stack:
        text = "".join(summary.format_exception_only())  # e.g. a SyntaxError in the cell
    value = str(error)
    hint = _limit_hint(error)
    if hint:
        value = "%s (%s)" % (value, hint) if value else hint
        text += "Note: %s.\n" % hint
    return {"name": type(error).__name__, "value": value, "traceback": text}


def _run(code, filename, namespace):
    """exec the cell; a final expression's value is shown, as in a notebook."""
    try:
        tree = ast.parse(code, filename, "exec")
    except SyntaxError as error:
        error.__traceback__ = None  # the parser's frames are not the user's
        raise
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, filename, "exec"), namespace)
    if last is not None:
        value = eval(compile(last, filename, "eval"), namespace)
        if value is not None:
            namespace["_"] = value
            display(value)


def _stray_processes():
    """Other processes of the sandbox than its init and this kernel: pid -> still running."""
    own = os.getpid()
    strays = {}
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) in (1, own):
            continue
        try:
            with open("/proc/%s/stat" % name, "rb") as stat:
                state = stat.read().rsplit(b")", 1)[1].split()[0]
        except (OSError, IndexError):
            continue
        strays[int(name)] = state != b"Z"
    return strays


def _end_stray_processes():
    """Processes the code started do not outlive its execution (a fork bomb's included)."""
    if not _in_own_pid_namespace():  # kill(-1) outside the sandbox would hit the whole machine
        return
    for _ in range(400):  # at most about 2 s: a fork bomb dies in a few rounds
        strays = _stray_processes()
        if not strays:
            return
        if any(strays.values()):
            try:
                os.kill(-1, signal.SIGKILL)  # every process of the sandbox but its init and this one
            except ProcessLookupError:
                pass
        while True:  # our own children are ours to reap; the sandbox's init reaps the others
            try:
                pid, _status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
        threading.Event().wait(0.005)


def _in_own_pid_namespace():
    # Under bubblewrap the sandbox's init is pid 1 and this kernel pid 2, as an unprivileged
    # user; on a host, pid 2 is a kernel thread and no Python process can have it.
    return os.getpid() == 2 and os.getuid() != 0


def _flush():
    for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
        try:
            stream.flush()
        except Exception:
            pass


def _execute(message, namespace, count):
    execution_id = message.get("id")
    code = message.get("code")
    if not isinstance(code, str):
        code = ""
    nonce = str(message.get("nonce", ""))
    filename = "<cell %d>" % count
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    del _images[:]
    error = None
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGXCPU, _on_cpu_limit)
    _arm_cpu_budget()
    try:
        try:
            _state.update(executing=True, id=execution_id)
            _run(code, filename, namespace)
        finally:
            _state["executing"] = False
    except SystemExit as exit_request:
        if os.getpid() != KERNEL_PID:
            os._exit(exit_request.code if isinstance(exit_request.code, int) else 1)
        if exit_request.code not in (None, 0):
            error = _describe(exit_request)
    except BaseException as raised:  # noqa: B036 - the cell's KeyboardInterrupt included
        if os.getpid() != KERNEL_PID:  # a child the code forked: it must not speak for the kernel
            os._exit(1)
        error = _describe(raised)
    if os.getpid() != KERNEL_PID:
        os._exit(0)
    # From here on the kernel's own work: a late interrupt must not break it.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        capture_figures()
    except Exception as failure:
        print("[sandbox] could not capture figures: %r" % (failure,), file=sys.stderr)
    _end_stray_processes()
    if error is not None:
        _flush()
        sys.stderr.write(error["traceback"])
    _flush()
    images = [base64.b64encode(data).decode("ascii") for data in _images if data is not None]
    del _images[:]
    _send({"type": "result", "id": execution_id, "error": error, "images": images})
    _write_all(OUTPUT_FD, nonce.encode())


def _text_stream(fd):
    raw = io.FileIO(fd, "w", closefd=False)
    return io.TextIOWrapper(
        io.BufferedWriter(raw), encoding="utf-8", errors="backslashreplace", line_buffering=True
    )


def main():
    if not _in_own_pid_namespace():
        sys.exit("atelier kernel: refusing to run outside its sandbox (expected pid 2 as a non-root user)")
    # Descriptors the server inherited without close-on-exec reach this process through
    # bubblewrap: none of them is the code's business.
    os.closerange(PROTOCOL_FD + 1, 2**31 - 1)
    os.dup2(OUTPUT_FD, 2)  # one interleaved log: stderr joins stdout
    sys.stdout = sys.__stdout__ = _text_stream(OUTPUT_FD)
    sys.stderr = sys.__stderr__ = _text_stream(2)
    signal.signal(signal.SIGXCPU, signal.SIG_IGN)
    # The code runs in a module of its own named __main__ (pickle and multiprocessing look there);
    # matplotlib's inline backend reaches this kernel as atelier_kernel.
    sys.modules["atelier_kernel"] = sys.modules[__name__]
    user_module = types.ModuleType("__main__")
    user_module.__dict__.update(__builtins__=builtins, display=display)
    sys.modules["__main__"] = user_module
    sys.path.insert(0, "")
    sys.path.append(os.path.dirname(KERNEL_FILE))
    requests = queue.SimpleQueue()
    threading.Thread(
        target=_read_requests, args=(requests, threading.get_ident()), name="atelier-protocol", daemon=True
    ).start()
    _send({"type": "ready", "python": sys.version.split()[0]})
    count = 0
    while True:
        try:
            message = requests.get()
            if message is None:
                break
            if message.get("type") == "execute":
                count += 1
                _execute(message, user_module.__dict__, count)
        except KeyboardInterrupt:  # an interrupt that came too late: nothing to stop
            continue
        except Exception as failure:  # the code broke the kernel's plumbing (closed fd 1, …)
            try:
                os.write(2, ("[sandbox] kernel error: %r\n" % (failure,)).encode())
            except OSError:
                pass


main()
`;

/** /opt/atelier/atelier_inline.py: `MPLBACKEND=module://atelier_inline`. */
export const MATPLOTLIB_BACKEND_SOURCE = `"""matplotlib backend of Atelier's kernel: renders with Agg; show() hands the figures to the kernel."""
from matplotlib.backend_bases import FigureManagerBase as FigureManager  # noqa: F401
from matplotlib.backends.backend_agg import FigureCanvasAgg as FigureCanvas  # noqa: F401


def show(*args, **kwargs):
    import atelier_kernel

    atelier_kernel.capture_figures()
`;
