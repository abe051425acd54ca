#!/usr/bin/env python3
"""startup.py LEADBOOKD CONF BASE_URL MEETING_URL: starts leadbookd, polls BASE_URL/healthz
through nginx every 0.5 ms until it answers 200, then the meeting URL (a database-backed answer,
including the worker's connect and the preparation of every statement); prints
"ms_to_healthz<TAB>ms_to_first_db_answer" and stops leadbookd (SIGTERM, by its PID)."""
import http.client, os, signal, subprocess, sys, time, urllib.parse

binary, conf, base, meeting = sys.argv[1:5]
u = urllib.parse.urlsplit(base)

def status(path):
    try:
        c = http.client.HTTPConnection(u.hostname, u.port, timeout=2)
        c.request("GET", path)
        s = c.getresponse().status
        c.close()
        return s
    except OSError:
        return 0

t0 = time.monotonic()
p = subprocess.Popen([binary, "-c", conf], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL)
try:
    deadline = t0 + 10
    while status("/healthz") != 200:
        if time.monotonic() > deadline or p.poll() is not None:
            print("nan\tnan"); sys.exit(0)
        time.sleep(0.0005)
    t1 = time.monotonic()
    mpath = urllib.parse.urlsplit(meeting).path
    while status(mpath) != 200:
        if time.monotonic() > deadline:
            break
        time.sleep(0.0005)
    t2 = time.monotonic()
    print("%.1f\t%.1f" % ((t1 - t0) * 1000, (t2 - t0) * 1000))
finally:
    p.send_signal(signal.SIGTERM)
    try:
        p.wait(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill(); p.wait()
