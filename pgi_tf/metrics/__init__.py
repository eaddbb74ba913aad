"""Metrics: image quality (PSNR, SSIM, L1) and Frechet distances."""
