"""Run notebooks as a reader would outside the repository: each copied alone into an empty temporary folder and executed
there with the installed package (cells flagged `slow`, `gpu` or `eval: false` skipped, as `nbdev_test` does).

Usage: python .ci/outside.py NOTEBOOK ..."""
import os, sys, shutil, tempfile, time
from pathlib import Path
from execnb.nbio import read_nb
from execnb.shell import CaptureShell

def _skip(cell):
    flags = {l.strip().replace(' ', '') for l in cell.source.splitlines() if l.startswith('#|')}
    return cell.cell_type == 'code' and bool(flags & {'#|slow', '#|gpu', '#|eval:false'})

def main(paths):
    failed = []
    for p in map(Path, paths):
        t0 = time.time()
        with tempfile.TemporaryDirectory() as d:
            dst = Path(d) / p.name; shutil.copy2(p, dst)
            cwd = os.getcwd(); os.chdir(d)
            try:
                sh = CaptureShell()
                sh.run_all(read_nb(dst), exc_stop=True, preproc=_skip)
                print(f'{p.name}: ran in an empty folder in {time.time() - t0:.0f}s', flush=True)
            except Exception as e:
                failed.append(p.name); print(f'{p.name}: FAILED outside the repository: {type(e).__name__}: {e}', flush=True)
            finally: os.chdir(cwd)
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main(sys.argv[1:])
