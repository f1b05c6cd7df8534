"""Run the README's Python blocks as a reader pastes them: in order, in one fresh interpreter, in an empty folder.

The README is made from nbs/index.ipynb (its shown code cells become its ```python blocks), so these are also the index's
snippets. Run with the Python of a plain install (`pip install -e .`): a snippet that needs a dev tool fails here.
A self-test first runs a planted block that uses a name no block defined: it must fail.

Usage: python .ci/readme_blocks.py [README.md]"""
import re, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

def python_blocks(md:str)->list:
    "The bodies of the ```python blocks of a Markdown text, in order."
    return re.findall(r'^```python\n(.*?)^```', md, flags=re.M | re.S)

def run_blocks(blocks, timeout=600):
    "(exit status, output) of the blocks run one after the other in one fresh interpreter, in an empty temporary folder."
    with tempfile.TemporaryDirectory() as d:
        src = '\n'.join(f'# --- block {i + 1}\n{b}' for i, b in enumerate(blocks))
        r = subprocess.run([sys.executable, '-c', src], cwd=d, capture_output=True, text=True, timeout=timeout)
    return r.returncode, (r.stdout + r.stderr).strip()

def main():
    rc, out = run_blocks(['import torch\n', 'loss = F.cross_entropy(torch.zeros(1, 2), torch.zeros(1).long())\n'])
    print('self-test, a planted block that uses F without importing it: ' + ('fails as it should' if rc else 'MISSED'))
    if not rc: sys.exit('the README block check missed a planted broken block')
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / 'README.md'
    blocks = python_blocks(path.read_text(encoding='utf-8'))
    if not blocks: sys.exit(f'{path} has no ```python block: nothing was checked')
    rc, out = run_blocks(blocks)
    print(out)
    print(f"{path.name}: {len(blocks)} Python blocks run in order in an empty folder: {'ok' if rc == 0 else 'FAILED'}")
    sys.exit(rc)

if __name__ == '__main__': main()
