#!/usr/bin/env python3
"""check_store.py WORKDIR — the store holds only whole artifacts: every object file is named by the
SHA-256 of its content, every journal record is whole, and every artifact a record names is there:
a file of the recorded size, or a whole pack entry whose bytes hash to the recorded hash.
Exits 1 with one line per problem."""
import hashlib
import os
import sys

wd = sys.argv[1]
store = os.path.join(wd, "store")
problems = []

for sub in sorted(os.listdir(store)):
    if sub == "packs":
        continue
    for name in os.listdir(os.path.join(store, sub)):
        path = os.path.join(store, sub, name)
        if os.path.isdir(path):
            continue  # directory artifacts hash their tree; not checked here
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if digest != name.split(".")[0]:
            problems.append(f"{path}: content does not match its name (half-written?)")


def pack_entry(pack, offset, size, want):
    path = os.path.join(store, "packs", pack)
    try:
        with open(path, "rb") as f:
            f.seek(offset)
            head = f.read(48)
            data = f.read(size)
    except OSError as e:
        return f"{path}: {e}"
    if len(head) < 48 or head[:8] != b"SLPK\0\0\0\0":
        return f"{path}@{offset}: no entry header"
    if int.from_bytes(head[8:16], "little") != size or head[16:48].hex() != want:
        return f"{path}@{offset}: header names another artifact"
    if len(data) != size or hashlib.sha256(data).hexdigest() != want:
        return f"{path}@{offset}: bytes do not hash to {want}"
    return None


with open(os.path.join(wd, "journal"), "rb") as jf:
    lines = jf.read().split(b"\n")
if lines and lines[-1] != b"":
    problems.append("journal: the last record has no newline (torn record left behind)")
for n, raw in enumerate(lines[:-1], 1):
    f = raw.decode("utf-8").split("\t")
    if f[0] not in ("R1", "R2") or len(f[1]) != 64:
        problems.append(f"journal:{n}: not a whole record")
        continue
    per = 5 if f[0] == "R2" else 4
    k = 7
    for _ in range(int(f[6])):
        port, typ, h, size = f[k:k + 4]
        where = f[k + 4] if per == 5 else ""
        k += per
        if where:
            pack, off = where.rsplit(":", 1)
            p = pack_entry(pack, int(off), int(size), h)
            if p:
                problems.append(f"journal:{n}: {p}")
        elif not any(x.startswith(h) for x in os.listdir(os.path.join(store, h[:2]))):
            problems.append(f"journal:{n}: output {port} {h} is not in the store")

for p in problems:
    print(p)
sys.exit(1 if problems else 0)
