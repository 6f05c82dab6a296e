# Paddock python harness: one persistent interpreter that runs cells the way IPython does
# (the value of a final expression is the main result, rich reprs, matplotlib figures as PNG,
# tracebacks trimmed to the user's code). See package kernel for the protocol.
import ast, base64, json, os, signal, sys, traceback

_events = os.fdopen(4, "w", buffering=1)
_commands = os.fdopen(3, "r")
_sentinel = os.environ.pop("PADDOCK_SENTINEL", "")
_ns = {"__name__": "__main__", "__builtins__": __builtins__}
_count = 0
os.environ.setdefault("MPLBACKEND", "Agg")
# A line goes out whole as it ends: python runs with -u, which writes print's pieces ("x",
# " ", "y", "\n") one by one, and a client streaming the cell would see them as separate
# outputs. Line-buffered without write-through, each line is one write, sent at once.
sys.stdout.reconfigure(line_buffering=True, write_through=False)
sys.stderr.reconfigure(line_buffering=True, write_through=False)


def _emit(ev):
    _events.write(json.dumps(ev) + "\n")


def _bundle(value):
    """MIME-keyed formats of a value, as Jupyter's display formatter would give them."""
    out = {"text": repr(value)}
    reprs = [("_repr_html_", "html"), ("_repr_markdown_", "markdown"), ("_repr_svg_", "svg"),
             ("_repr_latex_", "latex"), ("_repr_json_", "json"), ("_repr_javascript_", "javascript")]
    for method, key in reprs:
        fn = getattr(value, method, None)
        if callable(fn):
            try:
                r = fn()
            except Exception:
                continue
            if r is not None:
                out[key] = r
    for method, key in (("_repr_png_", "png"), ("_repr_jpeg_", "jpeg")):
        fn = getattr(value, method, None)
        if callable(fn):
            try:
                r = fn()
            except Exception:
                continue
            if isinstance(r, bytes):
                out[key] = base64.b64encode(r).decode()
            elif isinstance(r, str):
                out[key] = r
    return out


def _flush_figures():
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is None:
        return
    import io
    for num in plt.get_fignums():
        fig = plt.figure(num)
        buf = io.BytesIO()
        fig.savefig(buf, format="png", bbox_inches="tight")
        _emit({"type": "result", "is_main_result": False, "png": base64.b64encode(buf.getvalue()).decode(),
               "text": "<Figure size %dx%d with %d Axes>" % (fig.get_figwidth() * fig.dpi, fig.get_figheight() * fig.dpi, len(fig.axes))})
    plt.close("all")


def _patch_show():
    plt = sys.modules.get("matplotlib.pyplot")
    if plt is not None and not getattr(plt.show, "_paddock", False):
        def show(*args, **kwargs):
            _flush_figures()
        show._paddock = True
        plt.show = show


def _display(*objs, **kwargs):
    for obj in objs:
        ev = {"type": "result", "is_main_result": False}
        ev.update(_bundle(obj))
        _emit(ev)


_ns["display"] = _display


def _user_traceback(exc):
    tb = exc.__traceback__
    # Drop the harness's own frames: the user's code is compiled as "<cell>".
    while tb is not None and tb.tb_frame.f_code.co_filename != "<cell>":
        tb = tb.tb_next
    lines = traceback.format_exception(type(exc), exc, tb)
    return "".join(lines)


def _run(code):
    global _count
    _count += 1
    _ns["_pd_count"] = _count
    tree = ast.parse(code, filename="<cell>", mode="exec")
    last = None
    if tree.body and isinstance(tree.body[-1], ast.Expr):
        last = ast.Expression(tree.body.pop().value)
    exec(compile(tree, "<cell>", "exec"), _ns)
    _patch_show()
    value = None
    if last is not None:
        value = eval(compile(last, "<cell>", "eval"), _ns)
        _patch_show()
    _flush_figures()
    if value is not None:
        _ns["_"] = value
        ev = {"type": "result", "is_main_result": True}
        ev.update(_bundle(value))
        _emit(ev)


_running = False


def _interrupt(signum, frame):
    # The guest interrupts a cell with SIGINT; one that arrives between cells is ignored.
    if _running:
        raise KeyboardInterrupt


signal.signal(signal.SIGINT, _interrupt)

while True:
    line = _commands.readline()
    if not line:
        break
    try:
        cmd = json.loads(line)
    except ValueError:
        continue
    saved = {}
    for k, v in (cmd.get("env") or {}).items():
        saved[k] = os.environ.get(k)
        os.environ[k] = v
    try:
        _running = True
        _run(cmd.get("code", ""))
    except SyntaxError as e:
        _emit({"type": "error", "name": "SyntaxError", "value": str(e.msg),
               "traceback": "".join(traceback.format_exception_only(type(e), e))})
    except BaseException as e:  # KeyboardInterrupt included: the cell was interrupted
        if isinstance(e, SystemExit):
            _emit({"type": "error", "name": "SystemExit", "value": str(e.code), "traceback": ""})
        else:
            _emit({"type": "error", "name": type(e).__name__, "value": str(e), "traceback": _user_traceback(e)})
    finally:
        _running = False
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    os.write(1, _sentinel.encode())
    os.write(2, _sentinel.encode())
    _emit({"type": "done", "execution_count": _count})
