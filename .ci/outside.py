"""Run notebooks as a reader would outside the repository, and check that their stored outputs are what the code prints now.

Each notebook is copied alone into an empty temporary folder (beside it only settings.ini, so that show_doc renders as in
the repository) and executed there with the installed package (cells flagged
`slow`, `gpu` or `eval: false` skipped, as `nbdev_test` does). The same execution then compares, cell by cell, the text a
reader sees in the stored notebook (stdout, and each result's Markdown, HTML text or plain text; a figure counts as
`<figure>`) with the text the cell printed now. Stderr (progress bars, warnings) is not compared; memory addresses,
temporary paths, measured times (`3.5s`, `25 ms`) and show_doc's Quarto link attributes are normalised. A cell whose output legitimately varies from run to run (timings,
throughput) carries nbval's marker `# NBVAL_IGNORE_OUTPUT` and is not compared. CI runs this at one thread per process:
stored outputs are made that way too (`--update`).

Usage: python .ci/outside.py [--update] NOTEBOOK ...    (--update: store the current outputs of the cells that differ)
       python .ci/outside.py --self-test                 (a planted stale output must fail, an ignored one must pass)"""
import os, re, sys, json, shutil, tempfile, time, difflib
from pathlib import Path
from execnb.nbio import read_nb, write_nb
from execnb.shell import CaptureShell

IGNORE = '# NBVAL_IGNORE_OUTPUT'
SUBS = [(re.compile(r'0x[0-9a-fA-F]{6,}'), '0x…'),
        (re.compile(r'/tmp/[^\s\'")\]]*'), '<tmp>'),
        (re.compile(r'(\[source\]\([^)]*\))\{target="_blank"[^}]*\}'), r'\1'),
        (re.compile(r'(?<![\w.])\d+(\.\d+)?\s?(s|ms|µs|min)\b'), '<time>'),      # a measured time: 3.5s, 25 ms
        (re.compile(r"('wall_time_s'|'train_s'): [\d.e+-]+"), r'\1: <time>'),
        (re.compile(r'\s+at 0x…>'), '>'),                                      # an object's repr
        (re.compile(r'[ \t]+$', re.M), '')]
TAGS, STYLE = re.compile(r'<[^>]+>'), re.compile(r'<style.*?</style>', re.S)

def _flags(cell): return {l.strip().replace(' ', '') for l in cell.source.splitlines() if l.startswith('#|')}
def _skip(cell): return cell.cell_type == 'code' and bool(_flags(cell) & {'#|slow', '#|gpu', '#|eval:false'})
def _join(t): return ''.join(t) if isinstance(t, list) else (t or '')

def seen(outputs):
    "The text a reader sees in a cell's outputs, normalised: one string per output, stderr left out."
    res = []
    for o in outputs or []:
        if o.get('output_type') == 'stream':
            if o.get('name') == 'stdout': res.append(_join(o.get('text')))
            continue
        if o.get('output_type') == 'error': res.append(f"error: {o.get('ename')}: {o.get('evalue')}"); continue
        d = o.get('data', {})
        if 'text/markdown' in d: res.append(_join(d['text/markdown']))
        elif 'image/png' in d or 'image/svg+xml' in d: res.append('<figure>')
        elif 'text/html' in d: res.append(' '.join(TAGS.sub(' ', STYLE.sub('', _join(d['text/html']))).split()))  # a table's text
        elif 'text/plain' in d: res.append(_join(d['text/plain']))
    text = ''.join(res)  # consecutive prints may be split into several stream outputs
    for rx, rep in SUBS: text = rx.sub(rep, text)
    return text.strip()

def compare(stored, ran):
    """Per code cell run now: `(differs, stale)` lists. `differs`: (cell number, diff) of the cells the check compares whose
    seen text changed; `stale`: every cell whose seen text or stderr changed (what `--update` stores)."""
    differs, stale = [], []
    for i, (a, b) in enumerate(zip(stored.cells, ran.cells)):
        if a.cell_type != 'code' or _skip(a): continue
        sa, sb = seen(a.get('outputs')), seen(b.get('outputs'))
        if sa != sb or _stderr(a) != _stderr(b): stale.append(i)
        if sa != sb and IGNORE not in a.source:
            diff = difflib.unified_diff(sa.splitlines(), sb.splitlines(), 'stored', 'now', n=0, lineterm='')
            differs.append((i, '\n'.join(list(diff)[2:30])))
    return differs, stale

