#!/usr/bin/env python3
"""Queue throughput benchmark: mailroom's outbound queue against Postfix relaying the same load.

Both servers receive N messages (~SIZE bytes, SESSIONS concurrent plain-SMTP sessions, reused
connections) for addresses in another domain and deliver them through their durable queue to
Postfix's `smtp-sink` on 127.0.0.1:SINK_PORT, which counts what arrives and dumps it to tmpfs
for a check after the clock stops.

- Postfix (the anchor, 127.0.0.1:2525) gets RCPT TO:<u{i}@sink.test> and relays them via
  `relayhost = [127.0.0.1]:SINK_PORT` (set with postconf for the benchmark; the anchor's
  main.cf is restored byte for byte at the end).
- mailroom (127.0.0.1:2526) gets RCPT TO:<fwd{i}@bench.test>, aliases forwarding to
  u{i}@sink.test, and delivers with `[outbound] relay = "127.0.0.1:SINK_PORT"`.

Metric: N / time from the first injected message until the sink holds all N (end to end),
plus the injection rate and the time the queue needed to drain after injection ended.
Each run starts the server under test from a clean state; the order alternates per run.
Standard library only; run as root (drops caches, controls the anchor, edits main.cf).

Usage: queue_bench.py --mailroom-bin PATH [--runs 3] [--servers postfix,mailroom] [-n 5000]
"""
import argparse, asyncio, collections, email.utils, json, multiprocessing, os, re, shutil, signal, sqlite3
import statistics, subprocess, sys, time

import smtp_ingest as si  # same directory: the SMTP client pieces and the /proc helpers

HOST = si.HOST
ANCHOR, LAB = si.ANCHOR, si.LAB
WORK = os.path.join(si.WORK, "queue")  # own subdirectory: smtp_ingest.py uses WORK itself
REPO_RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")
MAIN_CF = "/etc/postfix/main.cf"
MAIN_CF_BACKUP = f"{WORK}/main.cf.anchor"  # bench/run-queue restores from it if we die
SENDER = "sender@source.test"  # neither hosted by mailroom nor local to Postfix: no DKIM signing
FWD_DOMAIN, SINK_DOMAIN, RCPTS = "bench.test", "sink.test", 100
PASSWORD = si.PASSWORD
MID_RE = re.compile(rb"^Message-ID: <(\d+)\.([^@>]+)@source\.test>", re.I | re.M)
RCPT_RE = re.compile(rb"^X-Rcpt-Args: <([^>]*)>", re.M)
MESG_RE = re.compile(rb"mesg=(\d+)")


# ---------------------------------------------------------------- load generator

class Message(si.Message):
    """As smtp_ingest's message (~size bytes of 80-byte lines), but From an external domain."""

    def head(self, seq, rcpt):
        return (f"From: Bench <{SENDER}>\r\nTo: <{rcpt}>\r\nSubject: queue bench {seq}\r\n"
                f"Date: {self.date}\r\nMessage-ID: <{seq}.{self.run_id}@source.test>\r\n\r\n").encode()


class Session(si.Session):
    async def send_to(self, seq, rcpt, msg, st):
        await self.cmd(f"MAIL FROM:<{SENDER}>\r\n".encode(), 250)
        await self.cmd(f"RCPT TO:<{rcpt}>\r\n".encode(), 250)
        await self.cmd(b"DATA\r\n", 354)
        self.w.write(msg.head(seq, rcpt))
        self.w.write(msg.body)
        t = time.perf_counter()
        await self.w.drain()
        code, text = await self.reply()
        if code != 250:
            raise si.SmtpError(f"end of DATA: {text}")
        st.latencies.append(time.perf_counter() - t)
        st.accepted += 1


def error_key(e):
    # recipients differ per message: fold them so equal refusals count together
    text = str(e) if isinstance(e, si.SmtpError) else f"{type(e).__name__}: {e}"
    return re.sub(r"<[^>]*@", "<…@", text)[:300]


