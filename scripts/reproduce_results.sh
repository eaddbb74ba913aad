#!/usr/bin/env bash
# Reruns every measurement behind RESULTS.md and renders it again (binaries/report.py).
#
#   bash scripts/reproduce_results.sh            # the full runs into results/, then RESULTS.md
#   bash scripts/reproduce_results.sh --quick    # small samples into runs/reproduce_quick/ (its own
#                                                # RESULTS.md there; results/ is not touched)
#
# The full run's sample sizes are the ones RESULTS.md reports (Table 1: all 10,000 test images,
# the iterative search on the first 1,000 with every method on the same subset). The sweeps
# (λ1, λ2: P trained 12 times; the two keypoint refiners: f trained 8 and 6 times) are the
# longest steps; --skip_sweep leaves their JSONs as they are. The bundled models themselves are
# retrained by the commands in their presets' headers (README "Training"), not here.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/setup.sh
PY="${PYTHON:-python3}"
export TF_CPP_MIN_LOG_LEVEL=2

quick=0; skip_sweep=0
for arg in "$@"; do
  case "$arg" in
    --quick) quick=1 ;;
    --skip_sweep) skip_sweep=1 ;;
    *) echo "error: $arg: unknown argument (use --quick, --skip_sweep)" >&2; exit 2 ;;
  esac
done

if [ "$quick" = 1 ]; then
  root="runs/reproduce_quick"; n_all=500; n_iter=100; clips=20; sweep_steps=50; sweep_images=100
  bench=(--suites=inference_table4 --resolutions=32 --inference_batch_sizes=1 --max_iterative_seconds=20)
  grid=(--lambda_realism=0,0.03 --lambda_gradient=1); smoke=":smoke"; refiner_images=10
else
  root="."; n_all=10000; n_iter=1000; clips=200; sweep_steps=1000; sweep_images=1000
  bench=(--suites=gan_training,inference_table4 --max_iterative_seconds=240)
  grid=(--lambda_realism=0,0.003,0.03 --lambda_gradient=0,1); smoke=""; refiner_images=1000
fi
out="$root/results"
mkdir -p "$out"
start=$(date +%s)
step() { echo "[$(( $(date +%s) - start )) s] $*" >&2; }

paper="paper=hub_modules/fashion_mnist32/prior_predictor_paper"
step "One-pass variants on $n_iter validation images (the choice of the shipped P)"
# The variants' P's are retrained by their presets (configs/fashion_mnist32_prior_*.py) into runs/.
variants=()
for v in continued candidates latent latent_candidates; do
  [ -d "runs/fmnist32_prior_$v/export/prior_predictor" ] && variants+=("$v=runs/fmnist32_prior_$v/export/prior_predictor")
done
"$PY" -m binaries.evaluate --split=val --num_images="$n_iter" --batch_size=250 --methods=single \
  --prior_predictor=hub_modules/fashion_mnist32/prior_predictor_paper \
  --prior_predictors="$(IFS=,; echo "${variants[*]}")" --output_dir="$out/prior_variants_val" > /dev/null
step "Table 1: every method on the first $n_iter test images"
"$PY" -m binaries.evaluate --num_images="$n_iter" --batch_size=250 --prior_predictors="$paper" \
  --methods=single,iterative+poisson,iterative,hybrid,telea,navier_stokes,regression \
  --output_dir="$out/table1_fashion_mnist32_test1000" > /dev/null
step "Table 1: the fast methods on $n_all test images"
"$PY" -m binaries.evaluate --num_images="$n_all" --batch_size=250 --prior_predictors="$paper" \
  --methods=single,telea,navier_stokes,regression \
  --output_dir="$out/table1_fashion_mnist32_test10000" > /dev/null
step "Table 1: M_z and M_{z+S} on $n_iter test images"
"$PY" -m binaries.evaluate --structural_prior=none,silhouette --methods=single,hybrid --num_images="$n_iter" \
  --batch_size=250 --output_dir="$out/table1_structural_fashion_mnist32" > /dev/null
