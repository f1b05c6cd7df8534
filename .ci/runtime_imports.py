"""The runtime package imports only its runtime requirements: run with the Python of a plain install (`pip install -e .`, no extras).

Every module of `cram/` but the documentation tooling (`DOCS_ONLY`, which nbdev's docs build imports and no runtime module may)
is read with `ast`: each import, at the top or inside a function, must be the standard library, `cram` itself, or a package
that a distribution named in settings.ini's `requirements` provides (as this environment's `importlib.metadata` maps them).
An import inside `try: ... except ImportError:` is optional and allowed. Then each runtime module is imported for real.
A self-test first plants a dev-only import and an import of the docs tooling in a copy of the package: both must fail.

Usage: python .ci/runtime_imports.py"""
import ast, configparser, importlib, importlib.metadata as md, re, shutil, subprocess, sys, tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DOCS_ONLY = {'pages', '_modidx'}   # nbdev's renderer (`settings.ini: renderer`) and nbdev's index: the docs build's, not the runtime's

def requirements():
    "The distribution names of settings.ini's `requirements`, normalised."
    cfg = configparser.ConfigParser(delimiters=['=']); cfg.read(ROOT / 'settings.ini')
    return {re.split(r'[<>=!~\[; ]', r, maxsplit=1)[0].lower().replace('_', '-') for r in cfg['DEFAULT']['requirements'].split()}

def allowed_imports(reqs):
    "Top-level import names that the required distributions provide in this environment."
    return {name for name, dists in md.packages_distributions().items()
            if any(d.lower().replace('_', '-') in reqs for d in dists)}

def _optional(node, parents):
    "Whether `node` sits in the body of a `try` that catches ImportError (or ModuleNotFoundError)."
    for p in parents:
        if isinstance(p, ast.Try) and any(n in ast.dump(h.type or ast.Name('BaseException')) for h in p.handlers
                                          for n in ('ImportError', 'ModuleNotFoundError')) and node in ast.walk(ast.Module(p.body, [])):
            return True
    return False

def imports_of(path):
    "(line, top-level name, dotted name) of every non-optional import in a module's source."
    tree, out = ast.parse(Path(path).read_text()), []
    def visit(node, parents):
        if isinstance(node, (ast.Import, ast.ImportFrom)) and not _optional(node, parents):
            if isinstance(node, ast.Import): names = [a.name for a in node.names]
            elif node.level: names = ['cram.' + (node.module or '')]
            else: names = [node.module] + [f'{node.module}.{a.name}' for a in node.names]
            out.extend(dict.fromkeys((node.lineno, n.split('.')[0], n if n.startswith('cram') else n.split('.')[0]) for n in names))
        for k in ast.iter_child_nodes(node): visit(k, parents + [node])
    visit(tree, [])
    return out

def problems(pkg, allowed):
    "What breaks the rule in the package folder `pkg`: one line each."
    bad = []
    for f in sorted(Path(pkg).glob('*.py')):
        if f.stem in DOCS_ONLY: continue
        for line, top, full in imports_of(f):
            if top == 'cram':
                if any(full == f'cram.{m}' or full.startswith(f'cram.{m}.') for m in DOCS_ONLY):
                    bad.append(f'{f.name}:{line}: imports the docs tooling {full} (needs nbdev; not a runtime requirement)')
            elif top not in sys.stdlib_module_names and top not in allowed:
                bad.append(f'{f.name}:{line}: imports {top}, which no runtime requirement in settings.ini provides')
    return bad

def self_test(allowed):
    "A planted dev-only import and a planted import of the docs tooling are both found."
    ok = True
    for plant, want in (("    from fastcore.docments import docments\n", 'fastcore'), ("    from cram.pages import ApiEntry\n", 'cram.pages')):
        with tempfile.TemporaryDirectory() as d:
            pkg = Path(d) / 'cram'; shutil.copytree(ROOT / 'cram', pkg)
            src = (pkg / 'demo.py').read_text()
            i = src.index('\ndef demo('); j = src.index('\n', src.index('"', src.index(')->', i))) + 1   # first line of demo's body
            (pkg / 'demo.py').write_text(src[:j] + plant + src[j:])
            found = [b for b in problems(pkg, allowed) if want in b]
            print(f'self-test, planted `{plant.strip()}` in demo(): ' + ('found: ' + found[0] if found else 'MISSED'))
            ok &= bool(found)
    return ok

def main():
    allowed = allowed_imports(requirements())
    if not self_test(allowed): sys.exit('the runtime import check missed a planted import')
    bad = problems(ROOT / 'cram', allowed)
    for b in bad: print('FAIL', b)
    mods = sorted(f'cram.{f.stem}' for f in (ROOT / 'cram').glob('*.py') if f.stem not in DOCS_ONLY | {'__init__'})
    for m in mods:
        r = subprocess.run([sys.executable, '-c', f'import {m}'], capture_output=True, text=True)
        if r.returncode: bad.append(m); print(f'FAIL import {m}:', r.stderr.strip().splitlines()[-1])
    print(f'runtime imports: {len(mods)} modules read and imported with the runtime requirements only, {len(bad)} problem(s)')
    sys.exit(1 if bad else 0)

if __name__ == '__main__': main()
