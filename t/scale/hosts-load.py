#!/usr/bin/env python3
"""hosts-load.py: the mixed load of t/scale/hosts, with one host killed and brought back.

Drives nginx (--url, on 127.0.0.1) with a fixed mix from THREADS connections for --seconds,
paced to --rate requests per second in all (an offered load that two of the three hosts can
carry: the capacity plan keeps one host of headroom, doc/scaling.md):
reads of one lead, of a page of leads, of the statistics, the public meeting page (each request
from another X-Forwarded-For address, so that the per-visitor rate limit is not what is
measured), POST /leads with an Idempotency-Key (as the web frontend sends it), POST /leads
without one, and PATCH /bookings/:id/status (CONFIRMED) with an Idempotency-Key. At --kill-at
seconds it runs --kill (SIGKILL of one host's master and workers), at --revive-at --revive.

Then it checks, and prints one "PASS: ..." or "FAIL: ..." line per check:
  - every acknowledged write is in the database, once: each 201 of POST /leads is a lead with
    that id and that (unique) e-mail address, and no address is there twice (nor that of a POST
    whose answer was lost); each 200 of a PATCH left the booking CONFIRMED with one event;
  - of the requests that ended in the switch window ([kill-1 s, kill+10 s]), at most 0.5% failed
    (a 5xx, no answer, or any status other than the expected one);
  - the throughput (answers per second) is back to 80% of the median before the kill within
    10 s of the kill (and stays there: two consecutive seconds), and again within 10 s of the
    host's return, and the host that came back serves requests again.
A 409 with Retry-After (the same Idempotency-Key still running: the request nginx retried on
another host while the killed one's transaction was ending) is waited for and sent again, as a
client must; it is counted, not failed."""
import argparse, http.client, json, random, re, statistics, subprocess, sys, threading, time
import uuid
from datetime import datetime, timedelta, timezone

THREADS = 16
MIX = [  # (operation, weight)
    ("get_lead", 26), ("list_leads", 12), ("stats", 10), ("meeting", 16),
    ("post_keyed", 22), ("post_plain", 4), ("confirm", 10),
]
EXPECTED = {"get_lead": 200, "list_leads": 200, "stats": 200, "meeting": 200,
            "post_keyed": 201, "post_plain": 201, "confirm": 200}

ap = argparse.ArgumentParser()
for name in ("url", "key", "agent", "db", "tenant", "kill", "revive", "host-logs"):
    ap.add_argument("--" + name, required=True)
ap.add_argument("--seconds", type=float, required=True)
ap.add_argument("--rate", type=float, default=200.0)
ap.add_argument("--kill-at", type=float, required=True)
ap.add_argument("--revive-at", type=float, required=True)
args = ap.parse_args()
host, port = args.url.split("//")[1].split(":")
port = int(port)

lock = threading.Lock()
leads = []        # (lead id, booking id, meeting token) of acknowledged leads
pending = []      # booking ids not confirmed yet
acked_leads = {}  # e-mail -> lead id (201)
sent_plain = []   # e-mails of POSTs without a key whose answer was not a 201
acked_confirms = []
records = []      # (seconds since start, operation, status)
counters = {"retry_after_409": 0, "replayed": 0}
t0 = time.monotonic()
stop_at = t0 + args.seconds


def when():
    t = datetime.now(timezone.utc) + timedelta(days=2, minutes=random.randrange(0, 100000))
    return t.strftime("%Y-%m-%dT%H:%M:%S.000Z")


class Client:
    def __init__(self):
        self.conn = None

    def request(self, method, path, body=None, headers=None):
        """(status, headers dict, body bytes); status 0 when there was no answer at all."""
        h = {"Authorization": "Bearer " + args.key}
        h.update(headers or {})
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            h["Content-Type"] = "application/json"
        for attempt in (1, 2):
            try:
                if self.conn is None:
                    self.conn = http.client.HTTPConnection(host, port, timeout=15)
                self.conn.request(method, path, data, h)
                r = self.conn.getresponse()
                payload = r.read()
                if r.getheader("Connection", "").lower() == "close":
                    self.conn.close()
                    self.conn = None
                return r.status, {k.lower(): v for k, v in r.getheaders()}, payload
            except (OSError, http.client.HTTPException):
                # nginx closed an idle keep-alive connection before this request reached it:
                # nothing was sent on it, send it on a new one (once). A failure on a fresh
                # connection is an answer of 0.
                fresh = self.conn is None
                if self.conn is not None:
                    self.conn.close()
                self.conn = None
                if fresh or attempt == 2:
                    return 0, {}, b""
        return 0, {}, b""


