"""Screenshots of the worked example's page at three moments of its backward sweep.

Run: .venv/bin/python docs/page_pictures.py   (`make samples` runs it; needs Playwright and a
system Chromium, and says so when either is missing)

Makes the page as `gad graph samples/seed.gad --wrt x2 -o seed-page.html` does, in a temporary
folder, and writes docs/pictures/page-1.png, page-2.png, page-3.png, which docs/pictures.md
shows: backward step 4 (x2's first grad, through `*`), step 7 (x2's grad growing from 1.5 to
1.44 through the denominator), and the last step with x2's chain-rule sum open.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PICTURES = ROOT / "docs" / "pictures"
LAUNCH_ARGUMENTS = ["--headless", "--no-sandbox", "--disable-gpu",
                    "--disable-background-networking", "--disable-component-update",
                    "--no-first-run"]
# (file, keys pressed from the start, the box clicked after) for each picture
MOMENTS = [("page-1.png", 14, None), ("page-2.png", 17, None), ("page-3.png", 21, "n1")]


def main() -> None:
    sys.path.insert(0, str(ROOT))
    from graphviz_ad import api

    page_file = Path(tempfile.mkdtemp()) / "seed-page.html"
    api.load(str(ROOT / "samples" / "seed.gad")).save(str(page_file), wrt="x2")
    executable = shutil.which("chromium") or shutil.which("chromium-browser")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("the screenshots need Playwright (pip install -e '.[test]')")
    if executable is None:
        sys.exit("the screenshots need a Chromium on PATH (Debian: apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=LAUNCH_ARGUMENTS)
        page = browser.new_page(viewport={"width": 1280, "height": 640}, device_scale_factor=1.5)
        page.goto(page_file.as_uri())
        for name, presses, clicked in MOMENTS:
            page.keyboard.press("Home")
            page.keyboard.press("Escape")
            for _ in range(presses):
                page.keyboard.press("ArrowRight")
            if clicked:
                page.click(f"#stage svg g.node:has(> title:text-is('{clicked}'))")
            page.mouse.move(0, 0)
            page.wait_for_timeout(600)  # the glide to the step and the drawing made sharp
            page.screenshot(path=str(PICTURES / name))
            print(f"wrote docs/pictures/{name}")
        browser.close()
    shutil.rmtree(page_file.parent)


if __name__ == "__main__":
    main()