async def worker(port, jobs, msg, rcpt_fmt, st):
    """One reused connection; a failed message closes it and the next opens a new one."""
    s = None
    for seq in jobs:  # shared iterator: each message number goes to exactly one session
        try:
            async with asyncio.timeout(si.IO_TIMEOUT):
                if s is None:
                    s = await Session.open(port)
                await s.send_to(seq, rcpt_fmt.format(i=seq % RCPTS), msg, st)
        except (si.SmtpError, OSError, asyncio.TimeoutError, ValueError) as e:
            st.failed += 1
            st.errors[error_key(e)] += 1
            if s is not None:
                s.close()
                s = None
    if s is not None:
        try:
            async with asyncio.timeout(si.IO_TIMEOUT):
                await s.quit()
        except (si.SmtpError, OSError, asyncio.TimeoutError) as e:
            st.errors[f"QUIT: {e}"] += 1


def load_process(port, seqs, sessions, size, run_id, rcpt_fmt, go, out):
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the parent's to handle; it ends us (daemon)
    out.send("ready")
    go.wait(120)
    st, c0 = si.Stats(), os.times()

    async def load():
        msg, jobs = Message(size, run_id), iter(seqs)
        await asyncio.wait_for(asyncio.gather(*(worker(port, jobs, msg, rcpt_fmt, st) for _ in range(sessions))),
                               si.RUN_TIMEOUT)
    try:
        asyncio.run(load())
    except asyncio.TimeoutError:
        st.errors[f"load phase exceeded {si.RUN_TIMEOUT}s"] += 1
    c1 = os.times()
    out.send((st.accepted, st.failed, st.latencies, st.errors, c1.user + c1.system - c0.user - c0.system))


class Load:
    """`procs` forked generator processes (one Python process saturates one core), ready
    before the clock starts; sessions and message numbers are split between them."""

    def __init__(self, port, n, sessions, size, procs, run_id, rcpt_fmt):
        self.go, self.children = multiprocessing.Event(), []
        for k in range(procs):
            r, w = multiprocessing.Pipe(duplex=False)
            share = sessions // procs + (k < sessions % procs)
            p = multiprocessing.Process(target=load_process, daemon=True,
                                        args=(port, range(k, n, procs), share, size, run_id, rcpt_fmt, self.go, w))
            p.start()
            self.children.append((p, r))
        for p, r in self.children:
            if r.poll(60):
                r.recv()

    def start(self):
        self.go.set()

    def finish(self):
        st, cpu = si.Stats(), 0.0
        for p, r in self.children:
            try:
                if not r.poll(si.RUN_TIMEOUT + 30):
                    raise EOFError
                accepted, failed, lat, errors, c = r.recv()
                st.accepted += accepted
                st.failed += failed
                st.latencies += lat
                st.errors.update(errors)
                cpu += c
            except EOFError:
                st.errors["load generator process died or hung"] += 1
            p.join(10)
            if p.is_alive():
                p.kill()
                p.join()
        return st, cpu

    def done(self):
        return all(r.poll(0) or not p.is_alive() for p, r in self.children)


# ---------------------------------------------------------------- the sink