def post_lead(c, keyed):
    email = "load-%s@example.com" % uuid.uuid4()
    body = {"agentId": args.agent, "name": "Load Test", "email": email, "scheduledAt": when()}
    hdr = {"Idempotency-Key": str(uuid.uuid4())} if keyed else {}
    for _ in range(6):
        s, h, b = c.request("POST", "/leads", body, hdr)
        if keyed and s == 409 and "retry-after" in h:
            with lock:
                counters["retry_after_409"] += 1
            time.sleep(float(h["retry-after"]))
            continue
        break
    if s == 201:
        if h.get("idempotent-replayed") == "true":
            with lock:
                counters["replayed"] += 1
        d = json.loads(b)
        with lock:
            acked_leads[email] = d["lead"]["id"]
            leads.append((d["lead"]["id"], d["booking"]["id"], d["meetingToken"]))
            pending.append(d["booking"]["id"])
    elif not keyed:
        with lock:
            sent_plain.append(email)
    return s


def one(c, op):
    if op == "post_keyed":
        return post_lead(c, True)
    if op == "post_plain":
        return post_lead(c, False)
    with lock:
        if not leads or (op == "confirm" and not pending):
            return None
        lead = random.choice(leads)
        booking = pending.pop(random.randrange(len(pending))) if op == "confirm" else None
    if op == "get_lead":
        return c.request("GET", "/leads/" + lead[0])[0]
    if op == "list_leads":
        return c.request("GET", "/leads?limit=20")[0]
    if op == "stats":
        return c.request("GET", "/leads/stats")[0]
    if op == "meeting":
        xff = "198.18.%d.%d" % (random.randrange(256), random.randrange(1, 255))
        return c.request("GET", "/bookings/meeting/" + lead[2],
                         headers={"Authorization": "", "X-Forwarded-For": xff})[0]
    # confirm
    key = {"Idempotency-Key": str(uuid.uuid4())}
    for _ in range(6):
        s, h, _b = c.request("PATCH", "/bookings/%s/status" % booking, {"status": "CONFIRMED"}, key)
        if s == 409 and "retry-after" in h:
            with lock:
                counters["retry_after_409"] += 1
            time.sleep(float(h["retry-after"]))
            continue
        break
    if s == 200:
        with lock:
            acked_confirms.append(booking)
    return s


def worker(seed):
    rnd = random.Random(seed)
    ops = [op for op, w in MIX for _ in range(w)]
    c = Client()
    interval = THREADS / args.rate
    due = time.monotonic() + rnd.random() * interval
    while time.monotonic() < stop_at:
        # paced: one request every `interval`; a thread that fell behind by more than a second
        # (a slow answer) does not make up for it with a burst
        now = time.monotonic()
        if due > now:
            time.sleep(due - now)
        due = max(due + interval, time.monotonic() - 1.0)
        op = rnd.choice(ops)
        s = one(c, op)
        if s is not None:
            with lock:
                records.append((time.monotonic() - t0, op, s))


events = {}


def timeline():
    for name, at, cmd in (("kill", args.kill_at, args.kill), ("revive", args.revive_at, args.revive)):
        time.sleep(max(0.0, t0 + at - time.monotonic()))
        events[name] = time.monotonic() - t0
        r = subprocess.run(cmd, shell=True)
        events[name + "_rc"] = r.returncode


# a few leads first, so that every read has something to read
seed_client = Client()
for _ in range(30):
    post_lead(seed_client, True)
t0 = time.monotonic()
stop_at = t0 + args.seconds
threads = [threading.Thread(target=worker, args=(i,)) for i in range(THREADS)]
threads.append(threading.Thread(target=timeline))
for t in threads:
    t.start()
for t in threads:
    t.join()
total_s = time.monotonic() - t0

results = []


def check(name, ok):
    results.append(("PASS: " if ok else "FAIL: ") + name)


# --- throughput per second ------------------------------------------------------------------
n_sec = int(args.seconds)
buckets = [0] * (n_sec + 1)
fails = [0] * (n_sec + 1)
for t, op, s in records:
    k = min(int(t), n_sec)
    buckets[k] += 1
    if s != EXPECTED[op]:
        fails[k] += 1
kill_t, revive_t = events.get("kill", args.kill_at), events.get("revive", args.revive_at)
base = statistics.median(buckets[1:int(kill_t)]) if int(kill_t) > 1 else 0
print("answers per second (failures in brackets), K = kill, R = host back:")
row = []
for k in range(n_sec):
    mark = "K" if k == int(kill_t) else ("R" if k == int(revive_t) else "")
    row.append("%s%d%s" % (mark, buckets[k], "(%d)" % fails[k] if fails[k] else ""))
print("  " + " ".join(row))


def recovered(after):
    """seconds from `after` to the end of the first second whose throughput, and the next
    one's, are at least 80% of the baseline"""
    for k in range(int(after), n_sec - 1):
        if buckets[k] >= 0.8 * base and buckets[k + 1] >= 0.8 * base:
            return max(0.0, k + 1 - after) if k > int(after) else 0.0
    return float("inf")


rec_kill, rec_revive = recovered(kill_t), recovered(revive_t)
print("baseline (median before the kill): %.0f answers/s; back to 80%% of it %.1f s after the "
      "kill and %.1f s after the host's return" % (base, rec_kill, rec_revive))

