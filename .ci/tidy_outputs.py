"""Remove Quarto's link attributes from the stored show_doc outputs of the notebooks.

nbdev's `show_doc` writes its source link as `[source](url){target="_blank" ...}`: Quarto reads the braces as link
attributes, Jupyter, Colab and GitHub print them as text. The site does not need the stored outputs (nbdev's docs
processing runs the show_doc cells again), so the notebooks keep the link without its braces.
`--check` writes nothing and fails if a notebook still has them (run this script after executing a notebook)."""
import json, pathlib, re, sys

ATTR = re.compile(r'(\[source\]\([^)]*\))\{target="_blank"[^}]*\}')
root = pathlib.Path(__file__).resolve().parent.parent
check, bad = '--check' in sys.argv[1:], []
for path in sorted((root / 'nbs').glob('*.ipynb')):
    nb, n = json.loads(path.read_text()), 0
    for cell in nb['cells']:
        for out in cell.get('outputs', []):
            md = out.get('data', {}).get('text/markdown')
            if md is None: continue
            text = ''.join(md) if isinstance(md, list) else md
            new, k = ATTR.subn(r'\1', text)
            if k:
                n += k
                out['data']['text/markdown'] = new.splitlines(keepends=True) if isinstance(md, list) else new
    if n and check: bad.append(f'{path.relative_to(root)} ({n})')
    elif n: path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + '\n'); print(f'{path.name}: {n} link(s) tidied')
if bad: sys.exit('show_doc outputs with Quarto link attributes, shown as text in Jupyter: ' + ', '.join(bad)
                 + '; run `python .ci/tidy_outputs.py`')
