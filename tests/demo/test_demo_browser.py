"""The demo page end to end in a real browser: headless Chromium (Debian's `chromium` and
`chromium-driver`, scripts/setup_browser.sh) driven by Selenium.

Opens the page, picks a sample, draws a stroke with the mouse on the canvas, runs single mode and
reads the result <img> (a PNG data URL): its known pixels are the sample's, the stroke's pixels
changed, and it equals what the library gives for the mask the page drew. The mask is checked
against the stroke independently (which image pixels the pointer crossed). Saves a screenshot to
$PGI_TF_DEMO_SCREENSHOT when set.

Skipped only when Chromium, its driver or Selenium is missing and $CI is not set; under CI a
missing browser is a failure (checked below in a subprocess with the paths pointed elsewhere:
$PGI_TF_CHROMIUM, $PGI_TF_CHROMEDRIVER).
"""

import importlib.util
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from tests.demo import demo_client as client

CHROMIUM = os.environ.get("PGI_TF_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("PGI_TF_CHROMEDRIVER", "/usr/bin/chromedriver")
WINDOW = (1360, 1000)


def _missing() -> list[str]:
  missing = [path for path in (CHROMIUM, CHROMEDRIVER) if not os.access(path, os.X_OK)]
  return missing + ([] if importlib.util.find_spec("selenium") else ["the selenium package"])


@pytest.fixture(scope="module")
def driver():
  missing = _missing()
  if missing:
    reason = f"{', '.join(missing)} not installed (bash scripts/setup_browser.sh installs them)"
    if os.environ.get("CI"):
      pytest.fail(f"CI is set and the browser test cannot run: {reason}")
    pytest.skip(reason)
  from selenium import webdriver  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.chrome.service import Service  # pylint: disable=import-outside-toplevel
  options = webdriver.ChromeOptions()
  options.binary_location = CHROMIUM  # with the driver's path given too, Selenium Manager downloads nothing
  for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                   f"--window-size={WINDOW[0]},{WINDOW[1]}", "--force-device-scale-factor=1"):
    options.add_argument(argument)
  browser = webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)
  try:
    yield browser
  finally:
    browser.quit()


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
  from pgi_tf.demo import pipeline  # pylint: disable=import-outside-toplevel
  from pgi_tf.demo import server as server_lib  # pylint: disable=import-outside-toplevel
  from pgi_tf.inference import loading  # pylint: disable=import-outside-toplevel
  models = loading.load_models(model_dir=client.BUNDLED_MODEL)
  model = pipeline.DemoModel(models)
  with server_lib.DemoServer(model, port=0, samples_dir=client.SAMPLES, sample_masks_dir=client.SAMPLE_MASKS,
                             temp_root=str(tmp_path_factory.mktemp("demo_browser_temp"))).start() as server:
    yield server, model


def _wait(driver, condition, timeout=60):
  from selenium.webdriver.support.ui import WebDriverWait  # pylint: disable=import-outside-toplevel
  return WebDriverWait(driver, timeout).until(lambda d: condition(d))


def _page_mask(driver) -> np.ndarray:
  return client.decode_data_url(driver.execute_script("return demo.maskDataURL()"))[..., 0] >= 128


def _check_stroke(mask, *, start, end, radius):
  """The pixels within the brush radius of the segment start-end (image pixels, x then y) are hole
  and those clearly farther are not (one pixel of slack for where the pointer events landed)."""
  rows, cols = np.mgrid[0:mask.shape[0], 0:mask.shape[1]] + 0.5
  (x0, y0), (x1, y1) = start, end
  t = np.clip(((cols - x0) * (x1 - x0) + (rows - y0) * (y1 - y0)) / ((x1 - x0) ** 2 + (y1 - y0) ** 2), 0, 1)
  distance = np.hypot(x0 + t * (x1 - x0) - cols, y0 + t * (y1 - y0) - rows)
  assert mask[distance <= radius - 1].all() and not mask[distance > radius + 1].any()