# --- failures -------------------------------------------------------------------------------
win = [(t, op, s) for t, op, s in records if kill_t - 1 <= t <= kill_t + 10]
win_failed = [(op, s) for t, op, s in win if s != EXPECTED[op]]
all_failed = [(op, s) for t, op, s in records if s != EXPECTED[op]]


def summary(lst):
    d = {}
    for op, s in lst:
        d["%s:%s" % (op, s)] = d.get("%s:%s" % (op, s), 0) + 1
    return ", ".join("%s x%d" % kv for kv in sorted(d.items())) or "none"


ops = {}
for _t, op, _s in records:
    ops[op] = ops.get(op, 0) + 1
print("requests: %d in %.1f s, offered %.0f/s (%s)" % (len(records), total_s, args.rate,
      ", ".join("%s %d" % kv for kv in sorted(ops.items()))))
print("failed overall: %d (%s)" % (len(all_failed), summary(all_failed)))
pct = 100.0 * len(win_failed) / max(1, len(win))
print("switch window [kill-1 s, kill+10 s]: %d requests, %d failed = %.3f%% (%s)"
      % (len(win), len(win_failed), pct, summary(win_failed)))
print("writes: %d leads acknowledged (%d of them replayed answers after a retry), %d POSTs "
      "without a key unanswered or failed, %d confirmations acknowledged; %d answers 409 "
      "Retry-After waited for and sent again"
      % (len(acked_leads), counters["replayed"], len(sent_plain), len(acked_confirms),
         counters["retry_after_409"]))
print("kill at %.2f s (exit %s), host back at %.2f s (exit %s)"
      % (kill_t, events.get("kill_rc"), revive_t, events.get("revive_rc")))

# --- the database -----------------------------------------------------------------------------
def psql(sql):
    out = subprocess.run(["psql", args.db, "-XAtq", "-F", "\t", "-c", sql], check=True,
                         capture_output=True, text=True).stdout
    return [line.split("\t") for line in out.splitlines() if line]


rows = psql("SELECT email, count(*), min(id::text) FROM leads WHERE tenant_id = '%s' "
            "GROUP BY email" % args.tenant)
in_db = {r[0]: (int(r[1]), r[2]) for r in rows}
lost = [e for e, i in acked_leads.items() if e not in in_db or in_db[e][1] != i]
dup = [e for e, (n, _i) in in_db.items() if n > 1]
plain_in_db = sum(1 for e in sent_plain if e in in_db)
rows = psql("SELECT b.id, b.status, (SELECT count(*) FROM booking_events e WHERE e.tenant_id = "
            "b.tenant_id AND e.booking_id = b.id AND e.to_status = 'CONFIRMED') FROM bookings b "
            "WHERE b.tenant_id = '%s'" % args.tenant)
bk = {r[0]: (r[1], int(r[2])) for r in rows}
lost_c = [b for b in acked_confirms if b not in bk or bk[b][0] != "CONFIRMED"]
dup_c = [b for b, (_s, n) in bk.items() if n > 1]
print("database: %d leads of the tenant; acknowledged and missing: %d; e-mail twice: %d; of the "
      "%d unanswered POSTs without a key %d committed (each once); confirmations missing %d, "
      "twice %d" % (len(in_db), len(lost), len(dup), len(sent_plain), plain_in_db, len(lost_c),
                    len(dup_c)))

# --- the host that came back serves again ----------------------------------------------------
logs = args.host_logs.split(",")
victim = logs[1]
wall_revive = time.time() - (time.monotonic() - t0 - revive_t)
first = None
with open(victim) as f:
    for line in f:
        if "event=access" not in line:
            continue
        m = re.match(r"ts=(\S+)Z", line)
        if not m:
            continue
        ts = datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S.%f").replace(
            tzinfo=timezone.utc).timestamp()
        if ts >= wall_revive:
            first = ts - wall_revive
            break
print("host 2 answered again %s after its restart" % ("%.2f s" % first if first is not None
                                                       else "never"))

check("0 acknowledged writes lost (%d leads, %d confirmations checked in the database)"
      % (len(acked_leads), len(acked_confirms)), not lost and not lost_c)
check("0 writes duplicated (no lead twice, no booking confirmed twice)", not dup and not dup_c)
check("<= 0.5%% of requests failed in the switch window (%.3f%%: %d of %d)"
      % (pct, len(win_failed), len(win)), pct <= 0.5 and len(win) > 0)
check("throughput back within 10 s of the kill (%.1f s)" % rec_kill, rec_kill <= 10)
check("throughput back within 10 s of the host's return (%.1f s)" % rec_revive, rec_revive <= 10)
check("host 2 serves again within 10 s of its restart", first is not None and first <= 10)
check("kill and restart commands succeeded", events.get("kill_rc") == 0 and
      events.get("revive_rc") == 0)
for r in results:
    print(r)
sys.exit(0 if all(r.startswith("PASS") for r in results) else 1)
