#!/usr/bin/python3
"""Test stand-ins for SSLOrdersMailCommand and SSLOrdersMessageCmd: they record what
httpd gives them in files next to this script (the server root)."""
import os
import sys
import time

here = os.path.dirname(os.path.abspath(__file__))
if os.path.basename(sys.argv[0]).startswith("mail"):
    d = os.path.join(here, "mail")
    os.makedirs(d, exist_ok=True)
    data = sys.stdin.buffer.read()
    name = os.path.join(d, "%.6f-%d.eml" % (time.time(), os.getpid()))
    with open(name + ".tmp", "wb") as f:
        f.write(data)
    os.rename(name + ".tmp", name)
else:
    with open(os.path.join(here, "messages.log"), "a") as f:
        f.write(" ".join(sys.argv[1:]) + "\n")
