#!/usr/bin/env python3
"""Bad-input battery: mutated suites, env files and flag values against the real binary.

Usage: tests/battery/run.py BINARY [CASES] [SEED]

Each case runs in a fresh scratch folder with a 20 s bound. Reports panics (exit 101 or
"panicked" on stderr), aborts (killed by a signal), hangs (still running after 20 s) and the
peak memory (max RSS) of every case. Exits 1 if any case panicked, aborted, hung or used more
than 64 MiB.
"""
import os, random, resource, shutil, signal, subprocess, sys, tempfile, time

BIN = os.path.abspath(sys.argv[1])
CASES = int(sys.argv[2]) if len(sys.argv) > 2 else 2000
random.seed(int(sys.argv[3]) if len(sys.argv) > 3 else 7)
LIMIT_S = 20
LIMIT_KIB = 64 * 1024

VALID = [
    'name = "demo"\ntimeout = "5s"\n[env]\nA = "x"\nB = "${A}${A}"\n\n[[step]]\nname = "hi"\nsh = "echo hi"\nstdout.contains = "hi"\n',
    '[[step]]\nsection = "S"\nname = "files"\nsh = "echo x > f"\nfiles = [{ path = "f", contains = "x" }]\n',
    '[[step]]\nname = "retry"\nsh = "true"\nretry = { attempts = 2, interval = "10ms" }\nstatus = "success"\n',
    '[[step]]\nname = "run"\nrun = ["a", "${B:-${C:-d}}"]\nstatus = "any"\ntimeout = 1\n',
]
TOKENS = ['1e19', '9223372036854775807', '"500000000000y"', '"9223372036854775808s"', '-1', 'nan',
          '"${"', '"${A:-${B}}"', '{}', '[]', '42', '1979-05-27T07:32:00Z', '"\\u0000"',
          '"' + 'x' * 5000 + '"', '[[step]]', '"/dev/zero"', '"../../etc/passwd"', '\x00', '\xff']
ENV_VALID = 'A=1\nexport B="two ${A}"\nC=\'lit $A\'\n# c\nD=x # c\n'
ENV_TOKENS = ['"', "'", '${', '\\q', '\x00', '\ufeff', '=', '$A$A$A$A', 'PLANDEX_TIMEOUT=500000000000y',
              'PLANDEX_TIMEOUT=0', 'BASH_ENV=/nonexistent', '\n', ' ']
FLAG_VALUES = ['0', '1e19', '500000000000y', '-1', '', 'abc', '9' * 400, '1.5s', '\xff', '365 days', '366 days']


def mutate(text, tokens):
    chars = list(text)
    for _ in range(random.randint(1, 6)):
        op = random.random()
        pos = random.randint(0, len(chars))
        if op < 0.3 and chars:
            del chars[min(pos, len(chars) - 1)]
        elif op < 0.5:
            chars.insert(pos, chr(random.randint(0, 255)))
        elif op < 0.6 and chars:
            start = random.randint(0, len(chars) - 1)
            chars[pos:pos] = chars[start:start + random.randint(1, 40)]
        else:
            chars[pos:pos] = list(random.choice(tokens))
    return ''.join(chars)


def run_case(kind, n):
    scratch = tempfile.mkdtemp(prefix='battery-')
    try:
        os.makedirs(os.path.join(scratch, 'suites'))
        os.makedirs(os.path.join(scratch, 'fixtures'))
        os.makedirs(os.path.join(scratch, 'tmp'))
        args = [BIN, '--color', 'never', '--timeout', '5s', '--jobs', '2']
        env = {'PATH': os.environ['PATH'], 'TMPDIR': os.path.join(scratch, 'tmp'),
               'PLANDEX_ENV_FILE': '/dev/null', 'PLANDEX_CMD': 'echo'}
        suite = random.choice(VALID)
        if kind == 'suite':
            suite = mutate(suite, TOKENS)
        if kind == 'env':
            path = os.path.join(scratch, 'keys.env')
            with open(path, 'wb') as f:
                f.write(mutate(ENV_VALID, ENV_TOKENS).encode('utf-8', 'surrogateescape'))
            os.chmod(path, 0o600)
            env['PLANDEX_ENV_FILE'] = path
        with open(os.path.join(scratch, 'suites', 's.toml'), 'wb') as f:
            f.write(suite.encode('utf-8', 'surrogateescape'))
        if kind == 'flag':
            args = [BIN, '--color', 'never', '--jobs', '2']
            flag = random.choice(['--timeout', '--kill-after', 'PLANDEX_TIMEOUT', 'exec-timeout', '--jobs', '--format'])
            value = random.choice(FLAG_VALUES) if random.random() < 0.7 else mutate(random.choice(FLAG_VALUES), FLAG_VALUES)
            value = value.replace('\x00', '')
            if flag == 'PLANDEX_TIMEOUT':
                env['PLANDEX_TIMEOUT'] = value
            elif flag == 'exec-timeout':
                args = [BIN, 'exec', '--timeout', value, 'true']
            else:
                args += [flag, value]
        if kind != 'flag' and random.random() < 0.5:
            args.append('--list')
        started = time.monotonic()
        proc = subprocess.Popen(args, cwd=scratch, env=env, stdin=subprocess.DEVNULL,
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True)
        hung = False
        while True:
            pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
            if pid:
                break
            if time.monotonic() - started > LIMIT_S:
                hung = True
                os.killpg(proc.pid, signal.SIGKILL)
                pid, status, usage = os.wait4(proc.pid, 0)
                break
            time.sleep(0.01)
        err = proc.stderr.read().decode('utf-8', 'replace')
        code = os.waitstatus_to_exitcode(status)
        return {'kind': kind, 'code': code, 'hung': hung, 'rss_kib': usage.ru_maxrss,
                'panicked': code == 101 or 'panicked' in err, 'aborted': code < 0 and not hung,
                'stderr': err[:300], 'args': args[1:]}
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def main():
    kinds = ['suite'] * 50 + ['env'] * 25 + ['flag'] * 25
    results = [run_case(random.choice(kinds), n) for n in range(CASES)]
    bad = [r for r in results if r['panicked'] or r['aborted'] or r['hung'] or r['rss_kib'] > LIMIT_KIB]
    by_kind = {k: sum(1 for r in results if r['kind'] == k) for k in ('suite', 'env', 'flag')}
    codes = {}
    for r in results:
        codes[r['code']] = codes.get(r['code'], 0) + 1
    rss = sorted(r['rss_kib'] for r in results)
    print(f'cases: {len(results)} {by_kind}')
    print(f'exit codes: {dict(sorted(codes.items()))}')
    print(f"panics: {sum(r['panicked'] for r in results)}  aborts: {sum(r['aborted'] for r in results)}  "
          f"hangs: {sum(r['hung'] for r in results)}")
    print(f'peak RSS KiB: max {rss[-1]}  median {rss[len(rss) // 2]}  over 64 MiB: {sum(1 for x in rss if x > LIMIT_KIB)}')
    for r in bad[:20]:
        print('BAD', r)
    sys.exit(1 if bad else 0)


if __name__ == '__main__':
    main()
