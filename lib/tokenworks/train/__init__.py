"""What every training script of tokenworks shares (image/train.py, audio/codec_train.py)."""
