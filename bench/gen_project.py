#!/usr/bin/env python3
"""Generate a synthetic Meltano project for benchmarks.

usage: gen_project.py <dir> <plugins> <environments> [<include-files>]

Writes <dir>/meltano.yml and, with include files, <dir>/conf/plugins-<i>.yml holding the plugins
and environment blocks split evenly. Every plugin has a few config keys (scalars, a nested object,
a list, a $VAR reference that every environment defines), all declared in its settings, so the
project validates without findings, as a maintained one does; every environment overrides half of
the plugins. Deterministic.
"""
import os
import sys


def plugin_block(i):
    kind = "extractors" if i % 2 == 0 else "loaders"
    prefix = "tap" if kind == "extractors" else "target"
    name = f"{prefix}-bench-{i:05d}"
    lines = [
        f"  - name: {name}",
        f"    namespace: {prefix}_bench_{i:05d}",
        f"    pip_url: {prefix}-bench=={i % 7}.0.{i % 13}",
        "    executable: bench",
        "    settings:",
        "    - name: api_key",
        "      kind: password",
        "    - name: start_date",
        "      kind: date_iso8601",
        "      value: '2020-01-01'",
        "    - name: host",
        "    - name: port",
        "      kind: integer",
        "    - name: enabled",
        "      kind: boolean",
        "    - name: schema",
        "    - name: nested",
        "      kind: object",
        "    - name: streams",
        "      kind: array",
        "    - name: description",
        "    config:",
        f"      host: host-{i}.example.com",
        f"      port: {5000 + i % 1000}",
        "      enabled: true",
        f"      schema: raw_${{BENCH_ENV}}_{i % 10}",
        "      nested:",
        "        a: 1",
        f"        b: value-{i}",
        "      streams: [users, orders, events]",
        f"      description: Synthetic plugin number {i} generated for the git-dataops benchmarks",
        f"    select:",
        f"    - users.*",
        f"    - orders.id",
    ]
    return kind, name, lines


def env_block(e, names):
    lines = [f"- name: env{e:02d}", "  config:", "    plugins:"]
    by_kind = {}
    for j, (kind, name) in enumerate(names):
        if (j + e) % 2 != 0:
            continue
        by_kind.setdefault(kind, []).append(name)
    for kind, plugin_names in by_kind.items():
        lines.append(f"      {kind}:")
        for name in plugin_names:
            lines += [f"      - name: {name}", "        config:", f"          host: {name}.env{e:02d}.example.com",
                      "          nested:", f"            b: env{e:02d}"]
    lines += ["  env:", f"    BENCH_ENV: env{e:02d}"]
    return lines


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    out, plugins, envs = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    files = int(sys.argv[4]) if len(sys.argv) > 4 else 1
    os.makedirs(out, exist_ok=True)
    blocks = [plugin_block(i) for i in range(plugins)]
    names = [(kind, name) for kind, name, _ in blocks]
    chunks = [[] for _ in range(files)]
    for i, block in enumerate(blocks):
        chunks[i * files // max(plugins, 1)].append(block)
    env_chunks = [[] for _ in range(files)]
    for e in range(envs):
        env_chunks[e * files // max(envs, 1)].append(e)

    def body(chunk, env_ids, header):
        lines = list(header)
        by_kind = {}
        for kind, _, block in chunk:
            by_kind.setdefault(kind, []).append(block)
        if by_kind:
            lines.append("plugins:")
            for kind, kind_blocks in by_kind.items():
                lines.append(f"  {kind}:")
                for block in kind_blocks:
                    lines += block
        if env_ids:
            lines.append("environments:")
            for e in env_ids:
                lines += env_block(e, names)
        return "\n".join(lines) + "\n"

    header = ["version: 1", "default_environment: env00", "project_id: 00000000-0000-0000-0000-000000000000"]
    if files == 1:
        with open(os.path.join(out, "meltano.yml"), "w") as f:
            f.write(body(chunks[0], env_chunks[0], header))
        return
    os.makedirs(os.path.join(out, "conf"), exist_ok=True)
    header.append("include_paths:")
    header.append("- ./conf/*.yml")
    with open(os.path.join(out, "meltano.yml"), "w") as f:
        f.write(body([], [], header))
    for k in range(files):
        with open(os.path.join(out, "conf", f"plugins-{k:02d}.yml"), "w") as f:
            f.write(body(chunks[k], env_chunks[k], []))


if __name__ == "__main__":
    main()
