"""Numbers in prose must come from somewhere: fail when a number typed in a notebook's Markdown (or the README) matches no
stored result.

A number is a decimal with at least two digits after the point (0.881, 1.75), or any decimal next to `±`. It passes when
the same number is found, written the same way, in:
- the outputs of the same notebook (what its cells printed, tables and Markdown they displayed);
- the source of its code cells and of the library (settings, constants and defaults are numbers the code states);
- the paper (`../shared/paper/*.txt`: numbers the prose quotes from it);
- a results file that the notebook's code reads (`*.jsonl`, `*.json`, `*.md` named in a code cell), its numbers rounded
  to the digits the prose shows.
The README (made from `index.ipynb`) is checked against the index's sources and every results file under `nbs/` and `cram/results/`.
Numbers inside `$…$`, code spans and links' addresses are not prose; section, equation and figure numbers are skipped.

Usage: python .ci/prose_numbers.py [--self-test-only]
"""
import json, re, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NUM = re.compile(r'(?<![\w.])\d+\.\d+(?![\w.]*\d)')
REF = re.compile(r'(Sec\.|Section|App\.|Appendix|Eq\.|Eqs\.|Fig\.|Figs\.|Figures?|Table|Tables|Theorem|Lemma|Prop\.|'
                 r'Proposition|Corollary|Definition|arXiv:?|v|version|==|>=|<=|~=|torch|Python|nbdev|release)\s*\(?$', re.I)


def prose(md):
    "The Markdown without formulas, code and link addresses."
    md = re.sub(r'```.*?```', ' ', md, flags=re.S)
    md = re.sub(r'\$\$.*?\$\$', ' ', md, flags=re.S)
    md = re.sub(r'\$[^$\n]+\$', ' ', md)
    md = re.sub(r'`[^`\n]*`', ' ', md)
    md = re.sub(r'\]\([^)\s]*\)', '] ', md)
    md = re.sub(r'<[^>]+>', ' ', md)
    return md


def typed_numbers(md):
    "The numbers a reader sees in `md` that claim something: (number, context)."
    text, out = prose(md), []
    for m in NUM.finditer(text):
        tok, before, after = m[0], text[max(0, m.start() - 24):m.start()], text[m.end():m.end() + 3]
        if REF.search(before.rstrip()): continue                                   # Sec. 4.4, Eq. 7, v2.4.14
        if re.search(r'[≤≥<>=]\s*$', before): continue                              # a threshold or a goal, not a result
        if re.search(r'[–-]\s*$', before) and REF.search(re.sub(r'[\d.\s–-]+$', '', before).rstrip()): continue  # 4.1–4.5
        decimals = len(tok.split('.')[1])
        if decimals < 2 and '±' not in before[-4:] + after: continue
        out.append((tok, text[max(0, m.start() - 40):m.end() + 20].replace('\n', ' ')))
    return out


def found_numbers(text):
    "Every number written in `text`, as written (code's `.25` is 0.25)."
    return {('0' + n if n.startswith('.') else n) for n in re.findall(r'(?<![\w.])\d*\.\d+', text)}


def json_numbers(path):
    "Every float in a results file (JSON lines or JSON)."
    vals, txt = [], Path(path).read_text(encoding='utf-8', errors='replace')
    def walk(o):
        if isinstance(o, bool): return
        if isinstance(o, (int, float)): vals.append(float(o))
        elif isinstance(o, dict): [walk(v) for v in o.values()]
        elif isinstance(o, list): [walk(v) for v in o]
    for line in (txt.splitlines() if path.suffix == '.jsonl' else [txt]):
        try: walk(json.loads(line))
        except ValueError: pass
    return vals


def outputs_text(cell):
    parts = []
    for o in cell.get('outputs', []):
        parts.append(''.join(o.get('text', '')))
        for k, v in o.get('data', {}).items():
            if k.startswith('text/'): parts.append(''.join(v))
    return '\n'.join(parts)


