#!/usr/bin/env python3
"""Runs ../shared/conformance and compares its failures with
.ci/conformance-pending: any other failure, or a pending case that now
passes, fails CI. Prints the runner's `N passed, M failed` line."""
import os
import subprocess
import sys

here = os.path.dirname(os.path.abspath(__file__))
runner = os.path.join(here, "..", "..", "shared", "conformance", "run.py")
tsr = os.path.join(here, "..", "target", "release", "tsr")
with open(os.path.join(here, "conformance-pending")) as f:
    pending = {line.strip() for line in f if line.strip() and not line.startswith("#")}
result = subprocess.run([sys.executable, runner, "--tsr", tsr], capture_output=True, text=True)
lines = result.stdout.splitlines()
failed = {line.split()[1].rstrip(":") for line in lines if line.startswith("FAIL ")}
for line in lines:
    if line.startswith("FAIL ") and line.split()[1].rstrip(":") not in pending:
        print(line)
print("runner:", lines[-1] if lines else "printed nothing")
unexpected = failed - pending
fixed = pending - failed
if fixed:
    print("now passing, remove from .ci/conformance-pending:", " ".join(sorted(fixed)))
print("pending (.ci/conformance-pending):", " ".join(sorted(pending & failed)) or "none")
counts = lines[-1].split() if lines else []
passed = int(counts[0]) if len(counts) >= 4 and counts[0].isdigit() else 0
print("conformance: %d passed, %d failed" % (passed, len(unexpected) + len(fixed)))
sys.exit(1 if unexpected or fixed or result.returncode not in (0, 1) else 0)