def _stderr(cell): return ''.join(_join(o.get('text')) for o in cell.get('outputs') or [] if o.get('name') == 'stderr')

def run(p, update=False):
    "Execute notebook `p` alone in an empty folder; return the cells whose stored output differs (after storing them if `update`)."
    with tempfile.TemporaryDirectory() as d:
        # nbdev's settings.ini beside it (no library, no data): show_doc renders as in the repository, its source links included
        if (p.resolve().parent.parent / 'settings.ini').exists(): shutil.copy2(p.resolve().parent.parent / 'settings.ini', d)
        (Path(d) / 'nbs').mkdir(); dst = Path(d) / 'nbs' / p.name; shutil.copy2(p, dst)
        cwd = os.getcwd(); os.chdir(dst.parent)
        try:
            nb = read_nb(dst)
            for c in nb.cells:                      # a cell that prints nothing now must not keep what it printed before
                if c.cell_type == 'code': c['outputs'] = []
            CaptureShell().run_all(nb, exc_stop=True, preproc=_skip)
        finally: os.chdir(cwd)
    stored = read_nb(p); bad, stale = compare(stored, nb)
    if update and stale:     # also the cells the check leaves alone (ignored ones, stderr): a reader sees this run's outputs
        for i in stale: stored.cells[i]['outputs'] = nb.cells[i].get('outputs', [])
        write_nb(stored, p)
    return bad

def main(paths, update=False):
    failed, stale = [], []
    for p in map(Path, paths):
        t0 = time.time()
        try: bad = run(p, update)
        except Exception as e:
            failed.append(p.name); print(f'{p.name}: FAILED outside the repository: {type(e).__name__}: {e}', flush=True); continue
        print(f'{p.name}: ran in an empty folder in {time.time() - t0:.0f}s; '
              + (f'{len(bad)} cell(s) print other than stored' + (' (stored now)' if update else '') if bad else 'outputs as stored'), flush=True)
        for i, diff in bad: print(f'  cell {i}:\n    ' + diff.replace('\n', '\n    '), flush=True)
        if bad and not update: stale.append(p.name)
    if stale: print('stale stored outputs in: ' + ', '.join(stale) + '; rerun them with `python .ci/outside.py --update NB`, '
                    f'at OMP_NUM_THREADS=1, then nbdev_clean (or mark a cell whose output varies with `{IGNORE}`)')
    sys.exit(1 if failed or stale else 0)

def self_test():
    "A planted stale output must be found, an ignored or normalised one must not; exits non-zero otherwise."
    from execnb.nbio import new_nb, mk_cell
    def cell(src, out): c = mk_cell(src); c['outputs'] = [{'output_type': 'stream', 'name': 'stdout', 'text': out}]; return c
    with tempfile.TemporaryDirectory() as d:
        p = Path(d) / 'planted.ipynb'
        write_nb(new_nb([cell('print(1 + 1)', '2\n'),                        # as stored: passes
                         cell('print(2 + 2)', '5\n'),                        # stale: must be found
                         cell(f'{IGNORE}\nprint(3 + 3)', '7\n'),             # ignored: passes
                         cell('print(object())', '<object object at 0x7f0000001234>\n'),  # address: normalised
                         cell('x = 1', 'an old printout\n')]), p)                  # prints nothing now: stale
        bad = run(p)
    found = [i for i, _ in bad]
    if found != [1, 4]: sys.exit(f'output check self-test FAILED: expected cells 1 and 4 to differ, found {found}')
    print('output check self-test: the planted stale outputs are found (one changed, one gone), the ignored and the normalised ones pass')

if __name__ == '__main__':
    args = sys.argv[1:]
    if '--self-test' in args: self_test()
    else: main([a for a in args if a != '--update'], update='--update' in args)
