"""Build the documentation site without Quarto and check every page in headless Chromium.

1. nbdev's docs processing (`nbdev.serve.proc_nbs`, the Quarto-free part of `nbdev_docs`) on every notebook; it fails
   if a notebook fails, and so does this script if nbdev warns about a cell that mixes imports with other code (such a
   cell is executed when the docs are built).
2. Each processed notebook is rendered to HTML with nbconvert, MathJax from Debian's `libjs-mathjax` (no CDN), under the
   page name Quarto gives it (`output-file`).
3. Internal links (relative, or to the published site) must reach an existing page and anchor.
4. Each page is opened in headless Chromium from a local server; a script added to the page reports MathJax errors and
   images that did not load.

Usage: python .ci/docs.py [--out DIR] [--keep] [--screenshot PAGE ...]
"""
import argparse, contextlib, functools, html.parser, http.server, json, os, re, shutil, subprocess, sys, threading, time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = 'https://cram-project.github.io/cram/'
MATHJAX = Path('/usr/share/javascript/mathjax')
CHROMIUM = (shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
            or '/usr/bin/chromium')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--hide-scrollbars']

CHECK_JS = """<script>
window.addEventListener('load', function () {
  function report() {
    var bad = [];
    for (var i = 0; i < document.images.length; i++) {
      var im = document.images[i];
      if (!(im.complete && im.naturalWidth > 0)) bad.push((im.getAttribute('src') || '').slice(0, 80));
    }
    var err = document.querySelectorAll('.MathJax_Error, .mjx-merror, merror, mjx-merror').length;
    var math = document.querySelectorAll('.MathJax_CHTML, .mjx-chtml, .MathJax_Display, .MathJax').length;
    var pre = document.createElement('pre'); pre.id = 'cram-check';
    pre.textContent = JSON.stringify({broken_images: bad, mathjax_errors: err, math_nodes: math,
                                      mathjax: typeof MathJax !== 'undefined'});
    document.body.appendChild(pre);
  }
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(report); else report();
});
</script>"""


def log(*a): print(*a, flush=True)


def process():
    "nbdev's docs processing of every notebook, into `_proc/`; returns the folder and nbdev's warnings."
    from nbdev.serve import proc_nbs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        cache = proc_nbs(n_workers=0, force=True)      # in this process: nbdev's warnings are caught here
    mixed = [str(w.message).split('\n---\n')[1][:200] for w in caught if 'containing imports and other code' in str(w.message)]
    return Path(cache), mixed


def frontmatter(nb):
    "The YAML front matter nbdev puts in the first raw cell, as a dict of simple `key: value` lines."
    cells = nb.get('cells', [])
    if not cells or cells[0]['cell_type'] != 'raw': return {}
    src = ''.join(cells[0]['source'])
    return {m[1]: m[2].strip().strip("'\"") for m in re.finditer(r'^([\w-]+):\s*(.*)$', src, re.M)}


def render(cache, out):
    "Render each processed notebook to `out/<output-file>`; returns {notebook name: page name}."
    import nbformat
    from nbconvert import HTMLExporter
    out.mkdir(parents=True, exist_ok=True)
    ex = HTMLExporter(template_name='lab')
    ex.mathjax_url = 'mathjax/MathJax.js?config=TeX-AMS_CHTML'
    pages = {}
    for nbp in sorted(cache.glob('*.ipynb')):
        nb = nbformat.read(nbp, as_version=4)
        fm = frontmatter(nb)
        if fm: nb.cells = nb.cells[1:]                                  # the front matter is Quarto's, not the page's
        page = fm.get('output-file') or nbp.stem + '.html'
        pages[nbp.name] = page
        body, _ = ex.from_notebook_node(nb, resources={'metadata': {'name': fm.get('title', nbp.stem)}})
        body = body.replace('</body>', CHECK_JS + '\n</body>')
        (out / page).write_text(body, encoding='utf-8')
    for d in ('images',):                                          # what the pages link to beside them
        if (cache / d).exists(): shutil.copytree(cache / d, out / d, dirs_exist_ok=True)
    for f in list(cache.glob('*.png')) + list(cache.glob('*.css')): shutil.copy2(f, out / f.name)
    (out / 'mathjax').unlink(missing_ok=True)
    os.symlink(MATHJAX, out / 'mathjax')
    return pages


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.hrefs, self.ids = [], set()
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'].lower())                  # Quarto's anchors are lower case, nbconvert's not
        if tag == 'a' and a.get('name'): self.ids.add(a['name'].lower())
        if tag == 'a' and a.get('href'): self.hrefs.append(a['href'])