def _stroke(driver, canvas, width):
  """Mouse down at a quarter of the width left of the centre, 8 moves right, up at a quarter right."""
  from selenium.webdriver.common.action_chains import ActionChains  # pylint: disable=import-outside-toplevel
  actions = ActionChains(driver).move_to_element_with_offset(canvas, -width // 4, 0).click_and_hold()
  for _ in range(8):
    actions.move_by_offset(width // 16, 0)
  actions.release().perform()


def _run(driver) -> np.ndarray:
  """Clicks Inpaint, waits for the answer, returns the result <img>'s pixels (its PNG data URL)."""
  from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
  body = driver.find_element(By.TAG_NAME, "body")
  driver.execute_script("document.body.dataset.state = 'clicked'")
  driver.find_element(By.ID, "run").click()
  _wait(driver, lambda d: body.get_attribute("data-state") in ("done", "error"))
  assert body.get_attribute("data-state") == "done", driver.find_element(By.ID, "status").text
  return client.decode_data_url(driver.find_element(By.ID, "result").get_attribute("src"))


def test_draw_a_stroke_run_single_mode_and_check_the_result(driver, demo, tmp_path):
  from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.support.ui import Select  # pylint: disable=import-outside-toplevel
  server, model = demo
  driver.get(server.url)
  _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
  # The bundled P has one head: the K-candidate option is shown disabled, with the reason.
  assert not driver.find_element(By.ID, "mode_candidates").is_enabled()
  assert "K-candidate P" in driver.find_element(By.ID, "note_candidates").text
  Select(driver.find_element(By.ID, "sample")).select_by_value(client.SAMPLE)
  canvas = driver.find_element(By.ID, "canvas")
  _wait(driver, lambda d: canvas.get_attribute("data-ready") == "1")
  width, height = driver.execute_script("const c = arguments[0]; return [c.clientWidth, c.clientHeight];", canvas)
  assert (width, height) == (384, 384)  # 32 px shown 12x (inside a 1 px border)
  radius = int(driver.find_element(By.ID, "brush").get_attribute("value"))
  assert radius == 3  # the default: a twelfth of the shorter side

  _stroke(driver, canvas, width)  # through the middle, from 1/4 to 3/4 of the width

  mask = _page_mask(driver)
  # Independently of the page's code: the pointer crossed image row 16 from x = 8 to x = 24.
  _check_stroke(mask, start=(8, 16), end=(24, 16), radius=radius)

  driver.find_element(By.ID, "mode_single").click()
  result = _run(driver)
  original = client.read_png(os.path.join(client.SAMPLES, client.SAMPLE))
  np.testing.assert_array_equal(result[~mask], original[~mask])  # Eq. 8: known pixels are the input's
  assert (result[mask] != original[mask]).any()  # the stroke's pixels were filled by G
  # The page's image is the library's answer for the mask it drew (as the CLI's is: test_demo_page.py).
  mask_path = client.write_png(str(tmp_path / "mask.png"), mask.astype(np.uint8) * 255)
  expected = model.inpaint_files(os.path.join(client.SAMPLES, client.SAMPLE), mask_path, mode="single")
  np.testing.assert_array_equal(result, expected.inpainted[..., 0])
  assert re.fullmatch(r"\d+\.\d ms per image", driver.find_element(By.ID, "timing").text)
  assert driver.find_element(By.ID, "generated").is_displayed()

  screenshot = os.environ.get("PGI_TF_DEMO_SCREENSHOT")
  if screenshot:
    driver.execute_script("window.scrollTo(0, 0)")
    os.makedirs(os.path.dirname(os.path.abspath(screenshot)), exist_ok=True)
    assert driver.save_screenshot(screenshot)


def test_upload_a_colour_jpeg_and_run_hybrid(driver, demo, tmp_path):
  """The upload path: a 45x30 colour JPEG into the grey model (converted, as --grayscale), hybrid."""
  from PIL import Image  # pylint: disable=import-outside-toplevel
  from selenium.webdriver.common.by import By  # pylint: disable=import-outside-toplevel
  server, model = demo
  y, x = np.mgrid[0:30, 0:45]
  photo = str(tmp_path / "photo.jpg")
  Image.fromarray(np.stack([x * 5, y * 8, 255 * ((x - 22) ** 2 + (y - 15) ** 2 < 60)], -1).astype(np.uint8)).save(
      photo, format="JPEG", quality=90)
  driver.get(server.url)
  _wait(driver, lambda d: d.find_element(By.TAG_NAME, "body").get_attribute("data-state") == "ready")
  driver.find_element(By.ID, "upload").send_keys(photo)
  canvas = driver.find_element(By.ID, "canvas")
  _wait(driver, lambda d: canvas.get_attribute("data-ready") == "1")
  assert driver.find_element(By.ID, "input_caption").text.startswith("photo.jpg: 45x30 px")
  width, height = driver.execute_script("const c = arguments[0]; return [c.clientWidth, c.clientHeight];", canvas)
  assert (width, height) == (384, 256)
  radius = int(driver.find_element(By.ID, "brush").get_attribute("value"))
  _stroke(driver, canvas, width)
  mask = _page_mask(driver)
  assert mask.shape == (30, 45)
  _check_stroke(mask, start=(96 * 45 / 384, 15), end=(288 * 45 / 384, 15), radius=radius)
  steps = driver.find_element(By.ID, "refine_steps")
  steps.clear()
  steps.send_keys("10")
  driver.find_element(By.ID, "mode_hybrid").click()
  result = _run(driver)
  assert "hybrid, 10 search steps" in driver.find_element(By.ID, "timing_detail").text
  with Image.open(photo) as pil:
    grey = np.asarray(pil.convert("L"))
  np.testing.assert_array_equal(result[~mask], grey[~mask])
  mask_path = client.write_png(str(tmp_path / "mask.png"), mask.astype(np.uint8) * 255)
  expected = model.inpaint_files(photo, mask_path, mode="hybrid", refine_steps=10, grayscale=True)
  np.testing.assert_array_equal(result, expected.inpainted[..., 0])


def test_missing_browser_skips_locally_and_fails_under_ci(tmp_path):
  """The rule above, run: this file in a fresh pytest with Chromium pointed at a missing path."""
  env = {k: v for k, v in os.environ.items() if k != "CI"}
  env.update(PGI_TF_CHROMIUM=str(tmp_path / "no-chromium"), PYTHONDONTWRITEBYTECODE="1")
  command = [sys.executable, "-m", "pytest", "-q", "-rs", "-p", "no:cacheprovider", "--noconftest",
             "-p", "no:xdist", f"{__file__}::test_draw_a_stroke_run_single_mode_and_check_the_result"]
  runs = [subprocess.Popen(command, cwd=client.REPO, env=dict(env, **extra), stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True) for extra in ({}, {"CI": "1"})]
  (local, _), (ci, _) = [run.communicate(timeout=120) for run in runs]
  assert runs[0].returncode == 0 and "1 skipped" in local, local[-1500:]
  assert f"{tmp_path / 'no-chromium'} not installed (bash scripts/setup_browser.sh installs them)" in local
  assert runs[1].returncode == 1 and "1 error" in ci, ci[-1500:]
  assert "CI is set and the browser test cannot run" in ci