class Sink:
    """Postfix's smtp-sink: accepts everything (PIPELINING and the rest announced as by
    default), prints running counters (-c, "mesg=N" at every final '.') into a file we read
    the tail of, and appends every transaction to one dump file on tmpfs (-D), read once
    after the clock stops to check what arrived."""

    def __init__(self, port, dump_dir):
        self.port, self.dir = port, dump_dir
        self.counter, self.dump = f"{dump_dir}/counter", f"{dump_dir}/dump"
        self.pidfile = f"{WORK}/sink.pid"
        self.proc = None

    def start(self):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        shutil.chown(self.dir, "nobody")
        # -u: it refuses to run as root; -t 300: the servers may keep idle cached connections
        self.proc = subprocess.Popen(["smtp-sink", "-c", "-u", "nobody", "-t", "300", "-D", self.dump,
                                      f"{HOST}:{self.port}", "256"],
                                     stdin=subprocess.DEVNULL, stdout=open(self.counter, "wb"),
                                     stderr=open(f"{self.dir}/stderr", "wb"))
        with open(self.pidfile, "w") as f:
            f.write(str(self.proc.pid))
        si.wait_banner(self.port, 20)
        self.base = self.count()  # the readiness probe does not send mail, but be exact

    def count(self):
        """Messages received so far: the last counter line, from the file's last 128 bytes."""
        try:
            with open(self.counter, "rb") as f:
                f.seek(0, 2)
                size = f.tell()
                f.seek(max(0, size - 128))
                tail = f.read()
        except OSError:
            return 0
        m = MESG_RE.findall(tail)
        return int(m[-1]) if m else 0

    def progress(self):
        return self.count() - self.base

    def cpu_s(self):
        return si.proc_cpu_ticks(self.proc.pid) / si.TICK if self.proc else 0.0

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
            self.proc = None
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)

    def check(self, run_id, n, rcpt_of):
        """Read the dump once: unique messages of this run, duplicates, wrong recipients and
        mail that is not ours (bounces, delay warnings)."""
        try:
            data = open(self.dump, "rb").read()
        except OSError:
            data = b""
        seen, dup, wrong, foreign, rid = set(), 0, 0, 0, run_id.encode()
        for rec in re.split(rb"(?m)^X-Client-Addr: ", data)[1:]:  # one record per transaction
            head = rec.split(b"\n\n", 1)[0] if b"\n\n" in rec else rec
            m = MID_RE.search(head)
            if not m or m.group(2) != rid:
                foreign += 1
                continue
            seq = int(m.group(1))
            if seq in seen:
                dup += 1
                continue
            seen.add(seq)
            rcpts = RCPT_RE.findall(head)
            if [r.decode(errors="replace").lower() for r in rcpts] != [rcpt_of(seq)]:
                wrong += 1
        return dict(delivered=len(seen), duplicates=dup, wrong_rcpt=wrong, foreign=foreign,
                    dump_mib=round(len(data) / 2**20, 1), out_of_range=sum(1 for s in seen if s >= n))


# ---------------------------------------------------------------- servers