def page_ids(out, pages):
    "The anchors of every page."
    ids = {}
    for page in pages.values():
        p = _Links(); p.feed((out / page).read_text(encoding='utf-8')); ids[page] = p.ids
    return ids


def check_links(out, pages):
    "Internal links: relative ones and those into the published site must reach a page and an anchor that exist."
    parsed = {}
    for page in pages.values():
        p = _Links(); p.feed((out / page).read_text(encoding='utf-8')); parsed[page] = p
    by_nb = {k: v for k, v in pages.items()} | {Path(k).stem + '.html': v for k, v in pages.items()}
    dead, n = [], 0
    for page, p in parsed.items():
        for href in p.hrefs:
            if href.startswith(SITE): target = href[len(SITE):]
            elif re.match(r'^[a-z][a-z0-9+.-]*:', href) or href.startswith('//'): continue   # external: not checked here
            else: target = href
            path, _, anchor = target.partition('#')
            path = path.split('?')[0]
            if path == '': dest = page
            else: dest = by_nb.get(path, path)
            n += 1
            if dest not in parsed:
                if not (out / dest).exists(): dead.append(f'{page}: {href} (no page {dest})')
                continue
            if anchor and anchor.lower() not in parsed[dest].ids: dead.append(f'{page}: {href} (no anchor #{anchor} in {dest})')
    return n, dead


def check_api(out, parsed_ids):
    "Every public function and class (a module's `__all__`) has a docstring and a `show_doc` entry on its page."
    import importlib, inspect
    from cram._modidx import d
    problems, n = [], 0
    for mod_name, syms in d['syms'].items():
        mod = importlib.import_module(mod_name)
        for name in getattr(mod, '__all__', []):
            obj = getattr(mod, name)
            if not (inspect.isfunction(obj) or inspect.isclass(obj)): continue   # constants are described in the prose
            n += 1
            if not (obj.__doc__ or '').strip() or (inspect.isclass(obj) and obj.__doc__ == inspect.getdoc(obj.__mro__[1])
                                                     and '__doc__' not in vars(obj)):
                problems.append(f'{mod_name}.{name}: no docstring')
            page, _, anchor = syms.get(f'{mod_name}.{name}', ('?#?', ''))[0].partition('#')
            if anchor.lower() not in parsed_ids.get(page, set()):
                problems.append(f'{mod_name}.{name}: no show_doc entry on {page}')
    return n, problems


@contextlib.contextmanager
def serve(folder):
    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *a): pass
    handler = functools.partial(Quiet, directory=str(folder))
    srv = http.server.ThreadingHTTPServer(('127.0.0.1', 0), handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True); t.start()
    try: yield f'http://127.0.0.1:{srv.server_address[1]}/'
    finally: srv.shutdown()


def chromium(args, timeout=120):
    with contextlib.ExitStack() as st:
        import tempfile
        prof = st.enter_context(tempfile.TemporaryDirectory())
        return subprocess.run([CHROMIUM, *FLAGS, f'--user-data-dir={prof}', *args], capture_output=True, text=True,
                              timeout=timeout)


