#!/usr/bin/python3
"""Runs the README's command blocks as written ("Your own data" and "The program"): every
line that starts with `$B` runs `ved` with those arguments, in order, in a scratch folder.

The own-data block needs the user's files; they are made first, as a user would make
them with NumPy (inputs.npy [N, 12, 10] images, outputs.npy [N, 8], new_inputs.npy,
fields.npy [N, 12, 10] with outputs.npz:y for the program block). `$B <verb> --help` runs --help for
every verb `ved --help` lists. Label slow: it trains two VEDs of the default size.

    /usr/bin/python3 tests/integration/check_readme.py --ved build/apps/ved/ved --readme README.md --work /tmp/readme

Exit status 0: every command succeeded; 1: one failed (its output is printed); 77: skipped
(no numpy).
"""
import argparse
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

try:
    import numpy as np
except ModuleNotFoundError:
    print(f"skipped: {sys.executable} has no module 'numpy' (Debian: apt-get install python3-numpy)")
    sys.exit(77)


def blocks(readme, heading):
    """The ```sh block that follows `## heading`."""
    text = Path(readme).read_text()
    at = text.index("## " + heading)
    m = re.search(r"```sh\n(.*?)```", text[at:], re.S)
    return m.group(1).splitlines()


def commands(lines):
    for line in lines:
        if line.startswith("$B "):
            yield shlex.split(line[3:], comments=True)


def user_files(work):
    """What a user of the own-data block has: arrays made with NumPy's defaults."""
    rng = np.random.default_rng(3)
    n = 400
    f = rng.standard_normal((n, 3))
    u, v = np.meshgrid(np.linspace(0, 1, 12), np.linspace(0, 1, 10), indexing="ij")
    x = (f[:, 0, None, None] * np.sin(3 * u) + f[:, 1, None, None] * np.cos(2 * v) + f[:, 2, None, None] * u * v
         + 0.05 * rng.standard_normal((n, 12, 10)))
    y = np.tanh(f @ rng.standard_normal((3, 8))) + 0.01 * rng.standard_normal((n, 8))
    np.save(work / "inputs.npy", x)
    np.save(work / "outputs.npy", y)
    np.save(work / "new_inputs.npy", x[:20])
    np.save(work / "fields.npy", x)  # gridded fields [N, H, W], as a user of the conv encoder has them
    np.savez(work / "outputs.npz", y=y)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ved", required=True)
    ap.add_argument("--readme", required=True)
    ap.add_argument("--work", required=True)
    a = ap.parse_args()
    root = Path(a.work)
    shutil.rmtree(root, ignore_errors=True)
    verbs = []
    listing = subprocess.run([a.ved, "--help"], capture_output=True, text=True).stdout
    in_list = False
    for line in listing.splitlines():
        if line.strip() in ("Subcommands:", "SUBCOMMANDS:"):
            in_list = True
        elif in_list and line.startswith("  ") and not line.startswith("   "):
            verbs.append(line.split()[0])
    failures = 0
    ran = 0
    for block, heading in enumerate(("Your own data", "The program")):
        work = root / f"block{block + 1}"  # each block from a fresh folder, as a reader runs it
        work.mkdir(parents=True)
        user_files(work)
        for args in commands(blocks(a.readme, heading)):
            todo = [[v, "--help"] for v in verbs] if args[0] == "<verb>" else [args]
            for cmd in todo:
                p = subprocess.run([a.ved, *cmd], cwd=work, capture_output=True, text=True, timeout=1800)
                ran += 1
                if p.returncode != 0:
                    failures += 1
                    print(f"FAIL ({heading}): ved {' '.join(cmd)} -> exit {p.returncode}\n{p.stdout[-2000:]}{p.stderr[-2000:]}")
                else:
                    print(f"ok: ved {' '.join(cmd)}")
    if ran < 12:
        print(f"FAIL: only {ran} commands found in the README's blocks")
        return 1
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
