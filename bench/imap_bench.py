#!/usr/bin/env python3
"""IMAP benchmark: mailroom against the Dovecot anchor, same mailbox, same client, same run.

One mailbox of N generated messages (~4 KiB each, 1 % with "xyz" in the Subject, 1 % with
"needle" in the body) is loaded once per server and cached under $BENCH_WORK/imap-N/. Each
run starts one server (page cache dropped), makes one untimed warm-up pass, then times
each IMAP step once with a raw-socket client that does not parse responses (like the
anchor's bench_imap_raw.py). Servers alternate (ABBA). Then memory per idle IMAP session:
C connections in IDLE against 0. Standard library only; run as root.

mailroom refuses LOGIN without TLS, so the client talks implicit TLS (imaps) to mailroom
and plaintext to Dovecot: the encryption cost is all on mailroom's side of the ratio.

Usage: imap_bench.py --mailroom-bin target/release/mailroom [--messages 100000] [--runs 3]
"""
import argparse, asyncio, collections, email.utils, hashlib, json, multiprocessing, os, random, resource, shutil
import signal, socket, ssl, statistics, subprocess, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import smtp_ingest  # noqa: E402  (module-level code is only definitions; main() is guarded)
from smtp_ingest import HOST, LAB, WORK, PASSWORD, Session, SmtpError, read, field_kb, descendants, \
    drop_caches, sh, wait_quiet  # noqa: E402

GEN_VERSION = 1           # bump when the generated messages change: invalidates the caches
SEED = 20261129
ANCHOR_IMAP_PORT = 2143   # Dovecot, plaintext
MR_IMAPS_PORT, MR_SMTP_PORT, MR_HTTP_PORT = 2993, 2526, 8099
ANCHOR_USERIP_LIMIT = 10  # Dovecot mail_max_userip_connections in the anchor's dovecot.conf
ANCHOR_PROCESS_LIMIT = 1024  # Dovecot service imap { process_limit } in the anchor's dovecot.conf
IDLE_USERS = 99           # u1..u99; u0 holds the big mailbox
IO_TIMEOUT = 600          # one IMAP command (FETCH ENVELOPE of 100k cold may take a while)
VMAIL_U0 = f"{LAB}/vmail/example.test/u0"
DOVECOT_LOG = "/var/log/dovecot.log"

# ---------------------------------------------------------------- the messages

# Plain lower-case words; none contains "xyz" or "needle" (IMAP SEARCH matches substrings).
VOCAB = """the of and to in is it you that he was for on are with as his they be at one have this
from or had by word but what some we can out other were all there when up use your how said an each
she which do their time if will way about many then them write would like so these her long make
thing see him two has look more day could go come did number sound no most people my over know water
than call first who may down side been now find any new work part take get place made live where after
back little only round man year came show every good me give our under name very through just form
sentence great think say help low line differ turn cause much mean before move right boy old too same
tell does set three want air well also play small end put home read hand port large spell add even land
here must big high such follow act why ask men change went light kind off need house picture try us
again animal point mother world near build self earth father head stand own page should country found
answer school grow study still learn plant cover food sun four between state keep eye never last let
thought city tree cross farm hard start might story saw far sea draw left late run while press close
night real life few north open seem together next white children begin got walk example ease paper group
always music those both mark often letter until mile river car feet care second book carry took science
eat room friend began idea fish mountain stop once base hear horse cut sure watch color face wood main
enough plain girl usual young ready above ever red list though feel talk bird soon body dog family direct
pose leave song measure door product black short numeral class wind question happen complete ship area
half rock order fire south problem piece told knew pass since top whole king space heard best hour better
true during hundred five remember step early hold west ground interest reach fast verb sing listen six
table travel less morning ten simple several vowel toward war lay against pattern slow center love person
money serve appear road map rain rule govern pull cold notice voice unit power town fine certain fly fall
lead cry dark machine note wait plan figure star box noun field rest correct able pound done beauty drive
stood contain front teach week final gave green quick develop ocean warm free minute strong special mind
behind clear tail produce fact street inch multiply nothing course stay wheel full force blue object
decide surface deep moon island foot system busy test record boat common gold possible plane stead dry
wonder laugh thousand ago ran check game shape equate hot miss brought heat snow tire bring yes distant
fill east paint language among""".split()
FIRST = "Alice Bob Carol Dave Erin Frank Grace Heidi Ivan Judy Mallory Niaj Olivia Peggy Rupert Sybil Trent Victor Walter".split()
LAST = "Smith Jones Brown Taylor Wilson Davies Evans Thomas Johnson Roberts Walker Wright Robinson Thompson White".split()
ORGS = "example.org example.net mail.example.com lists.example.org corp.example.net".split()
for _w in VOCAB + FIRST + LAST + ORGS:
    assert "xyz" not in _w.lower() and "needle" not in _w.lower(), _w
BASE_TIME = 1767225600    # 2026-01-01 00:00:00 UTC; message i is dated BASE_TIME + 60 i
TARGET_SIZE = 4096


def is_subject_hit(i):
    return i % 100 == 0


def is_body_hit(i):
    return i % 100 == 50


def expected_hits(n):
    return dict(subject=sum(map(is_subject_hit, range(n))), body=sum(map(is_body_hit, range(n))))


