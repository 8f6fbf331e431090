"""What every training script of tokenworks shares (image/train.py, audio/train.py):
common.py (JSON-lines log, seeding, device, LR schedule) and loop.py (the resumable loop)."""
