"""Kept for code that imports it from here: the module is lrpet_torch.compact (lrpet-torch/, the PyTorch
trainer's package), one copy for the reference, the trainer and users' scripts."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "lrpet-torch"))

from lrpet_torch.compact import *  # noqa: E402,F401,F403

if __name__ == "__main__":
    main(sys.argv[1:])  # noqa: F405
