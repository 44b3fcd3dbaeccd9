#!/usr/bin/env python3
"""packaging/ stays true to the code (Python 3 standard library only):

  * packaging/vantage.toml is a valid configuration, lists every setting `vantage config show`
    prints, and each commented-out value is that setting's real default;
  * packaging/vantage.service passes `systemd-analyze verify` (skipped, with a note, where
    systemd-analyze is missing);
  * `cmake --install` into a temporary DESTDIR with --prefix /opt/vantage gives a tree whose
    binary finds its conf/, schemas/ and routing data with the default (relative) settings,
    run from another working directory.

Usage: packaging_test.py VANTAGE_BINARY SOURCE_DIR BUILD_DIR
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

VANTAGE, SRC, BUILD = sys.argv[1:4]
EXAMPLE = os.path.join(SRC, "packaging", "vantage.toml")
UNIT = os.path.join(SRC, "packaging", "vantage.service")
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, file=sys.stderr)


def run(*args, env=None, cwd=None):
    p = subprocess.run(list(args), capture_output=True, text=True, env=env, cwd=cwd, timeout=300)
    return p


def show_lines(text):
    """`config show` output -> {"section.key": "value text"}."""
    out, section = {}, ""
    for line in text.splitlines():
        m = re.match(r"^\[(\w+)\]$", line)
        if m:
            section = m.group(1)
            continue
        m = re.match(r"^(\w+) = (.*)$", line)
        if m:
            out[section + "." + m.group(1)] = m.group(2)
    return out


def example_settings():
    """The example file -> {"section.key": (value text, commented)}."""
    out, section = {}, ""
    with open(EXAMPLE) as f:
        for line in f:
            line = line.rstrip("\n")
            m = re.match(r"^\[(\w+)\]$", line)
            if m:
                section = m.group(1)
                continue
            m = re.match(r"^(# )?(\w+) = (.*)$", line)
            if m and section:
                name = section + "." + m.group(2)
                check(name not in out, f"{name} appears twice in the example")
                out[name] = (m.group(3), m.group(1) is not None)
    return out


def test_example_config(work):
    env = {k: v for k, v in os.environ.items() if not k.startswith("VANTAGE_")}
    empty = os.path.join(work, "empty.toml")
    open(empty, "w").close()
    defaults = run(VANTAGE, "--config", empty, "config", "show", env=env)
    check(defaults.returncode == 0, f"config show with defaults: {defaults.stderr}")
    loaded = run(VANTAGE, "--config", EXAMPLE, "config", "show", env=env)
    check(loaded.returncode == 0, f"the example config is valid: {loaded.stderr}")
    want, got = show_lines(defaults.stdout), show_lines(loaded.stdout)
    check(len(want) > 40, f"config show lists the settings ({len(want)})")
    example = example_settings()
    for name, default in want.items():
        if name not in example:
            check(False, f"packaging/vantage.toml lacks {name}")
            continue
        value, commented = example[name]
        if commented:
            check(value == default, f"{name}: example says {value}, default is {default}")
        else:
            check(got.get(name) == value, f"{name}: example sets {value}, loaded {got.get(name)}")
    for name in example:
        check(name in want, f"packaging/vantage.toml has {name}, which is not a setting")


def test_unit(work):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        print("note: systemd-analyze not installed; vantage.service not verified")
        return
    # verify insists that ExecStart's binary exists: point it at the built one.
    with open(UNIT) as f:
        text = f.read()
    check("ExecStart=/opt/vantage/bin/vantage --config /etc/vantage/vantage.toml up --no-demo"
          in text, "the unit runs `vantage --config /etc/vantage/vantage.toml up --no-demo`")
    unit = os.path.join(work, "vantage.service")
    with open(unit, "w") as f:
        f.write(text.replace("/opt/vantage/bin/vantage", os.path.abspath(VANTAGE)))
    p = run(analyze, "verify", unit)
    # Only diagnostics about this unit count; the host's own units may have unrelated noise.
    mine = [l for l in (p.stdout + p.stderr).splitlines() if "vantage.service" in l]
    check(p.returncode == 0 and not mine,
          f"systemd-analyze verify: rc={p.returncode} {p.stdout}{p.stderr}")


def test_install(work):
    dest = os.path.join(work, "dest")
    p = run("cmake", "--install", BUILD, "--prefix", "/opt/vantage",
            env=dict(os.environ, DESTDIR=dest))
    check(p.returncode == 0, f"cmake --install: {p.stderr}")
    root = dest + "/opt/vantage"
    for rel in ("bin/vantage", "conf/rules.json", "conf/blocklist.conf", "schemas/catalogue.json",
                "data/ATTRIBUTION.md", "share/vantage/vantage.service",
                "share/vantage/vantage.toml", "share/doc/vantage/operator-guide.md",
                "share/doc/vantage/api.md"):
        check(os.path.isfile(os.path.join(root, rel)), f"installed {rel}")
    if os.path.isdir(os.path.join(root, "data", "node_modules")):
        # From a directory with no data of its own: the paths resolve beside bin/.
        env = {k: v for k, v in os.environ.items() if not k.startswith("VANTAGE_")}
        env["VANTAGE_PATHS_DATA_DIR"] = os.path.join(work, "var")
        p = run(root + "/bin/vantage", "lookup", "192.0.2.1", "8.8.8.8", env=env, cwd=work)
        check(p.returncode == 0 and "15169" in p.stdout,
              f"installed binary finds its routing data: {p.stdout} {p.stderr}")
        check(not [f for f in os.listdir(os.path.join(root, "data/node_modules/@ip-location-db/asn"))
                   if f.endswith("-num.csv")], "the unused *-num.csv files are not installed")
    else:
        print("note: data/node_modules not installed (scripts/install-deps.sh not run)")


def main():
    work = tempfile.mkdtemp(prefix="vantage-pkg-")
    try:
        test_example_config(work)
        test_unit(work)
        test_install(work)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    if failures:
        print(f"packaging_test: {len(failures)} failure(s)", file=sys.stderr)
        return 1
    print("packaging_test: ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
