"""Drives a program through a pseudo-terminal, as a person at a terminal would (for tests).

Usage: python3 pty-driver.py '<spec JSON>'; prints one JSON line: {"output", "status", "done"}.

The spec: {"argv": [...], "env": {...}, "timeout": seconds, "steps": [{"wait": text,
"send": text}, ...]}. Each step waits until `wait` appears in the output after where the
previous step's wait matched (never on a timer), then writes `send` (\\r is Enter, \\u0003
Ctrl-C, \\u0004 Ctrl-D). After the steps it reads until the program exits. `done` is the
number of steps whose text appeared; `status` the exit code (null when killed at the timeout).
"""
import json
import os
import pty
import select
import signal
import sys
import time

spec = json.loads(sys.argv[1])
pid, fd = pty.fork()
if pid == 0:
    os.execve(spec["argv"][0], spec["argv"], spec["env"])

deadline = time.time() + spec.get("timeout", 60)
output = b""
status = None


def read_some():
    """Reads what is there; False at the end of the output."""
    global output
    ready, _, _ = select.select([fd], [], [], 0.1)
    if not ready:
        return True
    try:
        data = os.read(fd, 65536)
    except OSError:  # EIO: the program closed the terminal
        return False
    if not data:
        return False
    output += data
    return True


done = 0
position = 0
open_ = True
for step in spec["steps"]:
    wanted = step["wait"].encode()
    while open_ and output.find(wanted, position) < 0 and time.time() < deadline:
        open_ = read_some()
    found = output.find(wanted, position)
    if found < 0:
        break
    position = found + len(wanted)
    done += 1
    if "send" in step:
        os.write(fd, step["send"].encode())

while time.time() < deadline:
    if open_:
        open_ = read_some()
    else:
        time.sleep(0.05)
    finished, code = os.waitpid(pid, os.WNOHANG)
    if finished:
        status = os.waitstatus_to_exitcode(code)
        # What it wrote last is still in the terminal's buffer.
        while open_ and select.select([fd], [], [], 0.2)[0]:
            open_ = read_some()
        break
else:
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)

print(json.dumps({"output": output.decode("utf-8", "replace"), "status": status, "done": done}))
