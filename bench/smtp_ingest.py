#!/usr/bin/env python3
"""SMTP ingest benchmark: mailroom against the Postfix + Dovecot anchor, same load, same run.

Each run starts one server from a clean state, drives it with the load generator below
(N messages of ~SIZE bytes over SESSIONS concurrent plain-SMTP sessions, recipients
rotated over u0..u99@example.test), waits until every accepted message is in a mailbox,
and stops the server again. Servers alternate (ABBA order) so slow drift of the machine
hits both alike. Standard library only; run as root (drops caches, controls the anchor).

Usage: smtp_ingest.py --mailroom-bin target/release/mailroom [--runs 3] [--modes newconn,reuse]
"""
import argparse, asyncio, collections, email.utils, json, multiprocessing, os, resource, shutil, signal, sqlite3
import statistics, subprocess, sys, threading, time

HOST = "127.0.0.1"
USERS = [f"u{i}@example.test" for i in range(100)]
PASSWORD = "Bench1Password99"
ANCHOR = os.environ.get("ANCHOR", "/work/shared/bench/anchor")
LAB = os.environ.setdefault("LAB", "/var/tmp/mailroom-anchor")
WORK = os.environ.get("BENCH_WORK", "/var/tmp/mailroom-bench")
IO_TIMEOUT = 60      # per message; a stuck server fails the message instead of hanging the run
RUN_TIMEOUT = 900    # whole load phase, and again for the wait until all are delivered
TICK = os.sysconf("SC_CLK_TCK")


# ---------------------------------------------------------------- load generator

class SmtpError(Exception):
    pass


class Stats:
    def __init__(self):
        self.accepted = 0
        self.failed = 0
        self.latencies = []  # end of DATA sent -> 250 received, seconds
        self.errors = collections.Counter()


class Session:
    """One plain SMTP client connection: no PIPELINING, one command, one reply."""

    def __init__(self, reader, writer):
        self.r, self.w = reader, writer

    @classmethod
    async def open(cls, port):
        r, w = await asyncio.open_connection(HOST, port)
        s = cls(r, w)
        try:
            await s.expect(220, "banner")
            await s.cmd(b"EHLO client.bench.test\r\n", 250)
        except BaseException:
            s.close()
            raise
        return s

    async def reply(self):
        lines = []
        while True:
            line = await self.r.readline()
            if not line:
                raise SmtpError("connection closed by server" + (f" after {lines[-1]!r}" if lines else ""))
            lines.append(line.decode(errors="replace").rstrip())
            if line[3:4] != b"-":
                return int(lines[0][:3]), " / ".join(lines)

    async def expect(self, code, what):
        got, text = await self.reply()
        if got != code:
            raise SmtpError(f"{what}: {text}")

    async def cmd(self, line, code):
        self.w.write(line)
        await self.expect(code, line.split(b" ")[0].split(b":")[0].decode().strip())

    async def send(self, seq, msg, st):
        rcpt = USERS[seq % len(USERS)]
        await self.cmd(b"MAIL FROM:<sender@bench.test>\r\n", 250)
        await self.cmd(f"RCPT TO:<{rcpt}>\r\n".encode(), 250)
        await self.cmd(b"DATA\r\n", 354)
        self.w.write(msg.head(seq, rcpt))
        self.w.write(msg.body)  # ends with ".\r\n"; loopback socket buffers take it whole
        t = time.perf_counter()
        await self.w.drain()
        code, text = await self.reply()
        if code != 250:
            raise SmtpError(f"end of DATA: {text}")
        st.latencies.append(time.perf_counter() - t)
        st.accepted += 1

    async def quit(self):
        try:
            await self.cmd(b"QUIT\r\n", 221)
        finally:
            self.close()

    def close(self):
        self.w.close()


