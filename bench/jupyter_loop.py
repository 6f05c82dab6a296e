"""Side-by-side baseline for Paddock's code sessions: the same loop on a Jupyter kernel
driven directly with jupyter_client (the engine KernelBox wraps). Prints kernel start time
(to first result) and p50/p99 of `x = i; x * 2` over N executions."""
import os, statistics, sys, time

os.environ.setdefault("PYDEVD_DISABLE_FILE_VALIDATION", "1")

from jupyter_client.manager import start_new_kernel

n = int(sys.argv[1]) if len(sys.argv) > 1 else 200


def run(kc, code):
    msg_id = kc.execute(code)
    result = None
    while True:
        msg = kc.get_iopub_msg(timeout=30)
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        if msg["msg_type"] == "execute_result":
            result = msg["content"]["data"]["text/plain"]
        if msg["msg_type"] == "status" and msg["content"]["execution_state"] == "idle":
            return result


t0 = time.perf_counter()
km, kc = start_new_kernel(kernel_name="python3")
first = run(kc, "1+1")
start_ms = (time.perf_counter() - t0) * 1000
assert first == "2", first
lat = []
for i in range(1, n + 1):
    t = time.perf_counter()
    out = run(kc, f"x = {i}; x * 2")
    lat.append((time.perf_counter() - t) * 1000)
    assert out == str(2 * i), out
lat.sort()
print(f"jupyter: kernel start to first result {start_ms:.0f} ms; execute p50 {statistics.median(lat):.2f} ms p99 {lat[int(0.99 * len(lat)) - 1]:.2f} ms (n={n})")
kc.stop_channels()
km.shutdown_kernel(now=True)