def check_pages(out, pages):
    "Open each page in headless Chromium; collect what the added script reports."
    problems, math = [], 0
    with serve(out) as url:
        for page in pages.values():
            r = chromium(['--virtual-time-budget=30000', '--run-all-compositor-stages-before-draw', '--dump-dom', url + page])
            m = re.search(r'<pre id="cram-check">(.*?)</pre>', r.stdout, re.S)
            if not m: problems.append(f'{page}: the page did not finish loading ({r.stderr.strip()[-300:]})'); continue
            rep = json.loads(html.unescape(m[1]))
            math += rep['math_nodes']
            if not rep['mathjax']: problems.append(f'{page}: MathJax did not load')
            if rep['mathjax_errors']: problems.append(f"{page}: {rep['mathjax_errors']} MathJax error node(s)")
            for src in rep['broken_images']: problems.append(f'{page}: broken image {src}')
    return problems, math


def screenshot(out, page, png, width=1200, height=1600):
    with serve(out) as url:
        chromium([f'--window-size={width},{height}', '--virtual-time-budget=30000', f'--screenshot={png}', url + page])


def self_test():
    "The checks must fail on a page with a broken formula, a missing image and dead links: render one and see."
    import nbformat, tempfile
    with tempfile.TemporaryDirectory() as d:
        cache, out = Path(d) / 'proc', Path(d) / 'site'; cache.mkdir()
        nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_markdown_cell(
            '# Broken\n\nA formula $x^2$ and a broken one $\\frac{1}{$.\n\n![gone](gone.png)\n\n'
            '[dead page](nowhere.html), [dead anchor](#no-such-heading), [fine](#broken)')])
        nbformat.write(nb, cache / 'broken.ipynb')
        pages = render(cache, out)
        n, dead = check_links(out, pages)
        problems, math = check_pages(out, pages)
    found = {'dead page': any('nowhere.html' in x for x in dead), 'dead anchor': any('no-such-heading' in x for x in dead),
             'good anchor passes': not any('#broken' in x for x in dead), 'broken image': any('broken image' in x for x in problems),
             'MathJax error': any('MathJax error' in x for x in problems), 'formulas typeset': math > 0}
    log('self-test of the checks: ' + ', '.join(f'{k}: {"ok" if v else "MISSED"}' for k, v in found.items()))
    return all(found.values())


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    ap.add_argument('--out', default=str(ROOT / '_site_check'), help='where the rendered pages go')
    ap.add_argument('--screenshot', nargs='*', default=[], help='pages to screenshot into OUT/shots/ (e.g. index.html)')
    a = ap.parse_args(argv)
    t0 = time.time(); os.chdir(ROOT)
    if not MATHJAX.exists(): sys.exit(f'MathJax not found at {MATHJAX}: install Debian\'s libjs-mathjax')
    if not Path(CHROMIUM).exists(): sys.exit('Chromium not found: install Debian\'s chromium')
    if not self_test(): sys.exit('the page checks missed a planted fault (see above)')
    cache, mixed = process()
    t1 = time.time(); log(f'docs processing (nbdev.serve.proc_nbs): {len(list(cache.glob("*.ipynb")))} notebooks in {t1 - t0:.0f}s')
    out = Path(a.out); shutil.rmtree(out, ignore_errors=True)
    pages = render(cache, out)
    t2 = time.time(); log(f'rendered {len(pages)} pages with nbconvert in {t2 - t1:.0f}s')
    n_links, dead = check_links(out, pages)
    n_api, api = check_api(out, page_ids(out, pages))
    log(f'checked {n_api} API entries (docstring and show_doc)')
    problems, math = check_pages(out, pages)
    t3 = time.time()
    log(f'checked {n_links} internal links and {len(pages)} pages in Chromium ({math} formulas typeset) in {t3 - t2:.0f}s')
    for p in a.screenshot:
        (out / 'shots').mkdir(exist_ok=True); screenshot(out, p, out / 'shots' / (Path(p).stem + '.png'))
    bad = [f'cell that mixes imports with other code (run by the docs build): {m!r}' for m in mixed] + dead + api + problems
    for b in bad: log('FAIL', b)
    log(f'docs: {len(pages)} pages, {n_api} API entries, {n_links} internal links, {len(bad)} problem(s), {time.time() - t0:.0f}s')
    sys.exit(1 if bad else 0)


if __name__ == '__main__': main()