class Message:
    """~size bytes: a few headers that differ per message and a fixed body of 80-byte lines."""

    def __init__(self, size, run_id):
        self.run_id, self.date = run_id, email.utils.formatdate()
        line = b"benchmark " * 7 + b"12345678\r\n"  # 80 bytes, never starts with '.', so no dot-stuffing
        self.body = line * max(1, (size - 250) // len(line)) + b".\r\n"

    def head(self, seq, rcpt):
        return (f"From: Bench <sender@bench.test>\r\nTo: <{rcpt}>\r\nSubject: bench {seq}\r\n"
                f"Date: {self.date}\r\nMessage-ID: <{seq}.{self.run_id}@bench.test>\r\n\r\n").encode()


async def worker(port, jobs, msg, reuse, st):
    s = None
    for seq in jobs:  # shared iterator: each message number goes to exactly one session
        try:
            # one timer per message, not per reply: asyncio.wait_for per reply costs a Task
            # each and would make the generator's share of the 2 cores bigger
            async with asyncio.timeout(IO_TIMEOUT):
                if s is None:
                    s = await Session.open(port)
                await s.send(seq, msg, st)
                if not reuse:
                    await s.quit()
                    s = None
        except (SmtpError, OSError, asyncio.TimeoutError, ValueError) as e:
            # counted, not retried: the run stays bounded and the report shows the reply
            st.failed += 1
            st.errors[f"{type(e).__name__}: {e}" if not isinstance(e, SmtpError) else str(e)] += 1
            if s is not None:
                s.close()
                s = None
    if s is not None:
        try:
            async with asyncio.timeout(IO_TIMEOUT):
                await s.quit()
        except (SmtpError, OSError, asyncio.TimeoutError) as e:
            st.errors[f"QUIT: {e}"] += 1


async def load(port, seqs, sessions, size, reuse, st):
    msg = Message(size, f"{os.getpid()}.{time.time_ns()}")
    jobs = iter(seqs)
    await asyncio.wait_for(asyncio.gather(*(worker(port, jobs, msg, reuse, st) for _ in range(sessions))),
                           RUN_TIMEOUT)


def load_process(port, seqs, sessions, size, reuse, go, out):
    out.send("ready")
    go.wait(120)
    st, c0 = Stats(), os.times()
    try:
        asyncio.run(load(port, seqs, sessions, size, reuse, st))
    except asyncio.TimeoutError:
        st.errors[f"load phase exceeded {RUN_TIMEOUT}s"] += 1
    c1 = os.times()
    out.send((st.accepted, st.failed, st.latencies, st.errors, c1.user + c1.system - c0.user - c0.system))


class PythonLoad:
    """The generator above in `procs` processes: Python runs on one core per process, so one
    process would cap the load at one core while the server has CPU to spare. Sessions and
    message numbers are split between them. The processes are forked and ready before the
    clock starts (and before the memory sampler thread exists)."""

    def __init__(self, port, n, sessions, size, reuse, procs):
        self.go, self.children = multiprocessing.Event(), []
        for k in range(procs):
            r, w = multiprocessing.Pipe(duplex=False)
            share = sessions // procs + (k < sessions % procs)
            p = multiprocessing.Process(target=load_process, daemon=True,  # die with us on abort
                                        args=(port, range(k, n, procs), share, size, reuse, self.go, w))
            p.start()
            self.children.append((p, r))
        for p, r in self.children:
            if r.poll(60):
                r.recv()

    def run(self):
        self.go.set()
        st, cpu = Stats(), 0.0
        for p, r in self.children:
            try:
                if not r.poll(RUN_TIMEOUT + 30):
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


class SmtpSourceLoad:
    """The anchor's own method (Postfix's C load generator) as a calibration row: it only
    works against the anchor, whose virtual_rotate.regexp maps smtp-source's numbered
    recipients <seq>x@example.test onto u0..u99. No per-message latency from it."""

    def __init__(self, port, n, sessions, size, reuse, procs=None):
        self.n = n
        self.cmd = ["smtp-source", "-s", str(sessions), "-m", str(n), "-l", str(size), "-N",
                    "-f", "sender@bench.test", "-t", "x@example.test", "-M", "bench.test"] + \
                   (["-d"] if reuse else []) + [f"{HOST}:{port}"]

    def run(self):
        st, r0 = Stats(), resource.getrusage(resource.RUSAGE_CHILDREN)
        try:
            p = subprocess.run(self.cmd, timeout=RUN_TIMEOUT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                               text=True)
            if p.returncode == 0:
                st.accepted = self.n
            else:
                st.failed = self.n
                st.errors[f"smtp-source rc={p.returncode}: {p.stderr.strip()[-300:]}"] += 1
        except subprocess.TimeoutExpired:
            st.failed = self.n
            st.errors[f"smtp-source exceeded {RUN_TIMEOUT}s"] += 1
        r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        return st, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime


# ---------------------------------------------------------------- /proc sampling

def read(path):
    try:
        with open(path) as f:
            return f.read()
    except OSError:  # the process went away between listing and reading
        return ""


def field_kb(text, key):
    for line in text.splitlines():
        if line.startswith(key):
            return int(line.split()[1])
    return 0


def proc_cpu_ticks(pid):
    """utime+stime of the process plus cutime+cstime of its reaped children (Postfix and
    Dovecot masters reap short-lived smtpd/lmtp workers, whose CPU would otherwise vanish)."""
    stat = read(f"/proc/{pid}/stat")
    if not stat:
        return 0
    f = stat.rsplit(")", 1)[1].split()
    return sum(int(x) for x in f[11:15])


def descendants(roots):
    out, todo = [], list(roots)
    while todo:
        pid = todo.pop()
        out.append(pid)
        try:
            tasks = os.listdir(f"/proc/{pid}/task")
        except OSError:  # exited meanwhile
            continue
        for task in tasks:
            todo += [int(c) for c in read(f"/proc/{pid}/task/{task}/children").split()]
    return out


def system_cpu():
    v = list(map(int, open("/proc/stat").readline().split()[1:]))
    return sum(v), v[3] + v[4]  # total, idle+iowait


def busy_pct(a, b):
    return 100.0 * (1 - (b[1] - a[1]) / max(1, b[0] - a[0]))


class MemorySampler(threading.Thread):
    """Peak of the summed VmRSS (what the brief asks for) and of the summed Pss (RSS with
    shared pages divided among sharers: the fair figure for a many-process server)."""

    def __init__(self, pids, period=1.0, pss_every=4):
        # reading smaps_rollup of the anchor's ~100 processes costs ~30 ms CPU (VmRSS ~7 ms):
        # at 4 Hz that took ~12 % of a core away from the anchor, so RSS once a second and
        # PSS every 4 s (the anchor's process set is stable once the load is running)
        super().__init__(daemon=True)
        self.pids, self.period, self.pss_every, self.n = pids, period, pss_every, 0
        self.stop_evt = threading.Event()
        self.peak_rss_kb = self.peak_pss_kb = 0
        self.cpu_s = 0.0  # this thread's own CPU, reported so it is not mistaken for server work

    def sample(self, pss=False):
        pids = self.pids()
        rss = sum(field_kb(read(f"/proc/{p}/status"), "VmRSS:") for p in pids)
        self.peak_rss_kb = max(self.peak_rss_kb, rss)
        if pss or self.n % self.pss_every == 0:
            pss = sum(field_kb(read(f"/proc/{p}/smaps_rollup"), "Pss:") for p in pids)
            self.peak_pss_kb = max(self.peak_pss_kb, pss)
        self.n += 1

    def run(self):
        self.sample()
        while not self.stop_evt.wait(self.period):
            self.sample()
        self.cpu_s = time.thread_time()

    def finish(self):
        self.stop_evt.set()
        self.join()
        self.sample(pss=True)  # end of the load: the most processes / the biggest store


# ---------------------------------------------------------------- servers

def sh(cmd, timeout=120):
    subprocess.run(cmd, shell=True, timeout=timeout, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def drop_caches():
    sh("sync; echo 3 > /proc/sys/vm/drop_caches")


def wait_banner(port, deadline_s=60):
    """Ready = a fresh connection gets a 220 greeting (Postfix spawns smtpd on demand)."""
    async def probe():
        async with asyncio.timeout(IO_TIMEOUT):
            s = await Session.open(port)
            await s.quit()
    end = time.monotonic() + deadline_s
    while True:
        try:
            return asyncio.run(probe())
        except (SmtpError, OSError, asyncio.TimeoutError) as e:
            if time.monotonic() > end:
                raise RuntimeError(f"server on port {port} not ready: {e}")
            time.sleep(0.2)


class Anchor:
    """Postfix :2525 -> Dovecot LMTP -> maildir, controlled through the shared anchor.sh."""
    name, port = "anchor", 2525
    vmail = f"{LAB}/vmail/example.test"
    log = "/var/log/postfix.log"  # maillog_file in the anchor's main.cf

    def mark(self):
        self.log_pos, self.sent = (os.path.getsize(self.log) if os.path.exists(self.log) else 0), 0

    def progress(self):
        """Deliveries since mark(): Postfix logs status=sent once Dovecot LMTP answered 250,
        i.e. the message is in the maildir. Reading only the new log bytes is cheap; counting
        maildir files costs ~9 ms per poll at 5,000 files, CPU the anchor needs to deliver."""
        try:
            with open(self.log, "rb") as f:
                f.seek(self.log_pos)
                data = f.read()
        except OSError:
            return self.sent
        cut = data.rfind(b"\n") + 1  # whole lines only
        self.sent += data[:cut].count(b" status=sent ")
        self.log_pos += cut
        return self.sent

    def anchor_sh(self, what):
        sh(f"{ANCHOR}/anchor.sh {what}")

    def masters(self):
        pids = []
        for f in ("/var/spool/postfix/pid/master.pid", "/run/dovecot/master.pid"):
            try:
                pid = int(open(f).read().split()[0])
            except (OSError, ValueError, IndexError):
                continue
            if os.path.exists(f"/proc/{pid}"):
                pids.append(pid)
        return pids

    def stop(self):
        self.anchor_sh("stop")
        end = time.monotonic() + 30
        while self.masters() and time.monotonic() < end:
            time.sleep(0.2)
        if self.masters():
            raise RuntimeError(f"anchor still running: pids {self.masters()}")

    def start_clean(self):
        self.stop()
        sh("postsuper -d ALL")
        shutil.rmtree(self.vmail, ignore_errors=True)
        drop_caches()
        self.anchor_sh("start")
        wait_banner(self.port)

    def pids(self):
        return descendants(self.masters())

    def delivered(self):
        n = 0
        for u in USERS:
            for sub in ("new", "cur"):
                try:
                    with os.scandir(f"{self.vmail}/{u.split('@')[0]}/Maildir/{sub}") as it:
                        n += sum(1 for _ in it)
                except FileNotFoundError:
                    pass
        return n


class AnchorSmtpSource(Anchor):
    name, load = "anchor/smtp-source", SmtpSourceLoad


class Mailroom:
    name, port = "mailroom", 2526

    def __init__(self, binary):
        self.bin = os.path.abspath(binary)
        self.data, self.template = f"{WORK}/data", f"{WORK}/template"
        self.config, self.pidfile = f"{WORK}/mailroom.toml", f"{WORK}/mailroom.pid"
        self.log = f"{WORK}/mailroom.log"
        self.proc = None

    def cli(self, *args, stdin=None):
        subprocess.run([self.bin, "--config", self.config, *args], input=stdin, text=True, check=True,
                       timeout=120, stdout=subprocess.DEVNULL)

    def prepare(self):
        """Provision once into a template data dir (domain, u0..u99, first start done);
        every run starts from a copy of it, like the anchor starts from fresh maildirs."""
        os.makedirs(WORK, exist_ok=True)
        with open(self.config, "w") as f:
            f.write(f'hostname = "mail.bench.test"\ndata_dir = "{self.data}"\n[listen]\n'
                    f'smtp = ["{HOST}:{self.port}"]\nsubmission = []\nsubmissions = []\nimap = []\n'
                    f'imaps = []\npop3 = []\npop3s = []\nhttp = ["{HOST}:8099"]\n')
        shutil.rmtree(self.data, ignore_errors=True)
        shutil.rmtree(self.template, ignore_errors=True)
        open(self.log, "w").close()  # one log per benchmark invocation
        self.cli("domain", "add", "example.test")
        for u in USERS:
            self.cli("account", "add", u, "--password-stdin", stdin=PASSWORD + "\n")
        self.start()
        self.stop()
        os.rename(self.data, self.template)

    def start(self):
        os.makedirs(WORK, exist_ok=True)
        ready = f"{self.data}/listeners.json"
        if os.path.exists(ready):
            os.unlink(ready)
        self.proc = subprocess.Popen([self.bin, "--config", self.config, "serve"], stdin=subprocess.DEVNULL,
                                     stdout=open(self.log, "a"), stderr=subprocess.STDOUT)
        with open(self.pidfile, "w") as f:  # lets bench/run kill exactly this process if we die
            f.write(str(self.proc.pid))
        end = time.monotonic() + 60
        while not os.path.exists(ready):
            if self.proc.poll() is not None or time.monotonic() > end:
                raise RuntimeError(f"mailroom did not become ready (rc={self.proc.poll()}), see {self.log}")
            time.sleep(0.1)
        wait_banner(self.port)

    def stop(self):
        if self.proc is None:
            return
        self.proc.send_signal(signal.SIGTERM)  # graceful: finishes open sessions, exits 0
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
        drop_caches()
        self.start()

    def pids(self):
        return [self.proc.pid] if self.proc and self.proc.poll() is None else []

    def mark(self):
        self.base = self.delivered()

    def progress(self):
        return self.delivered() - self.base

    def delivered(self):
        db = sqlite3.connect(f"file:{self.data}/mailroom.db?mode=ro", uri=True, timeout=10)
        try:
            return db.execute("SELECT count(*) FROM messages").fetchone()[0]
        finally:
            db.close()


# ---------------------------------------------------------------- one run

def wait_quiet(limit_pct=15.0, max_wait=60):
    """Other work on the box (builds, tests) would be billed to whichever server runs;
    wait, bounded, for a quiet second and record how quiet it was."""
    end = time.monotonic() + max_wait
    while True:
        a = system_cpu()
        time.sleep(1)
        pct = busy_pct(a, system_cpu())
        if pct < limit_pct or time.monotonic() > end:
            return round(pct, 1)


def one_run(server, mode, args):
    server.start_clean()
    idle = wait_quiet()
    base = server.delivered()
    server.mark()
    gen = getattr(server, "load", PythonLoad)(server.port, args.n, args.sessions, args.size, mode == "reuse",
                                              args.procs)
    mem = MemorySampler(server.pids)
    mem.start()
    cpu0, srv0 = system_cpu(), sum(map(proc_cpu_ticks, server.pids()))
    t0 = time.perf_counter()
    st, gen_cpu = gen.run()
    t_acc = time.perf_counter() - t0
    # End-to-end: until every accepted message is in a mailbox (polled only now, so the
    # polling does not compete with the load; granularity 20 ms).
    while server.progress() < st.accepted and time.perf_counter() - t0 < t_acc + RUN_TIMEOUT:
        time.sleep(0.02)
    t_e2e = time.perf_counter() - t0
    cpu1, srv1 = system_cpu(), sum(map(proc_cpu_ticks, server.pids()))
    mem.finish()
    delivered = server.delivered() - base  # the real count in the mailboxes, checked once
    server.stop()
    lat = sorted(st.latencies) or [float("nan")]
    busy_s = ((cpu1[0] - cpu0[0]) - (cpu1[1] - cpu0[1])) / TICK
    return dict(
        server=server.name, mode=mode, sent=args.n, accepted=st.accepted, failed=st.failed,
        delivered=delivered, accept_s=round(t_acc, 3), e2e_s=round(t_e2e, 3),
        accept_mps=round(st.accepted / t_acc, 1), e2e_mps=round(delivered / t_e2e, 1),
        p50_ms=round(1000 * lat[len(lat) // 2], 2), p99_ms=round(1000 * lat[min(len(lat) - 1, int(len(lat) * 0.99))], 2),
        peak_rss_mib=round(mem.peak_rss_kb / 1024, 1), peak_pss_mib=round(mem.peak_pss_kb / 1024, 1),
        cpu_busy_pct=round(busy_pct(cpu0, cpu1), 1),
        server_cpu_s=round((srv1 - srv0) / TICK, 2),
        loadgen_cpu_s=round(gen_cpu, 2),
        # busy CPU that was neither server, generator nor sampler: softirq (loopback TCP, block
        # I/O completions), hypervisor steal, and anything else running on the box
        other_cpu_s=round(busy_s - (srv1 - srv0) / TICK - gen_cpu - mem.cpu_s, 2),
        sampler_cpu_s=round(mem.cpu_s, 2),
        idle_before_pct=idle, errors=dict(st.errors.most_common(5)),
    )


# ---------------------------------------------------------------- report

COLUMNS = [("accept_mps", "accepted msg/s"), ("e2e_mps", "e2e msg/s"), ("p50_ms", "ack p50 ms"),
           ("p99_ms", "ack p99 ms"), ("peak_rss_mib", "peak RSS MiB"), ("peak_pss_mib", "peak PSS MiB"),
           ("cpu_busy_pct", "CPU busy %"), ("server_cpu_s", "server CPU s"), ("loadgen_cpu_s", "loadgen CPU s"),
           ("other_cpu_s", "other CPU s"), ("failed", "failed")]


def med(rows, key):
    return statistics.median(r[key] for r in rows)


def summary(results, modes, runs):
    out = [f"median of {runs} run(s); e2e shown as median (min-max)", "",
           "| mode | server | " + " | ".join(h for _, h in COLUMNS) + " |",
           "|" + " --- |" * (len(COLUMNS) + 2)]
    for mode in modes:
        for name in ("anchor", "mailroom", "anchor/smtp-source"):
            rows = [r for r in results if r["mode"] == mode and r["server"] == name]
            if not rows:
                continue
            cells = []
            for k, _ in COLUMNS:
                v = med(rows, k)
                if k == "e2e_mps":
                    cells.append(f"**{v:.0f}** ({min(r[k] for r in rows):.0f}-{max(r[k] for r in rows):.0f})")
                elif v != v:  # NaN: no latencies from smtp-source
                    cells.append("-")
                else:
                    cells.append(f"{v:.0f}" if k in ("accept_mps", "failed") else f"{v:g}")
            out.append(f"| {mode} | {name} | " + " | ".join(cells) + " |")
    out.append("")
    for mode in modes:
        m = [r for r in results if r["mode"] == mode and r["server"] == "mailroom"]
        for name, what in (("anchor", "same generator"),
                           ("anchor/smtp-source", "anchor driven by smtp-source, mailroom by ours")):
            a = [r for r in results if r["mode"] == mode and r["server"] == name]
            if a and m and med(a, "e2e_mps") > 0:
                out.append(f"ratio mailroom/{name}, {mode} ({what}): "
                           f"e2e msg/s x{med(m, 'e2e_mps') / med(a, 'e2e_mps'):.2f}, "
                           f"accepted msg/s x{med(m, 'accept_mps') / max(1e-9, med(a, 'accept_mps')):.2f}, "
                           f"server CPU x{med(m, 'server_cpu_s') / max(1e-9, med(a, 'server_cpu_s')):.2f}")
    errs = collections.Counter()
    for r in results:
        for e, c in r["errors"].items():
            errs[f"{r['server']} {r['mode']}: {e}"] += c
    for e, c in errs.most_common(10):
        out.append(f"error x{c}: {e}")
    return "\n".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--mailroom-bin", default="target/release/mailroom")
    p.add_argument("--servers", default="anchor,mailroom,anchor-smtp-source",
                   help="anchor-smtp-source: the anchor driven by smtp-source, to compare with its published numbers")
    p.add_argument("--modes", default="newconn,reuse")
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("-n", type=int, default=5000)
    p.add_argument("--sessions", type=int, default=20)
    p.add_argument("--size", type=int, default=10240)
    p.add_argument("--procs", type=int, default=2, help="load generator processes")
    p.add_argument("--out", default=f"{WORK}/results")
    args = p.parse_args()
    # SIGTERM (e.g. from `timeout`) unwinds through the finally below, stopping the servers
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))

    servers = {"anchor": Anchor, "mailroom": lambda: Mailroom(args.mailroom_bin),
               "anchor-smtp-source": AnchorSmtpSource}
    servers = [servers[s]() for s in args.servers.split(",")]
    modes = args.modes.split(",")
    os.makedirs(args.out, exist_ok=True)
    out = f"{args.out}/smtp_ingest-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    results = []
    try:
        for s in servers:
            if isinstance(s, Mailroom):
                s.prepare()
            else:
                s.stop()
        for mode in modes:
            for r in range(args.runs):
                # ABBA: alternate who goes first so drift of the box does not favour one side
                for s in (servers if r % 2 == 0 else servers[::-1]):
                    res = one_run(s, mode, args)
                    res["run"] = r + 1
                    results.append(res)
                    print(json.dumps(res), flush=True)
                    with open(out, "a") as f:
                        f.write(json.dumps(res) + "\n")
    finally:
        for s in servers:
            try:
                s.stop()
            except Exception as e:  # keep stopping the others
                print(f"stopping {s.name}: {e}", file=sys.stderr)
    print()
    print(f"SMTP ingest, {args.n} msgs of ~{args.size} B, {args.sessions} sessions, "
          f"{os.cpu_count()} CPUs, {time.strftime('%Y-%m-%d')}; raw: {out}")
    print(summary(results, modes, args.runs))


if __name__ == "__main__":
    main()