class Postfix:
    """The anchor's Postfix on 127.0.0.1:2525, relaying to the sink through relayhost."""
    name, port = "postfix", 2525

    def __init__(self, sink_port):
        self.relayhost = f"[{HOST}]:{sink_port}"
        self.rcpt_fmt = "u{i}@" + SINK_DOMAIN
        self.anchor = si.Anchor()

    def prepare(self):
        self.anchor.stop()
        configure_postfix(self.relayhost)

    def start_clean(self):
        self.anchor.start_clean()  # stop, postsuper -d ALL, drop caches, anchor.sh start, 220 probe

    def stop(self):
        self.anchor.stop()

    def pids(self):
        try:
            pid = int(open("/var/spool/postfix/pid/master.pid").read().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return si.descendants([pid]) if os.path.exists(f"/proc/{pid}") else []  # Dovecot idles: not counted

    def queue_left(self):
        p = subprocess.run(["postqueue", "-j"], capture_output=True, text=True, timeout=60)
        return sum(1 for line in p.stdout.splitlines() if line.strip())

    def finish(self):
        restore_postfix()


def configure_postfix(relayhost):
    os.makedirs(WORK, exist_ok=True)
    if not os.path.exists(MAIN_CF_BACKUP):
        shutil.copy2(MAIN_CF, MAIN_CF_BACKUP + ".tmp")
        os.rename(MAIN_CF_BACKUP + ".tmp", MAIN_CF_BACKUP)
    subprocess.run(["postconf", "-e", f"relayhost = {relayhost}"], check=True, timeout=60)
    subprocess.run(["postfix", "check"], check=True, timeout=60)


def restore_postfix():
    """Put the anchor's main.cf back exactly as it was (bench/run-queue does the same if we die)."""
    if os.path.exists(MAIN_CF_BACKUP):
        with open(MAIN_CF_BACKUP, "rb") as src, open(MAIN_CF, "wb") as dst:  # keeps owner and mode
            dst.write(src.read())
        os.unlink(MAIN_CF_BACKUP)


class Mailroom:
    """mailroom on 127.0.0.1:2526: aliases fwd{i}@bench.test -> u{i}@sink.test, outbound relay
    to the sink. Provisioned once into a template data dir, copied fresh for every run."""
    name, port = "mailroom", 2526

    def __init__(self, binary, sink_port, http_port):
        self.bin = os.path.abspath(binary)
        self.sink_port, self.http_port = sink_port, http_port
        self.data, self.template = f"{WORK}/data", f"{WORK}/template"
        self.config, self.pidfile, self.log = f"{WORK}/mailroom.toml", f"{WORK}/mailroom.pid", f"{WORK}/mailroom.log"
        self.rcpt_fmt = "fwd{i}@" + FWD_DOMAIN
        self.proc = None

    def cli(self, *args, stdin=None, capture=False):
        p = subprocess.run([self.bin, "--config", self.config, *args], input=stdin, text=True, timeout=120,
                           stdout=subprocess.PIPE if capture else subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode != 0:
            raise RuntimeError(f"mailroom {' '.join(args)}: {p.stderr.strip()}")
        return p.stdout

    def prepare(self):
        os.makedirs(WORK, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'hostname = "mail.{FWD_DOMAIN}"\ndata_dir = "{self.data}"\n[listen]\n'
                    f'smtp = ["{HOST}:{self.port}"]\nsubmission = []\nsubmissions = []\nimap = []\n'
                    f'imaps = []\npop3 = []\npop3s = []\nhttp = ["{HOST}:{self.http_port}"]\n'
                    f'[outbound]\nrelay = "{HOST}:{self.sink_port}"\n')
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.template, ignore_errors=True)
        open(self.log, "w").close()  # one log per benchmark invocation
        self.cli("domain", "add", FWD_DOMAIN)
        for i in range(RCPTS):
            self.cli("alias", "add", f"fwd{i}@{FWD_DOMAIN}", f"u{i}@{SINK_DOMAIN}")
        self.start()  # first start done once (MasterAdmin, certificate), not in every run
        self.stop()
        os.rename(self.data, self.template)

    def start(self):
        ready = f"{self.data}/listeners.json"
        if os.path.exists(ready):
            os.unlink(ready)
        self.proc = subprocess.Popen([self.bin, "--config", self.config, "serve"], stdin=subprocess.DEVNULL,
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        with open(self.pidfile, "w") as f:
            f.write(str(self.proc.pid))
        end = time.monotonic() + 60
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"mailroom did not become ready (rc={self.proc.poll()}), see {self.log}")
            time.sleep(0.1)
        si.wait_banner(self.port)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=40)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=10)
        self.proc = None
        if os.path.exists(self.pidfile):
            os.unlink(self.pidfile)

    def start_clean(self):
        self.stop()
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.copytree(self.template, self.data, symlinks=True)
        si.drop_caches()
        self.start()

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def queue_left(self):
        """Queue entries not yet settled, from `mailroom queue list --json` (None if unknown)."""
        try:
            out = json.loads(self.cli("queue", "list", "--json", capture=True) or "[]")
        except (RuntimeError, ValueError, subprocess.TimeoutExpired):
            return None
        return len(out) if isinstance(out, list) else None

    def finish(self):
        pass


# ---------------------------------------------------------------- one run

