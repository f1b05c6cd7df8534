"""Write README.md (and the images it shows) from nbs/index.ipynb, as `nbdev_readme` would without Quarto.

Markdown cells are copied; code cells are shown as Python blocks with their text and PNG outputs; cells marked
`#| hide` are left out and other `#|` directives are stripped. PNG outputs go to nbs/images/index_<cell>.png.
`--check` writes nothing and fails if README.md or those images differ from what the notebook gives."""
import base64, json, pathlib, re, sys

root = pathlib.Path(__file__).resolve().parent.parent
nb = json.loads((root / 'nbs' / 'index.ipynb').read_text())
parts, images = [], {}
for k, cell in enumerate(nb['cells']):
    src = ''.join(cell['source'])
    lines = src.splitlines()
    directives = [l.replace(' ', '') for l in lines if l.startswith('#|')]
    if '#|hide' in directives: continue
    if cell['cell_type'] == 'markdown':
        md = src.strip().replace('](images/', '](nbs/images/')                      # README sits above nbs/
        parts.append(re.sub(r'\]\((?![a-z]+:)([\w.-]+\.ipynb)', r'](nbs/\1', md)); continue
    code = '\n'.join(l for l in lines if not l.startswith('#|')).strip()
    if code and '#|echo:false' not in directives: parts.append(f'```python\n{code}\n```')
    for out in cell.get('outputs', []):
        data = out.get('data', {})
        if 'image/png' in data:
            name = f'images/index_{k}.png'
            images[name] = base64.b64decode(''.join(data['image/png']))
            parts.append(f'![](nbs/{name})')
        elif 'text/markdown' in data:                                            # e.g. a table made by code
            parts.append(''.join(data['text/markdown']).strip().replace('](images/', '](nbs/images/'))
        elif out.get('output_type') == 'stream' or 'text/plain' in data:
            text = ''.join(out.get('text', data.get('text/plain', ''))).rstrip()
            if text: parts.append(f'```\n{text}\n```')
readme = '<!-- Generated from nbs/index.ipynb by .ci/make_readme.py: edit the notebook, not this file. -->\n\n' + '\n\n'.join(parts) + '\n'

if '--check' in sys.argv:
    bad = [] if (root / 'README.md').read_text() == readme else ['README.md']
    bad += [n for n, b in images.items() if not (root / 'nbs' / n).exists() or (root / 'nbs' / n).read_bytes() != b]
    if bad: sys.exit(f'out of date with nbs/index.ipynb: {", ".join(bad)}; run `python .ci/make_readme.py`')
    print('README.md is in sync with nbs/index.ipynb')
else:
    (root / 'README.md').write_text(readme)
    for n, b in images.items():
        (root / 'nbs' / n).parent.mkdir(exist_ok=True); (root / 'nbs' / n).write_bytes(b)
    print(f'wrote README.md and {len(images)} image(s)')
