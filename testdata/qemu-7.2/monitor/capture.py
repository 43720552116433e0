#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Capture the monitor fixtures of this directory (see README.md).

Runs qemu-system-x86_64 twice with the same stopped machine (-S, so
nothing changes between the commands):
  1. -monitor stdio on pipes plus -qmp on a socket: "info mtree -f" typed
     into the monitor gives <name>.stdio.txt, everything the monitor wrote;
     the same command through QMP's human-monitor-command, just before,
     gives <name>.qmp.txt, the plain dump.
  2. -monitor stdio on a pseudo-terminal, as in a terminal window:
     <name>.pty.txt.
usage: capture.py OUTDIR NAME QEMU-ARGS...
"""
import json
import os
import pty
import select
import socket
import subprocess
import sys
import tempfile
import time

QEMU = "qemu-system-x86_64"


def read_until(fd, marker, timeout=30):
    out = b""
    end = time.time() + timeout
    while marker not in out and time.time() < end:
        r, _, _ = select.select([fd], [], [], 0.2)
        if r:
            try:
                data = os.read(fd, 65536)
            except OSError:
                break
            if not data:
                break
            out += data
    return out


def qmp(sock, f, cmd, **args):
    sock.sendall(json.dumps({"execute": cmd, "arguments": args}).encode())
    while True:
        reply = json.loads(f.readline())
        if "return" in reply or "error" in reply:
            return reply


def on_pipes(outdir, name, args):
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "qmp.sock")
    p = subprocess.Popen([QEMU] + args + ["-monitor", "stdio", "-qmp",
                         "unix:%s,server=on,wait=off" % path],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = read_until(p.stdout.fileno(), b"(qemu) ")
    sock = socket.socket(socket.AF_UNIX)
    for _ in range(100):
        try:
            sock.connect(path)
            break
        except OSError:
            time.sleep(0.1)
    f = sock.makefile("r")
    f.readline()                        # the greeting
    qmp(sock, f, "qmp_capabilities")
    dump = qmp(sock, f, "human-monitor-command",
               **{"command-line": "info mtree -f"})["return"]
    with open(os.path.join(outdir, name + ".qmp.txt"), "w") as g:
        g.write(dump)
    p.stdin.write(b"info mtree -f\n")
    p.stdin.flush()
    out += read_until(p.stdout.fileno(), b"\n(qemu) ")
    p.stdin.write(b"quit\n")
    p.stdin.close()
    out += p.stdout.read()
    p.wait()
    with open(os.path.join(outdir, name + ".stdio.txt"), "wb") as g:
        g.write(out)


def on_pty(outdir, name, args):
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(QEMU, [QEMU] + args + ["-monitor", "stdio"])
    out = read_until(fd, b"(qemu) ")
    os.write(fd, b"info mtree -f\r")
    out += read_until(fd, b"\n(qemu) ")
    os.write(fd, b"quit\r")
    out += read_until(fd, b"\0", 10)    # until QEMU exits
    os.waitpid(pid, 0)
    with open(os.path.join(outdir, name + ".pty.txt"), "wb") as g:
        g.write(out)


if __name__ == "__main__":
    on_pipes(sys.argv[1], sys.argv[2], sys.argv[3:])
    on_pty(sys.argv[1], sys.argv[2], sys.argv[3:])
