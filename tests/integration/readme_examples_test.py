#!/usr/bin/env python3
"""Every pipeline file shown in a README (a ```yaml block that starts with `pipelines:` or
`resources:`) is what a user copies first: `sluice validate` must accept it as it stands."""
import glob
import os
import re
import subprocess
import sys
import tempfile

src = os.environ["SLUICE_SOURCE_DIR"]
binary = os.environ["SLUICE_BIN"]
plugin_dir = os.environ.get("SLUICE_PLUGIN_DIR")
readmes = sorted(glob.glob(os.path.join(src, "README.md")) + glob.glob(os.path.join(src, "plugins/*/README.md")))
blocks = []
for path in readmes:
    text = open(path, encoding="utf-8").read()
    for m in re.finditer(r"^```yaml\n(.*?)^```", text, re.S | re.M):
        body = m.group(1)
        if re.match(r"(pipelines|resources):", body):
            line = text.count("\n", 0, m.start()) + 2
            blocks.append((os.path.relpath(path, src), line, body))
assert len(blocks) >= 3, f"only {len(blocks)} pipeline examples found in {len(readmes)} READMEs"
failed = []
with tempfile.TemporaryDirectory() as tmp:
    for i, (path, line, body) in enumerate(blocks):
        f = os.path.join(tmp, f"example{i}.yaml")
        open(f, "w", encoding="utf-8").write(body)
        cmd = [binary, "validate"] + (["--plugin-dir", plugin_dir] if plugin_dir else []) + [f]
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=60, cwd=tmp)
        if r.returncode != 0:
            failed.append(f"{path}:{line}: {r.stdout}{r.stderr}")
for f in failed:
    print("FAIL:", f, file=sys.stderr)
print(f"{len(blocks) - len(failed)} of {len(blocks)} README pipeline examples validate")
sys.exit(1 if failed else 0)