def gen_message(i):
    """Message i, deterministic, CRLF line endings, ~TARGET_SIZE bytes, no line starting with '.'."""
    rng = random.Random(SEED * 1_000_003 + i)
    first, last, org = rng.choice(FIRST), rng.choice(LAST), rng.choice(ORGS)
    subj = rng.choices(VOCAB, k=rng.randint(4, 9))
    if is_subject_hit(i):
        subj.insert(rng.randrange(len(subj) + 1), "xyz")
    head = (f"From: \"{first} {last}\" <{first.lower()}.{last.lower()}@{org}>\r\n"
            f"To: <u0@example.test>\r\n"
            f"Subject: {' '.join(subj).capitalize()}\r\n"
            f"Date: {email.utils.formatdate(BASE_TIME + 60 * i, usegmt=True)}\r\n"
            f"Message-ID: <{i}.{SEED}@{org}>\r\n"
            f"MIME-Version: 1.0\r\n"
            f"Content-Type: text/plain; charset=\"us-ascii\"\r\n"
            f"Content-Transfer-Encoding: 7bit\r\n\r\n").encode()
    words = rng.choices(VOCAB, k=(TARGET_SIZE - len(head)) // 6 + 11)
    if is_body_hit(i):
        words[rng.randrange(len(words))] = "needle"
    lines, size = [], len(head)
    for k in range(0, len(words), 11):
        line = " ".join(words[k:k + 11]) + "\r\n"
        if size + len(line) > TARGET_SIZE and lines:
            break
        if is_body_hit(i) and "needle" in words[k + 11:] and size + len(line) + 80 > TARGET_SIZE:
            break  # do not cut the needle off: it must be in every body-hit message
        lines.append(line.capitalize())
        size += len(line)
    body = "".join(lines)
    if is_body_hit(i) and "needle" not in body:
        body += "The needle was here.\r\n"
    return head + body.encode()


# ---------------------------------------------------------------- raw IMAP client

def tls_context():
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # mailroom's generated self-signed certificate
    return ctx


class ImapError(Exception):
    pass


class Raw:
    """Minimal IMAP client: sends one command, reads until the tagged completion line,
    does not parse anything (checks come after the clock stops)."""

    def __init__(self, port, tls):
        s = socket.create_connection((HOST, port), timeout=IO_TIMEOUT)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.s = tls_context().wrap_socket(s) if tls else s
        self.n, self.tag = 0, b""
        self.greeting = self.read_until_line()

    def read_until_line(self):
        buf = bytearray()
        while not buf.endswith(b"\r\n"):
            d = self.s.recv(1 << 20)
            if not d:
                raise ImapError(f"connection closed, got {bytes(buf[-200:])!r}")
            buf += d
        return bytes(buf)

    def cmd(self, c):
        self.n += 1
        self.tag = b"t%d" % self.n
        self.s.sendall(self.tag + b" " + c.encode() + b"\r\n")
        buf, tag = bytearray(), self.tag + b" "
        while True:
            d = self.s.recv(1 << 20)
            if not d:
                raise ImapError(f"{c}: connection closed, got {bytes(buf[-300:])!r}")
            buf += d
            if buf.endswith(b"\r\n"):
                i = buf.rfind(b"\r\n", 0, len(buf) - 2)
                if buf.startswith(tag, i + 2 if i >= 0 else 0):
                    return bytes(buf)

    def close(self):
        try:
            self.s.close()
        except OSError:
            pass


def last_line(resp):
    i = resp.rfind(b"\r\n", 0, len(resp) - 2)
    return resp[i + 2 if i >= 0 else 0:].rstrip(b"\r\n")


def check_ok(step, resp):
    line = last_line(resp)
    if line.split(b" ", 2)[1:2] != [b"OK"]:
        raise ImapError(f"{step}: {line.decode(errors='replace')[:300]}")


def search_uids(resp):
    for line in resp.split(b"\r\n"):
        if line.startswith(b"* SEARCH"):
            return [int(x) for x in line.split()[2:]]
    raise ImapError(f"no * SEARCH line in {resp[:300]!r}")


def exists(resp):
    for line in resp.split(b"\r\n"):
        p = line.split()
        if len(p) == 3 and p[0] == b"*" and p[2] == b"EXISTS":
            return int(p[1])
    return -1


STEPS = [("login", "LOGIN"), ("select", "SELECT INBOX"), ("uid_fetch_flags", "UID FETCH 1:* (FLAGS)"),
         ("fetch_envelope", "FETCH 1:* (ENVELOPE)"), ("search_subject", 'UID SEARCH SUBJECT "xyz"'),
         ("search_body", 'UID SEARCH BODY "needle"'), ("fetch_bodies", "UID FETCH <K random UIDs> (BODY.PEEK[])")]


def imap_pass(server, args, warmup=False):
    """One pass over the steps on a new connection; returns (times, facts). The warm-up pass
    first makes Dovecot index the mailbox (FETCH 1:* (FLAGS ENVELOPE), as the brief of the
    anchor's numbers) and is otherwise the same as a timed pass."""
    t, facts = {}, {}

    def step(name, fn):
        t0 = time.perf_counter()
        v = fn()
        t[name] = round(time.perf_counter() - t0, 4)
        return v

    c = step("connect", lambda: Raw(server.imap_port, server.tls))
    try:
        user, pw = server.big_user()
        check_ok("login", step("login", lambda: c.cmd(f"LOGIN {user} {pw}")))
        sel = step("select", lambda: c.cmd("SELECT INBOX"))
        check_ok("select", sel)
        facts["exists"] = exists(sel)
        if warmup:
            r = c.cmd("FETCH 1:* (FLAGS ENVELOPE)")
            check_ok("warm-up FETCH", r)
        r = step("uid_fetch_flags", lambda: c.cmd("UID FETCH 1:* (FLAGS)"))
        check_ok("uid_fetch_flags", r)
        facts["flags_fetched"] = r.count(b" FETCH (")
        r = step("fetch_envelope", lambda: c.cmd("FETCH 1:* (ENVELOPE)"))
        check_ok("fetch_envelope", r)
        facts["envelopes_fetched"], facts["envelope_bytes"] = r.count(b" FETCH ("), len(r)
        r = step("search_subject", lambda: c.cmd('UID SEARCH SUBJECT "xyz"'))
        check_ok("search_subject", r)
        facts["subject_hits"] = len(search_uids(r))
        r = step("search_body", lambda: c.cmd('UID SEARCH BODY "needle"'))
        check_ok("search_body", r)
        facts["body_hits"] = len(search_uids(r))
        r = c.cmd("UID SEARCH ALL")  # untimed: the UIDs to pick the K bodies from
        check_ok("UID SEARCH ALL", r)
        uids = search_uids(r)
        sel_uids = sorted(random.Random(42).sample(uids, min(args.bodies, len(uids))))
        cmd = "UID FETCH %s (BODY.PEEK[])" % ",".join(map(str, sel_uids))
        r = step("fetch_bodies", lambda: c.cmd(cmd))
        check_ok("fetch_bodies", r)
        facts["bodies_fetched"], facts["body_resp_bytes"] = r.count(b" FETCH ("), len(r)
        check_ok("logout", c.cmd("LOGOUT"))
    finally:
        c.close()
    return t, facts


def check_facts(server, facts, n, want):
    """Wrong answers are reported with the run, not hidden: the timing of a wrong answer is worthless."""
    problems = []
    for k, v in (("exists", n), ("flags_fetched", n), ("envelopes_fetched", n),
                 ("subject_hits", want["subject"]), ("body_hits", want["body"])):
        if facts.get(k) != v:
            problems.append(f"{server.name}: {k} = {facts.get(k)}, expected {v}")
    return problems


# ---------------------------------------------------------------- memory

def memory(pids):
    out = dict(procs=0, rss_kb=0, pss_kb=0, uss_kb=0)
    names = collections.Counter()
    for pid in pids:
        st, sm = read(f"/proc/{pid}/status"), read(f"/proc/{pid}/smaps_rollup")
        if not st or not sm:
            continue  # exited meanwhile
        out["procs"] += 1
        out["rss_kb"] += field_kb(st, "VmRSS:")
        out["pss_kb"] += field_kb(sm, "Pss:")
        out["uss_kb"] += field_kb(sm, "Private_Clean:") + field_kb(sm, "Private_Dirty:")
        names[read(f"/proc/{pid}/comm").strip()] += 1
    out["by_name"] = dict(names.most_common())
    return out


# ---------------------------------------------------------------- idle connections

def mem_available():
    info = read("/proc/meminfo")
    return field_kb(info, "MemAvailable:"), field_kb(info, "MemTotal:")


async def memory_guard(stop, min_free_kb):
    """Stops opening connections before the machine runs out of memory (a server that needs
    more per session than the box has would otherwise meet the OOM killer, and take other
    processes with it); the row then says how far it got."""
    while not stop.is_set():
        if mem_available()[0] < min_free_kb:
            stop.set()
            return
        await asyncio.sleep(0.25)


async def open_idle(j, server, ctx, sem, local_ip, stop):
    user, pw = server.idle_user(j)
    async with sem:
        if stop.is_set():
            raise ImapError("not attempted: MemAvailable fell below the guard, opening stopped")
        async with asyncio.timeout(60):
            r, w = await asyncio.open_connection(
                HOST, server.imap_port, ssl=ctx, local_addr=(local_ip, 0) if local_ip else None,
                limit=1 << 16)
            try:
                line = await r.readline()
                if not line.startswith(b"* OK"):
                    raise ImapError(f"greeting: {line[:200]!r}")
                for tag, cmd in ((b"a1", f"LOGIN {user} {pw}"), (b"a2", "SELECT INBOX")):
                    w.write(tag + b" " + cmd.encode() + b"\r\n")
                    while True:
                        line = await r.readline()
                        if not line:
                            raise ImapError(f"{cmd.split()[0]}: connection closed")
                        if line.startswith(b"* BYE"):
                            raise ImapError(f"{cmd.split()[0]}: {line.strip()[:200].decode(errors='replace')}")
                        if line.startswith(tag + b" "):
                            break
                    if line.split(b" ", 2)[1:2] != [b"OK"]:
                        raise ImapError(f"{cmd.split()[0]}: {line.strip()[:200].decode(errors='replace')}")
                w.write(b"a3 IDLE\r\n")
                while True:
                    line = await r.readline()
                    if not line:
                        raise ImapError("IDLE: connection closed")
                    if line.startswith(b"+"):
                        return r, w
                    if line.startswith(b"a3 "):
                        raise ImapError(f"IDLE: {line.strip()[:200].decode(errors='replace')}")
            except BaseException:
                w.transport.abort()
                raise


async def close_idle(conns):
    async def one(r, w):
        try:
            w.write(b"DONE\r\na4 LOGOUT\r\n")
            async with asyncio.timeout(20):
                while True:  # wait for the tagged LOGOUT reply so the server ends it cleanly
                    line = await r.readline()
                    if not line or line.startswith(b"a4 "):
                        break
            w.close()
        except (OSError, asyncio.TimeoutError, ssl.SSLError):
            w.transport.abort()
    sem = asyncio.Semaphore(200)

    async def bounded(c):
        async with sem:
            await one(*c)
    await asyncio.gather(*(bounded(c) for c in conns))
    await asyncio.sleep(1)
    for _, w in conns:
        w.transport.abort()  # anything still open


def idle_run(server, n, args):
    """Memory with n sessions in IDLE against the same server after they closed."""
    server.start()
    log_pos = server.log_size()
    time.sleep(3)
    zero_fresh = memory(server.mem_pids())
    ctx = tls_context() if server.tls else None
    per_ip = server.per_ip_limit()
    errors = collections.Counter()

    avail, total = mem_available()
    min_free_kb = max(2 << 20, int(total * args.min_free_mem_pct / 100))
    guard = {}

    async def go():
        sem, stop = asyncio.Semaphore(args.idle_concurrency), asyncio.Event()
        g = asyncio.create_task(memory_guard(stop, min_free_kb))
        t0 = time.perf_counter()
        res = await asyncio.gather(*(open_idle(j, server, ctx, sem, f"127.0.0.{1 + j // per_ip}" if per_ip else None,
                                               stop) for j in range(n)), return_exceptions=True)
        t_open = time.perf_counter() - t0
        if stop.is_set():
            guard.update(tripped=True, mem_available_mib=mem_available()[0] // 1024,
                         server=memory(server.mem_pids()))
            print(f"WARNING: {server.name}: MemAvailable below {min_free_kb >> 10} MiB while opening idle sessions;"
                  f" stopped opening more (server RSS {guard['server']['rss_kb'] >> 10} MiB)", file=sys.stderr)
        stop.set()
        await g
        conns = []
        for x in res:
            if isinstance(x, BaseException):
                errors[f"{type(x).__name__}: {x}"] += 1
            else:
                conns.append(x)
        await asyncio.sleep(args.settle)
        # still there? a server that dropped sessions while idle shows up here
        alive = sum(1 for r, w in conns if not w.transport.is_closing() and not r.at_eof())
        with_conns = memory(server.mem_pids())
        await close_idle(conns)
        return t_open, len(conns), alive, with_conns

    t_open, opened, alive, with_conns = asyncio.run(go())
    time.sleep(args.settle)
    zero_warm = memory(server.mem_pids())
    log_lines = server.log_problems(log_pos)
    server.stop()
    d = max(1, opened)
    row = dict(server=server.name, step="idle", conns_wanted=n, opened=opened, alive_after_settle=alive,
               errors=dict(errors.most_common(5)), n_errors=sum(errors.values()), open_s=round(t_open, 2),
               source_ips=1 + (n - 1) // per_ip if per_ip else 1,
               zero_fresh=zero_fresh, idle=with_conns, zero_warm=zero_warm,
               per_conn_rss_kb=round((with_conns["rss_kb"] - zero_warm["rss_kb"]) / d, 1),
               per_conn_pss_kb=round((with_conns["pss_kb"] - zero_warm["pss_kb"]) / d, 1),
               per_conn_uss_kb=round((with_conns["uss_kb"] - zero_warm["uss_kb"]) / d, 1),
               # growth from the fresh server: differs from the above when closing sessions
               # does not give the memory back
               per_conn_pss_from_fresh_kb=round((with_conns["pss_kb"] - zero_fresh["pss_kb"]) / d, 1),
               memory_guard=guard, server_log_problems=log_lines)
    return row


# ---------------------------------------------------------------- servers

def chown_tree(path, uid, gid):
    for root, dirs, files in os.walk(path):
        os.chown(root, uid, gid)
        for f in files:
            os.chown(os.path.join(root, f), uid, gid)


class Anchor(smtp_ingest.Anchor):
    """Dovecot IMAP plaintext on 127.0.0.1:2143 (Postfix runs too: anchor.sh starts both)."""
    name, tls, imap_port = "anchor", False, ANCHOR_IMAP_PORT

    def __init__(self, n):
        self.n = n
        self.cache = f"{WORK}/imap-{n}"
        self.template = f"{self.cache}/dovecot-Maildir"
        self.meta = f"{self.cache}/dovecot.json"
        self.installed = False

    def big_user(self):
        return "u0@example.test", "pass0"

    def idle_user(self, j):
        u = 1 + j % IDLE_USERS
        return f"u{u}@example.test", f"pass{u}"

    def per_ip_limit(self):
        return 0  # everything from 127.0.0.1, as the anchor's own bench_idle_mem.py

    def idle_conns(self, c):
        return min(c, IDLE_USERS * ANCHOR_USERIP_LIMIT, ANCHOR_PROCESS_LIMIT)

    def populated(self):
        try:
            m = json.load(open(self.meta))
            return m["gen_version"] == GEN_VERSION and m["messages"] == self.n
        except (OSError, ValueError, KeyError):
            return False

    def populate(self):
        """Maildir files written directly, as Dovecot's LMTP stores them (LF line endings,
        Return-Path, Delivered-To and two Received headers on top, name with S= and W=)."""
        t0 = time.perf_counter()
        shutil.rmtree(self.template, ignore_errors=True)
        os.makedirs(self.cache, exist_ok=True)
        if os.path.exists(self.meta):
            os.unlink(self.meta)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(f"{self.template}/{sub}", mode=0o700)
        pid = os.getpid()
        for i in range(self.n):
            t = BASE_TIME + 60 * i
            date = email.utils.formatdate(t, usegmt=True).replace("GMT", "+0000")
            qid = f"{i:010X}"
            trace = (f"Return-Path: <sender@bench.test>\nDelivered-To: u0@example.test\n"
                     f"Received: from mail.example.test\n\tby vm with LMTP\n\tid {qid}bench\n"
                     f"\t(envelope-from <sender@bench.test>)\n\tfor <u0@example.test>; {date}\n"
                     f"Received: from bench.test (localhost [127.0.0.1])\n\tby mail.example.test (Postfix) "
                     f"with SMTP id {qid}\n\tfor <u0@example.test>; {date} (UTC)\n").encode()
            data = trace + gen_message(i).replace(b"\r\n", b"\n")
            vsize = len(data) + data.count(b"\n")  # W=: the size with CRLF line endings, as IMAP sees it
            name = f"{t}.M{(i * 7919) % 1000000}P{pid}.bench,S={len(data)},W={vsize}:2,"
            path = f"{self.template}/cur/{name}"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            try:
                os.write(fd, data)
            finally:
                os.close(fd)
            os.utime(path, (t, t))  # maildir received date (INTERNALDATE) = the Date header
        pw = _vmail_ids()
        chown_tree(self.template, *pw)
        sh("sync", timeout=600)
        json.dump(dict(gen_version=GEN_VERSION, messages=self.n, seconds=round(time.perf_counter() - t0, 1)),
                  open(self.meta, "w"))

    def install(self):
        """Fresh copy of the template as u0's Maildir (no index: Dovecot indexes it at the
        first warm-up pass); also every other benchmark (the SMTP one wipes vmail) is undone."""
        self.stop()
        os.makedirs(f"{LAB}/vmail/example.test", exist_ok=True)
        uid, gid = _vmail_ids()
        os.chown(f"{LAB}/vmail", uid, gid)
        os.chown(f"{LAB}/vmail/example.test", uid, gid)
        os.chmod(f"{LAB}/vmail/example.test", 0o700)
        shutil.rmtree(VMAIL_U0, ignore_errors=True)
        os.makedirs(VMAIL_U0, mode=0o700)
        os.chown(VMAIL_U0, uid, gid)
        if os.path.isdir(self.template):  # absent when only the idle step runs: u0 stays empty
            subprocess.run(["cp", "-a", self.template, f"{VMAIL_U0}/Maildir"], check=True, timeout=1800)
        self.installed = True

    def start(self):
        if not self.installed:
            self.install()
        self.stop()
        drop_caches()
        self.anchor_sh("start")
        wait_imap(self)

    def dovecot_master(self):
        try:
            pid = int(open("/run/dovecot/master.pid").read().split()[0])
            return [pid] if os.path.exists(f"/proc/{pid}") else []
        except (OSError, ValueError, IndexError):
            return []

    def mem_pids(self):
        return descendants(self.dovecot_master())

    def log_size(self):
        return os.path.getsize(DOVECOT_LOG) if os.path.exists(DOVECOT_LOG) else 0

    def log_problems(self, pos):
        return log_problems(DOVECOT_LOG, pos, (b"Warning", b"Error", b"Fatal", b"Panic"))


def _vmail_ids():
    import pwd
    p = pwd.getpwnam("vmail")
    return p.pw_uid, p.pw_gid


def log_problems(path, pos, needles, keep=5):
    try:
        with open(path, "rb") as f:
            f.seek(pos)
            data = f.read()
    except OSError:
        return {}
    lines = [l for l in data.split(b"\n") if any(x in l for x in needles)]
    return dict(count=len(lines), first=[l.decode(errors="replace")[:300] for l in lines[:keep]]) if lines else {}


class Mailroom(smtp_ingest.Mailroom):
    """mailroom with SMTP (population only), IMAPS and HTTP on ports the anchor does not use."""
    name, tls, imap_port = "mailroom", True, MR_IMAPS_PORT
    port = MR_SMTP_PORT

    def __init__(self, binary, n):
        super().__init__(binary)
        self.n = n
        self.cache = f"{WORK}/imap-{n}"
        self.template = f"{self.cache}/mailroom-data"
        self.meta = f"{self.cache}/mailroom.json"
        self.data = f"{WORK}/imap-data"
        self.config, self.pidfile = f"{WORK}/imap-mailroom.toml", f"{WORK}/imap-mailroom.pid"
        self.log = f"{WORK}/imap-mailroom.log"
        self.installed = False
        self.imap_config = None  # does this binary know the [imap] table? (probed)
        self.keep_cache = False

    def big_user(self):
        return "u0@example.test", PASSWORD

    def idle_user(self, j):
        return f"u{1 + j % IDLE_USERS}@example.test", PASSWORD

    def idle_conns(self, c):
        return c

    def per_ip_limit(self):
        # A binary from before the [imap] table keeps its built-in 100 sessions per client
        # address: then the idle clients are spread over 127.0.0.x source addresses.
        return 0 if self.imap_config else 100

    def write_config(self, imap_table=True):
        os.makedirs(WORK, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'hostname = "mail.bench.test"\ndata_dir = "{self.data}"\n[listen]\n'
                    f'smtp = ["{HOST}:{MR_SMTP_PORT}"]\nsubmission = []\nsubmissions = []\nimap = []\n'
                    f'imaps = ["{HOST}:{MR_IMAPS_PORT}"]\npop3 = []\npop3s = []\nhttp = ["{HOST}:{MR_HTTP_PORT}"]\n')
            if imap_table:
                # 10,000 idle sessions from one client address over 99 accounts
                f.write("[imap]\nmax_connections = 20000\nmax_connections_per_ip = 20000\n"
                        "max_connections_per_account = 1000\n")

    def configure(self):
        """Probe once whether the binary accepts [imap] (added in 413a7e8); say so if not."""
        if self.imap_config is not None:
            return
        self.write_config(True)
        p = subprocess.run([self.bin, "--config", self.config, "domain", "list"], capture_output=True,
                           text=True, timeout=60)
        bad = p.returncode != 0 and "imap" in (p.stderr + p.stdout)
        self.imap_config = not bad
        if bad:
            print(f"WARNING: {self.bin} refuses the [imap] config table (built before it existed): "
                  f"running with its built-in IMAP limits (100 per client address, 50 per account); "
                  f"idle clients are spread over 127.0.0.x source addresses. Its message: "
                  f"{(p.stderr or p.stdout).strip()[:300]}", file=sys.stderr, flush=True)
            self.write_config(False)

    def binary_sha(self):
        if not hasattr(self, "_sha"):
            h = hashlib.sha256()
            with open(self.bin, "rb") as f:
                for chunk in iter(lambda: f.read(1 << 20), b""):
                    h.update(chunk)
            self._sha = h.hexdigest()[:16]
        return self._sha

    def populated(self):
        """Valid for the binary that made it only: what delivery writes (blobs, caches, schema)
        changes with the code, and a store migrated from an older build would measure that."""
        try:
            m = json.load(open(self.meta))
            return (m["gen_version"] == GEN_VERSION and m["messages"] == self.n and os.path.isdir(self.template)
                    and (m["binary_sha256"] == self.binary_sha() or self.keep_cache))
        except (OSError, ValueError, KeyError):
            return False

    def populate(self, procs=2, sessions=20):
        """Domain + u0..u99 with the CLI, then N messages to u0 through mailroom's own SMTP
        listener (its normal delivery path), until the store counts N messages."""
        self.configure()
        t0 = time.perf_counter()
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.template, ignore_errors=True)
        os.makedirs(self.cache, exist_ok=True)
        if os.path.exists(self.meta):
            os.unlink(self.meta)
        self.provision()
        self.start_process()
        t1 = time.perf_counter()
        failed = smtp_deliver(MR_SMTP_PORT, range(self.n), procs, sessions)
        if failed:  # once more, one at a time; what still fails stops the benchmark
            print(f"mailroom population: {len(failed)} message(s) failed, retrying", file=sys.stderr)
            failed = smtp_deliver(MR_SMTP_PORT, failed, 1, 1)
            if failed:
                raise RuntimeError(f"mailroom refused {len(failed)} messages, e.g. #{failed[0]}; see {self.log}")
        end = time.monotonic() + 600
        while (got := self.delivered()) < self.n:
            if time.monotonic() > end:
                raise RuntimeError(f"mailroom holds {got} of {self.n} messages after 600 s")
            time.sleep(0.5)
        t_sent = time.perf_counter() - t1
        if got != self.n:
            raise RuntimeError(f"mailroom holds {got} messages, {self.n} were sent")
        self.stop()
        subprocess.run(["cp", "-a", self.data, self.template], check=True, timeout=1800)
        self.installed = True  # self.data is already the same as the template
        json.dump(dict(gen_version=GEN_VERSION, messages=self.n, provision_s=round(t1 - t0, 1),
                       deliver_s=round(t_sent, 1), deliver_msg_per_s=round(self.n / t_sent),
                       seconds=round(time.perf_counter() - t0, 1), binary_sha256=self.binary_sha(),
                       binary_mtime=time.ctime(os.path.getmtime(self.bin))), open(self.meta, "w"))

    def provision(self):
        """Domain example.test and u0..u99, all with PASSWORD, into a new data dir."""
        shutil.rmtree(self.data, ignore_errors=True)
        open(self.log, "w").close()
        self.cli("domain", "add", "example.test")
        for u in smtp_ingest.USERS:
            self.cli("account", "add", u, "--password-stdin", stdin=PASSWORD + "\n")

    def install(self):
        self.configure()
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)
        if self.populated():
            subprocess.run(["cp", "-a", self.template, self.data], check=True, timeout=1800)
        else:  # only the idle step runs and nothing is cached: accounts without mail suffice
            self.provision()
        self.installed = True

    def start_process(self):
        smtp_ingest.Mailroom.start(self)  # waits for listeners.json and the SMTP banner
        wait_imap(self)

    def start(self):
        if not self.installed:
            self.install()
        self.stop()
        drop_caches()
        self.start_process()

    def mem_pids(self):
        return self.pids()

    def log_size(self):
        return os.path.getsize(self.log) if os.path.exists(self.log) else 0

    def log_problems(self, pos):
        return log_problems(self.log, pos, (b" WARN ", b" ERROR ", b"panicked"))