step "Fig. 4: landmark curves"
"$PY" -m binaries.evaluate --landmark_curves --output_dir="$out/landmark_curves" > /dev/null
for motion in fixed moving; do
  step "Table 3: $clips clips, $motion holes"
  "$PY" -m binaries.evaluate --sequences --num_clips="$clips" --mask_motion="$motion" \
    --sequence_models="M_{z+L}=hub_modules/fashion_mnist32/sequence_prior" \
    --output_dir="$out/table3_moving_fashion_mnist32_$motion" > /dev/null
done
for motion in fixed moving; do
  step "Table 3 structural rows: $clips clips, $motion holes"
  "$PY" -m binaries.evaluate --sequences --num_clips="$clips" --mask_motion="$motion" \
    --model_dir=hub_modules/fashion_mnist32_silhouette --structural_prior=silhouette \
    --sequence_models="M_{z+S+L}=hub_modules/fashion_mnist32_silhouette/sequence_prior" \
    --output_dir="$out/table3_structural_moving_fashion_mnist32_$motion" > /dev/null
done
# M_{z+L} is the paper-faithful model (sequence_prior_paper); the shipped sequence_prior is temporal_10 below.
moving_models="per-frame=hub_modules/moving_fashion_mnist32/sequence_prior_per_frame,M_{z+L}=hub_modules/moving_fashion_mnist32/sequence_prior_paper"
step "Latent smoothing on $clips validation clips: k chosen here"
"$PY" -m binaries.evaluate --sequences --split=val --num_clips="$clips" --mask_motion=moving \
  --model_dir=hub_modules/moving_fashion_mnist32 --noper_frame_row --latent_smoothing=1,2,4 \
  --sequence_models="$moving_models" --output_dir="$out/latent_smoothing_val" > /dev/null
for motion in fixed moving; do
  step "Table 3 with the clip frames' G: M_{z+L} vs the same-data per-frame model, $motion holes"
  "$PY" -m binaries.evaluate --sequences --num_clips="$clips" --mask_motion="$motion" \
    --model_dir=hub_modules/moving_fashion_mnist32 --noper_frame_row --latent_smoothing=1 \
    --sequence_models="$moving_models" --output_dir="$out/table3_moving_generator_$motion" > /dev/null
done
if [ -d runs/fmnist32_silhouette_prior_latent/export/prior_predictor ]; then
  step "M_{z+S} with latent consistency on $n_iter validation images"
  "$PY" -m binaries.evaluate --split=val --num_images="$n_iter" --batch_size=250 --methods=single \
    --model_dir=hub_modules/fashion_mnist32_silhouette --structural_prior=silhouette \
    --prior_predictors=latent=runs/fmnist32_silhouette_prior_latent/export/prior_predictor \
    --output_dir="$out/structural_variants_val" > /dev/null
fi
step "M_{z+S} retrained on the train split (the default M_{z+S}): $n_iter validation images"
retrained=hub_modules/fashion_mnist32_silhouette_retrained
"$PY" -m binaries.evaluate --split=val --num_images="$n_iter" --batch_size=250 --methods=single,hybrid \
  --model_dir="$retrained" --structural_prior=silhouette --output_dir="$out/structural_retrained_val" > /dev/null
if [ -d runs/fmnist32_prior_latent_fixed/export/prior_predictor ]; then
  step "The latent-consistency preset retrained with a fresh z per step, on $n_iter validation images"
  "$PY" -m binaries.evaluate --split=val --num_images="$n_iter" --batch_size=250 --methods=single \
    --prior_predictor=hub_modules/fashion_mnist32/prior_predictor_paper \
    --prior_predictors=latent_bundled=hub_modules/fashion_mnist32/prior_predictor,latent_fresh_z=runs/fmnist32_prior_latent_fixed/export/prior_predictor \
    --output_dir="$out/latent_term_fix_val" > /dev/null
