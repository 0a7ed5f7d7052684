"""What every atheris harness of tests/fuzz/ does when run as a script: ``--make-seeds DIR`` writes its
seed corpus, any other arguments go to libFuzzer (-runs=, -timeout=, a corpus folder, ...)."""
import sys

import atheris


def main(test_one_input, make_seeds) -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--make-seeds":
        make_seeds(sys.argv[2])
    else:
        atheris.Setup(sys.argv, test_one_input)
        atheris.Fuzz()