def sources_of(nb, nbdir, library, paper):
    "(numbers written somewhere, results files read) for one notebook."
    code = '\n'.join(''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'code')
    outs = '\n'.join(outputs_text(c) for c in nb['cells'] if c['cell_type'] == 'code')
    files = []
    for name in set(re.findall(r"[\w./-]+\.(?:jsonl|json|md)\b", code)):
        for cand in (nbdir / name, ROOT / name, ROOT / 'cram' / 'results' / name):   # stored_results('findings/…') reads cram/results/
            if cand.is_file(): files.append(cand)
    return found_numbers(code) | found_numbers(outs) | library | paper, files


def matches(tok, written, floats):
    if tok in written: return True
    d = len(tok.split('.')[1]); v = float(tok)
    return any(abs(round(f, d) - v) < 1e-9 for f in floats)


def check_notebook(path, library, paper, extra_files=()):
    nb = json.loads(Path(path).read_text(encoding='utf-8'))
    written, files = sources_of(nb, Path(path).parent, library, paper)
    floats = [f for p in list(files) + list(extra_files) for f in (json_numbers(p) if p.suffix in ('.json', '.jsonl') else [])]
    written = written | {t for p in list(files) + list(extra_files) if p.suffix == '.md' for t in found_numbers(p.read_text())}
    bad = []
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        for tok, ctx in typed_numbers(''.join(c['source'])):
            if not matches(tok, written, floats): bad.append(f'{Path(path).name}: {tok} matches no stored result: …{ctx}…')
    return bad


def self_test():
    "A number printed by a cell passes; a number no cell printed fails; a rounded number from a file the code reads passes."
    with tempfile.TemporaryDirectory() as d:
        d = Path(d); (d / 'res.jsonl').write_text(json.dumps({'acc': 0.81234}) + '\n')
        nb = {'cells': [{'cell_type': 'code', 'source': "rows = load('res.jsonl')", 'outputs': [{'output_type': 'stream', 'text': 'acc 0.776 ± 0.012\n'}]},
                        {'cell_type': 'markdown', 'source': 'Printed: 0.776 ± 0.012. Read: 0.812. Sec. 4.4. Stale: 0.69 ± 0.07.'}]}
        (d / 'a.ipynb').write_text(json.dumps(nb))
        bad = check_notebook(d / 'a.ipynb', set(), set())
    ok = [b.split(': ')[1].split()[0] for b in bad] == ['0.69', '0.07']
    print('self-test of the number check: ' + ('ok' if ok else f'MISSED ({bad})'))
    return ok


def main():
    if not self_test(): sys.exit('the number check missed a planted stale number or flagged a stored one')
    if '--self-test-only' in sys.argv: return
    library = set().union(*(found_numbers(p.read_text()) for p in (ROOT / 'cram').glob('*.py')))
    paper = set().union(set(), *(found_numbers(p.read_text(errors='replace')) for p in (ROOT.parent / 'shared' / 'paper').glob('*.txt')))
    bad, n = [], 0
    for p in sorted((ROOT / 'nbs').glob('*.ipynb')):
        bad += check_notebook(p, library, paper); n += 1
    results = [p for d in ('nbs', 'cram/results') for p in (ROOT / d).rglob('*') if p.suffix in ('.jsonl', '.json', '.md') and '_proc' not in p.parts]
    readme = {'cells': [{'cell_type': 'markdown', 'source': (ROOT / 'README.md').read_text()}]}
    with tempfile.TemporaryDirectory() as d:
        idx = json.loads((ROOT / 'nbs' / 'index.ipynb').read_text())
        idx['cells'] = [c for c in idx['cells'] if c['cell_type'] == 'code'] + readme['cells']
        (Path(d) / 'README.ipynb').write_text(json.dumps(idx))
        bad += [b.replace('README.ipynb', 'README.md') for b in check_notebook(Path(d) / 'README.ipynb', library, paper, results)]
    for b in bad: print('FAIL', b)
    print(f'numbers in prose: {n} notebooks and the README checked, {len(bad)} number(s) without a stored source')
    sys.exit(1 if bad else 0)


if __name__ == '__main__': main()
