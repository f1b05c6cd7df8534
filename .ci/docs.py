"""Build the documentation site without Quarto and check every page in headless Chromium.

1. nbdev's docs processing (`nbdev.serve.proc_nbs`, the Quarto-free part of `nbdev_docs`) on every notebook; it fails
   if a notebook fails, and so does this script if nbdev warns about a cell that mixes imports with other code (such a
   cell is executed when the docs are built).
2. Each processed notebook is rendered to HTML with nbconvert, MathJax from Debian's `libjs-mathjax` (no CDN), under the
   page name Quarto gives it (`output-file`), the way Quarto shows it: the front matter's title and description on
   top, cell options (`#| ...`) applied and hidden (`echo: false`, `code-fold`), no prompts, Pandoc's link attributes
   applied, links to notebooks pointing at their pages, an 800 px reading column with 16 px text.
3. Internal links (relative, or to the published site) must reach an existing page and anchor.
4. Each page is opened in headless Chromium (window 1280x900) from a local server; a script added to the page reports
   what a reader would see as a defect: MathJax errors, math left as `$...$`, images that did not load, Markdown tables
   and attribute blocks left as raw text, prompts, a title that is not the front matter's, pages over 15 screens
   long, figures whose smallest text is under `cram.figures.MIN_TEXT_PX` at the size the page shows them, numbers
   broken across lines in a table cell, printed outputs that show a raw Markdown table or lines over 120 characters.
5. Cross-references: link text that names a notebook file instead of its page, and a Next chain (from the index) that
   misses a page.

Usage: python .ci/docs.py [--out DIR] [--keep] [--screenshot PAGE ...]
"""
import argparse, base64, contextlib, functools, html, html.parser, http.server, json, os, re, shutil, subprocess, sys
import tempfile, threading, time
import warnings
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# this folder's scripts are not modules: one named like a standard-library module would stand in for it
sys.path[:] = [p for p in sys.path if Path(p or '.').resolve() != ROOT / '.ci']
SITE = 'https://cram-project.github.io/cram/'
MATHJAX = Path('/usr/share/javascript/mathjax')
CHROMIUM = (shutil.which('chromium') or shutil.which('chromium-browser') or shutil.which('google-chrome')
            or '/usr/bin/chromium')
FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
         '--disable-component-update', '--disable-sync', '--hide-scrollbars']

WINDOW = (1280, 900)                          # the window the pages are checked in
MAX_SCREENS = 15                              # a page longer than this many windows is too long to read: split it
from cram.figures import MAX_LINE             # a longer printed line is cut at the reading column's edge
MAX_COLS = 8                                  # a table wider than this is split by what a reader compares (the page script says 8 too)

CSS = """
:root { --jp-content-font-size1: 16px; --jp-content-line-height: 1.5; --jp-code-font-size: 14px;
        --jp-code-line-height: 1.45; }
body.jp-Notebook { padding: 24px 16px; }
main { max-width: 800px; margin: 0 auto; }
#title-block-header { margin: 0 0 1.5rem; }
#title-block-header h1.title { font-size: 2.25rem; line-height: 1.2; margin: 0 0 .75rem; }
#title-block-header .description { font-size: 1.15rem; color: #495057; }
details.code-fold > summary { cursor: pointer; font-size: .875rem; color: #6c757d; margin: .25rem 0; }
"""

# Quarto's page, on top of nbconvert's lab template: the title block, folded code, the reading column
TEMPLATE = """{%- extends 'index.html.j2' -%}
{% block html_head_css %}{{ super() }}<style type="text/css">{{ resources.cram_css }}</style>
{% endblock html_head_css %}
{%- block body_header -%}{{ super() }}
{%- if resources.cram_title %}
<header id="title-block-header"><h1 class="title">{{ resources.cram_title }}</h1>
{%- if resources.cram_description %}
<div class="description">{{ resources.cram_description }}</div>{% endif %}
</header>
{%- endif -%}
{%- endblock body_header -%}
{% block input_group -%}
{%- set fold = cell.metadata.get('cram_fold') -%}
{%- if fold %}<details class="code-fold"{{ ' open' if fold == 'show' else '' }}><summary>Code</summary>{% endif -%}
{{ super() }}
{%- if fold %}</details>{% endif -%}
{%- endblock input_group %}
"""

