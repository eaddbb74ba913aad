"""A local demo page: pick or upload an image, brush the hole, inpaint, see the result and its time.

`pipeline` runs one image the way `binaries/inpaint.py` does (same reading, resizing and Eq. 8
at full resolution, so the page's PNG equals the CLI's); `server` is a standard-library HTTP
server for `page.html`. Started by `python -m binaries.demo`.
"""