fi
# The temporal options' models are retrained by their presets into runs/ (see their headers).
temporal="$moving_models"
[ -d runs/mseq_temporal_1/export/sequence_prior ] && temporal+=",temporal_1=runs/mseq_temporal_1/export/sequence_prior"
temporal+=",temporal_10=hub_modules/moving_fashion_mnist32/sequence_prior"  # the shipped one: the val choice
for v in mseq_per_frame_continued:per-frame_continued \
         mseq_from_per_frame:from_per-frame; do
  [ -d "runs/${v%%:*}/export/sequence_prior" ] && temporal+=",${v#*:}=runs/${v%%:*}/export/sequence_prior"
done
for motion in moving fixed; do
  step "Temporal options for M_{z+L}: $clips validation and $clips test clips, $motion holes"
  "$PY" -m binaries.evaluate --sequences --split=val --num_clips="$clips" --mask_motion="$motion" \
    --model_dir=hub_modules/moving_fashion_mnist32 --noper_frame_row --sequence_models="$temporal" \
    --output_dir="$out/temporal_options_val_$motion" > /dev/null
  "$PY" -m binaries.evaluate --sequences --num_clips="$clips" --mask_motion="$motion" \
    --model_dir=hub_modules/moving_fashion_mnist32 --noper_frame_row --sequence_models="$temporal" \
    --output_dir="$out/table3_temporal_options_$motion" > /dev/null
done
step "Table 4 and GAN throughput"
"$PY" -m binaries.benchmark "${bench[@]}" --output_dir="$out/benchmark" > /dev/null
step "Speed of one z vs K = 8 candidates at 64 px"
"$PY" -m binaries.benchmark --suites=inference_table4 --resolutions=64 --inference_batch_sizes=1,64 \
  --num_candidates=1,8 --max_iterative_seconds="$([ "$quick" = 1 ] && echo 5 || echo 60)" \
  --output_dir="$out/benchmark_candidates" > /dev/null
step "Serving backends (library, XLA, SavedModel, TFLite) of the bundled M_z, and at 64 / 128 px"
"$PY" -m binaries.benchmark --suites=serving_backends --output_dir="$out/serving_backends" > /dev/null
"$PY" -m binaries.benchmark --suites=serving_backends --resolutions=64,128 \
  --max_iterative_seconds="$([ "$quick" = 1 ] && echo 5 || echo 120)" --output_dir="$out/serving_backends_64_128" > /dev/null
step "Per-layer profile at 64 px, batch 64; training steps vs a plain Keras fit()"
"$PY" -m binaries.benchmark --suites=layer_profile --resolutions=64 --inference_batch_sizes=64 \
  --output_dir="$out/layer_profile" > /dev/null
"$PY" -m binaries.benchmark --suites=gan_training,prior_training --rounds=3 --output_dir="$out/training_vs_fit" > /dev/null
if [ "$skip_sweep" = 0 ]; then
  suffix="$([ "$quick" = 1 ] && echo _quick)"
  step "λ sweep on the validation split (two seeds)"
  "$PY" -m binaries.sweep_lambdas --config=configs/fashion_mnist32_prior.py "${grid[@]}" --seeds=0,1 \
    --steps="$sweep_steps" --num_images="$sweep_images" --output_dir="$out/sweep_lambdas" \
    --workdir="runs/reproduce_sweep$suffix" > /dev/null
  for kind in fashion_mnist32:silhouette faces:faces; do
    step "keypoint refiner sweep on validation data: ${kind#*:}"
    "$PY" -m binaries.sweep_refiner --config="configs/keypoint_refiner_${kind%%:*}.py$smoke" --seeds=0,1 \
      --num_images="$refiner_images" --output_dir="$out/sweep_refiner_${kind#*:}" --workdir="runs/reproduce_sweep_refiner_${kind#*:}$suffix" > /dev/null
  done
fi
"$PY" -m binaries.report --repo="$root"
step "done"
