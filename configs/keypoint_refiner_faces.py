"""The face keypoint refiner f of §4.2 (Eq. 9): 68 iBUG points, for Fig. 4 and the landmark prior.

Paper: f, a three-hidden-layer MLP, trained with Eq. 9 on LS3D-W landmarks with 70% of the
points hidden (switch-on probability 0.3); Fig. 4 compares dlib-style raw detections on masked
faces with f's output.
Run:     python -m binaries.train_keypoint_refiner --config=configs/keypoint_refiner_faces.py \
             --workdir=runs/keypoint_refiner_faces --export_dir=hub_modules/face_landmarks/keypoint_refiner
Smoke:   python -m binaries.train_keypoint_refiner --config=configs/keypoint_refiner_faces.py:smoke --workdir=/tmp/kr
Expect:  the bundled hub_modules/face_landmarks/keypoint_refiner is this preset (6,000 steps,
         under a minute on 2 CPU cores); its metadata holds the held-out report on synthetic
         faces. RESULTS.md: Fig. 4 (the astronaut, which only reports) and the validation sweep.
Chosen on val: lfw_dlib_fraction = 0.25 by `binaries/sweep_refiner.py` (results/sweep_refiner_faces/:
         mean RLE over the LFW subset's validation faces 70-99, each half of the face masked,
         two seeds). 0.25 and 0.5 tie within the seeds' spread there, and neither beats raw
         dlib on those faces on average (it does on the bottom half); the framing ranges and
         the step count were set before the split existed and are not swept.
Differs from the paper: LS3D-W is not available offline. Training shapes are synthetic faces
(landmarks.synthetic_face_shapes: pose up to 50° yaw / 20° pitch, expressions, framing) with
a wider framing range than its defaults -- scale 0.85-1.25 and shifts up to 0.1 box widths --
because dlib's face box is tighter than the landmarks (on the astronaut the points span
1.03 x 1.01 box sides, the synthetic mean face 0.9 x 0.85), plus a quarter of the batches from dlib's
landmarks on the LFW subset's training faces 0-69 (the 62 dlib detects, and their mirror images):
real shapes in dlib's own box convention (`face_detection.lfw_subset_landmarks`). Width 256
(the paper does not give it).
"""

from configs import keypoint_refiner_defaults


def get_config(arg: str | None = None):
  config = keypoint_refiner_defaults.keypoint_refiner_config()
  config.name = "keypoint_refiner_faces"
  config.data.kind = "synthetic_faces"
  config.data.num_shapes = 20000
  config.data.synthetic.scale_range = (0.85, 1.25)  # dlib's box is tighter than the landmarks
  config.data.synthetic.max_translation = 0.1
  config.data.lfw_dlib_fraction = 0.25  # chosen on val (results/sweep_refiner_faces)
  config.train.num_steps = 6000
  if arg == "smoke":
    config = keypoint_refiner_defaults.make_smoke(config)
  return config