def one_run(server, sink, args, run):
    sink.start()
    server.start_clean()
    idle = si.wait_quiet()
    run_id = f"{server.name}.{run}.{time.time_ns()}"
    gen = Load(server.port, args.n, args.sessions, args.size, args.procs, run_id, server.rcpt_fmt)
    mem = si.MemorySampler(server.pids)
    mem.start()
    cpu0, srv0, sink0 = si.system_cpu(), sum(map(si.proc_cpu_ticks, server.pids())), sink.cpu_s()
    t0 = time.perf_counter()
    gen.start()
    t_first = None
    # while the generator runs: only the sink counter's file tail, every 20 ms (~10 µs each)
    while not gen.done():
        if t_first is None and sink.progress() > 0:
            t_first = time.perf_counter() - t0
        time.sleep(0.02)
    st, gen_cpu = gen.finish()
    t_inj = time.perf_counter() - t0
    at_inject_end = sink.progress()
    if t_first is None and at_inject_end > 0:
        t_first = t_inj
    # until the sink has every accepted message; stop early if nothing arrives for stall_s
    last, t_last = at_inject_end, time.perf_counter()
    complete = False
    while True:
        got = sink.progress()
        now = time.perf_counter()
        if t_first is None and got > 0:
            t_first = now - t0
        if got >= st.accepted:
            complete = True
            break
        if got != last:
            last, t_last = got, now
        if now - t_last > args.stall_s or now - t0 > t_inj + args.drain_timeout:
            break
        time.sleep(0.02)
    t_e2e = time.perf_counter() - t0
    cpu1, srv1, sink1 = si.system_cpu(), sum(map(si.proc_cpu_ticks, server.pids())), sink.cpu_s()
    mem.finish()
    time.sleep(0.5)  # let queue bookkeeping of the last deliveries settle before asking
    left = server.queue_left()
    counted = sink.progress()
    server.stop()
    sink.stop()
    rcpt_of = lambda seq: f"u{seq % RCPTS}@{SINK_DOMAIN}"
    chk = sink.check(run_id, args.n, rcpt_of)
    lat = sorted(st.latencies) or [float("nan")]
    busy_s = ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / si.TICK
    srv_s, sink_s = (srv1 - srv0) / si.TICK, sink1 - sink0
    e2e_ok = complete and st.accepted > 0
    return dict(
        server=server.name, run=run, sent=args.n, accepted=st.accepted, failed=st.failed,
        sink_count=counted, **chk, complete=complete and chk["delivered"] == st.accepted,
        inject_s=round(t_inj, 3), inject_mps=round(st.accepted / t_inj, 1),
        e2e_s=round(t_e2e, 3) if e2e_ok else None,
        e2e_mps=round(chk["delivered"] / t_e2e, 1) if e2e_ok else None,
        drain_s=round(t_e2e - t_inj, 3) if e2e_ok else None,
        partial_mps=round(chk["delivered"] / t_e2e, 1),  # what arrived / time waited, also when incomplete
        first_delivery_s=round(t_first, 3) if t_first is not None else None,
        delivered_at_inject_end=at_inject_end,
        p50_ms=round(1000 * lat[len(lat) // 2], 2), p99_ms=round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
        queue_left=left,
        peak_rss_mib=round(mem.peak_rss_kb / 1024, 1), peak_pss_mib=round(mem.peak_pss_kb / 1024, 1),
        cpu_busy_pct=round(si.busy_pct(cpu0, cpu1), 1), server_cpu_s=round(srv_s, 2), sink_cpu_s=round(sink_s, 2),
        loadgen_cpu_s=round(gen_cpu, 2),
        other_cpu_s=round(busy_s - srv_s - sink_s - gen_cpu - mem.cpu_s, 2), sampler_cpu_s=round(mem.cpu_s, 2),
        idle_before_pct=idle, errors=dict(st.errors.most_common(5)),
    )


# ---------------------------------------------------------------- report

COLUMNS = [("inject_mps", "injected msg/s"), ("e2e_mps", "e2e msg/s"), ("drain_s", "drain s"),
           ("first_delivery_s", "first at sink s"), ("p50_ms", "ack p50 ms"), ("p99_ms", "ack p99 ms"),
           ("peak_pss_mib", "peak PSS MiB"), ("cpu_busy_pct", "CPU busy %"), ("server_cpu_s", "server CPU s"),
           ("sink_cpu_s", "sink CPU s"), ("loadgen_cpu_s", "loadgen CPU s"), ("failed", "failed"),
           ("delivered", "delivered")]


def med(rows, key):
    vals = [r[key] for r in rows if r.get(key) is not None]
    return statistics.median(vals) if vals else None


def summary(results, names, runs):
    out = [f"median of {runs} run(s); e2e shown as median (min-max); e2e only from complete runs", "",
           "| server | " + " | ".join(h for _, h in COLUMNS) + " |", "|" + " --- |" * (len(COLUMNS) + 1)]
    for name in names:
        rows = [r for r in results if r["server"] == name]
        if not rows:
            continue
        cells = []
        for k, _ in COLUMNS:
            v = med(rows, k)
            vals = [r[k] for r in rows if r.get(k) is not None]
            if v is None or v != v:
                cells.append("-")
            elif k == "e2e_mps":
                cells.append(f"**{v:.0f}** ({min(vals):.0f}-{max(vals):.0f})")
            elif k in ("inject_mps", "failed", "delivered"):
                cells.append(f"{v:.0f}")
            else:
                cells.append(f"{v:g}")
        out.append(f"| {name} | " + " | ".join(cells) + " |")
    out.append("")
    m = [r for r in results if r["server"] == "mailroom"]
    p = [r for r in results if r["server"] == "postfix"]
    if m and p:
        me, pe = med(m, "e2e_mps"), med(p, "e2e_mps")
        if me and pe:
            out.append(f"ratio mailroom/postfix: e2e msg/s x{me / pe:.2f}, injected msg/s "
                       f"x{med(m, 'inject_mps') / max(1e-9, med(p, 'inject_mps')):.2f}, server CPU "
                       f"x{med(m, 'server_cpu_s') / max(1e-9, med(p, 'server_cpu_s')):.2f}")
        else:
            out.append("ratio mailroom/postfix: not available (a side has no complete run)")
    for r in results:
        problems = []
        if not r["complete"]:
            problems.append(f"incomplete: {r['delivered']} of {r['accepted']} accepted arrived "
                            f"({r['partial_mps']} msg/s while waiting), queue_left={r['queue_left']}")
        for k in ("duplicates", "wrong_rcpt", "foreign", "out_of_range"):
            if r[k]:
                problems.append(f"{k}={r[k]}")
        if r["failed"]:
            problems.append(f"{r['failed']} refused at injection")
        if problems:
            out.append(f"PROBLEM: {r['server']} run {r['run']}: " + "; ".join(problems))
    errs = collections.Counter()
    for r in results:
        for e, c in r["errors"].items():
            errs[f"{r['server']}: {e}"] += c
    for e, c in errs.most_common(10):
        out.append(f"error x{c}: {e}")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mailroom-bin", default="target/release/mailroom")
    p.add_argument("--servers", default="postfix,mailroom")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--procs", type=int, default=2, help="load generator processes")
    p.add_argument("--sink-port", type=int, default=2600)
    p.add_argument("--http-port", type=int, default=8099, help="mailroom's HTTP listener (cannot be off)")
    p.add_argument("--drain-timeout", type=float, default=600, help="max wait after injection, seconds")
    p.add_argument("--stall-s", type=float, default=120,
                   help="stop waiting when nothing new reaches the sink for this long (mailroom retries after 1 min)")
    p.add_argument("--out", default=f"{si.WORK}/results")
    p.add_argument("--repo-results", default=REPO_RESULTS, help="second copy of the JSONL ('' for none)")
    args = p.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    names = args.servers.split(",")
    make = {"postfix": lambda: Postfix(args.sink_port),
            "mailroom": lambda: Mailroom(args.mailroom_bin, args.sink_port, args.http_port)}
    servers = [make[s]() for s in names]
    sink = Sink(args.sink_port, "/dev/shm/mailroom-queue-bench")
    stamp = time.strftime('%Y%m%d-%H%M%S')
    outs = [f"{d}/queue_bench-{stamp}.jsonl" for d in (args.out, args.repo_results) if d]
    for d in (args.out, args.repo_results):
        if d:
            os.makedirs(d, exist_ok=True)
    results = []
    try:
        for s in servers:
            s.prepare()
        for r in range(args.runs):
            for s in (servers if r % 2 == 0 else servers[::-1]):  # ABBA against drift of the box
                res = one_run(s, sink, args, r + 1)
                results.append(res)
                print(json.dumps(res), flush=True)
                for o in outs:
                    with open(o, "a") as f:
                        f.write(json.dumps(res) + "\n")
    finally:
        # a second Ctrl-C or SIGTERM (bench/run-queue forwards one) must not cut the clean-up short
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        for s in [sink] + servers:
            try:
                s.stop()
            except Exception as e:
                print(f"stopping {getattr(s, 'name', 'sink')}: {e}", file=sys.stderr)
        for s in servers:
            try:
                s.finish()
            except Exception as e:
                print(f"restoring {s.name}: {e}", file=sys.stderr)
    print()
    print(f"Queue throughput to smtp-sink, {args.n} msgs of ~{args.size} B, {args.sessions} sessions (reused), "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; raw: {' '.join(outs)}")
    print(summary(results, names, args.runs))


if __name__ == "__main__":
    main()
