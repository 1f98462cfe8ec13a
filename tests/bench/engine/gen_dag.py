#!/usr/bin/env python3
"""gen_dag.py — write the benchmark DAG (chains, fan-out, fan-in) as a sciloop workflow and as a Snakefile.

Shape, per group of 100 steps: a root fans out to 9 chains of 10 steps, the chains' ends fan in to one
gather step (1 + 90 + 1 = 92 ... padded with a chain of 8 after the gather = 100). The group gathers
fan in to one final step. N must be a multiple of 100; the final step makes it N + 1.

usage: gen_dag.py [--op OP] N OUT.xml [OUT.Snakefile]
OP (default testkit.emit) is the op every step runs.
"""
import sys


def groups(n):
    for g in range(n // 100):
        steps = []  # (id, [input ids])
        root = f"g{g}_root"
        steps.append((root, []))
        ends = []
        for c in range(9):
            prev = root
            for k in range(10):
                sid = f"g{g}_c{c}_{k}"
                steps.append((sid, [prev]))
                prev = sid
            ends.append(prev)
        gather = f"g{g}_gather"
        steps.append((gather, ends))
        prev = gather
        for k in range(8):
            sid = f"g{g}_tail{k}"
            steps.append((sid, [prev]))
            prev = sid
        assert len(steps) == 100
        yield steps, prev


def main():
    args = sys.argv[1:]
    op = "testkit.emit"
    if args[:1] == ["--op"]:
        op, args = args[1], args[2:]
    n = int(args[0])
    xml_path = args[1]
    smk_path = args[2] if len(args) > 2 else None
    tails = []
    with open(xml_path, "w") as x:
        x.write('<workflow xmlns="urn:sciloop:workflow:1" name="bench">\n')
        for steps, tail in groups(n):
            tails.append(tail)
            for sid, ins in steps:
                x.write(f'<step id="{sid}" op="{op}">')
                for i in ins:
                    x.write(f'<input port="in" from="{i}.out"/>')
                x.write('</step>\n')
        x.write(f'<step id="final" op="{op}">')
        for t in tails:
            x.write(f'<input port="in" from="{t}.out"/>')
        x.write('</step>\n</workflow>\n')
    if smk_path:
        with open(smk_path, "w") as s:
            s.write('rule all:\n    input: "out/final"\n\n')
            for steps, _ in groups(n):
                for sid, ins in steps:
                    s.write(f'rule {sid}:\n')
                    if ins:
                        s.write('    input: ' + ', '.join(f'"out/{i}"' for i in ins) + '\n')
                    s.write(f'    output: "out/{sid}"\n    shell: "touch {{output}}"\n\n')
            s.write('rule final:\n    input: ' + ', '.join(f'"out/{t}"' for t in tails) + '\n')
            s.write('    output: "out/final"\n    shell: "touch {output}"\n')


if __name__ == "__main__":
    main()