def wait_imap(server, deadline_s=60):
    end = time.monotonic() + deadline_s
    while True:
        try:
            c = Raw(server.imap_port, server.tls)
            c.close()
            if c.greeting.startswith(b"* OK"):
                return
            raise ImapError(f"greeting {c.greeting[:200]!r}")
        except (OSError, ImapError) as e:
            if time.monotonic() > end:
                raise RuntimeError(f"{server.name}: IMAP on port {server.imap_port} not ready: {e}")
            time.sleep(0.2)


def raise_nofile():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))  # inherited by the servers we start
    return hard


# ---------------------------------------------------------------- SMTP population (mailroom)

async def _deliver(port, seqs, sessions, failed):
    jobs = iter(seqs)

    async def worker():
        s = None
        for i in jobs:
            try:
                async with asyncio.timeout(120):
                    if s is None:
                        s = await Session.open(port)
                    await s.cmd(b"MAIL FROM:<sender@bench.test>\r\n", 250)
                    await s.cmd(b"RCPT TO:<u0@example.test>\r\n", 250)
                    await s.cmd(b"DATA\r\n", 354)
                    s.w.write(gen_message(i) + b".\r\n")
                    await s.w.drain()
                    code, text = await s.reply()
                    if code != 250:
                        raise SmtpError(f"end of DATA: {text}")
            except (SmtpError, OSError, asyncio.TimeoutError) as e:
                failed.append((i, f"{type(e).__name__}: {e}"))
                if s is not None:
                    s.close()
                    s = None
        if s is not None:
            try:
                async with asyncio.timeout(30):
                    await s.quit()
            except (SmtpError, OSError, asyncio.TimeoutError):
                pass
    await asyncio.gather(*(worker() for _ in range(sessions)))