# what _quarto.yml adds to every page of the site: styles.css, and nowrap.html after the body
SITE_CSS = (ROOT / 'nbs' / 'styles.css').read_text(encoding='utf-8')
SITE_JS = (ROOT / 'nbs' / 'nowrap.html').read_text(encoding='utf-8')

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
    // The text a reader sees, block by block: MathJax 2's own nodes (typeset math, its source scripts, assistive MathML)
    // and scripts are not text; code inputs are checked only for cell options.
    var MJ = /(^|\\s)(MathJax|mjx-|MJX)/, BLOCKS = 'p,li,td,th,h1,h2,h3,h4,h5,h6,dt,dd,pre,blockquote,summary,caption,figcaption,div,header,main,body';
    var walker = document.createTreeWalker(document.body, NodeFilter.SHOW_ELEMENT | NodeFilter.SHOW_TEXT, {acceptNode: function (n) {
      if (n.nodeType === 3) return NodeFilter.FILTER_ACCEPT;
      var t = n.tagName.toLowerCase();
      if (t === 'script' || t === 'style' || t === 'noscript' || t === 'template' || t.indexOf('mjx-') === 0) return NodeFilter.FILTER_REJECT;
      if ((typeof n.className === 'string' && MJ.test(n.className)) || (n.id || '').indexOf('MathJax') === 0) return NodeFilter.FILTER_REJECT;
      return NodeFilter.FILTER_SKIP;
    }});
    var scopes = {all: new Map(), prose: new Map(), bare: new Map(), math: new Map()};
    function add(scope, block, text) { scopes[scope].set(block, (scopes[scope].get(block) || '') + text); }
    for (var n = walker.nextNode(); n; n = walker.nextNode()) {
      var p = n.parentElement;
      if (!n.data.trim() || p.closest('.jp-InputArea-editor')) continue;                 // code inputs
      if (p.getClientRects().length === 0 && !p.closest('details')) continue;             // not displayed
      var pre = p.closest('pre'), outPre = pre && p.closest('.jp-RenderedText');          // printed output
      var code = p.closest('code') || (pre && !outPre), block = p.closest(BLOCKS);
      add('all', block, n.data);                                   // prompts: anywhere
      if (!pre && !p.closest('table')) add('prose', block, n.data);   // raw tables: outside <pre> and tables, code included
      if (!pre && !code) add('bare', block, n.data);               // raw attribute blocks: outside any code
      if (!code) add('math', block, n.data);                       // untypeset math: prose and printed outputs
    }
    function find(scope, test) {
      var hits = [];
      scopes[scope].forEach(function (text) {
        var lines = text.split('\\n');
        for (var i = 0; i < lines.length; i++) if (test(lines[i])) { hits.push(lines[i].trim().slice(0, 120)); break; }
      });
      return hits;
    }
    var pipes = find('prose', function (l) { l = l.trim(); return /^\\|.*\\|/.test(l) || /\\|\\s?:?-{3}/.test(l); });
    var attrs = find('bare', function (l) { return /\\{[^{}]*\\b[\\w-]+=("[^"]*"|'[^']*')[^{}]*\\}|\\{\\s*([#.][\\w-]+\\s+)*[\\w-]+=/.test(l); });
    var prompts = find('all', function (l) { return /\\b(In|Out)\\s*\\[[\\s\\d]*\\]:/.test(l); });
    var dollars = find('math', function (l) { return /\\$\\$|\\$[^\\s$][^$]*\\$/.test(l); });
    var directives = [];
    document.querySelectorAll('.jp-InputArea-editor').forEach(function (ed) {
      if (/(^|\\n)\\s*#\\|/.test(ed.textContent)) directives.push((ed.closest('.jp-Cell') || {}).id || '?');
    });
    var figures = [], k = 0;
    for (var j = 0; j < document.images.length; j++) {
      var f = document.images[j], src = f.getAttribute('src') || '';
      if (src.indexOf('data:image/png') !== 0 && src.indexOf('data:image/jpeg') !== 0) continue;
      figures.push({index: k++, output: !!f.closest('.jp-OutputArea-output'), natural: f.naturalWidth, shown: f.clientWidth,
                    length: src.length, cell: (f.closest('.jp-Cell') || {}).id || '?'});
    }
    var tables = [];                                                // tables a reader sees: at most 8 columns, no index column
    document.querySelectorAll('table').forEach(function (t) {
      var cols = 0; t.querySelectorAll('tr').forEach(function (r) { cols = Math.max(cols, r.children.length); });
      var first = (t.querySelector('tr') || {textContent: ''}).textContent.trim().replace(/\s+/g, ' ').slice(0, 60);
      var index = t.closest('.jp-OutputArea-output') && t.querySelector('tbody th') ? true : false;
      if (cols > 8 || index) tables.push({cols: cols, index: index, head: first});
    });
    // numbers broken across lines: a number (with its ± sd or [interval]) in a table cell whose text spans two lines
    var wrapped = [], NUM = /[-+\u2212]?\d[\d.,]*%?(\s*\u00b1\s*\d[\d.,]*%?)?(\s*\[[^\]]*\])?/g;
    document.querySelectorAll('td, th').forEach(function (td) {
      var w = document.createTreeWalker(td, NodeFilter.SHOW_TEXT), hit = null;
      for (var t = w.nextNode(); t && !hit; t = w.nextNode()) {
        var m; NUM.lastIndex = 0;
        while (!hit && (m = NUM.exec(t.data)) !== null) {
          var r = document.createRange(); r.setStart(t, m.index); r.setEnd(t, m.index + m[0].length);
          var tops = {}; Array.prototype.forEach.call(r.getClientRects(), function (q) { if (q.width > 0) tops[Math.round(q.top)] = 1; });
          if (Object.keys(tops).length > 1) hit = m[0];
        }
      }
      if (hit) wrapped.push(hit.replace(/\s+/g, ' ').slice(0, 40));
    });
    // printed outputs: raw Markdown tables, and lines too long for the reading column
    var rawmd = [], longlines = [], MAX_LINE = __MAX_LINE__;
    document.querySelectorAll('.jp-RenderedText pre').forEach(function (pre) {
      var lines = pre.textContent.split('\\n'), sep = lines.some(function (l) { return /^\s*\|?\s*:?-{3,}:?\s*\|/.test(l); });
      if (sep) { var row = lines.filter(function (l) { return /^\s*\|.*\|\s*$/.test(l); })[0]; if (row) rawmd.push(row.trim().slice(0, 80)); }
      lines.forEach(function (l) { if (l.length > MAX_LINE) longlines.push(l.length + ': ' + l.slice(0, 60)); });
    });
    var h1 = document.querySelector('h1'), h1text = null;
    if (h1) { h1text = ''; var w = document.createTreeWalker(h1, NodeFilter.SHOW_TEXT);
              for (var t = w.nextNode(); t; t = w.nextNode()) if (!t.parentElement.closest('a.anchor-link, script')) h1text += t.data; }
    var height = Math.max(document.documentElement.scrollHeight, document.body.scrollHeight);
    var pre = document.createElement('pre'); pre.id = 'cram-check';
    pre.textContent = JSON.stringify({broken_images: bad, mathjax_errors: err, math_nodes: math,
                                      mathjax: typeof MathJax !== 'undefined', pipes: pipes, attrs: attrs, prompts: prompts,
                                      dollars: dollars, directives: directives, figures: figures, h1: h1text, tables: tables,
                                      wrapped: wrapped, rawmd: rawmd, longlines: longlines,
                                      height: height, window: [window.innerWidth, window.innerHeight]});
    document.body.appendChild(pre);
  }
  if (window.MathJax && MathJax.Hub) MathJax.Hub.Queue(report); else report();
});
</script>"""


def log(*a): print(*a, flush=True)


def mixed_cells(nbs=None):
    "Cells that nbdev's docs processing would run because they mix imports with other code, found without running anything."
    from nbdev.process import NBProcessor
    from nbdev.processors import _do_eval        # nbdev's own test of which cells its docs build runs
    found = []
    for nb in nbs or sorted(Path('nbs').glob('*.ipynb')):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter('always')
            NBProcessor(nb, [_do_eval], rm_directives=False).process()
        found += [f"{nb.name}: {str(w.message).split(chr(10) + '---' + chr(10))[1][:200]}" for w in caught
                  if 'containing imports and other code' in str(w.message)]
    return found


NB_LINK = re.compile(r'\[([^\]]*)\]\(([\w.-]+\.ipynb)(#[^)]*)?\)')
NEXT = re.compile(r'\*\*Next:\*\*\s*\[[^\]]*\]\(([\w.-]+\.ipynb)\)')

def check_xrefs(nbs=None):
    "Cross-references between pages: link text that names a notebook file instead of its page, and a Next chain that misses a page."
    paths = list(nbs or sorted(Path('nbs').glob('*.ipynb'))); names = {p.name for p in paths}
    problems, nxt = [], {}
    for p in paths:
        nb = json.loads(p.read_text(encoding='utf-8'))
        texts = [''.join(c['source']) for c in nb['cells'] if c['cell_type'] == 'markdown']
        texts += [''.join(o.get('data', {}).get('text/markdown', '')) for c in nb['cells'] for o in c.get('outputs', [])]
        for t in texts:
            for m in NB_LINK.finditer(t):
                label = m.group(1).strip('` ')
                if re.fullmatch(r'\d\d[a-z]?_\w+(\.ipynb)?|\w+\.ipynb', label):
                    problems.append(f'{p.name}: link text {m.group(1)!r} names a notebook file; use its page name '
                                    f'({page_name(m.group(2))!r})')
            for m in NEXT.finditer(t): nxt[p.name] = m.group(1)
    for a, b in nxt.items():
        if b not in names: problems.append(f'{a}: its Next link points to {b}, which does not exist')
    seen, cur = [], 'index.ipynb' if 'index.ipynb' in names else (sorted(names) or [''])[0]
    while cur in names and cur not in seen: seen.append(cur); cur = nxt.get(cur)
    missed = sorted(names - set(seen))
    if missed: problems.append(f'the Next chain from {seen[0] if seen else "?"} misses {", ".join(missed)}')
    return problems


def page_name(nb_name):
    "The page name the site gives a notebook: its file name without the number prefix (nbdev's default)."
    return re.sub(r'^\d+[a-z]?_', '', Path(nb_name).stem)


def process():
    "nbdev's docs processing of every notebook, into `_proc/`; returns the folder and nbdev's warnings."
    from nbdev.serve import proc_nbs
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        cache = proc_nbs(n_workers=0, force=True)      # in this process: nbdev's warnings are caught here
    mixed = [str(w.message).split('\n---\n')[1][:200] for w in caught if 'containing imports and other code' in str(w.message)]
    return Path(cache), mixed


def yaml_block(src):
    "The YAML of a `---`-fenced front matter block as a dict; `None` when `src` is not one."
    import yaml
    m = re.match(r'\s*---[ \t]*\n(.*?)\n?---[ \t]*(\n|$)', src, re.S)
    if not m: return None
    try: d = yaml.safe_load(m[1]) or {}
    except yaml.YAMLError: return None
    return {str(k): v for k, v in d.items()} if isinstance(d, dict) else None


def frontmatter(nb):
    "The YAML front matter nbdev puts in the first raw cell, as a dict; `None` when there is none."
    cells = nb.get('cells', [])
    if not cells or cells[0]['cell_type'] != 'raw': return None
    return yaml_block(''.join(cells[0]['source']))


def plain(md):
    "The text a reader sees of one line of Markdown (code spans, emphasis and links as their text), spaces collapsed."
    md = re.sub(r'!?\[([^\]]*)\]\([^)]*\)', r'\1', str(md))
    md = re.sub(r'`([^`]*)`', r'\1', md)
    md = re.sub(r'(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1', r'\2', md)
    return ' '.join(md.split())


def inline_md(md):
    "One line of Markdown as HTML without the paragraph around it (a title)."
    from nbconvert.filters.markdown_mistune import markdown2html_mistune
    h = markdown2html_mistune(str(md)).strip()
    return h[3:-4] if h.startswith('<p>') and h.endswith('</p>') and h.count('<p>') == 1 else h


_ATTR = re.compile(r'\s*(?:([#.])([\w:-]+)|([\w-]+)=("[^"]*"|\'[^\']*\'|[^\s"\'}]+))')
_LINK_ATTRS = re.compile(r'(!?)\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(([^()\s]+)\)\{([^{}]*)\}')


def link_attrs(md):
    "Pandoc's attributes after a link or image, `[text](url){target=\"_blank\" ...}` (nbdev's show_doc writes them), applied as Quarto does: the link as HTML with those attributes."
    def sub(m):
        bang, text, url, spec = m.groups()
        attrs, pos, classes = {}, 0, []
        for a in _ATTR.finditer(spec):
            if a.start() != pos: return m[0]                      # not an attribute block: leave it to be seen
            pos = a.end()
            if a[1] == '#': attrs['id'] = a[2]
            elif a[1] == '.': classes.append(a[2])
            else: attrs[a[3]] = a[4].strip('"\'')
        if spec[pos:].strip(): return m[0]
        if classes: attrs['class'] = ' '.join(classes)
        at = ''.join(f' {k}="{html.escape(v)}"' for k, v in attrs.items())
        if bang: return f'<img src="{html.escape(url)}" alt="{html.escape(text)}"{at}/>'
        return f'<a href="{html.escape(url)}"{at}>{text}</a>'
    return _LINK_ATTRS.sub(sub, md)


def cell_options(src):
    "Quarto's cell options (`#| key: value` lines) of a code cell, and its code without them."
    opts, code = {}, []
    for line in src.splitlines():
        m = re.match(r'\s*#\|\s*(.*)$', line)
        if not m: code.append(line); continue
        k, _, v = m[1].partition(':')
        opts[k.strip()] = v.strip().strip('\'"').lower()
    return opts, '\n'.join(code).strip('\n')


def quarto_cells(nb):
    "What Quarto does to the cells before showing them: cell options applied (`include`, `output`, `echo`, `code-fold`) and their lines hidden, Pandoc link attributes applied in Markdown cells and Markdown outputs."
    cells = []
    for c in nb.cells:
        if c.cell_type == 'markdown': c.source = link_attrs(c.source)
        if c.cell_type != 'code': cells.append(c); continue
        opts, c.source = cell_options(c.source)
        if opts.get('include') == 'false': continue
        if opts.get('output') == 'false': c.outputs = []
        if opts.get('echo') == 'false' or not c.source.strip(): c.metadata.setdefault('transient', {})['remove_source'] = True
        elif opts.get('code-fold') in ('true', 'show'): c.metadata['cram_fold'] = opts['code-fold']
        for o in c.get('outputs', []):
            if 'text/markdown' in o.get('data', {}): o.data['text/markdown'] = link_attrs(o.data['text/markdown'])
        cells.append(c)
    nb.cells = cells
    return nb


def page_links(body, pages):
    "Links to a notebook of the project (`01_core.ipynb#anchor`) point at its page (`core.html#anchor`), as Quarto makes them."
    def sub(m):
        href = html.unescape(m[1])
        if re.match(r'^[a-z][a-z0-9+.-]*:', href) or href.startswith(('//', '#')): return m[0]
        path, sep, anchor = href.partition('#')
        page = pages.get(path.removeprefix('./'))
        return m[0] if page is None else f'href="{html.escape(page + sep + anchor)}"'
    return re.sub(r'href="([^"]*)"', sub, body)


def exporter():
    "nbconvert's lab template without prompts, with Quarto's title block, folded code and reading column."
    import jinja2
    from nbconvert import HTMLExporter
    ex = HTMLExporter(template_name='lab', exclude_input_prompt=True, exclude_output_prompt=True,
                      extra_loaders=[jinja2.DictLoader({'cram.html.j2': TEMPLATE})], template_file='cram.html.j2')
    ex.mathjax_url = 'mathjax/MathJax.js?config=TeX-AMS_CHTML'
    return ex


def render(cache, out, site=True):
    "Render each processed notebook to `out/<output-file>` as Quarto shows it; returns {notebook name: page name}."
    import nbformat
    out.mkdir(parents=True, exist_ok=True)
    nbs = {p.name: nbformat.read(p, as_version=4) for p in sorted(cache.glob('*.ipynb'))}
    fms = {k: frontmatter(nb) for k, nb in nbs.items()}
    pages = {k: str((fms[k] or {}).get('output-file') or Path(k).stem + '.html') for k in nbs}
    ex = exporter()
    for name, nb in nbs.items():
        fm = fms[name]
        if fm is not None: nb.cells = nb.cells[1:]                      # the front matter is Quarto's, not the page's
        fm = fm or {}
        title = str(fm.get('title', '')); desc = str(fm.get('description', ''))
        res = {'metadata': {'name': plain(title) or Path(name).stem}, 'cram_css': CSS + (SITE_CSS if site else ''),
               'cram_title': inline_md(title) if title else '', 'cram_description': inline_md(desc) if desc else ''}
        body, _ = ex.from_notebook_node(quarto_cells(nb), resources=res)
        body = page_links(body, pages).replace('</body>', (SITE_JS if site else '') + CHECK_JS.replace('__MAX_LINE__', str(MAX_LINE)) + '\n</body>')
        (out / pages[name]).write_text(body, encoding='utf-8')
    for d in ('images',):                                          # what the pages link to beside them
        if (cache / d).exists(): shutil.copytree(cache / d, out / d, dirs_exist_ok=True)
    for f in list(cache.glob('*.png')) + list(cache.glob('*.css')): shutil.copy2(f, out / f.name)
    (out / 'mathjax').unlink(missing_ok=True)
    os.symlink(MATHJAX, out / 'mathjax')
    return pages


def titles(cache, pages):
    "The title each page must show: the front matter's, wherever its YAML cell is (Pandoc reads metadata blocks anywhere, the last one wins)."
    import nbformat
    found = {}
    for name, page in pages.items():
        nb = nbformat.read(cache / name, as_version=4)
        for c in nb.cells:
            fm = yaml_block(c.source) if c.cell_type == 'raw' else None
            if fm and fm.get('title'): found[page] = plain(fm['title'])
    return found


class _Links(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(); self.hrefs, self.ids, self.pngs = [], set(), []
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if a.get('id'): self.ids.add(a['id'].lower())                  # Quarto's anchors are lower case, nbconvert's not
        if tag == 'a' and a.get('name'): self.ids.add(a['name'].lower())
        if tag == 'a' and a.get('href'): self.hrefs.append(a['href'])
        if tag == 'img' and (a.get('src') or '').startswith(('data:image/png', 'data:image/jpeg')): self.pngs.append(a['src'])


def page_ids(out, pages):
    "The anchors of every page."
    ids = {}
    for page in pages.values():
        p = _Links(); p.feed((out / page).read_text(encoding='utf-8')); ids[page] = p.ids
    return ids


def check_links(out, pages):
    "Internal links: relative ones and those into the published site must reach a file of the site and an anchor that exist."
    parsed = {}
    for page in pages.values():
        p = _Links(); p.feed((out / page).read_text(encoding='utf-8')); parsed[page] = p
    dead, n = [], 0
    for page, p in parsed.items():
        for href in p.hrefs:
            if href.startswith(SITE): target = href[len(SITE):]
            elif re.match(r'^[a-z][a-z0-9+.-]*:', href) or href.startswith('//'): continue   # external: not checked here
            else: target = href
            path, _, anchor = target.partition('#')
            dest = path.split('?')[0] or page
            n += 1
            if dest not in parsed:
                if not (out / dest).exists(): dead.append(f'{page}: {href} (no file {dest} in the site)')
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


@functools.cache
def window_size(width, height):
    "The `--window-size` that gives a `width` x `height` viewport to `--dump-dom` (headless Chromium counts in browser chrome it does not show)."
    probe = 'data:text/html,<script>document.write(innerWidth %2B "x" %2B innerHeight)</script>'
    m = re.search(r'(\d+)x(\d+)', chromium([f'--window-size={width},{height}', '--dump-dom', probe]).stdout)
    dw, dh = (width - int(m[1]), height - int(m[2])) if m else (0, 0)
    return f'--window-size={width + dw},{height + dh}'


def check_figures(page, html_pngs, figures):
    "Each figure (a PNG output) records its smallest text (`cram.figures`); at the width the page shows it, that text must be at least `MIN_TEXT_PX`."
    from cram.figures import MIN_TEXT_PX, image_text_px
    if [len(s) for s in html_pngs] != [f['length'] for f in figures]:
        return [f'{page}: the PNG images in the page and in the browser differ ({len(html_pngs)} against {len(figures)})']
    problems = []
    for f in figures:
        if not f['output'] or not f['natural']: continue              # not a figure, or broken (reported as such)
        px = image_text_px(base64.b64decode(html_pngs[f['index']].split(',', 1)[1]))
        where = f"{page}: figure in {f['cell']}"
        if px is None: problems.append(f'{where}: figure without a text-size record: re-run its cell with record_text_size()')
        elif px * f['shown'] / f['natural'] < MIN_TEXT_PX:
            problems.append(f"{where}: smallest text {px * f['shown'] / f['natural']:.1f} px as shown ({f['shown']} of "
                            f"{f['natural']} px wide; {px:.1f} px in the PNG), under MIN_TEXT_PX = {MIN_TEXT_PX}")
    return problems


def check_pages(out, pages, want_titles):
    "Open each page in headless Chromium; check what the added script reports. Returns problems, formulas, {page: height}."
    problems, math, heights = [], 0, {}
    with serve(out) as url:
        for page in pages.values():
            r = chromium([window_size(*WINDOW), '--virtual-time-budget=30000',
                          '--run-all-compositor-stages-before-draw', '--dump-dom', url + page])
            m = re.search(r'<pre id="cram-check">(.*?)</pre>', r.stdout, re.S)
            if not m: problems.append(f'{page}: the page did not finish loading ({r.stderr.strip()[-300:]})'); continue
            rep = json.loads(html.unescape(m[1]))
            math += rep['math_nodes']; heights[page] = rep['height']
            if rep['window'] != list(WINDOW): problems.append(f"{page}: checked in a {rep['window']} window, not {WINDOW}")
            if not rep['mathjax']: problems.append(f'{page}: MathJax did not load')
            if rep['mathjax_errors']: problems.append(f"{page}: {rep['mathjax_errors']} MathJax error node(s)")
            for src in rep['broken_images']: problems.append(f'{page}: broken image {src}')
            problems += [f'{page}: Markdown table shown as raw text: {x!r}' for x in rep['pipes']]
            problems += [f'{page}: attribute block shown as raw text: {x!r}' for x in rep['attrs']]
            problems += [f'{page}: prompt shown: {x!r}' for x in rep['prompts']]
            problems += [f'{page}: math not typeset: {x!r}' for x in rep['dollars']]
            problems += [f'{page}: cell option line (#| ...) shown in the code of {x}' for x in rep['directives']]
            problems += [f"{page}: table of {t['cols']} columns (at most {MAX_COLS}): {t['head']!r}" for t in rep['tables'] if t['cols'] > MAX_COLS]
            problems += [f"{page}: table with an index column (a DataFrame shown as is): {t['head']!r}" for t in rep['tables'] if t['index']]
            problems += [f'{page}: number broken across lines in a table cell: {x!r}' for x in rep['wrapped']]
            problems += [f'{page}: printed output shows a raw Markdown table (display it as Markdown): {x!r}' for x in rep['rawmd']]
            problems += [f'{page}: printed line of {x} (at most {MAX_LINE} characters)' for x in rep['longlines']]
            if rep['height'] > MAX_SCREENS * WINDOW[1]:
                problems.append(f"{page}: {rep['height'] / WINDOW[1]:.1f} screens long (over {MAX_SCREENS} screens of "
                                f"{WINDOW[1]} px at {WINDOW[0]} px wide): split it")
            p = _Links(); p.feed((out / page).read_text(encoding='utf-8'))
            problems += check_figures(page, p.pngs, rep['figures'])
            want = want_titles.get(page)
            if want is not None and ' '.join((rep['h1'] or '').split()) != want:
                problems.append(f"{page}: first <h1> is {rep['h1']!r}, not the front matter title {want!r}")
    return problems, math, heights


def screenshot(out, page, png, width=WINDOW[0], height=2 * WINDOW[1]):
    "A PNG of the top of `page`, `width` x `height` (a screenshot is the whole window)."
    with serve(out) as url:
        chromium([f'--window-size={width},{height}', '--virtual-time-budget=30000', f'--screenshot={png}', url + page])


def _png_cell(fig, n):
    "A code cell whose output is `fig` as `cram.figures.figure_png` makes it (`None`: a plain PNG without a record)."
    import io, nbformat
    if n is None: buf = io.BytesIO(); fig.savefig(buf, format='png'); png = buf.getvalue()
    else:
        from cram.figures import figure_png
        png = figure_png(fig)
    return nbformat.v4.new_code_cell('fig', execution_count=n or 9, outputs=[nbformat.v4.new_output(
        'display_data', data={'image/png': base64.b64encode(png).decode(), 'text/plain': '<Figure>'})])


def _figure(size):
    "A small matplotlib figure whose smallest text is `size` points."
    import matplotlib
    from matplotlib.figure import Figure
    with matplotlib.rc_context({'font.size': max(size, 10)}):
        fig = Figure(figsize=(5, 3.5), dpi=100); ax = fig.subplots(); ax.plot([0, 1, 2], [1, 3, 2])
        ax.set_title('a title', fontsize=size); ax.set_xlabel('x', fontsize=size)
    return fig


def _planted():
    "The notebooks of the self-test, as `proc_nbs` writes them: {name: notebook}, and the page that must pass."
    import nbformat
    from nbformat.v4 import new_notebook, new_markdown_cell as md, new_code_cell as code, new_raw_cell as raw, new_output
    def fm(title, out=None): return raw(f'---\ntitle: {title}\ndescription: "A planted page"\n'
                                         + (f'output-file: {out}\n' if out else '') + '---\n\n')
    def printed(src, text, n): return code(src, execution_count=n, outputs=[new_output('stream', name='stdout', text=text)])
    broken = new_notebook(cells=[fm("'Broken: `page`'", 'broken.html'), md(
        '## Broken\n\nA formula $x^2$ and a broken one $\\frac{1}{$.\n\n![gone](gone.png)\n\n'
        '[dead page](nowhere.html), [dead notebook](nowhere.ipynb), [dead anchor](#no-such-heading), [fine](#broken)'),
        md('| flag | meaning |\n|---|---|\n| `#| gpu` | needs a GPU |\n| `slow` | long |'),
        md('Some plain text{target="_blank" style="float:right"} after it.'),
        md('In [ ]: x = 1'),
        printed('print(s)', 'the width is $\\sigma$ here\n', 1),
        md('| ' + ' | '.join(f'c{i}' for i in range(9)) + ' |\n|' + '---|' * 9 + '\n| ' + ' | '.join('1' * 9) + ' |'),
        code('df', execution_count=5, outputs=[new_output('execute_result', execution_count=5, data={
            'text/html': '<table class="dataframe"><thead><tr><th></th><th>a</th></tr></thead><tbody><tr><th>0</th><td>1</td></tr></tbody></table>',
            'text/plain': 'df'})]),
        _png_cell(_figure(5), 2), _png_cell(_figure(14), None),
        md('<table><tr><td style="width:40px">0.925 ± 0.022</td></tr></table>'),
        printed('print(t)', '| method | acc |\n|---|---|\n| rect | 0.9 |\n', 6), printed('print(s)', 'x' * 130 + '\n', 7)])
    long = new_notebook(cells=[fm('A long page', 'long.html')] + [md(f'Paragraph {i}.') for i in range(400)])
    untitled = new_notebook(cells=[md('An introduction first.'), fm('A dropped title', 'untitled.html')])
    clean = new_notebook(cells=[fm("'A *clean* page: `fine`'", 'clean.html'), md(
        '## Section\n\nTypeset $x^2$ and $$\\sum_i a_i$$ and a [link](long.ipynb), [an anchor](broken.ipynb#broken) '
        'and [this section](#section).\n\n| flag | meaning |\n|---|---|\n| `gpu` | needs a GPU |\n| `slow` | long |'),
        printed('#| code-fold: true\nprint(1)', '1\n', 1),
        code('#| echo: false\n#| output: asis\nshow_doc(f)', execution_count=2, outputs=[new_output(
            'execute_result', execution_count=2, data={'text/markdown': '---\n\n[source](https://example.org/f.py#L1){target='
                                                       '"_blank" style="float:right; font-size:smaller"}\n\n### f\n\n*Does f.*',
                                                       'text/plain': 'f'})]),
        printed('x = 1\nx', '1\n', 3), _png_cell(_figure(14), 4),
        md('<table><tr><td style="width:40px">0.925\u00a0±\u00a00.022</td></tr></table>'),
        printed('print(t)', 'method   acc\n------  ----\nrect    0.9\n', 5)])
    return {'broken.ipynb': broken, 'long.ipynb': long, 'untitled.ipynb': untitled, 'clean.ipynb': clean}, 'clean.html'


def self_test():
    "The checks must fail on pages with each planted fault, and pass a clean page: render them as the site's are and see."
    import nbformat, tempfile
    with tempfile.TemporaryDirectory() as d:
        cache, out = Path(d) / 'proc', Path(d) / 'site'; cache.mkdir()
        nbs, clean = _planted()
        for name, nb in nbs.items(): nbformat.write(nb, cache / name)
        pages = render(cache, out, site=False)      # the planted faults as they are, without the site's own fixes
        n, dead = check_links(out, pages)
        problems, math, heights = check_pages(out, pages, titles(cache, pages))
        clean_html = (out / clean).read_text(encoding='utf-8')
    on = lambda page, text: any(x.startswith(page + ':') and text in x for x in dead + problems)
    found = {'dead page': on('broken.html', 'nowhere.html'), 'dead notebook link': on('broken.html', 'nowhere.ipynb'),
             'dead anchor': on('broken.html', 'no-such-heading'), 'good anchor passes': not on('broken.html', '#broken '),
             'broken image': on('broken.html', 'broken image'), 'MathJax error': on('broken.html', 'MathJax error'),
             'formulas typeset': math > 0, 'raw table': on('broken.html', 'Markdown table shown as raw'),
             'raw attributes': on('broken.html', 'attribute block shown as raw'), 'prompt': on('broken.html', 'prompt shown'),
             'untypeset math': on('broken.html', 'math not typeset'), 'small figure text': on('broken.html', 'under MIN_TEXT_PX'),
             'figure without record': on('broken.html', 'without a text-size record'),
             'over-long page': on('long.html', 'screens long'), 'wide table': on('broken.html', 'table of 9 columns'),
             'index column': on('broken.html', 'table with an index column'),
             'wrapped number': on('broken.html', 'number broken across lines'),
             'raw Markdown printed': on('broken.html', 'raw Markdown table'), 'long printed line': on('broken.html', 'printed line of 130'), 'title dropped': on('untitled.html', 'front matter title'),
             'code folded': '<details class="code-fold"><summary>Code</summary>' in clean_html,
             'clean page passes': not any(x.startswith(clean + ':') for x in dead + problems)}
    log('self-test of the checks: ' + ', '.join(f'{k}: {"ok" if v else "MISSED"}' for k, v in found.items()))
    if not found['clean page passes']:
        for x in dead + problems:
            if x.startswith(clean + ':'): log('  clean page:', x)
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
    with tempfile.TemporaryDirectory() as d:          # self-test: a planted mixed cell is found
        planted = Path(d) / 'planted.ipynb'
        planted.write_text(json.dumps({'cells': [{'cell_type': 'code', 'id': 'x', 'metadata': {}, 'execution_count': None, 'outputs': [],
                                                   'source': 'from cram.demo import demo\nrows = demo()'}],
                                       'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}))
        if not mixed_cells([planted]): sys.exit('the check for cells that mix imports with code missed a planted one')
    with tempfile.TemporaryDirectory() as d:          # self-test: a notebook-name link and a page outside the Next chain
        def nb(src): return json.dumps({'cells': [{'cell_type': 'markdown', 'id': 'x', 'metadata': {}, 'source': src}],
                                        'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5})
        (Path(d) / 'index.ipynb').write_text(nb('See [`01_a`](01_a.ipynb) and [a](01_a.ipynb).\n\n**Next:** [a](01_a.ipynb), A.'))
        (Path(d) / '01_a.ipynb').write_text(nb('**Next:** [index](index.ipynb), back.'))
        (Path(d) / '02_b.ipynb').write_text(nb('An orphan.'))
        planted = check_xrefs(sorted(Path(d).glob('*.ipynb')))
        if not (any("'`01_a`'" in x for x in planted) and any('misses 02_b.ipynb' in x for x in planted) and len(planted) == 2):
            sys.exit(f'the cross-reference check missed a planted fault: {planted}')
    xrefs = check_xrefs()
    early = mixed_cells()            # seconds, before the long processing: such a cell may train a model in the docs build
    if early:
        for m in early: log(f'FAIL cell that mixes imports with other code (the docs build would run it): {m!r}')
        sys.exit(1)
    cache, mixed = process()
    t1 = time.time(); log(f'docs processing (nbdev.serve.proc_nbs): {len(list(cache.glob("*.ipynb")))} notebooks in {t1 - t0:.0f}s')
    out = Path(a.out); shutil.rmtree(out, ignore_errors=True)
    pages = render(cache, out)
    t2 = time.time(); log(f'rendered {len(pages)} pages with nbconvert in {t2 - t1:.0f}s')
    n_links, dead = check_links(out, pages)
    n_api, api = check_api(out, page_ids(out, pages))
    log(f'checked {n_api} API entries (docstring and show_doc)')
    problems, math, heights = check_pages(out, pages, titles(cache, pages))
    t3 = time.time()
    log(f'checked {n_links} internal links and {len(pages)} pages in Chromium ({math} formulas typeset) in {t3 - t2:.0f}s')
    log(f'page heights in screens of {WINDOW[1]} px (at most {MAX_SCREENS}): '
        + ', '.join(f'{p} {h / WINDOW[1]:.1f}' for p, h in sorted(heights.items(), key=lambda x: -x[1])))
    for p in a.screenshot:
        (out / 'shots').mkdir(exist_ok=True); screenshot(out, p, out / 'shots' / (Path(p).stem + '.png'))
    bad = [f'cell that mixes imports with other code (run by the docs build): {m!r}' for m in mixed] + xrefs + dead + api + problems
    for b in bad: log('FAIL', b)
    log(f'docs: {len(pages)} pages, {n_api} API entries, {n_links} internal links, {len(bad)} problem(s), {time.time() - t0:.0f}s')
    sys.exit(1 if bad else 0)


if __name__ == '__main__': main()
