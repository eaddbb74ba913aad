"""pgi_tf.files: atomic writes keep the umask's permissions, never leave half a file, and the
progress bar is the one copy."""

import os
import stat

import pytest
import tensorflow as tf

from pgi_tf import files
from pgi_tf import hub
from pgi_tf import visualize


def _mode(path):
  return stat.S_IMODE(os.stat(path).st_mode)


@pytest.fixture
def umask_022():
  old = os.umask(0o022)
  yield
  os.umask(old)


def test_written_files_get_0644_and_directories_0755_under_umask_022(tmp_path, umask_022):
  files.write_text(str(tmp_path / "a.txt"), "hello")
  files.write_json(str(tmp_path / "b.json"), {"x": 1})
  visualize.save_png(str(tmp_path / "c.png"), (tf.zeros([4, 4, 1]).numpy() * 255).astype("uint8"))
  for name in ("a.txt", "b.json", "c.png"):
    assert _mode(tmp_path / name) == 0o644, name
  files.write_directory(str(tmp_path / "export"), lambda d: open(os.path.join(d, "f"), "w").write("x"))
  assert _mode(tmp_path / "export") == 0o755
  assert _mode(tmp_path / "export" / "f") == 0o644


def test_permissions_follow_another_umask(tmp_path):
  old = os.umask(0o077)
  try:
    files.write_text(str(tmp_path / "private.txt"), "x")
    files.write_directory(str(tmp_path / "private_dir"), lambda d: None)
  finally:
    os.umask(old)
  assert _mode(tmp_path / "private.txt") == 0o600
  assert _mode(tmp_path / "private_dir") == 0o700


def test_exported_module_directory_is_0755(tmp_path, umask_022):
  module = tf.Module()
  module.v = tf.Variable(1.0)
  module.default = tf.function(lambda: {"default": module.v * 2.0}, input_signature=[])
  hub.save_module(module, str(tmp_path / "m"), {"kind": "test"})
  assert _mode(tmp_path / "m") == 0o755
  assert _mode(tmp_path / "m" / hub.METADATA_FILENAME) == 0o644
  assert _mode(tmp_path / "m" / "saved_model.pb") == 0o644


def test_failed_write_leaves_old_content_and_no_temporary_file(tmp_path):
  path = str(tmp_path / "out.txt")
  files.write_text(path, "old")
  with pytest.raises(RuntimeError):
    with files.atomic_path(path) as tmp:
      open(tmp, "w").write("half")
      raise RuntimeError("crash")
  assert open(path).read() == "old"
  assert sorted(os.listdir(tmp_path)) == ["out.txt"]

  def broken(directory):
    open(os.path.join(directory, "partial"), "w").write("x")
    raise RuntimeError("crash")
  files.write_directory(str(tmp_path / "d"), lambda d: open(os.path.join(d, "v1"), "w").write("1"))
  with pytest.raises(RuntimeError):
    files.write_directory(str(tmp_path / "d"), broken)
  assert os.listdir(tmp_path / "d") == ["v1"]
  assert sorted(os.listdir(tmp_path)) == ["d", "out.txt"]


def test_replacing_a_directory_keeps_only_the_new_content(tmp_path):
  files.write_directory(str(tmp_path / "d"), lambda d: open(os.path.join(d, "v1"), "w").write("1"))
  files.write_directory(str(tmp_path / "d"), lambda d: open(os.path.join(d, "v2"), "w").write("2"))
  assert os.listdir(tmp_path / "d") == ["v2"]
  assert sorted(os.listdir(tmp_path)) == ["d"]


def test_write_json_is_plain_json(tmp_path):
  files.write_json(str(tmp_path / "r.json"), {"b": 1, "a": [1, 2]})
  assert open(tmp_path / "r.json").read() == '{\n  "b": 1,\n  "a": [\n    1,\n    2\n  ]\n}'
  files.write_json(str(tmp_path / "s.json"), {"b": 1, "a": 2}, sort_keys=True)
  assert open(tmp_path / "s.json").read() == '{\n  "a": 2,\n  "b": 1\n}'


def test_progress_bar_counts(capsys):
  bar = files.progress_bar(total=3, initial=1, description="x")
  bar.update(2)
  assert bar.n == 3 and bar.total == 3
  bar.close()