def _deliver_process(port, seqs, sessions, out):
    failed = []
    asyncio.run(_deliver(port, seqs, sessions, failed))
    out.send(failed)


def smtp_deliver(port, seqs, procs, sessions):
    """Send messages `seqs` in `procs` processes of sessions/procs sessions each; returns the
    numbers that failed (the first few reasons are printed)."""
    seqs = list(seqs)
    children = []
    for k in range(procs):
        r, w = multiprocessing.Pipe(duplex=False)
        p = multiprocessing.Process(target=_deliver_process, daemon=True,
                                    args=(port, seqs[k::procs], max(1, sessions // procs), w))
        p.start()
        children.append((p, r))
    failed = []
    for p, r in children:
        try:
            failed += r.recv()
        except EOFError:
            raise RuntimeError("population sender process died")
        p.join()
    for i, why in failed[:5]:
        print(f"  message {i}: {why}", file=sys.stderr)
    return [i for i, _ in failed]


# ---------------------------------------------------------------- report

def fmt_s(v):
    return f"{v:.4f}" if v < 10 else f"{v:.2f}"


def summary(results, args, want):
    out = []
    rows = {s: [r for r in results if r["server"] == s and r.get("step") == "imap"] for s in ("anchor", "mailroom")}
    if any(rows.values()):
        out += [f"IMAP steps, one mailbox of {args.messages} messages (~4 KiB), warm, seconds, median of "
                f"{max(len(v) for v in rows.values())} run(s); anchor = Dovecot plaintext, mailroom = implicit TLS",
                "", "| step | anchor s | mailroom s | anchor/mailroom (>1: mailroom faster) |", "| --- | --- | --- | --- |"]
        for key, label in [("connect", "connect (+TLS handshake for mailroom; not compared)")] + \
                [(k, l.replace("<K random UIDs>", f"{args.bodies} random UIDs")) for k, l in STEPS]:
            med = {s: statistics.median(r["times"][key] for r in v) if v else None for s, v in rows.items()}
            a, m = med["anchor"], med["mailroom"]
            ratio = f"x{a / m:.2f}" if a is not None and m else "-"
            if key == "connect":
                ratio = "-"
            out.append(f"| {label} | {fmt_s(a) if a is not None else '-'} | {fmt_s(m) if m is not None else '-'} | {ratio} |")
        tot = {s: statistics.median(sum(t for k, t in r["times"].items() if k != "connect") for r in v) if v else None
               for s, v in rows.items()}
        if tot["anchor"] is not None and tot["mailroom"]:
            out.append(f"| total (excl. connect) | {fmt_s(tot['anchor'])} | {fmt_s(tot['mailroom'])} | "
                       f"x{tot['anchor'] / tot['mailroom']:.2f} |")
        out.append("")
        for s, v in rows.items():
            if v:
                f = v[-1]["facts"]
                out.append(f"{s}: SEARCH SUBJECT hits {f.get('subject_hits')}, SEARCH BODY hits {f.get('body_hits')} "
                           f"(expected {want['subject']} / {want['body']}); {f.get('bodies_fetched')} bodies = "
                           f"{f.get('body_resp_bytes', 0) / 1e6:.2f} MB response; ENVELOPE response "
                           f"{f.get('envelope_bytes', 0) / 1e6:.1f} MB")
        out.append("")
    idle = {s: [r for r in results if r["server"] == s and r.get("step") == "idle"] for s in ("anchor", "mailroom")}
    if any(idle.values()):
        out += ["Memory per idle IMAP session (LOGIN, SELECT INBOX, IDLE; users u1..u99), (with C open - "
                "after closing) / C, median of runs", "",
                "| server | C | failed | open s | procs 0 / C | PSS MiB fresh / C / after | RSS KiB/conn | PSS KiB/conn "
                "| USS KiB/conn | PSS KiB/conn vs fresh |",
                "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for s, v in idle.items():
            if not v:
                continue
            md = lambda k: statistics.median(r[k] for r in v)  # noqa: E731
            mdn = lambda a, k: statistics.median(r[a][k] for r in v)  # noqa: E731
            out.append(f"| {s} | {v[0]['conns_wanted']} | {max(r['n_errors'] for r in v)} | {md('open_s'):.1f} | "
                       f"{mdn('zero_warm', 'procs'):.0f} / {mdn('idle', 'procs'):.0f} | "
                       f"{mdn('zero_fresh', 'pss_kb') / 1024:.1f} / {mdn('idle', 'pss_kb') / 1024:.1f} / "
                       f"{mdn('zero_warm', 'pss_kb') / 1024:.1f} | "
                       f"{md('per_conn_rss_kb'):.1f} | {md('per_conn_pss_kb'):.1f} | {md('per_conn_uss_kb'):.1f} | "
                       f"{md('per_conn_pss_from_fresh_kb'):.1f} |")
        a, m = idle["anchor"], idle["mailroom"]
        if a and m:
            pa, pm = (statistics.median(r["per_conn_pss_kb"] for r in x) for x in (a, m))
            if pm > 0:
                out.append(f"\nPSS per idle session anchor/mailroom: x{pa / pm:.1f}")
    problems = [p for r in results for p in r.get("problems", [])]
    for r in results:
        for e, c in r.get("errors", {}).items():
            problems.append(f"{r['server']} {r.get('step')} run {r.get('run')}: x{c} {e}")
        if r.get("memory_guard"):
            g = r["memory_guard"]
            problems.append(f"{r['server']} idle run {r.get('run')}: memory guard tripped after {r['opened']} of "
                            f"{r['conns_wanted']} sessions, server RSS {g['server']['rss_kb'] >> 10} MiB")
        if r.get("server_log_problems"):
            problems.append(f"{r['server']} {r.get('step')} run {r.get('run')}: server log: {r['server_log_problems']}")
    for p in problems[:30]:
        out.append("PROBLEM: " + p)
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mailroom-bin", default="target/release/mailroom")
    p.add_argument("--servers", default="anchor,mailroom")
    p.add_argument("--steps", default="imap,idle", help="comma list of: imap (the timed IMAP steps), idle (memory)")
    p.add_argument("--messages", type=int, default=100000, help="messages in u0's mailbox")
    p.add_argument("--bodies", type=int, default=1000, help="K random UIDs for the UID FETCH BODY.PEEK[] step")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--idle-conns", type=int, default=10000,
                   help=f"C for mailroom; the anchor gets min(C, {IDLE_USERS}x{ANCHOR_USERIP_LIMIT}) "
                        f"(Dovecot mail_max_userip_connections)")
    p.add_argument("--idle-concurrency", type=int, default=64, help="connections being opened at once")
    p.add_argument("--settle", type=float, default=5.0, help="seconds before each memory reading")
    p.add_argument("--min-free-mem-pct", type=float, default=15.0,
                   help="stop opening idle sessions when MemAvailable falls below this share of RAM (min 2 GiB)")
    p.add_argument("--repopulate", action="store_true", help="rebuild the cached mailboxes")
    p.add_argument("--keep-cache", action="store_true",
                   help="reuse mailroom's cached store even if another binary made it (default: repopulate)")
    p.add_argument("--out", default=f"{WORK}/results")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    nofile = raise_nofile()
    steps = args.steps.split(",")
    for s in steps:
        if s not in ("imap", "idle"):
            p.error(f"unknown step {s}")

    # copy the binary once, so a concurrent `cargo build` cannot swap it in the middle of a run
    os.makedirs(WORK, exist_ok=True)
    binary = f"{WORK}/mailroom-imap-bench-bin"
    if "mailroom" in args.servers.split(","):
        shutil.copy2(args.mailroom_bin, binary + ".tmp")
        os.replace(binary + ".tmp", binary)
    make = {"anchor": lambda: Anchor(args.messages), "mailroom": lambda: Mailroom(binary, args.messages)}
    servers = [make[s]() for s in args.servers.split(",")]
    for s in servers:
        if isinstance(s, Mailroom):
            s.keep_cache = args.keep_cache
    want = expected_hits(args.messages)
    os.makedirs(args.out, exist_ok=True)
    out = f"{args.out}/imap_bench-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    results = []

    def emit(res):
        results.append(res)
        print(json.dumps(res), flush=True)
        with open(out, "a") as f:
            f.write(json.dumps(res) + "\n")

    try:
        for s in servers:
            s.stop()
        if "imap" in steps:
            for s in servers:
                if args.repopulate or not s.populated():
                    t0 = time.perf_counter()
                    print(f"populating {s.name} with {args.messages} messages ...", file=sys.stderr, flush=True)
                    s.populate()
                    print(f"populated {s.name} in {time.perf_counter() - t0:.1f} s: {open(s.meta).read()}",
                          file=sys.stderr, flush=True)
                else:
                    print(f"{s.name}: cached mailbox of {args.messages} messages in {s.cache}", file=sys.stderr)
            for r in range(args.runs):
                for s in (servers if r % 2 == 0 else servers[::-1]):  # ABBA against drift
                    s.start()
                    t0 = time.perf_counter()
                    cold, cold_facts = imap_pass(s, args, warmup=True)
                    warm_s = time.perf_counter() - t0
                    idle = wait_quiet(max_wait=20)
                    times, facts = imap_pass(s, args)
                    s.stop()
                    emit(dict(server=s.name, step="imap", run=r + 1, messages=args.messages, times=times,
                              facts=facts, first_pass_after_restart=cold, warmup_s=round(warm_s, 2),
                              idle_before_pct=idle, tls=s.tls,
                              problems=check_facts(s, facts, args.messages, want) +
                              check_facts(s, cold_facts, args.messages, want)))
        if "idle" in steps:
            for r in range(args.runs):
                for s in (servers if r % 2 == 0 else servers[::-1]):
                    if isinstance(s, Mailroom):
                        s.configure()
                    n = s.idle_conns(args.idle_conns)
                    if n + 50 > nofile:
                        raise SystemExit(f"RLIMIT_NOFILE hard limit {nofile} too low for {n} connections")
                    row = idle_run(s, n, args)
                    row["run"] = r + 1
                    emit(row)
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                print(f"stopping {s.name}: {e}", file=sys.stderr)
    print()
    print(f"IMAP benchmark, {args.messages} messages, {args.bodies} bodies, {os.cpu_count()} CPUs, "
          f"{time.strftime('%Y-%m-%d')}; raw: {out}")
    print(summary(results, args, want))


if __name__ == "__main__":
    main()
