#!/usr/bin/env python3
"""Lists the C files over 800 lines and the functions over 100 lines.

A function may be longer when the comment right above it gives the reason, in a
sentence starting "Long:" (e.g. "Long: one transaction, read top to bottom").
Usage: scripts/sizes.py [--check] [DIR...]   (default: src and mod_sslorders.c)
--check: exit 1 when a file or an unexplained function is over its limit.
"""
import glob
import os
import re
import sys

MAX_FILE = 800
MAX_FUNC = 100
# a function starts at column 0 with its signature and its body's "{" at column 0
SIG = re.compile(r'^[A-Za-z_][\w \t\*]*?\b(\w+)\s*\([^;{]*\)\s*$')


def functions(lines):
    """(name, first line, number of lines, has a Long: reason) for each function."""
    out = []
    i = 0
    while i < len(lines):
        if lines[i].rstrip() == '{':
            # the signature: back to the line where it starts (no ';', '}' or blank above)
            j = i - 1
            while j > 0 and lines[j - 1].strip() and not re.match(r'^(\}|#|/\*| \*|.*;\s*$)', lines[j - 1]):
                j -= 1
            m = SIG.match(' '.join(l.strip() for l in lines[j:i]))
            end = i + 1
            while end < len(lines) and lines[end].rstrip() != '}':
                end += 1
            if m and not lines[j].startswith(('struct', 'typedef', 'static const', 'const')):
                above = []
                k = j - 1
                while k >= 0 and lines[k].strip().startswith(('/*', '*', '*/')) :
                    above.append(lines[k])
                    k -= 1
                out.append((m.group(1), j + 1, end - j + 1, 'Long:' in ' '.join(above)))
            i = end
        i += 1
    return out


def main(argv):
    check = '--check' in argv
    roots = [a for a in argv if a != '--check'] or ['src', 'mod_sslorders.c']
    files = []
    for r in roots:
        files += [r] if os.path.isfile(r) else glob.glob(os.path.join(r, '**', '*.c'), recursive=True)
    bad = 0
    big_files, long_funcs = [], []
    for path in sorted(files):
        with open(path, encoding='utf-8') as f:
            lines = f.read().split('\n')
        if len(lines) > MAX_FILE:
            big_files.append('%6d  %s' % (len(lines), path))
            bad += 1
        for name, first, n, reason in functions(lines):
            if n > MAX_FUNC:
                long_funcs.append('%6d  %s:%d %s%s' % (n, path, first, name, '  (Long: reason given)' if reason else ''))
                bad += 0 if reason else 1
    print('files over %d lines: %d' % (MAX_FILE, len(big_files)))
    print('\n'.join(big_files))
    print('functions over %d lines: %d (%d without a reason)' % (
        MAX_FUNC, len(long_funcs), sum(1 for l in long_funcs if 'Long:' not in l)))
    print('\n'.join(sorted(long_funcs, reverse=True)))
    return 1 if check and bad else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
