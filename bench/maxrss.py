#!/usr/bin/env python3
"""Runs a command and prints its peak resident memory (ru_maxrss of the child) in MiB."""
import os, subprocess, sys, time

def main() -> None:
    start = time.monotonic()
    proc = subprocess.Popen(sys.argv[1:])
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.monotonic() - start
    code = os.waitstatus_to_exitcode(status)
    print(f'{{"peak_rss_mib": {usage.ru_maxrss / 1024:.1f}, "seconds": {elapsed:.2f}, "exit": {code}}}')
    sys.exit(code)

if __name__ == "__main__":
    main()
