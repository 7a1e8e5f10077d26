#!/usr/bin/env python3
"""Generate the promotion benchmark's workspaces with `git fast-import` (seconds, not minutes).

usage: gen_history.py <dir> <meltano.yml> [<files> <commits>]

Makes <dir>/dev.git and <dir>/staging.git, two bare workspace repositories sharing a history of
<commits> commits (default 5,000) that builds up <files> files (default 20,000: meltano.yml, a
README and dbt-like models in directories of 100), each commit adding files and editing an older
one. Then each workspace moves on by itself, as the seed's workflow has it:
  - staging gets a hotfix: a new file and an edit of a model that dev edits too (a conflict that
    `-X theirs` settles in dev's favour);
  - dev gets 20 commits of work: 5 models edited in each, new models, and a meltano.yml change.
Prints the staging tip (what the benchmark resets staging to before each promotion). Deterministic.
"""
import os
import subprocess
import sys

AUTHOR = "Bench <bench@example.com>"


def model(n, revision):
    return (f"-- model {n:05d}, revision {revision}\n"
            f"select id, name, updated_at, '{n}' as source\n"
            f"from {{{{ source('bench', 'table_{n % 97:02d}') }}}}\n"
            f"where updated_at > '2020-01-01'\n").encode()


def path_of(n):
    return f"transform/models/d{n // 100:03d}/m{n:05d}.sql"


class Stream:
    """A fast-import stream written straight into the process' stdin."""

    def __init__(self, git_dir, time=1600000000):
        self.proc = subprocess.Popen(["git", "--git-dir", git_dir, "fast-import", "--quiet"],
                                     stdin=subprocess.PIPE)
        self.out = self.proc.stdin
        self.time = time  # of the last commit: each commit is a minute after the one before

    def commit(self, ref, message, files, parent=None):
        self.time += 60
        msg = message.encode()
        head = (f"commit {ref}\ncommitter {AUTHOR} {self.time} +0000\n"
                f"data {len(msg)}\n").encode() + msg + b"\n"
        if parent:
            head += f"from {parent}\n".encode()
        self.out.write(head)
        for path, data in files:
            self.out.write(f"M 100644 inline {path}\ndata {len(data)}\n".encode() + data + b"\n")
        self.out.write(b"\n")

    def close(self):
        self.out.close()
        if self.proc.wait() != 0:
            sys.exit("error: git fast-import failed")


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    out, meltano = sys.argv[1], open(sys.argv[2], "rb").read()
    files = int(sys.argv[3]) if len(sys.argv) > 3 else 20000
    commits = int(sys.argv[4]) if len(sys.argv) > 4 else 5000
    os.makedirs(out, exist_ok=True)
    staging = os.path.join(out, "staging.git")
    subprocess.run(["git", "init", "-q", "--bare", "--initial-branch=main", staging], check=True)

    # The shared history: every commit adds its share of the models and edits an older one.
    per_commit = max(1, (files - 2) // commits)
    stream = Stream(staging)
    made = 0
    for i in range(commits):
        changes = []
        if i == 0:
            changes += [("meltano.yml", meltano), ("README.md", b"# My Workspace\n")]
        count = per_commit if i < commits - 1 else files - 2 - made
        for n in range(made, made + count):
            changes.append((path_of(n), model(n, 0)))
        made += count
        if i > 0:
            old = (i * 7919) % made
            changes.append((path_of(old), model(old, i)))
        stream.commit("refs/heads/main", f"work {i}", changes)
    stream.close()
    shared_end = stream.time
    subprocess.run(["git", "--git-dir", staging, "repack", "-adq"], check=True)
    dev = os.path.join(out, "dev.git")
    subprocess.run(["git", "clone", "-q", "--bare", staging, dev], check=True)

    # staging's hotfix, then dev's work (both conflict on model 00042), dated after the history
    # they build on, as a workspace's clock has them (a child dated before its parent sends git's
    # merge-base walks through the whole history).
    stream = Stream(staging, shared_end)
    stream.commit("refs/heads/main", "staging hotfix",
                  [("hotfix.md", b"staging only\n"), (path_of(42), model(42, "staging hotfix"))],
                  parent="refs/heads/main^0")
    stream.close()
    stream = Stream(dev, shared_end)
    edited = meltano.replace(b"domain: matatika-staging.eu.auth0.com",
                             b"domain: matatika-dev.eu.auth0.com\n      start_date: '2024-01-01'")
    for k in range(20):
        changes = [(path_of((k * 997 + j * 131) % made), model((k * 997 + j * 131) % made, f"dev {k}"))
                   for j in range(5)]
        changes.append((f"transform/models/new/n{k:03d}.sql", model(100000 + k, "dev")))
        if k == 0:
            changes += [(path_of(42), model(42, "dev")), ("meltano.yml", edited)]
        stream.commit("refs/heads/main", f"dev work {k}", changes, parent="refs/heads/main^0" if k == 0 else None)
    stream.close()
    print(subprocess.run(["git", "--git-dir", staging, "rev-parse", "main"], check=True,
                         capture_output=True, text=True).stdout.strip())


if __name__ == "__main__":
    main()
